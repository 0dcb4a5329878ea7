//! The Helm driver: finds Helm, detects its major version and reads what is deployed. `argv`
//! builds the command line each major expects (pure); `process` runs one (through duct, with a
//! bound) and turns Helm's stderr into a short, specific error.
//!
//! Every chart is given per command (`--repo URL` or an `oci://` reference), so no global
//! `helm repo` state is read or written. Values always go through `-f FILE`: nothing secret is
//! ever on a command line.

mod argv;
mod process;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use serde::Deserialize;

pub use argv::go_duration;
pub use process::{
    display_argv, interrupt_running, kill_running, run, run_step, summarize_failure,
};

use crate::render::Chart;

/// The oldest Helm 3 obsctl drives: `upgrade --install` with `--atomic`/`--wait` as used here,
/// `uninstall --ignore-not-found` and `show crds --repo` all behave as expected from 3.14 on.
pub const MIN_HELM3_MINOR: u32 = 14;

/// Bound on commands that only read (`version`, `list`, `get values`).
const QUERY_TIMEOUT: StdDuration = StdDuration::from_secs(60);
/// Bound on `show crds`, which downloads the chart from its repository.
const FETCH_TIMEOUT: StdDuration = StdDuration::from_secs(180);

#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    #[error("Helm not found: {0}")]
    NotFound(String),
    #[error("{path} is Helm {version}: obsctl needs Helm ≥ 3.{MIN_HELM3_MINOR} or 4.x (https://helm.sh/docs/intro/install/)", path = .path.display())]
    Unsupported { path: PathBuf, version: String },
    #[error("could not read the version of {path} (`helm version --short` printed `{output}`)", path = .path.display())]
    UnknownVersion { path: PathBuf, output: String },
    #[error("could not run `{command}`: {reason}")]
    Spawn { command: String, reason: String },
    #[error("`{command}` did not finish within {}s and was stopped", .after.as_secs())]
    Timeout { command: String, after: StdDuration },
    /// Helm ran and failed; `message` is the short form of its stderr.
    #[error("{message}")]
    Failed { command: String, message: String },
    #[error("`{command}` printed output obsctl cannot read: {reason}")]
    Output { command: String, reason: String },
}

/// A supported Helm major version: the two differ in the flags that make an upgrade atomic and
/// wait for readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Major {
    /// `--atomic` and a boolean `--wait`; rejects the Helm 4 forms.
    V3,
    /// `--rollback-on-failure` and `--wait=watcher` (kstatus); `--atomic` is deprecated.
    V4,
}

/// `major.minor.patch` as `helm version --short` prints it (`v4.1.4+g05fa379`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Version {
    /// Parses the first line of `helm version --short`.
    pub fn parse(text: &str) -> Option<Version> {
        let word = text.split_whitespace().next()?;
        let core = word.strip_prefix('v').unwrap_or(word);
        let core = core.split(['+', '-']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
        Some(Version {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next().flatten().unwrap_or(0),
        })
    }

    /// The major obsctl builds argv for, or `None` when this Helm is not supported.
    pub fn supported_major(&self) -> Option<Major> {
        match (self.major, self.minor) {
            (3, minor) if minor >= MIN_HELM3_MINOR => Some(Major::V3),
            (4, _) => Some(Major::V4),
            _ => None,
        }
    }
}

/// One Helm executable, its version, and the kubeconfig/context every cluster command uses (the
/// same ones the Kubernetes client uses, so Helm cannot drift to another cluster).
#[derive(Clone, Debug)]
pub struct Helm {
    pub path: PathBuf,
    pub version: Version,
    pub major: Major,
    kube_args: Vec<String>,
}

/// A release as `helm list -o json` reports it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Listed {
    pub name: String,
    pub namespace: String,
    /// `deployed`, `failed`, `pending-install`, `pending-upgrade`, …
    pub status: String,
    /// `<chart name>-<chart version>`.
    pub chart: String,
}

/// What is deployed of one release: its status, chart and user-supplied values.
#[derive(Clone, Debug, PartialEq)]
pub struct Deployed {
    pub status: String,
    pub chart: String,
    pub values: serde_json::Value,
}

/// Finds Helm: the `--helm`/`OBSCTL_HELM` path when given, else `helm` on PATH.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, HelmError> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(HelmError::NotFound(format!(
                "{} (from --helm or $OBSCTL_HELM) is not a file",
                path.display()
            )))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("helm"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            HelmError::NotFound(
                "no `helm` on PATH; install Helm ≥ 3.14 or 4.x, or pass --helm PATH (or set OBSCTL_HELM)"
                    .into(),
            )
        })
}

impl Helm {
    /// Locates Helm and runs `helm version --short`.
    pub fn detect(explicit: Option<&Path>) -> Result<Helm, HelmError> {
        let path = locate(explicit)?;
        let argv = vec![
            path.display().to_string(),
            "version".into(),
            "--short".into(),
        ];
        let output = run(&argv, QUERY_TIMEOUT)?;
        let version = Version::parse(&output).ok_or_else(|| HelmError::UnknownVersion {
            path: path.clone(),
            output: output.trim().chars().take(200).collect(),
        })?;
        let major = version
            .supported_major()
            .ok_or_else(|| HelmError::Unsupported {
                path: path.clone(),
                version: version.to_string(),
            })?;
        Ok(Helm {
            path,
            version,
            major,
            kube_args: Vec::new(),
        })
    }

    /// A driver for a known version (tests and `--dry-run` argv checks).
    pub fn with_version(path: PathBuf, version: Version) -> Option<Helm> {
        let major = version.supported_major()?;
        Some(Helm {
            path,
            version,
            major,
            kube_args: Vec::new(),
        })
    }

    /// Points every cluster command at this kubeconfig and context.
    pub fn target(mut self, kubeconfig: Option<&Path>, context: Option<&str>) -> Helm {
        self.kube_args.clear();
        if let Some(path) = kubeconfig {
            self.kube_args
                .extend(["--kubeconfig".into(), path.display().to_string()]);
        }
        if let Some(context) = context {
            self.kube_args
                .extend(["--kube-context".into(), context.to_string()]);
        }
        self
    }

    /// The CRD documents of a chart (multi-document YAML).
    pub fn show_crds(&self, chart: &Chart) -> Result<String, HelmError> {
        run(&self.show_crds_argv(chart), FETCH_TIMEOUT)
    }

    /// The releases of a namespace.
    pub fn list(&self, namespace: &str) -> Result<Vec<Listed>, HelmError> {
        let argv = self.list_argv(namespace);
        let out = run(&argv, QUERY_TIMEOUT)?;
        if out.trim().is_empty() {
            return Ok(Vec::new());
        }
        serde_json::from_str(&out).map_err(|e| HelmError::Output {
            command: display_argv(&argv),
            reason: e.to_string(),
        })
    }

    /// The user-supplied values of a release (`{}` when it has none).
    pub fn get_values(&self, name: &str, namespace: &str) -> Result<serde_json::Value, HelmError> {
        let argv = self.get_values_argv(name, namespace);
        let out = run(&argv, QUERY_TIMEOUT)?;
        let value: serde_json::Value =
            serde_json::from_str(out.trim()).map_err(|e| HelmError::Output {
                command: display_argv(&argv),
                reason: e.to_string(),
            })?;
        Ok(if value.is_null() {
            serde_json::json!({})
        } else {
            value
        })
    }

    /// What is deployed of each of `names` in `namespace` (absent names are not installed). The
    /// values of the installed ones are read concurrently.
    pub fn deployed(
        &self,
        namespace: &str,
        names: &[&str],
    ) -> Result<Vec<(String, Deployed)>, HelmError> {
        let listed = self.list(namespace)?;
        let installed: Vec<&Listed> = names
            .iter()
            .filter_map(|name| listed.iter().find(|r| r.name == *name))
            .collect();
        std::thread::scope(|scope| {
            let reads: Vec<_> = installed
                .iter()
                .map(|release| scope.spawn(move || self.get_values(&release.name, namespace)))
                .collect();
            installed
                .iter()
                .zip(reads)
                .map(|(release, read)| {
                    let values = read.join().expect("get values thread")?;
                    Ok((
                        release.name.clone(),
                        Deployed {
                            status: release.status.clone(),
                            chart: release.chart.clone(),
                            values,
                        },
                    ))
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Chart, Release};

    fn helm(major: u32) -> Helm {
        let version = Version {
            major,
            minor: if major == 3 { 17 } else { 1 },
            patch: 0,
        };
        Helm::with_version(PathBuf::from("/opt/helm"), version).unwrap()
    }

    fn release(repo: &str) -> Release {
        Release {
            name: "loki".into(),
            namespace: "monitoring".into(),
            chart: Chart {
                repo: repo.into(),
                name: "loki".into(),
                version: "18.11.0".into(),
            },
            values: yaml_serde::Value::Null,
            needs: vec![],
            volumes: vec![],
        }
    }

    #[test]
    fn versions_are_parsed_from_short_output() {
        assert_eq!(
            Version::parse("v4.1.4+g05fa379\n"),
            Some(Version {
                major: 4,
                minor: 1,
                patch: 4
            })
        );
        assert_eq!(
            Version::parse("v3.17.3+ge4da497"),
            Some(Version {
                major: 3,
                minor: 17,
                patch: 3
            })
        );
        assert_eq!(
            Version::parse("v3.14"),
            Some(Version {
                major: 3,
                minor: 14,
                patch: 0
            })
        );
        assert_eq!(Version::parse("garbage"), None);
        assert_eq!(Version::parse(""), None);
    }

    #[test]
    fn only_helm_3_14_and_later_and_helm_4_are_supported() {
        let v = |s: &str| Version::parse(s).unwrap().supported_major();
        assert_eq!(v("v3.13.3"), None);
        assert_eq!(v("v2.17.0"), None);
        assert_eq!(v("v5.0.0"), None);
        assert_eq!(v("v3.14.0"), Some(Major::V3));
        assert_eq!(v("v4.0.0"), Some(Major::V4));
    }

    #[test]
    fn helm_4_upgrades_roll_back_on_failure_and_wait_with_the_watcher() {
        let argv = helm(4).upgrade_argv(
            &release("https://charts.example"),
            Path::new("/tmp/x/releases/loki.values.yaml"),
            StdDuration::from_secs(600),
        );
        assert_eq!(
            argv,
            [
                "/opt/helm",
                "upgrade",
                "--install",
                "loki",
                "loki",
                "--version",
                "18.11.0",
                "--repo",
                "https://charts.example",
                "-n",
                "monitoring",
                "-f",
                "/tmp/x/releases/loki.values.yaml",
                "--timeout",
                "600s",
                "--rollback-on-failure",
                "--wait=watcher"
            ]
        );
        assert!(!argv.iter().any(|a| a == "--atomic"));
    }

    #[test]
    fn helm_3_upgrades_are_atomic_with_a_plain_wait() {
        let argv = helm(3).upgrade_argv(
            &release("https://charts.example"),
            Path::new("v.yaml"),
            StdDuration::from_secs(90),
        );
        assert!(argv.ends_with(&[
            "--timeout".into(),
            "90s".into(),
            "--atomic".into(),
            "--wait".into()
        ]));
        assert!(!argv
            .iter()
            .any(|a| a.starts_with("--wait=") || a == "--rollback-on-failure"));
    }

    #[test]
    fn oci_charts_are_referenced_directly_without_repo() {
        let argv = helm(4).upgrade_argv(
            &release("oci://ghcr.io/grafana-community/helm-charts/"),
            Path::new("v.yaml"),
            StdDuration::from_secs(60),
        );
        assert_eq!(argv[4], "oci://ghcr.io/grafana-community/helm-charts/loki");
        assert!(!argv.iter().any(|a| a == "--repo"));
        let crds = helm(4).show_crds_argv(&release("oci://r.example/charts").chart);
        assert_eq!(
            crds,
            [
                "/opt/helm",
                "show",
                "crds",
                "oci://r.example/charts/loki",
                "--version",
                "18.11.0"
            ]
        );
    }

    #[test]
    fn cluster_commands_carry_the_kubeconfig_and_context() {
        let h = helm(4).target(Some(Path::new("/k/config")), Some("kind-dev"));
        for argv in [
            h.upgrade_argv(
                &release("https://c"),
                Path::new("v"),
                StdDuration::from_secs(1),
            ),
            h.uninstall_argv("loki", "monitoring", StdDuration::from_secs(1)),
            h.list_argv("monitoring"),
            h.get_values_argv("loki", "monitoring"),
        ] {
            let joined = argv.join(" ");
            assert!(
                joined.contains("--kubeconfig /k/config --kube-context kind-dev"),
                "{joined}"
            );
        }
        // Reading a chart's CRDs needs no cluster.
        assert!(!h
            .show_crds_argv(&release("https://c").chart)
            .join(" ")
            .contains("kube"));
    }

    #[test]
    fn uninstall_waits_and_tolerates_a_missing_release() {
        assert_eq!(
            helm(3).uninstall_argv("tempo", "mon", StdDuration::from_secs(300)),
            [
                "/opt/helm",
                "uninstall",
                "tempo",
                "-n",
                "mon",
                "--timeout",
                "300s",
                "--ignore-not-found",
                "--wait"
            ]
        );
        assert!(helm(4)
            .uninstall_argv("tempo", "mon", StdDuration::from_secs(300))
            .ends_with(&["--wait=watcher".to_string()]));
    }

    #[test]
    fn a_rolled_back_upgrade_is_reduced_to_the_resource_and_reason() {
        let stderr = "coalesce.go:298: warning: cannot overwrite table with non table for x\n\
            Error: UPGRADE FAILED: release loki failed, and has been rolled back due to rollback-on-failure being set: \
            resource StatefulSet/monitoring/loki not ready. status: InProgress, message: Replicas: 0/1\n";
        assert_eq!(
            summarize_failure(stderr),
            "resource StatefulSet/monitoring/loki not ready. status: InProgress, message: Replicas: 0/1 (Helm rolled the release back)"
        );
    }

    #[test]
    fn a_failed_first_install_says_it_was_uninstalled_and_hints_at_timeouts() {
        let stderr = "Error: INSTALL FAILED: release tempo failed, and has been uninstalled due to atomic being set: timed out waiting for the condition\n";
        let s = summarize_failure(stderr);
        assert!(s.starts_with("timed out waiting for the condition"), "{s}");
        assert!(s.contains("--timeout"), "{s}");
        assert!(s.contains("uninstalled the failed first install"), "{s}");
    }

    #[test]
    fn schema_errors_keep_their_detail_lines() {
        let stderr = "Error: values don't meet the specifications of the schema(s) in the following chart(s):\n\
            opentelemetry-collector:\n- at '/mode': value must be one of 'daemonset', 'deployment', 'statefulset', ''\n";
        let s = summarize_failure(stderr);
        assert!(s.starts_with("values don't meet the specifications"), "{s}");
        assert!(s.contains("at '/mode': value must be one of"), "{s}");
    }

    #[test]
    fn stuck_releases_get_a_hint_and_missing_errors_fall_back_to_the_last_line() {
        let s = summarize_failure(
            "Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n",
        );
        assert!(s.contains("helm history"), "{s}");
        assert_eq!(
            summarize_failure("WARNING: x\nsomething broke\n"),
            "something broke"
        );
        assert_eq!(summarize_failure(""), "Helm failed without a message");
    }

    #[test]
    fn an_overlong_message_is_clipped() {
        let stderr = format!("Error: {}", "x".repeat(5000));
        assert!(summarize_failure(&stderr).chars().count() <= 601);
    }

    #[test]
    fn a_missing_explicit_helm_is_named() {
        let err = locate(Some(Path::new("/nonexistent/helm"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/helm"), "{err}");
    }
}
