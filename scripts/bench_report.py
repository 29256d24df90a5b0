#!/usr/bin/env python3
"""Turns divan's output for benches/lookup.rs and benches/freeze.rs into BENCHMARKS.md tables
and an SVG chart. Python 3 standard library only.

    python3 scripts/bench_report.py [--svg docs/lookup.svg] RUN.txt [RUN.txt ...]

Each RUN.txt is the stdout of one `cargo bench` (both benches may be in one file). With several
runs, every figure is the median of the runs' medians. Lookup figures are per lookup: divan
times one pass of 4096 lookups per iteration, per thread. With 2 threads the cost of a lookup
to the machine is the per-thread time divided by 2 (the inverse of the combined throughput), so
the tables give both.
"""

import argparse
import re
import statistics
import sys
from collections import defaultdict

BATCH = 4096
UNITS = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
ROW = re.compile(r"^(?P<indent>[\s│]*)[├╰]─ (?P<name>\S+)")
CASES = ["hit_16", "hit_256", "hit_4096", "miss_16", "miss_256", "miss_4096"]
STRUCTURES = [
    ("registry_static", "handler-registry `get` (static)"),
    ("registry_typed", "handler-registry `get_as::<F>` (default registry)"),
    ("registry_overlay", "handler-registry `get` (run-time overlay)"),
    ("match_literals", "`match` on literals"),
    ("phf", "`phf::Map`"),
    ("hashmap_sip", "`HashMap` (SipHash)"),
    ("hashmap_foldhash", "`HashMap` (foldhash)"),
    ("hashmap_fx", "`HashMap` (FxHash)"),
    ("std_rwlock", "`std::sync::RwLock<HashMap>`"),
    ("parking_lot_rwlock", "`parking_lot::RwLock<HashMap>`"),
    ("std_mutex", "`Mutex<HashMap>`"),
    ("dashmap", "`DashMap`"),
    ("arc_swap", "`ArcSwap<HashMap>`"),
    ("papaya", "`papaya::HashMap`"),
]


def nanos(text):
    value, unit = text.split()
    return float(value) * UNITS[unit]


def parse(path, column):
    """{(bench path...): ns per iteration} for every leaf row of a divan report, from `column`
    (0 fastest, 2 median)."""
    rows, stack = {}, []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            match = ROW.match(line)
            if not match:
                continue
            depth = len(match["indent"]) // 3
            stack[depth:] = [match["name"]]
            columns = [c.strip() for c in line[match.end():].split("│")]
            if len(columns) >= 3 and columns[column]:
                key = tuple(stack)
                if key[0] == "get" and len(key) == 3:
                    key += ("t=1",)  # a run with `--threads 1` prints no thread level
                rows[key] = nanos(columns[column])
    return rows


def collect(paths, column):
    runs = defaultdict(list)
    for path in paths:
        for key, value in parse(path, column).items():
            runs[key].append(value)
    return {key: statistics.median(values) for key, values in runs.items()}, len(paths)


def lookup(results, structure, case, threads):
    """ns per lookup: per thread, or per lookup of the machine (`effective`) with 2 threads."""
    value = results.get(("get", structure, case, f"t={threads}"))
    return None if value is None else value / BATCH


def fmt(value, digits=1):
    return "–" if value is None else f"{value:.{digits}f}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def lookup_tables(results):
    out = []
    for threads, title in ((1, "1 thread"), (2, "2 threads: ns per lookup per thread / 2")):
        out.append(f"#### ns per lookup, {title}\n")
        rows = []
        for key, label in STRUCTURES:
            row = [label]
            for case in CASES:
                value = lookup(results, key, case, threads)
                row.append(fmt(None if value is None else value / threads))
            rows.append(row)
        out.append(table(["structure", *CASES], rows) + "\n")
    out.append("#### Each structure's cost relative to handler-registry static `get` "
               "(1 thread / 2 threads)\n")
    rows = []
    for key, label in STRUCTURES[1:]:
        row = [label]
        for case in CASES:
            cells = []
            for threads in (1, 2):
                mine = lookup(results, "registry_static", case, threads)
                theirs = lookup(results, key, case, threads)
                cells.append("–" if None in (mine, theirs) else f"{theirs / mine:.1f}x")
            row.append(" / ".join(cells))
        rows.append(row)
    out.append(table(["structure", *CASES], rows) + "\n")
    return "\n".join(out)


def targets(results):
    """Every target of the issue, checked case by case."""
    checks = []

    def check(name, ok_values):
        met = all(ok for ok, _ in ok_values)
        detail = ", ".join(text for _, text in ok_values)
        checks.append([name, "met" if met else "**missed**", detail])

    def each(fn):
        values = []
        for case in CASES:
            value = fn(case)
            if value is not None:
                values.append((value[0], f"{case} {value[1]}"))
        return values

    def ratio(a, b):
        return None if None in (a, b) else a / b

    for threads in (1, 2):
        def vs_fx(case, threads=threads):
            r = ratio(lookup(results, "registry_static", case, threads),
                      lookup(results, "hashmap_fx", case, threads))
            return None if r is None else (r <= 1.0, f"{r:.2f}x")
        check(f"static get ≤ 1.0x FxHash HashMap ({threads} thread{'s' * (threads > 1)})",
              each(vs_fx))
    for threads in (1, 2):
        def vs_phf(case, threads=threads):
            r = ratio(lookup(results, "phf", case, threads),
                      lookup(results, "registry_static", case, threads))
            return None if r is None else (r >= 3.0, f"{r:.1f}x")
        check(f"static get ≥ 3x faster than phf ({threads} thread{'s' * (threads > 1)})",
              each(vs_phf))

    def vs_rwlock(case):
        r = ratio(lookup(results, "std_rwlock", case, 2),
                  lookup(results, "registry_static", case, 2))
        return None if r is None else (r >= 5.0, f"{r:.1f}x")
    check("static get ≥ 5x faster than std RwLock<HashMap> (2 threads)", each(vs_rwlock))

    def scaling(case):
        one, two = (lookup(results, "registry_static", case, 1),
                    lookup(results, "registry_static", case, 2))
        r = None if None in (one, two) else two / 2 / one
        return None if r is None else (r <= 0.55, f"{r:.2f}x")
    check("static get: 2-thread cost per lookup ≤ 0.55x 1-thread", each(scaling))

    for threads in (1, 2):
        def overlay(case, threads=threads):
            r = ratio(lookup(results, "registry_overlay", case, threads),
                      lookup(results, "parking_lot_rwlock", case, threads))
            return None if r is None else (r <= 1.0, f"{r:.2f}x")
        check(f"overlay get ≤ parking_lot RwLock<HashMap> ({threads} thread{'s' * (threads > 1)})",
              each(overlay))
    return table(["target", "result", "ratio per case"], checks)


def freeze_table(results):
    rows = []
    previous = None
    for key in sorted((k for k in results if k[0] == "with_static"), key=lambda k: int(k[1])):
        ms = results[key] / 1e6
        growth = "" if previous is None else f"{ms / previous[1]:.1f}x for {int(key[1]) // previous[0]}x names"
        rows.append([f"{int(key[1]):,}", f"{ms:.2f}", f"{results[key] / int(key[1]):.0f}", growth])
        previous = (int(key[1]), ms)
    return table(["names", "ms", "ns per name", "growth"], rows) if rows else ""


COLORS = ["#1f77b4", "#6baed6", "#c6dbef"]


def svg(results, path):
    """Four panels (hits/misses x 1/2 threads), one bar per structure and set size, log scale."""
    width, panel_w, label_w, bar_h = 1240, 600, 270, 5
    row_h = bar_h * 3 + 4
    panel_h = 30 + row_h * len(STRUCTURES) + 30
    height = 60 + panel_h * 2 + 20
    values = [value for key, value in results.items() if key[0] == "get"]
    lo, hi = 1.0, 10.0
    while hi < max(values, default=1.0) / BATCH:
        hi *= 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="10" y="22" font-size="15" font-weight="bold">Name lookup, ns per lookup '
        '(log scale, lower is better; bold: handler-registry; 2 threads: per-thread time / 2)</text>',
    ]
    for i, size in enumerate(("16 names", "256 names", "4096 names")):
        parts.append(f'<rect x="{700 + i * 110}" y="34" width="12" height="10" fill="{COLORS[i]}"/>'
                     f'<text x="{716 + i * 110}" y="43">{size}</text>')

    def x_of(ns):
        import math
        ns = min(max(ns, lo), hi)
        return (math.log10(ns) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    for p, (kind, threads) in enumerate(((k, t) for t in (1, 2) for k in ("hit", "miss"))):
        ox = 10 + (p % 2) * (panel_w + 20)
        oy = 60 + (p // 2) * panel_h
        plot_w = panel_w - label_w - 10
        title = f"{'hits' if kind == 'hit' else 'misses'}, {threads} thread{'s' * (threads > 1)}"
        parts.append(f'<text x="{ox}" y="{oy + 14}" font-size="13" font-weight="bold">{title}</text>')
        top = oy + 24
        for tick in (t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if t <= hi):
            tx = ox + label_w + x_of(tick) * plot_w
            parts.append(f'<line x1="{tx:.1f}" y1="{top}" x2="{tx:.1f}" '
                         f'y2="{top + row_h * len(STRUCTURES)}" stroke="#ddd"/>')
            parts.append(f'<text x="{tx:.1f}" y="{top + row_h * len(STRUCTURES) + 12}" '
                         f'text-anchor="middle" fill="#555">{tick}</text>')
        for r, (key, label) in enumerate(STRUCTURES):
            y = top + r * row_h
            name = re.sub(r"`", "", label).replace("handler-registry ", "")
            name = name.replace("<", "&lt;").replace(">", "&gt;")
            bold = ' font-weight="bold"' if key.startswith("registry") else ""
            parts.append(f'<text x="{ox + label_w - 6}" y="{y + row_h / 2 + 4}" '
                         f'text-anchor="end"{bold}>{name}</text>')
            for s, size in enumerate((16, 256, 4096)):
                value = lookup(results, key, f"{kind}_{size}", threads)
                if value is None:
                    continue
                value /= threads
                w = max(x_of(value) * plot_w, 1)
                parts.append(f'<rect x="{ox + label_w}" y="{y + s * bar_h + 2}" width="{w:.1f}" '
                             f'height="{bar_h - 1}" fill="{COLORS[s]}"><title>{name}, {size} names: '
                             f'{value:.1f} ns</title></rect>')
    parts.append("</svg>")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(parts) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="divan output files, one per run")
    parser.add_argument("--svg", help="write the lookup chart here")
    parser.add_argument("--fastest", action="store_true",
                        help="use each run's fastest sample instead of its median")
    args = parser.parse_args()
    results, count = collect(args.runs, 0 if args.fastest else 2)
    if not results:
        sys.exit("no divan results found in " + ", ".join(args.runs))
    statistic = "fastest samples" if args.fastest else "medians"
    print(f"Medians over {count} run{'s' * (count > 1)} of each run's {statistic}.\n")
    if any(k[0] == "get" for k in results):
        print(lookup_tables(results))
        print("#### Targets\n")
        print(targets(results) + "\n")
    freeze = freeze_table(results)
    if freeze:
        print("#### Freeze (`Registry::with_static`)\n")
        print(freeze + "\n")
    if args.svg:
        svg(results, args.svg)
        print(f"Chart written to {args.svg}.")


if __name__ == "__main__":
    main()
