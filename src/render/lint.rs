//! The offline lint: re-checks rendered values against what the charts' own validation, Grafana's
//! provisioning and Helm's `tpl` would refuse at install time, so a broken profile fails here, in
//! milliseconds, instead of halfway through `obsctl up`.

use std::collections::BTreeSet;
use std::fmt;

use yaml_serde::Value;

use super::endpoints::{COLLECTOR_RELEASE, KPS_RELEASE, LOKI_RELEASE};
use super::merge::get;
use super::Rendered;

/// One broken invariant, at a values path of one release.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    pub release: String,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: `{}`: {}", self.release, self.path, self.message)
    }
}

struct Issues(Vec<Issue>);

impl Issues {
    fn add(&mut self, release: &str, path: &str, message: impl Into<String>) {
        self.0.push(Issue {
            release: release.into(),
            path: path.into(),
            message: message.into(),
        });
    }
}

/// Every invariant of a rendered stack; empty when it would install cleanly.
pub fn lint(rendered: &Rendered) -> Vec<Issue> {
    let mut issues = Issues(Vec::new());
    for release in &rendered.releases {
        no_template_braces(&release.name, &release.values, String::new(), &mut issues);
    }
    if let Some(kps) = rendered.release(KPS_RELEASE) {
        datasources(&kps.values, &mut issues);
        if get(&kps.values, &["crds", "enabled"]) != Some(&Value::Bool(false)) {
            issues.add(KPS_RELEASE, "crds.enabled", "must be false: obsctl applies the CRDs itself, server-side (Helm never upgrades them)");
        }
    }
    if let Some(loki) = rendered.release(LOKI_RELEASE) {
        let loki_ds_header = rendered
            .release(KPS_RELEASE)
            .and_then(|kps| datasource(&kps.values, "loki"))
            .and_then(|ds| get(ds, &["jsonData", "httpHeaderName1"]))
            .and_then(Value::as_str)
            == Some("X-Scope-OrgID");
        loki_invariants(&loki.values, loki_ds_header, &mut issues);
    }
    if let Some(collector) = rendered.release(COLLECTOR_RELEASE) {
        collector_pipelines(&collector.values, &mut issues);
    }
    issues.0
}

/// Every component a collector pipeline names must be defined (or be one the chart defines:
/// its default receivers and processors, and what the presets add); otherwise the collector
/// refuses to start.
fn collector_pipelines(v: &Value, issues: &mut Issues) {
    const CHART_DEFINED: [&str; 5] = [
        "otlp",
        "memory_limiter",
        "batch",
        "file_log",
        "k8s_attributes",
    ];
    let Some(pipelines) = get(v, &["config", "service", "pipelines"]).and_then(Value::as_mapping)
    else {
        return;
    };
    for (signal, pipeline) in pipelines {
        let signal = signal.as_str().unwrap_or("?");
        for kind in ["receivers", "processors", "exporters"] {
            let Some(names) = pipeline.get(kind).and_then(Value::as_sequence) else {
                continue;
            };
            for name in names.iter().filter_map(Value::as_str) {
                let defined = CHART_DEFINED.contains(&name)
                    || get(v, &["config", kind, name]).is_some_and(|c| !c.is_null());
                if !defined {
                    issues.add(
                        COLLECTOR_RELEASE,
                        &format!("config.service.pipelines.{signal}.{kind}"),
                        format!("names `{name}`, which is not defined under config.{kind}; the collector would refuse to start"),
                    );
                }
            }
        }
    }
}

/// kube-prometheus-stack (and Loki's config) run values through Helm's `tpl`: a `{{` would be
/// executed as a template.
fn no_template_braces(release: &str, value: &Value, path: String, issues: &mut Issues) {
    match value {
        Value::String(s) if s.contains("{{") => issues.add(
            release,
            &path,
            format!("contains `{{{{`, which Helm's tpl would execute: {s:?}"),
        ),
        Value::Mapping(map) => {
            for (k, v) in map {
                let key = k
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{k:?}"));
                let p = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                no_template_braces(release, v, p, issues);
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                no_template_braces(release, v, format!("{path}[{i}]"), issues);
            }
        }
        _ => {}
    }
}

fn datasource<'a>(kps: &'a Value, uid: &str) -> Option<&'a Value> {
    get(kps, &["grafana", "additionalDataSources"])?
        .as_sequence()?
        .iter()
        .find(|d| d.get("uid").and_then(Value::as_str) == Some(uid))
}

fn datasources(kps: &Value, issues: &mut Issues) {
    const AT: &str = "grafana.additionalDataSources";
    let Some(list) = get(kps, &["grafana", "additionalDataSources"]).and_then(Value::as_sequence)
    else {
        return;
    };
    let mut uids = BTreeSet::new();
    for (i, ds) in list.iter().enumerate() {
        match ds.get("uid").and_then(Value::as_str) {
            None => issues.add(
                KPS_RELEASE,
                &format!("{AT}[{i}]"),
                "has no `uid`; Grafana would generate one and every link to it would break",
            ),
            Some(uid) => {
                if !uids.insert(uid.to_string()) {
                    issues.add(
                        KPS_RELEASE,
                        &format!("{AT}[{i}].uid"),
                        format!("uid `{uid}` is used twice"),
                    );
                }
            }
        }
    }
    let defaults = list
        .iter()
        .filter(|d| d.get("isDefault") == Some(&Value::Bool(true)))
        .count();
    if defaults != 1 {
        issues.add(
            KPS_RELEASE,
            AT,
            format!("{defaults} datasources are marked default; Grafana needs exactly one (more crash-loops it with \"Only one datasource per organization can be marked as default\")"),
        );
    }
    for (i, ds) in list.iter().enumerate() {
        let json: serde_json::Value = serde_json::to_value(ds).unwrap_or_default();
        for (path, uid) in super::datasources::links(&json) {
            if !uids.contains(&uid) {
                issues.add(
                    KPS_RELEASE,
                    &format!("{AT}[{i}].{path}"),
                    format!("links to datasource uid `{uid}`, which is not provisioned"),
                );
            }
        }
        lone_dollars(ds, format!("{AT}[{i}]"), issues);
    }
}

/// Grafana expands `$VAR` in provisioning files; a literal `$` must be written `$$`.
fn lone_dollars(value: &Value, path: String, issues: &mut Issues) {
    match value {
        Value::String(s) if s.replace("$$", "").contains('$') => issues.add(
            KPS_RELEASE,
            &path,
            format!("has a lone `$` that Grafana would expand as an environment variable; write `$$`: {s:?}"),
        ),
        Value::Mapping(map) => {
            for (k, v) in map {
                lone_dollars(v, format!("{path}.{}", k.as_str().unwrap_or("?")), issues);
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter().enumerate() {
                lone_dollars(v, format!("{path}[{i}]"), issues);
            }
        }
        _ => {}
    }
}

const OBJECT_STORES: [&str; 7] = ["s3", "gcs", "azure", "swift", "alibabacloud", "cos", "bos"];

fn loki_invariants(v: &Value, grafana_sends_org_id: bool, issues: &mut Issues) {
    let r = LOKI_RELEASE;
    let s = |path: &[&str]| get(v, path).and_then(Value::as_str).map(str::to_string);
    let n = |path: &[&str]| get(v, path).and_then(Value::as_u64);
    let b = |path: &[&str]| get(v, path).and_then(Value::as_bool);

    let storage_type = s(&["loki", "storage", "type"]).unwrap_or_else(|| "s3".into());
    let object = OBJECT_STORES.contains(&storage_type.as_str());

    // Schema: Loki refuses to start without one; v13 + tsdb + 24h is the only current choice.
    match get(v, &["loki", "schemaConfig", "configs"]).and_then(Value::as_sequence) {
        None => issues.add(r, "loki.schemaConfig.configs", "missing: Loki refuses to start without a schema (\"You must provide a schema_config\")"),
        Some(configs) if configs.is_empty() => issues.add(r, "loki.schemaConfig.configs", "is empty; expected one entry with store tsdb, schema v13"),
        Some(configs) => {
            let last = configs.len() - 1;
            let c = &configs[last];
            let at = format!("loki.schemaConfig.configs[{last}]");
            let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            if field("store") != "tsdb" {
                issues.add(r, &format!("{at}.store"), "expected `tsdb` (boltdb-shipper is deprecated and removed in Loki 4)");
            }
            if field("schema") != "v13" {
                issues.add(r, &format!("{at}.schema"), "expected `v13` (structured metadata and OTLP ingestion need it)");
            }
            if get(c, &["index", "period"]).and_then(Value::as_str) != Some("24h") {
                issues.add(r, &format!("{at}.index.period"), "expected `24h` (the tsdb index period must be 24h)");
            }
            if field("object_store") != storage_type {
                issues.add(r, &format!("{at}.object_store"), format!("`{}` does not match loki.storage.type `{storage_type}`", field("object_store")));
            }
        }
    }

    let mode = s(&["deploymentMode"]).unwrap_or_else(|| "Monolithic".into());
    let single = n(&["singleBinary", "replicas"]).unwrap_or(0);
    let scalable: u64 = ["read", "write", "backend"]
        .iter()
        .map(|c| n(&[c, "replicas"]).unwrap_or(3))
        .sum();
    let monolithic = matches!(mode.as_str(), "Monolithic" | "SingleBinary");
    if monolithic {
        if single == 0 {
            issues.add(
                r,
                "singleBinary.replicas",
                "must be at least 1 in monolithic mode",
            );
        }
        if scalable > 0 {
            issues.add(r, "read/write/backend.replicas", "must be 0 next to a single binary (\"more than zero replicas configured for both the monolithic and simple scalable targets\")");
        }
        if single > 1 && !object {
            issues.add(r, "singleBinary.replicas", "more than 1 monolithic replica needs object storage (\"Cannot run more than 1 Monolithic replica without an object storage backend\")");
        }
    } else if !object {
        issues.add(
            r,
            "loki.storage.type",
            format!("{mode} mode needs object storage; `{storage_type}` is local"),
        );
    }
    let replicas = if monolithic {
        single
    } else {
        n(&["ingester", "replicas"]).unwrap_or(0)
    };
    let factor = n(&["loki", "commonConfig", "replication_factor"]).unwrap_or(3);
    if factor > replicas.max(1) {
        issues.add(
            r,
            "loki.commonConfig.replication_factor",
            format!("{factor} copies of each stream with {replicas} replica(s): every push would fail (\"at least 2 live replicas required\"); expected at most {}", replicas.max(1)),
        );
    }

    if b(&["test", "enabled"]).unwrap_or(true) && !b(&["lokiCanary", "enabled"]).unwrap_or(true) {
        issues.add(
            r,
            "test.enabled",
            "the Helm test needs the Loki canary; disable both or neither",
        );
    }
    if b(&["loki", "auth_enabled"]).unwrap_or(true) && !grafana_sends_org_id {
        issues.add(r, "loki.auth_enabled", "multi-tenancy is on but Grafana's Loki datasource sends no X-Scope-OrgID header (\"no org id\"); set `logs.tenant` or turn auth off");
    }
    let retention = s(&["loki", "limits_config", "retention_period"]).unwrap_or_default();
    if !retention.is_empty() && retention != "0s" && retention != "0" {
        if b(&["loki", "compactor", "retention_enabled"]) != Some(true) {
            issues.add(
                r,
                "loki.compactor.retention_enabled",
                "must be true, or retention_period is silently ignored",
            );
        }
        if s(&["loki", "compactor", "delete_request_store"]).is_none() {
            issues.add(
                r,
                "loki.compactor.delete_request_store",
                "is required when retention is enabled (Loki ≥ 3.1)",
            );
        }
    }
    if b(&["minio", "enabled"]) == Some(true) && b(&["ignoreMinioDeprecation"]) != Some(true) {
        issues.add(r, "minio.enabled", "the bundled MinIO is deprecated: the chart refuses it without ignoreMinioDeprecation; bring your own object storage");
    }
    for cache in ["chunksCache", "resultsCache"] {
        if b(&[cache, "enabled"]).unwrap_or(true) {
            match n(&[cache, "allocatedMemory"]) {
                None => issues.add(r, &format!("{cache}.allocatedMemory"), "an enabled cache must be sized; the chart's default asks ~9.8 GiB and leaves pods Pending"),
                Some(mib) if mib > 64 * 1024 => issues.add(r, &format!("{cache}.allocatedMemory"), format!("{mib} MiB is more than any node offers")),
                Some(_) => {}
            }
        }
    }
    if object
        && get(v, &["loki", "storage", "bucketNames", "chunks"])
            .and_then(Value::as_str)
            .is_none()
    {
        issues.add(r, "loki.storage.bucketNames.chunks", "object storage needs a chunks bucket (\"Please define loki.storage.bucketNames.chunks\")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::load;
    use crate::render::render_unchecked;

    fn production() -> Rendered {
        render_unchecked(&load("production").unwrap().stack)
    }

    fn values_mut<'a>(r: &'a mut Rendered, release: &str) -> &'a mut Value {
        &mut r
            .releases
            .iter_mut()
            .find(|x| x.name == release)
            .unwrap()
            .values
    }

    fn set(v: &mut Value, path: &str, new: Value) {
        let mut cur = v;
        for key in path.split('.') {
            if cur.get(key).is_none() {
                cur[key] = Value::Mapping(Default::default());
            }
            cur = &mut cur[key];
        }
        *cur = new;
    }

    fn datasource_mut<'a>(r: &'a mut Rendered, uid: &str) -> &'a mut Value {
        values_mut(r, KPS_RELEASE)["grafana"]["additionalDataSources"]
            .as_sequence_mut()
            .unwrap()
            .iter_mut()
            .find(|d| d["uid"].as_str() == Some(uid))
            .unwrap()
    }

    fn messages(r: &Rendered) -> String {
        lint(r)
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_shipped_profiles_are_clean() {
        for name in crate::profile::builtin_names() {
            let r = render_unchecked(&load(name).unwrap().stack);
            assert_eq!(lint(&r), vec![], "{name}");
        }
    }

    #[test]
    fn two_default_datasources_are_refused() {
        let mut r = production();
        datasource_mut(&mut r, "loki")["isDefault"] = Value::Bool(true);
        assert!(
            messages(&r).contains("2 datasources are marked default"),
            "{}",
            messages(&r)
        );
    }

    #[test]
    fn a_link_to_a_missing_uid_is_refused() {
        let mut r = production();
        datasource_mut(&mut r, "tempo")["jsonData"]["tracesToLogsV2"]["datasourceUid"] =
            Value::from("logs");
        let m = messages(&r);
        assert!(m.contains("tracesToLogsV2.datasourceUid"), "{m}");
        assert!(m.contains("uid `logs`, which is not provisioned"), "{m}");
    }

    #[test]
    fn a_datasource_without_uid_or_with_a_duplicate_is_refused() {
        let mut r = production();
        datasource_mut(&mut r, "alertmanager")["uid"] = Value::from("loki");
        assert!(messages(&r).contains("uid `loki` is used twice"));
        let mut r = production();
        datasource_mut(&mut r, "alertmanager")
            .as_mapping_mut()
            .unwrap()
            .remove("uid");
        assert!(messages(&r).contains("has no `uid`"));
    }

    #[test]
    fn lone_dollars_and_template_braces_are_refused() {
        let mut r = production();
        datasource_mut(&mut r, "loki")["jsonData"]["derivedFields"][0]["url"] =
            Value::from("${__value.raw}");
        assert!(messages(&r).contains("lone `$`"), "{}", messages(&r));
        let mut r = production();
        set(
            values_mut(&mut r, LOKI_RELEASE),
            "gateway.podAnnotations.x",
            Value::from("{{ .Release.Name }}"),
        );
        let m = messages(&r);
        assert!(
            m.contains("gateway.podAnnotations.x") && m.contains("tpl"),
            "{m}"
        );
    }

    #[test]
    fn loki_chart_rules_are_enforced() {
        // Each case: the edits to production's Loki values, and what the lint must say.
        let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
            (
                vec![("loki.schemaConfig", Value::Null)],
                "refuses to start without a schema",
            ),
            (
                vec![("test.enabled", Value::Bool(true))],
                "needs the Loki canary",
            ),
            (
                vec![("loki.auth_enabled", Value::Bool(true))],
                "X-Scope-OrgID",
            ),
            (
                vec![("loki.compactor.retention_enabled", Value::Bool(false))],
                "silently ignored",
            ),
            (
                vec![("minio.enabled", Value::Bool(true))],
                "ignoreMinioDeprecation",
            ),
            (
                vec![("chunksCache.allocatedMemory", Value::Null)],
                "must be sized",
            ),
            (vec![("read.replicas", Value::from(3))], "simple scalable"),
            (
                vec![("singleBinary.replicas", Value::from(2))],
                "needs object storage",
            ),
        ];
        for (edits, expected) in cases {
            let mut r = production();
            for (path, value) in &edits {
                set(values_mut(&mut r, LOKI_RELEASE), path, value.clone());
            }
            let m = messages(&r);
            assert!(
                m.contains(expected),
                "{edits:?}: expected `{expected}` in:\n{m}"
            );
        }
    }

    #[test]
    fn a_schema_that_does_not_match_the_store_is_refused() {
        let mut r = production();
        set(
            values_mut(&mut r, LOKI_RELEASE),
            "loki.storage.type",
            Value::from("s3"),
        );
        let m = messages(&r);
        assert!(m.contains("does not match loki.storage.type `s3`"), "{m}");
        assert!(m.contains("bucketNames.chunks"), "{m}");
    }

    #[test]
    fn kube_prometheus_stack_must_leave_crds_to_obsctl() {
        let mut r = production();
        set(
            values_mut(&mut r, KPS_RELEASE),
            "crds.enabled",
            Value::Bool(true),
        );
        assert!(messages(&r).contains("crds.enabled"));
    }
}
