//! Helm command lines, built without running anything: the argv each supported major expects
//! for install, uninstall and the read-only queries.

use std::path::Path;
use std::time::Duration as StdDuration;

use super::{Helm, Major};
use crate::render::{Chart, Release};

impl Helm {
    pub(super) fn exe(&self) -> String {
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
