//! The optional `runbook:` block of an SLO: what obsctl cannot know from the SLO itself (where the
//! service runs, whom to call, where to talk), for the generated runbooks. Everything has a
//! default, so an SLO without the block still gets a complete runbook.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::profile::types::{DnsName, PromDuration};

#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Runbook {
    /// The namespace the service runs in, for the `kubectl` commands (none: the context's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<DnsName>,
    /// `deployment/NAME`, `statefulset/NAME` or `daemonset/NAME`; default `deployment/<service>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<WorkloadRef>,
    /// The incident level each alert severity opens.
    #[serde(default)]
    pub severity: IncidentLevels,
    /// Whom to call, in order, and after how long without mitigation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalation: Vec<Escalation>,
    /// The team's own steps, appended to their section.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    /// What the service depends on (a database, a queue): SLOs of the profile by name or service,
    /// or anything else, linked to Grafana's dashboard search.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// The incident chat channel, e.g. `#inc-checkout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
    /// The public status page (its name or address) the customer-facing message goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_page: Option<String>,
}

/// Incident levels: `SEV1` is the worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum IncidentLevel {
    #[serde(rename = "SEV1")]
    Sev1,
    #[serde(rename = "SEV2")]
    Sev2,
    #[serde(rename = "SEV3")]
    Sev3,
    #[serde(rename = "SEV4")]
    Sev4,
    #[serde(rename = "SEV5")]
    Sev5,
}

impl IncidentLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentLevel::Sev1 => "SEV1",
            IncidentLevel::Sev2 => "SEV2",
            IncidentLevel::Sev3 => "SEV3",
            IncidentLevel::Sev4 => "SEV4",
            IncidentLevel::Sev5 => "SEV5",
        }
    }
}

impl fmt::Display for IncidentLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The incident level of the paging (`page`) and the ticket (`ticket`) tiers.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IncidentLevels {
    #[serde(default = "sev2")]
    pub page: IncidentLevel,
    #[serde(default = "sev3")]
    pub ticket: IncidentLevel,
}

impl Default for IncidentLevels {
    fn default() -> Self {
        IncidentLevels {
            page: sev2(),
            ticket: sev3(),
        }
    }
}

fn sev2() -> IncidentLevel {
    IncidentLevel::Sev2
}
fn sev3() -> IncidentLevel {
    IncidentLevel::Sev3
}

/// One step of the escalation path.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Escalation {
    /// Time since the alert fired, e.g. `15m`.
    pub after: PromDuration,
    /// A chat channel, a person's role or a pager schedule, e.g. `#team-db`.
    pub to: String,
}

/// A step the team adds to the generated ones.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Step {
    pub title: String,
    pub text: String,
    /// A command to copy and paste.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Where the step goes: `mitigation` (first five minutes, the default) or `investigation`.
    #[serde(default)]
    pub section: StepSection,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepSection {
    #[default]
    Mitigation,
    Investigation,
}

/// `kind/name` of the workload, as kubectl writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadRef {
    pub kind: WorkloadKind,
    pub name: DnsName,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    const ALL: [WorkloadKind; 3] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
        }
    }

    /// kubectl's short names.
    fn short(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deploy",
            WorkloadKind::StatefulSet => "sts",
            WorkloadKind::DaemonSet => "ds",
        }
    }

    /// Whether `kubectl scale` applies (a DaemonSet runs one pod per node).
    pub fn scales(self) -> bool {
        self != WorkloadKind::DaemonSet
    }
}

impl WorkloadRef {
    /// `deployment/<service>`, when the service name is a valid object name.
    pub fn default_for(service: &str) -> Option<WorkloadRef> {
        Some(WorkloadRef {
            kind: WorkloadKind::Deployment,
            name: service.parse().ok()?,
        })
    }
}

impl fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind.as_str(), self.name)
    }
}

impl FromStr for WorkloadRef {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let expected = "expected `deployment/NAME`, `statefulset/NAME` or `daemonset/NAME`";
        let Some((kind, name)) = text.split_once('/') else {
            return Err(format!("invalid workload `{text}`: {expected}"));
        };
        let lower = kind.to_ascii_lowercase();
        let kind = WorkloadKind::ALL
            .into_iter()
            .find(|k| {
                k.as_str() == lower || k.short() == lower || format!("{}s", k.as_str()) == lower
            })
            .ok_or_else(|| {
                let names: Vec<&str> = WorkloadKind::ALL.iter().map(|k| k.as_str()).collect();
                let hint = crate::suggest::did_you_mean(kind, &names);
                format!("unknown workload kind `{kind}`: {expected}{hint}")
            })?;
        let name = name
            .parse()
            .map_err(|e: String| format!("invalid workload `{text}`: {e}"))?;
        Ok(WorkloadRef { kind, name })
    }
}

impl<'de> Deserialize<'de> for WorkloadRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for WorkloadRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for WorkloadRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WorkloadRef".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string",
            "pattern": "^(deployment|deploy|statefulset|sts|daemonset|ds)/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
            "description": "kind/name of the service's workload, e.g. deployment/checkout"})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_kind_slash_name_like_kubectl() {
        let w: WorkloadRef = "statefulset/db".parse().unwrap();
        assert_eq!(w.to_string(), "statefulset/db");
        assert_eq!(
            "deploy/api".parse::<WorkloadRef>().unwrap().to_string(),
            "deployment/api"
        );
        assert!("api"
            .parse::<WorkloadRef>()
            .unwrap_err()
            .contains("expected `deployment/NAME`"));
        let e = "deplyment/api".parse::<WorkloadRef>().unwrap_err();
        assert!(e.contains("did you mean `deployment`?"), "{e}");
        assert!("deployment/API"
            .parse::<WorkloadRef>()
            .unwrap_err()
            .contains("DNS-1123"));
    }
}
