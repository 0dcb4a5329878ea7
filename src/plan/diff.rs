//! What `up` would change per release, from what Helm reports as deployed: install, upgrade (the
//! changed value paths, secrets redacted) or unchanged; and the changes that lose data (a volume
//! shrink or removal, a storage class change, a retention cut). Pure.

use serde::Serialize;
use serde_json::Value;

use crate::helm::Deployed;
use crate::profile::{PromDuration, Quantity};
use crate::render::endpoints::{KPS_RELEASE, LOKI_RELEASE, TEMPO_RELEASE};
use crate::render::Release;

/// What happens to one release.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Change {
    Install,
    Upgrade {
        /// Why, besides changed values: a chart version change or a release not `deployed`.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        reasons: Vec<String>,
        changed: Vec<ChangedPath>,
    },
    Unchanged,
}

/// One value path whose value differs between the deployed release and the render.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChangedPath {
    pub path: String,
    /// Compact JSON of the deployed value; `None` when the path is new. Secrets read `(redacted)`.
    pub before: Option<String>,
    /// Compact JSON of the rendered value; `None` when the path goes away.
    pub after: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DestructiveKind {
    VolumeShrink,
    VolumeRemoved,
    StorageClassChange,
    RetentionCut,
}

/// A change that loses data; `up` refuses it without `--allow-destructive`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Destructive {
    pub release: String,
    pub kind: DestructiveKind,
    pub path: String,
    pub before: String,
    pub after: String,
}

impl std::fmt::Display for Destructive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            DestructiveKind::VolumeShrink => {
                "volume shrink (volumes cannot shrink; data must be moved)"
            }
            DestructiveKind::VolumeRemoved => "volume removed (its data is no longer used)",
            DestructiveKind::StorageClassChange => {
                "storage class change (existing volumes keep the old class; new ones start empty)"
            }
            DestructiveKind::RetentionCut => "retention cut (older data is deleted)",
        };
        write!(
            f,
            "{}: {what}: `{}` {} → {}",
            self.release, self.path, self.before, self.after
        )
    }
}

/// The comparison of one release.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReleaseChange {
    pub release: String,
    #[serde(flatten)]
    pub change: Change,
    pub destructive: Vec<Destructive>,
}

impl ReleaseChange {
    pub fn is_unchanged(&self) -> bool {
        self.change == Change::Unchanged
    }

    /// One line for a table cell: `install`, `unchanged`, `upgrade: a.b, c (+3 more)`.
    pub fn summary(&self, max_paths: usize) -> String {
        match &self.change {
            Change::Install => "install".into(),
            Change::Unchanged => "unchanged".into(),
            Change::Upgrade { reasons, changed } => {
                let mut parts: Vec<String> = reasons.clone();
                parts.extend(changed.iter().take(max_paths).map(|c| c.path.clone()));
                let mut text = format!("upgrade: {}", parts.join(", "));
                if changed.len() > max_paths {
                    text.push_str(&format!(" (+{} more)", changed.len() - max_paths));
                }
                text
            }
        }
    }
}

/// Compares a rendered release with what is deployed (`None`: not installed).
pub fn compare(release: &Release, deployed: Option<&Deployed>) -> ReleaseChange {
    let Some(deployed) = deployed else {
        return ReleaseChange {
            release: release.name.clone(),
            change: Change::Install,
            destructive: vec![],
        };
    };
    let rendered = normalize(serde_json::to_value(&release.values).unwrap_or(Value::Null));
    let live = normalize(deployed.values.clone());
    let mut reasons = Vec::new();
    let wanted_chart = format!("{}-{}", release.chart.name, release.chart.version);
    if deployed.chart != wanted_chart {
        reasons.push(format!("chart {} → {}", deployed.chart, wanted_chart));
    }
    if deployed.status != "deployed" {
        reasons.push(format!("status {}", deployed.status));
    }
    let mut changed = Vec::new();
    diff_values("", &live, &rendered, &mut changed);
    let change = if reasons.is_empty() && changed.is_empty() {
        Change::Unchanged
    } else {
        Change::Upgrade { reasons, changed }
    };
    ReleaseChange {
        release: release.name.clone(),
        change,
        destructive: destructive(&release.name, &live, &rendered),
    }
}

/// Values as compared: nulls dropped (Helm may or may not keep a `key: null` it was given; both
/// mean "the chart default") and integral numbers made integers (Helm stores every number as a
/// float, so `2.0` and `2` are the same value).
fn normalize(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, normalize(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        other => other,
    }
}

fn child_path(parent: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (parent.is_empty(), simple) {
        (true, true) => key.to_string(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{key:?}]"),
    }
}

fn diff_values(path: &str, before: &Value, after: &Value, out: &mut Vec<ChangedPath>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let p = child_path(path, key);
                match (b.get(key), a.get(key)) {
                    (Some(x), Some(y)) => diff_values(&p, x, y, out),
                    (x, y) => out.push(changed_path(p, x, y)),
                }
            }
        }
        (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
            for (i, (x, y)) in b.iter().zip(a).enumerate() {
                diff_values(&format!("{path}[{i}]"), x, y, out);
            }
        }
        _ => out.push(changed_path(path.to_string(), Some(before), Some(after))),
    }
}

fn changed_path(path: String, before: Option<&Value>, after: Option<&Value>) -> ChangedPath {
    let secret = is_secret_path(&path);
    let show = |v: Option<&Value>| {
        v.map(|v| {
            if secret {
                "(redacted)".to_string()
            } else {
                compact(v)
            }
        })
    };
    ChangedPath {
        before: show(before),
        after: show(after),
        path,
    }
}

/// Whether the last key of a path names a credential (its value is never printed).
pub fn is_secret_path(path: &str) -> bool {
    let last = path
        .rsplit(['.', '['])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase()
        .replace(['_', '-', '"', ']'], "");
    // Keys that *name* a secret or a key inside one (`existingSecret`, `passwordKey`) are fine.
    if last.ends_with("secretname")
        || last == "existingsecret"
        || last.ends_with("key") && last.starts_with("password")
    {
        return false;
    }
    [
        "password",
        "secret",
        "token",
        "credential",
        "accesskey",
        "apikey",
        "privatekey",
        "httpheadervalue",
    ]
    .iter()
    .any(|word| last.contains(word))
}

fn compact(v: &Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_default();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

#[derive(Clone, Copy)]
enum Rule {
    Size,
    Class,
    Retention,
}

/// Where each chart keeps its volume sizes, storage classes and retention (as obsctl renders
/// them). `*` matches every index of a list.
const RULES: &[(&str, &str, Rule)] = &[
    (
        KPS_RELEASE,
        "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage",
        Rule::Size,
    ),
    (
        KPS_RELEASE,
        "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.storageClassName",
        Rule::Class,
    ),
    (
        KPS_RELEASE,
        "prometheus.prometheusSpec.retention",
        Rule::Retention,
    ),
    (
        KPS_RELEASE,
        "alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.resources.requests.storage",
        Rule::Size,
    ),
    (
        KPS_RELEASE,
        "alertmanager.alertmanagerSpec.storage.volumeClaimTemplate.spec.storageClassName",
        Rule::Class,
    ),
    (KPS_RELEASE, "grafana.persistence.size", Rule::Size),
    (
        KPS_RELEASE,
        "grafana.persistence.storageClassName",
        Rule::Class,
    ),
    (LOKI_RELEASE, "singleBinary.persistence.size", Rule::Size),
    (
        LOKI_RELEASE,
        "singleBinary.persistence.storageClass",
        Rule::Class,
    ),
    (
        LOKI_RELEASE,
        "ingester.persistence.claims.*.size",
        Rule::Size,
    ),
    (
        LOKI_RELEASE,
        "ingester.persistence.claims.*.storageClass",
        Rule::Class,
    ),
    (
        LOKI_RELEASE,
        "loki.limits_config.retention_period",
        Rule::Retention,
    ),
    (TEMPO_RELEASE, "persistence.size", Rule::Size),
    (TEMPO_RELEASE, "persistence.storageClassName", Rule::Class),
    (TEMPO_RELEASE, "tempo.retention", Rule::Retention),
    (
        TEMPO_RELEASE,
        "backendScheduler.config.provider.compaction.compaction.block_retention",
        Rule::Retention,
    ),
];

/// Disabling persistence drops the volume just as removing its size does.
const ENABLED_FLAGS: &[(&str, &str)] = &[
    (KPS_RELEASE, "grafana.persistence.enabled"),
    (LOKI_RELEASE, "singleBinary.persistence.enabled"),
    (LOKI_RELEASE, "ingester.persistence.enabled"),
    (TEMPO_RELEASE, "persistence.enabled"),
];

fn destructive(release: &str, live: &Value, rendered: &Value) -> Vec<Destructive> {
    let mut out = Vec::new();
    let mut push = |kind, path: &str, before: String, after: String| {
        out.push(Destructive {
            release: release.to_string(),
            kind,
            path: path.to_string(),
            before,
            after,
        })
    };
    for (_, pattern, rule) in RULES.iter().filter(|(r, _, _)| *r == release) {
        for (path, before, after) in pairs(pattern, live, rendered) {
            let (b, a) = (
                before.and_then(Value::as_str),
                after.and_then(Value::as_str),
            );
            match rule {
                Rule::Size => match (b.and_then(|s| s.parse::<Quantity>().ok()), a) {
                    (Some(old), Some(new)) => {
                        if let Ok(new) = new.parse::<Quantity>() {
                            if new.bytes() < old.bytes() {
                                push(
                                    DestructiveKind::VolumeShrink,
                                    &path,
                                    old.to_string(),
                                    new.to_string(),
                                );
                            }
                        }
                    }
                    (Some(old), None) => push(
                        DestructiveKind::VolumeRemoved,
                        &path,
                        old.to_string(),
                        "(none)".into(),
                    ),
                    _ => {}
                },
                Rule::Class => {
                    // Only an existing volume can be affected: a class on a path the deployed
                    // release never had a volume for is not a change.
                    if b != a && (b.is_some() || volume_exists(release, &path, live)) {
                        push(
                            DestructiveKind::StorageClassChange,
                            &path,
                            b.unwrap_or("(cluster default)").into(),
                            a.unwrap_or("(cluster default)").into(),
                        );
                    }
                }
                Rule::Retention => {
                    if let (Some(old), Some(new)) = (
                        b.and_then(|s| s.parse::<PromDuration>().ok()),
                        a.and_then(|s| s.parse::<PromDuration>().ok()),
                    ) {
                        if new.as_secs() < old.as_secs() {
                            push(
                                DestructiveKind::RetentionCut,
                                &path,
                                old.to_string(),
                                new.to_string(),
                            );
                        }
                    }
                }
            }
        }
    }
    for (_, path) in ENABLED_FLAGS.iter().filter(|(r, _)| *r == release) {
        let b = get(live, path).and_then(Value::as_bool);
        let a = get(rendered, path).and_then(Value::as_bool);
        if b == Some(true) && a == Some(false) {
            push(
                DestructiveKind::VolumeRemoved,
                path,
                "enabled".into(),
                "disabled".into(),
            );
        }
    }
    out
}

/// Whether the deployed release has a volume beside a storage-class path: a size under the same
/// parent (`persistence.size` beside `persistence.storageClassName`).
fn volume_exists(release: &str, class_path: &str, live: &Value) -> bool {
    let parent = class_path.rsplit_once('.').map_or("", |(p, _)| p);
    RULES
        .iter()
        .filter(|(r, _, rule)| *r == release && matches!(rule, Rule::Size))
        .flat_map(|(_, pattern, _)| pairs(pattern, live, &Value::Null))
        .any(|(path, before, _)| before.is_some() && path.starts_with(&format!("{parent}.")))
}

fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// The values at `pattern` on both sides, with `*` expanded over list indexes of either side.
fn pairs<'a>(
    pattern: &str,
    before: &'a Value,
    after: &'a Value,
) -> Vec<(String, Option<&'a Value>, Option<&'a Value>)> {
    fn walk<'a>(
        keys: &[&str],
        path: String,
        before: Option<&'a Value>,
        after: Option<&'a Value>,
        out: &mut Vec<(String, Option<&'a Value>, Option<&'a Value>)>,
    ) {
        let Some((key, rest)) = keys.split_first() else {
            if before.is_some() || after.is_some() {
                out.push((path, before, after));
            }
            return;
        };
        if *key == "*" {
            let len = |v: Option<&Value>| v.and_then(Value::as_array).map_or(0, Vec::len);
            for i in 0..len(before).max(len(after)) {
                walk(
                    rest,
                    format!("{path}[{i}]"),
                    before.and_then(|v| v.get(i)),
                    after.and_then(|v| v.get(i)),
                    out,
                );
            }
        } else {
            let p = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
            walk(
                rest,
                p,
                before.and_then(|v| v.get(*key)),
                after.and_then(|v| v.get(*key)),
                out,
            );
        }
    }
    let keys: Vec<&str> = pattern.split('.').collect();
    let mut out = Vec::new();
    walk(&keys, String::new(), Some(before), Some(after), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rendered(profile: &str) -> crate::render::Rendered {
        crate::render::render(&crate::profile::load(profile).unwrap()).unwrap()
    }

    /// What Helm would report right after installing `release` as rendered.
    fn as_deployed(release: &Release) -> Deployed {
        Deployed {
            status: "deployed".into(),
            chart: format!("{}-{}", release.chart.name, release.chart.version),
            values: serde_json::to_value(&release.values).unwrap(),
        }
    }

    fn set(value: &mut Value, path: &str, new: Value) {
        let mut cur = value;
        let keys: Vec<&str> = path.split('.').collect();
        for key in &keys[..keys.len() - 1] {
            cur = cur
                .get_mut(*key)
                .unwrap_or_else(|| panic!("no {key} in {path}"));
        }
        cur[keys[keys.len() - 1]] = new;
    }

    #[test]
    fn a_missing_release_is_installed() {
        let r = rendered("dev");
        let change = compare(&r.releases[0], None);
        assert_eq!(change.change, Change::Install);
        assert_eq!(change.summary(3), "install");
    }

    #[test]
    fn the_same_values_and_chart_are_unchanged_even_through_helms_float_numbers() {
        let r = rendered("production");
        for release in &r.releases {
            let mut deployed = as_deployed(release);
            // Helm stores numbers as float64 and may print integral ones as `2.0`.
            let text = serde_json::to_string(&deployed.values).unwrap();
            deployed.values =
                serde_json::from_str(&text.replace("\"replicas\":1", "\"replicas\":1.0")).unwrap();
            let change = compare(release, Some(&deployed));
            assert!(
                change.is_unchanged(),
                "{}: {:?}",
                release.name,
                change.change
            );
            assert!(change.destructive.is_empty());
        }
    }

    #[test]
    fn changed_values_are_listed_by_path_with_before_and_after() {
        let r = rendered("dev");
        let loki = r.release("loki").unwrap();
        let mut deployed = as_deployed(loki);
        set(&mut deployed.values, "singleBinary.replicas", json!(2));
        deployed.values["extra"] = json!({"gone": true});
        let change = compare(loki, Some(&deployed));
        let Change::Upgrade { reasons, changed } = &change.change else {
            panic!("{:?}", change.change)
        };
        assert!(reasons.is_empty());
        assert_eq!(
            changed,
            &[
                ChangedPath {
                    path: "extra".into(),
                    before: Some("{\"gone\":true}".into()),
                    after: None
                },
                ChangedPath {
                    path: "singleBinary.replicas".into(),
                    before: Some("2".into()),
                    after: Some("1".into())
                },
            ]
        );
        assert_eq!(change.summary(1), "upgrade: extra (+1 more)");
    }

    #[test]
    fn a_new_chart_version_or_a_failed_release_is_upgraded() {
        let r = rendered("dev");
        let tempo = r.release("tempo").unwrap();
        let mut deployed = as_deployed(tempo);
        deployed.chart = "tempo-2.2.3".into();
        deployed.status = "failed".into();
        let change = compare(tempo, Some(&deployed));
        assert_eq!(
            change.change,
            Change::Upgrade {
                reasons: vec![
                    "chart tempo-2.2.3 → tempo-2.2.4".into(),
                    "status failed".into()
                ],
                changed: vec![]
            }
        );
    }

    #[test]
    fn secret_values_are_redacted() {
        let r = rendered("dev");
        let kps = r.release("kube-prometheus-stack").unwrap();
        let mut deployed = as_deployed(kps);
        deployed.values["grafana"]["adminPassword"] = json!("hunter2");
        deployed.values["grafana"]["admin"]["existingSecret"] = json!("old-secret");
        let change = compare(kps, Some(&deployed));
        let text = serde_json::to_string(&change).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("grafana.adminPassword"), "{text}");
        // The name of a Secret is not a secret.
        assert!(text.contains("old-secret"), "{text}");
        assert!(is_secret_path("loki.storage.s3.secretAccessKey"));
        assert!(is_secret_path("x[\"my-token\"]"));
        assert!(!is_secret_path("grafana.admin.passwordKey"));
        assert!(!is_secret_path("tempo.retention"));
    }

    #[test]
    fn shrinks_class_changes_and_retention_cuts_are_destructive() {
        let r = rendered("production");
        let kps = r.release("kube-prometheus-stack").unwrap();
        let mut deployed = as_deployed(kps);
        let spec = "prometheus.prometheusSpec";
        set(
            &mut deployed.values,
            &format!("{spec}.storageSpec.volumeClaimTemplate.spec.resources.requests.storage"),
            json!("200Gi"),
        );
        set(
            &mut deployed.values,
            &format!("{spec}.retention"),
            json!("90d"),
        );
        deployed.values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]
            ["spec"]["storageClassName"] = json!("gp2");
        let change = compare(kps, Some(&deployed));
        let kinds: Vec<_> = change
            .destructive
            .iter()
            .map(|d| (d.kind, d.before.as_str(), d.after.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (DestructiveKind::VolumeShrink, "200Gi", "100Gi"),
                (
                    DestructiveKind::StorageClassChange,
                    "gp2",
                    "(cluster default)"
                ),
                (DestructiveKind::RetentionCut, "90d", "30d"),
            ]
        );
        assert!(change.destructive[0].to_string().contains("volume shrink"));
    }

    #[test]
    fn growing_volumes_and_longer_retention_are_not_destructive() {
        let r = rendered("production");
        let loki = r.release("loki").unwrap();
        let mut deployed = as_deployed(loki);
        set(
            &mut deployed.values,
            "singleBinary.persistence.size",
            json!("20Gi"),
        );
        set(
            &mut deployed.values,
            "loki.limits_config.retention_period",
            json!("168h"),
        );
        let change = compare(loki, Some(&deployed));
        assert!(matches!(change.change, Change::Upgrade { .. }));
        assert!(change.destructive.is_empty(), "{:?}", change.destructive);
    }

    #[test]
    fn loki_and_tempo_retention_cuts_and_disabled_persistence_are_caught() {
        let r = rendered("dev");
        let loki = r.release("loki").unwrap();
        let mut deployed = as_deployed(loki);
        set(
            &mut deployed.values,
            "loki.limits_config.retention_period",
            json!("720h"),
        );
        let change = compare(loki, Some(&deployed));
        assert_eq!(change.destructive.len(), 1);
        assert_eq!(change.destructive[0].kind, DestructiveKind::RetentionCut);
        assert_eq!(change.destructive[0].after, "168h");

        let tempo = r.release("tempo").unwrap();
        let mut deployed = as_deployed(tempo);
        let mut new = tempo.clone();
        set(&mut deployed.values, "tempo.retention", json!("336h"));
        let mut values = serde_json::to_value(&new.values).unwrap();
        set(&mut values, "persistence.enabled", json!(false));
        new.values = yaml_serde::to_value(&values).unwrap();
        let kinds: Vec<_> = compare(&new, Some(&deployed))
            .destructive
            .iter()
            .map(|d| d.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                DestructiveKind::RetentionCut,
                DestructiveKind::VolumeRemoved
            ]
        );
    }

    #[test]
    fn a_storage_class_given_to_an_existing_volume_is_a_change_but_not_to_a_new_one() {
        let r = rendered("dev");
        let tempo = r.release("tempo").unwrap();
        let mut with_class = tempo.clone();
        let mut values = serde_json::to_value(&tempo.values).unwrap();
        values["persistence"]["storageClassName"] = json!("fast");
        with_class.values = yaml_serde::to_value(&values).unwrap();
        let change = compare(&with_class, Some(&as_deployed(tempo)));
        assert_eq!(change.destructive.len(), 1);
        assert_eq!(change.destructive[0].before, "(cluster default)");

        let mut no_volume = as_deployed(tempo);
        no_volume
            .values
            .as_object_mut()
            .unwrap()
            .remove("persistence");
        let change = compare(&with_class, Some(&no_volume));
        assert!(
            change
                .destructive
                .iter()
                .all(|d| d.kind != DestructiveKind::StorageClassChange),
            "{:?}",
            change.destructive
        );
    }
}
