#!/usr/bin/env bash
# Formatting, clippy (warnings are errors) over every crate and target, and rustdoc.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The public API docs: broken or ambiguous intra-doc links are errors.
RUSTDOCFLAGS="-D warnings ${RUSTDOCFLAGS:-}" cargo doc --workspace --no-deps --quiet
