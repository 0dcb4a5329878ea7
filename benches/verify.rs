//! Benchmark: `obsctl verify`'s total wall time against its slowest single check (target: at
//! most 1.2×), against the real Prometheus and Alertmanager plus fakes with set delays: every fake
//! answer takes 25 ms, Grafana's datasource health checks 800 ms, a pushed log line is readable
//! after 2 s and a pushed span after 1.5 s (Loki's and Tempo's ingestion delay).
//!
//! `cargo bench --bench verify` (scripts/bench.sh verify). Wall time is the whole process, as a CI
//! job sees it: start-up, profile, render, every check, the report.

#[path = "../tests/verify_support/mod.rs"]
mod verify_support;

use std::time::Duration;

use verify_support::{not_passed, run_verify, Behaviour, Fakes, Monitoring};

const RUNS: usize = 10;
const TARGET: f64 = 1.2;

fn main() {
    // `cargo test --all-targets` runs benchmarks without `--bench`: nothing to measure then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("verify benchmark: run with `cargo bench --bench verify`");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let code = runtime.block_on(bench());
    std::process::exit(code);
}

async fn bench() -> i32 {
    let fakes = Fakes::start(Behaviour {
        latency: Duration::from_millis(25),
        grafana_health: Duration::from_millis(800),
        loki_ingest: Duration::from_millis(2000),
        tempo_ingest: Duration::from_millis(1500),
        ..Behaviour::default()
    })
    .await;
    let monitoring = Monitoring::start(Some(&fakes.generated_metrics_addr()), None).await;
    let mut args = fakes.url_args();
    args.extend([
        "--prometheus-url".into(),
        monitoring.prometheus_url.clone(),
        "--alertmanager-url".into(),
        monitoring.alertmanager_url.clone(),
        "--timeout".into(),
        "30s".into(),
    ]);

    println!(
        "== obsctl verify, all components, {RUNS} runs (target: wall ≤ {TARGET} × slowest check)"
    );
    let mut ratios = Vec::new();
    let mut walls = Vec::new();
    let mut checks = 0;
    for run in 1..=RUNS {
        let (code, report, stderr, wall) = tokio::task::block_in_place(|| run_verify(&args, &[]));
        if code != 0 {
            eprintln!(
                "run {run}: exit {code}: {:#?}\n{stderr}",
                not_passed(&report)
            );
            return 1;
        }
        let list = report["checks"].as_array().unwrap();
        checks = list.len();
        let slowest = list
            .iter()
            .max_by_key(|c| c["duration_ms"].as_u64().unwrap())
            .unwrap();
        let slowest_ms = slowest["duration_ms"].as_u64().unwrap() as f64;
        let sum_ms: u64 = list
            .iter()
            .map(|c| c["duration_ms"].as_u64().unwrap())
            .sum();
        let wall_ms = wall.as_secs_f64() * 1000.0;
        let ratio = wall_ms / slowest_ms;
        println!(
            "run {run:2}: wall {wall_ms:6.0} ms, slowest {}/{} {slowest_ms:5.0} ms, ratio {ratio:.3} (sum of all checks {sum_ms} ms)",
            slowest["component"].as_str().unwrap(),
            slowest["check"].as_str().unwrap(),
        );
        ratios.push(ratio);
        walls.push(wall_ms);
    }
    ratios.sort_by(f64::total_cmp);
    walls.sort_by(f64::total_cmp);
    let median = ratios[RUNS / 2];
    let worst = ratios[RUNS - 1];
    let pass = worst <= TARGET;
    println!(
        "verify ({checks} checks): wall median {:.0} ms; ratio median {median:.3}, worst {worst:.3} -> {} (≤ {TARGET})",
        walls[RUNS / 2],
        if pass { "PASS" } else { "FAIL" }
    );
    if pass {
        0
    } else {
        1
    }
}
