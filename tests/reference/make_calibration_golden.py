#!/usr/bin/python3
"""Golden values of the calibration metrics, computed with numpy independently of smcl.

Run with Debian's /usr/bin/python3: `/usr/bin/python3 tests/reference/make_calibration_golden.py`.
Writes tests/reference/golden/calibration.json: logits, labels, training counts, and
  ece     expected calibration error in percent, as Guo et al. (ICML 2017) compute it: 15 bins from
          np.linspace(0, 1, 16), an image in bin b when lower_b < confidence <= upper_b,
          ECE = sum_b |B_b| / n * |accuracy(B_b) - mean confidence(B_b)|
  nll     mean of -log softmax(z)_y (nats)
  brier   mean over images of sum_k (softmax(z)_k - [k == y])^2
overall, for the images of the many (> 100 training images), medium and few (< 20) classes, and the bins'
count, mean confidence and accuracy (0 for an empty bin); and the temperature T of post-hoc temperature scaling,
the minimiser of the mean NLL of softmax(z / T), found with torch.optim.LBFGS on log T in float64.
"""
import json
import os

import numpy as np
import torch

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT = os.path.join(GOLDEN, "calibration.json")
COUNTS = [500, 150, 60, 15, 5]
BINS = 15


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def calibration(z, y):
    p = softmax(z)
    confidence, predicted = p.max(axis=1), p.argmax(axis=1)
    correct = (predicted == y).astype(np.float64)
    edges = np.linspace(0, 1, BINS + 1)
    ece, count, mean_confidence, accuracy = 0.0, [], [], []
    for lower, upper in zip(edges[:-1], edges[1:]):
        inside = (confidence > lower) & (confidence <= upper)
        n = int(inside.sum())
        count.append(n)
        mean_confidence.append(float(confidence[inside].mean()) if n else 0.0)
        accuracy.append(float(correct[inside].mean()) if n else 0.0)
        if n:
            ece += n / len(y) * abs(correct[inside].mean() - confidence[inside].mean())
    nll = float(-np.log(p[np.arange(len(y)), y]).mean())
    brier = float(((p - np.eye(z.shape[1])[y]) ** 2).sum(axis=1).mean())
    return {"ece": 100 * ece, "nll": nll, "brier": brier}, {"count": count, "confidence": mean_confidence,
                                                             "accuracy": accuracy}


def main():
    rng = np.random.RandomState(11)
    n, k = 300, len(COUNTS)
    y = rng.randint(0, k, size=n)
    # Logits that lean towards the label, so that every kind of bin is filled: sure and right, sure and wrong, unsure.
    z = rng.randn(n, k) * 2.0
    z[np.arange(n), y] += rng.uniform(-1, 4, size=n)
    z = z.astype(np.float32).astype(np.float64)  # what the C++ side reads as float32
    overall, bins = calibration(z, y)
    group = np.array([0 if c > 100 else (2 if c < 20 else 1) for c in COUNTS])[y]
    groups = {name: calibration(z[group == g], y[group == g])[0] for g, name in enumerate(["many", "medium", "few"])}
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    zt, yt = torch.tensor(z), torch.tensor(y)
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=200, tolerance_grad=1e-14, tolerance_change=1e-16,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(zt / log_t.exp(), yt)
        loss.backward()
        return loss

    optimizer.step(closure)
    temperature = float(log_t.exp())
    with open(OUT, "w") as f:
        json.dump({"counts": COUNTS, "logits": z.tolist(), "labels": y.tolist(), "overall": overall,
                   "groups": groups, "bins": bins, "temperature": temperature}, f)
    print(OUT, overall, "T", temperature)


if __name__ == "__main__":
    main()
