#!/usr/bin/python3
"""Where one SupCon term's time goes (docs/performance.md, "Which BLAS does SupCon's products").

  /usr/bin/python3 bench/supcon_profile.py [--n 1280] [--dim 128] [--threads 2]
  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 bench/supcon_profile.py  # OpenBLAS

The term as src/smcl/losses/supcon.cpp computed it before pairwise_dot (its similarity matrix by matmul, i.e. the
system's BLAS; the same libtorch through Debian's python3-torch), on random
L2-normalised projections and labels of 100 classes: forward and forward + backward times (mean of 10), then
PyTorch's profiler table of 5 forward + backward passes, operators by their own time.
"""
import argparse
import time

import torch


def supcon(features, labels, temperature=0.07, base_temperature=0.07):
    n = features.size(0)
    logits = features.matmul(features.t()) / temperature
    logits = logits - logits.max(1, keepdim=True)[0].detach()
    self_mask = torch.eye(n, dtype=torch.bool)
    positives = labels.unsqueeze(1).eq(labels.unsqueeze(0)).logical_and(self_mask.logical_not())
    denominator = logits.exp().masked_fill(self_mask, 0.0).sum(1, keepdim=True)
    log_prob = logits - denominator.log()
    count = positives.sum(1).to(features.dtype)
    mean_log_prob_pos = log_prob.masked_fill(positives.logical_not(), 0.0).sum(1) / count.clamp_min(1.0)
    return -(temperature / base_temperature) * mean_log_prob_pos.mean()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1280, help="projections (an SMCL step at batch 256: 1,280)")
    parser.add_argument("--dim", type=int, default=128, help="projection size")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    features = torch.nn.functional.normalize(torch.randn(args.n, args.dim), dim=1).requires_grad_()
    labels = torch.randint(0, 100, (args.n,))
    for _ in range(3):  # warm-up
        supcon(features, labels).backward()
    start = time.time()
    for _ in range(10):
        supcon(features, labels)
    forward = (time.time() - start) / 10
    start = time.time()
    for _ in range(10):
        features.grad = None
        supcon(features, labels).backward()
    both = (time.time() - start) / 10
    print(f"one SupCon term over {args.n} x {args.dim}: forward {forward * 1e3:.1f} ms, "
          f"forward + backward {both * 1e3:.1f} ms")
    with torch.autograd.profiler.profile() as profile:
        for _ in range(5):
            features.grad = None
            supcon(features, labels).backward()
    print(profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


if __name__ == "__main__":
    main()
