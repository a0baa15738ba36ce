#!/usr/bin/env bash
# Interleaved A/B of one environment variable: the working tree's release bench run
# alternately ROUNDS times with VAR=BASE and VAR=NEW (the first side alternating too, as in
# ab.sh), then ab.sh's table (ab_table.py): per ringloop figure, new/base per round, the
# pooled ratio with a 95% bootstrap interval, and the ratio against tokio's (which ignores
# the RINGLOOP_BENCH_* variables, so it is the control).
#
# usage: benches/scripts/env-ab.sh VAR BASE NEW [ROUNDS] [-- bench args...]   (from the repository root)
#   e.g. benches/scripts/env-ab.sh RINGLOOP_BENCH_BATCH_WAIT_US 0 20 2 -- \
#          --runtimes ringloop-multi,ringloop-single,tokio-multi,tokio-current --reps 5 tcp_echo_64
set -euo pipefail
cd "$(dirname "$0")/../.."
var=${1:?usage: env-ab.sh VAR BASE NEW [ROUNDS] [-- bench args...]}
base_value=${2:?usage: env-ab.sh VAR BASE NEW [ROUNDS] [-- bench args...]}
new_value=${3:?usage: env-ab.sh VAR BASE NEW [ROUNDS] [-- bench args...]}
shift 3
rounds=2
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  rounds=$1
  shift
fi
[ "${1:-}" = "--" ] && shift
target=${CARGO_TARGET_DIR:-target}
work=$(mktemp -d)
cargo build --release -p ringloop-bench
cp "$target/release/ringloop-bench" "$work/bench"
for round in $(seq 1 "$rounds"); do
  order="base new"
  [ $((round % 2)) -eq 0 ] && order="new base"
  for side in $order; do
    value=$base_value
    [ "$side" = new ] && value=$new_value
    env "$var=$value" "$work/bench" "$@" --json "$work/r${round}_$side.json" \
      --out "$work/report_${round}_$side" >"$work/r${round}_$side.log" 2>&1
    echo "round $round $side ($var=$value) done ($(date +%T))"
  done
done
echo "base: $var=$base_value, new: $var=$new_value"
python3 "$(dirname "$0")/ab_table.py" "$work"
echo "raw results: $work"
