//! `obsctl cost` end to end: the binary on built-in and hand-written profiles, every output
//! format, `--pricing` overrides and their errors, and the chart files.

mod common;

use std::fs;
use std::path::Path;

use common::obsctl;
use serde_json::Value;

fn cost_json(args: &[&str]) -> (Value, String) {
    let out = obsctl()
        .arg("cost")
        .args(args)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}: {stderr}",
        out.status.code()
    );
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (json, stderr)
}

fn component<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["component"] == name)
        .unwrap_or_else(|| panic!("no component {name}"))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn production_json_follows_the_contract() {
    let (json, stderr) = cost_json(&["--profile", "production"]);
    let names: Vec<&str> = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["component"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["metrics", "logs", "traces", "alertmanager", "grafana"]
    );
    for c in json["components"].as_array().unwrap() {
        for key in [
            "storage_gib",
            "requested_pvc",
            "recommended_pvc",
            "monthly_usd",
        ] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
        assert!(c["assumptions"]["formula"].is_string(), "{c}");
    }
    // Hand-computed: 150,000 series / 30s for 30d = 1.296e10 samples; 100Gi at $0.10.
    let metrics = component(&json, "metrics");
    assert_eq!(metrics["assumptions"]["samples_in_retention"], 1.296e10);
    assert_eq!(metrics["requested_pvc"], "100Gi");
    assert_eq!(metrics["monthly_usd"], 10.0);
    // 20 GiB/day × 30 days × (0.2234 chunks + 1e-5 index) + 2h WAL = 135.71 GiB, on a 200Gi volume.
    let logs = component(&json, "logs");
    let gib = logs["storage_gib"].as_f64().unwrap();
    assert!(
        (gib - (20.0 * 30.0 * (0.2234 + 1e-5) + 20.0 / 12.0)).abs() < 0.01,
        "{gib}"
    );
    assert!(logs["warning"].is_null(), "{}", logs["warning"]);
    assert!(!stderr.contains("too small"), "{stderr}");

    // Storage, compute and the total are separate lines that add up.
    let storage: f64 = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["monthly_usd"].as_f64().unwrap())
        .sum();
    let lines = &json["self_hosted"];
    assert!((storage - lines["storage_usd"].as_f64().unwrap()).abs() < 0.02);
    let compute = lines["compute_usd"].as_f64().unwrap();
    assert!(compute > 0.0, "{lines}");
    assert_eq!(lines["operations_usd"], Value::Null, "off unless set");
    let reported = json["self_hosted_monthly_usd"].as_f64().unwrap();
    assert!(
        (storage + compute - reported).abs() < 0.02,
        "{storage} + {compute} vs {reported}"
    );

    let vendors: Vec<&str> = json["comparison"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["vendor"].as_str().unwrap())
        .collect();
    assert_eq!(vendors, ["datadog", "newrelic", "grafana-cloud"]);
    for v in json["comparison"].as_array().unwrap() {
        let sum: f64 = v["breakdown"]
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_f64)
            .sum();
        let monthly = v["monthly_usd"].as_f64().unwrap();
        assert!(
            (sum - monthly).abs() < 0.05,
            "{}: {sum} vs {monthly}",
            v["vendor"]
        );
    }
    let datadog = &json["comparison"][0];
    assert_eq!(
        datadog["breakdown"]["infrastructure"], 225.0,
        "15 hosts × $15"
    );
    // 150,000 series - 15 hosts × 100 included = 148,500 custom metrics at $5 per 100.
    assert_eq!(datadog["breakdown"]["custom-metrics"], 7425.0);
    assert_eq!(datadog["incomplete"], false, "no lower bounds");
    for v in json["comparison"].as_array().unwrap() {
        assert_eq!(v["incomplete"], false, "{}", v["vendor"]);
    }
    // Grafana Cloud bills every GB of logs received as processed ($0.05) and every GB kept
    // beyond the free 50 as written ($0.40).
    let log_gb = json["usage_per_month"]["log_gb"].as_f64().unwrap();
    let grafana = &json["comparison"][2]["breakdown"];
    let close = |got: &Value, want: f64| (got.as_f64().unwrap() - want).abs() < 0.01;
    assert!(
        close(&grafana["logs-processed"], log_gb * 0.05),
        "{grafana}"
    );
    assert!(
        close(&grafana["logs-written"], (log_gb - 50.0) * 0.40),
        "{grafana}"
    );

    // Figures the catalog could not confirm on their source pages are marked, with the reason,
    // and listed in the notes; the others are not.
    let vcpu = &json["prices"]["vcpu_hour"];
    assert!(vcpu["unconfirmed"].is_string(), "{vcpu}");
    let lines = json["comparison"][2]["lines"].as_array().unwrap();
    let line = |id: &str| lines.iter().find(|l| l["item"] == id).unwrap();
    assert!(line("platform")["unconfirmed"].is_string());
    assert!(line("logs-written").get("unconfirmed").is_none());
    let notes: Vec<&str> = json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let note = notes
        .iter()
        .find(|n| n.starts_with("not confirmed on their source pages"))
        .unwrap_or_else(|| panic!("{notes:?}"));
    assert!(
        note.contains("vCPU-hour") && note.contains("Grafana Cloud platform"),
        "{note}"
    );
    assert!(!note.contains("logs-written"), "{note}");
}

#[test]
fn an_undersized_prometheus_volume_is_a_warning_with_the_size_to_use() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write(
        dir.path(),
        "small.yaml",
        "name: small\nextends: dev\nmetrics: {retention: 30d, storage: 5Gi}\nworkload:\n  metrics: {activeSeries: 200000}\n",
    );
    let (json, stderr) = cost_json(&["--profile", &profile]);
    let metrics = component(&json, "metrics");
    let recommended = metrics["recommended_pvc"].as_str().unwrap();
    let warning = metrics["warning"].as_str().unwrap();
    assert!(warning.contains("retentionSize 4GiB"), "{warning}");
    assert!(warning.contains(&format!("`{recommended}`")), "{warning}");
    assert!(stderr.contains(warning), "{stderr}");
    // The recommendation's 80% holds what Prometheus keeps.
    let gib: f64 = recommended.trim_end_matches("Gi").parse().unwrap();
    assert!(
        gib * 0.8 >= metrics["storage_gib"].as_f64().unwrap(),
        "{recommended}"
    );
}

#[test]
fn byte_units_are_iec_or_si() {
    let dir = tempfile::tempdir().unwrap();
    let si = write(
        dir.path(),
        "si.yaml",
        "name: si\nextends: dev\nworkload:\n  logs: {ingestPerDay: 20GB}\n",
    );
    let iec = write(
        dir.path(),
        "iec.yaml",
        "name: iec\nextends: dev\nworkload:\n  logs: {ingestPerDay: 20GiB}\n",
    );
    let k8s = write(
        dir.path(),
        "k8s.yaml",
        "name: k8s\nextends: dev\nworkload:\n  logs: {ingestPerDay: 20Gi}\n",
    );
    let logs_gb = |p: &str| {
        cost_json(&["--profile", p]).0["usage_per_month"]["log_gb"]
            .as_f64()
            .unwrap()
    };
    let (si, iec, k8s) = (logs_gb(&si), logs_gb(&iec), logs_gb(&k8s));
    assert_eq!(iec, k8s);
    assert!((iec / si - 1.073_741_824).abs() < 1e-4, "{iec} / {si}");
}

#[test]
fn bad_workload_figures_are_exit_2_at_their_position() {
    let dir = tempfile::tempdir().unwrap();
    for (text, at, says) in [
        (
            "workload:\n  logs: {ingestPerDay: -20GiB}\n",
            ":4:24",
            "cannot be negative",
        ),
        (
            "workload:\n  traces: {spansPerSecond: -5}\n",
            ":4:28",
            "expected a number ≥ 0",
        ),
        ("workload:\n  hosts: many\n", ":4:10", "whole number"),
        (
            "workload:\n  logs: {ingestPerDay: 20 gigs}\n",
            ":4:24",
            "expected an amount of data",
        ),
    ] {
        let path = write(
            dir.path(),
            "bad.yaml",
            &format!("name: bad\nextends: dev\n{text}"),
        );
        let out = obsctl()
            .args(["cost", "--profile", &path])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {stderr}");
        assert!(
            stderr.contains(&format!("bad.yaml{at}")),
            "{text}: {stderr}"
        );
        assert!(stderr.contains(says), "{text}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_profile_without_workload_says_what_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "none.yaml", "name: none\n");
    let out = obsctl()
        .args(["cost", "--profile", &path])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("none.yaml:1:1: `workload`"), "{stderr}");
    assert!(stderr.contains("activeSeries"), "{stderr}");
}

#[test]
fn csv_markdown_and_table_carry_the_same_totals() {
    let (json, _) = cost_json(&["--profile", "production"]);
    let total = format!("{:.2}", json["self_hosted_monthly_usd"].as_f64().unwrap());

    let out = obsctl()
        .args(["cost", "--profile", "production", "--output", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][0], "kind");
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "{csv}");
    let total_row = rows.iter().find(|r| r[0] == "total").unwrap();
    assert_eq!(total_row[8], total);
    assert_eq!(rows.iter().filter(|r| r[0] == "component").count(), 5);
    assert_eq!(rows.iter().filter(|r| r[0] == "vendor").count(), 3);
    // The table's `≥` (a vendor total with unpriced items) survives as `lower_bound`.
    assert_eq!(rows[0][10], "lower_bound");
    for vendor in json["comparison"].as_array().unwrap() {
        let name = vendor["vendor"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r[0] == "vendor" && r[1] == name)
            .unwrap();
        assert_eq!(row[10], vendor["incomplete"].to_string(), "{name}");
    }

    let out = obsctl()
        .args(["cost", "--profile", "production", "--output", "markdown"])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("## Compared with commercial APM"), "{md}");
    assert!(md.contains("| Grafana Cloud |"), "{md}");
    assert!(
        md.contains("([source](https://"),
        "every price links its source: {md}"
    );

    // Piped, the table has no terminal escapes.
    let out = obsctl()
        .args(["cost", "--profile", "production"])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("COMPONENT"), "{table}");
    assert!(!table.contains('\x1b'), "{table}");
    assert!(table.contains(&format!("${}", total)), "{table}");
}

const CATALOG: &str = "storage:
  blockStorage: {price: 1.0, source: https://prices.example/block, date: '2026-01-01'}
  objectStorage: {price: 0.5, source: https://prices.example/object, date: '2026-01-01'}
compute:
  vcpuHour: {price: 0.0, source: https://prices.example/cpu, date: '2026-01-01'}
  gibHour: {price: 0.0, source: https://prices.example/mem, date: '2026-01-01'}
  nodeOverhead: {value: 1.0, source: https://prices.example/nodes, date: '2026-01-01'}
vendors:
  acme:
    name: Acme
    plan: Flat
    items:
      hosts: {description: per host, quantity: hosts, price: 100, source: https://prices.example/acme, date: '2026-01-01'}
";

#[test]
fn pricing_file_replaces_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = write(dir.path(), "prices.yaml", CATALOG);
    // dev has no `pricing:`: block storage comes from the catalog. 10Gi of metrics at $1.
    let (json, _) = cost_json(&["--profile", "dev", "--pricing", &catalog]);
    assert_eq!(component(&json, "metrics")["monthly_usd"], 10.0);
    assert_eq!(
        json["prices"]["block_storage"]["source"],
        "https://prices.example/block"
    );
    assert_eq!(json["comparison"].as_array().unwrap().len(), 1);
    assert_eq!(json["comparison"][0]["vendor"], "acme");
    assert_eq!(json["comparison"][0]["monthly_usd"], 100.0, "1 host in dev");
    // A profile's own `pricing:` wins over the catalog.
    let own = write(
        dir.path(),
        "own.yaml",
        "name: own\nextends: dev\npricing: {blockStorage: 0.08}\n",
    );
    let (json, _) = cost_json(&["--profile", &own, "--pricing", &catalog]);
    assert_eq!(component(&json, "metrics")["monthly_usd"], 0.8);
    assert_eq!(json["prices"]["block_storage"]["from"], "profile");
}

#[test]
fn an_item_without_a_list_price_says_so_and_only_it_makes_a_lower_bound() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{CATALOG}      spans: {{description: spans, quantity: trace-gb, unpriced: Acme publishes no price for spans, source: https://prices.example/acme, date: '2026-01-01'}}\n"
    );
    let catalog = write(dir.path(), "prices.yaml", &text);
    let (json, stderr) = cost_json(&["--profile", "production", "--pricing", &catalog]);
    let acme = &json["comparison"][0];
    assert_eq!(acme["incomplete"], true);
    // The priced item is priced in full: 15 hosts × $100.
    assert_eq!(acme["monthly_usd"], 1500.0);
    assert!(
        stderr
            .contains("for which Acme publishes no list price (Acme publishes no price for spans)"),
        "{stderr}"
    );
    let out = obsctl()
        .args(["cost", "--profile", "production", "--pricing", &catalog])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("≥ $1,500.00"), "{table}");
    assert!(
        table.contains("spans 591 GB of traces: no published list price"),
        "{table}"
    );
    // The built-in catalog prices every item: no vendor total is a lower bound.
    let (json, _) = cost_json(&["--profile", "production"]);
    for v in json["comparison"].as_array().unwrap() {
        assert_eq!(v["incomplete"], false, "{}", v["vendor"]);
    }
}

#[test]
fn a_bad_pricing_file_is_exit_2_with_flag_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = write(
        dir.path(),
        "prices.yaml",
        &CATALOG.replace("price: 100", "price: -1"),
    );
    let out = obsctl()
        .args(["cost", "--pricing", &catalog])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--pricing"), "{stderr}");
    assert!(stderr.contains("prices.yaml:13:"), "{stderr}");
    assert!(stderr.contains("found -1"), "{stderr}");
    let out = obsctl()
        .args(["cost", "--pricing", "/nonexistent/prices.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_price_without_source_or_date_is_exit_2_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, position, says) in [
        (
            "nosource.yaml",
            CATALOG.replace("source: https://prices.example/acme, ", ""),
            "nosource.yaml:13:",
            "source",
        ),
        (
            "undated.yaml",
            CATALOG.replace(
                "https://prices.example/acme, date: '2026-01-01'",
                "https://prices.example/acme, date: undated",
            ),
            "undated.yaml:13:",
            "YYYY-MM-DD",
        ),
        (
            "nodate.yaml",
            CATALOG.replace(
                "https://prices.example/cpu, date: '2026-01-01'",
                "https://prices.example/cpu",
            ),
            "nodate.yaml:5:",
            "date",
        ),
        (
            "emptysource.yaml",
            CATALOG.replace("source: https://prices.example/block", "source: ''"),
            "emptysource.yaml:2:",
            "source",
        ),
    ] {
        let catalog = write(dir.path(), name, &text);
        let out = obsctl()
            .args(["cost", "--profile", "dev", "--pricing", &catalog])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains("--pricing"), "{name}: {stderr}");
        assert!(stderr.contains(position), "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: nothing priced with it");
    }
}

#[test]
fn charts_are_svg_or_png_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("costs.svg");
    let png = dir.path().join("costs.PNG");
    for path in [&svg, &png] {
        let out = obsctl()
            .args(["cost", "--profile", "production", "--chart"])
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..80]);
    for label in [
        "Datadog",
        "New Relic",
        "Grafana Cloud",
        "self-hosted",
        "USD per month",
        "cost categories",
        "compute (pod requests)",
        "storage (volumes, buckets)",
        "per host (infrastructure, APM)",
        "node overhead 1.25",
    ] {
        assert!(text.contains(label), "{label} missing from the SVG");
    }
    let bytes = fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, right after the chunk header.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1100, 620));
    // Nothing but the two charts: no temporary files left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);

    // Any other extension is refused before anything is written.
    let jpg = dir.path().join("costs.jpg");
    let out = obsctl()
        .args(["cost", "--chart"])
        .arg(&jpg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--chart"));
    assert!(out.stdout.is_empty());
    assert!(!jpg.exists());
}

/// A profile whose requests and replicas are known: 2 Prometheus replicas at 1 CPU / 2Gi,
/// Loki at 500m / 1Gi with the chunks cache at 1024 MB and the results cache off, Tempo at 250m /
/// 512Mi, Grafana at 100m / 256Mi, Alertmanager at 50m / 64Mi, the collector as a DaemonSet at
/// 100m / 128Mi on 4 hosts.
const KNOWN: &str = "name: known
metrics: {storage: 10Gi, replicas: 2, resources: {requests: {cpu: '1', memory: 2Gi}}}
alertmanager: {resources: {requests: {cpu: 50m, memory: 64Mi}}}
logs: {storage: 10Gi, caches: {chunks: 1Gi, results: 256Mi}, resources: {requests: {cpu: 500m, memory: 1Gi}}, values: {resultsCache: {enabled: false}}}
traces: {storage: 10Gi, resources: {requests: {cpu: 250m, memory: 512Mi}}}
grafana: {resources: {requests: {cpu: 100m, memory: 256Mi}}}
collector: {mode: daemonset, resources: {requests: {cpu: 100m, memory: 128Mi}}}
workload:
  hosts: 4
  users: 1
  metrics: {activeSeries: 1000}
  logs: {ingestPerDay: 100MiB}
  traces: {spansPerSecond: 1}
";

#[test]
fn compute_is_requests_times_copies_times_prices_and_overhead() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write(dir.path(), "known.yaml", KNOWN);
    let (json, _) = cost_json(&["--profile", &profile]);
    let c = &json["compute"];
    // CPU: 2 × 1 + 0.05 + 0.5 + 0.5 (chunks cache allocatedCPU) + 0.25 + 0.1 + 4 × 0.1 = 3.8.
    let cpu = 2.0 + 0.05 + 0.5 + 0.5 + 0.25 + 0.1 + 0.4;
    assert!((c["cpu_cores"].as_f64().unwrap() - cpu).abs() < 1e-9, "{c}");
    // Memory: 2 × 2 + 1/16 + 1 + 1229/1024 (round(1.2 × 1024) MiB) + 0.5 + 0.25 + 4 × 0.125.
    let mem = 4.0 + 0.0625 + 1.0 + 1229.0 / 1024.0 + 0.5 + 0.25 + 0.5;
    assert!(
        (c["memory_gib"].as_f64().unwrap() - mem).abs() < 1e-3,
        "{c}"
    );
    // GCE N2 on-demand: $0.031611 per vCPU-hour, $0.004237 per GiB-hour; 730 h; overhead 1.25.
    let usd = (cpu * 0.031611 + mem * 0.004237) * 730.0 * 1.25;
    assert!(
        (c["monthly_usd"].as_f64().unwrap() - usd).abs() < 0.01,
        "{c} vs {usd}"
    );
    assert_eq!(c["node_overhead"], 1.25);
    let collector = c["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pod"] == "collector")
        .unwrap();
    assert_eq!(collector["copies"], 4);
    assert_eq!(collector["per"], "nodes");
    // Pods the charts run without requests are listed, not hidden.
    let ksm = c["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pod"] == "kube-state-metrics")
        .unwrap();
    assert_eq!(ksm["cpu_cores"], 0.0);
    assert_eq!(ksm["from"], "chart default");

    // The table states the node-overhead factor.
    let out = obsctl()
        .args(["cost", "--profile", &profile])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("node overhead 1.25"), "{table}");
}

#[test]
fn operations_are_a_third_line_only_when_set() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write(
        dir.path(),
        "ops.yaml",
        &format!("{KNOWN}pricing: {{operations: {{hoursPerMonth: 20, hourlyRate: 100}}}}\n"),
    );
    let (json, _) = cost_json(&["--profile", &profile]);
    assert_eq!(json["self_hosted"]["operations_usd"], 2000.0);
    let lines = &json["self_hosted"];
    let sum =
        lines["storage_usd"].as_f64().unwrap() + lines["compute_usd"].as_f64().unwrap() + 2000.0;
    assert!((json["self_hosted_monthly_usd"].as_f64().unwrap() - sum).abs() < 0.02);
}

fn sweep_json(args: &[&str]) -> Value {
    cost_json(args).0
}

#[test]
fn a_scale_sweep_equals_separate_runs_at_each_size() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = sweep_json(&["--profile", "production", "--scale", "hosts=15,50,150"]);
    assert_eq!(sweep["field"], "hosts");
    let points = sweep["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    let production =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/production.yaml"))
            .unwrap();
    for point in points {
        let hosts = point["value"].as_str().unwrap();
        let profile = write(
            dir.path(),
            "p.yaml",
            &production.replace("  hosts: 15\n", &format!("  hosts: {hosts}\n")),
        );
        let (single, _) = cost_json(&["--profile", &profile]);
        assert_eq!(
            point["self_hosted"]["monthly_usd"], single["self_hosted_recommended_monthly_usd"],
            "hosts={hosts}"
        );
        for v in single["comparison"].as_array().unwrap() {
            let id = v["vendor"].as_str().unwrap();
            assert_eq!(
                point["vendors"][id], v["monthly_usd"],
                "{id} at hosts={hosts}"
            );
        }
    }
    // More hosts cost more everywhere (DaemonSets run on every host; vendors bill per host).
    let dd = |i: usize| points[i]["vendors"]["datadog"].as_f64().unwrap();
    assert!(dd(0) < dd(1) && dd(1) < dd(2));
    let own = |i: usize| points[i]["self_hosted"]["monthly_usd"].as_f64().unwrap();
    assert!(own(0) < own(2));
    assert!(sweep["assumptions"][0]
        .as_str()
        .unwrap()
        .contains("only `workload.hosts` changes"));
}

#[test]
fn a_bad_scale_flag_is_exit_2() {
    for (flag, says) in [
        ("hots=1,2", "did you mean `hosts`"),
        ("hosts=1", "at least two"),
        ("hosts", "FIELD=V1,V2"),
        ("logs.ingestPerDay=20GiB,lots", "lots"),
        (
            "logs.bytesPerEvent=0,100",
            "logs.bytesPerEvent=0: expected at least 1 byte",
        ),
        ("traces.bytesPerSpan=10,0", "traces.bytesPerSpan=0"),
        ("hosts=15,-1", "-1"),
        ("hosts=15,,50", "``"),
        ("traces.spansPerSecond=1,NaN", "NaN"),
    ] {
        let out = obsctl()
            .args(["cost", "--profile", "production", "--scale", flag])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(
            stderr.contains("--scale") && stderr.contains(says),
            "{flag}: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_sweep_chart_has_one_line_per_option() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("growth.svg");
    let png = dir.path().join("growth.png");
    for path in [&svg, &png] {
        let out = obsctl()
            .args([
                "cost",
                "--profile",
                "production",
                "--scale",
                "hosts=15,50,150,500",
                "--chart",
            ])
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"));
    // One coloured polyline per option (self-hosted and three vendors) in the plot, plus one
    // legend swatch each; axes and grid are black or grey.
    let mut strokes: std::collections::BTreeMap<&str, usize> = Default::default();
    for tag in text.split("<polyline").skip(1) {
        let stroke = tag
            .split("stroke=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or("");
        *strokes.entry(stroke).or_default() += 1;
    }
    strokes.retain(|colour, _| *colour != "#000000" && *colour != "#EBEBEB");
    assert_eq!(strokes.len(), 4, "{strokes:?}");
    assert!(strokes.values().all(|n| *n == 2), "{strokes:?}");
    for name in [
        "self-hosted",
        "Datadog",
        "New Relic",
        "Grafana Cloud",
        "log scale",
    ] {
        assert!(text.contains(name), "{name} missing");
    }
    let bytes = fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn shipped_profiles_have_no_data_loss_warning_for_their_own_workload() {
    let stacks = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks");
    let mut profiles: Vec<String> = fs::read_dir(&stacks)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.display().to_string())
        .collect();
    assert!(profiles.len() >= 3, "{profiles:?}");
    profiles.extend(["dev", "production", "ha"].map(String::from));
    for profile in &profiles {
        let (json, stderr) = cost_json(&["--profile", profile]);
        assert!(!stderr.contains("too small"), "{profile}: {stderr}");
        for c in json["components"].as_array().unwrap() {
            assert!(c["warning"].is_null(), "{profile}: {}", c["warning"]);
        }
    }
}

#[test]
fn a_too_small_volume_warns_in_validate_and_plan_and_up_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write(
        dir.path(),
        "small.yaml",
        "name: small\nextends: production\nlogs: {storage: 50Gi}\n",
    );
    let out = obsctl()
        .args(["profile", "validate", &profile])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "a warning, not an error: {stderr}");
    assert!(
        stderr.contains("warning:") && stderr.contains("logs: the volume `50Gi` is too small"),
        "{stderr}"
    );
    let out = obsctl()
        .args(["plan", "--profile", &profile])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("logs: the volume `50Gi` is too small"),
        "{stderr}"
    );
    let out = obsctl()
        .args(["up", "--yes", "--profile", &profile])
        .env("KUBECONFIG", dir.path().join("none"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("refusing to install profile `small`")
            && stderr.contains("--accept-data-loss"),
        "{stderr}"
    );
    // With the flag, `up` goes on past the check (and stops later, here for want of a cluster).
    let out = obsctl()
        .args(["up", "--yes", "--accept-data-loss", "--profile", &profile])
        .env("KUBECONFIG", dir.path().join("none"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("too small"), "still warned: {stderr}");
    assert!(!stderr.contains("refusing to install"), "{stderr}");
    // A dry run only warns.
    let out = obsctl()
        .args(["up", "--dry-run", "--profile", &profile])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("too small"), "{stderr}");
    // The shipped production profile passes both.
    let out = obsctl()
        .args(["plan", "--profile", "production"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("too small"));
}
