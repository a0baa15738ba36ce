#!/usr/bin/env bash
# The benchmark suite's quick run: every workload on every runtime, a smoke test of the
# comparison (its figures are not checked here; BENCHMARKS.md has the full run). --strict
# fails the run if any sample panicked, hung or errored.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -p ringloop-bench -- --quick --strict
