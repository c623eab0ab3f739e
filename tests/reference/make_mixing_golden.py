#!/usr/bin/python3
"""Golden values of one training step of each mixing baseline (SPEC section 5), computed independently of smcl.

Run with Debian's /usr/bin/python3 (python3-torch): `/usr/bin/python3 tests/reference/make_mixing_golden.py`.
Writes tests/reference/golden/mixing_step.json: for Mixup, CutMix, Remix and CMO, the loss of one step and the
gradients it gives, on the closed-form ResNet-8 of make_smcl_golden.py (without its projection head, in training
mode) and a batch of 8 of a 12-image training set with class counts 8, 3, 1.

The random draws are inputs here: the partners (a permutation of the batch, or CMO's indices into the training
set), lambda ~ Beta(alpha, alpha) and the box centre are the ones smcl's Rng(SEED) gives for this batch; the C++
test replays its generator and checks that it draws exactly these before it compares the step. From the draws
on, everything follows the papers' rules as SPEC section 5 states them, written sample by sample:
  mixup / remix   x = lam x_i + (1 - lam) x_j
  cutmix / cmo    x_i with the partner's pixels in the box of side floor(D sqrt(1 - lam)) around the centre,
                  rows [r - side // 2, r + side // 2) clipped, columns likewise; label share 1 - box area / (H W)
  remix           label share 0 when n_i / n_j >= kappa and lam < tau, 1 when n_i / n_j <= 1 / kappa and
                  1 - lam < tau, else lam (Chou et al. 2020)
  loss            sum_i s_i w_{y_i} CE(z_i, y_i) / sum_i w_{y_i} + sum_i (1 - s_i) w_{y'_i} CE(z_i, y'_i) / sum_i w_{y'_i}
The gradients are stored per parameter as the squared norm and the dot product with the direction
sin(0.11 i + 0.7 p) (i the flat element index, p the parameter's index), and in full for the classifier.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_smcl_golden as reference  # noqa: E402  the closed-form ResNet-8 and the weighted CE

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT = os.path.join(GOLDEN, "mixing_step.json")

N, B, H, W, K = 12, 8, 8, 8, 3
FIRST = 3  # the batch is training images FIRST .. FIRST + B - 1
TRAIN_LABELS = [0] * 8 + [1] * 3 + [2]
COUNTS = [8, 3, 1]
CLASS_WEIGHTS = [1.0, 2.0, 4.0]
MEAN, STD = 0.5, 0.25
ALPHA, KAPPA, TAU = 0.7, 2.5, 0.5  # kappa 2.5: the 8 / 3 pairs of this batch take the Remix rule
SEED = 11
# What smcl's Rng(SEED) draws for this batch, in the order the step draws them (checked by the C++ test).
DRAWS = {
    "mixup": {"partners": [5, 3, 7, 1, 0, 4, 2, 6], "lambda": 0.3461367596337495, "centre": None},
    "cutmix": {"partners": [5, 3, 7, 1, 0, 4, 2, 6], "lambda": 0.3461367596337495, "centre": [2, 0]},
    "remix": {"partners": [5, 3, 7, 1, 0, 4, 2, 6], "lambda": 0.3461367596337495, "centre": None},
    "cmo": {"partners": [11, 11, 7, 11, 11, 7, 8, 2], "lambda": 0.7394921146647948, "centre": [0, 0]},
}

def direction(n, p):
    return torch.sin(0.11 * torch.arange(n, dtype=torch.float64) + 0.7 * p)


def remix_share(lam, n_i, n_j):
    ratio = n_i / n_j
    if ratio >= KAPPA and lam < TAU:
        return 0.0
    if ratio <= 1.0 / KAPPA and 1.0 - lam < TAU:
        return 1.0
    return lam


def step(kind, images_u8):
    model = reference.make_model()
    model.train()
    train = (images_u8.float() / 255.0 - MEAN) / STD
    view = train[FIRST:FIRST + B]
    labels = TRAIN_LABELS[FIRST:FIRST + B]
    draws = DRAWS[kind]
    if kind == "cmo":
        partner = train[draws["partners"]]
        partner_labels = [TRAIN_LABELS[j] for j in draws["partners"]]
    else:
        partner = view[draws["partners"]]
        partner_labels = [labels[j] for j in draws["partners"]]
    lam = draws["lambda"]
    if kind in ("mixup", "remix"):
        mixed = lam * view + (1 - lam) * partner
        share = [lam] * B
        if kind == "remix":
            share = [remix_share(lam, COUNTS[labels[i]], COUNTS[partner_labels[i]]) for i in range(B)]
    else:
        r, c = draws["centre"]
        half_h, half_w = math.floor(H * math.sqrt(1 - lam)) // 2, math.floor(W * math.sqrt(1 - lam)) // 2
        top, bottom = max(r - half_h, 0), min(r + half_h, H)
        left, right = max(c - half_w, 0), min(c + half_w, W)
        mixed = view.clone()
        mixed[:, :, top:bottom, left:right] = partner[:, :, top:bottom, left:right]
        share = [1 - (bottom - top) * (right - left) / (H * W)] * B
    logits, _ = model(mixed)
    w = torch.tensor(CLASS_WEIGHTS)
    loss = (reference.weighted_ce(logits, labels, share, w) +
            reference.weighted_ce(logits, partner_labels, [1 - s for s in share], w))
    loss.backward()
    gradients = {}
    for p, (name, parameter) in enumerate(model.named_parameters()):
        if name.startswith("head."):
            continue
        g = parameter.grad.double().reshape(-1)
        entry = {"squared_norm": float(g @ g), "dot": float(g @ direction(g.numel(), p))}
        if name.startswith("linear."):
            entry["values"] = g.tolist()
        gradients[name] = entry
    return {"kind": kind, "share": share, "partner_labels": partner_labels, "loss": float(loss),
            "gradients": gradients}


def main():
    gen = torch.Generator().manual_seed(5)
    images = torch.randint(0, 256, (N, 1, H, W), generator=gen)
    model = reference.make_model()
    parameters = [[n, list(p.shape)] for n, p in model.named_parameters() if not n.startswith("head.")]
    out = {"images": images.tolist(), "train_labels": TRAIN_LABELS, "first": FIRST, "batch": B, "classes": K,
           "class_weights": CLASS_WEIGHTS, "mean": MEAN, "std": STD, "alpha": ALPHA, "kappa": KAPPA, "tau": TAU,
           "seed": SEED, "parameters": parameters,
           "steps": [dict(step(kind, images), draws=DRAWS[kind]) for kind in DRAWS]}
    with open(OUT, "w") as f:
        json.dump(out, f)
    print("wrote", OUT, [round(s["loss"], 6) for s in out["steps"]])


if __name__ == "__main__":
    main()
