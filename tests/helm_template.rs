//! Real Helm 3 and Helm 4 read every rendered values file, through a fixture chart that echoes its
//! values: the files are well-formed Helm input, and Helm sees exactly the values obsctl wrote.

mod common;

use std::path::Path;
use std::process::Command;

use common::{fixture, render, tool};

/// Runs `helm template` and returns the values Helm saw.
fn helm_sees(helm: &Path, release: &str, namespace: &str, values: &Path) -> serde_json::Value {
    let output = Command::new(helm)
        .args(["template", release])
        .arg(fixture("values-echo"))
        .args(["--namespace", namespace, "-f"])
        .arg(values)
        .output()
        .expect("helm runs");
    assert!(
        output.status.success(),
        "{} template {release} failed:\n{}",
        helm.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let manifest: yaml_serde::Value =
        yaml_serde::from_slice(&output.stdout).expect("helm printed YAML");
    let echoed = manifest["data"]["values.json"]
        .as_str()
        .expect("values.json in the ConfigMap");
    serde_json::from_str(echoed).expect("echoed values are JSON")
}

#[test]
fn helm_3_and_4_read_every_rendered_values_file_exactly() {
    for helm in [tool("helm"), tool("helm3")] {
        for profile in ["dev", "production", "ha"] {
            let dir = tempfile::tempdir().unwrap();
            let plan = render(profile, dir.path());
            let releases = plan["releases"].as_array().unwrap();
            assert!(releases.len() >= 3, "{profile}: {releases:?}");
            for release in releases {
                let name = release["name"].as_str().unwrap();
                let values_path = dir.path().join(release["values"].as_str().unwrap());
                let written: yaml_serde::Value =
                    yaml_serde::from_slice(&std::fs::read(&values_path).unwrap()).unwrap();
                let written: serde_json::Value = serde_json::to_value(written).unwrap();
                let seen = helm_sees(
                    &helm,
                    name,
                    release["namespace"].as_str().unwrap(),
                    &values_path,
                );
                assert_eq!(
                    seen,
                    written,
                    "{} saw different values for {profile}/{name}",
                    helm.display()
                );
            }
        }
    }
}

#[test]
fn helm_versions_are_the_ones_obsctl_supports() {
    let v4 = Command::new(tool("helm"))
        .args(["version", "--short"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&v4.stdout).starts_with("v4."));
    let v3 = Command::new(tool("helm3"))
        .args(["version", "--short"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&v3.stdout).starts_with("v3."));
}

/// Every claim a chart renders itself (not a StatefulSet's volumeClaimTemplates, which Helm never
/// deletes) must survive `helm uninstall`: Grafana's carries `helm.sh/resource-policy: keep` on
/// every profile that gives Grafana a volume, as real Helm renders it, and keeps its name.
#[test]
fn grafana_claims_are_kept_by_helm_on_every_profile() {
    let mut with_volume = 0;
    for helm in [tool("helm"), tool("helm3")] {
        for profile in ["dev", "production", "ha"] {
            let dir = tempfile::tempdir().unwrap();
            render(profile, dir.path());
            let output = Command::new(&helm)
                .args(["template", "kube-prometheus-stack"])
                .arg(fixture("grafana-pvc"))
                .args(["--namespace", "monitoring", "-f"])
                .arg(
                    dir.path()
                        .join("releases/kube-prometheus-stack.values.yaml"),
                )
                .output()
                .expect("helm runs");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let text = String::from_utf8_lossy(&output.stdout);
            let claims: Vec<yaml_serde::Value> = text
                .split("\n---")
                .filter_map(|doc| yaml_serde::from_str::<yaml_serde::Value>(doc).ok())
                .filter(|doc| doc["kind"].as_str() == Some("PersistentVolumeClaim"))
                .collect();
            let values: yaml_serde::Value = yaml_serde::from_slice(
                &std::fs::read(
                    dir.path()
                        .join("releases/kube-prometheus-stack.values.yaml"),
                )
                .unwrap(),
            )
            .unwrap();
            let grafana_volume =
                values["grafana"]["persistence"]["enabled"].as_bool() == Some(true);
            if !grafana_volume {
                assert!(claims.is_empty(), "{profile}: {text}");
                continue;
            }
            with_volume += 1;
            assert_eq!(claims.len(), 1, "{profile}: {text}");
            let claim = &claims[0];
            assert_eq!(
                claim["metadata"]["name"].as_str(),
                Some("kube-prometheus-stack-grafana"),
                "{profile}"
            );
            assert_eq!(
                claim["metadata"]["annotations"]["helm.sh/resource-policy"].as_str(),
                Some("keep"),
                "{profile}: {text}"
            );
        }
    }
    assert!(with_volume >= 2, "no profile gives Grafana a volume");
}
