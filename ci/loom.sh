#!/usr/bin/env bash
# The loom models: every crate's in-crate models (unit tests named `loom_*`) and every
# `loom_*` integration test, built with `--cfg loom` in a target directory of their own (so
# the normal build is not invalidated), one cargo invocation per crate so the crate and its
# dependencies are compiled once.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom ${RUSTFLAGS:-}"
# A bound of 4: every model finishes within seconds there, and 2 was too shallow to find the
# parker's lost token (see CHANGELOG, "Fixed"), which 3 finds.
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-4}"
# Release speed, but with the `debug_assert!`s of the state machines on: they are the
# invariants the models check (one caught a join-waker race only the stress test had hit).
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom"
for crate in runtime io sync; do
  pkg="ringloop-$crate"
  # In-crate models: the unit tests whose names contain `loom_`.
  cargo test --release -p "$pkg" --lib -- loom_
  # Model files: every test in each `tests/loom_*.rs`.
  targets=()
  for f in "$crate"/tests/loom_*.rs; do
    [ -e "$f" ] || continue
    targets+=(--test "$(basename "$f" .rs)")
  done
  if [ ${#targets[@]} -gt 0 ]; then
    cargo test --release -p "$pkg" "${targets[@]}"
  fi
done
