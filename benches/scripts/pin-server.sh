#!/usr/bin/env bash
# Runs the bench with every thread except the load generator's (`bench-load`, which pins
# itself to the last CPU) moved to CPU 0, re-applied every 20 ms so that the threads each
# sample creates are caught within that time (the first milliseconds of a sample may run
# elsewhere). Covers the server child processes of `syscalls_per_message` and `connections`
# too. A diagnostic for where the server runs: it is not the suite's configuration.
#
#   benches/scripts/pin-server.sh --reps 4 --runtimes ringloop-single,monoio tcp_echo_64
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p ringloop-bench
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$(pwd)/$target_dir" ;; esac
bin="$target_dir/release/ringloop-bench"
"$bin" --out "$target_dir/ringloop-report-pin-server" "$@" &
bench=$!
while kill -0 "$bench" 2>/dev/null; do
  for pid in $(pgrep -f "^$bin" || true); do
    for task in /proc/"$pid"/task/*; do
      [ "$(cat "$task/comm" 2>/dev/null)" = bench-load ] && continue
      taskset -pc 0 "${task##*/}" >/dev/null 2>&1 || true
    done
  done
  sleep 0.02
done
wait "$bench"
