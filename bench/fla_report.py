#!/usr/bin/env python3
"""Markdown tables from fla_compare.py's JSON lines (used for docs/accuracy/gpu.md and
docs/benchmarks.md).  Usage: fla_report.py FILE.jsonl [FILE.jsonl ...]"""
import json
import sys
from collections import defaultdict


def main():
    rows = []
    for path in sys.argv[1:]:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    errs = [r for r in rows if r["kind"] == "error"]
    times = [r for r in rows if r["kind"] == "time"]

    # accuracy: one table per output dtype; columns = method (with FLA version)
    for out in ("float32", "bfloat16"):
        table = defaultdict(dict)
        cols = []
        for r in errs:
            if r["out"] != out:
                continue
            col = r["method"] + (f" {r['fla']}" if r["method"].startswith("fla") else "")
            key = (r["cls"], r["bt"], "varlen" if r.get("varlen") else "fixed")
            table[key][col] = r["max_rel_fro"]
            if col not in cols:
                cols.append(col)
        if not table:
            continue
        print(f"\n#### Output {out}: max over matrices of the relative Frobenius error vs fp64\n")
        print("| class | BT | layout | " + " | ".join(cols) + " |")
        print("|---|---|---|" + "---|" * len(cols))
        for key in sorted(table, key=lambda k: (k[0], -k[1], k[2])):
            cells = [f"{table[key][c]:.2e}" if c in table[key] else "" for c in cols]
            print(f"| {key[0]} | {key[1]} | {key[2]} | " + " | ".join(cells) + " |")

    if times:
        print("\n#### Timing (triton.testing.do_bench, median)\n")
        print("| BT | out | method | shape | µs | GB/s |")
        print("|---|---|---|---|---|---|")
        for r in times:
            m = r["method"] + (f" {r['fla']}" if r["method"].startswith("fla") else "")
            print(f"| {r['bt']} | {r['out']} | {m} | {r['shape']} | {r['median_us']:.1f} | {r['gb_per_s']:.0f} |")


if __name__ == "__main__":
    main()
