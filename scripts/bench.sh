#!/usr/bin/env bash
# Benchmarks with hyperfine (from scripts/install-tools.sh), on a release build.
#   scripts/bench.sh            all benchmarks
#   scripts/bench.sh render     `obsctl render` of the production profile (target: < 50 ms)
#   scripts/bench.sh verify     `obsctl verify` wall time vs its slowest check (target: <= 1.2x)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-tools.sh" >/dev/null
export PATH="$root/.tools/bin:$PATH"
cargo build --release --quiet
obsctl="$root/target/release/obsctl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
which=${1:-all}

bench_render() {
  echo "== obsctl render --profile production (target: mean < 50 ms)"
  hyperfine --warmup 5 --runs 50 --export-json "$work/render.json" \
    "$obsctl render --profile production --out $work/render-out"
  python3 - "$work/render.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
mean_ms = r["mean"] * 1000
print(f"render production: mean {mean_ms:.1f} ms, max {r['max']*1000:.1f} ms -> {'PASS' if mean_ms < 50 else 'FAIL'} (< 50 ms)")
sys.exit(0 if mean_ms < 50 else 1)
PY
}

bench_verify() {
  # Real Prometheus and Alertmanager, fakes with set delays: benches/verify.rs.
  cargo bench --quiet --bench verify
}

case "$which" in
  render) bench_render ;;
  verify) bench_verify ;;
  all) bench_render; bench_verify ;;
  *) echo "unknown benchmark: $which (known: render, verify)" >&2; exit 2 ;;
esac
