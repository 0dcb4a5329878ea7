//! `obsctl verify` right after `up`: a stack still warming up passes within the timeout, the same
//! stack left broken fails with what was seen last; and only this run's span counts as evidence
//! of span metrics. Real Prometheus and Alertmanager, restarted while verify runs, plus the
//! wiremock fakes with a warm-up on Loki's and Tempo's `/ready`.

mod verify_support;

use std::time::Duration;

use verify_support::{
    check, free_port, not_passed, run_verify, Behaviour, Fakes, Monitoring, Options, NAMESPACE,
};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn args(fakes: &Fakes, monitoring: &Monitoring, extra: &[&str]) -> Vec<String> {
    let mut a = fakes.url_args();
    a.extend([
        "--prometheus-url".to_string(),
        monitoring.prometheus_url.clone(),
        "--alertmanager-url".to_string(),
        monitoring.alertmanager_url.clone(),
    ]);
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn millis(report: &serde_json::Value, key: &str) -> u64 {
    check(report, key)["duration_ms"].as_u64().unwrap()
}

fn detail(report: &serde_json::Value, key: &str) -> String {
    check(report, key)["detail"].as_str().unwrap().to_string()
}

/// A scrape job of the stack's namespace whose target answers `/metrics` after `delay`: not
/// scraped yet (`unknown`) until its first scrape ends.
async fn slow_exporter(delay: Duration, interval: &str, timeout: &str) -> (MockServer, String) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("slow_exporter_up 1\n", "text/plain; version=0.0.4")
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    let job = format!(
        "- job_name: slow-exporter\n  scrape_interval: {interval}\n  scrape_timeout: {timeout}\n  static_configs: [{{targets: [\"{}\"], labels: {{namespace: {NAMESPACE}}}}}]\n",
        server.address()
    );
    (server, job)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_still_warming_up_passes_within_the_timeout() {
    // Loki's and Tempo's ingesters wait 3 s after being ready.
    let fakes = Fakes::start(Behaviour {
        warm_up: Duration::from_secs(3),
        ..Behaviour::default()
    })
    .await;
    // A target whose first scrape takes 3 s.
    let (_exporter, job) = slow_exporter(Duration::from_secs(3), "10s", "8s").await;
    let mut monitoring = Monitoring::start_with(Options {
        generated_metrics: Some(&fakes.generated_metrics_addr()),
        more_scrape: job,
        resend_delay: "3s",
        // The Alertmanager restarts below: as a target it would be down, not warming.
        scrape_alertmanager: false,
        ..Options::default()
    })
    .await;
    // Prometheus starts again 2 s into the run (no target scraped, no rule evaluated yet); a
    // fresh Alertmanager 4 s in, which gets the Watchdog on Prometheus' next resend.
    monitoring.restart_prometheus_after(Duration::from_secs(2));
    monitoring.restart_alertmanager_after(Duration::from_secs(4));

    let (code, report, stderr, wall) = tokio::task::block_in_place(|| {
        run_verify(&args(&fakes, &monitoring, &["--timeout", "40s"]), &[])
    });
    assert_eq!(code, 0, "{:#?}\n{stderr}", not_passed(&report));
    assert!(wall < Duration::from_secs(40), "took {wall:?}");

    // Each waited for its component, and says what it found in the end.
    assert!(millis(&report, "prometheus/ready") >= 1_500, "{report:#}");
    assert_eq!(
        detail(&report, "prometheus/ready"),
        format!("ready at {}/", monitoring.prometheus_url)
    );
    assert!(millis(&report, "prometheus/targets") >= 1_500, "{report:#}");
    assert!(detail(&report, "prometheus/targets").starts_with("3 targets up in monitoring"));
    assert!(millis(&report, "alertmanager/ready") >= 3_000, "{report:#}");
    assert!(detail(&report, "alertmanager/alert-delivery").starts_with("Watchdog arrived"));
    for ready in ["loki/ready", "tempo/ready"] {
        assert!(millis(&report, ready) >= 2_500, "{ready}: {report:#}");
        assert!(
            detail(&report, ready).starts_with("ready at "),
            "{report:#}"
        );
    }
    assert!(detail(&report, "tempo/metrics-from-traces").contains("from this run's span"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_stack_left_broken_fails_with_what_was_seen_last() {
    // Never ready; a target whose first scrape never ends within the run; an Alertmanager
    // Prometheus does not send to, with the default one-minute resend delay.
    let fakes = Fakes::start(Behaviour {
        warm_up: Duration::MAX,
        ..Behaviour::default()
    })
    .await;
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let job = format!(
        "- job_name: silent-exporter\n  scrape_interval: 1m\n  scrape_timeout: 1m\n  static_configs: [{{targets: [\"{}\"], labels: {{namespace: {NAMESPACE}}}}}]\n",
        silent.local_addr().unwrap()
    );
    let monitoring = Monitoring::start_with(Options {
        more_scrape: job,
        resend_delay: "1m",
        alerting_to: Some(format!("127.0.0.1:{}", free_port())),
        ..Options::default()
    })
    .await;
    let (code, report, _, wall) = tokio::task::block_in_place(|| {
        run_verify(
            &args(
                &fakes,
                &monitoring,
                &[
                    "--only",
                    "prometheus,alertmanager,loki,tempo",
                    "--timeout",
                    "8s",
                ],
            ),
            &[],
        )
    });
    assert_eq!(code, 1);
    // The run's bound is unchanged.
    assert!(wall < Duration::from_secs(20), "took {wall:?}");

    let targets = detail(&report, "prometheus/targets");
    assert!(
        targets
            .starts_with("1 of 3 targets in monitoring not scraped yet: silent-exporter http://"),
        "{targets}"
    );
    assert!(
        targets.contains("(unknown) (still so at the deadline, for the last "),
        "{targets}"
    );
    for (ready, url) in [
        ("loki/ready", fakes.loki.uri()),
        ("tempo/ready", fakes.tempo.uri()),
    ] {
        let text = detail(&report, ready);
        assert!(
            text.starts_with(&format!(
                "GET {url}/ready: answered 503 Service Unavailable: Ingester not ready: waiting for 15s after being ready (still so at the deadline, for the last "
            )),
            "{ready}: {text}"
        );
        assert!(millis(&report, ready) >= 7_000, "{ready} gave up early");
    }
    let delivery = detail(&report, "alertmanager/alert-delivery");
    assert!(
        delivery.starts_with("the Watchdog rule is loaded but its alert did not reach Alertmanager within 8s (Prometheus sends to http://127.0.0.1:"),
        "{delivery}"
    );
    assert!(
        delivery.contains("; last seen (for ") && delivery.ends_with("Watchdog firing in Prometheus, not yet in Alertmanager (allowed 66s: resend delay 60s, evaluation interval 1s, 5s to deliver)"),
        "{delivery}"
    );
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watchdog_overdue_past_its_resend_window_fails_at_once() {
    let fakes = Fakes::start(Behaviour::default()).await;
    let monitoring = Monitoring::start_with(Options {
        alerting_to: Some(format!("127.0.0.1:{}", free_port())),
        ..Options::default()
    })
    .await;
    let (code, report, _, _) = tokio::task::block_in_place(|| {
        run_verify(
            &args(
                &fakes,
                &monitoring,
                &["--only", "alertmanager", "--timeout", "30s"],
            ),
            &[],
        )
    });
    assert_eq!(code, 1);
    let delivery = check(&report, "alertmanager/alert-delivery");
    let text = delivery["detail"].as_str().unwrap();
    assert!(
        text.starts_with("Watchdog has been firing in Prometheus for "),
        "{text}"
    );
    assert!(
        text.contains("longer than allowed (7s: resend delay 1s, evaluation interval 1s, 5s to deliver) (Prometheus sends to http://127.0.0.1:"),
        "{text}"
    );
    // 7 s allowed: far sooner than the 30 s timeout.
    assert!(delivery["duration_ms"].as_u64().unwrap() < 15_000, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_span_metrics_series_without_this_runs_span_fails() {
    let fakes = Fakes::start(Behaviour {
        spanmetrics_stale: true,
        ..Behaviour::default()
    })
    .await;
    let monitoring = Monitoring::start(Some(&fakes.generated_metrics_addr()), None).await;
    let (code, report, _, _) = tokio::task::block_in_place(|| {
        run_verify(
            &args(&fakes, &monitoring, &["--only", "tempo", "--timeout", "6s"]),
            &[],
        )
    });
    assert_eq!(code, 1);
    assert_eq!(check(&report, "tempo/push")["status"], "pass");
    let text = detail(&report, "tempo/metrics-from-traces");
    assert!(
        text.starts_with("no traces_spanmetrics_calls_total sample of service obsctl-verify newer than this run's span within 6s"),
        "{text}"
    );
    assert!(
        text.contains("traces_spanmetrics_calls_total{service=\"obsctl-verify\"} has only samples from before this run's span was pushed (newest at "),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_line_of_an_earlier_run_does_not_pass_read_back() {
    let fakes = Fakes::start(Behaviour {
        loki_loses_pushes: true,
        ..Behaviour::default()
    })
    .await;
    let (code, report, _, _) = tokio::task::block_in_place(|| {
        run_verify(
            &[
                fakes.url_args(),
                [
                    "--only".into(),
                    "loki".into(),
                    "--timeout".into(),
                    "4s".into(),
                ]
                .to_vec(),
            ]
            .concat(),
            &[],
        )
    });
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(check(&report, "loki/push")["status"], "pass");
    let text = detail(&report, "loki/read-back");
    assert!(text.contains("found nothing within 4s"), "{text}");
}
