#!/usr/bin/env bash
# Runs benchmark workloads with the whole bench process (load generator and server alike)
# confined to CPU 0, so that where the kernel places the server thread cannot change the
# figures. On two shared CPUs the echo figures swing by ±20% with that placement (see
# BENCHMARKS.md); on one CPU they repeat to within a few percent, which makes this the
# configuration for comparing the single-threaded runtimes' cost per message. The load
# generator pins itself to the last CPU it may use, here CPU 0 too, and the report then says
# "1 CPUs". Not the suite's configuration: use it next to the suite, never instead of it.
#
#   benches/scripts/one-cpu.sh --reps 5 --runtimes ringloop-single,monoio,tokio-current \
#       tcp_echo_64 syscalls_per_message
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p ringloop-bench
bin="${CARGO_TARGET_DIR:-target}/release/ringloop-bench"
exec taskset -c 0 "$bin" --out "${CARGO_TARGET_DIR:-target}/ringloop-report-one-cpu" "$@"
