//! OpenSLO v1 (`apiVersion: openslo/v1`) in and out: [`import`] turns `SLO` documents (with
//! their `SLI`, `AlertPolicy`, `AlertCondition` and `DataSource` documents, inline or by
//! reference) into profile `slos:` entries; [`export`] writes a profile's SLOs as OpenSLO.
//!
//! The mapping (README "OpenSLO v1"):
//! - `ratioMetric` with `counter: true`, `good` or `bad` and `total` → `indicator.ratio`; a
//!   `thresholdMetric` on a classic histogram with objective `op: lte` → `indicator.latency`.
//!   Each query is one bare PromQL selector of a `Prometheus` source (inline, or a `DataSource`
//!   of type `Prometheus`).
//! - `objectives[0].target` (0–1) or `targetPercent` → `objective`, exactly (0.999 → 99.9).
//! - `timeWindow`: rolling `30d` → `window: 30d`; calendar `1M` / `1w` in UTC, starting on a
//!   month's first day / a Monday at 00:00 → `1mo` / `1w`.
//! - Each `AlertCondition` of `kind: burnrate` is one alert tier: `severity` page/critical or
//!   ticket/warning, `lookbackWindow` the long window, `threshold` the burn rate, and the short
//!   window from the `obsctl.dev/short-window` annotation (else 1/12 of the long one, the
//!   Workbook's rule). The Workbook's four tiers map to `page`/`ticket`; anything else to
//!   `alerting.tiers`. No alert policy means no alerts.
//! - `metadata.labels` → `alerting.labels`; the `obsctl.dev/runbook-url` annotation →
//!   `alerting.runbookUrl`; the `obsctl.dev/runbook` annotation (the profile's `runbook:` block
//!   as JSON, since OpenSLO has no place for escalation or mitigation steps) → `runbook`; the
//!   `obsctl.dev/group-by` annotation (`route,method`: OpenSLO v1 has no per-label SLOs) →
//!   `groupBy`.
//!
//! Refused, at their position and with the reason: `Timeslices`/`RatioTimeslices` budgeting,
//! non-Prometheus sources, raw (precomputed) ratios, gauges, queries that are not a bare
//! selector, several objectives, composite SLOs, other calendars and time zones.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::profile::slo::{Calendar, Exact, Indicator, Selector, Severity, Slo, Tier};
use crate::profile::types::format_seconds;
use crate::profile::{Problem, PromDuration};
use crate::yaml::{self, from_node, DeError, Key, Node, Pos, Value, YamlError};

pub const API_VERSION: &str = "openslo/v1";
/// The short window of a tier (OpenSLO conditions have one lookback window).
pub const SHORT_WINDOW_ANNOTATION: &str = "obsctl.dev/short-window";
pub const RUNBOOK_ANNOTATION: &str = "obsctl.dev/runbook-url";
/// The SLO's `runbook:` block, as JSON.
pub const RUNBOOK_BLOCK_ANNOTATION: &str = "obsctl.dev/runbook";
/// A per-label SLO's `groupBy` labels, comma-separated.
pub const GROUP_BY_ANNOTATION: &str = "obsctl.dev/group-by";

#[derive(Debug, thiserror::Error)]
pub enum OpenSloError {
    #[error(transparent)]
    Yaml(#[from] YamlError),
    #[error(transparent)]
    Schema(#[from] DeError),
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<Problem>),
}

// ---- the documents, as the v1 spec shapes them ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Doc<S> {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    metadata: Metadata,
    spec: S,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Metadata {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    display_name: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, Json>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SloSpec {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    service: String,
    #[serde(default)]
    indicator: Option<InlineSli>,
    #[serde(default)]
    indicator_ref: Option<String>,
    #[serde(default)]
    time_window: Vec<TimeWindow>,
    budgeting_method: String,
    #[serde(default)]
    objectives: Vec<ObjectiveSpec>,
    #[serde(default)]
    alert_policies: Vec<PolicyItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InlineSli {
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<Metadata>,
    spec: SliSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SliSpec {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    threshold_metric: Option<MetricHolder>,
    #[serde(default)]
    ratio_metric: Option<RatioMetric>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MetricHolder {
    metric_source: MetricSource,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MetricSource {
    #[serde(default)]
    metric_source_ref: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    spec: BTreeMap<String, Json>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RatioMetric {
    #[serde(default)]
    counter: Option<bool>,
    #[serde(default)]
    good: Option<MetricHolder>,
    #[serde(default)]
    bad: Option<MetricHolder>,
    #[serde(default)]
    total: Option<MetricHolder>,
    #[serde(default)]
    raw: Option<MetricHolder>,
    #[serde(default)]
    #[allow(dead_code)]
    raw_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TimeWindow {
    duration: String,
    #[serde(default)]
    is_rolling: Option<bool>,
    #[serde(default)]
    calendar: Option<CalendarSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CalendarSpec {
    start_time: String,
    time_zone: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ObjectiveSpec {
    #[serde(default)]
    #[allow(dead_code)]
    display_name: Option<String>,
    #[serde(default)]
    op: Option<String>,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    target: Option<f64>,
    #[serde(default)]
    target_percent: Option<f64>,
    #[serde(default)]
    time_slice_target: Option<f64>,
    #[serde(default)]
    time_slice_window: Option<String>,
    #[serde(default)]
    indicator: Option<Json>,
    #[serde(default)]
    indicator_ref: Option<String>,
    #[serde(default)]
    composite_weight: Option<f64>,
}

/// An inline document or a reference to one by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PolicyItem {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    spec: Option<PolicySpec>,
    #[serde(default)]
    alert_policy_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PolicySpec {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    alert_when_no_data: Option<bool>,
    #[serde(default)]
    #[allow(dead_code)]
    alert_when_resolved: Option<bool>,
    #[serde(default)]
    #[allow(dead_code)]
    alert_when_breaching: Option<bool>,
    #[serde(default)]
    conditions: Vec<ConditionItem>,
    #[serde(default)]
    #[allow(dead_code)]
    notification_targets: Vec<Json>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConditionItem {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    spec: Option<ConditionSpec>,
    #[serde(default)]
    condition_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConditionSpec {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    severity: String,
    condition: Condition,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Condition {
    kind: String,
    op: String,
    threshold: f64,
    lookback_window: String,
    #[serde(default)]
    #[allow(dead_code)]
    alert_after: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DataSourceSpec {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    connection_details: Option<Json>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AnySpec {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<Json>,
    #[serde(flatten)]
    #[allow(dead_code)]
    rest: BTreeMap<String, Json>,
}

// ---- reading ----

/// The documents of every file, by kind and name, with the node each came from.
#[derive(Default)]
struct Catalog {
    slos: Vec<(Node, Doc<SloSpec>)>,
    slis: BTreeMap<String, (Node, Doc<SliSpec>)>,
    policies: BTreeMap<String, (Node, Doc<PolicySpec>)>,
    conditions: BTreeMap<String, (Node, Doc<ConditionSpec>)>,
    sources: BTreeMap<String, (Node, Doc<DataSourceSpec>)>,
}

/// Reads OpenSLO files (`(display name, bytes)`) and returns one profile `slos:` entry per `SLO`
/// document, as YAML nodes that keep the OpenSLO positions (so a profile check of them points
/// into the OpenSLO file), plus notes for stderr.
pub fn import(files: &[(String, Vec<u8>)]) -> Result<(Vec<Node>, Vec<String>), OpenSloError> {
    let mut catalog = Catalog::default();
    let mut problems = Vec::new();
    for (source, bytes) in files {
        for doc in yaml::parse_documents(source, bytes)? {
            read_document(doc, &mut catalog, &mut problems)?;
        }
    }
    if !problems.is_empty() {
        return Err(OpenSloError::Refused(problems));
    }
    if catalog.slos.is_empty() {
        let source = files.first().map(|f| f.0.as_str()).unwrap_or("-");
        return Err(OpenSloError::Refused(vec![Problem {
            pos: crate::profile::synthetic_pos(source),
            path: "kind".into(),
            message: "no `kind: SLO` document: nothing to import (SLI, AlertPolicy and DataSource documents are only used through an SLO)".into(),
        }]));
    }
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut names: BTreeMap<String, Pos> = BTreeMap::new();
    for (node, doc) in &catalog.slos {
        let mut m = Mapper {
            node,
            catalog: &catalog,
            problems: &mut problems,
        };
        if let Some(first) = names.get(&doc.metadata.name) {
            let message = format!(
                "a second SLO named `{}` (the first is at {first}): the name identifies its rules; rename one",
                doc.metadata.name
            );
            m.refuse("metadata.name", message);
            continue;
        }
        names.insert(
            doc.metadata.name.clone(),
            m.pos("metadata.name").unwrap_or_else(|| node.pos.clone()),
        );
        if let Some(slo) = m.slo(doc, &mut notes) {
            out.push(slo);
        }
    }
    if !problems.is_empty() {
        return Err(OpenSloError::Refused(problems));
    }
    Ok((out, notes))
}

fn read_document(
    doc: Node,
    catalog: &mut Catalog,
    problems: &mut Vec<Problem>,
) -> Result<(), OpenSloError> {
    let refuse = |problems: &mut Vec<Problem>, node: &Node, path: &str, message: String| {
        problems.push(Problem {
            pos: node.pos.clone(),
            path: path.into(),
            message,
        })
    };
    let api = doc.get("apiVersion").cloned();
    match api.as_ref().map(|n| &n.value) {
        Some(Value::Str(v)) if v == API_VERSION => {}
        Some(Value::Str(v)) => {
            let n = api.as_ref().unwrap_or(&doc);
            refuse(problems, n, "apiVersion", format!("`{v}` is not OpenSLO v1: obsctl reads `apiVersion: {API_VERSION}` (v1alpha and v2alpha differ in shape)"));
            return Ok(());
        }
        _ => {
            refuse(
                problems,
                &doc,
                "apiVersion",
                format!("missing `apiVersion: {API_VERSION}`"),
            );
            return Ok(());
        }
    }
    let kind = match doc.get("kind").map(|n| &n.value) {
        Some(Value::Str(k)) => k.clone(),
        _ => {
            refuse(
                problems,
                &doc,
                "kind",
                "missing `kind` (SLO, SLI, AlertPolicy, AlertCondition, DataSource, Service or AlertNotificationTarget)".into(),
            );
            return Ok(());
        }
    };
    match kind.as_str() {
        "SLO" => {
            let d: Doc<SloSpec> = from_node(&doc)?;
            catalog.slos.push((doc, d));
        }
        "SLI" => {
            let d: Doc<SliSpec> = from_node(&doc)?;
            catalog.slis.insert(d.metadata.name.clone(), (doc, d));
        }
        "AlertPolicy" => {
            let d: Doc<PolicySpec> = from_node(&doc)?;
            catalog.policies.insert(d.metadata.name.clone(), (doc, d));
        }
        "AlertCondition" => {
            let d: Doc<ConditionSpec> = from_node(&doc)?;
            catalog.conditions.insert(d.metadata.name.clone(), (doc, d));
        }
        "DataSource" => {
            let d: Doc<DataSourceSpec> = from_node(&doc)?;
            catalog.sources.insert(d.metadata.name.clone(), (doc, d));
        }
        // Nothing of these maps onto the rules; they are read so a typo in them still fails.
        "Service" | "AlertNotificationTarget" => {
            let _: Doc<AnySpec> = from_node(&doc)?;
        }
        other => {
            let at = doc.get("kind").unwrap_or(&doc);
            let names = [
                "SLO",
                "SLI",
                "AlertPolicy",
                "AlertCondition",
                "DataSource",
                "Service",
                "AlertNotificationTarget",
            ];
            let hint = crate::suggest::did_you_mean(other, &names);
            refuse(
                problems,
                at,
                "kind",
                format!(
                    "unknown OpenSLO v1 kind `{other}`{hint} Expected one of {}",
                    names.join(", ")
                ),
            );
        }
    }
    Ok(())
}

/// Looks a dotted path with `[i]` indexes up in a node: `spec.objectives[0].target`.
fn lookup<'a>(node: &'a Node, path: &str) -> Option<&'a Node> {
    let mut cur = node;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, index) = match part.split_once('[') {
            Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        if !key.is_empty() {
            cur = cur.get(key)?;
        }
        if let Some(i) = index {
            match &cur.value {
                Value::Seq(items) => cur = items.get(i)?,
                _ => return None,
            }
        }
    }
    Some(cur)
}

/// The node at `path`, or its deepest existing ancestor.
fn nearest<'a>(node: &'a Node, path: &str) -> &'a Node {
    let parts: Vec<&str> = path.split('.').collect();
    (0..=parts.len())
        .rev()
        .find_map(|n| lookup(node, &parts[..n].join(".")))
        .unwrap_or(node)
}

struct Mapper<'a> {
    /// The SLO document.
    node: &'a Node,
    catalog: &'a Catalog,
    problems: &'a mut Vec<Problem>,
}

/// Where a referenced document's fields are: its own node and the path prefix within it.
#[derive(Clone, Copy)]
struct Place<'a> {
    node: &'a Node,
    prefix: &'a str,
}

impl<'a> Mapper<'a> {
    fn pos(&self, path: &str) -> Option<Pos> {
        lookup(self.node, path).map(|n| n.pos.clone())
    }

    fn refuse_in(&mut self, place: Place, path: &str, message: String) {
        let full = join(place.prefix, path);
        self.problems.push(Problem {
            pos: nearest(place.node, &full).pos.clone(),
            path: full,
            message,
        });
    }

    fn refuse(&mut self, path: &str, message: String) {
        let place = Place {
            node: self.node,
            prefix: "",
        };
        self.refuse_in(place, path, message);
    }

    fn slo(&mut self, doc: &'a Doc<SloSpec>, notes: &mut Vec<String>) -> Option<Node> {
        let spec = &doc.spec;
        let start = self.problems.len();
        let mut entries: Vec<(&str, Node)> = vec![
            ("name", self.text("metadata.name", &doc.metadata.name)),
            ("service", self.text("spec.service", &spec.service)),
        ];
        if spec.budgeting_method != "Occurrences" {
            let why = match spec.budgeting_method.as_str() {
                "Timeslices" | "RatioTimeslices" => format!(
                    "`{}` budgeting counts good time slices, which Prometheus recording rules over event counters cannot express; obsctl budgets `Occurrences` (good events / all events)",
                    spec.budgeting_method
                ),
                other => format!(
                    "unknown budgeting method `{other}`: expected `Occurrences` (obsctl does not map `Timeslices` or `RatioTimeslices`)"
                ),
            };
            self.refuse("spec.budgetingMethod", why);
        }
        let objective = self.objective(spec);
        let window = self.window(spec);
        let indicator = self.indicator(doc);
        let alerting = self.alerting(doc, window.as_ref().map(|w| w.1.clone()), notes);
        if self.problems.len() > start {
            return None;
        }
        entries.push(("objective", objective?));
        entries.push(("window", window?.0));
        entries.push(("indicator", indicator?));
        if let Some(labels) = doc.metadata.annotations.get(GROUP_BY_ANNOTATION) {
            let at = format!("metadata.annotations.{GROUP_BY_ANNOTATION}");
            let pos = self.pos(&at).unwrap_or_else(|| self.node.pos.clone());
            // Each label at the annotation's position: that is where a person fixes it.
            let items = labels
                .split(',')
                .map(|l| str_node(pos.clone(), l.trim()))
                .collect();
            entries.push((
                "groupBy",
                Node {
                    pos,
                    value: Value::Seq(items),
                    raw: None,
                },
            ));
        }
        entries.push(("alerting", alerting?));
        if let Some(block) = doc.metadata.annotations.get(RUNBOOK_BLOCK_ANNOTATION) {
            entries.push(("runbook", self.runbook_block(block)?));
        }
        Some(map_node(self.node.pos.clone(), entries))
    }

    /// The `obsctl.dev/runbook` annotation as a profile `runbook:` node. Its text is JSON inside
    /// a YAML string, so every position in it is the annotation's: that is where a person fixes it.
    fn runbook_block(&mut self, text: &str) -> Option<Node> {
        let at = format!("metadata.annotations.{RUNBOOK_BLOCK_ANNOTATION}");
        let pos = self.pos(&at).unwrap_or_else(|| self.node.pos.clone());
        match yaml::parse(&pos.source, text.as_bytes()) {
            Ok(node) => Some(at_pos(node, &pos)),
            Err(e) => {
                self.refuse(
                    &at,
                    format!("not a runbook block (a JSON object like `{{\"namespace\": \"shop\"}}`): {}", e.message),
                );
                None
            }
        }
    }

    fn text(&self, path: &str, text: &str) -> Node {
        str_node(
            self.pos(path).unwrap_or_else(|| self.node.pos.clone()),
            text,
        )
    }

    fn objective(&mut self, spec: &SloSpec) -> Option<Node> {
        match spec.objectives.len() {
            0 => {
                self.refuse(
                    "spec.objectives",
                    "no objective: give one, e.g. `- target: 0.999`".into(),
                );
                return None;
            }
            1 => {}
            _ => {
                self.refuse("spec.objectives[1]", "a second objective: an obsctl SLO has one objective; write one SLO document per objective".into());
                return None;
            }
        }
        let o = &spec.objectives[0];
        let at = "spec.objectives[0]";
        if o.indicator.is_some() || o.indicator_ref.is_some() || o.composite_weight.is_some() {
            self.refuse(at, "a composite SLO (objectives with their own indicators and weights) does not map onto one ratio of counters".into());
            return None;
        }
        if o.time_slice_target.is_some() || o.time_slice_window.is_some() {
            self.refuse(
                &format!("{at}.timeSliceTarget"),
                "time slices do not map: obsctl budgets `Occurrences`".into(),
            );
            return None;
        }
        let raw = |key: &str| {
            lookup(self.node, &format!("{at}.{key}"))
                .and_then(|n| n.raw.clone())
                .map(|r| (r, format!("{at}.{key}")))
        };
        let (percent, path) = match (o.target, o.target_percent) {
            (Some(_), None) => {
                let (text, path) = raw("target")?;
                let Some(ratio) = Exact::parse_decimal(&text, 12) else {
                    self.refuse(
                        &path,
                        format!("`{text}` is not a plain decimal target; expected e.g. `0.999`"),
                    );
                    return None;
                };
                if ratio >= Exact::int(1) {
                    self.refuse(&path, format!("target `{text}` is a ratio below 1 (0.999 is 99.9%); for percent use `targetPercent`"));
                    return None;
                }
                ((ratio * Exact::int(100)).to_string(), path)
            }
            (None, Some(_)) => raw("targetPercent")?,
            (Some(_), Some(_)) => {
                self.refuse(
                    &format!("{at}.targetPercent"),
                    "give `target` or `targetPercent`, not both".into(),
                );
                return None;
            }
            (None, None) => {
                self.refuse(
                    at,
                    "no `target` (a ratio such as 0.999) or `targetPercent` (such as 99.9)".into(),
                );
                return None;
            }
        };
        Some(str_node(
            self.pos(&path).unwrap_or_else(|| self.node.pos.clone()),
            &percent,
        ))
    }

    /// The `window:` node and the window itself.
    fn window(&mut self, spec: &SloSpec) -> Option<(Node, crate::profile::slo::SloWindow)> {
        let at = "spec.timeWindow[0]";
        let tw = match spec.time_window.as_slice() {
            [one] => one,
            [] => {
                self.refuse(
                    "spec.timeWindow",
                    "no time window: give one, e.g. `- {duration: 30d, isRolling: true}`".into(),
                );
                return None;
            }
            _ => {
                self.refuse(
                    "spec.timeWindow[1]",
                    "OpenSLO v1 allows exactly one time window".into(),
                );
                return None;
            }
        };
        let pos = self
            .pos(&format!("{at}.duration"))
            .unwrap_or_else(|| self.node.pos.clone());
        let text = if tw.is_rolling.unwrap_or(tw.calendar.is_none()) {
            if tw.calendar.is_some() {
                self.refuse(
                    &format!("{at}.calendar"),
                    "a rolling window has no calendar; remove `calendar` or set `isRolling: false`"
                        .into(),
                );
                return None;
            }
            match rolling_secs(&tw.duration) {
                Ok(secs) => format_seconds(secs),
                Err(why) => {
                    self.refuse(&format!("{at}.duration"), why);
                    return None;
                }
            }
        } else {
            let Some(cal) = &tw.calendar else {
                self.refuse(
                    at,
                    "a calendar window (`isRolling: false`) needs `calendar: {startTime, timeZone}`"
                        .into(),
                );
                return None;
            };
            match calendar_period(&tw.duration, cal) {
                Ok(c) => c.as_str().to_string(),
                Err((key, why)) => {
                    self.refuse(&format!("{at}.{key}"), why);
                    return None;
                }
            }
        };
        match text.parse::<crate::profile::slo::SloWindow>() {
            Ok(w) => Some((str_node(pos, &text), w)),
            Err(e) => {
                self.refuse(&format!("{at}.duration"), e);
                None
            }
        }
    }

    fn indicator(&mut self, doc: &'a Doc<SloSpec>) -> Option<Node> {
        let spec = &doc.spec;
        let (sli, place): (&SliSpec, Place) = match (&spec.indicator, &spec.indicator_ref) {
            (Some(i), None) => (
                &i.spec,
                Place {
                    node: self.node,
                    prefix: "spec.indicator.spec",
                },
            ),
            (None, Some(name)) => match self.catalog.slis.get(name) {
                Some((node, d)) => (
                    &d.spec,
                    Place {
                        node,
                        prefix: "spec",
                    },
                ),
                None => {
                    let names: Vec<&str> = self.catalog.slis.keys().map(String::as_str).collect();
                    let hint = crate::suggest::did_you_mean(name, &names);
                    self.refuse(
                        "spec.indicatorRef",
                        format!(
                            "no `kind: SLI` document named `{name}`{hint} Give the SLI's file too"
                        ),
                    );
                    return None;
                }
            },
            (Some(_), Some(_)) => {
                self.refuse(
                    "spec.indicatorRef",
                    "give `indicator` or `indicatorRef`, not both".into(),
                );
                return None;
            }
            (None, None) => {
                self.refuse(
                    "spec",
                    "no `indicator` (an inline SLI) or `indicatorRef`".into(),
                );
                return None;
            }
        };
        let pos = nearest(place.node, place.prefix).pos.clone();
        match (&sli.ratio_metric, &sli.threshold_metric) {
            (Some(r), None) => self.ratio(r, place, pos),
            (None, Some(t)) => self.latency(t, &doc.spec, place, pos),
            _ => {
                self.refuse_in(
                    place,
                    "",
                    "an SLI has exactly one of `ratioMetric` and `thresholdMetric`".into(),
                );
                None
            }
        }
    }

    fn ratio(&mut self, r: &RatioMetric, place: Place, pos: Pos) -> Option<Node> {
        let at = "ratioMetric";
        if r.raw.is_some() {
            self.refuse_in(place, &format!("{at}.raw"), "a raw (precomputed) ratio cannot be summed into windows; give `good` or `bad` and `total` counters".into());
            return None;
        }
        if r.counter != Some(true) {
            self.refuse_in(place, &format!("{at}.counter"), "obsctl reads counters (`counter: true`): a gauge's samples cannot be summed into event counts".into());
            return None;
        }
        let (key, part) = match (&r.good, &r.bad) {
            (Some(g), None) => ("good", g),
            (None, Some(b)) => ("errors", b),
            _ => {
                self.refuse_in(place, at, "give exactly one of `good` and `bad`".into());
                return None;
            }
        };
        let Some(total) = &r.total else {
            self.refuse_in(place, at, "no `total`".into());
            return None;
        };
        let from = if key == "good" { "good" } else { "bad" };
        let part = self.selector(part, place, &format!("{at}.{from}"));
        let total = self.selector(total, place, &format!("{at}.total"));
        let (part, total) = (part?, total?);
        Some(map_node(
            pos.clone(),
            vec![("ratio", map_node(pos, vec![(key, part), ("total", total)]))],
        ))
    }

    fn latency(
        &mut self,
        t: &MetricHolder,
        spec: &SloSpec,
        place: Place,
        pos: Pos,
    ) -> Option<Node> {
        let metric = self.selector(t, place, "thresholdMetric")?;
        let objective = spec.objectives.first()?;
        let at = "spec.objectives[0]";
        match objective.op.as_deref() {
            Some("lte") => {}
            Some(op) => {
                self.refuse(&format!("{at}.op"), format!("`op: {op}` does not map: a histogram's `le` buckets count requests at or under a boundary, so a latency objective is `op: lte`"));
                return None;
            }
            None => {
                self.refuse(
                    at,
                    "a threshold SLI needs `op: lte` and `value` (seconds) in its objective".into(),
                );
                return None;
            }
        }
        let Some(value) =
            lookup(self.node, &format!("{at}.value")).filter(|_| objective.value.is_some())
        else {
            self.refuse(at, "no `value`: the latency threshold in seconds, one of the histogram's `le` boundaries".into());
            return None;
        };
        let mut metric = metric;
        if let Value::Str(s) = &metric.value {
            // `h_bucket` and `h_count` name the same histogram as `h`.
            for suffix in ["_bucket", "_count"] {
                if let Some((name, rest)) = s.split_once('{').or(Some((s.as_str(), ""))) {
                    if let Some(base) = name.strip_suffix(suffix) {
                        let text = if rest.is_empty() {
                            base.to_string()
                        } else {
                            format!("{base}{{{rest}")
                        };
                        metric = str_node(metric.pos.clone(), &text);
                        break;
                    }
                }
            }
        }
        Some(map_node(
            pos.clone(),
            vec![(
                "latency",
                map_node(pos, vec![("metric", metric), ("threshold", value.clone())]),
            )],
        ))
    }

    /// A Prometheus source's query, which must be one bare selector.
    fn selector(&mut self, m: &MetricHolder, place: Place, at: &str) -> Option<Node> {
        let src = &m.metric_source;
        let at = format!("{at}.metricSource");
        let kind = match (&src.kind, &src.metric_source_ref) {
            (Some(k), _) => k.clone(),
            (None, Some(name)) => match self.catalog.sources.get(name) {
                Some((_, d)) => d.spec.kind.clone(),
                None => {
                    self.refuse_in(
                        place,
                        &format!("{at}.metricSourceRef"),
                        format!("no `kind: DataSource` document named `{name}`"),
                    );
                    return None;
                }
            },
            (None, None) => {
                self.refuse_in(
                    place,
                    &at,
                    "no `type` (Prometheus) or `metricSourceRef`".into(),
                );
                return None;
            }
        };
        if !kind.eq_ignore_ascii_case("prometheus") {
            let key = if src.kind.is_some() {
                "type"
            } else {
                "metricSourceRef"
            };
            self.refuse_in(place, &format!("{at}.{key}"), format!("a `{kind}` source does not map: obsctl generates Prometheus rules, so it reads `Prometheus` sources only"));
            return None;
        }
        let query_path = format!("{at}.spec.query");
        let Some(Json::String(query)) = src.spec.get("query") else {
            self.refuse_in(
                place,
                &format!("{at}.spec"),
                "no `query:`, the PromQL selector of the counter".into(),
            );
            return None;
        };
        if let Err(e) = query.parse::<Selector>() {
            self.refuse_in(place, &query_path, format!("{e}. obsctl writes the `increase`, `sum` and windows itself, so an OpenSLO query it imports is one bare selector"));
            return None;
        }
        let pos = nearest(place.node, &join(place.prefix, &query_path))
            .pos
            .clone();
        Some(str_node(pos, query))
    }

    fn alerting(
        &mut self,
        doc: &Doc<SloSpec>,
        window: Option<crate::profile::slo::SloWindow>,
        notes: &mut Vec<String>,
    ) -> Option<Node> {
        let pos = self
            .pos("spec.alertPolicies")
            .unwrap_or_else(|| self.node.pos.clone());
        let mut entries: Vec<(&str, Node)> = Vec::new();
        if let Some(url) = doc.metadata.annotations.get(RUNBOOK_ANNOTATION) {
            let at = format!("metadata.annotations.{RUNBOOK_ANNOTATION}");
            entries.push(("runbookUrl", self.text(&at, url)));
        }
        let mut labels = Vec::new();
        for (key, value) in &doc.metadata.labels {
            let at = format!("metadata.labels.{key}");
            match value {
                Json::String(v) => labels.push((key.as_str(), self.text(&at, v))),
                _ => self.refuse(&at, format!("label `{key}` has a list value; alert labels have one value each (`{key}: value`)")),
            }
        }
        if !labels.is_empty() {
            entries.push(("labels", map_node(pos.clone(), labels)));
        }
        let window = window?;
        let mut tiers: Vec<(Tier, Pos)> = Vec::new();
        for (i, item) in doc.spec.alert_policies.iter().enumerate() {
            let at = format!("spec.alertPolicies[{i}]");
            let (policy, place) = match (&item.alert_policy_ref, &item.spec) {
                (Some(name), None) => match self.catalog.policies.get(name) {
                    Some((node, d)) => (
                        &d.spec,
                        Place {
                            node,
                            prefix: "spec",
                        },
                    ),
                    None => {
                        self.refuse(
                            &format!("{at}.alertPolicyRef"),
                            format!("no `kind: AlertPolicy` document named `{name}`"),
                        );
                        continue;
                    }
                },
                (None, Some(spec)) if item.kind.as_deref().is_none_or(|k| k == "AlertPolicy") => {
                    let _ = &item.metadata;
                    (
                        spec,
                        Place {
                            node: self.node,
                            prefix: "",
                        },
                    )
                }
                _ => {
                    self.refuse(&at, "an alert policy is inline (`kind: AlertPolicy`, `metadata`, `spec`) or `alertPolicyRef: name`".into());
                    continue;
                }
            };
            let prefix_owned;
            let place = if place.prefix.is_empty() {
                prefix_owned = format!("{at}.spec");
                Place {
                    node: self.node,
                    prefix: &prefix_owned,
                }
            } else {
                place
            };
            for (j, c) in policy.conditions.iter().enumerate() {
                if let Some(t) = self.condition(c, place, &format!("conditions[{j}]"), &window) {
                    tiers.push(t);
                }
            }
        }
        let defaults = |s: Severity| -> Vec<Tier> {
            crate::profile::slo::TIERS
                .iter()
                .filter(|t| t.severity == s)
                .copied()
                .collect()
        };
        let mut page = false;
        let mut ticket = false;
        let mut rest: Vec<(Tier, Pos)> = Vec::new();
        for (severity, flag) in [
            (Severity::Critical, &mut page),
            (Severity::Warning, &mut ticket),
        ] {
            let want = defaults(severity);
            let got: Vec<&(Tier, Pos)> = tiers
                .iter()
                .filter(|(t, _)| t.severity == severity)
                .collect();
            let same = got.len() == want.len()
                && want
                    .iter()
                    .all(|w| got.iter().any(|(g, _)| same_tier(g, w, &window)));
            if same {
                *flag = true;
            } else {
                rest.extend(got.into_iter().cloned());
            }
        }
        if !rest.is_empty() {
            // Not the Workbook's table: the conditions become the SLO's own (`alerting.tiers`),
            // every one of them, so both severities keep what the document says.
            let items = tiers
                .iter()
                .map(|(t, tpos)| {
                    map_node(
                        tpos.clone(),
                        vec![
                            ("severity", str_node(tpos.clone(), t.severity.as_str())),
                            (
                                "longWindow",
                                str_node(tpos.clone(), &format_seconds(t.long_secs)),
                            ),
                            (
                                "shortWindow",
                                str_node(tpos.clone(), &format_seconds(t.short_secs)),
                            ),
                            (
                                "burnRate",
                                number_node(tpos.clone(), &t.burn_rate(&window).to_string()),
                            ),
                        ],
                    )
                })
                .collect();
            entries.push((
                "tiers",
                Node {
                    pos: pos.clone(),
                    value: Value::Seq(items),
                    raw: None,
                },
            ));
            return Some(map_node(pos, entries));
        }
        if doc.spec.alert_policies.is_empty() {
            notes.push(format!("SLO `{}` has no alertPolicies: imported without alerts (`page: false`, `ticket: false`); remove those two lines to get the Workbook's tiers", doc.metadata.name));
        }
        entries.push(("page", bool_node(pos.clone(), page)));
        entries.push(("ticket", bool_node(pos.clone(), ticket)));
        Some(map_node(pos, entries))
    }

    fn condition(
        &mut self,
        c: &ConditionItem,
        place: Place,
        at: &str,
        window: &PromDuration,
    ) -> Option<(Tier, Pos)> {
        let (cond, cplace, meta) = match (&c.condition_ref, &c.spec) {
            (Some(name), None) => match self.catalog.conditions.get(name) {
                Some((node, d)) => (
                    &d.spec,
                    Place {
                        node,
                        prefix: "spec",
                    },
                    Some(&d.metadata),
                ),
                None => {
                    self.refuse_in(
                        place,
                        &format!("{at}.conditionRef"),
                        format!("no `kind: AlertCondition` document named `{name}`"),
                    );
                    return None;
                }
            },
            (None, Some(spec)) if c.kind.as_deref().is_none_or(|k| k == "AlertCondition") => {
                (spec, place, c.metadata.as_ref())
            }
            _ => {
                self.refuse_in(place, at, "a condition is inline (`kind: AlertCondition`, `metadata`, `spec`) or `conditionRef: name`".into());
                return None;
            }
        };
        let inline_prefix;
        let (cplace, cat) = if c.condition_ref.is_some() {
            (cplace, String::new())
        } else {
            inline_prefix = join(place.prefix, &format!("{at}.spec"));
            (
                Place {
                    node: place.node,
                    prefix: &inline_prefix,
                },
                String::new(),
            )
        };
        let _ = cat;
        let pos = nearest(cplace.node, &join(cplace.prefix, "condition"))
            .pos
            .clone();
        let severity = match cond.severity.to_ascii_lowercase().as_str() {
            "page" | "critical" => Severity::Critical,
            "ticket" | "warning" => Severity::Warning,
            other => {
                self.refuse_in(cplace, "severity", format!("severity `{other}` does not map: obsctl alerts are `page` (critical) or `ticket` (warning)"));
                return None;
            }
        };
        let k = &cond.condition;
        if k.kind != "burnrate" {
            self.refuse_in(
                cplace,
                "condition.kind",
                format!(
                    "condition kind `{}` does not map: obsctl alerts on `burnrate`",
                    k.kind
                ),
            );
            return None;
        }
        if !matches!(k.op.as_str(), "gt" | "gte") {
            self.refuse_in(cplace, "condition.op", format!("`op: {}` does not map: a burn-rate alert fires above its threshold (`gt` or `gte`)", k.op));
            return None;
        }
        let long = match rolling_secs(&k.lookback_window) {
            Ok(s) => s,
            Err(e) => {
                self.refuse_in(cplace, "condition.lookbackWindow", e);
                return None;
            }
        };
        let short = match meta.and_then(|m| m.annotations.get(SHORT_WINDOW_ANNOTATION)) {
            Some(text) => match rolling_secs(text) {
                Ok(s) => s,
                Err(e) => {
                    self.refuse_in(
                        cplace,
                        &format!("metadata.annotations.{SHORT_WINDOW_ANNOTATION}"),
                        e,
                    );
                    return None;
                }
            },
            None => long / 12,
        };
        let raw = nearest(cplace.node, &join(cplace.prefix, "condition.threshold"))
            .raw
            .clone()
            .unwrap_or_default();
        let Some(burn) = Exact::parse_decimal(&raw, 12).filter(|_| k.threshold > 0.0) else {
            self.refuse_in(
                cplace,
                "condition.threshold",
                format!("`{raw}` is not a burn rate; expected a positive decimal such as `14.4`"),
            );
            return None;
        };
        // The budget share a burn rate spends in the long window: burn × long / window.
        let share = burn * Exact::ratio(i128::from(long), i128::from(window.as_secs().max(1)));
        Some((Tier::custom(severity, long, short, share), pos))
    }
}

fn same_tier(got: &Tier, want: &Tier, window: &PromDuration) -> bool {
    let diff = got.burn_rate(window) - want.burn_rate(window);
    got.severity == want.severity
        && got.long_secs == want.long_secs
        && got.short_secs == want.short_secs
        && diff.to_f64().abs() < 1e-9
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}.{path}"),
    }
}

/// An OpenSLO duration (`30d`, `4w`, `6h`, `5m`) as seconds; months, quarters and years have no
/// fixed length, so they are refused for rolling windows.
fn rolling_secs(text: &str) -> Result<u64, String> {
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits.parse().map_err(|_| {
        format!("invalid duration `{text}`: expected a number and a unit, e.g. `30d`")
    })?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        "M" | "Q" | "Y" => {
            return Err(format!(
                "a rolling `{text}` has no fixed length (months differ); use days such as `30d`, or a calendar window (`isRolling: false`) of `1M`"
            ))
        }
        _ => return Err(format!("invalid duration `{text}`: expected a number and one of s, m, h, d, w")),
    };
    n.checked_mul(unit_secs)
        .filter(|&s| s > 0)
        .ok_or_else(|| format!("invalid duration `{text}`"))
}

/// A calendar window obsctl supports: `1M` from a month's first day, or `1w` from a Monday, at
/// 00:00 UTC. Errors name the key (`duration`, `calendar.startTime`, `calendar.timeZone`).
fn calendar_period(duration: &str, cal: &CalendarSpec) -> Result<Calendar, (&'static str, String)> {
    let period = match duration {
        "1M" => Calendar::Month,
        "1w" => Calendar::Week,
        other => {
            return Err((
                "duration",
                format!("a calendar window of `{other}` does not map: obsctl's calendar periods are the month (`1M`) and the ISO week (`1w`)"),
            ))
        }
    };
    if !matches!(cal.time_zone.as_str(), "UTC" | "Etc/UTC" | "Z") {
        return Err((
            "calendar.timeZone",
            format!(
                "time zone `{}` does not map: obsctl's calendar periods are in UTC",
                cal.time_zone
            ),
        ));
    }
    let start: jiff::civil::DateTime = cal.start_time.replace(' ', "T").parse().map_err(|_| {
        (
            "calendar.startTime",
            format!(
                "`{}` is not a date and time such as `2026-01-01 00:00:00`",
                cal.start_time
            ),
        )
    })?;
    let aligned = start.time() == jiff::civil::Time::midnight()
        && match period {
            Calendar::Month => start.day() == 1,
            Calendar::Week => start.weekday() == jiff::civil::Weekday::Monday,
        };
    if !aligned {
        let want = match period {
            Calendar::Month => "the first day of a month",
            Calendar::Week => "a Monday (ISO weeks)",
        };
        return Err((
            "calendar.startTime",
            format!(
                "`{}` does not map: obsctl's periods start at 00:00 on {want}",
                cal.start_time
            ),
        ));
    }
    Ok(period)
}

/// `node` with every position moved to `pos`.
fn at_pos(node: Node, pos: &Pos) -> Node {
    let value = match node.value {
        Value::Seq(items) => Value::Seq(items.into_iter().map(|n| at_pos(n, pos)).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    (
                        Key {
                            name: k.name,
                            pos: pos.clone(),
                        },
                        at_pos(v, pos),
                    )
                })
                .collect(),
        ),
        other => other,
    };
    Node {
        pos: pos.clone(),
        value,
        raw: node.raw,
    }
}

fn str_node(pos: Pos, text: &str) -> Node {
    Node {
        pos,
        value: Value::Str(text.to_string()),
        raw: Some(text.to_string()),
    }
}

/// A number as written (`14.4`), so exact decimals stay exact.
fn number_node(pos: Pos, text: &str) -> Node {
    Node {
        pos,
        value: Value::Float(text.parse().unwrap_or(f64::NAN)),
        raw: Some(text.to_string()),
    }
}

fn bool_node(pos: Pos, b: bool) -> Node {
    Node {
        pos,
        value: Value::Bool(b),
        raw: Some(b.to_string()),
    }
}

fn map_node(pos: Pos, entries: Vec<(&str, Node)>) -> Node {
    Node {
        pos,
        value: Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    (
                        Key {
                            name: k.to_string(),
                            pos: v.pos.clone(),
                        },
                        v,
                    )
                })
                .collect(),
        ),
        raw: None,
    }
}

// ---- writing ----

/// The profile's SLOs as OpenSLO v1 `SLO` documents (inline SLI and alert policies), one JSON
/// value per document, in profile order.
pub fn export(slos: &[Slo]) -> Vec<Json> {
    slos.iter().map(export_slo).collect()
}

fn source(selector: &Selector) -> Json {
    json!({"metricSource": {"type": "Prometheus", "spec": {"query": selector.to_string()}}})
}

/// A decimal as a YAML/JSON number, through its exact text (0.999, never 0.9990000000000001).
fn number(x: Exact) -> Json {
    let text = x.to_string();
    serde_json::from_str(&text).unwrap_or(Json::Null)
}

/// Seconds in OpenSLO's shorthand, one unit: `30d`, `6h`, `5m` (`1h30m` becomes `90m`).
fn duration(secs: u64) -> String {
    [(86_400, "d"), (3_600, "h"), (60, "m")]
        .iter()
        .find(|(size, _)| secs % size == 0)
        .map(|(size, unit)| format!("{}{unit}", secs / size))
        .unwrap_or_else(|| format!("{secs}s"))
}

fn export_slo(slo: &Slo) -> Json {
    let (sli, mut objective) = match &slo.indicator {
        Indicator::Ratio(r) => {
            let mut ratio = serde_json::Map::new();
            ratio.insert("counter".into(), json!(true));
            if let Some(good) = &r.good {
                ratio.insert("good".into(), source(good));
            }
            if let Some(errors) = &r.errors {
                ratio.insert("bad".into(), source(errors));
            }
            ratio.insert("total".into(), source(&r.total));
            (json!({"ratioMetric": ratio}), json!({}))
        }
        Indicator::Latency(l) => (
            json!({"thresholdMetric": source(&l.metric)}),
            json!({"op": "lte", "value": l.threshold}),
        ),
    };
    objective["target"] = number(slo.objective.percent() / Exact::int(100));
    let window = match slo.window.period() {
        None => json!({"duration": duration(slo.window.as_secs()), "isRolling": true}),
        Some(c) => {
            let (duration, start) = match c {
                Calendar::Month => ("1M", "2000-01-01 00:00:00"),
                // 2000-01-03 was a Monday.
                Calendar::Week => ("1w", "2000-01-03 00:00:00"),
            };
            json!({"duration": duration, "isRolling": false,
                   "calendar": {"startTime": start, "timeZone": "UTC"}})
        }
    };
    let policies: Vec<Json> = slo
        .enabled_tiers()
        .iter()
        .map(|t| {
            let name = format!(
                "{}-{}-{}",
                slo.name,
                t.severity.as_str(),
                t.long_window()
            );
            json!({
                "kind": "AlertPolicy",
                "metadata": {"name": name},
                "spec": {
                    "alertWhenBreaching": true,
                    "conditions": [{
                        "kind": "AlertCondition",
                        "metadata": {"name": name,
                            "annotations": {SHORT_WINDOW_ANNOTATION: duration(t.short_secs)}},
                        "spec": {
                            "severity": match t.severity { Severity::Critical => "page", Severity::Warning => "ticket" },
                            "condition": {
                                "kind": "burnrate",
                                "op": "gt",
                                "threshold": number(t.burn_rate(&slo.window)),
                                "lookbackWindow": duration(t.long_secs),
                                "alertAfter": "0m",
                            },
                        },
                    }],
                },
            })
        })
        .collect();
    let mut metadata = json!({"name": slo.name.as_str()});
    if !slo.alerting.labels.is_empty() {
        metadata["labels"] = json!(slo.alerting.labels);
    }
    let mut annotations = serde_json::Map::new();
    if let Some(url) = &slo.alerting.runbook_url {
        annotations.insert(RUNBOOK_ANNOTATION.into(), json!(url));
    }
    if !slo.group_by.is_empty() {
        annotations.insert(GROUP_BY_ANNOTATION.into(), json!(slo.group_by.join(",")));
    }
    if let Some(block) = &slo.runbook {
        // The block serializes in the profile's own shape, so import reads it like a profile.
        let text = serde_json::to_string(block).unwrap_or_default();
        annotations.insert(RUNBOOK_BLOCK_ANNOTATION.into(), json!(text));
    }
    if !annotations.is_empty() {
        metadata["annotations"] = Json::Object(annotations);
    }
    let mut spec = json!({
        "service": slo.service,
        "indicator": {"metadata": {"name": slo.name.as_str()}, "spec": sli},
        "timeWindow": [window],
        "budgetingMethod": "Occurrences",
        "objectives": [objective],
    });
    if !policies.is_empty() {
        spec["alertPolicies"] = json!(policies);
    }
    json!({"apiVersion": API_VERSION, "kind": "SLO", "metadata": metadata, "spec": spec})
}

#[cfg(test)]
mod tests;
