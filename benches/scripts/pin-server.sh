#!/usr/bin/env bash
# Runs the bench with the server on a CPU of its own: the whole process (and the server child
# processes of `syscalls_per_message` and `connections`, which inherit it) confined to CPU 0,
# and the load generator moved to the last CPU by `RINGLOOP_BENCH_CLIENT_CPU`. A diagnostic
# for where the server runs: it is not the suite's configuration.
#
# (Before this used `RINGLOOP_BENCH_CLIENT_CPU`, the script moved every other thread to CPU 0
# from outside; the load generator, started by a thread already moved, inherited CPU 0 and
# "pinned itself to the last CPU it may use": CPU 0. Those runs shared one CPU between client
# and server. DESIGN.md labels them so.)
#
#   benches/scripts/pin-server.sh --reps 4 --runtimes ringloop-single,monoio tcp_echo_64
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p ringloop-bench
target_dir="${CARGO_TARGET_DIR:-target}"
last_cpu=$(( $(nproc --all) - 1 ))
if [ "$last_cpu" -lt 1 ]; then
  echo "pin-server.sh needs two CPUs" >&2
  exit 1
fi
RINGLOOP_BENCH_CLIENT_CPU="$last_cpu" exec taskset -c 0 \
  "$target_dir/release/ringloop-bench" --out "$target_dir/ringloop-report-pin-server" "$@"
