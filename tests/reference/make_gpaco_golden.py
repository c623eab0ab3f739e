#!/usr/bin/python3
"""Golden values of GPaCo's parametric contrastive loss (Cui et al., ICCV 2021 / TPAMI 2023), computed
independently of smcl.

Run with Debian's /usr/bin/python3 (python3-torch): `/usr/bin/python3 tests/reference/make_gpaco_golden.py`.
Writes tests/reference/golden/gpaco.json: for a few batches and settings, the loss and its gradients with respect
to the anchors (projections) and the classifier logits, in float64. The loss is written anchor by anchor from
docs/methods.md (GPaCo's LT/losses.py computes the same with masks over a [N, K + N] logit matrix): the contrast
set of anchor i is the K class centres, whose logits are the classifier's plus the log prior over the centre
temperature, and every other anchor, with logit z_i.z_j / t; the denominator weighs the samples by gamma, the
positives are the own class's centre (weight beta) and the other anchors of the class (weight alpha each).
With a queue (GPaCo's code keeps the last K keys and their labels, detached), the queued keys join every anchor's
contrast set as samples, positives when of its class, and are never anchors themselves.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT = os.path.join(GOLDEN, "gpaco.json")


def gpaco_loss(anchors, labels, logits, log_prior, alpha, beta, gamma, t, centre_t, queue=None, queue_labels=()):
    n, k = logits.shape
    keys = anchors if queue is None else torch.cat([anchors, queue])
    labels = list(labels) + list(queue_labels)
    total = 0.0
    for i in range(n):
        centre = [(logits[i, c] + log_prior[c]) / centre_t for c in range(k)]
        sample = {j: anchors[i] @ keys[j] / t for j in range(len(keys)) if j != i}
        denominator = sum(torch.exp(v) for v in centre) + gamma * sum(torch.exp(v) for v in sample.values())
        log_denominator = torch.log(denominator)
        weighted = beta * (centre[labels[i]] - log_denominator)
        weight = beta
        for j, v in sample.items():
            if labels[j] == labels[i]:
                weighted = weighted + alpha * (v - log_denominator)
                weight += alpha
        total = total - weighted / weight
    return total / n


def case(seed, b, k, d, counts, alpha, beta, gamma, t, centre_t, labels=None, queue_size=0):
    g = torch.Generator().manual_seed(seed)
    anchors = F.normalize(torch.randn(2 * b, d, generator=g, dtype=torch.float64), dim=1).requires_grad_(True)
    logits = (3 * torch.randn(2 * b, k, generator=g, dtype=torch.float64)).requires_grad_(True)
    if labels is None:
        labels = torch.randint(0, k, (b,), generator=g).tolist()
    # A queue as GPaCo's code starts it: Gaussian rows normalised along the queue (dim 0), random labels.
    queue = F.normalize(torch.randn(queue_size, d, generator=g, dtype=torch.float64), dim=0)
    queue_labels = torch.randint(0, k, (queue_size,), generator=g).tolist()
    log_prior = [math.log(n / sum(counts)) for n in counts]
    value = gpaco_loss(anchors, labels + labels, logits, log_prior, alpha, beta, gamma, t, centre_t, queue,
                       queue_labels)
    grad_anchors, grad_logits = torch.autograd.grad(value, [anchors, logits])
    result = {"alpha": alpha, "beta": beta, "gamma": gamma, "temperature": t, "centre_temperature": centre_t,
              "counts": counts, "labels": labels, "anchors": anchors.tolist(), "logits": logits.tolist(),
              "value": float(value), "grad_anchors": grad_anchors.tolist(), "grad_logits": grad_logits.tolist()}
    if queue_size:
        result.update(queue=queue.tolist(), queue_labels=queue_labels)
    return result


def main():
    cases = [
        case(1, 6, 4, 8, [50, 20, 5, 1], 0.01, 1.0, 1.0, 0.05, 1.0),  # the CIFAR-100-LT recipe's settings
        case(2, 8, 3, 5, [8, 3, 1], 0.5, 0.7, 0.3, 0.2, 2.0, labels=[0, 0, 0, 0, 0, 1, 1, 0]),
        case(3, 5, 5, 16, [1, 1, 1, 1, 1], 1.0, 1.0, 0.0, 0.5, 0.5),  # gamma 0: the centres alone normalise
        case(4, 1, 2, 3, [9, 1], 0.2, 2.0, 1.0, 1.0, 1.0, labels=[1]),
        case(5, 4, 3, 6, [30, 8, 2], 0.01, 1.0, 1.0, 0.05, 1.0, queue_size=10),  # with a queue of 10 keys
        case(6, 1, 2, 3, [9, 1], 0.5, 1.0, 0.5, 0.2, 1.0, labels=[1], queue_size=5),
    ]
    with open(OUT, "w") as f:
        json.dump({"cases": cases}, f)
    print("wrote", OUT, [round(c["value"], 6) for c in cases])


if __name__ == "__main__":
    main()
