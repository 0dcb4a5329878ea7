//! Correlation: the path a person clicks, end to end, through Grafana itself. The pushed log line
//! is read through Grafana's Loki datasource proxy; the Loki datasource's derived fields, as
//! Grafana reports them, are applied to it; each must yield this run's trace id, and that trace
//! must be found through the Tempo datasource the field links to.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use super::http::Call;
use super::loki::{poll_lines, query, Entry};
use super::runner::{Check, Ctx};
use super::targets::Target;
use super::tempo::{judge_trace, poll_trace};
use super::Component;
use crate::render::datasources::{LOKI_UID, TEMPO_UID};

pub(crate) fn checks() -> Vec<Check> {
    vec![Check::new(
        Component::Correlation,
        "log-to-trace",
        &["loki/push", "tempo/push", "grafana/health"],
        |ctx| async move { log_to_trace(&ctx).await.into() },
    )]
}

/// A Loki derived field as Grafana stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DerivedField {
    pub name: String,
    /// `regex` (on the line) or `label` (a label or structured-metadata key).
    pub matcher_type: String,
    pub matcher: String,
    pub url: String,
    pub datasource_uid: Option<String>,
}

impl DerivedField {
    pub fn from_json(v: &Value) -> Option<Self> {
        Some(DerivedField {
            name: v["name"].as_str()?.to_string(),
            matcher_type: v["matcherType"].as_str().unwrap_or("regex").to_string(),
            matcher: v["matcherRegex"].as_str()?.to_string(),
            // Provisioning files write `$$` for a literal `$`; the API shows it expanded.
            url: v["url"].as_str().unwrap_or("").replace("$$", "$"),
            datasource_uid: v["datasourceUid"].as_str().map(str::to_string),
        })
    }

    /// The value Grafana derives from a log entry: a label's value, or the regex's first capture
    /// group (the whole match without one). `Err` when the regex is not one obsctl can evaluate.
    pub fn value(&self, entry: &Entry) -> Result<Option<String>, String> {
        if self.matcher_type == "label" {
            return Ok(entry.labels.get(&self.matcher).cloned());
        }
        let re = regex::Regex::new(&self.matcher).map_err(|e| {
            format!(
                "derived field `{}`: cannot evaluate its regex: {e}",
                self.name
            )
        })?;
        Ok(re.captures(&entry.line).map(|c| {
            c.get(1)
                .or_else(|| c.get(0))
                .map(|m| m.as_str().to_string())
                .unwrap_or_default()
        }))
    }

    /// The query the link opens in the target datasource.
    pub fn query(&self, value: &str) -> String {
        self.url.replace("${__value.raw}", value)
    }
}

async fn log_to_trace(ctx: &Ctx) -> Result<String, String> {
    let ep = ctx.endpoint(Target::Grafana).await?;
    let auth = ("Authorization", ctx.grafana_credentials().await?.header());

    let path = format!("/api/datasources/uid/{LOKI_UID}");
    let answer = super::grafana::get(ctx, &ep, Call::get(&path)).await?;
    if answer.status != StatusCode::OK {
        return Err(answer.unexpected().to_string());
    }
    let loki: Value = answer.json().map_err(|e| e.to_string())?;
    let fields: Vec<DerivedField> = loki["jsonData"]["derivedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(DerivedField::from_json)
        .filter(|f| f.datasource_uid.as_deref() == Some(TEMPO_UID))
        .collect();
    if fields.is_empty() {
        return Err(format!(
            "Grafana's `{LOKI_UID}` datasource has no derived field linking to `{TEMPO_UID}`"
        ));
    }

    let proxy = format!("/api/datasources/proxy/uid/{LOKI_UID}/loki/api/v1/query_range");
    let q = query(ctx);
    let auth_only = std::slice::from_ref(&auth);
    let entries = poll_lines(ctx, &ep, &proxy, &q, None, auth_only, ctx.deadline).await?;
    let Some(entry) = entries
        .into_iter()
        .find(|e| e.line.contains(&ctx.ids.trace_id))
    else {
        return Err(format!(
            "the pushed line was not found through Grafana's `{LOKI_UID}` datasource within {} ({q})",
            ctx.timeout_text()
        ));
    };

    let (links, problems) = judge_fields(&fields, &entry, &ctx.ids.trace_id);
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    if links.is_empty() {
        return Err(format!(
            "no derived field of `{LOKI_UID}` matches the line `{}` (fields: {})",
            entry.line,
            fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    let mut via = BTreeSet::new();
    for (field, target_query) in &links {
        let uid = field.datasource_uid.as_deref().unwrap_or(TEMPO_UID);
        let path = format!("/api/datasources/proxy/uid/{uid}/api/v2/traces/{target_query}");
        match poll_trace(ctx, &ep, &path, std::slice::from_ref(&auth)).await? {
            Some(ids) => judge_trace(ctx, &ids)?,
            None => {
                return Err(format!(
                    "derived field `{}` → trace {target_query}: not found through Grafana's `{uid}` datasource within {}",
                    field.name,
                    ctx.timeout_text()
                ))
            }
        }
        via.insert(field.name.clone());
    }
    Ok(format!(
        "log line → derived field {} → trace {} found through Grafana's `{TEMPO_UID}` datasource",
        via.into_iter().collect::<Vec<_>>().join(", "),
        ctx.ids.trace_id
    ))
}

/// Applies each derived field to the entry. Returns the fields that matched with the query their
/// link opens (one per distinct query), and what is wrong: a field yielding another id, a link
/// that does not open a trace id, a regex obsctl cannot evaluate while no other field matched.
pub(crate) fn judge_fields(
    fields: &[DerivedField],
    entry: &Entry,
    trace_id: &str,
) -> (Vec<(DerivedField, String)>, Vec<String>) {
    let mut links: Vec<(DerivedField, String)> = Vec::new();
    let mut problems = Vec::new();
    let mut unevaluated = Vec::new();
    for field in fields {
        let value = match field.value(entry) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(e) => {
                unevaluated.push(e);
                continue;
            }
        };
        if !value.eq_ignore_ascii_case(trace_id) {
            problems.push(format!(
                "derived field `{}` yields `{value}`, not the line's trace id {trace_id}",
                field.name
            ));
            continue;
        }
        let target = field.query(&value);
        if target.len() != 32 || !target.bytes().all(|b| b.is_ascii_hexdigit()) {
            problems.push(format!(
                "derived field `{}` opens `{target}` in Tempo, not the trace id (url `{}`)",
                field.name, field.url
            ));
            continue;
        }
        if !links.iter().any(|(_, q)| *q == target) {
            links.push((field.clone(), target));
        }
    }
    if links.is_empty() {
        problems.extend(unevaluated);
    }
    (links, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn rendered_fields() -> Vec<DerivedField> {
        let profile = crate::profile::load("dev").unwrap();
        let rendered = crate::render::render(&profile).unwrap();
        let e = super::super::Expectations::from_render(&profile, &rendered);
        e.datasource(LOKI_UID).unwrap()["jsonData"]["derivedFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(DerivedField::from_json)
            .collect()
    }

    fn entry(line: &str, metadata: Option<&str>) -> Entry {
        let mut labels =
            BTreeMap::from([("service_name".to_string(), "obsctl-verify".to_string())]);
        if let Some(m) = metadata {
            labels.insert("trace_id".into(), m.into());
        }
        Entry {
            labels,
            line: line.into(),
        }
    }

    #[test]
    fn the_rendered_derived_fields_yield_the_trace_id_of_obsctls_line() {
        let fields = rendered_fields();
        assert_eq!(fields.len(), 2);
        let line = format!("obsctl verify run=abc trace_id={TRACE}");
        let (links, problems) = judge_fields(&fields, &entry(&line, Some(TRACE)), TRACE);
        assert!(problems.is_empty(), "{problems:?}");
        // Both fields open the same trace: one link.
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].1, TRACE);
        // The label field alone still works on a line without the id in its text.
        let (links, problems) = judge_fields(&fields, &entry("no id here", Some(TRACE)), TRACE);
        assert!(problems.is_empty());
        assert_eq!(links[0].0.matcher_type, "label");
    }

    #[test]
    fn a_field_that_yields_another_id_or_a_non_id_query_fails() {
        let mut fields = rendered_fields();
        let (_, problems) = judge_fields(
            &fields,
            &entry("trace_id=0000000000000000ffff", None),
            TRACE,
        );
        assert_eq!(
            problems,
            [format!("derived field `TraceID` yields `0000000000000000ffff`, not the line's trace id {TRACE}")]
        );
        fields[0].url = "{ trace:id = \"${__value.raw}\" }".into();
        let (_, problems) = judge_fields(
            &fields[..1],
            &entry(&format!("trace_id={TRACE}"), None),
            TRACE,
        );
        assert!(problems[0].contains("not the trace id"), "{problems:?}");
    }

    #[test]
    fn a_regex_rust_cannot_evaluate_is_reported_only_when_nothing_else_matched() {
        let mut fields = rendered_fields();
        fields[0].matcher = "(?<=trace_id=)(\\w+)".into();
        let (links, problems) = judge_fields(
            &fields,
            &entry(&format!("trace_id={TRACE}"), Some(TRACE)),
            TRACE,
        );
        assert!(problems.is_empty() && links.len() == 1);
        let (links, problems) = judge_fields(
            &fields[..1],
            &entry(&format!("trace_id={TRACE}"), None),
            TRACE,
        );
        assert!(links.is_empty());
        assert!(
            problems[0].contains("cannot evaluate its regex"),
            "{problems:?}"
        );
    }
}
