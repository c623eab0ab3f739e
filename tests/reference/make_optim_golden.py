#!/usr/bin/python3
"""Golden values of the SGD update smcl trains with (SPEC section 7: momentum 0.9, coupled weight decay, no
Nesterov, the learning rate set per epoch), computed by torch.optim.SGD itself.

Run with Debian's /usr/bin/python3 (python3-torch): `/usr/bin/python3 tests/reference/make_optim_golden.py`.
Writes tests/reference/golden/sgd.json: the initial parameters, the gradient and learning rate of every step,
and the parameters after every step, in float64.
"""
import json
import os

import torch

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT = os.path.join(GOLDEN, "sgd.json")


def main():
    g = torch.Generator().manual_seed(21)
    shapes = [[3, 4], [4], [2, 1, 3, 3]]
    params = [torch.randn(s, generator=g, dtype=torch.float64).requires_grad_(True) for s in shapes]
    initial = [p.detach().clone() for p in params]
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=2e-4)
    rates = [0.02, 0.1, 0.1, 0.01, 0.0001, 0.05]  # a warm-up, steps and a decay, set before each step
    steps = []
    for lr in rates:
        for group in optimizer.param_groups:
            group["lr"] = lr
        grads = [torch.randn(s, generator=g, dtype=torch.float64) for s in shapes]
        for p, grad in zip(params, grads):
            p.grad = grad.clone()
        optimizer.step()
        steps.append({"lr": lr, "grads": [x.reshape(-1).tolist() for x in grads],
                      "params": [p.detach().reshape(-1).tolist() for p in params]})
    out = {"momentum": 0.9, "weight_decay": 2e-4, "shapes": shapes,
           "initial": [p.reshape(-1).tolist() for p in initial], "steps": steps}
    with open(OUT, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
