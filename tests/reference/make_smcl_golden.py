#!/usr/bin/python3
"""Golden values of one SMCL step (SPEC sections 3-4), computed independently of smcl.

Run with Debian's /usr/bin/python3 (python3-torch): `/usr/bin/python3 tests/reference/make_smcl_golden.py`.
Writes tests/reference/golden/smcl_step.json (inputs, boxes, lambdas, losses) and smcl_step_grad.bin (the
parameter gradients of the first case, float32 little-endian, in the order of "parameters").

The network is a ResNet-8 for 1x8x8 inputs and 3 classes written here from SPEC section 6 (option-A
shortcuts, projection head 64 -> 64 -> 128, L2-normalised). Its parameters are a closed form of their index
(see parameter_values), which the C++ test reproduces, so no weights are stored. Boxes, masked images,
normalisation, the mixed cross-entropy and the two supervised contrastive terms follow SPEC literally, with
per-sample loops where that is clearer.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT_JSON = os.path.join(GOLDEN, "smcl_step.json")
OUT_GRAD = os.path.join(GOLDEN, "smcl_step_grad.bin")

B, C, H, W, K = 8, 1, 8, 8, 3
MEAN, STD = 0.3, 0.35


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.pad = cout // 4 if stride != 1 else 0

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x
        if self.pad:
            short = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + short)


class ResNet8(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(C, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = nn.Sequential(Block(16, 16, 1))
        self.layer2 = nn.Sequential(Block(16, 32, 2))
        self.layer3 = nn.Sequential(Block(32, 64, 2))
        self.linear = nn.Linear(64, K)
        self.head = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 128))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        h = self.layer3(self.layer2(self.layer1(out))).mean(dim=(2, 3))
        return self.linear(h), F.normalize(self.head(h), dim=1)


def parameter_values(index, shape):
    """Parameter number `index` (in registration order): amplitude * sin(0.37 * i + 1.3 * index), i the flat
    element index, amplitude 1/sqrt(fan-in) for weights of rank >= 2 and 0.5 otherwise, plus 1 for batch-norm
    scales (rank 1 and named *bn*.weight; the caller passes bn_scale)."""
    n = math.prod(shape)
    fan_in = n // shape[0] if len(shape) >= 2 else 0
    amplitude = 1.0 / math.sqrt(fan_in) if fan_in else 0.5
    i = torch.arange(n, dtype=torch.float64)
    return (amplitude * torch.sin(0.37 * i + 1.3 * index)).reshape(shape)


def make_model():
    model = ResNet8()
    with torch.no_grad():
        for index, (name, p) in enumerate(model.named_parameters()):
            values = parameter_values(index, list(p.shape))
            if ".bn" in "." + name and name.endswith("weight"):
                values = values + 1.0
            p.copy_(values.float())
    return model


def box(peak, u):
    ci = math.floor(H * math.sqrt(u)) // 2
    cj = math.floor(W * math.sqrt(u)) // 2
    i, j = peak
    top, bottom = min(max(i - ci, 0), H), min(max(i + ci, 0), H)
    left, right = min(max(j - cj, 0), W), min(max(j + cj, 0), W)
    return top, bottom, left, right


def supcon(v, labels, t, t_base):
    """SPEC section 4, anchor by anchor."""
    n = v.shape[0]
    sim = v @ v.t() / t
    total = 0.0
    for a in range(n):
        pos = [p for p in range(n) if p != a and labels[p] == labels[a]]
        if not pos:
            continue
        others = torch.cat([sim[a, :a], sim[a, a + 1:]])
        log_den = torch.logsumexp(others, 0)
        total = total - sum(sim[a, p] - log_den for p in pos) / len(pos)
    return (t / t_base) * total / n


def weighted_ce(logits, labels, share, w):
    """sum_i share_i w_{y_i} CE_i / sum_i w_{y_i}, sample by sample."""
    num, den = 0.0, 0.0
    for i in range(logits.shape[0]):
        ce = -F.log_softmax(logits[i], 0)[labels[i]]
        num = num + share[i] * w[labels[i]] * ce
        den = den + w[labels[i]]
    return num / den


def run_case(case, views_u8, ys, yt, with_grad):
    model = make_model()
    model.train()
    s1, s2, t1, t2 = [torch.tensor(v, dtype=torch.float32) for v in views_u8]
    norm = lambda x: (x / 255.0 - MEAN) / STD
    groups = [norm(s1), norm(s2)]
    with_targets = case["with_targets"]
    if with_targets:
        groups += [norm(t1), norm(t2)]
    lambdas = None
    boxes = []
    if case["masked"]:
        peaks = case["peaks"]
        if case["box"] == "per_batch":
            peaks = [peaks[0]] * B
        masked = groups[0].clone()
        lambdas = []
        for i in range(B):
            top, bottom, left, right = box(peaks[i], case["u"])
            boxes.append([top, bottom, left, right])
            fill = groups[2][i] if case["mask_fill"] == "target" else torch.zeros_like(masked[i])
            masked[i, :, top:bottom, left:right] = fill[:, top:bottom, left:right]
            lambdas.append((bottom - top) * (right - left) / (H * W))
        groups.append(masked)
    logits, proj = model(torch.cat(groups))
    w = torch.tensor(case["class_weights"], dtype=torch.float32)
    g = lambda t, k: t[k * B:(k + 1) * B]
    ones = [1.0] * (2 * B)
    if with_targets and case["target_ce"]:  # the target views join the views' weighted mean
        mce = weighted_ce(torch.cat([g(logits, k) for k in range(4)]), ys + ys + yt + yt, ones + ones, w)
    else:
        mce = weighted_ce(torch.cat([g(logits, 0), g(logits, 1)]), ys + ys, ones, w)
    if case["masked"]:
        mce = mce + weighted_ce(g(logits, 4), yt, lambdas, w) + weighted_ce(g(logits, 4), ys, [1 - l for l in lambdas], w)
    t, tb = case["temperature"], case["base_temperature"]
    labels = ys + ys + (yt + yt if with_targets else [])
    if case["masked"]:
        lam_bar = sum(lambdas) / B
        msc = lam_bar * supcon(proj, labels + yt, t, tb) + (1 - lam_bar) * supcon(proj, labels + ys, t, tb)
    else:
        msc = supcon(proj, labels, t, tb)
    loss = case["alpha"] * mce + case["beta"] * msc
    result = {"loss": float(loss), "boxes": boxes, "lambda": lambdas}
    if with_grad:
        loss.backward()
        grads = torch.cat([p.grad.reshape(-1) for _, p in model.named_parameters()])
        result["grad"] = grads
        result["parameters"] = [[n, list(p.shape)] for n, p in model.named_parameters()]
    return result


def main():
    gen = torch.Generator().manual_seed(3)
    views = [torch.randint(0, 256, (B, C, H, W), generator=gen).tolist() for _ in range(4)]
    ys = [0, 0, 0, 0, 0, 1, 1, 2]
    yt = [2, 1, 2, 2, 1, 2, 0, 1]
    peaks = [[0, 0], [7, 7], [3, 4], [5, 1], [1, 6], [4, 4], [2, 7], [6, 0]]
    base = {"with_targets": True, "masked": True, "box": "per_sample", "mask_fill": "target", "target_ce": False,
            "u": 0.37, "peaks": peaks, "class_weights": [0.4, 1.1, 1.5], "alpha": 1.0, "beta": 1.0,
            "temperature": 0.07, "base_temperature": 0.07}
    cases = [
        dict(base, name="masked_per_sample_paste_weighted"),
        dict(base, name="masked_per_batch_zero_target_ce", box="per_batch", mask_fill="zero", target_ce=True,
             u=0.81, alpha=0.6, beta=0.3, temperature=0.2),
        dict(base, name="targets_without_mask", masked=False, class_weights=[1.0, 1.0, 1.0]),
        dict(base, name="source_views_only_scl", with_targets=False, masked=False),
        dict(base, name="masked_empty_boxes", u=0.01),
    ]
    out = {"batch": B, "channels": C, "height": H, "width": W, "classes": K, "mean": MEAN, "std": STD,
           "views": views, "source_labels": ys, "target_labels": yt, "cases": []}
    for k, case in enumerate(cases):
        r = run_case(case, views, ys, yt, with_grad=(k == 0))
        if k == 0:
            r["grad"].numpy().astype("<f4").tofile(OUT_GRAD)
            out["parameters"] = r.pop("parameters")
            out["grad_case"] = case["name"]
            r.pop("grad")
        out["cases"].append(dict(case, **r))
    with open(OUT_JSON, "w") as f:
        json.dump(out, f)
    print("wrote", OUT_JSON, OUT_GRAD, [round(c["loss"], 6) for c in out["cases"]])


if __name__ == "__main__":
    main()
