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
    // Hand-computed: 150,000 series / 30s for 30d = 1.296e10 samples; 100Gi at $0.08.
    let metrics = component(&json, "metrics");
    assert_eq!(metrics["assumptions"]["samples_in_retention"], 1.296e10);
    assert_eq!(metrics["requested_pvc"], "100Gi");
    assert_eq!(metrics["monthly_usd"], 8.0);
    // 20 GiB/day × 30 days ÷ 3.3 + 15% index + 2h WAL = 215.6 GiB, against a 50Gi volume.
    let logs = component(&json, "logs");
    let gib = logs["storage_gib"].as_f64().unwrap();
    assert!(
        (gib - (20.0 * 30.0 / 3.3 / 0.85 + 20.0 / 12.0)).abs() < 0.01,
        "{gib}"
    );
    assert!(logs["warning"].as_str().unwrap().contains("too small"));
    assert!(
        stderr.contains("warning: logs: the volume `50Gi` is too small"),
        "{stderr}"
    );

    let total: f64 = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["monthly_usd"].as_f64().unwrap())
        .sum();
    let reported = json["self_hosted_monthly_usd"].as_f64().unwrap();
    assert!((total - reported).abs() < 0.02, "{total} vs {reported}");

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
    assert_eq!(
        datadog["breakdown"]["custom-metrics"],
        Value::Null,
        "no sourced price"
    );
    assert_eq!(datadog["incomplete"], true);
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
  objectStorage: {price: 0.5, source: https://prices.example/object, date: undated}
vendors:
  acme:
    name: Acme
    plan: Flat
    items:
      hosts: {description: per host, quantity: hosts, price: 100, source: https://prices.example/acme, date: undated}
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
    // production's own `pricing:` wins over the catalog.
    let (json, _) = cost_json(&["--profile", "production", "--pricing", &catalog]);
    assert_eq!(component(&json, "metrics")["monthly_usd"], 8.0);
    assert_eq!(json["prices"]["block_storage"]["from"], "profile");
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
    assert!(stderr.contains("prices.yaml:9:"), "{stderr}");
    assert!(stderr.contains("found -1"), "{stderr}");
    let out = obsctl()
        .args(["cost", "--pricing", "/nonexistent/prices.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
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
        "self-hosted (profile)",
        "USD per month",
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
