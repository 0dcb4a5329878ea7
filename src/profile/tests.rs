//! Loading built-in and file profiles: layering, validation, positioned errors and suggestions.

use std::fs;

use super::*;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, text).unwrap();
    path
}

fn error_text(result: Result<Profile, ProfileError>) -> String {
    match result {
        Ok(p) => panic!("expected an error, loaded `{}`", p.stack.name),
        Err(e) => e.to_string(),
    }
}

#[test]
fn builtin_profiles_load_and_validate() {
    for name in builtin_names() {
        let p = load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.stack.name.as_str(), name);
    }
}

#[test]
fn production_matches_its_contract() {
    let s = load("production").unwrap().stack;
    assert_eq!(s.metrics.retention.to_string(), "30d");
    assert_eq!(s.metrics.storage.to_string(), "100Gi");
    assert_eq!(s.logs.retention.to_string(), "30d");
    assert_eq!(s.logs.storage.to_string(), "200Gi");
    assert_eq!(s.traces.storage.to_string(), "120Gi");
    assert!(s.alertmanager.storage.is_some());
    assert_eq!(
        s.grafana
            .persistence
            .as_ref()
            .map(|q| q.to_string())
            .as_deref(),
        Some("10Gi")
    );
    assert_eq!(
        s.grafana.admin_secret.as_ref().map(|n| n.as_str()),
        Some("grafana-admin")
    );
}

#[test]
fn ha_extends_production_and_goes_distributed() {
    let s = load("ha").unwrap().stack;
    assert_eq!(s.extends.as_deref(), Some("production"));
    assert_eq!(s.metrics.replicas, 2);
    assert_eq!(
        s.metrics.retention.to_string(),
        "30d",
        "inherited from production"
    );
    assert_eq!(s.logs.mode, LogsMode::Distributed);
    assert!(s.logs.object_storage.is_some());
    assert!(s.traces.object_storage.is_some());
}

#[test]
fn a_file_can_extend_a_builtin_and_override_deeply() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "mine.yaml",
        "name: mine\nextends: production\nmetrics:\n  retention: 15d\n",
    );
    let s = load(path.to_str().unwrap()).unwrap().stack;
    assert_eq!(s.metrics.retention.to_string(), "15d");
    assert_eq!(
        s.metrics.storage.to_string(),
        "100Gi",
        "the rest of metrics comes from production"
    );
    assert_eq!(s.name.as_str(), "mine");
}

#[test]
fn a_file_can_extend_a_relative_path() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("base")).unwrap();
    write(
        &dir,
        "base/common.yaml",
        "name: common\nnamespace: observability\n",
    );
    let child = write(
        &dir,
        "child.yaml",
        "name: child\nextends: base/common.yaml\n",
    );
    let s = load_file(&child).unwrap().stack;
    assert_eq!(s.namespace.as_str(), "observability");
}

#[test]
fn a_cycle_through_a_subfolder_is_found_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let c = write(&dir, "c.yaml", "name: c\nextends: sub/d.yaml\n");
    write(&dir, "sub/d.yaml", "name: d\nextends: ../c.yaml\n");
    let text = error_text(load_file(&c));
    assert!(text.contains("cycle"), "{text}");
    assert!(!text.contains("too long"), "{text}");
}

#[test]
fn cyclic_extends_are_refused_with_the_cycle_named() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "a.yaml", "name: a\nextends: ./b.yaml\n");
    let b = write(&dir, "b.yaml", "name: b\nextends: ./a.yaml\n");
    let text = error_text(load_file(&b));
    assert!(text.contains("cycle"), "{text}");
    assert!(
        text.contains(":2:10:"),
        "points at the extends value: {text}"
    );
}

#[test]
fn missing_extends_target_is_refused_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "a.yaml", "name: a\nextends: ./nope.yaml\n");
    let text = error_text(load_file(&p));
    assert!(text.contains("a.yaml:2:10:"), "{text}");
    assert!(text.contains("cannot load `./nope.yaml`"), "{text}");
    let tried = dir.path().join("nope.yaml");
    assert!(
        text.contains(&format!("(tried {})", tried.display())),
        "{text}"
    );
    let p = write(&dir, "b.yaml", "name: b\nextends: prodction\n");
    let text = error_text(load_file(&p));
    assert!(text.contains("did you mean `production`"), "{text}");
}

#[test]
fn unknown_keys_get_a_suggestion_and_a_position() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "a.yaml", "name: a\nmetrics:\n  retension: 30d\n");
    let text = error_text(load_file(&p));
    assert!(text.contains("a.yaml:3:3:"), "{text}");
    assert!(text.contains("did you mean `retention`"), "{text}");
}

#[test]
fn malformed_scalars_name_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    for (body, at, expected) in [
        ("metrics:\n  retention: 30x\n", ":3:14:", "invalid duration"),
        (
            "metrics:\n  storage: -5Gi\n",
            ":3:12:",
            "cannot be negative",
        ),
        ("namespace: Monitoring\n", ":2:12:", "DNS-1123"),
        (
            "logs:\n  mode: monolitic\n",
            ":3:9:",
            "did you mean `monolithic`",
        ),
        ("metrics:\n  replicas: -1\n", ":3:13:", ""),
    ] {
        let p = write(&dir, "a.yaml", &format!("name: a\n{body}"));
        let text = error_text(load_file(&p));
        assert!(text.contains(at), "{body}: {text}");
        assert!(text.contains(expected), "{body}: {text}");
    }
}

#[test]
fn cross_field_rules_point_at_the_key_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "a.yaml", "name: a\nlogs:\n  mode: distributed\n");
    let text = error_text(load_file(&p));
    assert!(text.contains("a.yaml:3:9:"), "{text}");
    assert!(text.contains("needs object storage"), "{text}");

    let p = write(&dir, "b.yaml", "name: b\nlogs:\n  replicas: 2\n");
    let text = error_text(load_file(&p));
    assert!(text.contains("b.yaml:3:13:"), "{text}");
    assert!(text.contains("need object storage"), "{text}");
}

#[test]
fn all_cross_field_problems_are_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "a.yaml",
        "name: a\nlogs:\n  mode: distributed\nmetrics:\n  replicas: 0\n",
    );
    match load_file(&p) {
        Err(ProfileError::Invalid(problems)) => assert_eq!(problems.len(), 2, "{problems:?}"),
        other => panic!("expected two problems, got {other:?}"),
    }
}

#[test]
fn a_profile_without_a_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "a.yaml", "namespace: x\n");
    let text = error_text(load_file(&p));
    assert!(text.contains("missing required key `name`"), "{text}");
}

#[test]
fn values_passthrough_must_be_a_mapping() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "a.yaml", "name: a\nlogs:\n  values: [1, 2]\n");
    let text = error_text(load_file(&p));
    assert!(text.contains("a.yaml:3:11:"), "{text}");
    assert!(text.contains("expected a mapping of Helm values"), "{text}");
}

#[test]
fn unknown_builtin_names_list_the_builtins() {
    let text = error_text(load("prodution"));
    assert!(text.contains("did you mean `production`"), "{text}");
    assert!(text.contains("dev, production, ha"), "{text}");
}

#[test]
fn a_missing_file_is_named() {
    let text = error_text(load("./does/not/exist.yaml"));
    assert!(text.contains("./does/not/exist.yaml"), "{text}");
}

#[test]
fn a_collector_sending_to_a_disabled_backend_needs_an_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "a.yaml",
        "name: a\nlogs:\n  enabled: false\ncollector:\n  logs:\n    enabled: true\n",
    );
    let text = error_text(load_file(&p));
    assert!(text.contains("a.yaml:6:14:"), "{text}");
    assert!(text.contains("collector.logs.endpoint"), "{text}");
    let ok = write(
        &dir,
        "b.yaml",
        "name: b\nlogs:\n  enabled: false\ncollector:\n  logs:\n    enabled: true\n    endpoint: https://loki.example.com/otlp\n",
    );
    assert!(load_file(&ok).is_ok());
    let bad = write(
        &dir,
        "c.yaml",
        "name: c\ncollector:\n  traces:\n    endpoint: http://tempo:4317/v1\n",
    );
    let text = error_text(load_file(&bad));
    assert!(text.contains("host:port"), "{text}");
}

#[test]
fn none_and_null_switch_volumes_off_as_the_reference_says() {
    let dir = tempfile::tempdir().unwrap();
    for off in ["none", "null", "~"] {
        let path = write(
            &dir,
            "off.yaml",
            &format!(
                "name: off\nextends: production\ngrafana: {{persistence: {off}}}\nalertmanager: {{storage: {off}}}\n"
            ),
        );
        let s = load(path.to_str().unwrap()).unwrap().stack;
        assert!(s.grafana.persistence.is_none(), "{off}");
        assert!(s.alertmanager.storage.is_none(), "{off}");
    }
    let path = write(
        &dir,
        "bad.yaml",
        "name: bad\ngrafana: {persistence: disabled}\n",
    );
    let err = error_text(load(path.to_str().unwrap()));
    assert!(err.contains("bad.yaml:2:"), "{err}");
    assert!(err.contains("or `none`"), "{err}");
}

#[test]
fn durations_prometheus_cannot_represent_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "long.yaml",
        "name: long\nmetrics: {retention: 300y}\n",
    );
    let err = error_text(load(path.to_str().unwrap()));
    assert!(err.contains("long.yaml:2:"), "{err}");
    assert!(err.contains("292y"), "{err}");
    // More digits than any integer holds: too large as well, not "invalid".
    let path = write(
        &dir,
        "huge.yaml",
        "name: huge\nmetrics: {retention: 99999999999999999999999d}\n",
    );
    let err = error_text(load(path.to_str().unwrap()));
    assert!(
        err.contains("huge.yaml:2:") && err.contains("is too large"),
        "{err}"
    );
}

#[test]
fn chart_overrides_need_semver_and_https_or_oci() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "charts.yaml",
        "name: charts\nmetrics:\n  chart: {version: latest, repo: http://charts.example.com}\nlogs:\n  chart: {repo: oci://registry.example.com/charts, version: 18.11.0}\ntraces:\n  chart: {repo: 'http://127.0.0.1:8879/charts'}\n",
    );
    let err = error_text(load(path.to_str().unwrap()));
    assert!(
        err.contains("charts.yaml:3:") && err.contains("`latest` is not a chart version"),
        "{err}"
    );
    assert!(
        err.contains("`http://charts.example.com` is not a chart repository"),
        "{err}"
    );
    assert!(!err.contains("logs.chart"), "{err}");
    assert!(
        !err.contains("traces.chart"),
        "a local mirror may be plain http: {err}"
    );
}

#[test]
fn a_values_override_of_a_modelled_setting_wins_with_a_warning_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "over.yaml",
        "name: over\nmetrics:\n  retention: 30d\n  values:\n    prometheus:\n      prometheusSpec:\n        retention: 7d\n",
    );
    let p = load(path.to_str().unwrap()).unwrap();
    assert_eq!(
        p.stack.metrics.retention.as_secs(),
        7 * 86_400,
        "the deployed value"
    );
    let text: Vec<String> = p.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(text[0].contains("over.yaml:7:"), "{text:?}");
    assert!(text[0].contains("`metrics.retention: 30d` at "), "{text:?}");
    assert!(text[0].contains("over.yaml:3:"), "{text:?}");
    // The same retention in another spelling is no contradiction.
    let same = write(
        &dir,
        "same.yaml",
        "name: same\nmetrics:\n  retention: 30d\n  values: {prometheus: {prometheusSpec: {retention: 720h}}}\n",
    );
    assert!(load(same.to_str().unwrap()).unwrap().warnings.is_empty());
}
