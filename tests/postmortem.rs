//! `obsctl postmortem` against a real Prometheus: a month of synthetic traffic with a known
//! incident (47 minutes at 45% errors on a 99.9% / 30d SLO, and 30% slow requests on a latency
//! SLO), backfilled with promtool, with obsctl's recording rules backfilled over it the way
//! promtool can (`create-blocks-from rules`, base increases first, the windows built from them
//! second). The computed figures match the truth worked out by hand below.
//!
//! Tolerance: budget consumed within 0.5% relative, the other ratios within 0.5% too. The data is
//! built so that every window edge falls on a sample (samples one minute apart, the incident on
//! whole minutes), so Prometheus' `increase()` needs no extrapolation and the figures are exact
//! up to float summation; the margin is for that and for Prometheus versions that select ranges
//! left-open (3.x), whose extrapolation is exact only for steady rates. Budget crossings are
//! exact to the minute. Alert times from the backfilled recorded series are points of the grid
//! promtool evaluated on (offset from the minute, so window edges fall between samples and
//! `increase()` extrapolates), from one evaluation before the hand-computed minute to two after.
//!
//! Runs in about 2 minutes on 2 cores (debug build, Prometheus 2.42): most of it promtool's
//! backfill of 32 days of one-minute samples and of the rules over the incident's 3 days.

mod common;
mod slo_support;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use common::{obsctl, tool};
use predicates::prelude::*;
use serde_json::Value;
use slo_support::{backfill, profile_and_rules, write_openmetrics, Prometheus, Series};

const DAY: usize = 1440;
/// 32 days of one-minute samples: the 30d window ending at the incident is fully covered, and so
/// is the one ending at its start.
const MINUTES: usize = 32 * DAY;
/// The incident ends this many minutes before the last sample.
const END_GAP: usize = DAY;
const INCIDENT: usize = 47;
const RPM: f64 = 1000.0;

const PROFILE: &str = r#"
name: postmortem-test
metrics: {retention: 120d}
slos:
  - name: checkout-availability
    service: checkout
    objective: 99.9
    window: 30d
    indicator:
      ratio:
        errors: http_requests_total{job="checkout",code=~"5.."}
        total: http_requests_total{job="checkout"}
  - name: search-latency
    service: search
    objective: 99
    window: 30d
    indicator:
      latency:
        metric: http_request_duration_seconds{job="search"}
        threshold: 0.5
  - name: batch-availability
    service: batch
    objective: 99.5
    window: 30d
    indicator:
      ratio:
        errors: http_requests_total{job="batch",code=~"5.."}
        total: http_requests_total{job="batch"}
  - name: live-availability
    service: live
    objective: 99.9
    window: 30d
    indicator:
      ratio:
        errors: http_requests_total{job="live",code=~"5.."}
        total: http_requests_total{job="live"}
  - name: archive-availability
    service: archive
    objective: 99.9
    window: 150d
    indicator:
      ratio:
        errors: http_requests_total{job="archive",code=~"5.."}
        total: http_requests_total{job="archive"}
"#;

/// Per-minute increases. Index k is the minute ending at `end − (MINUTES − 1 − k) min`.
struct Traffic {
    checkout_errors: Vec<f64>,
    search_slow: Vec<f64>,
    series: Vec<Series>,
}

fn incident_minutes() -> std::ops::Range<usize> {
    let last = MINUTES - 1 - END_GAP;
    last + 1 - INCIDENT..last + 1
}

fn traffic() -> Traffic {
    let incident = incident_minutes();
    let mut checkout_errors = vec![0.2; MINUTES];
    let mut search_slow = vec![1.0; MINUTES];
    let mut batch = vec![100.0; MINUTES];
    let mut batch_errors = vec![0.1; MINUTES];
    for k in incident.clone() {
        checkout_errors[k] = 0.45 * RPM;
        search_slow[k] = 0.30 * RPM;
        batch[k] = 0.0;
        batch_errors[k] = 0.0;
    }
    let all = vec![RPM; MINUTES];
    let minus = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x - y).collect::<Vec<_>>();
    let h = "http_request_duration_seconds";
    let series = vec![
        Series {
            selector: r#"http_requests_total{job="checkout",code="200"}"#.into(),
            per_minute: minus(&all, &checkout_errors),
        },
        Series {
            selector: r#"http_requests_total{job="checkout",code="503"}"#.into(),
            per_minute: checkout_errors.clone(),
        },
        Series {
            selector: r#"http_requests_total{job="batch",code="200"}"#.into(),
            per_minute: minus(&batch, &batch_errors),
        },
        Series {
            selector: r#"http_requests_total{job="batch",code="500"}"#.into(),
            per_minute: batch_errors,
        },
        Series {
            selector: format!(r#"{h}_bucket{{job="search",le="0.5"}}"#),
            per_minute: minus(&all, &search_slow),
        },
        Series {
            selector: format!(r#"{h}_bucket{{job="search",le="+Inf"}}"#),
            per_minute: all.clone(),
        },
        Series {
            selector: format!(r#"{h}_count{{job="search"}}"#),
            per_minute: all.clone(),
        },
        Series {
            selector: format!(r#"{h}_sum{{job="search"}}"#),
            per_minute: all.iter().map(|r| r * 0.1).collect(),
        },
    ];
    Traffic {
        checkout_errors,
        search_slow,
        series,
    }
}

/// The recording rules of `rules` (a plain rule file) whose record name passes `keep`, in one
/// group, without alerts: what `promtool tsdb create-blocks-from rules` can backfill.
fn recording_rules(rules: &Path, out: &Path, keep: impl Fn(&str) -> bool) {
    let doc: yaml_serde::Value = yaml_serde::from_str(&fs::read_to_string(rules).unwrap()).unwrap();
    let mut kept = Vec::new();
    for group in doc["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            if rule
                .get("record")
                .and_then(|r| r.as_str())
                .is_some_and(&keep)
            {
                kept.push(rule.clone());
            }
        }
    }
    let file = serde_json::json!({"groups": [{"name": "backfill", "rules": kept}]});
    fs::write(out, yaml_serde::to_string(&file).unwrap()).unwrap();
}

/// Backfills the rules of `rule_file` from `prometheus` over [start, end] every `eval_interval`
/// and moves the blocks into `data`.
fn backfill_rules(
    prometheus: &Prometheus,
    rule_file: &Path,
    (start, end): (i64, i64),
    eval_interval: &str,
    data: &Path,
) {
    let blocks = tempfile::tempdir().unwrap();
    let out = Command::new(tool("promtool"))
        .args(["tsdb", "create-blocks-from", "rules", "-q"])
        .arg(format!("--url={}", prometheus.url))
        .arg(format!("--start={start}"))
        .arg(format!("--end={end}"))
        .arg(format!("--eval-interval={eval_interval}"))
        .arg(format!("--output-dir={}", blocks.path().display()))
        .arg(rule_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool rules backfill failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for entry in fs::read_dir(blocks.path()).unwrap() {
        let entry = entry.unwrap();
        fs::rename(entry.path(), data.join(entry.file_name())).unwrap();
    }
}

/// A counter exporter for the live scenario: no requests until `failing_since` is set, then 20
/// a second, every one a 500.
fn live_exporter() -> (String, Arc<OnceLock<Instant>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let failing_since = Arc::new(OnceLock::<Instant>::new());
    let since = Arc::clone(&failing_since);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf);
            let n = since
                .get()
                .map_or(0.0, |t| (t.elapsed().as_secs_f64() * 20.0).floor());
            let body = format!(
                "# TYPE http_requests_total counter\nhttp_requests_total{{job=\"live\",code=\"500\"}} {n}\n"
            );
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (addr, failing_since)
}

/// How many times Prometheus at `url` has evaluated the rule group `group`, from its own metrics.
fn group_iterations(url: &str, group: &str) -> u64 {
    let suffix = format!(";{group}\"}} ");
    slo_support::get(&format!("{url}/metrics"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("prometheus_rule_group_iterations_total{"))
        .find_map(|l| Some(l.split_once(&suffix)?.1.trim().parse::<f64>().ok()? as u64))
        .unwrap_or(0)
}

/// Seconds past the minute of the samples of the recorded series `record` before `at`: the
/// offset of the grid promtool evaluated its group on.
fn evaluation_offset(prometheus: &Prometheus, record: &str, at: i64) -> f64 {
    let found = prometheus.query(&format!("timestamp({record})"), Some(at));
    let t = found
        .first()
        .and_then(|s| s["value"][1].as_str())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no {record} sample before {at}: {found:?}"));
    t.rem_euclid(60.0)
}

/// `2026-12-02T12:13:11.455Z` as unix seconds, with the fraction.
fn parse_rfc3339(text: &str) -> f64 {
    let at: jiff::Timestamp = text
        .parse()
        .unwrap_or_else(|e| panic!("not RFC 3339: {text}: {e}"));
    at.as_millisecond() as f64 / 1000.0
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn close(got: f64, want: f64, what: &str) {
    let tolerance = 0.005 * want.abs().max(1e-12);
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, want {want} (±0.5%)"
    );
}

fn num(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"))
}

fn run(args: &[String]) -> (Value, i32, String) {
    let out = obsctl().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{stderr}", String::from_utf8_lossy(&out.stdout)));
    (json, out.status.code().unwrap_or(-1), stderr)
}

fn slo<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {doc}"))
}

/// Unix seconds as RFC 3339 UTC, computed here independently of obsctl's formatting.
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The first step k (minutes after the start) at which the Workbook's 1h/5m and 6h/30m page
/// conditions hold on raw windows: a window W's ratio is the errors of its last W minutes over
/// W minutes of traffic; both windows must exceed burn rate × budget. obsctl's rules page at
/// the first evaluation after that (`tests/slo_rules.rs` proves it per tier), so the backfilled
/// recorded series must show the page within an evaluation of it.
fn page_minute(errors: &[f64], start: usize) -> (usize, usize) {
    let window = |t: usize, minutes: usize| {
        errors[t + 1 - minutes..=t].iter().sum::<f64>() / (minutes as f64 * RPM)
    };
    let holds = |t: usize, long: usize, short: usize, threshold: f64| {
        window(t, long) > threshold && window(t, short) > threshold
    };
    let first = |long, short, threshold| {
        (0..120)
            .find(|k| holds(start + k, long, short, threshold))
            .unwrap()
    };
    // Minute index `start + k` ends k+1 minutes after the incident start.
    (
        first(60, 5, 14.4 * 0.001) + 1,
        first(360, 30, 6.0 * 0.001) + 1,
    )
}

#[test]
fn the_postmortem_matches_the_hand_computed_impact() {
    let dir = tempfile::tempdir().unwrap();
    let (profile, rules) = profile_and_rules(dir.path(), PROFILE);

    let now = unix_now();
    let end = now / 60 * 60 - 60;
    let t = traffic();
    let om = dir.path().join("data.om");
    write_openmetrics(&om, &t.series, end);
    let data = dir.path().join("tsdb");
    backfill(&om, &data);
    let to = end - END_GAP as i64 * 60;
    let from = to - INCIDENT as i64 * 60;

    // Recording rules, the way promtool backfills them: each pass reads what the last one wrote.
    let base_rules = dir.path().join("base.yml");
    recording_rules(&rules, &base_rules, |r| r.contains(":increase5m"));
    let window_rules = dir.path().join("windows.yml");
    recording_rules(&rules, &window_rules, |r| {
        r.starts_with("slo:error_ratio:window")
            && r != "slo:error_ratio:window30d"
            && r != "slo:error_ratio:window150d"
    });
    let after = to + 6 * 3600 + 600;
    {
        let p = Prometheus::serve(&data, &[], "1m", "120d", None);
        // At the profile's scrape interval (30s by default), which the SLO groups run at: the
        // derived windows count the 5m increases recorded at that interval.
        let span = (from - 3 * 86_400 - 7200, after);
        backfill_rules(&p, &base_rules, span, "30s", &data);
    }
    {
        let p = Prometheus::serve(&data, &[], "1m", "120d", None);
        backfill_rules(&p, &window_rules, (from - 3600 - 600, after), "60s", &data);
    }
    let (exporter, failing_since) = live_exporter();
    let prometheus = Prometheus::serve(
        &data,
        std::slice::from_ref(&rules),
        "1s",
        "120d",
        Some(&exporter),
    );
    // Prometheus writes no ALERTS samples for a group's first two evaluations after it starts
    // (it restores `for` state after the second), though it does notify: the live errors begin
    // after them, so that ALERTS holds the whole live page. Meanwhile the rest runs.
    let live = {
        let url = prometheus.url.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            while group_iterations(&url, "slo-live-availability") < 2 {
                assert!(
                    started.elapsed() < Duration::from_secs(120),
                    "the live group never ran twice"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
            failing_since.set(Instant::now()).unwrap();
            unix_now()
        })
    };
    let url = prometheus.url.clone();
    let args = |slos: &str, from: &str, to: &str| -> Vec<String> {
        [
            "postmortem",
            "--output",
            "json",
            "--prometheus-url",
            url.as_str(),
            "--slo",
            slos,
            "--from",
            from,
            "--to",
            to,
            "--profile",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([profile.display().to_string()])
        .collect()
    };

    // The truth, by hand.
    let incident = incident_minutes();
    let window = |v: &[f64], last: usize| v[last + 1 - 30 * DAY..=last].iter().sum::<f64>();
    let checkout_bad = 450.0 * INCIDENT as f64; // 21,150
    let checkout_window_bad = window(&t.checkout_errors, incident.end - 1); // 21,150 + 0.2 × 43,153
    let window_total = RPM * 30.0 * DAY as f64; // 43.2M
    let checkout_allowed = 0.001 * window_total; // 43,200
    let checkout_remaining = 1.0 - checkout_window_bad / window_total / 0.001;
    let (page_1h, page_6h) = page_minute(&t.checkout_errors, incident.start);
    assert_eq!(
        (page_1h, page_6h),
        (2, 5),
        "by hand: 1h crosses 1.44% after 0.0144 × 60 / 0.45 ≈ 1.9 minutes, 6h crosses 0.6% after 0.006 × 360 / 0.45 = 4.8"
    );

    // RFC 3339 and unix seconds both work.
    let (doc, code, stderr) = run(&args(
        "checkout-availability,search-latency",
        &rfc3339(from),
        &to.to_string(),
    ));
    assert_eq!(code, 0, "{stderr}\n{doc}");
    let c = slo(&doc, "checkout-availability");
    assert_eq!(c["incident"]["from"], rfc3339(from));
    assert_eq!(c["incident"]["to"], rfc3339(to));
    assert_eq!(c["incident"]["minutes"], 47.0);
    close(
        num(&c["events"]["bad"], "bad"),
        checkout_bad,
        "checkout bad events",
    );
    close(
        num(&c["events"]["total"], "total"),
        47.0 * RPM,
        "checkout events",
    );
    close(
        num(&c["error_ratio"], "ratio"),
        0.45,
        "checkout error ratio",
    );
    close(
        num(&c["budget"]["allowed_bad"], "allowed"),
        checkout_allowed,
        "allowed bad events",
    );
    close(
        num(&c["budget"]["consumed_by_incident"], "consumed"),
        checkout_bad / checkout_allowed, // 48.96%
        "budget consumed by the incident",
    );
    close(
        num(&c["sli_window_after"], "sli"),
        1.0 - checkout_window_bad / window_total,
        "SLI after",
    );
    close(
        num(&c["budget"]["remaining_after"], "rem"),
        checkout_remaining,
        "budget left",
    );
    close(
        num(&c["budget"]["remaining_before"], "rem0"),
        0.8,
        "budget left before",
    );
    assert_eq!(c["policy_state"], "low");
    close(
        num(&c["peak_burn_rate"], "peak"),
        450.0,
        "peak 5m burn rate",
    );
    close(
        num(&c["full_outage_minutes"], "outage"),
        21.15,
        "full-outage minutes",
    );
    // 50% of the budget left was crossed at the 29th minute: 1 − (8640 + 449.8 m) / 43200 ≤ 0.5.
    assert_eq!(
        c["budget_crossings"][0]["at"],
        rfc3339(from + 29 * 60),
        "{c}"
    );
    assert_eq!(c["budget_crossings"][0]["state"], "low");
    // No ALERTS history in backfilled data: the alerts come from the recorded window series.
    let alerts = c["alerts"].as_array().unwrap();
    let page = alerts
        .iter()
        .find(|a| a["long_window"] == "1h")
        .unwrap_or_else(|| panic!("no 1h page in {alerts:#?}"));
    assert_eq!(page["source"], "recorded series");
    assert_eq!(page["severity"], "critical");
    // promtool evaluates the backfilled rules on a grid offset from the minute (the offset
    // differs from run to run: 9.7 s, 11.5 s and 53.2 s were seen), so a window's edges fall
    // between the one-minute samples and `increase()` extrapolates at the incident's edges.
    // Seen: the page fires 60 s + offset after the hand-computed minute and resolves at the
    // grid point nearest it. So: a point of that grid, from one evaluation before the
    // hand-computed minute to two after it.
    let grid = evaluation_offset(&prometheus, "slo:error_ratio:window1h", to);
    let on_grid = |minute_end: i64, what: &str, got: &Value| {
        let got = parse_rfc3339(got.as_str().unwrap_or_else(|| panic!("{what}: {got}")));
        let off_grid = ((got - grid).rem_euclid(60.0)).min(60.0 - (got - grid).rem_euclid(60.0));
        assert!(
            off_grid < 0.01 && (-60.001..=120.001).contains(&(got - minute_end as f64)),
            "{what}: {got} is not a grid point (offset {grid} s) from 60 s before to 120 s after {minute_end}"
        );
        got
    };
    let fired = on_grid(
        from + page_1h as i64 * 60,
        "1h page fired",
        &page["fired_at"],
    );
    // The 5m window falls back under 1.44% five minutes after the errors stop.
    on_grid(to + 5 * 60, "1h page resolved", &page["resolved_at"]);
    let six = alerts.iter().find(|a| a["long_window"] == "6h").unwrap();
    on_grid(
        from + page_6h as i64 * 60,
        "6h page fired",
        &six["fired_at"],
    );
    assert!(
        (num(&c["time_to_detect_seconds"], "ttd") - (fired - from as f64)).abs() < 0.01,
        "time to detect is from the start to the first page"
    );
    assert_eq!(num(&c["time_to_resolve_seconds"], "ttr"), 47.0 * 60.0);
    assert!(
        c["notes"].to_string().contains("recorded window series"),
        "{}",
        c["notes"]
    );

    // The latency SLO: 30% of requests slower than 0.5s against a 1% budget.
    let s = slo(&doc, "search-latency");
    let search_bad = 300.0 * INCIDENT as f64; // 14,100
    let search_window_bad = window(&t.search_slow, incident.end - 1);
    close(num(&s["events"]["bad"], "bad"), search_bad, "slow requests");
    close(num(&s["error_ratio"], "ratio"), 0.30, "slow ratio");
    close(
        num(&s["budget"]["consumed_by_incident"], "consumed"),
        search_bad / (0.01 * window_total), // 3.26%
        "latency budget consumed",
    );
    close(
        num(&s["budget"]["remaining_after"], "rem"),
        1.0 - search_window_bad / window_total / 0.01,
        "latency budget left",
    );
    assert_eq!(s["policy_state"], "healthy");
    assert_eq!(s["kind"], "latency");
    close(num(&s["peak_burn_rate"], "peak"), 30.0, "latency peak burn");

    // The document, for people, from the same facts.
    let md_path = dir.path().join("pm.md");
    let incident_file = dir.path().join("incident.yaml");
    fs::write(
        &incident_file,
        "title: Checkout errors\ncommander: Dana Reyes\nfiveWhys:\n  - why: Why?\n    because: Dana forgot the flag.\n",
    )
    .unwrap();
    let mut md_args = args("checkout-availability", &from.to_string(), &to.to_string());
    md_args[2] = "markdown".into();
    obsctl()
        .args(&md_args)
        .arg("--incident")
        .arg(&incident_file)
        .arg("--out")
        .arg(&md_path)
        .assert()
        .success()
        .stderr(
            predicate::str::contains(
                "incident.yaml:5:14: `fiveWhys[0].because`: blame phrasing “forgot”",
            )
            .and(predicate::str::contains("names a person (Dana Reyes)")),
        );
    let md = fs::read_to_string(&md_path).unwrap();
    assert!(md.starts_with("# Postmortem: Checkout errors\n"), "{md}");
    assert!(
        md.contains("21,150 of 47,000 requests counted by checkout-availability failed (45.00%)"),
        "{md}"
    );
    assert!(
        md.contains("spending 48.96% of its 30d error budget"),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "The first page fired {}m",
            ((fired - from as f64) / 60.0).floor()
        )) && md.contains(" after the start."),
        "{md}"
    );

    // An incident with no traffic: said so, no ratio, exit 1.
    let (doc, code, stderr) = run(&args(
        "batch-availability",
        &from.to_string(),
        &to.to_string(),
    ));
    assert_eq!(code, 1, "{doc}");
    let b = slo(&doc, "batch-availability");
    assert_eq!(b["events"]["total"], 0.0);
    assert_eq!(b["error_ratio"], Value::Null);
    assert_eq!(b["peak_burn_rate"], Value::Null);
    assert!(
        stderr.contains("no traffic in the incident window"),
        "{stderr}"
    );
    assert!(
        b["sli_window_after"].as_f64().is_some(),
        "the 30d window had traffic"
    );

    // A window longer than the retention is refused, naming it; nothing written.
    let refused = dir.path().join("refused.md");
    obsctl()
        .args(args(
            "archive-availability",
            &from.to_string(),
            &to.to_string(),
        ))
        .arg("--out")
        .arg(&refused)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("keeps only 120d of data")
                .and(predicate::str::contains("150d window")),
        );
    assert!(!refused.exists());

    // Live alerts: ALERTS has the history, and it is used. The SLO group runs at the profile's
    // scrape interval (30s): the page fires at its first or second evaluation with two scrapes.
    let live_start = live.join().unwrap();
    prometheus.wait_for(
        "ALERTS{alertname=\"SLOErrorBudgetBurn\",alertstate=\"firing\",slo=\"live-availability\",long_window=\"1h\"}",
        Duration::from_secs(120),
    );
    // The alert can fire on the second scrape; `--to` whole seconds later must see two samples.
    std::thread::sleep(Duration::from_secs(2));
    // The incident began a minute before the errors reached Prometheus; it is still going on.
    let live_from = live_start - 60;
    let live_to = unix_now().max(live_from + 60);
    let (doc, code, stderr) = run(&args(
        "live-availability",
        &live_from.to_string(),
        &live_to.to_string(),
    ));
    let l = slo(&doc, "live-availability");
    let alerts = l["alerts"].as_array().unwrap();
    let page = alerts
        .iter()
        .find(|a| a["long_window"] == "1h")
        .unwrap_or_else(|| panic!("no live page in {l:#}\n{stderr}"));
    assert_eq!(page["source"], "ALERTS", "{l:#}");
    assert_eq!(page["resolved_at"], Value::Null, "still firing");
    let ttd = num(&l["time_to_detect_seconds"], "ttd");
    assert!(
        (59.0..=(live_to - live_from) as f64 + 1.0).contains(&ttd),
        "the page fired after the errors began and before --to: {ttd}"
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn malformed_incident_files_and_flags_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile.yaml");
    fs::write(&profile, PROFILE).unwrap();
    let out = dir.path().join("pm.md");
    let base = |extra: &[&str]| {
        let mut cmd = obsctl();
        cmd.args([
            "postmortem",
            "--prometheus-url",
            "http://127.0.0.1:9",
            "--slo",
            "checkout-availability",
            "--from",
            "2026-11-03T14:02:00Z",
            "--to",
            "2026-11-03T14:49:00Z",
            "--profile",
        ])
        .arg(&profile)
        .arg("--out")
        .arg(&out)
        .args(extra);
        cmd
    };
    let cases: &[(&str, &str)] = &[
        (
            "title: x\nfiveWhy: []\n",
            "incident.yaml:2:1: `fiveWhy`: unknown key `fiveWhy`; did you mean `fiveWhys`?",
        ),
        (
            "timeline:\n  - at: noonish\n    text: x\n",
            "incident.yaml:2:9: `timeline[0].at`: invalid time `noonish`",
        ),
        (
            "actionItems:\n  - action: x\n    priority: P7\n",
            "`actionItems[0].priority`",
        ),
        ("title: [x\n", "incident.yaml:"),
    ];
    for (text, want) in cases {
        let file = dir.path().join("incident.yaml");
        fs::write(&file, text).unwrap();
        base(&["--incident", file.to_str().unwrap()])
            .current_dir(dir.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*want));
        assert!(!out.exists(), "nothing written for {text:?}");
    }
    base(&["--slo", "checkout-availabilty"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean `checkout-availability`?",
        ));
    for (from, to, want) in [
        (
            "yesterday",
            "2026-11-03T14:49:00Z",
            "--from: invalid time `yesterday`",
        ),
        (
            "2026-11-03T14:02:00Z",
            "2026-11-03T14:00:00Z",
            "--to must be later than --from",
        ),
    ] {
        obsctl()
            .args([
                "postmortem",
                "--prometheus-url",
                "http://127.0.0.1:9",
                "--slo",
                "checkout-availability",
            ])
            .args(["--from", from, "--to", to, "--profile"])
            .arg(&profile)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(want));
    }
    assert!(!out.exists());
}

#[test]
fn the_template_is_a_valid_incident_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = obsctl()
        .args(["postmortem", "--template"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("fiveWhys:") && text.contains("actionItems:"),
        "{text}"
    );
    let file: PathBuf = dir.path().join("incident.yaml");
    fs::write(&file, &text).unwrap();
    // Accepted by the same reader (an unreachable Prometheus is the next thing to fail, exit 1).
    obsctl()
        .args([
            "postmortem",
            "--prometheus-url",
            "http://127.0.0.1:9",
            "--timeout",
            "3s",
            "--slo",
            "checkout-availability",
            "--from",
            "2026-11-03T14:02:00Z",
            "--to",
            "2026-11-03T14:49:00Z",
            "--profile",
            "production",
        ])
        .arg("--incident")
        .arg(&file)
        .assert()
        .stderr(predicate::str::contains(
            "cannot reach Prometheus at http://127.0.0.1:9",
        ));
}

#[test]
fn a_per_label_slo_gets_an_impact_per_group_the_most_spent_first() {
    let dir = tempfile::tempdir().unwrap();
    let (profile, _) = profile_and_rules(
        dir.path(),
        r#"
name: groups-postmortem
metrics: {retention: 30d}
slos:
  - name: routes
    service: shop
    objective: 99.9
    window: 3d
    groupBy: [route]
    indicator:
      ratio:
        errors: http_requests_total{job="shop",code=~"5.."}
        total: http_requests_total{job="shop"}
"#,
    );
    // Four days at 1000 requests a minute per route; the incident is 30 minutes ending an hour
    // before the last sample: /pay fails 10% of its requests then, /browse 0.5%.
    let minutes = 4 * DAY;
    let end = unix_now() / 60 * 60;
    let incident = minutes - 90..minutes - 60;
    let route = |route: &str, code: &str, during: f64, outside: f64| Series {
        selector: format!(r#"http_requests_total{{job="shop",route="{route}",code="{code}"}}"#),
        per_minute: (0..minutes)
            .map(|i| {
                if incident.contains(&i) {
                    during
                } else {
                    outside
                }
            })
            .collect(),
    };
    let series = vec![
        route("/browse", "200", 995.0, 1000.0),
        route("/browse", "500", 5.0, 0.0),
        route("/pay", "200", 900.0, 1000.0),
        route("/pay", "500", 100.0, 0.0),
    ];
    let data = dir.path().join("data.om");
    write_openmetrics(&data, &series, end);
    let prometheus = Prometheus::start(&data, &[], "1s");
    let (from, to) = (rfc3339(end - 90 * 60), rfc3339(end - 60 * 60));
    let args: Vec<String> = [
        "postmortem",
        "--output",
        "json",
        "--prometheus-url",
        &prometheus.url,
        "--slo",
        "routes",
        "--from",
        &from,
        "--to",
        &to,
        "--profile",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([profile.display().to_string()])
    .collect();
    let (doc, code, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    let impacts = doc["slos"].as_array().unwrap();
    let routes: Vec<&str> = impacts
        .iter()
        .map(|i| i["group"]["route"].as_str().unwrap())
        .collect();
    assert_eq!(routes, ["/pay", "/browse"], "the most spent first");
    // By hand: the 3d window ending at --to saw 4,320,000 requests per route, so 4,320 failures
    // were allowed; /pay failed 3,000 in the incident, /browse 150.
    let allowed = 0.001 * 1000.0 * 3.0 * DAY as f64;
    close(
        num(&impacts[0]["budget"]["consumed_by_incident"], "/pay"),
        3000.0 / allowed,
        "/pay consumed",
    );
    close(
        num(&impacts[1]["budget"]["consumed_by_incident"], "/browse"),
        150.0 / allowed,
        "/browse consumed",
    );
    close(
        num(&impacts[0]["error_ratio"], "/pay ratio"),
        0.1,
        "/pay error ratio",
    );
    // The document names each group.
    let md_args: Vec<String> = args
        .iter()
        .filter(|a| *a != "--output" && *a != "json")
        .cloned()
        .collect();
    let out = obsctl().args(&md_args).output().unwrap();
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("routes{route=\"/pay\"}"), "{md}");
    assert!(md.contains("routes{route=\"/browse\"}"), "{md}");
}
