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
    """The median over runs of every figure, and each run's figures."""
    each = [parse(path, column) for path in paths]
    values = defaultdict(list)
    for run in each:
        for key, value in run.items():
            values[key].append(value)
    return {key: statistics.median(v) for key, v in values.items()}, each


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


def ratio(results, a, b, threads_a, threads_b=None):
    """Cost of structure `a` over structure `b` per case, or None."""
    def of(case):
        x = lookup(results, a, case, threads_a)
        y = lookup(results, b, case, threads_b or threads_a)
        return None if None in (x, y) else x / y
    return of


def plural(threads):
    return f"{threads} thread{'s' * (threads > 1)}"


def static_over(other, threads):
    return lambda res: ratio(res, "registry_static", other, threads)


def over_static(other, threads):
    return lambda res: ratio(res, other, "registry_static", threads)


def overlay_over_parking_lot(threads):
    return lambda res: ratio(res, "registry_overlay", "parking_lot_rwlock", threads)


def two_thread_cost(res):
    """Per lookup with 2 threads (per-thread time / 2) over per lookup with 1 thread."""
    of = ratio(res, "registry_static", "registry_static", 2, 1)
    return lambda case: None if of(case) is None else of(case) / 2


def at_most(limit):
    return lambda value: value <= limit


def at_least(limit):
    return lambda value: value >= limit


# (target, ratio per case from one set of results, whether a ratio meets it, format)
TARGETS = [
    *(
        (f"static get ≤ 1.0x FxHash HashMap ({plural(t)})", static_over("hashmap_fx", t),
         at_most(1.0), "{:.2f}x")
        for t in (1, 2)
    ),
    *(
        (f"static get ≥ 3x faster than phf ({plural(t)})", over_static("phf", t),
         at_least(3.0), "{:.1f}x")
        for t in (1, 2)
    ),
    ("static get ≥ 5x faster than std RwLock<HashMap> (2 threads)",
     over_static("std_rwlock", 2), at_least(5.0), "{:.1f}x"),
    ("static get: 2-thread cost per lookup ≤ 0.55x 1-thread", two_thread_cost,
     at_most(0.55), "{:.2f}x"),
    *(
        (f"overlay get ≤ parking_lot RwLock<HashMap> ({plural(t)})",
         overlay_over_parking_lot(t), at_most(1.0), "{:.2f}x")
        for t in (1, 2)
    ),
]


def targets(results, runs):
    """Every target of the issue, checked case by case on the medians, and how many single runs
    met it in every case."""
    rows = []
    for name, ratio_fn, meets, form in TARGETS:
        of = ratio_fn(results)
        values = [(case, of(case)) for case in CASES if of(case) is not None]
        met = all(meets(value) for _, value in values)
        detail = ", ".join(f"{case} {form.format(value)}" for case, value in values)
        in_runs = 0
        for run in runs:
            run_of = ratio_fn(run)
            run_values = [run_of(case) for case in CASES if run_of(case) is not None]
            in_runs += bool(run_values) and all(meets(value) for value in run_values)
        rows.append([name, "met" if met else "**missed**", detail, f"{in_runs} of {len(runs)}"])
    return table(["target", "on the medians", "ratio per case (medians)",
                  "runs meeting it in every case"], rows)


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
    shown = [value / BATCH / int(key[3][2:]) for key, value in results.items() if key[0] == "get"]
    lo, hi = 1.0, 10.0
    while hi < max(shown, default=1.0):
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
    results, runs = collect(args.runs, 0 if args.fastest else 2)
    count = len(runs)
    if not results:
        sys.exit("no divan results found in " + ", ".join(args.runs))
    statistic = "fastest samples" if args.fastest else "medians"
    print(f"Medians over {count} run{'s' * (count > 1)} of each run's {statistic}.\n")
    if any(k[0] == "get" for k in results):
        print(lookup_tables(results))
        print("#### Targets\n")
        print(targets(results, runs) + "\n")
    freeze = freeze_table(results)
    if freeze:
        print("#### Freeze (`Registry::with_static`)\n")
        print(freeze + "\n")
    if args.svg:
        svg(results, args.svg)
        print(f"Chart written to {args.svg}.")


if __name__ == "__main__":
    main()
