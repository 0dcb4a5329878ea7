//! The deserializer: conventions, positions and key paths in errors, suggestions.

use super::*;
use crate::yaml::parse;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// A duration such as `30d`, refusing anything else through `Error::custom`.
#[derive(Debug, PartialEq)]
struct Dur(u64);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `30d`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dur, E> {
                let bad = || {
                    E::custom(format!("invalid duration `{s}`: expected a number followed by s, m, h, d or w, e.g. `30d`"))
                };
                let unit = match s.chars().last() {
                    Some('s') => 1,
                    Some('m') => 60,
                    Some('h') => 3600,
                    Some('d') => 86400,
                    Some('w') => 604_800,
                    _ => return Err(bad()),
                };
                let n: u64 = s[..s.len() - 1].parse().map_err(|_| bad())?;
                Ok(Dur(n * unit))
            }
        }
        d.deserialize_str(V)
    }
}

/// Refuses only after the value has been read, outside our deserializer's calls.
#[derive(Debug)]
struct Port(#[allow(dead_code)] u16);

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = u16::deserialize(d)?;
        if n < 1024 {
            return Err(de::Error::custom(format!(
                "port {n} is privileged; use 1024 or above"
            )));
        }
        Ok(Port(n))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Stack {
    name: String,
    namespace: Option<String>,
    metrics: Option<Metrics>,
    #[serde(default)]
    slos: Vec<Slo>,
    logs: Option<Logs>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Metrics {
    enabled: Option<bool>,
    retention: Option<Dur>,
    storage: Option<String>,
    values: Option<yaml_serde::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct Logs {
    mode: Mode,
    object_storage: Option<String>,
    replicas: Option<u32>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
enum Mode {
    Monolithic,
    SimpleScalable,
    Distributed,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)]
struct Slo {
    name: String,
    objective: f64,
    indicator: Option<Indicator>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
enum Indicator {
    Ratio { errors: u64, total: u64 },
    Latency(String),
    Pair(u8, u8),
    Availability,
}

fn load<T: DeserializeOwned>(src: &str) -> Result<T, DeError> {
    let node = parse("stacks/dev.yaml", src.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    from_node(&node)
}

fn fail<T: DeserializeOwned + fmt::Debug>(src: &str) -> DeError {
    match load::<T>(src) {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

fn assert_de(e: &DeError, line: u32, col: u32, path: &str, message: &str) {
    assert_eq!(
        (e.pos.line, e.pos.col, e.path.as_str()),
        (line, col, path),
        "{e}"
    );
    assert_eq!(e.message, message, "{e}");
}

const GOOD: &str = "\
name: dev
namespace: observability
metrics:
  enabled: true
  retention: 30d
  storage: 50Gi
  values:
    prometheus:
      replicas: 2
      ratio: 0.5
      tags: [a, b]
slos:
  - name: api
    objective: 99.9
    indicator:
      ratio: {errors: 5, total: 100}
  - name: web
    objective: 99
    indicator: availability
logs:
  mode: simpleScalable
  objectStorage: s3
";

#[test]
fn reads_a_whole_profile() {
    let s: Stack = load(GOOD).unwrap();
    assert_eq!(s.name, "dev");
    assert_eq!(s.namespace.as_deref(), Some("observability"));
    let m = s.metrics.unwrap();
    assert_eq!(m.enabled, Some(true));
    assert_eq!(m.retention, Some(Dur(30 * 86400)));
    assert_eq!(m.storage.as_deref(), Some("50Gi"));
    let values: yaml_serde::Value =
        yaml_serde::from_str("prometheus: {replicas: 2, ratio: 0.5, tags: [a, b]}").unwrap();
    assert_eq!(m.values, Some(values));
    assert_eq!(s.slos.len(), 2);
    assert_eq!(
        s.slos[0].indicator,
        Some(Indicator::Ratio {
            errors: 5,
            total: 100
        })
    );
    assert_eq!(s.slos[1].objective, 99.0, "an integer is a fine f64");
    assert_eq!(s.slos[1].indicator, Some(Indicator::Availability));
    let logs = s.logs.unwrap();
    assert_eq!(logs.mode, Mode::SimpleScalable);
    assert_eq!(logs.object_storage.as_deref(), Some("s3"));
    assert!(s.labels.is_empty(), "#[serde(default)]");
}

#[test]
fn optional_fields_may_be_missing_or_null() {
    let s: Stack = load("name: dev\nnamespace:\nmetrics: ~\n").unwrap();
    assert!(s.namespace.is_none() && s.metrics.is_none() && s.slos.is_empty());
}

#[test]
fn unknown_key_points_at_the_key_and_suggests() {
    let e = fail::<Stack>("name: dev\nmetrics: {retension: 30d}\n");
    assert_de(
            &e,
            2,
            11,
            "metrics.retension",
            "unknown key `retension`; did you mean `retention`? (expected one of: `enabled`, `retention`, `storage`, `values`)",
        );
    assert_eq!(
            e.to_string(),
            "stacks/dev.yaml:2:11: `metrics.retension`: unknown key `retension`; did you mean `retention`? (expected one of: `enabled`, `retention`, `storage`, `values`)"
        );
    // Nothing close: no guess.
    let e = fail::<Stack>("name: dev\nmetrics:\n  colour: red\n");
    assert_de(
        &e,
        3,
        3,
        "metrics.colour",
        "unknown key `colour` (expected one of: `enabled`, `retention`, `storage`, `values`)",
    );
    // snake_case for a camelCase key.
    let e = fail::<Stack>("name: dev\nlogs:\n  mode: distributed\n  object_storage: s3\n");
    assert_de(&e, 4, 3, "logs.object_storage", "unknown key `object_storage`; did you mean `objectStorage`? (expected one of: `mode`, `objectStorage`, `replicas`)");
    let e = fail::<Stack>("nmae: dev\n");
    assert_eq!((e.pos.line, e.pos.col, e.path.as_str()), (1, 1, "nmae"));
    assert!(
        e.message
            .starts_with("unknown key `nmae`; did you mean `name`?"),
        "{e}"
    );
}

#[test]
fn merge_keys_are_explained() {
    let e = fail::<Stack>("name: dev\nbase: &b {enabled: true}\n");
    assert!(e.message.starts_with("unknown key `base`"), "{e}");
    let e = fail::<Stack>("name: dev\nmetrics:\n  <<: {enabled: true}\n");
    assert_eq!((e.pos.line, e.pos.col), (3, 3));
    assert!(
        e.message
            .starts_with("unknown key `<<`; YAML merge keys (`<<`) are not supported"),
        "{e}"
    );
}

#[test]
fn custom_errors_point_at_the_scalar() {
    let e = fail::<Stack>("name: dev\nmetrics: {retention: 30x}\n");
    assert_de(
        &e,
        2,
        22,
        "metrics.retention",
        "invalid duration `30x`: expected a number followed by s, m, h, d or w, e.g. `30d`",
    );
    assert_eq!(e.to_string(), "stacks/dev.yaml:2:22: `metrics.retention`: invalid duration `30x`: expected a number followed by s, m, h, d or w, e.g. `30d`");

    // Raised after the value was read, outside any of our calls.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Svc {
        ports: Vec<Port>,
    }
    let e = fail::<Svc>("ports:\n  - 8080\n  - 80\n");
    assert_de(
        &e,
        3,
        5,
        "ports[1]",
        "port 80 is privileged; use 1024 or above",
    );
}

#[test]
fn missing_key_points_at_the_enclosing_mapping() {
    let e = fail::<Stack>("namespace: x\nmetrics: {}\n");
    assert_de(&e, 1, 1, "", "missing required key `name`");
    assert_eq!(
        e.to_string(),
        "stacks/dev.yaml:1:1: missing required key `name`"
    );
    let e = fail::<Stack>("name: dev\nslos:\n  - name: a\n    objective: 1\n  - name: b\n");
    assert_de(&e, 5, 5, "slos[1]", "missing required key `objective`");
}

#[test]
fn errors_inside_lists_of_mappings() {
    let src = "name: dev\nslos:\n  - name: a\n    objective: 99\n  - name: b\n    objective: 98\n    indicator: {ratio: {errors: -3, total: 10}}\n";
    let e = fail::<Stack>(src);
    assert_de(
        &e,
        7,
        33,
        "slos[1].indicator.ratio.errors",
        "expected a whole number ≥ 0, found -3",
    );
    let src = "name: dev\nslos:\n  - name: a\n    objective: high\n";
    let e = fail::<Stack>(src);
    assert_de(
        &e,
        4,
        16,
        "slos[0].objective",
        "expected a number, found a string (\"high\")",
    );
    // Line 7, column 14: a bad value in a list in a mapping.
    let src = "name: dev\nslos:\n  - name: a\n    objective: 1\n  - name: b\n    objective: 2\n    indicator: [a]\n";
    let e = fail::<Stack>(src);
    assert_de(
        &e,
        7,
        16,
        "slos[1].indicator",
        "expected one of: `ratio`, `latency`, `pair`, `availability`, found a list",
    );
    let src = "name: dev\nslos:\n- name: a\n  objective: 1\n  indicator:\n    ratio:\n      errors: [1]\n      total: 1\n";
    let e = fail::<Stack>(src);
    assert_de(
        &e,
        7,
        15,
        "slos[0].indicator.ratio.errors",
        "expected a whole number ≥ 0, found a list",
    );
    let src = "name: dev\nslos:\n  - name: a\n    objective: 1\n    indicator: {ratio: {errors: 1, totl: 2}}\n";
    let e = fail::<Stack>(src);
    assert_de(
        &e,
        5,
        36,
        "slos[0].indicator.ratio.totl",
        "unknown key `totl`; did you mean `total`? (expected one of: `errors`, `total`)",
    );
}

#[test]
fn enum_variants() {
    let e = fail::<Stack>("name: dev\nlogs: {mode: monolitic}\n");
    assert_de(&e, 2, 14, "logs.mode", "unknown value `monolitic`; did you mean `monolithic`? (expected one of: `monolithic`, `simpleScalable`, `distributed`)");
    let e = fail::<Stack>("name: dev\nlogs: {mode: 3}\n");
    assert!(
        e.message.starts_with("unknown value `3` (expected one of"),
        "{e}"
    );
    let e = fail::<Stack>("name: dev\nlogs: {mode: [a]}\n");
    assert_de(
        &e,
        2,
        14,
        "logs.mode",
        "expected one of: `monolithic`, `simpleScalable`, `distributed`, found a list",
    );
    // Variant given as a key: called a key.
    let e = fail::<Indicator>("ratoi: {errors: 1, total: 2}\n");
    assert_de(&e, 1, 1, "ratoi", "unknown key `ratoi`; did you mean `ratio`? (expected one of: `ratio`, `latency`, `pair`, `availability`)");
    assert_eq!(
        load::<Indicator>("latency: p99 < 300ms\n").unwrap(),
        Indicator::Latency("p99 < 300ms".into())
    );
    assert_eq!(
        load::<Indicator>("pair: [1, 2]\n").unwrap(),
        Indicator::Pair(1, 2)
    );
    let e = fail::<Indicator>("pair: [1, 2, 3]\n");
    assert_de(&e, 1, 7, "pair", "expected a list of 2 items, found 3");
    let e = fail::<Indicator>("ratio: {errors: 1, total: 2}\nlatency: x\n");
    assert_de(&e, 1, 1, "", "expected a mapping with exactly one key (one of: `ratio`, `latency`, `pair`, `availability`), found 2 keys");
    let e = fail::<Vec<Indicator>>("k: [ratio]\n");
    // (a top-level list is not a profile, but from_node works on any node)
    assert!(e.message.contains("expected a list"), "{e}");
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct W {
        i: Indicator,
    }
    let e = fail::<W>("i: ratio\n");
    assert_de(
        &e,
        1,
        4,
        "i",
        "`ratio` needs settings; write it as `ratio: ...`",
    );
    let e = fail::<W>("i: {availability: yes}\n");
    assert_de(
        &e,
        1,
        19,
        "i.availability",
        "`availability` takes no settings; write just `availability`, found a string (\"yes\")",
    );
    assert_eq!(
        load::<W>("i: {availability: }\n").unwrap().i,
        Indicator::Availability
    );
}

#[test]
fn type_mismatches_read_well() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct T {
        s: Option<String>,
        n: Option<f64>,
        u: Option<u64>,
        b: Option<u8>,
        i: Option<i32>,
        f: Option<bool>,
        l: Option<Vec<String>>,
        m: Option<BTreeMap<String, u32>>,
        c: Option<char>,
        t: Option<(u8, String)>,
    }
    let cases = [
            ("s: [a]", 1, 4, "s", "expected a string, found a list"),
            ("s: {a: 1}", 1, 4, "s", "expected a string, found a mapping"),
            ("s:", 1, 3, "", ""),
            ("n: abc", 1, 4, "n", "expected a number, found a string (\"abc\")"),
            ("n: \"1.5\"", 1, 4, "n", "expected a number, found a string (\"1.5\"); remove the quotes"),
            ("u: -3", 1, 4, "u", "expected a whole number ≥ 0, found -3"),
            ("u: 2.5", 1, 4, "u", "expected a whole number ≥ 0, found 2.5"),
            ("b: 300", 1, 4, "b", "expected a whole number between 0 and 255, found 300"),
            ("i: 3000000000", 1, 4, "i", "expected a whole number between -2147483648 and 2147483647, found 3000000000"),
            ("f: yes", 1, 4, "f", "expected true or false, found a string (\"yes\"); YAML 1.2 reads `yes`/`no`/`on`/`off` as text — write `true` or `false`"),
            ("f: 'true'", 1, 4, "f", "expected true or false, found a string (\"true\"); remove the quotes"),
            ("f: 1", 1, 4, "f", "expected true or false, found 1"),
            ("l: abc", 1, 4, "l", "expected a list, found a string (\"abc\")"),
            ("l: [a, [b]]", 1, 8, "l[1]", "expected a string, found a list"),
            ("m: [1]", 1, 4, "m", "expected a mapping, found a list"),
            ("m: {a: 1, b: x}", 1, 14, "m.b", "expected a whole number between 0 and 4294967295, found a string (\"x\")"),
            ("c: ab", 1, 4, "c", "expected a single character, found a string (\"ab\")"),
            ("t: [1]", 1, 4, "t", "expected a list of 2 items, found 1"),
            ("l: [a, ~]", 1, 8, "l[1]", "expected a string, found null; quote it (`\"null\"`) if you mean the text"),
        ];
    for (src, line, col, path, message) in cases {
        if message.is_empty() {
            assert!(load::<T>(src).unwrap().s.is_none());
            continue;
        }
        let e = fail::<T>(src);
        assert_de(&e, line, col, path, message);
    }
    let e = fail::<String>("a: 1\n");
    assert_eq!(e.message, "expected a string, found a mapping");
    let long = "x".repeat(100);
    let e = fail::<T>(&format!("n: {long}"));
    assert!(e.message.ends_with("xxx\"…)"), "long strings are cut: {e}");
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Req {
        name: String,
    }
    let e = fail::<Req>("name:\n");
    assert_de(&e, 1, 6, "name", "expected a string, found nothing (an empty value); quote it (`\"null\"`) if you mean the text");
}

#[test]
fn strings_take_the_raw_text_of_any_scalar() {
    #[derive(Debug, Deserialize)]
    struct T {
        version: String,
        hosts: String,
        on: String,
        flag: String,
        hex: String,
    }
    let t: T = load("version: 2.10\nhosts: 15\non: true\nflag: yes\nhex: 0x1F\n").unwrap();
    assert_eq!(
        (
            t.version.as_str(),
            t.hosts.as_str(),
            t.on.as_str(),
            t.flag.as_str(),
            t.hex.as_str()
        ),
        ("2.10", "15", "true", "yes", "0x1F")
    );
}

#[test]
fn numbers_convert_where_lossless() {
    #[derive(Debug, Deserialize)]
    struct T {
        a: f64,
        b: u32,
        c: i64,
        d: f32,
        e: u64,
    }
    let t: T = load("a: 3\nb: 3.0\nc: -1e3\nd: .inf\ne: 0x10\n").unwrap();
    assert_eq!(
        (t.a, t.b, t.c, t.d, t.e),
        (3.0, 3, -1000, f32::INFINITY, 16)
    );
}

#[test]
fn any_untagged_and_internally_tagged() {
    let v: yaml_serde::Value = load(GOOD).unwrap();
    let expected: yaml_serde::Value = yaml_serde::from_str(GOOD).unwrap();
    assert_eq!(v, expected);

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
        Parts { amount: f64, unit: String },
    }
    let m: BTreeMap<String, Size> = load("a: 10\nb: 10Gi\nc: {amount: 1.5, unit: Gi}\n").unwrap();
    assert_eq!(m["a"], Size::Bytes(10));
    assert_eq!(m["b"], Size::Text("10Gi".into()));
    assert_eq!(
        m["c"],
        Size::Parts {
            amount: 1.5,
            unit: "Gi".into()
        }
    );
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct W {
        s: Size,
    }
    let e = fail::<W>("x: 1\ns: [1]\n");
    assert_de(
        &e,
        2,
        4,
        "s",
        "data did not match any variant of untagged enum Size",
    );

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(tag = "kind", rename_all = "lowercase")]
    enum Backend {
        S3 { bucket: String },
        Local,
    }
    let b: Vec<Backend> = from_node(
        parse("t", b"l: [{kind: s3, bucket: b}, {kind: local}]\n")
            .unwrap()
            .get("l")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(b, [Backend::S3 { bucket: "b".into() }, Backend::Local]);
}

#[test]
fn maps_lists_and_key_paths() {
    let h: HashMap<String, Vec<u16>> = load("a: [1, 2]\nb: []\n").unwrap();
    assert_eq!(h["a"], [1, 2]);
    let e = fail::<Stack>("name: dev\nlabels:\n  app.kubernetes.io/name: [x]\n");
    assert_de(
        &e,
        3,
        27,
        "labels[\"app.kubernetes.io/name\"]",
        "expected a string, found a list",
    );
    assert_eq!(e.to_string(), "stacks/dev.yaml:3:27: `labels[\"app.kubernetes.io/name\"]`: expected a string, found a list");
    // Aliased values: the path is where it is used; the position is where the text is.
    let e = fail::<Stack>("name: dev\nlabels: &l\n  a: b\nmetrics: *l\n");
    assert_eq!(e.path, "metrics.a");
    assert_eq!((e.pos.line, e.pos.col), (3, 3));
}

#[test]
fn suggestions_only_when_close() {
    let fields = &[
        "enabled",
        "retention",
        "storage",
        "values",
        "objectStorage",
        "name",
        "id",
    ];
    assert_eq!(
        crate::suggest::closest("retension", fields),
        Some("retention")
    );
    assert_eq!(crate::suggest::closest("enabeld", fields), Some("enabled"));
    assert_eq!(crate::suggest::closest("Storage", fields), Some("storage"));
    assert_eq!(
        crate::suggest::closest("object-storage", fields),
        Some("objectStorage")
    );
    assert_eq!(crate::suggest::closest("nmae", fields), Some("name"));
    assert_eq!(crate::suggest::closest("colour", fields), None);
    assert_eq!(crate::suggest::closest("xyz", fields), None);
    assert_eq!(crate::suggest::closest("a", fields), None);
    assert_eq!(crate::suggest::closest("replicas", &[]), None);
    assert_eq!(
        unknown_message("key", "x", &[]),
        "unknown key `x` (no keys are allowed here)"
    );
}
