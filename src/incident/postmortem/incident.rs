//! The incident file (`--incident FILE`): what only people know — title, roles, the timeline they
//! recorded, the five whys, what went well and wrong, action items. Read like profiles: positioned
//! YAML, strict keys with "did you mean", every error at file:line:col.

use std::fmt;
use std::path::Path;

use serde::{de, Deserialize, Deserializer, Serialize};

use crate::time::{format_instant, parse_instant};
use crate::yaml::{Node, Pos};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Incident {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// The organisation's incident level, e.g. `SEV2`.
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub status: Status,
    #[serde(default)]
    pub authors: Vec<String>,
    #[serde(default)]
    pub commander: Option<String>,
    /// Everyone else with a role: scribe, communications, operations, subject-matter experts.
    #[serde(default)]
    pub responders: Vec<Responder>,
    #[serde(default)]
    pub services: Vec<String>,
    /// Two or three sentences for the executive summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// What set the incident off (a deploy, a config push, a traffic spike).
    #[serde(default)]
    pub trigger: Option<String>,
    /// What ended it.
    #[serde(default)]
    pub resolution: Option<String>,
    /// How it was noticed, when not (only) by an SLO page.
    #[serde(default)]
    pub detection: Option<String>,
    #[serde(default)]
    pub impact: BusinessImpact,
    #[serde(default)]
    pub timeline: Vec<TimelineEvent>,
    #[serde(default)]
    pub five_whys: Vec<Why>,
    #[serde(default)]
    pub root_cause: Option<String>,
    #[serde(default)]
    pub contributing_factors: Vec<String>,
    #[serde(default)]
    pub went_well: Vec<String>,
    #[serde(default)]
    pub went_wrong: Vec<String>,
    #[serde(default)]
    pub got_lucky: Vec<String>,
    #[serde(default)]
    pub action_items: Vec<ActionItem>,
    #[serde(default)]
    pub lessons: Vec<String>,
    /// Where updates are posted, for the communication templates (`#inc-checkout`).
    #[serde(default)]
    pub chat: Option<String>,
    /// The public status page's name, for the customer-facing message.
    #[serde(default)]
    pub status_page: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Draft,
    Review,
    Final,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Review => "in review",
            Status::Final => "final",
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Responder {
    pub name: String,
    pub role: String,
}

/// Figures people know and Prometheus does not.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BusinessImpact {
    /// Users or customers affected, as people counted them (`about 12,000 shoppers`).
    #[serde(default)]
    pub users: Option<String>,
    /// Revenue lost or at risk (`€18,000 in abandoned carts`).
    #[serde(default)]
    pub revenue: Option<String>,
    /// Support tickets opened about it.
    #[serde(default)]
    pub tickets: Option<u64>,
    /// SLA credits, contractual exposure, press: anything else.
    #[serde(default)]
    pub other: Vec<String>,
}

impl BusinessImpact {
    pub fn is_empty(&self) -> bool {
        self.users.is_none()
            && self.revenue.is_none()
            && self.tickets.is_none()
            && self.other.is_empty()
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TimelineEvent {
    pub at: Time,
    pub text: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Why {
    pub why: String,
    pub because: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ActionItem {
    pub action: String,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub due: Option<Date>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub ticket: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub enum Priority {
    P0,
    P1,
    P2,
    P3,
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Priority::P0 => "P0",
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
        })
    }
}

/// An instant, written RFC 3339 or as unix seconds (like `--from`), kept as unix seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Time(pub f64);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_instant(&text).map(Time).map_err(de::Error::custom)
    }
}

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_instant(self.0))
    }
}

/// A calendar day, `2026-12-15`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Date(String);

impl Date {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let valid = text.len() == 10 && parse_instant(&format!("{text}T00:00:00Z")).is_ok();
        if valid {
            Ok(Date(text))
        } else {
            Err(de::Error::custom(format!(
                "invalid date `{text}`: expected a day such as `2026-12-15`"
            )))
        }
    }
}

/// Why an incident file was refused: positioned, like a profile error.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("reading incident file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Yaml(#[from] crate::yaml::YamlError),
    #[error("{0}")]
    Invalid(#[from] crate::yaml::DeError),
}

/// An incident file and its parsed tree (for the positions of warnings).
pub struct Loaded {
    pub incident: Incident,
    pub root: Node,
}

pub fn load(path: &Path) -> Result<Loaded, IncidentError> {
    let source = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source_err| IncidentError::Read {
        path: source.clone(),
        source: source_err,
    })?;
    parse(&source, &bytes)
}

pub fn parse(source: &str, bytes: &[u8]) -> Result<Loaded, IncidentError> {
    let root = crate::yaml::parse(source, bytes)?;
    let incident = if matches!(root.value, crate::yaml::Value::Null) {
        Incident::default()
    } else {
        crate::yaml::from_node(&root)?
    };
    Ok(Loaded { incident, root })
}

/// The position of `path` (keys and list indexes) in the tree, or of its deepest existing
/// ancestor.
pub fn position(root: &Node, path: &[Step]) -> Pos {
    let mut node = root;
    for step in path {
        let next = match (step, &node.value) {
            (Step::Key(k), _) => node.get(k),
            (Step::Index(i), crate::yaml::Value::Seq(items)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node.pos.clone()
}

#[derive(Clone, Copy, Debug)]
pub enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// `obsctl postmortem --template`: every field, commented, nothing filled in that only people know.
pub const TEMPLATE: &str = r##"# Incident file for `obsctl postmortem --incident FILE`. Everything is optional: what is
# missing shows as a placeholder in the document. Times are RFC 3339 (2026-11-03T14:02:00Z) or
# unix seconds. Blameless: the why-chain ends at systems and processes, never at a person.

id: ""                      # e.g. INC-2026-0142
title: ""                   # what users saw, e.g. "Checkout returned errors after a config push"
severity: ""                # your incident level, e.g. SEV2
status: draft               # draft | review | final
authors: []                 # who wrote this document
commander: ""               # the incident commander
responders: []              # - {name: "", role: scribe}   (communications, operations, …)
services: []                # services affected, e.g. [checkout, payments]

summary: ""                 # two or three sentences: trigger, effect on users, how it ended
trigger: ""                 # what set it off (deploy, config push, traffic spike, dependency)
detection: ""               # how it was noticed, when not (only) by the SLO page
resolution: ""              # what ended it

impact:                     # figures people know; obsctl computes the SLO impact itself
  users: ""                 # e.g. "about 12,000 shoppers"
  revenue: ""               # e.g. "€18,000 in abandoned carts (estimate)"
  tickets: 0                # support tickets opened about it
  other: []                 # SLA credits, contractual exposure, press

timeline: []                # what people did and saw; obsctl adds alerts and budget crossings
#  - at: 2026-11-03T14:02:00Z
#    text: Config change to the checkout gateway rolled out

fiveWhys: []                # each answer is the next question; end at a system or process
#  - why: Why did checkout return errors?
#    because: The gateway routed to a backend pool that had no healthy members.

rootCause: ""
contributingFactors: []
wentWell: []
wentWrong: []
gotLucky: []

actionItems: []
#  - action: Validate gateway pools before a config change is applied
#    owner: ""              # a team or a person who will do it
#    due: 2026-12-15
#    priority: P1           # P0 | P1 | P2 | P3
#    ticket: ""             # e.g. OPS-1234

lessons: []

chat: ""                    # where updates are posted, e.g. "#inc-checkout"
statusPage: ""              # your public status page, e.g. status.example.com
"##;

#[cfg(test)]
mod tests {
    use super::*;

    fn refuse(text: &str) -> String {
        match parse("incident.yaml", text.as_bytes()) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_template_reads_back_as_an_empty_incident() {
        let loaded = parse("template.yaml", TEMPLATE.as_bytes()).unwrap();
        assert!(loaded.incident.timeline.is_empty());
        assert_eq!(loaded.incident.status, Status::Draft);
        assert_eq!(loaded.incident.impact.tickets, Some(0));
    }

    #[test]
    fn malformed_files_are_refused_with_positions_and_suggestions() {
        let e = refuse("title: x\nfiveWhy: []\n");
        assert!(
            e.starts_with("incident.yaml:2:1:") && e.contains("did you mean `fiveWhys`"),
            "{e}"
        );
        let e = refuse("timeline:\n  - at: yesterday\n    text: x\n");
        assert!(
            e.starts_with("incident.yaml:2:9:")
                && e.contains("timeline[0].at")
                && e.contains("RFC 3339"),
            "{e}"
        );
        let e = refuse("actionItems:\n  - action: x\n    priority: P5\n");
        assert!(
            e.contains("actionItems[0].priority") && e.contains("P0"),
            "{e}"
        );
        let e = refuse("actionItems:\n  - action: x\n    due: 2026-02-30\n");
        assert!(e.contains("invalid date `2026-02-30`"), "{e}");
        let e = refuse("impact: {tickets: many}\n");
        assert!(e.contains("impact.tickets"), "{e}");
        let e = refuse("title: [unclosed\n");
        assert!(e.starts_with("incident.yaml:"), "{e}");
    }

    #[test]
    fn positions_follow_keys_and_indexes() {
        let loaded = parse(
            "i.yaml",
            b"fiveWhys:\n  - why: a\n    because: b\n  - why: c\n    because: d\n",
        )
        .unwrap();
        let pos = position(
            &loaded.root,
            &[Step::Key("fiveWhys"), Step::Index(1), Step::Key("because")],
        );
        assert_eq!((pos.line, pos.col), (5, 14));
    }
}
