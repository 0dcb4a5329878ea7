//! `obsctl verify` against real Prometheus and Alertmanager (remote-write receiver and exemplar
//! storage on, scraping themselves, a rule file with the Watchdog, alerting to that Alertmanager)
//! plus wiremock fakes of Grafana, Loki, Tempo and the Kubernetes API.

mod verify_support;

use std::time::Duration;

use verify_support::{
    check, not_passed, run_verify, run_verify_profile, slo_rules, Behaviour, Fakes, Monitoring,
    GRAFANA_PASSWORD,
};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_stack_passes_every_check() {
    let fakes = Fakes::start(Behaviour::default()).await;
    // dev monitors the stack itself: its SLO rules are loaded, as on a healthy stack.
    let monitoring = Monitoring::start(Some(&fakes.generated_metrics_addr()), None).await;
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("verify.xml");
    let (code, report, stderr, _) = run_verify(
        &args(
            &fakes,
            &monitoring,
            &["--timeout", "40s", "--junit", junit.to_str().unwrap()],
        ),
        &[],
    );
    assert_eq!(code, 0, "{:#?}\n{stderr}", not_passed(&report));
    assert!(not_passed(&report).is_empty(), "{:#?}", not_passed(&report));

    // Every component ran, each check with a detail and a duration.
    let checks = report["checks"].as_array().unwrap();
    for component in [
        "workloads",
        "prometheus",
        "alertmanager",
        "grafana",
        "loki",
        "tempo",
        "correlation",
        "collector",
    ] {
        assert!(
            checks.iter().any(|c| c["component"] == component),
            "{component} missing"
        );
    }
    for c in checks {
        assert!(!c["detail"].as_str().unwrap().is_empty(), "{c}");
        assert!(c["duration_ms"].is_u64(), "{c}");
    }
    assert_eq!(report["summary"]["pass"], checks.len());
    assert_eq!(report["summary"]["fail"], 0);

    // What each check saw, in its own words.
    let detail = |key: &str| check(&report, key)["detail"].as_str().unwrap().to_string();
    assert!(detail("prometheus/targets").starts_with("3 targets up in monitoring"));
    assert!(
        detail("prometheus/rules").contains("obsctl's 4 groups loaded"),
        "{}",
        detail("prometheus/rules")
    );
    assert_eq!(
        detail("prometheus/features"),
        "remote-write receiver on, exemplar storage on (as the profile needs)"
    );
    assert!(detail("alertmanager/cluster").starts_with("clustering disabled"));
    assert!(detail("alertmanager/alert-delivery").starts_with("Watchdog arrived from Prometheus"));
    assert!(detail("tempo/metrics-from-traces").contains("traces_spanmetrics_calls_total"));
    assert!(detail("correlation/log-to-trace").starts_with("log line → derived field"));
    assert!(detail("collector/rollout").contains("each of 2 nodes (1 nodes excluded"));
    for uid in ["prometheus", "alertmanager", "loki", "tempo"] {
        assert!(detail(&format!("grafana/datasource/{uid}")).contains("healthy"));
    }

    // The collector's marker pod was created and deleted.
    let (created, deleted) = fakes.marker_pods();
    assert_eq!(created.len(), 1);
    assert_eq!(created, deleted);

    // The Grafana password, read from the Secret, shows nowhere.
    assert!(!report.to_string().contains(GRAFANA_PASSWORD));
    assert!(!stderr.contains(GRAFANA_PASSWORD));

    // JUnit: one test case per check, none failed.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), checks.len());
    assert!(xml.contains("failures=\"0\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_alertmanager_fails_by_name() {
    let fakes = Fakes::start(Behaviour::default()).await;
    let mut monitoring = Monitoring::start(None, None).await;
    monitoring.alertmanager.stop();
    let (code, report, _, _) = run_verify(
        &args(
            &fakes,
            &monitoring,
            &["--only", "alertmanager,prometheus", "--timeout", "20s"],
        ),
        &[],
    );
    assert_eq!(code, 1);
    let ready = check(&report, "alertmanager/ready");
    assert_eq!(ready["status"], "fail");
    let text = ready["detail"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("GET {}/-/ready: ", monitoring.alertmanager_url)),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
    for dependent in ["alertmanager/cluster", "alertmanager/alert-delivery"] {
        let c = check(&report, dependent);
        assert_eq!(c["status"], "skip");
        assert_eq!(c["detail"], "alertmanager/ready failed");
    }
    // Prometheus itself is fine.
    assert_eq!(check(&report, "prometheus/ready")["status"], "pass");
    // Only the components asked for.
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["component"] == "alertmanager" || c["component"] == "prometheus"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_accepts_and_never_answers_fails_within_the_timeout() {
    // The kernel completes connections into the backlog; nobody ever reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let fakes = Fakes::start(Behaviour::default()).await;
    let mut a = fakes.url_args();
    a.extend(
        [
            "--prometheus-url",
            &url,
            "--only",
            "prometheus,grafana",
            "--timeout",
            "3s",
        ]
        .map(String::from),
    );
    let (code, report, _, wall) = run_verify(&a, &[]);
    assert_eq!(code, 1);
    let ready = check(&report, "prometheus/ready");
    assert_eq!(ready["status"], "fail");
    let text = ready["detail"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("GET {url}/-/ready: no answer within")),
        "{text}"
    );
    assert!(ready["duration_ms"].as_u64().unwrap() < 4_000);
    // The checks that need a ready Prometheus did not run; Grafana was not held up.
    assert_eq!(check(&report, "prometheus/rules")["status"], "skip");
    assert_eq!(check(&report, "grafana/health")["status"], "pass");
    // Bounded: the 3 s run plus process start-up, with a generous margin for a loaded machine.
    assert!(wall < Duration::from_secs(15), "took {wall:?}");
    drop(silent);
}

/// obsctl's own rule groups (the production profile's SLOs) must be loaded and evaluating: the
/// rule file is what `obsctl slo rules --format prometheus` prints for the profile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn obsctls_slo_rule_groups_must_be_loaded_and_evaluating() {
    let slo_rules = slo_rules("production");
    let groups = slo_rules.matches("\n- name: ").count();
    assert!(groups >= 2, "{slo_rules}");

    let args = |m: &Monitoring| -> Vec<String> {
        [
            "--only",
            "prometheus",
            "--timeout",
            "20s",
            "--prometheus-url",
            &m.prometheus_url,
        ]
        .map(String::from)
        .to_vec()
    };
    let with_slos = Monitoring::start(None, Some(&slo_rules)).await;
    let (code, report, _, _) = run_verify_profile("production", &args(&with_slos), &[]);
    assert_eq!(code, 0, "{:#?}", not_passed(&report));
    let detail = check(&report, "prometheus/rules")["detail"]
        .as_str()
        .unwrap();
    assert!(
        detail.contains(&format!("obsctl's {groups} groups loaded")),
        "{detail}"
    );
    drop(with_slos);

    let without = Monitoring::start(None, None).await;
    let (code, report, _, _) = run_verify_profile("production", &args(&without), &[]);
    assert_eq!(code, 1);
    let detail = check(&report, "prometheus/rules")["detail"]
        .as_str()
        .unwrap();
    assert!(
        detail.starts_with("rule group `slo-checkout-availability` not loaded"),
        "{detail}"
    );
}
