#!/usr/bin/env python3
"""PyTorch baselines on the same card, timed with CUDA events (median of 20 after 3 warm-ups):
the low-rank merge as W.addmm_(B, A, alpha=s) and the affine combination as a weighted sum,
8192 x 8192 W, r = 16 and 64. Prints tab-separated rows: kernel, dtype, ms."""
import sys

import torch

SIDE = 8192
WARMUPS, REPEATS = 3, 20


def timed(fn):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for i in range(WARMUPS + REPEATS):
        start.record()
        fn()
        end.record()
        end.synchronize()
        if i >= WARMUPS:
            times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def main():
    if not torch.cuda.is_available():
        print("torch_bench: torch sees no CUDA device", file=sys.stderr)
        return 2
    dev = torch.device("cuda")
    rows = [("device", "", torch.cuda.get_device_name(dev))]
    torch.manual_seed(0)
    src = torch.empty(SIDE, SIDE, dtype=torch.bfloat16, device=dev).uniform_(-1, 1)
    dst = torch.empty_like(src)
    rows.append(("copy (d2d probe)", "bf16", timed(lambda: dst.copy_(src))))
    for dtype, name in ((torch.bfloat16, "bf16"), (torch.float16, "f16"), (torch.float32, "f32")):
        w = torch.empty(SIDE, SIDE, dtype=dtype, device=dev).uniform_(-1, 1)
        for r in (16, 64):
            b = torch.empty(SIDE, r, dtype=dtype, device=dev).uniform_(-1, 1)
            a = torch.empty(r, SIDE, dtype=dtype, device=dev).uniform_(-1, 1)
            rows.append((f"lowrank_merge r{r}", name, timed(lambda: w.addmm_(b, a, alpha=1e-3))))
            wt = w.t()  # fan_in_fan_out: W stored in x out gets (B @ A)^T
            if r == 64 and dtype == torch.bfloat16:
                rows.append((f"lowrank_merge r{r} fifo", name, timed(lambda: wt.addmm_(b, a, alpha=1e-3))))
        x0, x1 = torch.empty_like(w).uniform_(-1, 1), torch.empty_like(w).uniform_(-1, 1)
        out = torch.empty_like(w)
        rows.append(("affine k=2", name, timed(lambda: torch.add(x0 * 0.7, x1, alpha=0.3, out=out))))
        del w, x0, x1, out
    for kernel, dtype, ms in rows:
        print(f"{kernel}\t{dtype}\t{ms}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
