#!/usr/bin/env bash
# Instructions executed by the sample threads of BASE's release bench and of the working
# tree's, per workload, under callgrind: deterministic where the wall clock of a shared
# machine is not (one thread's instructions do not depend on what else runs), so a change
# of 1-3% in a single-threaded workload shows. Each count covers the sample threads only
# (runtime build, warm-up, 3 timed repetitions, teardown), through
# `--toggle-collect='*isolate::sample_thread*'`; the calibration and the report are left
# out. Compare only workloads whose samples do the same work in both benches.
#
# usage: benches/scripts/instructions.sh BASE [RUNTIME] -- WORKLOAD...   (from the repository root)
#   e.g. benches/scripts/instructions.sh 8180f01 ringloop-single -- event_broadcast spawn_many
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:?usage: instructions.sh BASE [RUNTIME] -- WORKLOAD...}
shift
runtime=ringloop-single
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  runtime=$1
  shift
fi
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "instructions.sh: name at least one workload after --" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base-tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add --detach "$work/base-tree" "$base" >/dev/null
(cd "$work/base-tree" && CARGO_TARGET_DIR="$work/base-target" cargo build --release -p ringloop-bench)
cp "$work/base-target/release/ringloop-bench" "$work/bench-base"
cargo build --release -p ringloop-bench
cp "$target/release/ringloop-bench" "$work/bench-new"
count() {
  valgrind --tool=callgrind --toggle-collect='*isolate::sample_thread*' \
    --callgrind-out-file="$work/cg.out" "$work/bench-$1" --reps 3 --runtimes "$runtime" "$2" \
    --out "$work/report" >/dev/null 2>&1
  callgrind_annotate "$work/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
echo "| workload | runtime | $base | working tree | change |"
echo "|---|---|---:|---:|---:|"
for workload in "$@"; do
  b=$(count base "$workload")
  n=$(count new "$workload")
  python3 -c "b, n = $b, $n; print(f'| $workload | $runtime | {b:,} | {n:,} | {(n - b) / b * 100:+.2f}% |')"
done
