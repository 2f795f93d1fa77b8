#!/usr/bin/python3
"""PyTorch's global magnitude pruning of the same 25 M weights as bench/bench_pruning.cpp
(five Linear(2442, 2048) layers, 90 % sparsity), timed the same way (best of 3).
Run with Debian's interpreter: /usr/bin/python3 scripts/bench/torch_global_prune.py [threads]"""
import sys
import time

import torch
import torch.nn.utils.prune as prune

threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
torch.set_num_threads(threads)
torch.manual_seed(0)
best = float("inf")
for _ in range(3):
    layers = [torch.nn.Linear(2442, 2048, bias=False) for _ in range(5)]
    params = [(l, "weight") for l in layers]
    t0 = time.perf_counter()
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=0.9)
    best = min(best, time.perf_counter() - t0)
print(f"torch {torch.__version__} global_unstructured L1, 25.0 M weights, 90 %: "
      f"{best * 1e3:.0f} ms (best of 3, {threads} threads)")
