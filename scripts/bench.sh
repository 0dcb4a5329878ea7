#!/usr/bin/env bash
# Benchmarks with hyperfine (from scripts/install-tools.sh), on a release build.
#   scripts/bench.sh            all benchmarks
#   scripts/bench.sh render     `obsctl render` of the production profile (target: < 50 ms)
#   scripts/bench.sh up         `obsctl up` with the fake Helm sleeping per release (target: mean wall
#                               time <= 1.10 x the critical path kube-prometheus-stack -> slower of
#                               Loki/Tempo -> collector)
#   scripts/bench.sh cost       `obsctl cost` of the production profile, JSON (target: < 50 ms) and
#                               with a PNG chart (target: < 100 ms)
#   scripts/bench.sh verify     `obsctl verify` wall time vs its slowest check (target: <= 1.2x)
#   scripts/bench.sh slo        100 SLOs' rules in a real Prometheus: rules per SLO and rule group
#                               evaluation time, next to Sloth-shaped rules on the same series
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

# 100 SLOs over 10 services' synthetic series: 3 days of 1m samples backfilled with promtool, then
# the same counters served live by a small exporter so the rules keep seeing fresh samples.
# obsctl's rules run with 3 days of their base recordings backfilled too (create-blocks-from rules),
# so the 1d/3d windows scan a steady-state history; Sloth-shaped rules (upstream/slo.md §2.2: 8 SLI
# ratios over raw series, 7 metadata rules, 2 alerts) run on the same series in a second
# Prometheus. Needs python3 with PyYAML. Figures: prometheus_rule_group_last_duration_seconds.
slo_pids=()
bench_slo() {
  echo "== SLO rules: 100 SLOs in a real Prometheus (rules per SLO, rule group evaluation time)"
  local d="$work/slo" end start port exporter_port
  mkdir -p "$d"
  trap 'kill "${slo_pids[@]}" 2>/dev/null; cleanup' EXIT
  end=$(( $(date +%s) / 60 * 60 ))
  start=$(( end - 3 * 86400 - 2 * 3600 ))
  python3 - "$d" "$start" "$end" <<'PY'
import sys
d, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
services = [f"svc-{k}" for k in range(10)]
out = open(f"{d}/raw.om", "w")
out.write("# TYPE http_requests counter\n")
for s in services:
    for code, per_min in (("200", 999.5), ("500", 0.5)):
        for i, t in enumerate(range(start, end + 1, 60)):
            out.write(f'http_requests_total{{job="{s}",code="{code}"}} {i * per_min} {t}\n')
out.write("# TYPE http_request_duration_seconds histogram\n")
for s in services:
    for i, t in enumerate(range(start, end + 1, 60)):
        for le, per_min in (("0.25", 900), ("0.5", 990), ("1", 998), ("+Inf", 1000)):
            out.write(f'http_request_duration_seconds_bucket{{job="{s}",le="{le}"}} {i * per_min} {t}\n')
        out.write(f'http_request_duration_seconds_count{{job="{s}"}} {i * 1000} {t}\n')
        out.write(f'http_request_duration_seconds_sum{{job="{s}"}} {i * 120.0} {t}\n')
out.write("# EOF\n")
out.close()
slos = []
for n in range(100):
    s = services[n % 10]
    window = "30d" if n % 4 < 2 else "28d"
    if n % 2 == 0:
        objective = [99.9, 99.5, 99.95, 99][n // 2 % 4]
        indicator = (f'      ratio:\n        errors: http_requests_total{{job="{s}",code=~"5.."}}\n'
                     f'        total: http_requests_total{{job="{s}"}}\n')
    else:
        objective = [95, 99, 97.5][n // 2 % 3]
        threshold = [0.5, 1][n // 2 % 2]
        indicator = (f'      latency:\n        metric: http_request_duration_seconds{{job="{s}"}}\n'
                     f'        threshold: {threshold}\n')
    slos.append(f"  - name: slo-{n:03d}\n    service: {s}\n    objective: {objective}\n    window: {window}\n"
                f"    indicator:\n{indicator}    alerting: {{labels: {{team: t{n % 10}}}}}\n")
open(f"{d}/profile.yaml", "w").write("name: bench\nmetrics: {retention: 30d, scrapeInterval: 30s}\nslos:\n" + "".join(slos))
PY
  "$obsctl" slo rules --format prometheus --profile "$d/profile.yaml" --out "$d/obsctl.yml" 2>/dev/null
  python3 - "$d" <<'PY'
import json, sys, yaml
d = sys.argv[1]
rules = yaml.safe_load(open(f"{d}/obsctl.yml"))
# One group, so the backfill writes one set of blocks rather than one per SLO.
base = [r for g in rules["groups"] for r in g["rules"] if r.get("record", "").endswith(":increase5m")]
json.dump({"groups": [{"name": "base", "rules": base}]}, open(f"{d}/base.yml", "w"))
records = sum(1 for g in rules["groups"] for r in g["rules"] if "record" in r)
alerts = sum(1 for g in rules["groups"] for r in g["rules"] if "alert" in r)
print(f"obsctl: {records / 100:g} recording rules + {alerts / 100:g} alerts per SLO ({records + alerts} rules, {len(rules['groups'])} groups)")
# Sloth's shape per SLO (v0.16 default plugins): 8 SLI ratios (5m…3d raw, 30d "optimized"), 7 metadata, 2 alerts.
profile = yaml.safe_load(open(f"{d}/profile.yaml"))
groups = []
for slo in profile["slos"]:
    ind = slo["indicator"]
    if "ratio" in ind:
        err, tot = ind["ratio"]["errors"], ind["ratio"]["total"]
        e = lambda w: f"(sum(rate({err}[{w}])))/(sum(rate({tot}[{w}])))"
    else:
        m, name = ind["latency"]["metric"], ind["latency"]["metric"].split("{")[0]
        sel = m[len(name):]
        le = str(ind["latency"]["threshold"])
        bucket = f'{name}_bucket{sel[:-1]},le="{le}"}}'
        count = f"{name}_count{sel}"
        e = lambda w: f"(sum(rate({count}[{w}])) - sum(rate({bucket}[{w}])))/(sum(rate({count}[{w}])))"
    sid = f'{slo["service"]}-{slo["name"]}'
    lab = {"sloth_id": sid, "sloth_service": slo["service"], "sloth_slo": slo["name"]}
    sel = f'{{sloth_id="{sid}",sloth_service="{slo["service"]}",sloth_slo="{slo["name"]}"}}'
    period = slo["window"]
    sli = [{"record": f"slo:sli_error:ratio_rate{w}", "expr": e(w), "labels": {**lab, "sloth_window": w}}
           for w in ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]]
    sli.append({"record": f"slo:sli_error:ratio_rate{period}",
                "expr": f"sum_over_time(slo:sli_error:ratio_rate5m{sel}[{period}]) / ignoring (sloth_window) count_over_time(slo:sli_error:ratio_rate5m{sel}[{period}])",
                "labels": {**lab, "sloth_window": period}})
    budget = round(1 - slo["objective"] / 100, 10)
    meta = [
        {"record": "slo:objective:ratio", "expr": f'vector({slo["objective"] / 100})', "labels": lab},
        {"record": "slo:error_budget:ratio", "expr": f"vector({budget})", "labels": lab},
        {"record": "slo:time_period:days", "expr": f"vector({period[:-1]})", "labels": lab},
        {"record": "slo:current_burn_rate:ratio", "expr": f"slo:sli_error:ratio_rate5m{sel} / on(sloth_id, sloth_slo, sloth_service) group_left slo:error_budget:ratio{sel}", "labels": lab},
        {"record": "slo:period_burn_rate:ratio", "expr": f"slo:sli_error:ratio_rate{period}{sel} / on(sloth_id, sloth_slo, sloth_service) group_left slo:error_budget:ratio{sel}", "labels": lab},
        {"record": "slo:period_error_budget_remaining:ratio", "expr": f"1 - slo:period_burn_rate:ratio{sel}", "labels": lab},
        {"record": "sloth_slo_info", "expr": "vector(1)", "labels": {**lab, "sloth_objective": str(slo["objective"])}},
    ]
    def cond(w_short, w_long, f):
        return (f"(max(slo:sli_error:ratio_rate{w_short}{sel} > ({f} * {budget})) without (sloth_window)"
                f" and max(slo:sli_error:ratio_rate{w_long}{sel} > ({f} * {budget})) without (sloth_window))")
    alerts = [
        {"alert": "SLOBurn", "expr": cond("5m", "1h", 14.4) + " or " + cond("30m", "6h", 6), "labels": {"sloth_severity": "page"}},
        {"alert": "SLOBurn", "expr": cond("2h", "1d", 3) + " or " + cond("6h", "3d", 1), "labels": {"sloth_severity": "ticket"}},
    ]
    groups += [{"name": f"sloth-slo-sli-recordings-{sid}", "rules": sli},
               {"name": f"sloth-slo-meta-recordings-{sid}", "rules": meta},
               {"name": f"sloth-slo-alerts-{sid}", "rules": alerts}]
json.dump({"groups": groups}, open(f"{d}/sloth.yml", "w"))
print(f"Sloth-shaped: 15 recording rules + 2 alerts per SLO ({17 * 100} rules, {len(groups)} groups)")
PY
  promtool check rules "$d/obsctl.yml" | grep -E "SUCCESS|FAILED"
  # Sloth's page and ticket alerts share a name across SLOs (the series labels tell them apart).
  promtool check rules --lint=none "$d/sloth.yml" | grep -E "SUCCESS|FAILED"
  # The live continuation of the backfilled counters (same rates, same origin).
  exporter_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 - "$start" "$exporter_port" <<'PY' &
import http.server, sys, time
start, port = int(sys.argv[1]), int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        i = (time.time() - start) / 60
        lines = []
        for k in range(10):
            s = f"svc-{k}"
            lines += [f'http_requests_total{{job="{s}",code="200"}} {i * 999.5}',
                      f'http_requests_total{{job="{s}",code="500"}} {i * 0.5}']
            for le, per_min in (("0.25", 900), ("0.5", 990), ("1", 998), ("+Inf", 1000)):
                lines.append(f'http_request_duration_seconds_bucket{{job="{s}",le="{le}"}} {i * per_min}')
            lines += [f'http_request_duration_seconds_count{{job="{s}"}} {i * 1000}',
                      f'http_request_duration_seconds_sum{{job="{s}"}} {i * 120.0}']
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
  slo_pids+=($!)
  echo "backfilling 3 days of raw series..."
  promtool tsdb create-blocks-from openmetrics -q "$d/raw.om" "$d/raw" >/dev/null
  prom_start() { # data dir, rule file -> sets port and pid
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # The exporter's series keep exactly the labels they were backfilled with.
    printf 'global:\n  evaluation_interval: 10s\n  scrape_interval: 15s\nrule_files: [%s]\nscrape_configs:\n- job_name: synthetic\n  honor_labels: true\n  static_configs: [{targets: ["127.0.0.1:%s"]}]\n  metric_relabel_configs: [{action: labeldrop, regex: instance}]\n' \
      "${2:-}" "$exporter_port" >"$1.yml"
    prometheus --config.file="$1.yml" --storage.tsdb.path="$1" --storage.tsdb.retention.time=90d \
      --web.listen-address="127.0.0.1:$port" --log.level=error >/dev/null 2>&1 &
    pid=$!
    slo_pids+=("$pid")
    for _ in $(seq 1 240); do curl -sf --max-time 5 "http://127.0.0.1:$port/-/ready" >/dev/null && return 0; sleep 0.5; done
    echo "prometheus did not start" >&2; return 1
  }
  prom_stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  # Backfills leave many small (and, from create-blocks-from rules, overlapping: one per rule and
  # 2h) blocks; a long-running Prometheus would have compacted them. Let it, before measuring.
  compact() { # data dir
    prom_start "$1"
    local blocks=""
    for _ in $(seq 1 60); do
      blocks=$(curl -sf --max-time 10 "http://127.0.0.1:$port/metrics" | awk '/^prometheus_tsdb_blocks_loaded /{print $2}')
      [[ -n "$blocks" && "$blocks" -lt 20 ]] && break
      sleep 10
    done
    echo "compacted $1 to ${blocks:-?} blocks"
    prom_stop
  }
  prom_start "$d/raw"
  echo "backfilling 3 days of obsctl's base recordings (30s steps)..."
  promtool tsdb create-blocks-from rules -q --url="http://127.0.0.1:$port" --start=$(( start + 600 )) --end="$end" \
    --eval-interval=30s --output-dir="$d/recorded" "$d/base.yml" >"$d/backfill.log" 2>&1
  prom_stop
  measure() { # label, data dir, rule file
    prom_start "$2" "$3"
    echo "evaluating $1 for 2 minutes..."
    sleep 60
    curl -sf --max-time 30 "http://127.0.0.1:$port/metrics" >"$d/$1.before"
    sleep 60
    curl -sf --max-time 30 "http://127.0.0.1:$port/metrics" >"$d/$1.metrics"
    prom_stop
    python3 - "$1" "$d/$1.metrics" "$d/$1.before" <<'PY'
import sys
label, path, before = sys.argv[1], sys.argv[2], sys.argv[3]
def value(p, name):
    return next(float(l.rsplit(" ", 1)[1]) for l in open(p) if l.startswith(name + " "))
cpu = (value(path, "process_cpu_seconds_total") - value(before, "process_cpu_seconds_total")) / 60
last, rules = {}, {}
for line in open(path):
    if line.startswith("prometheus_rule_group_last_duration_seconds{"):
        last[line.split('rule_group="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
    if line.startswith("prometheus_rule_group_rules{"):
        rules[line.split('rule_group="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
total = sum(last.values())
slowest = max(last.items(), key=lambda kv: kv[1])
budget = sum(v for k, v in last.items() if k.endswith("-budget"))
print(f"{label}: {len(last)} groups, {sum(rules.values()):g} rules; last evaluation of all groups "
      f"{total * 1000:.1f} ms in sum ({total * 10:.2f} ms per SLO), slowest group {slowest[0]} {slowest[1] * 1000:.1f} ms"
      + (f"; of which the 2m budget groups {budget * 1000:.1f} ms" if budget else "")
      + f"; Prometheus CPU over the last minute {cpu:.2f} cores")
PY
  }
  mkdir -p "$d/obsctl-data" "$d/sloth-data"
  cp -r "$d/raw/." "$d/recorded/." "$d/obsctl-data/"
  cp -r "$d/raw/." "$d/sloth-data/"
  compact "$d/obsctl-data"
  compact "$d/sloth-data"
  measure obsctl "$d/obsctl-data" "$d/obsctl.yml"
  measure sloth "$d/sloth-data" "$d/sloth.yml"
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
  cost) bench_cost ;;
  verify) bench_verify ;;
  slo) bench_slo ;;
  all) bench_render; bench_up; bench_cost; bench_verify; bench_slo ;;
  *) echo "unknown benchmark: $which (known: render, up, cost, verify, slo)" >&2; exit 2 ;;
esac
