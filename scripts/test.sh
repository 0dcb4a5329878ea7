#!/usr/bin/env bash
# The project's test command: tools, formatting, lints, tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

stage() { printf '\n==> %s\n' "$*"; }

stage "install tools"
bash scripts/install-tools.sh
export PATH="$ROOT/.tools/bin:$PATH"

stage "cargo fmt --check"
cargo fmt --check

stage "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

stage "cargo test --all-targets"
cargo test --all-targets

if [[ -f src/lib.rs ]]; then
  stage "cargo test --doc"
  cargo test --doc
fi

stage "all checks passed"
