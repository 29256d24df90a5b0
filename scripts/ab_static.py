#!/usr/bin/env python3
"""Compares static lookups of two builds of benches/lookup.rs, process by process.

    python3 scripts/ab_static.py BEFORE_BINARY AFTER_BINARY [PROCESSES]

A static lookup's time is bimodal from one process to the next on this kind of machine (about
2.7 ns or 3.9 ns per miss at 16 names, in either build, with the code and the data unchanged),
so one run of each build can show a difference that is not there. This runs the two binaries'
`get::registry_static` alternately, PROCESSES times each (default 20), and prints per case the
lowest and the median of the processes' medians, in ns per lookup, and how many processes
landed within 1.25x of the lowest. Build the binaries with `cargo bench --bench lookup --no-run`
in each tree. Python 3 standard library only.
"""

import collections
import re
import statistics
import subprocess
import sys

BATCH = 4096
UNITS = {"ns": 1e-3, "µs": 1.0, "ms": 1e3}
CASE = re.compile(r"─ (hit|miss)_(\d+)")
ROW = re.compile(
    r"─ t=(\d)\s+[\d.]+ (?:ns|µs|ms)\s+│\s+[\d.]+ (?:ns|µs|ms)\s+│\s+([\d.]+) (ns|µs|ms)"
)


def medians(binary):
    """ns per lookup per (case, threads) of one process: divan's median."""
    out = subprocess.run(
        [binary, "--bench", "get::registry_static"], capture_output=True, text=True, check=True
    ).stdout
    case, found = None, {}
    for line in out.splitlines():
        if match := CASE.search(line):
            case = f"{match[1]}_{match[2]}"
        elif (match := ROW.search(line)) and case:
            found[(case, int(match[1]))] = float(match[2]) * UNITS[match[3]] * 1e3 / BATCH
    return found


def main():
    before, after = sys.argv[1], sys.argv[2]
    processes = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    runs = collections.defaultdict(list)
    for _ in range(processes):
        for build, binary in (("before", before), ("after", after)):
            for key, ns in medians(binary).items():
                runs[(build, key)].append(ns)
    keys = sorted({key for _, key in runs}, key=lambda k: (k[0][:3], int(k[0].split("_")[1]), k[1]))
    print(f"{processes} processes of each build, alternating; ns per lookup")
    print("| case | threads | before: lowest / median | after: lowest / median | fast processes before / after |")
    print("|---|---|---|---|---|")
    for case, threads in keys:
        cells = []
        fast = []
        for build in ("before", "after"):
            values = runs[(build, (case, threads))]
            cells.append(f"{min(values):.2f} / {statistics.median(values):.2f}")
            fast.append(str(sum(v <= 1.25 * min(values) for v in values)))
        print(f"| {case} | {threads} | {cells[0]} | {cells[1]} | {' / '.join(fast)} |")


if __name__ == "__main__":
    main()
