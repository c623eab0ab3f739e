#!/usr/bin/python3
"""Golden values of the decoupled classifier re-training (Kang et al. 2020; SPEC section 5), computed
independently of smcl.

Run with Debian's /usr/bin/python3 (python3-torch): `/usr/bin/python3 tests/reference/make_decoupled_golden.py`.
Writes tests/reference/golden/decoupled.json. The network is the closed-form ResNet-8 of make_smcl_golden.py
(without its projection head); its pooled features h feed a classifier trained as Kang et al.'s code does:
  crt       a new linear classifier (W, b) learned on the frozen features: logits W h + b
  lws       the network's own W and b kept, one scale f_k per class learned: logits (W h + b) * f
  tau_norm  W_k / ||W_k||^tau per class row, the bias dropped (zero); nothing learned
  logit_adjust  Menon et al.'s post-hoc logit adjustment, b_k - tau log(n_k / N); nothing learned
Two steps of torch.optim.SGD (momentum, weight decay) on two batches of 8, cross-entropy, the backbone's
parameters untouched, once with the network in training mode (retrain.bn: train: batch norm normalises with
each batch's statistics and moves its running statistics) and once in eval mode (retrain.bn: frozen). The
classifier's start for crt is a closed form here (smcl draws a Kaiming-normal one), so the test passes it in.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_smcl_golden as reference  # noqa: E402  the closed-form ResNet-8

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT = os.path.join(GOLDEN, "decoupled.json")

B, H, W, K, D = 8, 8, 8, 3, 64
MEAN, STD = 0.3, 0.35
LR, MOMENTUM, WEIGHT_DECAY = 0.1, 0.9, 5e-4
TAU = 0.7
COUNTS = [50, 10, 2]  # post-hoc logit adjustment's training counts
LABELS = [[0, 1, 2, 0, 1, 2, 2, 1], [2, 2, 0, 1, 0, 1, 2, 0]]  # class-balanced batches, as the sampler draws them


def features(model, x):
    """The pooled features h of make_smcl_golden.ResNet8.forward."""
    out = F.relu(model.bn1(model.conv1(x)))
    return model.layer3(model.layer2(model.layer1(out))).mean(dim=(2, 3))


def crt_start():
    i = torch.arange(K * D, dtype=torch.float64)
    return (0.2 * torch.sin(0.5 * i + 0.1)).reshape(K, D).float(), (0.1 * torch.cos(torch.arange(K) * 1.0)).float()


def two_steps(mode, bn, batches):
    model = reference.make_model()
    model.train(bn == "train")
    if mode == "crt":
        weight, bias = crt_start()
        weight.requires_grad_(True)
        bias.requires_grad_(True)
        scale = torch.ones(K)
        learned = [weight, bias]
    else:
        weight, bias = model.linear.weight.detach().clone(), model.linear.bias.detach().clone()
        scale = torch.ones(K, requires_grad=True)
        learned = [scale]
    optimizer = torch.optim.SGD(learned, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    losses = []
    for x, y in zip(batches, LABELS):
        with torch.no_grad():
            h = features(model, x)
        loss = F.cross_entropy((h @ weight.t() + bias) * scale, torch.tensor(y))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return {"mode": mode, "bn": bn, "losses": losses,
            "weight": weight.detach().reshape(-1).tolist(), "bias": bias.detach().tolist(),
            "scale": scale.detach().tolist(),
            "bn1_running_mean": model.bn1.running_mean.tolist(),
            "layer3_bn2_running_var": model.layer3[0].bn2.running_var.tolist()}


def main():
    gen = torch.Generator().manual_seed(9)
    images = torch.randint(0, 256, (2, B, 1, H, W), generator=gen)
    batches = [(images[k].float() / 255.0 - MEAN) / STD for k in range(2)]
    model = reference.make_model()
    parameters = [[n, list(p.shape)] for n, p in model.named_parameters() if not n.startswith("head.")]
    w = model.linear.weight.detach().double()
    tau_weight = (w / w.norm(dim=1, keepdim=True) ** TAU).float()
    crt_weight, crt_bias = crt_start()
    prior = torch.tensor(COUNTS, dtype=torch.float64) / sum(COUNTS)
    adjusted_bias = (model.linear.bias.detach().double() - TAU * torch.log(prior)).float()
    out = {"images": images.tolist(), "labels": LABELS, "mean": MEAN, "std": STD, "classes": K, "lr": LR,
           "momentum": MOMENTUM, "weight_decay": WEIGHT_DECAY, "parameters": parameters,
           "crt_start": {"weight": crt_weight.reshape(-1).tolist(), "bias": crt_bias.tolist()},
           "tau": TAU, "tau_norm": {"weight": tau_weight.reshape(-1).tolist(), "bias": [0.0] * K},
           "counts": COUNTS, "logit_adjust": {"bias": adjusted_bias.tolist()},
           "runs": [two_steps(mode, bn, batches) for mode in ("crt", "lws") for bn in ("train", "frozen")]}
    with open(OUT, "w") as f:
        json.dump(out, f)
    print("wrote", OUT, [[round(v, 6) for v in r["losses"]] for r in out["runs"]])


if __name__ == "__main__":
    main()
