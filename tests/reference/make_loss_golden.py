#!/usr/bin/python3
"""Golden values of the classification losses (SPEC section 5), computed independently of smcl.

Run with Debian's /usr/bin/python3 (python3-torch): `/usr/bin/python3 tests/reference/make_loss_golden.py`.
Writes tests/reference/golden/losses.json. Each loss is written the way its reference codebase writes it, in
float64, and differentiated by autograd:
  ldam              LDAM-DRW's LDAMLoss (uint8 index scatter, margins by matmul, torch.where, weighted CE of s * out)
  focal             the class-balanced loss code's focal_loss (BCE with logits, modulator
                    exp(-gamma y z - gamma log(1 + exp(-z))), per-sample class weight, sum / number of labels)
  balanced_softmax  Balanced Softmax: weighted CE of z + log(n_k / N)
  logit_adjusted    the logit-adjusted loss (Menon et al. 2021) as BCL's LogitAdjust: weighted CE of z + tau log(n_k / N)
  ce                weighted CE
The mixed-label cases (Mixup, CutMix, Remix, CMO, SMCL's masked image) follow SPEC section 4's formula
sum_i lam_i w_{a_i} l(z_i, a_i) / N_a + sum_i (1 - lam_i) w_{b_i} l(z_i, b_i) / N_b, with N the sum of the
weights (softmax losses) or the batch size (focal), written out sample by sample.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT = os.path.join(GOLDEN, "losses.json")
COUNTS = [500, 158, 50, 16, 5]
K = len(COUNTS)


def cb_weights(beta):
    effective = 1.0 - np.power(beta, COUNTS)
    w = (1.0 - beta) / np.array(effective)
    return w / np.sum(w) * K


def ldam(z, y, w, max_m, s):
    m_list = 1.0 / np.sqrt(np.sqrt(COUNTS))
    m_list = torch.tensor(m_list * (max_m / np.max(m_list)), dtype=torch.float64)
    index = torch.zeros_like(z, dtype=torch.uint8)
    index.scatter_(1, y.view(-1, 1), 1)
    batch_m = torch.matmul(m_list[None, :], index.double().transpose(0, 1)).view((-1, 1))
    output = torch.where(index.bool(), z - batch_m, z)
    # per-sample terms; the reference's own reduction is F.cross_entropy(s * output, y, weight=w)
    return F.cross_entropy(s * output, y, reduction="none"), F.cross_entropy(s * output, y, weight=w)


def focal_terms(z, y, gamma):
    labels = F.one_hot(y, K).double()
    bce = F.binary_cross_entropy_with_logits(z, labels, reduction="none")
    modulator = 1.0 if gamma == 0 else torch.exp(-gamma * labels * z - gamma * torch.log(1 + torch.exp(-1.0 * z)))
    return labels, modulator * bce


def focal(z, y, w, gamma):
    labels, loss = focal_terms(z, y, gamma)
    alpha = w[y].unsqueeze(1).repeat(1, K)  # weights = weights * labels_one_hot, summed, repeated per class
    return loss.sum(1), torch.sum(alpha * loss) / torch.sum(labels)


def balanced_softmax(z, y, w):
    prior = torch.tensor(COUNTS, dtype=torch.float64)
    adjusted = z + (prior / prior.sum()).log()
    return F.cross_entropy(adjusted, y, reduction="none"), F.cross_entropy(adjusted, y, weight=w)


def logit_adjusted(z, y, w, tau):
    """Menon et al.'s logit-adjusted loss as BCL's LogitAdjust writes it: CE(z + tau log(n_k / N), y)."""
    prior = torch.tensor(COUNTS, dtype=torch.float64)
    adjusted = z + tau * torch.log(prior / prior.sum())
    return F.cross_entropy(adjusted, y, reduction="none"), F.cross_entropy(adjusted, y, weight=w)


def ce(z, y, w):
    return F.cross_entropy(z, y, reduction="none"), F.cross_entropy(z, y, weight=w)


def reduce(per_sample, name, y, w, share):
    """sum_i share_i w_{y_i} l_i / N, sample by sample."""
    total = torch.zeros((), dtype=torch.float64)
    norm = 0.0
    for i in range(len(y)):
        total = total + share[i] * w[y[i]] * per_sample[i]
        norm += float(w[y[i]])
    return total / (len(y) if name == "focal" else norm)


def case(seed, name, params, reweight, mixed, b=16):
    g = torch.Generator().manual_seed(seed)
    if name == "ldam":  # cosine logits
        z = torch.rand(b, K, generator=g, dtype=torch.float64) * 2 - 1
    else:
        z = torch.randn(b, K, generator=g, dtype=torch.float64) * 3
    z.requires_grad_(True)
    y = torch.cat([torch.arange(K), torch.randint(0, K, (b - K,), generator=g)])
    w = torch.tensor(cb_weights(0.9999) if reweight == "cb" else np.ones(K), dtype=torch.float64)
    fn = {"ldam": ldam, "focal": focal, "balanced_softmax": balanced_softmax, "logit_adjusted": logit_adjusted,
          "ce": ce}[name]
    result = {"loss": name, "params": params, "reweight": reweight, "weights": w.tolist(), "logits": z.tolist(),
              "labels": y.tolist()}
    if mixed:
        yb = torch.randint(0, K, (b,), generator=g)
        lam = torch.rand(b, generator=g, dtype=torch.float64)
        la, _ = fn(z, y, w, **params)
        lb, _ = fn(z, yb, w, **params)
        value = reduce(la, name, y, w, lam) + reduce(lb, name, yb, w, 1 - lam)
        result.update({"labels_b": yb.tolist(), "lambda": lam.tolist()})
    else:
        la, plain = fn(z, y, w, **params)
        value = reduce(la, name, y, w, torch.ones(b, dtype=torch.float64))
        # The reference's own reduction (F.cross_entropy(weight=w), focal_loss) agrees with the sample loop.
        assert abs(float(value) - float(plain)) < 1e-12, (name, float(value), float(plain))
    grad = torch.autograd.grad(value, z)[0]
    result.update({"value": float(value), "grad": grad.tolist()})
    assert math.isfinite(result["value"])
    return result


def main():
    cases = []
    seed = 0
    for reweight in ["none", "cb"]:
        for mixed in [False, True]:
            for name, params in [("ce", {}), ("ldam", {"max_m": 0.5, "s": 30.0}), ("ldam", {"max_m": 0.3, "s": 10.0}),
                                 ("focal", {"gamma": 1.0}), ("focal", {"gamma": 0.0}), ("focal", {"gamma": 2.0}),
                                 ("balanced_softmax", {}), ("logit_adjusted", {"tau": 0.5}),
                                 ("logit_adjusted", {"tau": 1.5})]:
                config = dict(params)
                if name == "ldam":
                    config = {"ldam_max_margin": params["max_m"], "ldam_scale": params["s"]}
                if name == "focal":
                    config = {"focal_gamma": params["gamma"]}
                if name == "logit_adjusted":
                    config = {"la_tau": params["tau"]}
                c = case(seed, name, params, reweight, mixed)
                c["params"] = config
                cases.append(c)
                seed += 1
    with open(OUT, "w") as f:
        json.dump({"counts": COUNTS, "cases": cases}, f)


if __name__ == "__main__":
    main()
