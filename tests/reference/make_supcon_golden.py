#!/usr/bin/python3
"""Golden values of the supervised contrastive loss (SPEC section 4), computed independently of smcl.

Run with Debian's /usr/bin/python3 (python3-torch): `/usr/bin/python3 tests/reference/make_supcon_golden.py`.
Writes tests/reference/golden/supcon.json. The loss is written out anchor by anchor and pair by pair in
float64, straight from the formula (no matrix tricks, no max subtraction), and differentiated by autograd.
"""
import json
import math
import os

import torch

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT = os.path.join(GOLDEN, "supcon.json")


def supcon_reference(v, labels, t, t_base):
    n = v.shape[0]
    total = torch.zeros((), dtype=torch.float64)
    for a in range(n):
        positives = [p for p in range(n) if p != a and labels[p] == labels[a]]
        if not positives:
            continue  # contributes 0 to the mean over all anchors
        denominator = sum(torch.exp(torch.dot(v[a], v[q]) / t) for q in range(n) if q != a)
        term = sum(torch.log(torch.exp(torch.dot(v[a], v[p]) / t) / denominator) for p in positives)
        total = total - term / len(positives)
    return (t / t_base) * total / n


def case(seed, n, d, labels, t, t_base):
    g = torch.Generator().manual_seed(seed)
    raw = torch.randn(n, d, generator=g, dtype=torch.float64)
    v = (raw / raw.norm(dim=1, keepdim=True)).detach().requires_grad_(True)
    loss = supcon_reference(v, labels, t, t_base)
    grad = torch.autograd.grad(loss, v)[0] if loss.requires_grad else torch.zeros_like(v)
    return {"features": v.detach().tolist(), "labels": labels, "temperature": t, "base_temperature": t_base,
            "loss": float(loss), "grad": grad.tolist()}


def main():
    cases = [
        case(0, 8, 5, [0, 1, 0, 2, 1, 0, 3, 2], 0.07, 0.07),   # anchor 6 has no positive
        case(1, 12, 16, [i % 4 for i in range(12)], 0.1, 0.07),
        case(2, 6, 3, [0, 1, 2, 3, 4, 5], 0.07, 0.07),          # no positives at all: loss 0
        case(3, 10, 128, [0, 0, 0, 0, 1, 1, 1, 2, 2, 9], 0.5, 0.07),
    ]
    assert all(math.isfinite(c["loss"]) for c in cases)
    with open(OUT, "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main()
