#!/usr/bin/env python3
"""Where kubestrap's time went, from the `timings` section of its JSON reports.

    bench/timings.py OUTDIR N...

Reads OUTDIR/nN-kubestrap-{first,noop}-REP.json (written by bench/run.sh)
and prints a Markdown table: per N and run, the median over repetitions of
each phase's wall time, and the slowest task's. Standard library only.
"""

import glob
import json
import os
import statistics
import sys


def row(out, n, phase):
    reports = []
    for path in sorted(glob.glob(os.path.join(out, f"n{n}-kubestrap-{phase}-*.json"))):
        with open(path, encoding="utf-8") as f:
            reports.append(json.load(f)["timings"])
    if not reports:
        return None

    def med(key):
        return statistics.median(t[key] for t in reports)

    per_task = {}
    for t in reports:
        for p in t["phases"]:
            if p["kind"] == "task":
                per_task.setdefault(p["name"], []).append(p["seconds"])
    slowest = max(per_task.items(), key=lambda kv: statistics.median(kv[1]), default=None)
    slow = f"{statistics.median(slowest[1]):.2f} ({slowest[0]})" if slowest else "-"
    cells = [med(k) for k in ("total_s", "connect_s", "gather_s", "tasks_s")]
    cells = [f"{c:.2f}" for c in cells]
    rest = [f"{med(k):.2f}" for k in ("handlers_s", "recap_s")]
    return f"| {n} | kubestrap {phase} | " + " | ".join(cells + [slow] + rest) + " |"


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: timings.py OUTDIR N...")
    out, ns = argv[1], argv[2:]
    print("| N | run | total s | connect+auth s | gather s | tasks s | slowest task s | handlers s | recap s |")
    print("|---:|---|---:|---:|---:|---:|---|---:|---:|")
    for n in ns:
        for phase in ("first", "noop"):
            line = row(out, n, phase)
            if line:
                print(line)


if __name__ == "__main__":
    main(sys.argv)
