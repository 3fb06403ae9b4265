#!/usr/bin/env python3
"""stalls.py: summary of an Nsight Compute source-counter export (ncu_src.sh's NAME_sass.csv.xz,
`ncu --page source --csv --print-source sass`): warp-stall samples by reason over the kernel, the
executed instructions per warp and chunk (chunks = 32768, 4 warps each: the issue-8 launch of
prof_wy.py), optionally by address range (hex offsets from the kernel's first instruction), and
the instructions with the most samples. A session-25 profiling script, not part of the library.

usage: stalls.py FILE.csv[.xz] [--ranges 0x1410,0x1c10,...] [--top 30] [--chunks 32768]"""
import argparse
import collections
import csv
import io
import lzma
import re


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--ranges", default="")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--chunks", type=int, default=32768)
    a = ap.parse_args()
    raw = lzma.open(a.file, "rt") if a.file.endswith(".xz") else open(a.file)
    rows = list(csv.reader(io.StringIO(raw.read())))
    hdr, rows = rows[1], rows[2:]
    ix = {h: i for i, h in enumerate(hdr)}
    base = int(rows[0][0], 16)
    reasons = [h for h in hdr if h.startswith("stall_") and "Not" not in h]
    per = a.chunks * 4

    def num(x, col):
        return int(x[ix[col]] or 0)

    samples = sum(num(x, "Warp Stall Sampling (All Samples)") for x in rows)
    totals = {r[6:]: sum(num(x, r) for x in rows) for r in reasons}
    print(f"samples {samples}, instructions per warp and chunk "
          f"{sum(num(x, 'Instructions Executed') for x in rows) / per:.0f}")
    print("by reason:", ", ".join(f"{k} {v}" for k, v in sorted(totals.items(), key=lambda kv: -kv[1])[:12]))
    bounds = [int(b, 16) for b in a.ranges.split(",") if b]
    regions = collections.defaultdict(collections.Counter)
    for x in rows:
        off = int(x[0], 16) - base
        k = sum(off >= b for b in bounds)
        c = regions[k]
        c["samples"] += num(x, "Warp Stall Sampling (All Samples)")
        c["inst"] += num(x, "Instructions Executed")
        for r in reasons:
            c[r[6:]] += num(x, r)
    if bounds:
        for k in sorted(regions):
            c = regions[k]
            top = sorted(((c[r[6:]], r[6:]) for r in reasons), reverse=True)[:4]
            print(f"from {hex(([0] + bounds)[k]):>8}: {100 * c['samples'] / samples:5.1f}% of samples, "
                  f"{c['inst'] / per:6.0f} instructions/warp/chunk; " + ", ".join(f"{n} {v}" for v, n in top))
    print(f"top {a.top} instructions by samples:")
    for x in sorted(sorted(rows, key=lambda x: -num(x, "Warp Stall Sampling (All Samples)"))[:a.top],
                    key=lambda x: int(x[0], 16)):
        top = sorted(((num(x, r), r[6:]) for r in reasons), reverse=True)[:3]
        sass = re.sub(r"\s+", " ", x[1].strip())[:60]
        print(f"  {hex(int(x[0], 16) - base):>8} {num(x, 'Warp Stall Sampling (All Samples)'):6d} {sass:60s} "
              + " ".join(f"{n}:{v}" for v, n in top if v))


if __name__ == "__main__":
    main()
