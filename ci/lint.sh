#!/usr/bin/env bash
# Formatting and clippy (warnings are errors) over every crate and target.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
