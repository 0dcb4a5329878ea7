//! The ordered step graph of `up` (and its reverse for `down`), as plain data: namespace → CRDs →
//! one Helm step per release (ordered by the render's `needs`) → manifests. Pure: the argv of each
//! step is built here, nothing is run.

pub mod diff;

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::helm::Helm;
use crate::render::endpoints::KPS_RELEASE;
use crate::render::Rendered;

/// The ids of the fixed steps (release steps are named after their release).
pub const NAMESPACE: &str = "namespace";
pub const CRDS: &str = "crds";
pub const MANIFESTS: &str = "manifests";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Server-side apply of the namespace, then the Grafana admin Secret when it is missing.
    Namespace,
    /// The chart's CRDs (`helm show crds`) by server-side apply, then a wait until Established.
    Crds,
    /// `helm upgrade --install` of one release (or `helm uninstall` when tearing down).
    Helm,
    /// Server-side apply of obsctl's own objects (rules, dashboards).
    Manifests,
}

/// One unit of work. `argv` is the Helm command it runs (for `crds`, the command that reads the
/// CRDs); steps that only talk to the Kubernetes API have none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub id: String,
    pub action: Action,
    pub needs: Vec<String>,
    pub argv: Vec<String>,
}

/// Where `up` finds each release's values file: `releases/<name>.values.yaml` under this
/// directory, the layout `obsctl render --out DIR` writes.
pub fn values_file(values_dir: &Path, release: &str) -> std::path::PathBuf {
    values_dir.join(format!("releases/{release}.values.yaml"))
}

/// The steps of `up`, every step after the steps it needs.
pub fn install(
    rendered: &Rendered,
    helm: &Helm,
    values_dir: &Path,
    timeout: Duration,
) -> Vec<Step> {
    let mut steps = vec![
        Step {
            id: NAMESPACE.into(),
            action: Action::Namespace,
            needs: vec![],
            argv: vec![],
        },
        Step {
            id: CRDS.into(),
            action: Action::Crds,
            needs: vec![NAMESPACE.into()],
            argv: crds_chart(rendered)
                .map(|chart| helm.show_crds_argv(chart))
                .unwrap_or_default(),
        },
    ];
    for release in &rendered.releases {
        // Releases that need nothing else still need the CRDs: every chart here creates
        // ServiceMonitors.
        let needs = if release.needs.is_empty() {
            vec![CRDS.to_string()]
        } else {
            release.needs.clone()
        };
        steps.push(Step {
            id: release.name.clone(),
            action: Action::Helm,
            needs,
            argv: helm.upgrade_argv(release, &values_file(values_dir, &release.name), timeout),
        });
    }
    steps.push(Step {
        id: MANIFESTS.into(),
        action: Action::Manifests,
        needs: rendered.releases.iter().map(|r| r.name.clone()).collect(),
        argv: vec![],
    });
    steps
}

/// The chart whose CRDs are applied before any release: kube-prometheus-stack's (the Prometheus
/// Operator's ServiceMonitor, PrometheusRule, …).
pub fn crds_chart(rendered: &Rendered) -> Option<&crate::render::Chart> {
    rendered.release(KPS_RELEASE).map(|r| &r.chart)
}

/// The steps of `down`: every release uninstalled after the releases that need it (the reverse
/// of `install`). Namespace, CRDs and volumes are kept, so there are no steps for them.
pub fn uninstall(rendered: &Rendered, helm: &Helm, timeout: Duration) -> Vec<Step> {
    let mut steps: Vec<Step> = rendered
        .releases
        .iter()
        .rev()
        .map(|release| Step {
            id: release.name.clone(),
            action: Action::Helm,
            needs: rendered
                .releases
                .iter()
                .filter(|other| other.needs.contains(&release.name))
                .map(|other| other.name.clone())
                .collect(),
            argv: helm.uninstall_argv(&release.name, &release.namespace, timeout),
        })
        .collect();
    // obsctl's own objects (rules, dashboards) go first: they reference the releases' CRDs.
    if rendered
        .manifests
        .iter()
        .any(|m| m.objects.iter().any(|o| !is_namespace(o)))
    {
        for step in &mut steps {
            step.needs.insert(0, MANIFESTS.into());
        }
        steps.insert(
            0,
            Step {
                id: MANIFESTS.into(),
                action: Action::Manifests,
                needs: vec![],
                argv: vec![],
            },
        );
    }
    steps
}

fn is_namespace(object: &yaml_serde::Value) -> bool {
    object.get("kind").and_then(|k| k.as_str()) == Some("Namespace")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::helm::Version;

    /// Checks that every step's needs name earlier steps (the executor relies on it).
    fn check_order(steps: &[Step]) -> Result<(), String> {
        for (i, step) in steps.iter().enumerate() {
            for need in &step.needs {
                if !steps[..i].iter().any(|s| &s.id == need) {
                    return Err(format!(
                        "step `{}` needs `{need}`, which does not come before it",
                        step.id
                    ));
                }
            }
        }
        Ok(())
    }

    fn helm() -> Helm {
        Helm::with_version(
            PathBuf::from("helm"),
            Version {
                major: 4,
                minor: 1,
                patch: 4,
            },
        )
        .unwrap()
    }

    fn rendered(profile: &str) -> Rendered {
        crate::render::render(&crate::profile::load(profile).unwrap()).unwrap()
    }

    fn ids(steps: &[Step]) -> Vec<&str> {
        steps.iter().map(|s| s.id.as_str()).collect()
    }

    #[test]
    fn up_goes_namespace_crds_kps_then_loki_and_tempo_then_collector_then_manifests() {
        let steps = install(
            &rendered("dev"),
            &helm(),
            Path::new("/v"),
            Duration::from_secs(600),
        );
        assert_eq!(
            ids(&steps),
            [
                "namespace",
                "crds",
                "kube-prometheus-stack",
                "loki",
                "tempo",
                "otel-collector",
                "manifests"
            ]
        );
        let needs = |id: &str| steps.iter().find(|s| s.id == id).unwrap().needs.clone();
        assert_eq!(needs("crds"), ["namespace"]);
        assert_eq!(needs("kube-prometheus-stack"), ["crds"]);
        // Loki and Tempo need only kube-prometheus-stack: they can run together.
        assert_eq!(needs("loki"), ["kube-prometheus-stack"]);
        assert_eq!(needs("tempo"), ["kube-prometheus-stack"]);
        assert_eq!(needs("otel-collector"), ["loki", "tempo"]);
        assert_eq!(
            needs("manifests"),
            ["kube-prometheus-stack", "loki", "tempo", "otel-collector"]
        );
        check_order(&steps).unwrap();
    }

    #[test]
    fn helm_steps_carry_the_full_argv_with_values_under_the_values_dir() {
        let steps = install(
            &rendered("dev"),
            &helm(),
            Path::new("/tmp/obsctl-x"),
            Duration::from_secs(600),
        );
        let loki = steps.iter().find(|s| s.id == "loki").unwrap();
        assert_eq!(loki.action, Action::Helm);
        assert_eq!(&loki.argv[..4], ["helm", "upgrade", "--install", "loki"]);
        let f = loki.argv.iter().position(|a| a == "-f").unwrap();
        assert_eq!(loki.argv[f + 1], "/tmp/obsctl-x/releases/loki.values.yaml");
        let crds = steps.iter().find(|s| s.id == "crds").unwrap();
        assert_eq!(
            &crds.argv[..4],
            ["helm", "show", "crds", "kube-prometheus-stack"]
        );
        assert!(steps
            .iter()
            .filter(|s| s.action != Action::Helm && s.action != Action::Crds)
            .all(|s| s.argv.is_empty()));
    }

    #[test]
    fn a_profile_without_logs_and_collector_still_orders_correctly() {
        let mut profile = crate::profile::load("dev").unwrap();
        profile.stack.logs.enabled = false;
        profile.stack.collector.enabled = false;
        let r = crate::render::render(&profile).unwrap();
        let steps = install(&r, &helm(), Path::new(""), Duration::from_secs(60));
        assert_eq!(
            ids(&steps),
            [
                "namespace",
                "crds",
                "kube-prometheus-stack",
                "tempo",
                "manifests"
            ]
        );
        check_order(&steps).unwrap();
    }

    #[test]
    fn down_uninstalls_in_reverse_with_reversed_needs() {
        let steps = uninstall(&rendered("dev"), &helm(), Duration::from_secs(300));
        assert_eq!(
            ids(&steps),
            [
                "manifests",
                "otel-collector",
                "tempo",
                "loki",
                "kube-prometheus-stack"
            ]
        );
        let needs = |id: &str| steps.iter().find(|s| s.id == id).unwrap().needs.clone();
        // dev's SLO rules and dashboards go first; then the releases in reverse.
        assert!(needs("manifests").is_empty());
        assert_eq!(needs("otel-collector"), ["manifests"]);
        assert_eq!(needs("loki"), ["manifests", "otel-collector"]);
        assert_eq!(needs("tempo"), ["manifests", "otel-collector"]);
        assert_eq!(
            needs("kube-prometheus-stack"),
            ["manifests", "loki", "tempo"]
        );
        assert_eq!(steps[1].argv[1], "uninstall");
        check_order(&steps).unwrap();
    }

    #[test]
    fn misordered_steps_are_reported() {
        let mut steps = install(
            &rendered("dev"),
            &helm(),
            Path::new(""),
            Duration::from_secs(60),
        );
        steps.swap(2, 3);
        assert!(check_order(&steps)
            .unwrap_err()
            .contains("needs `kube-prometheus-stack`"));
    }
}
