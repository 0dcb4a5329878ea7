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
#   scripts/bench.sh slo        SLO rules at ~10, ~1,000 and ~10,000 series per selector in one real
#                               Prometheus with Sloth-shaped rules on the same series: rule group
#                               evaluation time per SLO (target: obsctl <= 0.8 x Sloth) and samples
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-tools.sh" >/dev/null
export PATH="$root/.tools/bin:$PATH"
# OBSCTL=path uses a binary already built (e.g. for `slo`, where only Prometheus is timed).
if [[ -z "${OBSCTL:-}" ]]; then cargo build --release --quiet; fi
obsctl=${OBSCTL:-$root/target/release/obsctl}
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

# SLO rule cost at three cardinalities behind each SLO's selectors (~10, ~1,000, ~10,000 series),
# in a steady state: every window either rule set reads holds data for its whole length.
# Per cardinality: ratio SLOs (99.9%/30d, 99%/28d, 99.5%/30d, 99.95%/30d, 99.9%/28d, repeated;
# SLO_COUNT, default 10, and 4 at ~10,000 so that Sloth's 3d scans fit its 30s interval on a small
# machine) on one job whose series are split over pods and codes (half the pods answer 500 at
# 1/2000 of the rate). History, backfilled with promtool at the 30s scrape interval:
# - the raw counters over SLO_HISTORY_HOURS (default 73: Sloth's longest raw window, 3d, and an
#   hour), then served live by a small exporter;
# - the recorded series both rule sets read over long ranges (obsctl's 5m increases, Sloth's 5m
#   ratio, which its 30d window averages) over 30 days, at the values the rules give for this
#   steady traffic (writing them directly: a 30d rule backfill at 10,000 series would take hours).
# ONE Prometheus per cardinality evaluates both rule sets (obsctl's, and Sloth-shaped ones:
# upstream/slo.md §2.2, 8 SLI windows, 7 metadata rules, 2 alerts) on the same series, at
# kube-prometheus-stack's defaults as obsctl deploys them (scrape and evaluation every 30s), after
# a first start that lets the TSDB compact the backfilled blocks.
# Figures, per rule set: the sum of prometheus_rule_group_last_duration_seconds over its groups,
# averaged over SLO_POLLS (default 6) polls 31s apart after a 90s warm-up, per SLO; the same
# with each group's duration divided by its interval (CPU seconds per second of wall time: obsctl's
# SLO-window group runs every 2m); samples appended per evaluation.
# Needs python3 with PyYAML.
slo_pids=()
bench_slo() {
  local hours=${SLO_HISTORY_HOURS:-73} polls=${SLO_POLLS:-6}
  echo "== SLO rules: obsctl vs Sloth-shaped, one Prometheus per cardinality, ${hours}h of raw and 30d of recorded history, 30s evaluation"
  trap 'kill "${slo_pids[@]}" 2>/dev/null; cleanup' EXIT
  local n count
  for n in ${SLO_CARDINALITIES:-10 1000 10000}; do
    count=${SLO_COUNT:-$([[ $n -ge 10000 ]] && echo 4 || echo 10)}
    bench_slo_at "$n" "$hours" "$polls" "$count"
  done
  python3 - "$work"/slo-*/result.json <<'PY'
import json, sys
rows = [json.load(open(p)) for p in sys.argv[1:]]
rows.sort(key=lambda r: r["series"])
print()
print("| series per selector | SLOs | obsctl ms/SLO | Sloth ms/SLO | obsctl / Sloth | obsctl / Sloth, per interval | samples/eval obsctl | samples/eval Sloth | polls |")
print("|---|---|---|---|---|---|---|---|---|")
ok = True
for r in rows:
    ratio = r["obsctl_ms"] / r["sloth_ms"]
    ok = ok and ratio <= 0.8
    print(f'| {r["series"]} | {r["slos"]} | {r["obsctl_ms"]:.2f} | {r["sloth_ms"]:.2f} | {ratio:.2f} | '
          f'{r["obsctl_load"] / r["sloth_load"]:.2f} | {r["obsctl_samples"]:g} | {r["sloth_samples"]:g} | {r["polls"]} |')
print(f"target obsctl <= 0.8 x Sloth at every cardinality (sum of last durations): {'PASS' if ok else 'FAIL'}")
PY
}

bench_slo_at() { # series per selector, hours of raw history, polls, SLOs
  local series=$1 hours=$2 polls=$3 count=$4
  local d="$work/slo-$series" end port exporter_port pid
  mkdir -p "$d"
  end=$(( $(date +%s) / 30 * 30 ))
  echo "-- ~$series series per selector, $count SLOs"
  python3 - "$d" "$end" "$series" "$count" <<'PY'
import sys
d, end, n, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
objectives = [(99.9, "30d"), (99, "28d"), (99.5, "30d"), (99.95, "30d"), (99.9, "28d")]
slos = "".join(
    f"  - name: slo-{k}\n    service: svc\n    objective: {o}\n    window: {w}\n    indicator:\n      ratio:\n"
    f'        errors: http_requests_total{{job="svc",code=~"5.."}}\n        total: http_requests_total{{job="svc"}}\n'
    for k, (o, w) in ((k, objectives[k % len(objectives)]) for k in range(count)))
open(f"{d}/profile.yaml", "w").write("name: bench\nmetrics: {retention: 30d, scrapeInterval: 30s}\nslos:\n" + slos)
PY
  "$obsctl" slo rules --format prometheus --profile "$d/profile.yaml" --out "$d/obsctl.yml" 2>/dev/null
  python3 - "$d" "$end" "$series" "$hours" <<'PY'
import json, sys, yaml
d, end, n, hours = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rules = yaml.safe_load(open(f"{d}/obsctl.yml"))
profile = yaml.safe_load(open(f"{d}/profile.yaml"))
pods = max(1, n // 2)
rates = (("200", 1000.0), ("500", 0.5))  # per minute, per pod
groups = []
recorded = []  # (series text, value) written over 30d
for slo in profile["slos"]:
    err, tot = slo["indicator"]["ratio"]["errors"], slo["indicator"]["ratio"]["total"]
    e = lambda w: f"(sum(rate({err}[{w}])))/(sum(rate({tot}[{w}])))"
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
    # What the rules record for this traffic: 5m increases (obsctl), the 5m error ratio (Sloth).
    name = slo["name"]
    recorded += [(f'slo:errors:increase5m{{slo="{name}"}}', pods * 0.5 * 5),
                 (f'slo:total:increase5m{{slo="{name}"}}', pods * 1000.5 * 5),
                 (f'slo:sli_error:ratio_rate5m{{sloth_id="{sid}",sloth_service="{slo["service"]}",sloth_slo="{name}",sloth_window="5m"}}', 0.5 / 1000.5)]
json.dump({"groups": groups}, open(f"{d}/sloth.yml", "w"))
count = lambda rs, k: sum(1 for g in rs["groups"] for r in g["rules"] if k in r)
k = len(profile["slos"])
print(f"obsctl: {count(rules, 'record') / k:g} recording rules + {count(rules, 'alert') / k:g} alerts per SLO; "
      f"Sloth-shaped: {count({'groups': groups}, 'record') / k:g} + {count({'groups': groups}, 'alert') / k:g}")
# One file per aligned 2h block: promtool parses its whole input once per 2h block it spans.
import os
os.makedirs(f"{d}/om")
raw_start, rec_start, block = end - hours * 3600, end - 30 * 86400, 7200
for b in range(rec_start // block * block, end + 1, block):
    lo, hi = max(b, rec_start), min(b + block - 1, end)
    with open(f"{d}/om/{b}.om", "w") as out:
        if hi >= raw_start:
            out.write("# TYPE http_requests counter\n")
            first = max(lo, raw_start)
            first += (raw_start - first) % 30
            for p in range(pods):
                for code, per_min in rates:
                    lab = f'http_requests_total{{job="svc",pod="p{p}",code="{code}"}} '
                    out.write("".join(f"{lab}{(t - raw_start) / 60 * per_min} {t}\n" for t in range(first, hi + 1, 30)))
        first = lo + (rec_start - lo) % 30
        for text, value in recorded:
            out.write("".join(f"{text} {value} {t}\n" for t in range(first, hi + 1, 30)))
        out.write("# EOF\n")
PY
  promtool check rules "$d/obsctl.yml" | grep -E "SUCCESS|FAILED"
  # Sloth's page and ticket alerts share a name across SLOs (the series labels tell them apart).
  promtool check rules --lint=none "$d/sloth.yml" | grep -E "SUCCESS|FAILED"
  exporter_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 - "$(( end - hours * 3600 ))" "$exporter_port" "$series" <<'PY' &
import http.server, sys, time
start, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pods = max(1, n // 2)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        i = (time.time() - start) / 60
        body = "".join(f'http_requests_total{{job="svc",pod="p{p}",code="{c}"}} {i * r}\n'
                       for p in range(pods) for c, r in (("200", 1000.0), ("500", 0.5))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
  slo_pids+=($!)
  local exporter_pid=$!
  local t0=$SECONDS size
  size=$(du -sh "$d/om" | cut -f1)
  find "$d/om" -name '*.om' -print0 |
    xargs -0 -P 2 -I{} sh -c 'promtool tsdb create-blocks-from openmetrics -q "$1" "$2" >/dev/null && rm "$1"' _ {} "$d/data"
  echo "backfilled $size of OpenMetrics in $(( SECONDS - t0 ))s"
  rm -rf "$d/om"
  prom_start() { # data dir, rule files
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # The exporter's series keep exactly the labels they were backfilled with.
    printf 'global:\n  evaluation_interval: 30s\n  scrape_interval: 30s\nrule_files: [%s]\nscrape_configs:\n- job_name: synthetic\n  honor_labels: true\n  static_configs: [{targets: ["127.0.0.1:%s"]}]\n  metric_relabel_configs: [{action: labeldrop, regex: instance}]\n' \
      "${2:-}" "$exporter_port" >"$1.yml"
    prometheus --config.file="$1.yml" --storage.tsdb.path="$1" --storage.tsdb.retention.time=90d \
      --web.listen-address="127.0.0.1:$port" --log.level=error >/dev/null 2>&1 &
    pid=$!
    slo_pids+=("$pid")
    for _ in $(seq 1 240); do curl -sf --max-time 5 "http://127.0.0.1:$port/-/ready" >/dev/null && return 0; sleep 0.5; done
    echo "prometheus did not start" >&2; return 1
  }
  prom_stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  metric() { curl -sf --max-time 30 "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
  # The TSDB compacts the backfilled 2h blocks a minute after it starts: let it finish first.
  prom_start "$d/data"
  local blocks=0 stable=0
  t0=$SECONDS
  while (( stable < 3 && SECONDS - t0 < 900 )); do
    sleep 20
    local now_blocks
    now_blocks=$(metric prometheus_tsdb_blocks_loaded)
    if [[ "$(metric prometheus_tsdb_compactions_triggered_total)" != "0" && "$now_blocks" == "$blocks" ]]; then
      stable=$(( stable + 1 ))
    else
      stable=0
    fi
    blocks=$now_blocks
  done
  echo "compacted to $blocks blocks in $(( SECONDS - t0 ))s"
  prom_stop
  prom_start "$d/data" "\"$d/obsctl.yml\", \"$d/sloth.yml\""
  echo "evaluating both rule sets: 90s warm-up, then $polls polls..."
  sleep 90
  local k
  for k in $(seq 1 "$polls"); do
    curl -sf --max-time 30 "http://127.0.0.1:$port/metrics" >"$d/poll-$k.metrics"
    sleep 31
  done
  curl -sf --max-time 30 "http://127.0.0.1:$port/api/v1/rules" >"$d/rules.json"
  prom_stop
  kill "$exporter_pid" 2>/dev/null || true
  python3 - "$d" "$series" "$polls" "$count" <<'PY'
import json, sys
d, series, polls, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def groups(path, metric):
    out = {}
    for line in open(path):
        if line.startswith(metric + "{"):
            out[line.split('rule_group="')[1].split('"')[0]] = float(line.rsplit(" ", 1)[1])
    return out
def side(name):
    return "sloth" if name.rsplit(";", 1)[-1].startswith("sloth-") else "obsctl"
intervals = {f'{g["file"]};{g["name"]}': g["interval"] for g in json.load(open(f"{d}/rules.json"))["data"]["groups"]}
sums = {"obsctl": [], "sloth": []}
loads = {"obsctl": [], "sloth": []}
for k in range(1, polls + 1):
    last = groups(f"{d}/poll-{k}.metrics", "prometheus_rule_group_last_duration_seconds")
    for s in sums:
        sums[s].append(sum(v for g, v in last.items() if side(g) == s))
        loads[s].append(sum(v / intervals[g] for g, v in last.items() if side(g) == s))
samples = {"obsctl": 0.0, "sloth": 0.0}
for g, v in groups(f"{d}/poll-{polls}.metrics", "prometheus_rule_group_last_evaluation_samples").items():
    samples[side(g)] += v
missed = sum(groups(f"{d}/poll-{polls}.metrics", "prometheus_rule_group_iterations_missed_total").values())
mean = lambda xs: sum(xs) / len(xs)
r = {"series": series, "slos": count, "polls": polls, "missed": missed,
     "obsctl_ms": mean(sums["obsctl"]) * 1000 / count, "sloth_ms": mean(sums["sloth"]) * 1000 / count,
     "obsctl_load": mean(loads["obsctl"]) / count, "sloth_load": mean(loads["sloth"]) / count,
     "obsctl_samples": samples["obsctl"] / count, "sloth_samples": samples["sloth"] / count}
# Where the time goes: each rule's last evaluation time, summed over the SLOs, by rule name.
by_rule = {"obsctl": {}, "sloth": {}}
for g in json.load(open(f"{d}/rules.json"))["data"]["groups"]:
    for rule in g["rules"]:
        key = rule["name"] + (f' [{rule["labels"].get("long_window", rule["labels"].get("sloth_severity", ""))}]' if rule["type"] == "alerting" else "")
        b = by_rule[side(g["name"])]
        b[key] = b.get(key, 0.0) + rule["evaluationTime"] * 1000 / count
r["by_rule_ms"] = {s: dict(sorted(v.items(), key=lambda kv: -kv[1])) for s, v in by_rule.items()}
json.dump(r, open(f"{d}/result.json", "w"), indent=1)
for s in by_rule:
    print(f"  {s} per rule (ms/SLO): " + ", ".join(f"{k} {v:.2f}" for k, v in list(r["by_rule_ms"][s].items())[:8]))
print(f'~{series} series: obsctl {r["obsctl_ms"]:.2f} ms/SLO, Sloth-shaped {r["sloth_ms"]:.2f} ms/SLO '
      f'(sum of last evaluation durations, mean of {polls}); samples/eval/SLO {r["obsctl_samples"]:g} vs {r["sloth_samples"]:g}; '
      f'missed iterations {missed:g}')
PY
  rm -rf "$d/data"
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
