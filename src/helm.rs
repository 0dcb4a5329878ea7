//! The Helm driver: finds Helm, detects its major version, builds the argv each major expects,
//! runs it (through duct, with a bound) and turns Helm's stderr into a short, specific error.
//!
//! Every chart is given per command (`--repo URL` or an `oci://` reference), so no global
//! `helm repo` state is read or written. Values always go through `-f FILE`: nothing secret is
//! ever on a command line.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, Instant};

use serde::Deserialize;

use crate::render::{Chart, Release};

/// The oldest Helm 3 obsctl drives: `upgrade --install` with `--atomic`/`--wait` as used here,
/// `uninstall --ignore-not-found` and `show crds --repo` all behave as expected from 3.14 on.
pub const MIN_HELM3_MINOR: u32 = 14;

/// Bound on commands that only read (`version`, `list`, `get values`).
const QUERY_TIMEOUT: StdDuration = StdDuration::from_secs(60);
/// Bound on `show crds`, which downloads the chart from its repository.
const FETCH_TIMEOUT: StdDuration = StdDuration::from_secs(180);
/// Extra time given to Helm past its own `--timeout` before obsctl kills it: chart download and
/// the rollback after a failure are not covered by `--timeout`.
const GRACE: StdDuration = StdDuration::from_secs(120);

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

    fn exe(&self) -> String {
        self.path.display().to_string()
    }

    /// `helm upgrade --install NAME CHART --version V -n NS -f VALUES --timeout T` with the
    /// major's atomic and wait flags.
    pub fn upgrade_argv(
        &self,
        release: &Release,
        values: &Path,
        timeout: StdDuration,
    ) -> Vec<String> {
        let mut argv = vec![
            self.exe(),
            "upgrade".into(),
            "--install".into(),
            release.name.clone(),
        ];
        push_chart(&mut argv, &release.chart);
        argv.extend([
            "-n".into(),
            release.namespace.clone(),
            "-f".into(),
            values.display().to_string(),
            "--timeout".into(),
            go_duration(timeout),
        ]);
        match self.major {
            // A failed upgrade is rolled back (a failed first install is uninstalled) and Helm
            // waits for readiness with kstatus.
            Major::V4 => argv.extend(["--rollback-on-failure".into(), "--wait=watcher".into()]),
            Major::V3 => argv.extend(["--atomic".into(), "--wait".into()]),
        }
        argv.extend(self.kube_args.iter().cloned());
        argv
    }

    /// `helm show crds CHART --version V [--repo URL]`: the CRDs a chart ships (dependencies
    /// included). Needs no cluster.
    pub fn show_crds_argv(&self, chart: &Chart) -> Vec<String> {
        let mut argv = vec![self.exe(), "show".into(), "crds".into()];
        push_chart(&mut argv, chart);
        argv
    }

    /// `helm uninstall NAME -n NS --timeout T` and wait until its resources are gone; a release
    /// that is already gone is not an error (so `down` can be run again).
    pub fn uninstall_argv(&self, name: &str, namespace: &str, timeout: StdDuration) -> Vec<String> {
        let mut argv = vec![
            self.exe(),
            "uninstall".into(),
            name.into(),
            "-n".into(),
            namespace.into(),
            "--timeout".into(),
            go_duration(timeout),
            "--ignore-not-found".into(),
        ];
        argv.push(match self.major {
            Major::V4 => "--wait=watcher".into(),
            Major::V3 => "--wait".into(),
        });
        argv.extend(self.kube_args.iter().cloned());
        argv
    }

    /// `helm list -n NS -o json` of releases in any state that matters to an upgrade (Helm 4 has
    /// no `--all`; these three flags mean the same on both).
    pub fn list_argv(&self, namespace: &str) -> Vec<String> {
        let mut argv = vec![
            self.exe(),
            "list".into(),
            "-n".into(),
            namespace.into(),
            "-o".into(),
            "json".into(),
            "--deployed".into(),
            "--failed".into(),
            "--pending".into(),
        ];
        argv.extend(self.kube_args.iter().cloned());
        argv
    }

    /// `helm get values NAME -n NS -o json`: the user-supplied values of the current revision.
    pub fn get_values_argv(&self, name: &str, namespace: &str) -> Vec<String> {
        let mut argv = vec![
            self.exe(),
            "get".into(),
            "values".into(),
            name.into(),
            "-n".into(),
            namespace.into(),
            "-o".into(),
            "json".into(),
        ];
        argv.extend(self.kube_args.iter().cloned());
        argv
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

/// Runs a Helm argv whose own `--timeout` is `timeout`, bounded by that plus a grace period.
pub fn run_step(argv: &[String], timeout: StdDuration) -> Result<String, HelmError> {
    run(argv, timeout + GRACE)
}

/// Runs an argv with a bound; stdout on success, the short form of stderr on failure.
pub fn run(argv: &[String], bound: StdDuration) -> Result<String, HelmError> {
    let command = display_argv(argv);
    let (program, args) = argv.split_first().expect("argv has the executable");
    let handle = duct::cmd(program, args)
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .start()
        .map_err(|e| HelmError::Spawn {
            command: command.clone(),
            reason: e.to_string(),
        })?;
    let output = match handle.wait_deadline(Instant::now() + bound) {
        Ok(Some(output)) => output.clone(),
        Ok(None) => {
            let _ = handle.kill();
            return Err(HelmError::Timeout {
                command,
                after: bound,
            });
        }
        Err(e) => {
            return Err(HelmError::Spawn {
                command,
                reason: e.to_string(),
            })
        }
    };
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(HelmError::Failed {
            command,
            message: summarize_failure(&stderr),
        })
    }
}

/// The chart as Helm takes it: `NAME --version V --repo URL`, or `oci://…/NAME --version V`.
fn push_chart(argv: &mut Vec<String>, chart: &Chart) {
    if chart.repo.starts_with("oci://") {
        argv.push(format!(
            "{}/{}",
            chart.repo.trim_end_matches('/'),
            chart.name
        ));
        argv.extend(["--version".into(), chart.version.clone()]);
    } else {
        argv.push(chart.name.clone());
        argv.extend([
            "--version".into(),
            chart.version.clone(),
            "--repo".into(),
            chart.repo.clone(),
        ]);
    }
}

/// Seconds, which Go's `time.ParseDuration` reads (it has no `d`).
pub fn go_duration(d: StdDuration) -> String {
    format!("{}s", d.as_secs().max(1))
}

/// An argv as one line for messages.
pub fn display_argv(argv: &[String]) -> String {
    argv.join(" ")
}

/// Helm's stderr → one short line: the failing resource and reason, without Helm's preambles,
/// and whether Helm rolled the release back.
pub fn summarize_failure(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let Some(start) = lines.iter().rposition(|l| l.starts_with("Error:")) else {
        // No `Error:` line: the last non-warning line is the best we have.
        let last = lines
            .iter()
            .rev()
            .find(|l| !is_noise(l))
            .copied()
            .unwrap_or("Helm failed without a message");
        return clip(last.trim());
    };
    // The error line and the detail lines that follow it (schema violations, "* " lists).
    let mut text = lines[start].trim_start_matches("Error:").trim().to_string();
    for extra in lines[start + 1..].iter().filter(|l| !is_noise(l)).take(4) {
        text.push_str("; ");
        text.push_str(extra.trim().trim_start_matches("* ").trim());
    }
    let mut rolled_back = None;
    for prefix in ["INSTALL FAILED:", "UPGRADE FAILED:"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest.trim().to_string();
        }
    }
    // "release loki failed, and has been rolled back due to atomic being set: <cause>"
    if let Some(pos) = text.find(" being set: ") {
        let head = &text[..pos];
        rolled_back = Some(if head.contains("uninstalled") {
            "Helm uninstalled the failed first install"
        } else {
            "Helm rolled the release back"
        });
        text = text[pos + " being set: ".len()..].trim().to_string();
    }
    text = text
        .trim_start_matches("1 error occurred:;")
        .trim()
        .to_string();
    let hint = if text.contains("another operation (install/upgrade/rollback) is in progress") {
        Some("a previous Helm operation was interrupted; see `helm history` and `helm rollback`")
    } else if text.contains("context deadline exceeded") || text.contains("timed out waiting") {
        Some("resources did not become ready within --timeout; check `kubectl get pods` and events")
    } else {
        None
    };
    let mut out = text;
    for note in [hint, rolled_back].into_iter().flatten() {
        out.push_str(&format!(" ({note})"));
    }
    clip(&out)
}

fn is_noise(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("WARNING:")
        || l.starts_with("walk.go:")
        || l.contains("coalesce.go:")
        || l.starts_with("level=WARN")
        || l.starts_with("level=INFO")
        || l.starts_with("level=DEBUG")
}

fn clip(text: &str) -> String {
    const MAX: usize = 600;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Chart;

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
