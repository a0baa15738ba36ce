#!/usr/bin/env bash
# The loom models: every `loom_*` test target of every crate, built with `--cfg loom` in a
# target directory of their own (so the normal build is not invalidated).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom ${RUSTFLAGS:-}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom"
for crate in runtime io sync; do
  pkg="ringloop-$crate"
  # In-crate models (unit tests under cfg(loom)).
  cargo test --release -p "$pkg" --lib loom_
  for f in "$crate"/tests/loom_*.rs; do
    [ -e "$f" ] || continue
    cargo test --release -p "$pkg" --test "$(basename "$f" .rs)"
  done
done
