//! `obsctl verify` when something is wrong, against wiremock fakes of Grafana, Loki, Tempo and the
//! Kubernetes API in their documented failure modes; and bad usage (exit 2, nothing written).

mod verify_support;

use serde_json::json;
use verify_support::{check, not_passed, run_verify, Behaviour, Fakes, GRAFANA_PASSWORD};

fn with(fakes: &Fakes, extra: &[&str]) -> Vec<String> {
    let mut a = fakes.url_args();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grafana_400_for_an_unhealthy_datasource_fails_that_datasource() {
    let fakes = Fakes::start(Behaviour {
        unhealthy: vec!["loki".into()],
        ..Behaviour::default()
    })
    .await;
    let (code, report, _, _) = run_verify(&with(&fakes, &["--only", "grafana"]), &[]);
    assert_eq!(code, 1);
    let loki = check(&report, "grafana/datasource/loki");
    assert_eq!(loki["status"], "fail");
    assert_eq!(
        loki["detail"],
        "loki datasource unhealthy (ERROR): Unable to connect with Loki. Please check the server logs for more details."
    );
    for uid in ["prometheus", "alertmanager", "tempo"] {
        assert_eq!(
            check(&report, &format!("grafana/datasource/{uid}"))["status"],
            "pass"
        );
    }
    assert_eq!(check(&report, "grafana/links")["status"], "pass");
    assert_eq!(report["summary"], json!({"pass": 5, "fail": 1, "skip": 0}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_to_a_missing_uid_fails_the_links_check() {
    let fakes = Fakes::start(Behaviour {
        link_override: Some((
            "tempo".into(),
            "/jsonData/tracesToLogsV2/datasourceUid".into(),
            json!("loki-old"),
        )),
        ..Behaviour::default()
    })
    .await;
    let (code, report, _, _) = run_verify(&with(&fakes, &["--only", "grafana"]), &[]);
    assert_eq!(code, 1);
    let links = check(&report, "grafana/links");
    assert_eq!(links["status"], "fail");
    assert_eq!(
        links["detail"],
        "tempo jsonData.tracesToLogsV2.datasourceUid = `loki-old`, expected `loki` (no datasource has uid `loki-old`)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loki_refusing_a_push_fails_the_push_and_skips_what_needs_it() {
    let fakes = Fakes::start(Behaviour {
        loki_push_status: 260,
        ..Behaviour::default()
    })
    .await;
    let (code, report, _, _) = run_verify(
        &with(
            &fakes,
            &["--only", "loki,tempo,correlation", "--timeout", "10s"],
        ),
        &[("GRAFANA_TOKEN", "glsa_test_token")],
    );
    assert_eq!(code, 1);
    let push = check(&report, "loki/push");
    assert_eq!(push["status"], "fail");
    let detail = push["detail"].as_str().unwrap();
    assert!(
        detail.starts_with(&format!(
            "POST {}/loki/api/v1/push: answered 260",
            fakes.loki.uri()
        )),
        "{detail}"
    );
    assert_eq!(
        check(&report, "loki/read-back")["detail"],
        "loki/push failed"
    );
    assert_eq!(check(&report, "correlation/log-to-trace")["status"], "skip");
    assert_eq!(
        check(&report, "correlation/log-to-trace")["detail"],
        "loki/push failed"
    );
    // Tempo's round trip is independent, and reads back Tempo's base64 ids as the pushed hex.
    assert_eq!(check(&report, "tempo/read-back")["status"], "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_in_crash_loop_backoff_fails_the_restarts_check() {
    let fakes = Fakes::start(Behaviour {
        crash_loop: true,
        ..Behaviour::default()
    })
    .await;
    let (code, report, _, _) = run_verify(&with(&fakes, &["--only", "workloads"]), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        check(&report, "workloads/restarts")["detail"],
        "tempo-0/tempo restarted 7×, CrashLoopBackOff (last: Error, exit 1)"
    );
    for ok in ["workloads/ready", "workloads/volumes", "workloads/crds"] {
        assert_eq!(check(&report, ok)["status"], "pass", "{ok}");
    }
    assert_eq!(
        check(&report, "workloads/ready")["detail"],
        "11 workloads of 4 releases ready"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collector_must_run_on_every_node_and_label_pod_logs() {
    let fakes = Fakes::start(Behaviour {
        collector_short: true,
        ..Behaviour::default()
    })
    .await;
    let (code, report, _, _) = run_verify(&with(&fakes, &["--only", "collector"]), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        check(&report, "collector/rollout")["detail"],
        "DaemonSet otel-collector-agent: 1 ready, 2 scheduled, 2 updated, on 2 nodes it may run on (of 3)"
    );
    assert_eq!(check(&report, "collector/pod-logs")["status"], "skip");

    let fakes = Fakes::start(Behaviour {
        collector_drops_k8s_labels: true,
        ..Behaviour::default()
    })
    .await;
    let (code, report, _, _) = run_verify(&with(&fakes, &["--only", "collector"]), &[]);
    assert_eq!(code, 1);
    let logs = check(&report, "collector/pod-logs");
    let detail = logs["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("pod line reached Loki with wrong labels: k8s_container_name missing"),
        "{detail}"
    );
    assert!(detail.contains("k8s_pod_name missing"), "{detail}");
    // The marker pod is deleted even when the check fails.
    let (created, deleted) = fakes.marker_pods();
    assert_eq!(created.len(), 1);
    assert_eq!(created, deleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_come_from_the_secret_or_the_environment_and_never_show() {
    let fakes = Fakes::start(Behaviour::default()).await;
    // From the profile's admin Secret, through the (fake) cluster.
    let (code, report, stderr, _) = run_verify(&with(&fakes, &["--only", "grafana"]), &[]);
    assert_eq!(code, 0, "{:#?}", not_passed(&report));
    assert!(!report.to_string().contains(GRAFANA_PASSWORD) && !stderr.contains(GRAFANA_PASSWORD));
    // A token from the environment, with no cluster at all.
    let mut a = with(&fakes, &["--only", "grafana"]);
    let at = a.iter().position(|x| x == "--kubeconfig").unwrap();
    a[at + 1] = "/nonexistent/kubeconfig".into();
    let (code, report, _, _) = run_verify(&a, &[("GRAFANA_TOKEN", "glsa_test_token")]);
    assert_eq!(code, 0, "{:#?}", not_passed(&report));
    // Wrong credentials: Grafana's 401, named; the password never printed.
    let (code, report, stderr, _) = run_verify(
        &a,
        &[
            ("GRAFANA_USER", "admin"),
            ("GRAFANA_PASSWORD", "wrong-password-123"),
        ],
    );
    assert_eq!(code, 1);
    let text = check(&report, "grafana/datasource/loki")["detail"]
        .as_str()
        .unwrap();
    assert!(
        text.ends_with("Grafana refused the credentials (401 Unauthorized)"),
        "{text}"
    );
    assert!(!report.to_string().contains("wrong-password-123"));
    assert!(!stderr.contains("wrong-password-123"));
    // Neither variables nor a reachable cluster: the fix is in the message.
    let (code, report, _, _) = run_verify(&a, &[]);
    assert_eq!(code, 1);
    let text = check(&report, "grafana/links")["detail"].as_str().unwrap();
    assert!(
        text.starts_with("no Grafana credentials: set GRAFANA_USER and GRAFANA_PASSWORD (or GRAFANA_TOKEN), or let obsctl read Secret monitoring/grafana-admin"),
        "{text}"
    );
    // /api/health needs no credentials.
    assert_eq!(check(&report, "grafana/health")["status"], "pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_correlation_runs_its_prerequisites_unreported() {
    let fakes = Fakes::start(Behaviour::default()).await;
    let (code, report, _, _) = run_verify(
        &with(&fakes, &["--only", "correlation"]),
        &[("GRAFANA_TOKEN", "glsa_test_token")],
    );
    assert_eq!(code, 0, "{:#?}", not_passed(&report));
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0]["check"], "log-to-trace");
    assert!(checks[0]["detail"]
        .as_str()
        .unwrap()
        .contains("found through Grafana's `tempo` datasource"));

    // A prerequisite outside --only that fails makes the check fail, with its reason.
    let fakes = Fakes::start(Behaviour {
        loki_push_status: 400,
        ..Behaviour::default()
    })
    .await;
    let (code, report, _, _) = run_verify(
        &with(&fakes, &["--only", "correlation"]),
        &[("GRAFANA_TOKEN", "glsa_test_token")],
    );
    assert_eq!(code, 1);
    let detail = check(&report, "correlation/log-to-trace")["detail"]
        .as_str()
        .unwrap();
    assert!(detail.starts_with("loki/push: POST "), "{detail}");
    assert!(detail.contains("answered 400"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_cluster_verify_says_so_once_and_exits_2() {
    // One error before any check runs, naming the kubeconfig and the ways out (exit 2).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_obsctl"))
        .args(["verify", "--output", "json", "--only", "workloads"])
        .args(["--kubeconfig", "/nonexistent/kubeconfig"])
        .env_remove("OBSCTL_PROFILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "no report of checks that never ran");
    assert!(
        stderr.contains("kubeconfig /nonexistent/kubeconfig")
            && stderr.contains("--prometheus-url"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn bad_usage_exits_2_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("verify.xml");
    let cases: [(&[&str], &str); 5] = [
        (
            &["--only", "loki,promethues"],
            "invalid value 'promethues' for '--only <LIST>'",
        ),
        (
            &["--only", "loki,promethues"],
            "tip: a similar value exists: 'prometheus'",
        ),
        (
            &["--loki-url", "localhost:3100"],
            "--loki-url: `localhost:3100` is not a usable URL",
        ),
        (
            &["--grafana-url", "ftp://grafana"],
            "--grafana-url: `ftp://grafana` is not a usable URL: scheme `ftp`",
        ),
        (&["--timeout", "0s"], "--timeout must be longer than 0s"),
    ];
    for (args, message) in cases {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_obsctl"))
            .arg("verify")
            .args(args)
            .arg("--junit")
            .arg(&junit)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!junit.exists(), "{args:?} wrote the JUnit file");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn piped_output_is_one_plain_line_per_check() {
    let fakes = Fakes::start(Behaviour::default()).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_obsctl"))
        .arg("verify")
        .args(with(&fakes, &["--only", "loki"]))
        .env_remove("GRAFANA_TOKEN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0].starts_with("pass loki/ready "), "{stdout}");
    assert!(lines[1].starts_with("pass loki/push "), "{stdout}");
    assert!(lines[2].starts_with("pass loki/read-back "), "{stdout}");
    assert!(
        lines[3].starts_with("3 passed, 0 failed, 0 skipped in "),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "no terminal escapes in a pipe");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_server_that_refuses_is_named_with_its_address() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n",
    )
    .unwrap();
    // One error before any check runs (not one failure per check), exit 1: the kubeconfig is
    // fine, the cluster does not answer.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_obsctl"))
        .args([
            "verify",
            "--output",
            "json",
            "--only",
            "workloads,prometheus",
        ])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .env_remove("OBSCTL_PROFILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "the Kubernetes API at https://127.0.0.1:1 does not answer: connection refused"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("verify reaches workloads, prometheus through the cluster"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubernetes_api_errors_in_checks_name_the_api_server() {
    // An API server that answers, with a 500 to everything: the preflight lets it through (it
    // answered), and the check's failure names where it came from.
    let api = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(500).set_body_json(json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure",
            "message": "etcdserver: request timed out", "reason": "InternalError", "code": 500,
        })))
        .mount(&api)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{{name: k, cluster: {{server: '{}'}}}}]\nusers: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: c, context: {{cluster: k, user: u}}}}]\n", api.uri()),
    )
    .unwrap();
    let (code, report, stderr, _) = tokio::task::block_in_place(|| {
        run_verify(
            &[
                "--only".into(),
                "workloads".into(),
                "--timeout".into(),
                "5s".into(),
                "--kubeconfig".into(),
                kubeconfig.display().to_string(),
            ],
            &[],
        )
    });
    assert_eq!(code, 1, "{stderr}");
    let text = check(&report, "workloads/ready")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.starts_with(&format!("Kubernetes API at {}: ", api.uri())) && text.contains("500"),
        "{text}"
    );
}
