#!/usr/bin/env bash
# Fuzz every file obsctl reads, each for a set time: `scripts/fuzz.sh [SECONDS] [TARGET...]`.
# Not part of CI. Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on the stable toolchain through
# RUSTC_BOOTSTRAP (libFuzzer's sanitizer flags are nightly-only). Crashes land in fuzz/artifacts/<target>/;
# each one becomes a regression test before it is fixed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/fuzz"

seconds="${1:-600}"
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(cargo fuzz list)
fi

export RUSTC_BOOTSTRAP=1
for target in "${targets[@]}"; do
  corpus="corpus/$target"
  mkdir -p "$corpus"
  # Seeds: the malformed inputs the tests refuse, and every shipped file of that kind.
  cp -n seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  case "$target" in
    profile) cp -n "$ROOT"/stacks/*.yaml "$corpus"/ ;;
    catalog) cp -n "$ROOT"/src/cost/catalog.yaml "$corpus"/ ;;
    openslo) cp -n "$ROOT"/tests/fixtures/openslo/*.yaml "$corpus"/ ;;
  esac
  echo "==> fuzz $target for ${seconds}s"
  cargo fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -max_len=65536 -timeout=10 2>&1 |
    tee "$ROOT/fuzz/$target.log" | grep -E '^(#[0-9]+ *DONE|==[0-9]+==|SUMMARY|Done)' || true
  grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$ROOT/fuzz/$target.log" | tail -1 || true
done
