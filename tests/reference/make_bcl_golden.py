#!/usr/bin/python3
"""Golden values of BCL's balanced contrastive loss (Zhu et al., CVPR 2022), computed independently of smcl.

Run with Debian's /usr/bin/python3 (python3-torch): `/usr/bin/python3 tests/reference/make_bcl_golden.py`.
Writes tests/reference/golden/bcl.json: for a few batches, the loss and its gradients with respect to the
anchors and the prototypes, in float64. The loss is written anchor by anchor from docs/methods.md (BCL's
loss/contrastive.py computes the same with masks): the contrast set is the anchors (the two contrastive views)
followed by the K class prototypes; for anchor a, each other member c of the set contributes exp(v_a.v_c / t)
divided by the number of members of c's class, not counting a itself (class-averaging), and the positives are
the other members of a's class, its prototype among them (class-complement).
"""
import json
import os

import torch
import torch.nn.functional as F

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT = os.path.join(GOLDEN, "bcl.json")


def bcl_loss(anchors, labels, prototypes, t):
    contrast = torch.cat([anchors, prototypes])
    contrast_labels = labels + list(range(prototypes.shape[0]))
    count = {k: contrast_labels.count(k) for k in set(contrast_labels)}
    total = 0.0
    n = anchors.shape[0]
    for a in range(n):
        terms = []
        for c in range(contrast.shape[0]):
            if c == a:
                continue
            others_of_class = count[contrast_labels[c]] - (1 if contrast_labels[c] == labels[a] else 0)
            terms.append(torch.exp(anchors[a] @ contrast[c] / t) / others_of_class)
        log_denominator = torch.log(torch.stack(terms).sum())
        positives = [c for c in range(contrast.shape[0]) if c != a and contrast_labels[c] == labels[a]]
        total = total - sum(anchors[a] @ contrast[p] / t - log_denominator for p in positives) / len(positives)
    return total / n


def case(seed, b, k, d, t, labels=None):
    g = torch.Generator().manual_seed(seed)
    anchors = F.normalize(torch.randn(2 * b, d, generator=g, dtype=torch.float64), dim=1).requires_grad_(True)
    prototypes = F.normalize(torch.randn(k, d, generator=g, dtype=torch.float64), dim=1).requires_grad_(True)
    if labels is None:
        labels = torch.randint(0, k, (b,), generator=g).tolist()
    value = bcl_loss(anchors, labels + labels, prototypes, t)
    grad_anchors, grad_prototypes = torch.autograd.grad(value, [anchors, prototypes])
    return {"temperature": t, "labels": labels, "anchors": anchors.tolist(), "prototypes": prototypes.tolist(),
            "value": float(value), "grad_anchors": grad_anchors.tolist(), "grad_prototypes": grad_prototypes.tolist()}


def main():
    cases = [
        case(1, 6, 4, 8, 0.07),
        case(2, 8, 3, 5, 0.1, labels=[0, 0, 0, 0, 0, 1, 1, 0]),  # class 2 only through its prototype
        case(3, 5, 5, 16, 0.5),
        case(4, 1, 2, 3, 1.0, labels=[1]),  # one image: its other view and its prototype are the positives
    ]
    with open(OUT, "w") as f:
        json.dump({"cases": cases}, f)
    print("wrote", OUT, [round(c["value"], 6) for c in cases])


if __name__ == "__main__":
    main()
