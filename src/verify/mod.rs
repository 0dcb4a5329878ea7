//! `obsctl verify`: smoke checks of a running stack, from its workloads to a log line and a span
//! read back through Grafana's own links.
//!
//! What a stack should look like comes from its render (`expect`); each component's checks live
//! in their own file; `runner` runs them concurrently under one deadline, each check after the
//! checks it needs; `report` prints the result for people (table), programs (JSON) and CI (JUnit).

mod alertmanager;
mod collector;
mod correlation;
mod expect;
mod grafana;
mod http;
mod ids;
mod loki;
mod prometheus;
pub mod report;
mod runner;
mod targets;
mod tempo;
mod wait;
mod workloads;

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

pub use expect::Expectations;
pub use http::redact_url;
pub use runner::{run, Inputs, Progress};
pub use targets::{parse_url, ClusterAccess, Credentials, Urls};

/// A part of the stack, as named in `--only`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    Workloads,
    Prometheus,
    Alertmanager,
    Grafana,
    Loki,
    Tempo,
    Correlation,
    Collector,
}

impl Component {
    pub const ALL: [Component; 8] = [
        Component::Workloads,
        Component::Prometheus,
        Component::Alertmanager,
        Component::Grafana,
        Component::Loki,
        Component::Tempo,
        Component::Correlation,
        Component::Collector,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Component::Workloads => "workloads",
            Component::Prometheus => "prometheus",
            Component::Alertmanager => "alertmanager",
            Component::Grafana => "grafana",
            Component::Loki => "loki",
            Component::Tempo => "tempo",
            Component::Correlation => "correlation",
            Component::Collector => "collector",
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Input that verify refuses before it starts (exit 2).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyInputError {
    #[error(
        "{flag}: `{value}` is not a usable URL: {reason} (expected e.g. http://127.0.0.1:9090)"
    )]
    BadUrl {
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error("--timeout must be longer than 0s")]
    ZeroTimeout,
}

/// `--only a,b,c` (clap parses and suggests): the components to run; every component when the
/// flag is absent.
pub fn parse_only(list: &[Component]) -> BTreeSet<Component> {
    if list.is_empty() {
        Component::ALL.into_iter().collect()
    } else {
        list.iter().copied().collect()
    }
}

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Did not run: the profile disables the component, or a check it needs did not pass.
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// One check's result, in the shape of `--output json`.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    pub component: Component,
    pub check: String,
    pub status: Status,
    /// One line: what was seen, or why it failed or was skipped.
    pub detail: String,
    /// Time the check itself took, after the checks it needs had finished.
    pub duration_ms: u64,
}

/// Every reported check, in a stable order, and the wall time of the whole run.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    pub checks: Vec<CheckResult>,
    pub wall: Duration,
}

/// Counts by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
}

impl VerifyReport {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.checks {
            match c.status {
                Status::Pass => s.pass += 1,
                Status::Fail => s.fail += 1,
                Status::Skip => s.skip += 1,
            }
        }
        s
    }

    /// Whether any check failed (exit 1); skips are allowed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn only_defaults_to_everything() {
        assert_eq!(parse_only(&[]).len(), Component::ALL.len());
        assert_eq!(
            parse_only(&[Component::Tempo, Component::Loki, Component::Tempo])
                .into_iter()
                .collect::<Vec<_>>(),
            [Component::Loki, Component::Tempo]
        );
    }

    #[test]
    fn the_names_clap_parses_are_the_names_reports_print() {
        for c in Component::ALL {
            let value = c.to_possible_value().unwrap();
            assert_eq!(value.get_name(), c.name());
        }
        assert_eq!(Component::value_variants(), Component::ALL);
    }
}
