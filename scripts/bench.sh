#!/usr/bin/env bash
# Benchmarks with hyperfine (from scripts/install-tools.sh), on a release build.
#   scripts/bench.sh            all benchmarks
#   scripts/bench.sh render     `obsctl render` of the production profile (target: < 50 ms)
#   scripts/bench.sh up         `obsctl up` with the fake Helm sleeping per release (target: mean wall
#                               time <= 1.10 x the critical path kube-prometheus-stack -> slower of
#                               Loki/Tempo -> collector)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-tools.sh" >/dev/null
export PATH="$root/.tools/bin:$PATH"
cargo build --release --quiet
obsctl="$root/target/release/obsctl"
work=$(mktemp -d)
api_pid=""
cleanup() {
  if [[ -n "$api_pid" ]]; then kill "$api_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
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

bench_up() {
  # Helm's work is simulated by sleeps (the fake Helm is bash: a call costs a few ms); everything
  # else (helm version/list/show crds, the Kubernetes API calls, scheduling) is obsctl's real cost,
  # against a local fake API (`python3` resolved once, so no pyenv-style shim sits in between).
  local kps=3 loki=2 tempo=2 collector=0.5
  local critical
  critical=$(python3 -c "print($kps + max($loki, $tempo) + $collector)")
  echo "== obsctl up, fake Helm sleeping ${kps}s (kube-prometheus-stack), ${loki}s (loki), ${tempo}s (tempo), ${collector}s (otel-collector)"
  echo "   critical path ${critical}s (target: mean <= 1.10 x critical path)"
  local fake="$root/tests/fixtures/fake-helm"
  local py
  py=$(python3 -c 'import sys; print(sys.executable)')
  "$py" "$fake/kube_api.py" >"$work/kube-port" &
  api_pid=$!
  for _ in $(seq 100); do
    [[ -s "$work/kube-port" ]] && break
    sleep 0.05
  done
  [[ -s "$work/kube-port" ]] || { echo "the fake Kubernetes API did not start" >&2; exit 1; }
  local port
  port=$(cat "$work/kube-port")
  printf '%s\n' \
    "apiVersion: v1" "kind: Config" "current-context: bench" \
    "clusters: [{name: bench, cluster: {server: \"http://127.0.0.1:$port\"}}]" \
    "users: [{name: bench, user: {token: bench}}]" \
    "contexts: [{name: bench, context: {cluster: bench, user: bench}}]" >"$work/kubeconfig"
  # A fresh fake Helm state per run: every run installs all four releases.
  FAKE_HELM_STATE="$work/helm-state" KUBECONFIG="$work/kubeconfig" \
    FAKE_HELM_SLEEP="kube-prometheus-stack=$kps,loki=$loki,tempo=$tempo,otel-collector=$collector" \
    hyperfine --runs 5 --export-json "$work/up.json" \
    --prepare "rm -rf $work/helm-state && mkdir $work/helm-state" \
    "$obsctl up --yes --profile dev --helm $fake/helm"
  python3 - "$work/up.json" "$critical" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
critical = float(sys.argv[2])
ratio = r["mean"] / critical
print(f"up: mean {r['mean']:.3f} s, max {r['max']:.3f} s, critical path {critical:.2f} s -> "
      f"{ratio:.3f} x ({'PASS' if ratio <= 1.10 else 'FAIL'}, <= 1.10 x)")
sys.exit(0 if ratio <= 1.10 else 1)
PY
}

case "$which" in
  render) bench_render ;;
  up) bench_up ;;
  all) bench_render; bench_up ;;
  *) echo "unknown benchmark: $which (known: render, up)" >&2; exit 2 ;;
esac
