//! The blameless check: warns (never refuses) when the why-chain, the root cause or the
//! contributing factors name a person as the cause or use blame phrasing, and suggests a systems
//! framing. Blameless means the chain ends at systems and processes: people acted sensibly on
//! what the system showed them.

use std::sync::LazyLock;

use regex::Regex;

use super::incident::{position, Incident, Step};
use crate::yaml::{Node, Pos};

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Warning {
    /// `file:line:col`.
    pub at: String,
    /// Key path, e.g. `fiveWhys[2].because`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: `{}`: {}", self.at, self.field, self.message)
    }
}

/// Blame phrasing and the systems question to ask instead.
static PHRASES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"(?i)\b(human|operator|user|engineer|pilot)[- ]error\b",
            "ask what made the action easy to get wrong: a missing guardrail, review or validation, an unclear runbook",
        ),
        (
            r"(?i)\b(forgot|forgotten|forgetting)\b",
            "ask what should have reminded anyone: a checklist, an automated check, a safe default",
        ),
        (
            r"(?i)\b(fault of|(his|her|their|[a-z]+'s) fault|to blame|blamed?)\b",
            "describe what the system allowed, not who did it",
        ),
        (
            r"(?i)\b(careless(ly|ness)?|negligen(t|ce)|sloppy|lazy|incompeten(t|ce)|should have known|didn't bother|did not bother)\b",
            "describe the conditions people worked in (time pressure, missing signals, confusing tools)",
        ),
        (
            r"(?i)\b(mistake|screw(ed)? up|messed up) by\b",
            "name the step of the process that let the change through",
        ),
    ]
    .into_iter()
    .map(|(re, hint)| (Regex::new(re).expect("valid blame pattern"), hint))
    .collect()
});

/// Checks the why-chain, root cause and contributing factors of `incident` (positions from
/// `root`).
pub fn check(incident: &Incident, root: &Node) -> Vec<Warning> {
    let people = people(incident);
    let mut out = Vec::new();
    let mut scan = |text: &str, field: String, pos: Pos| {
        for (re, hint) in PHRASES.iter() {
            if let Some(m) = re.find(text) {
                out.push(Warning {
                    at: pos.to_string(),
                    field: field.clone(),
                    message: format!(
                        "blame phrasing “{}”; blameless postmortems end at systems and processes: {hint}",
                        m.as_str()
                    ),
                });
            }
        }
        for person in &people {
            if names(text, person) {
                out.push(Warning {
                    at: pos.to_string(),
                    field: field.clone(),
                    message: format!(
                        "names a person ({person}) in the cause; say what the system let happen instead \
                         (e.g. “the deploy tool applied the change without validation”, not who ran it)"
                    ),
                });
            }
        }
    };
    for (i, why) in incident.five_whys.iter().enumerate() {
        for (key, text) in [("why", &why.why), ("because", &why.because)] {
            let pos = position(
                root,
                &[Step::Key("fiveWhys"), Step::Index(i), Step::Key(key)],
            );
            scan(text, format!("fiveWhys[{i}].{key}"), pos);
        }
    }
    if let Some(text) = &incident.root_cause {
        scan(
            text,
            "rootCause".into(),
            position(root, &[Step::Key("rootCause")]),
        );
    }
    for (i, text) in incident.contributing_factors.iter().enumerate() {
        let pos = position(root, &[Step::Key("contributingFactors"), Step::Index(i)]);
        scan(text, format!("contributingFactors[{i}]"), pos);
    }
    out
}

/// Everyone the file names as a person: commander, responders, authors, action-item owners
/// (owners that look like teams, `#chan` or `team-…`, are not people).
fn people(incident: &Incident) -> Vec<String> {
    let mut out: Vec<String> = incident
        .commander
        .iter()
        .chain(incident.responders.iter().map(|r| &r.name))
        .chain(incident.authors.iter())
        .chain(
            incident
                .action_items
                .iter()
                .filter_map(|a| a.owner.as_ref()),
        )
        .map(|s| s.trim().to_string())
        .filter(|s| {
            !s.is_empty()
                && !s.starts_with('#')
                && !s.starts_with('@')
                && !s.to_lowercase().contains("team")
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `text` mentions `person` by full name or by first name (at least 3 letters), as a
/// whole word.
fn names(text: &str, person: &str) -> bool {
    let first = person.split_whitespace().next().unwrap_or(person);
    let mut candidates = vec![person];
    if first.chars().count() >= 3 {
        candidates.push(first);
    }
    candidates.iter().any(|name| {
        Regex::new(&format!(r"(?i)\b{}\b", regex::escape(name))).is_ok_and(|re| re.is_match(text))
    })
}

#[cfg(test)]
mod tests {
    use super::super::incident::parse;
    use super::*;

    fn warnings(text: &str) -> Vec<Warning> {
        let loaded = parse("i.yaml", text.as_bytes()).unwrap();
        check(&loaded.incident, &loaded.root)
    }

    #[test]
    fn blame_phrasing_and_named_people_are_warned_about_with_positions() {
        let w = warnings(
            "commander: Dana Reyes\nresponders: [{name: Sam Okafor, role: scribe}]\n\
             fiveWhys:\n  - why: Why did checkout fail?\n    because: Sam forgot to update the pool list.\n\
             rootCause: Human error during the rollout.\n\
             contributingFactors: [\"It was the fault of the release manager\"]\n",
        );
        let text: Vec<String> = w.iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|t| t
                    .starts_with("i.yaml:5:14: `fiveWhys[0].because`: blame phrasing “forgot”")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("fiveWhys[0].because")
                    && t.contains("names a person (Sam Okafor)")),
            "{text:#?}"
        );
        assert!(
            text.iter().any(|t| t.contains("rootCause")
                && t.contains("“Human error”")
                && t.contains("guardrail")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("contributingFactors[0]") && t.contains("fault of")),
            "{text:#?}"
        );
    }

    #[test]
    fn systems_framing_passes() {
        let w = warnings(
            "commander: Dana Reyes\nactionItems: [{action: x, owner: team-payments}]\n\
             fiveWhys:\n  - why: Why did checkout fail?\n    because: The gateway accepted a pool list with no healthy members.\n\
             rootCause: The config pipeline does not validate pools before applying a change.\n",
        );
        assert!(w.is_empty(), "{w:#?}");
    }
}
