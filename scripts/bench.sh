#!/usr/bin/env bash
# Benchmarks with hyperfine (from scripts/install-tools.sh), on a release build.
#   scripts/bench.sh            all benchmarks
#   scripts/bench.sh render     `obsctl render` of the production profile (target: < 50 ms)
#   scripts/bench.sh cost       `obsctl cost` of the production profile, JSON (target: < 50 ms) and
#                               with a PNG chart (target: < 100 ms)
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

bench_cost() {
  echo "== obsctl cost --profile production (targets: JSON mean < 50 ms, with --chart PNG < 100 ms)"
  hyperfine --warmup 5 --runs 50 --export-json "$work/cost.json" \
    "$obsctl cost --profile production --output json" \
    "$obsctl cost --profile production --output json --chart $work/cost.png"
  python3 - "$work/cost.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
ok = True
for r, name, target in zip(results, ["cost production (json)", "cost production (json + png chart)"], [50, 100]):
    mean_ms = r["mean"] * 1000
    passed = mean_ms < target
    ok = ok and passed
    print(f"{name}: mean {mean_ms:.1f} ms, max {r['max']*1000:.1f} ms -> {'PASS' if passed else 'FAIL'} (< {target} ms)")
sys.exit(0 if ok else 1)
PY
}

bench_verify() {
  # Real Prometheus and Alertmanager, fakes with set delays: benches/verify.rs.
  cargo bench --quiet --bench verify
}

case "$which" in
  render) bench_render ;;
  cost) bench_cost ;;
  verify) bench_verify ;;
  all) bench_render; bench_cost; bench_verify ;;
  *) echo "unknown benchmark: $which (known: render, cost, verify)" >&2; exit 2 ;;
esac
