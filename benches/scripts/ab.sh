#!/usr/bin/env bash
# Interleaved A/B of the suite: the release bench of BASE (any git revision) against the
# working tree's, run alternately ROUNDS times with the same arguments, the first side
# alternating too (base new, new base, base new, ...: a fixed order biased one run, where
# tokio, the same code on both sides, ran 2-9% slower on the second side). Then one row per
# ringloop figure: the medians over the rounds, new/base per round, the ratio of the pooled
# samples' medians (every round's samples of a side together) with a 95% bootstrap
# interval, and new/base divided by tokio's new/base in the same runs (the same flavour),
# which cancels the drift of a shared machine.
#
# usage: benches/scripts/ab.sh BASE [ROUNDS] [-- bench args...]   (from the repository root)
#   e.g. benches/scripts/ab.sh 8180f01 3
#        benches/scripts/ab.sh 8180f01 4 -- --runtimes ringloop-single,tokio-current timers
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:?usage: ab.sh BASE [ROUNDS] [-- bench args...]}
shift
rounds=3
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  rounds=$1
  shift
fi
[ "${1:-}" = "--" ] && shift
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base-tree" >/dev/null 2>&1 || true; rm -rf "$work/base-target"' EXIT
git worktree add --detach "$work/base-tree" "$base" >/dev/null
(cd "$work/base-tree" && CARGO_TARGET_DIR="$work/base-target" cargo build --release -p ringloop-bench)
cp "$work/base-target/release/ringloop-bench" "$work/bench-base"
cargo build --release -p ringloop-bench
cp "$target/release/ringloop-bench" "$work/bench-new"
for round in $(seq 1 "$rounds"); do
  order="base new"
  [ $((round % 2)) -eq 0 ] && order="new base"
  for side in $order; do
    "$work/bench-$side" "$@" --json "$work/r${round}_$side.json" --out "$work/report_${round}_$side" \
      >"$work/r${round}_$side.log" 2>&1
    echo "round $round $side done ($(date +%T))"
  done
done
python3 "$(dirname "$0")/ab_table.py" "$work"
echo "raw results: $work"
