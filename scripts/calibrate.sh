#!/usr/bin/env bash
# Calibrates `obsctl cost`'s Prometheus figures on a real Prometheus TSDB (the Debian build in
# .tools/bin, from scripts/install-tools.sh). Everything listens on 127.0.0.1 only.
#
#   1. blocks: a synthetic workload shaped like kube-prometheus scrapes (histogram buckets, request
#      counters, CPU-seconds counters, byte gauges, ratio gauges, constant `up`/info series, with
#      Kubernetes target labels) is written as OpenMetrics for a known number of series and samples,
#      turned into 2h blocks by `promtool tsdb create-blocks-from openmetrics`, measured, then
#      compacted by a Prometheus started on the same directory and measured again.
#   2. live: Prometheus scrapes the same kind of workload from an exporter on loopback every second
#      and remote-writes it to a sink on loopback; the WAL growth and the compressed remote-write
#      bytes are divided by the samples appended/sent.
#   3. compare: the estimator's bytes per sample for the same workload (a profile with that many
#      series, that scrape interval and the retention Prometheus compacted for) against step 1.
#      Exit 1 when it is off by more than ±25%.
#
#   scripts/calibrate.sh                 all three steps
#   scripts/calibrate.sh blocks|live     one step
# Knobs (environment): SERIES (1200), HOURS (36), INTERVAL (30, seconds), RETENTION (15d, the
# retention Prometheus compacts for), LIVE_SERIES (2000), LIVE_SECONDS (60), SEED (1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-tools.sh" >/dev/null
export PATH="$root/.tools/bin:$PATH"

SERIES=${SERIES:-1200}
HOURS=${HOURS:-36}
INTERVAL=${INTERVAL:-30}
RETENTION=${RETENTION:-15d}
LIVE_SERIES=${LIVE_SERIES:-2000}
LIVE_SECONDS=${LIVE_SECONDS:-60}
SEED=${SEED:-1}
which=${1:-all}

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The workload generator, shared by the backfill file and the live exporter.
cat >"$work/workload.py" <<'PY'
"""Series shaped like what kube-prometheus-stack scrapes, with evolving values. Per pod:
kube-state-metrics series (mostly constant), cAdvisor container series (CPU seconds at ns
precision, memory and network bytes), an application histogram and request counters; per node:
node-exporter CPU-seconds (10 ms ticks), memory/filesystem bytes, network counters, load."""
import random

BUCKETS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"]
ROUTES = ["/api/v1/cart", "/api/v1/checkout", "/api/v1/products", "/healthz", "/api/v1/users"]
PHASES = ["Pending", "Running", "Succeeded", "Failed", "Unknown"]


class Series:
    """One series: `kind` decides how the value moves from scrape to scrape."""

    def __init__(self, family, labels, kind, rate=0.0, value=None):
        self.family, self.labels, self.kind, self.rate = family, labels, kind, rate
        self.value = value if value is not None else {
            "bytes": random.randrange(50, 500) * 1048576.0, "ratio": random.random()}.get(kind, 0.0)

    def step(self, dt):
        k = self.kind
        if k == "counter":          # events: whole increments, some targets idle
            mean = self.rate * dt / 2
            self.value += max(0, round(random.gauss(mean, mean ** 0.5))) if mean else 0
        elif k == "netbytes":       # network/disk byte counters: large whole increments
            self.value += int(dt * self.rate * random.uniform(0.5, 1.5))
        elif k == "rare":           # restarts and the like: almost never move
            self.value += 1 if random.random() < 0.0005 else 0
        elif k == "cpu":            # node-exporter CPU seconds: 10 ms ticks
            self.value = round(self.value + dt * random.uniform(0, self.rate), 2)
        elif k == "cpuns":          # cAdvisor CPU seconds: nanosecond precision
            self.value = round(self.value + dt * random.uniform(0, self.rate), 9)
        elif k == "sum":            # histogram _sum: full-precision float
            self.value += dt * self.rate * random.uniform(0.01, 0.2)
        elif k == "bytes":          # memory/filesystem bytes: page-sized random walk
            self.value = max(0.0, self.value + 4096 * random.randint(-64, 64))
        elif k == "ratio":          # load-like gauge, 2 decimals
            self.value = round(min(4.0, max(0.0, self.value + random.uniform(-0.05, 0.05))), 2)
        return self.value           # "const": unchanged


def fmt(v):
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)


def pod(i):
    svc = ["checkout", "cart", "catalog", "payments", "shipping"][i % 5]
    name = f"{svc}-{random.randrange(16**9):09x}-{random.randrange(36**5):05x}"
    node = f"node-{i // 30}"
    ip = f"10.42.{i // 30}.{i % 250}"
    return svc, name, node, ip


def build(n):
    """About n series, grouped in families: [(family, type, [series])]."""
    fams = {}

    def add(family, typ, series):
        fams.setdefault(family, (typ, []))[1].append(series)

    def count():
        return sum(len(s) for _, s in fams.values())

    def node_exporter(node):
        t = f'instance="10.0.0.{node}:9100",job="node-exporter",namespace="monitoring",node="node-{node}"'
        for cpu in range(4):
            for mode in ["user", "system", "idle", "iowait", "irq", "softirq", "steal", "nice"]:
                busy = {"idle": 1.0, "user": 0.2, "system": 0.05, "iowait": 0.01}.get(mode, 0)
                add("node_cpu_seconds", "counter", Series("node_cpu_seconds_total",
                    f'{t},cpu="{cpu}",mode="{mode}"', "cpu" if busy else "const", busy))
        for what in ["MemAvailable", "MemFree", "Cached", "Buffers", "Active", "Inactive",
                     "Dirty", "Slab", "AnonPages", "Mapped"]:
            add(f"node_memory_{what}_bytes", "gauge", Series(f"node_memory_{what}_bytes", t, "bytes"))
        for dev in ["eth0", "lo"] + [f"veth{k:04x}" for k in range(10)]:
            busy = dev in ("eth0", "lo") or random.random() < 0.5
            for d in ["receive", "transmit"]:
                for unit, rate in [("bytes", 200000), ("packets", 200)]:
                    add(f"node_network_{d}_{unit}", "counter", Series(f"node_network_{d}_{unit}_total",
                        f'{t},device="{dev}"', "netbytes" if busy else "const", rate))
        for mp in ["/", "/var/lib/kubelet", "/var/lib/containerd", "/boot", "/run", "/tmp"]:
            labels = f'{t},device="/dev/vda1",fstype="ext4",mountpoint="{mp}"'
            for what, kind in [("avail", "bytes"), ("free", "bytes"), ("size", "const"), ("files", "const")]:
                add(f"node_filesystem_{what}_bytes", "gauge", Series(f"node_filesystem_{what}_bytes", labels, kind))
        for dev in ["vda", "vdb"]:
            for what in ["read_bytes", "written_bytes", "reads_completed", "writes_completed"]:
                add(f"node_disk_{what}", "counter", Series(f"node_disk_{what}_total",
                    f'{t},device="{dev}"', "netbytes", 5000 if "bytes" in what else 5))
        for m in ["node_load1", "node_load5", "node_load15"]:
            add(m, "gauge", Series(m, t, "ratio"))
        for k in range(30):         # collector success flags, *_info series and other constants
            add("node_scrape_collector_success", "gauge", Series("node_scrape_collector_success",
                f'{t},collector="c{k:02d}"', "const", value=1))
        add("up", "gauge", Series("up", t, "const", value=1))

    # About 30 pods per node, as on a typical cluster.
    i = 0
    while count() < n:
        if i % 30 == 0:
            node_exporter(i // 30)
        svc, name, node, ip = pod(i)
        ksm = f'job="kube-state-metrics",namespace="shop",pod="{name}",uid="{random.randrange(16**12):012x}"'
        add("kube_pod_info", "gauge", Series("kube_pod_info", f'{ksm},node="{node}",pod_ip="{ip}"', "const", value=1))
        for phase in PHASES:
            add("kube_pod_status_phase", "gauge", Series("kube_pod_status_phase",
                f'{ksm},phase="{phase}"', "const", value=1 if phase == "Running" else 0))
        for res, v in [("cpu", 0.25), ("memory", 268435456)]:
            add("kube_pod_container_resource_requests", "gauge", Series(
                "kube_pod_container_resource_requests", f'{ksm},container="app",resource="{res}"', "const", value=v))
        add("kube_pod_container_status_ready", "gauge",
            Series("kube_pod_container_status_ready", f'{ksm},container="app"', "const", value=1))
        add("kube_pod_container_status_restarts", "counter",
            Series("kube_pod_container_status_restarts_total", f'{ksm},container="app"', "rare"))
        cad = f'container="app",image="registry.example.com/shop/{svc}:1.4.{i % 3}",job="kubelet",metrics_path="/metrics/cadvisor",namespace="shop",node="{node}",pod="{name}"'
        add("container_cpu_usage_seconds", "counter",
            Series("container_cpu_usage_seconds_total", f'{cad},cpu="total"', "cpuns", 0.3))
        for what in ["working_set", "rss", "cache"]:
            add(f"container_memory_{what}_bytes", "gauge", Series(f"container_memory_{what}_bytes", cad, "bytes"))
        for d in ["receive", "transmit"]:
            add(f"container_network_{d}_bytes", "counter", Series(f"container_network_{d}_bytes_total",
                f'{cad},interface="eth0"', "netbytes", 20000))
        app = f'container="app",endpoint="http",instance="{ip}:8080",job="{svc}",namespace="shop",pod="{name}",service="{svc}"'
        route = ROUTES[i % len(ROUTES)]
        rate = random.choice([0, 0.2, 1, 5, 20])
        base = f'{app},method="GET",route="{route}"'
        for le in BUCKETS:
            add("http_request_duration_seconds", "histogram", Series("http_request_duration_seconds_bucket",
                f'{base},le="{le}"', "counter", rate * (BUCKETS.index(le) + 1) / len(BUCKETS)))
        add("http_request_duration_seconds", "histogram",
            Series("http_request_duration_seconds_sum", base, "sum", rate))
        add("http_request_duration_seconds", "histogram",
            Series("http_request_duration_seconds_count", base, "counter", rate))
        for code in ["200", "404", "500"]:
            add("http_requests", "counter", Series("http_requests_total", f'{base},code="{code}"',
                "counter", rate if code == "200" else rate / 50))
        add("up", "gauge", Series("up", app, "const", value=1))
        i += 1
    return [(f, typ, s) for f, (typ, s) in fams.items()]
PY

# --- 1. blocks ----------------------------------------------------------------------------------
blocks() {
  echo "== blocks: ~$SERIES series, one sample every ${INTERVAL}s for ${HOURS}h"
  python3 - "$work" "$SERIES" "$HOURS" "$INTERVAL" "$SEED" <<'PY'
import sys, random, time
sys.path.insert(0, sys.argv[1])
import workload
work, n, hours, interval, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
random.seed(seed)
fams = workload.build(n)
steps = hours * 3600 // interval
# End two hours before now, aligned to the interval, so no block reaches into Prometheus' head.
end = (int(time.time()) - 7200) // interval * interval
start = end - steps * interval
series = samples = 0
with open(f"{work}/workload.om", "w") as out:
    for family, typ, members in fams:
        out.write(f"# TYPE {family} {typ}\n")
        # OpenMetrics: a family's points grouped per label set, in time order. The histogram's
        # lines share one label set per (method, route, target), so emit them per timestamp.
        groups = {}
        for s in members:
            key = s.labels.rsplit(',le=', 1)[0] if typ == "histogram" else s.labels
            groups.setdefault(key, []).append(s)
        for group in groups.values():
            series += len(group)
            for k in range(steps):
                # Prometheus snaps scrape timestamps within 2 ms of the schedule onto it
                # (--scrape.adjust-timestamps, on by default); let one scrape in 20 miss by more.
                ts = start + k * interval
                if random.random() < 0.05:
                    ts += random.choice([-1, 1]) * random.randint(3, 10) / 1000
                for s in group:
                    v = s.step(interval)
                    out.write(f"{s.family}{{{s.labels}}} {workload.fmt(v)} {ts:.3f}\n")
                    samples += 1
    out.write("# EOF\n")
with open(f"{work}/workload.counts", "w") as f:
    f.write(f"{series} {samples} {start} {end}\n")
print(f"workload: {series} series, {samples} samples, {steps} per series")
PY
  read -r series samples _ _ <"$work/workload.counts"
  mkdir -p "$work/tsdb"
  start=$(date +%s)
  promtool tsdb create-blocks-from openmetrics -q "$work/workload.om" "$work/tsdb" >/dev/null
  echo "promtool backfill: $(( $(date +%s) - start ))s, $(ls -d "$work"/tsdb/01* | wc -l) blocks"
  rm -f "$work/workload.om"
  measure_blocks "2h blocks (backfilled)" "$series" "$samples" | tee "$work/blocks-2h.txt"

  # Let Prometheus compact them the way it would for RETENTION (blocks up to 10% of it).
  port=$(free_port)
  printf 'global: {scrape_interval: 1m}\nscrape_configs: []\n' >"$work/prom-empty.yml"
  prometheus --config.file="$work/prom-empty.yml" --storage.tsdb.path="$work/tsdb" \
    --storage.tsdb.retention.time="$RETENTION" --web.listen-address="127.0.0.1:$port" \
    --log.level=warn >"$work/prom-blocks.log" 2>&1 &
  pids+=($!)
  wait_ready "$port"
  # The compactor first runs a minute after start; wait until it has run and stopped changing.
  local before=-1 stable=0
  for _ in $(seq 1 60); do
    sleep 5
    local n
    n=$(metric "$port" prometheus_tsdb_compactions_total)
    if [[ "$n" != 0 && "$n" == "$before" ]]; then stable=$((stable + 1)); else stable=0; fi
    before=$n
    [[ $stable -ge 3 ]] && break
  done
  [[ $stable -ge 3 ]] || { echo "compaction did not settle within 5 minutes" >&2; exit 1; }
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  echo "prometheus compacted: $before compactions, $(ls -d "$work"/tsdb/01* | wc -l) blocks"
  measure_blocks "compacted for $RETENTION" "$series" "$samples" | tee "$work/blocks-compacted.txt"
}

# Sizes the blocks in $work/tsdb: chunks, index, total, per sample and per series per block.
measure_blocks() {
  python3 - "$work/tsdb" "$1" "$2" "$3" <<'PY'
import os, sys, json
path, label, series, samples = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
chunks = index = other = blocks = 0
spans = []
for b in sorted(os.listdir(path)):
    meta = os.path.join(path, b, "meta.json")
    if not os.path.isfile(meta):
        continue
    blocks += 1
    m = json.load(open(meta))
    spans.append((m["maxTime"] - m["minTime"]) / 3600e3)
    for dirpath, _, files in os.walk(os.path.join(path, b)):
        for f in files:
            size = os.path.getsize(os.path.join(dirpath, f))
            if "/chunks" in dirpath:
                chunks += size
            elif f == "index":
                index += size
            else:
                other += size
total = chunks + index + other
print(f"{label}: {blocks} blocks (spans h: {', '.join(f'{s:.0f}' for s in spans)})")
print(f"  chunks {chunks} B, index {index} B, other {other} B, total {total} B")
print(f"  bytes/sample: total {total / samples:.3f}, chunks {chunks / samples:.3f}; "
      f"index bytes per series per block {index / series / blocks:.1f}")
print(f"RESULT total_per_sample={total / samples:.4f} chunks_per_sample={chunks / samples:.4f} "
      f"index_per_series_block={index / series / blocks:.2f}")
PY
}

# --- 2. live ------------------------------------------------------------------------------------
live() {
  echo "== live: ~$LIVE_SERIES series scraped every 1s for ${LIVE_SECONDS}s, remote-written to a sink"
  local exporter_port sink_port port
  exporter_port=$(free_port)
  python3 - "$work" "$LIVE_SERIES" "$exporter_port" "$SEED" <<'PY' &
import sys, random, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
sys.path.insert(0, sys.argv[1])
import workload
random.seed(int(sys.argv[4]))
fams = workload.build(int(sys.argv[2]))
last = [time.time()]
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        now = time.time(); dt = max(0.001, now - last[0]); last[0] = now
        lines = []
        for family, typ, members in fams:
            lines.append(f"# TYPE {family} {'untyped' if typ == 'histogram' else typ}")
            for s in members:
                lines.append(f"{s.family}{{{s.labels}}} {workload.fmt(s.step(dt))}")
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200); self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3])), H).serve_forever()
PY
  pids+=($!)
  sink_port=$(free_port)
  python3 - "$sink_port" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
  pids+=($!)
  port=$(free_port)
  cat >"$work/prom-live.yml" <<YML
global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: workload
    honor_labels: true
    static_configs: [{targets: ['127.0.0.1:$exporter_port']}]
remote_write:
  - url: http://127.0.0.1:$sink_port/write
YML
  mkdir -p "$work/live"
  prometheus --config.file="$work/prom-live.yml" --storage.tsdb.path="$work/live" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn >"$work/prom-live.log" 2>&1 &
  pids+=($!)
  wait_ready "$port"
  # Skip the first scrapes (series records dominate the WAL while series are created).
  sleep 15
  local wal0 app0 rwb0 rws0 wal1 app1 rwb1 rws1
  wal0=$(du -sb "$work/live/wal" | cut -f1); app0=$(metric "$port" prometheus_tsdb_head_samples_appended_total)
  rwb0=$(metric "$port" prometheus_remote_storage_bytes_total); rws0=$(metric "$port" prometheus_remote_storage_samples_total)
  sleep "$LIVE_SECONDS"
  wal1=$(du -sb "$work/live/wal" | cut -f1); app1=$(metric "$port" prometheus_tsdb_head_samples_appended_total)
  rwb1=$(metric "$port" prometheus_remote_storage_bytes_total); rws1=$(metric "$port" prometheus_remote_storage_samples_total)
  python3 - "$wal0" "$wal1" "$app0" "$app1" "$rwb0" "$rwb1" "$rws0" "$rws1" <<'PY' | tee "$work/live.txt"
import sys
w0, w1, a0, a1, b0, b1, s0, s1 = map(float, sys.argv[1:])
print(f"  samples appended {a1 - a0:.0f}, WAL grew {w1 - w0:.0f} B; remote write sent {s1 - s0:.0f} samples in {b1 - b0:.0f} B")
print(f"RESULT wal_per_sample={(w1 - w0) / (a1 - a0):.3f} remote_write_per_sample={(b1 - b0) / max(1, s1 - s0):.3f}")
PY
}

# --- 3. compare ---------------------------------------------------------------------------------
compare() {
  echo "== compare with the estimator"
  read -r series samples _ _ <"$work/workload.counts"
  cargo build --quiet
  cat >"$work/calibration.yaml" <<YML
name: calibration
metrics: {retention: $RETENTION, scrapeInterval: ${INTERVAL}s, storage: 100Gi}
alertmanager: {enabled: false}
logs: {enabled: false}
traces: {enabled: false}
collector: {enabled: false}
workload: {hosts: 1, users: 1, metrics: {activeSeries: $series}}
YML
  # Vendor warnings (custom metrics and the like) are not what this step is about.
  "$root/target/debug/obsctl" cost --profile "$work/calibration.yaml" --output json \
    >"$work/cost.json" 2>/dev/null
  python3 - "$work/cost.json" "$work/blocks-2h.txt" "$work/blocks-compacted.txt" "$series" "$samples" <<'PY'
import json, sys, re
cost = json.load(open(sys.argv[1]))
series, samples = int(sys.argv[4]), int(sys.argv[5])
a = next(c for c in cost["components"] if c["component"] == "metrics")["assumptions"]
chunk, index = a["chunk_bytes_per_sample"], a["index_bytes_per_series_per_block"]

def measured(path):
    text = open(path).read()
    blocks = int(re.search(r": (\d+) blocks", text).group(1))
    return float(re.search(r"total_per_sample=([0-9.]+)", text).group(1)), blocks

# The model (chunk bytes per sample + index bytes per series per block) on the block layouts
# Prometheus actually produced: a check of its structure, not only of one figure.
for label, path in [("2h blocks", sys.argv[2]), ("compacted", sys.argv[3])]:
    got, blocks = measured(path)
    model = chunk + index * series * blocks / samples
    print(f"model on the measured layout ({label}, {blocks} blocks): {model:.3f} B/sample, "
          f"measured {got:.3f} -> {(model - got) / got * 100:+.1f}%")
# The figure `obsctl cost` reports for this workload (steady-state blocks for the retention).
estimated = a["bytes_per_sample"]
got, _ = measured(sys.argv[3])
off = (estimated - got) / got * 100
ok = abs(off) <= 25
print(f"bytes/sample: estimator {estimated:.3f} ({a['retention_s'] // 86400}d retention, "
      f"{a['largest_block_s'] // 3600}h blocks), measured {got:.3f} -> {off:+.1f}% "
      f"{'PASS' if ok else 'FAIL'} (within ±25%)")
sys.exit(0 if ok else 1)
PY
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$1/-/ready" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "prometheus on 127.0.0.1:$1 did not become ready" >&2
  exit 1
}

# The value of an unlabelled metric (or the sum over its labels) from Prometheus' own /metrics.
metric() {
  curl -fsS "http://127.0.0.1:$1/metrics" |
    awk -v m="$2" '$1 == m || index($1, m "{") == 1 { s += $2 } END { printf "%.0f\n", s }'
}

case "$which" in
  blocks) blocks ;;
  live) live ;;
  all) blocks; live; compare ;;
  *) echo "unknown step: $which (known: blocks, live, all)" >&2; exit 2 ;;
esac
