//! `obsctl down` with the fake Helm and the fake Kubernetes API: reverse order, claims and CRDs
//! kept and listed, `--purge-data` deleting only the stack's claims, confirmation rules.

mod common;
mod up_support;

use serde_json::Value;
use up_support::fake_kube::{crd, list, pvc, FakeKube};
use up_support::{text, FakeHelm};
use wiremock::matchers::{method, path};
use wiremock::Mock;

const PVCS: &str = "/api/v1/namespaces/monitoring/persistentvolumeclaims";

/// The claims a dev install leaves, plus one that is not the stack's.
fn claims() -> Vec<Value> {
    vec![
        pvc(
            "prometheus-kps-prometheus-db-prometheus-kps-prometheus-0",
            "kps-prometheus",
            "10Gi",
        ),
        pvc("storage-loki-0", "loki", "5Gi"),
        pvc("storage-tempo-0", "tempo", "5Gi"),
        pvc("postgres-data", "postgres", "50Gi"),
    ]
}

async fn with_claims_and_crds(kube: &FakeKube, after_first: Option<Vec<Value>>) {
    let first = Mock::given(method("GET"))
        .and(path(PVCS))
        .respond_with(list("PersistentVolumeClaimList", "v1", claims()));
    match after_first {
        Some(rest) => {
            first
                .up_to_n_times(1)
                .with_priority(1)
                .mount(&kube.server)
                .await;
            Mock::given(method("GET"))
                .and(path(PVCS))
                .respond_with(list("PersistentVolumeClaimList", "v1", rest))
                .with_priority(2)
                .mount(&kube.server)
                .await;
        }
        None => first.with_priority(1).mount(&kube.server).await,
    }
    Mock::given(method("GET"))
        .and(path(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        ))
        .respond_with(list(
            "CustomResourceDefinitionList",
            "apiextensions.k8s.io/v1",
            vec![
                crd(
                    "prometheusrules.monitoring.coreos.com",
                    "monitoring.coreos.com",
                ),
                crd(
                    "servicemonitors.monitoring.coreos.com",
                    "monitoring.coreos.com",
                ),
                crd("certificates.cert-manager.io", "cert-manager.io"),
            ],
        ))
        .with_priority(1)
        .mount(&kube.server)
        .await;
}

#[tokio::test]
async fn down_uninstalls_in_reverse_and_keeps_claims_and_crds() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    helm.obsctl(&kube, &["up", "--yes"]).assert().success();
    with_claims_and_crds(&kube, None).await;
    helm.clear_log();

    let output = helm.obsctl(&kube, &["down", "--yes"]).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let order: Vec<String> = helm
        .calls_of("uninstall")
        .iter()
        .map(|c| c["release"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(order.len(), 4, "{order:?}");
    assert_eq!(order[0], "otel-collector");
    assert_eq!(order[3], "kube-prometheus-stack");
    let argv = helm.call("uninstall", "loki")["argv"].to_string();
    assert!(
        argv.contains("\"--ignore-not-found\",\"--wait=watcher\""),
        "{argv}"
    );
    assert!(
        helm.release_names().is_empty(),
        "{:?}",
        helm.release_names()
    );

    // Listed before, and as kept after; the foreign claim is not the stack's.
    assert!(
        stdout.contains("keep these PersistentVolumeClaims"),
        "{stdout}"
    );
    assert!(
        stdout.contains("storage-loki-0") && stdout.contains("kps-prometheus"),
        "{stdout}"
    );
    assert!(!stdout.contains("postgres-data"), "{stdout}");
    let kept = stdout
        .lines()
        .find(|l| l.contains("kept PersistentVolumeClaims"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(kept.contains("storage-loki-0, storage-tempo-0"), "{kept}");
    assert!(stdout.contains("kept 2 CRDs of monitoring.coreos.com: prometheusrules.monitoring.coreos.com, servicemonitors.monitoring.coreos.com"), "{stdout}");
    assert!(stdout.contains("kept namespace `monitoring`"));
    // Nothing but obsctl's own generated objects was deleted through the API, and nothing
    // outside the namespace was touched.
    let requests = kube.requests().await;
    assert_eq!(deleted_data(&requests), Vec::<String>::new());
    assert!(
        requests
            .iter()
            .any(|r| r.method.as_str() == "DELETE" && is_generated(r.url.path())),
        "dev's SLO rules and dashboards go with the stack"
    );
    assert!(requests.iter().all(
        |r| r.url.path().starts_with("/api/v1/namespaces/monitoring")
            || r.url
                .path()
                .starts_with("/apis/monitoring.coreos.com/v1/namespaces/monitoring/")
            || r.url.path().contains("customresourcedefinitions")
    ));
}

#[tokio::test]
async fn purge_data_deletes_only_the_stacks_claims_after_listing_them() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    helm.obsctl(&kube, &["up", "--yes"]).assert().success();
    // After the delete, only the foreign claim is left.
    with_claims_and_crds(&kube, Some(vec![claims().pop().unwrap()])).await;

    let output = helm
        .obsctl(&kube, &["down", "--yes", "--purge-data"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("DELETE these PersistentVolumeClaims"),
        "{stdout}"
    );
    let deleted = deleted_data(&kube.requests().await);
    assert_eq!(
        deleted,
        [
            format!("{PVCS}/prometheus-kps-prometheus-db-prometheus-kps-prometheus-0"),
            format!("{PVCS}/storage-loki-0"),
            format!("{PVCS}/storage-tempo-0"),
        ]
    );
    assert!(
        stdout.contains("deleted PersistentVolumeClaims:"),
        "{stdout}"
    );
    assert!(!stdout.contains("kept PersistentVolumeClaims"), "{stdout}");
    // Claims go only after every release is uninstalled.
    assert_eq!(helm.calls_of("uninstall").len(), 4);
}

#[tokio::test]
async fn a_failed_uninstall_stops_what_depends_on_it_and_purges_nothing() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    helm.obsctl(&kube, &["up", "--yes"]).assert().success();
    with_claims_and_crds(&kube, None).await;
    let output = helm
        .obsctl(&kube, &["down", "--yes", "--purge-data"])
        .env("FAKE_HELM_FAIL", "loki")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let uninstalled: Vec<String> = helm
        .calls_of("uninstall")
        .iter()
        .map(|c| c["release"].as_str().unwrap().to_string())
        .collect();
    // kube-prometheus-stack goes only after Loki and Tempo are gone.
    assert!(
        !uninstalled.contains(&"kube-prometheus-stack".to_string()),
        "{uninstalled:?}"
    );
    assert!(stdout.contains("needs `loki`, which failed"), "{stdout}");
    assert!(
        stdout.contains("volume claims were not deleted"),
        "{stdout}"
    );
    assert_eq!(deleted_data(&kube.requests().await), Vec::<String>::new());
}

/// obsctl's own rendered objects (SLO rules, the dashboards' ConfigMaps): they go with the stack,
/// and the next `up` writes them again.
fn is_generated(path: &str) -> bool {
    path.contains("/prometheusrules/") || path.contains("/configmaps/obsctl-")
}

/// The paths of every DELETE of something that is not obsctl's generated output, sorted.
fn deleted_data(requests: &[wiremock::Request]) -> Vec<String> {
    let mut paths: Vec<String> = requests
        .iter()
        .filter(|r| r.method.as_str() == "DELETE" && !is_generated(r.url.path()))
        .map(|r| r.url.path().to_string())
        .collect();
    paths.sort();
    paths
}

#[tokio::test]
async fn down_refuses_without_a_terminal_or_yes_and_tolerates_nothing_installed() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let output = helm.obsctl(&kube, &["down"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).1.contains("pass --yes"),
        "{:?}",
        text(&output)
    );
    assert!(kube.requests().await.is_empty());

    let output = helm.obsctl(&kube, &["down", "--yes"]).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("no release of profile `dev` is installed"),
        "{stdout}"
    );
    assert!(helm.calls_of("uninstall").is_empty());
    assert!(
        stdout
            .lines()
            .filter(|l| l.contains("done (not installed)"))
            .count()
            == 4,
        "{stdout}"
    );
}

/// Grafana's claim, which its chart renders (so Helm owns it) with the annotation that makes
/// `helm uninstall` leave it, as the production profile renders it.
fn grafana_claim() -> Value {
    let mut claim = pvc(
        "kube-prometheus-stack-grafana",
        "kube-prometheus-stack",
        "10Gi",
    );
    claim["metadata"]["annotations"] = serde_json::json!({
        "helm.sh/resource-policy": "keep",
        "meta.helm.sh/release-name": "kube-prometheus-stack",
        "meta.helm.sh/release-namespace": "monitoring",
    });
    claim
}

#[tokio::test]
async fn grafanas_claim_is_kept_by_down_purged_only_after_the_uninstalls_and_reused_by_up() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    helm.obsctl(&kube, &["up", "--yes", "--profile", "production"])
        .assert()
        .success();
    // The values Helm got give the claim the keep annotation.
    let kps = helm.values("kube-prometheus-stack");
    assert_eq!(
        kps["grafana"]["persistence"]["annotations"]["helm.sh/resource-policy"],
        "keep"
    );
    Mock::given(method("GET"))
        .and(path(PVCS))
        .respond_with(list(
            "PersistentVolumeClaimList",
            "v1",
            vec![grafana_claim()],
        ))
        .with_priority(1)
        .mount(&kube.server)
        .await;

    let output = helm
        .obsctl(&kube, &["down", "--yes", "--profile", "production"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let kept = stdout
        .lines()
        .find(|l| l.contains("kept PersistentVolumeClaims"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(kept.contains("kube-prometheus-stack-grafana"), "{kept}");
    assert!(!stdout.contains("deleted by Helm"), "{stdout}");

    // A later `up` installs the same release name with the same values: the chart's claim has
    // the same name, and Helm adopts the kept object instead of creating another.
    helm.clear_log();
    helm.obsctl(&kube, &["up", "--yes", "--profile", "production"])
        .assert()
        .success();
    assert_eq!(
        helm.values("kube-prometheus-stack")["grafana"]["persistence"],
        kps["grafana"]["persistence"]
    );
    assert!(!kube
        .requests()
        .await
        .iter()
        .any(|r| r.method.as_str() == "DELETE" && r.url.path().contains("persistentvolumeclaims")));

    // --purge-data deletes it, after every uninstall has succeeded.
    let output = helm
        .obsctl(
            &kube,
            &["down", "--yes", "--purge-data", "--profile", "production"],
        )
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let deleted: Vec<String> = kube
        .requests()
        .await
        .iter()
        .filter(|r| {
            r.method.as_str() == "DELETE" && r.url.path().contains("persistentvolumeclaims")
        })
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(deleted, [format!("{PVCS}/kube-prometheus-stack-grafana")]);
    // The log was cleared before the second `up`: these are the purge run's four uninstalls.
    assert_eq!(helm.calls_of("uninstall").len(), 4);
    let lines: Vec<&str> = stdout.lines().collect();
    let purge_note = lines
        .iter()
        .position(|l| l.contains("deleted PersistentVolumeClaims: kube-prometheus-stack-grafana"));
    let last_uninstall = lines
        .iter()
        .rposition(|l| l.contains("kube-prometheus-stack") && l.contains("uninstalled"));
    assert!(
        purge_note.is_some() && last_uninstall < purge_note,
        "{stdout}"
    );
}
