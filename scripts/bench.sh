#!/usr/bin/env bash
# Runs every benchmark of BENCHMARKS.md and prints its tables; writes docs/lookup.svg.
#
#   scripts/bench.sh            # 5 runs of the lookup and freeze benches, then compile time
#   RUNS=9 scripts/bench.sh     # more runs on a noisy machine
#
# Raw divan output is kept in ${CARGO_TARGET_DIR:-target}/bench-results/.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-5}
out="${CARGO_TARGET_DIR:-target}/bench-results"
mkdir -p "$out" docs
rm -f "$out"/run-*.txt

lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|L1d|L2|L3)' | sed 's/  */ /g'
cargo bench --bench lookup --bench freeze --no-run --quiet
for i in $(seq "$runs"); do
    echo "run $i of $runs" >&2
    cargo bench --quiet --bench lookup --bench freeze >"$out/run-$i.txt"
    # The machine's load while it ran: other processes make figures noisier.
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/run-$i.txt" >&2
done
python3 scripts/bench_report.py --svg docs/lookup.svg "$out"/run-*.txt
python3 scripts/compile_time.py
