//! The real Helm 3 and Helm 4 accept every flag set obsctl builds for them.
//!
//! Route: a wiremock chart repository serves our own echo chart under the pinned chart names and
//! versions (packaged and indexed by the real Helm), and a wiremock Kubernetes API answers what
//! Helm reads (`/version`, the release Secrets: none). The exact argv of each `up --dry-run` step
//! is then run with `--dry-run=client --disable-openapi-validation` added (the only change; the
//! fake API has no OpenAPI schema to validate against), so Helm parses every flag,
//! downloads the chart through `--repo` and renders it with obsctl's values; nothing needs a real
//! cluster. Uninstall, list and get-values argv run against the same fake API.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{fixture, obsctl, tool};
use obsctl::helm::{Helm, HelmError};
use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CHARTS: [(&str, &str); 4] = [
    ("kube-prometheus-stack", "88.5.3"),
    ("loki", "18.11.0"),
    ("tempo", "2.2.4"),
    ("opentelemetry-collector", "0.170.0"),
];

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: prometheusrules.monitoring.coreos.com\n\
spec:\n  group: monitoring.coreos.com\n  names: {kind: PrometheusRule, plural: prometheusrules}\n  scope: Namespaced\n\
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]\n";

/// Helm with its cache, config and data in `home`: no global `helm repo` state is read or written.
fn helm_cmd(helm: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(helm);
    cmd.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"));
    cmd
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The echo chart under each pinned name and version (kube-prometheus-stack with a CRD), as a
/// Helm repository served by wiremock.
async fn chart_repo(helm: &Path, home: &Path) -> MockServer {
    let server = MockServer::start().await;
    let repo = home.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for (name, version) in CHARTS {
        let src = home.join("src").join(name);
        std::fs::create_dir_all(src.join("templates")).unwrap();
        std::fs::write(
            src.join("Chart.yaml"),
            format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
        )
        .unwrap();
        std::fs::copy(
            fixture("values-echo/templates/configmap.yaml"),
            src.join("templates/configmap.yaml"),
        )
        .unwrap();
        if name == "kube-prometheus-stack" {
            std::fs::create_dir_all(src.join("crds")).unwrap();
            std::fs::write(src.join("crds/prometheusrules.yaml"), CRD).unwrap();
        }
        run_ok(
            helm_cmd(helm, home)
                .arg("package")
                .arg(&src)
                .arg("-d")
                .arg(&repo),
        );
    }
    run_ok(
        helm_cmd(helm, home)
            .args(["repo", "index"])
            .arg(&repo)
            .args(["--url", &server.uri()]),
    );
    for entry in std::fs::read_dir(&repo).unwrap() {
        let file = entry.unwrap().path();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        Mock::given(method("GET"))
            .and(path(format!("/{name}")))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(std::fs::read(&file).unwrap()))
            .mount(&server)
            .await;
    }
    server
}

/// What Helm reads from a cluster for these commands: the server version, discovery, and the
/// release Secrets of the namespace (there are none).
async fn kube_api() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/version"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "major": "1", "minor": "33", "gitVersion": "v1.33.0", "platform": "linux/amd64",
        })))
        .mount(&server)
        .await;
    // Discovery, which Helm 3 reads for its capabilities even on a client-side dry run.
    for (p, body) in [
        (
            "/api",
            json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        ),
        (
            "/apis",
            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
        ),
        (
            "/api/v1",
            json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "configmaps", "singularName": "configmap", "namespaced": true, "kind": "ConfigMap",
                 "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
                {"name": "secrets", "singularName": "secret", "namespaced": true, "kind": "Secret",
                 "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
            ]}),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v1/namespaces/monitoring/secrets$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "SecretList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": [],
        })))
        .mount(&server)
        .await;
    server
}

fn write_kubeconfig(dir: &Path, uri: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters: [{{name: fake, cluster: {{server: \"{uri}\"}}}}]\n\
             users: [{{name: fake, user: {{token: t}}}}]\ncontexts: [{{name: fake, context: {{cluster: fake, user: fake}}}}]\n"
        ),
    )
    .unwrap();
    path
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn real_helm_3_and_4_accept_every_flag_set_obsctl_builds() {
    let home = tempfile::tempdir().unwrap();
    // The library's Helm driver runs in this process: point it at the same private Helm home
    // (one test in this binary, so nothing reads the environment concurrently).
    for (key, sub) in [
        ("HELM_CACHE_HOME", "cache"),
        ("HELM_CONFIG_HOME", "config"),
        ("HELM_DATA_HOME", "data"),
    ] {
        std::env::set_var(key, home.path().join(sub));
    }
    let repo = chart_repo(&tool("helm"), home.path()).await;
    let api = kube_api().await;
    let kubeconfig = write_kubeconfig(home.path(), &api.uri());
    let uri = repo.uri();
    let profile = home.path().join("local.yaml");
    std::fs::write(
        &profile,
        format!(
            "name: local\nextends: dev\nmetrics: {{chart: {{repo: \"{uri}\"}}}}\nlogs: {{chart: {{repo: \"{uri}\"}}}}\n\
             traces: {{chart: {{repo: \"{uri}\"}}}}\ncollector: {{chart: {{repo: \"{uri}\"}}}}\n"
        ),
    )
    .unwrap();
    let render = home.path().join("render");
    obsctl()
        .args(["render", "--out"])
        .arg(&render)
        .arg("--profile")
        .arg(&profile)
        .assert()
        .success();

    for (helm_path, major) in [(tool("helm"), "4"), (tool("helm3"), "3")] {
        let out = obsctl()
            .args(["up", "--dry-run", "--output", "json", "--helm"])
            .arg(&helm_path)
            .arg("--profile")
            .arg(&profile)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["--context", "fake"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut helm_steps = 0;
        for step in plan["steps"].as_array().unwrap() {
            let argv = strings(&step["argv"]);
            match step["action"].as_str().unwrap() {
                "helm" => {
                    helm_steps += 1;
                    let name = step["id"].as_str().unwrap();
                    // The exact argv, from the render directory its `-f` paths are relative to. The
                    // fake API serves no OpenAPI schema for Helm 3's client-side validation.
                    let stdout = run_ok(
                        helm_cmd(Path::new(&argv[0]), home.path())
                            .args(&argv[1..])
                            .args(["--dry-run=client", "--disable-openapi-validation"])
                            .current_dir(&render),
                    );
                    assert!(
                        stdout.contains(&format!("name: {name}-values")),
                        "Helm {major} {name}:\n{stdout}"
                    );
                    if major == "3" {
                        assert!(argv.contains(&"--atomic".to_string()));
                    } else {
                        assert!(argv.contains(&"--rollback-on-failure".to_string()));
                    }
                }
                "crds" => {
                    let stdout =
                        run_ok(helm_cmd(Path::new(&argv[0]), home.path()).args(&argv[1..]));
                    let crds = obsctl::cluster::apply::parse_crds(&stdout).unwrap();
                    assert_eq!(
                        crds[0]["metadata"]["name"],
                        "prometheusrules.monitoring.coreos.com"
                    );
                }
                _ => assert!(argv.is_empty()),
            }
        }
        assert_eq!(helm_steps, 4);

        // Uninstall, list and get values, as `down` and the unchanged check run them.
        let helm = Helm::detect(Some(&helm_path))
            .unwrap()
            .target(Some(&kubeconfig), Some("fake"));
        assert_eq!(
            helm.major,
            if major == "4" {
                obsctl::helm::Major::V4
            } else {
                obsctl::helm::Major::V3
            }
        );
        let argv = helm.uninstall_argv("loki", "monitoring", Duration::from_secs(60));
        obsctl::helm::run(&argv, Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("Helm {major} uninstall: {e}"));
        assert_eq!(helm.list("monitoring").unwrap(), vec![]);
        // The flags parse; the release does not exist.
        match helm.get_values("loki", "monitoring") {
            Err(HelmError::Failed { message, .. }) => {
                assert!(message.contains("release: not found"), "{message}")
            }
            other => panic!("Helm {major} get values: {other:?}"),
        }
    }

    // A real failure is reduced to Helm's reason, without its preamble.
    let helm4 = Helm::detect(Some(&tool("helm")))
        .unwrap()
        .target(Some(&kubeconfig), Some("fake"));
    let rendered =
        obsctl::render::render(&obsctl::profile::load(profile.to_str().unwrap()).unwrap()).unwrap();
    let mut missing = rendered.releases[1].clone();
    missing.chart.version = "99.0.0".into();
    let argv = helm4.upgrade_argv(
        &missing,
        &render.join("releases/loki.values.yaml"),
        Duration::from_secs(60),
    );
    match obsctl::helm::run(&argv, Duration::from_secs(60)) {
        Err(HelmError::Failed { message, .. }) => {
            assert!(
                message.starts_with("chart \"loki\" version \"99.0.0\" not found"),
                "{message}"
            )
        }
        other => panic!("a missing chart version installed: {other:?}"),
    }

    // The majors' flag sets are not interchangeable: Helm 3 rejects the Helm 4 argv.
    let as_v4 = Helm::with_version(
        tool("helm3"),
        obsctl::helm::Version {
            major: 4,
            minor: 1,
            patch: 4,
        },
    )
    .unwrap();
    let rendered =
        obsctl::render::render(&obsctl::profile::load(profile.to_str().unwrap()).unwrap()).unwrap();
    let mut argv = as_v4.upgrade_argv(
        &rendered.releases[1],
        &render.join("releases/loki.values.yaml"),
        Duration::from_secs(60),
    );
    argv.push("--dry-run=client".into());
    match obsctl::helm::run(&argv, Duration::from_secs(60)) {
        Err(HelmError::Failed { message, .. }) => assert!(
            message.contains("unknown flag: --rollback-on-failure"),
            "{message}"
        ),
        other => panic!("Helm 3 accepted Helm 4 flags: {other:?}"),
    }
}
