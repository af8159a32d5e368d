#!/usr/bin/env python3
"""PyTorch CPU eager baseline for `make bench`: the default emc2 CNN, one SimCLR training step.

Same encoder as emc2's default (conv3x3 1->32 + ReLU + maxpool2, conv3x3 32->64 + ReLU + maxpool2,
linear 3136->128 + ReLU, linear 128->64, L2-normalise), NT-Xent at tau = 0.2, Adam. Input is 2B random
28x28 views (PyTorch's step does no augmentation; emc2's step does, see README "Benchmarks").
Not part of the test suite. Usage: /usr/bin/python3 native/bench/torch_step.py [--threads N]
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def encoder():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 128), nn.ReLU(), nn.Linear(128, 64))


def nt_xent(z, beta):
    n = z.shape[0] // 2
    s = z @ z.t() * beta
    s.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(s, target)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for b in (32, 256):
        model = encoder()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
        x = torch.rand(2 * b, 1, 28, 28)

        def step():
            opt.zero_grad(set_to_none=True)
            z = F.normalize(model(x), dim=1)
            loss = nt_xent(z, 5.0)
            loss.backward()
            opt.step()

        for _ in range(5):
            step()
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        times.sort()
        med = times[len(times) // 2]
        print(f"B={b:4d}  step {med * 1e3:8.2f} ms (median of {args.steps})  {b / med:8.0f} images/s")


if __name__ == "__main__":
    main()
