#!/usr/bin/env bash
# Runs the benchmark suite with the bench binary built on another global allocator, as
# many servers run: every runtime gets the same one, and the report's header names it.
#
# usage: benches/scripts/with-allocator.sh jemalloc|mimalloc [bench args...]
#   e.g. benches/scripts/with-allocator.sh jemalloc --out target/report-jemalloc
set -euo pipefail
cd "$(dirname "$0")/../.."
allocator=${1:?usage: with-allocator.sh jemalloc|mimalloc [bench args...]}
shift
case "$allocator" in
  jemalloc|mimalloc) ;;
  *) echo "with-allocator.sh: unknown allocator '$allocator' (jemalloc or mimalloc)" >&2; exit 2 ;;
esac
# A target directory of its own: the default build stays as it is, and the report lands in
# target/alloc-<allocator>/ringloop-report unless --out says otherwise.
exec cargo run --release -p ringloop-bench --features "$allocator" \
  --target-dir "target/alloc-$allocator" -- "$@"
