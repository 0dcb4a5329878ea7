//! What `up` sends to the Kubernetes API (a wiremock fake following the documented shapes): CRD
//! server-side apply (body, `fieldManager`, `force`, content type), the wait for `Established`
//! and its bound, the Grafana admin Secret only when missing, and errors that name the API server.

mod common;
mod up_support;

use serde_json::{json, Value};
use up_support::fake_kube::{crd, status, Applied, FakeKube};
use up_support::{text, FakeHelm};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

const CRD_PATH: &str =
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/prometheusrules.monitoring.coreos.com";

#[tokio::test]
async fn crds_are_server_side_applied_by_obsctl_with_force_and_awaited() {
    let kube = FakeKube::start().await;
    // New CRDs come back from the apply without conditions, and the first read still shows
    // them not Established: obsctl has to poll.
    Mock::given(method("PATCH"))
        .and(path_regex("customresourcedefinitions"))
        .respond_with(Applied { established: false })
        .with_priority(1)
        .mount(&kube.server)
        .await;
    let mut pending = crd(
        "prometheusrules.monitoring.coreos.com",
        "monitoring.coreos.com",
    );
    pending["status"] = json!({"conditions": [{"type": "Established", "status": "False", "reason": "Installing", "message": ""}]});
    Mock::given(method("GET"))
        .and(path(CRD_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(pending))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&kube.server)
        .await;
    let helm = FakeHelm::new();
    let output = helm.obsctl(&kube, &["up", "--yes"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));

    let requests = kube.requests().await;
    let applies: Vec<_> = requests
        .iter()
        .filter(|r| {
            r.method.as_str() == "PATCH" && r.url.path().contains("customresourcedefinitions")
        })
        .collect();
    assert_eq!(applies.len(), 2, "the fake chart has two CRDs");
    for apply in &applies {
        let query: Vec<(String, String)> = apply.url.query_pairs().into_owned().collect();
        assert!(
            query.contains(&("fieldManager".into(), "obsctl".into())),
            "{query:?}"
        );
        assert!(
            query.contains(&("force".into(), "true".into())),
            "{query:?}"
        );
        assert_eq!(
            apply.headers.get("content-type").unwrap().to_str().unwrap(),
            "application/apply-patch+yaml"
        );
        let body: Value = serde_json::from_slice(&apply.body).unwrap();
        assert_eq!(body["apiVersion"], "apiextensions.k8s.io/v1");
        assert_eq!(body["kind"], "CustomResourceDefinition");
        assert_eq!(body["spec"]["group"], "monitoring.coreos.com");
        assert!(apply
            .url
            .path()
            .ends_with(body["metadata"]["name"].as_str().unwrap()));
    }
    let reads = requests
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == CRD_PATH)
        .count();
    assert_eq!(reads, 3, "two reads not Established, then Established");
    // No release started before the CRDs were Established.
    let first_upgrade = helm.calls_of("upgrade")[0]["start"].as_f64().unwrap();
    let crds_done = helm.calls_of("show")[0]["end"].as_f64().unwrap();
    assert!(crds_done <= first_upgrade);
}

#[tokio::test]
async fn crds_that_never_become_established_fail_within_the_timeout() {
    let kube = FakeKube::start().await;
    Mock::given(method("PATCH"))
        .and(path_regex("customresourcedefinitions"))
        .respond_with(Applied { established: false })
        .with_priority(1)
        .mount(&kube.server)
        .await;
    let mut pending = crd(
        "prometheusrules.monitoring.coreos.com",
        "monitoring.coreos.com",
    );
    pending["status"] = json!({});
    Mock::given(method("GET"))
        .and(path(CRD_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(pending))
        .with_priority(1)
        .mount(&kube.server)
        .await;
    let helm = FakeHelm::new();
    let output = helm
        .obsctl(&kube, &["up", "--yes", "--timeout", "2s"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("CRD prometheusrules.monitoring.coreos.com not Established within 2s"),
        "{stdout}"
    );
    assert!(helm.upgraded().is_empty());
}

#[tokio::test]
async fn an_existing_admin_secret_is_left_alone() {
    let kube = FakeKube::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/namespaces/monitoring/secrets/grafana-admin"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "grafana-admin", "namespace": "monitoring"},
            "data": {"admin-user": "YWRtaW4=", "admin-password": "c2VjcmV0"},
        })))
        .with_priority(1)
        .mount(&kube.server)
        .await;
    let helm = FakeHelm::new();
    let output = helm.obsctl(&kube, &["up", "--yes"]).output().unwrap();
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(kube
        .requests()
        .await
        .iter()
        .all(|r| r.method.as_str() != "POST"));
    assert!(stdout.contains("Secret grafana-admin present"), "{stdout}");
    assert!(
        !stdout.contains("random Grafana admin password"),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_namespace_is_applied_with_its_labels() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    helm.obsctl(&kube, &["up", "--yes"]).assert().success();
    let requests = kube.requests().await;
    let ns = requests
        .iter()
        .find(|r| r.method.as_str() == "PATCH" && r.url.path() == "/api/v1/namespaces/monitoring")
        .expect("namespace applied");
    assert!(ns.url.query().unwrap().contains("fieldManager=obsctl"));
    let body: Value = serde_json::from_slice(&ns.body).unwrap();
    assert_eq!(body["kind"], "Namespace");
    assert_eq!(
        body["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "obsctl"
    );
    // Nothing outside the profile's namespace, apart from the cluster-scoped CRDs.
    for r in &requests {
        let p = r.url.path();
        assert!(
            p.starts_with("/api/v1/namespaces/monitoring")
                || p.starts_with("/apis/monitoring.coreos.com/v1/namespaces/monitoring/")
                || p.contains("customresourcedefinitions"),
            "{} {p}",
            r.method
        );
    }
}

#[tokio::test]
async fn an_api_error_names_the_object_and_the_api_server() {
    let kube = FakeKube::start().await;
    Mock::given(method("PATCH"))
        .and(path("/api/v1/namespaces/monitoring"))
        .respond_with(status(
            403,
            "Forbidden",
            "namespaces \"monitoring\" is forbidden: User \"dev\" cannot patch resource",
        ))
        .with_priority(1)
        .mount(&kube.server)
        .await;
    let helm = FakeHelm::new();
    let output = helm.obsctl(&kube, &["up", "--yes"]).output().unwrap();
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains("namespace") && l.contains("FAILED"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("applying Namespace `monitoring`"), "{line}");
    assert!(line.contains("cannot patch resource"), "{line}");
    assert!(
        line.contains(&format!("API server {}", kube.server.uri())),
        "{line}"
    );
    assert!(helm.upgraded().is_empty());
}

#[tokio::test]
async fn an_unreachable_api_server_fails_fast_and_is_named() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kube = FakeKube::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(kube.kubeconfig())
        .unwrap()
        .replace(&kube.server.uri(), &format!("http://127.0.0.1:{port}"));
    let kubeconfig = dir.path().join("config");
    std::fs::write(&kubeconfig, config).unwrap();
    let helm = FakeHelm::new();
    let output = helm
        .obsctl(
            &kube,
            &["up", "--yes", "--kubeconfig", kubeconfig.to_str().unwrap()],
        )
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    // The namespace is made before the stack's lock is taken (the Lease lives in it), so the
    // unreachable server is met there, before any step runs: the error names it.
    assert!(
        stderr.contains(&format!("127.0.0.1:{port}")),
        "{stdout}\n{stderr}"
    );
}

#[tokio::test]
async fn rules_and_dashboards_are_applied_into_the_namespace_and_nothing_else_is() {
    let kube = FakeKube::start().await;
    let (client, _) = obsctl::cluster::connect(Some(&kube.kubeconfig()), None)
        .await
        .unwrap();
    let objects = vec![
        json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
               "metadata": {"name": "slo-checkout"}, "spec": {"groups": []}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "dash", "namespace": "monitoring", "labels": {"grafana_dashboard": "1"}},
               "data": {"d.json": "{}"}}),
    ];
    let n = obsctl::cluster::apply::apply_all(&client, "monitoring", &objects)
        .await
        .unwrap();
    assert_eq!(n, 2);
    let requests = kube.requests().await;
    let rule = requests
        .iter()
        .find(|r| r.url.path() == "/apis/monitoring.coreos.com/v1/namespaces/monitoring/prometheusrules/slo-checkout")
        .expect("rule applied");
    assert!(rule.url.query().unwrap().contains("fieldManager=obsctl"));
    let body: Value = serde_json::from_slice(&rule.body).unwrap();
    // The namespace is filled in.
    assert_eq!(body["metadata"]["namespace"], "monitoring");
    assert!(requests
        .iter()
        .any(|r| r.url.path() == "/api/v1/namespaces/monitoring/configmaps/dash"));

    // Another namespace, or another namespace object, is refused before any request.
    let before = kube.requests().await.len();
    for outside in [
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "default"}}),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}),
    ] {
        let err = obsctl::cluster::apply::apply_all(&client, "monitoring", &[outside])
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("outside namespace `monitoring`"),
            "{err}"
        );
    }
    assert_eq!(kube.requests().await.len(), before);

    // Deleting them again tolerates objects that are already gone, and keeps the namespace.
    Mock::given(method("DELETE"))
        .and(path("/api/v1/namespaces/monitoring/configmaps/dash"))
        .respond_with(status(404, "NotFound", "configmaps \"dash\" not found"))
        .with_priority(1)
        .mount(&kube.server)
        .await;
    let mut with_ns = objects.clone();
    with_ns
        .push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}));
    let deleted = obsctl::cluster::apply::delete_all(&client, "monitoring", &with_ns)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    let deletes: Vec<String> = kube
        .requests()
        .await
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        deletes,
        [
            "/apis/monitoring.coreos.com/v1/namespaces/monitoring/prometheusrules/slo-checkout",
            "/api/v1/namespaces/monitoring/configmaps/dash"
        ]
    );
}
