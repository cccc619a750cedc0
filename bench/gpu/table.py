#!/usr/bin/env python3
"""Joins the checker's timings (peftnative) and torch_bench.py's (PyTorch) into one table.
usage: table.py CHECKER_TSV TORCH_TSV"""
import sys


def main(checker_path, torch_path):
    with open(checker_path) as f:
        ours = [line.rstrip("\n").split("\t") for line in f][1:]
    torch_ms, device = {}, "?"
    with open(torch_path) as f:
        for line in f:
            kernel, dtype, ms = line.rstrip("\n").split("\t")
            if kernel == "device":
                device = ms
            else:
                torch_ms[(kernel, dtype)] = float(ms)
    print(f"card: {ours[0][0] if ours else '?'} (torch sees: {device})")
    head = f"{'kernel':<40} {'dtype':<10} {'shape':<10} {'ms':>9} {'GB/s':>8} {'% copy':>7} {'torch ms':>9} {'vs torch':>9}"
    print(head)
    print("-" * len(head))
    for _, kernel, dtype, shape, ms, gbps, pct in ours:
        t = torch_ms.get((kernel, dtype))
        ts = f"{t:9.4f}" if t is not None else f"{'-':>9}"
        vs = f"{t / float(ms):8.2f}x" if t is not None else f"{'-':>9}"
        print(f"{kernel:<40} {dtype:<10} {shape:<10} {float(ms):9.4f} {float(gbps):8.1f} {float(pct):6.1f}% {ts} {vs}")
    print("vs torch: PyTorch time / peftnative time (> 1: peftnative is faster). % copy: bandwidth over the d2d copy probe's.")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
