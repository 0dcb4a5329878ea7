//! The positioned parser: scalars, positions, hostile-input limits, merges.

use super::*;
use std::time::{Duration, Instant};

fn ok(src: &str) -> Node {
    parse("t.yaml", src.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn err(src: impl AsRef<[u8]>) -> YamlError {
    match parse("t.yaml", src.as_ref()) {
        Ok(n) => panic!("expected an error, got {n:?}"),
        Err(e) => e,
    }
}

/// Asserts position and that the message contains every fragment.
fn assert_err(e: &YamlError, line: u32, col: u32, fragments: &[&str]) {
    assert_eq!((e.pos.line, e.pos.col), (line, col), "position of: {e}");
    for f in fragments {
        assert!(e.message.contains(f), "{e:?} lacks {f:?}");
    }
}

fn lc(n: &Node) -> (u32, u32) {
    (n.pos.line, n.pos.col)
}

fn path<'a>(n: &'a Node, keys: &[&str]) -> &'a Node {
    keys.iter().fold(n, |n, k| match k.parse::<usize>() {
        Ok(i) => match &n.value {
            Value::Seq(items) => &items[i],
            other => panic!("not a list: {other:?}"),
        },
        Err(_) => n.get(k).unwrap_or_else(|| panic!("no key {k}")),
    })
}

#[test]
fn positions_of_nested_values() {
    let n = ok("name: dev\nmetrics:\n  retention: 30d\nslos:\n  - name: a\n    objective: 99.9\n  - {name: b, objective: 1}\nlist:\n- x\n");
    assert_eq!(lc(&n), (1, 1));
    assert_eq!(lc(path(&n, &["name"])), (1, 7));
    // Block mappings are placed at their first key, not at yaml-rust2's `:`.
    assert_eq!(lc(path(&n, &["metrics"])), (3, 3));
    assert_eq!(lc(path(&n, &["metrics", "retention"])), (3, 14));
    assert_eq!(lc(path(&n, &["slos"])), (5, 3));
    assert_eq!(lc(path(&n, &["slos", "0"])), (5, 5));
    assert_eq!(lc(path(&n, &["slos", "0", "objective"])), (6, 16));
    assert_eq!(lc(path(&n, &["slos", "1"])), (7, 5));
    assert_eq!(lc(path(&n, &["slos", "1", "objective"])), (7, 26));
    // An indentless list is placed at its first dash.
    assert_eq!(lc(path(&n, &["list"])), (9, 1));
    assert_eq!(lc(path(&n, &["list", "0"])), (9, 3));
    let Value::Map(entries) = &n.value else {
        panic!()
    };
    assert_eq!(entries[2].0.name, "slos");
    assert_eq!((entries[2].0.pos.line, entries[2].0.pos.col), (4, 1));
    assert_eq!(
        path(&n, &["slos", "0", "objective"]).pos.source.as_ref(),
        "t.yaml"
    );
}

#[test]
fn empty_values_sit_after_their_colon() {
    let n = ok("name:\nother: # note\n\"q\":\nflow: {a: }\nlast:");
    assert_eq!(lc(path(&n, &["name"])), (1, 6));
    assert_eq!(lc(path(&n, &["other"])), (2, 7));
    assert_eq!(lc(path(&n, &["q"])), (3, 5));
    assert_eq!(lc(path(&n, &["flow", "a"])), (4, 10));
    assert_eq!(lc(path(&n, &["last"])), (5, 6));
}

#[test]
fn columns_count_characters_and_crlf_and_bom_are_handled() {
    let n = ok("\u{feff}é: ü\r\nb: x\r\n");
    assert_eq!(lc(path(&n, &["é"])), (1, 4));
    assert_eq!(lc(path(&n, &["b"])), (2, 4));
    assert_eq!(path(&n, &["b"]).raw.as_deref(), Some("x"));
    assert_err(&err("é: ü\nb: [\n"), 3, 1, &["not closed"]);
}

#[test]
fn scalars_follow_the_yaml_1_2_core_schema() {
    let n = ok(concat!(
        "n1: null\nn2: Null\nn3: NULL\nn4: ~\nn5:\n",
        "b1: true\nb2: True\nb3: FALSE\n",
        "s1: yes\ns2: no\ns3: on\ns4: off\ns5: 1_000\ns6: '12'\ns7: \"true\"\ns8: |\n  12\n",
        "i1: 42\ni2: -3\ni3: +12\ni4: 0x1F\ni5: 0o17\ni6: 0123\n",
        "f1: 1e3\nf2: .5\nf3: 1.\nf4: .inf\nf5: -.inf\nf6: .nan\nf7: 2.10\nf8: -1.5E-2\n",
        "big: 99999999999999999999\n",
    ));
    for k in ["n1", "n2", "n3", "n4", "n5"] {
        assert!(matches!(path(&n, &[k]).value, Value::Null), "{k}");
    }
    assert!(matches!(path(&n, &["b1"]).value, Value::Bool(true)));
    assert!(matches!(path(&n, &["b2"]).value, Value::Bool(true)));
    assert!(matches!(path(&n, &["b3"]).value, Value::Bool(false)));
    for (k, s) in [
        ("s1", "yes"),
        ("s2", "no"),
        ("s3", "on"),
        ("s4", "off"),
        ("s5", "1_000"),
        ("s6", "12"),
        ("s7", "true"),
        ("s8", "12\n"),
    ] {
        match &path(&n, &[k]).value {
            Value::Str(v) => assert_eq!(v, s, "{k}"),
            other => panic!("{k}: {other:?}"),
        }
    }
    for (k, i) in [
        ("i1", 42),
        ("i2", -3),
        ("i3", 12),
        ("i4", 31),
        ("i5", 15),
        ("i6", 123),
    ] {
        assert!(
            matches!(path(&n, &[k]).value, Value::Int(v) if v == i),
            "{k}"
        );
    }
    for (k, f) in [
        ("f1", 1000.0),
        ("f2", 0.5),
        ("f3", 1.0),
        ("f4", f64::INFINITY),
        ("f5", f64::NEG_INFINITY),
        ("f7", 2.1),
        ("f8", -0.015),
    ] {
        assert!(
            matches!(path(&n, &[k]).value, Value::Float(v) if v == f),
            "{k}"
        );
    }
    assert!(matches!(path(&n, &["f6"]).value, Value::Float(v) if v.is_nan()));
    // Out of i64 range: a float, with every digit kept in the raw text.
    assert!(matches!(path(&n, &["big"]).value, Value::Float(v) if v == 1e20));
    assert_eq!(
        path(&n, &["big"]).raw.as_deref(),
        Some("99999999999999999999")
    );
    assert_err(
        &err("a: 0xFFFFFFFFFFFFFFFFFF\n"),
        1,
        4,
        &["`0xFFFFFFFFFFFFFFFFFF` does not fit", "quote it"],
    );
}

#[test]
fn raw_text_is_preserved() {
    let n = ok("version: 2.10\nhosts: 15\nq: \"a b\"\nflag: TRUE\n");
    let v = path(&n, &["version"]);
    assert!(matches!(v.value, Value::Float(f) if f == 2.1));
    assert_eq!(v.raw.as_deref(), Some("2.10"));
    assert_eq!(path(&n, &["hosts"]).raw.as_deref(), Some("15"));
    assert_eq!(path(&n, &["q"]).raw.as_deref(), Some("a b"));
    assert_eq!(path(&n, &["flag"]).raw.as_deref(), Some("TRUE"));
    assert!(n.raw.is_none());
}

#[test]
fn core_tags_force_a_type_and_other_tags_are_refused() {
    let n = ok("a: !!str 1\nb: !!int \"3\"\nc: !!float 2\nd: ! 5\n");
    assert!(matches!(&path(&n, &["a"]).value, Value::Str(s) if s == "1"));
    assert!(matches!(path(&n, &["b"]).value, Value::Int(3)));
    assert!(matches!(path(&n, &["c"]).value, Value::Float(f) if f == 2.0));
    assert!(matches!(&path(&n, &["d"]).value, Value::Str(s) if s == "5"));
    assert_err(
        &err("a: 1\nb: !foo x\n"),
        2,
        9,
        &["unsupported tag `!foo`", "remove the tag"],
    );
    assert_err(
        &err("a: !!int abc\n"),
        1,
        10,
        &["`abc` is not a valid !!int", "whole number"],
    );
    assert_err(
        &err("a: !!map [1]\n"),
        1,
        10,
        &["unsupported tag `!!map` on a list"],
    );
}

#[test]
fn refuses_input_over_one_mebibyte() {
    let mut big = b"a: ".to_vec();
    big.resize(MAX_INPUT_BYTES + 1, b'x');
    assert_err(&err(&big), 1, 1, &["1048577 bytes", "limit is 1 MiB"]);
    // Exactly at the limit is fine.
    big.truncate(MAX_INPUT_BYTES);
    assert!(parse("t.yaml", &big).is_ok());
}

#[test]
fn refuses_invalid_utf8_at_the_first_bad_byte() {
    assert_err(
        &err(b"a: 1\nbb: \xc3\x28\n"),
        2,
        5,
        &["invalid UTF-8 (byte 0xC3)", "save the file as UTF-8"],
    );
    assert_err(&err(b"\xff"), 1, 1, &["invalid UTF-8"]);
    assert_err(
        &err("é: 1\nb: é".bytes().chain([0x80]).collect::<Vec<_>>()),
        2,
        5,
        &["invalid UTF-8 (byte 0x80)"],
    );
}

#[test]
fn refuses_control_characters() {
    assert_err(
        &err("a: 1\nb: x\0y\n"),
        2,
        5,
        &["U+0000 (NUL)", "not allowed", "remove it"],
    );
    assert_err(&err("a: \u{1b}[31m\n"), 1, 4, &["U+001B (ESC)"]);
    assert_err(&err("a: \u{7f}\n"), 1, 4, &["U+007F (DEL)"]);
    assert_err(&err("a: \u{9b}\n"), 1, 4, &["U+009B"]);
    // Tab, CR and LF are fine; so is NEL.
    ok("a: \"x\ty\"\r\nb: \u{85}\n");
}

#[test]
fn refuses_empty_files() {
    let msg = "the file is empty; expected a mapping such as `name: my-stack`";
    for src in ["", "   \n\n", "# just a comment\n# another\n"] {
        let e = err(src);
        assert_err(&e, 1, 1, &[msg]);
        assert_eq!(e.to_string(), format!("t.yaml:1:1: {msg}"));
    }
    assert_err(
        &err("---\n"),
        2,
        1,
        &["the document is empty", "`name: my-stack`"],
    );
}

#[test]
fn refuses_more_than_one_document() {
    assert_err(
        &err("a: 1\n---\nb: 2\n"),
        2,
        1,
        &["second YAML document", "single document"],
    );
    assert_err(
        &err("---\na: 1\n...\n---\nb: 2\n"),
        4,
        1,
        &["second YAML document"],
    );
    ok("---\na: 1\n...\n");
}

#[test]
fn refuses_a_top_level_that_is_not_a_mapping() {
    assert_err(
        &err("- a\n- b\n"),
        1,
        1,
        &["must be a mapping such as `name: my-stack`", "found a list"],
    );
    assert_err(&err("\n  hello\n"), 2, 3, &["found a string"]);
    assert_err(&err("42\n"), 1, 1, &["found a number"]);
}

#[test]
fn refuses_tabs_for_indentation() {
    // yaml-rust2 says "tabs disallowed within this context (block indentation)" one
    // column past the tab; we point at the tab.
    assert_err(
        &err("key:\n\tvalue: 1\n"),
        2,
        1,
        &["YAML forbids tabs for indentation", "spaces"],
    );
    assert_err(&err("a:\n\t- 1\n"), 2, 1, &["forbids tabs for indentation"]);
    // yaml-rust2 reports this one at the `1` on the line above.
    assert_err(
        &err("a:\n  b: 1\n\tc: 2\n"),
        3,
        1,
        &["forbids tabs for indentation"],
    );
    // ... and this one at the `|`.
    assert_err(&err("a: |\n\tx\n"), 2, 1, &["forbids tabs for indentation"]);
    // A tab after `key:` is valid YAML 1.2 but yaml-rust2 refuses it.
    assert_err(
        &err("name: x\nkey:\tvalue\n"),
        2,
        5,
        &["tab character after `:`", "use a space"],
    );
    // Tabs inside flow collections and after `-` are accepted.
    let n = ok("a: [1,\t2]\nb:\n  -\tx\n");
    assert!(matches!(&path(&n, &["b", "0"]).value, Value::Str(s) if s == "x"));
}

#[test]
fn refuses_duplicate_keys_at_the_second_one() {
    let e = err("name: x\nmetrics:\n  retention: 1d\n  enabled: true\n  retention: 2d\n");
    assert_err(
        &e,
        5,
        3,
        &["duplicate key `retention` (first defined at line 3)"],
    );
    assert_eq!(
        e.to_string(),
        "t.yaml:5:3: duplicate key `retention` (first defined at line 3); remove one of them"
    );
    assert_err(
        &err("{a: 1, b: 2, a: 3}"),
        1,
        14,
        &["duplicate key `a` (first defined at line 1)"],
    );
    // Same key in different mappings is fine.
    ok("a: {x: 1}\nb: {x: 2}\n");
}

#[test]
fn refuses_non_scalar_keys() {
    assert_err(
        &err("? [a, b]\n: 1\n"),
        1,
        3,
        &["mapping key must be a plain value", "found a list", "`?`"],
    );
    assert_err(&err("{[a]: 1}"), 1, 2, &["found a list"]);
    assert_err(&err("a: 1\n? {b: 1}\n: 2\n"), 2, 3, &["found a mapping"]);
    assert_err(
        &err("a: &l [1]\n*l : 2\n"),
        2,
        1,
        &["found a list (from an alias)"],
    );
    // A scalar alias as a key is a scalar key.
    let n = ok("a: &k name\n*k : 2\n");
    assert!(n.get("name").is_some());
}

#[test]
fn refuses_nesting_deeper_than_64() {
    // The top-level mapping is level 1, so 63 brackets make 64 levels.
    let fine = format!("a: {}{}\n", "[".repeat(63), "]".repeat(63));
    ok(&fine);
    let deep = format!("a: {}{}\n", "[".repeat(64), "]".repeat(64));
    assert_err(&err(deep), 1, 67, &["deeper than 64 levels"]);
    // Far deeper: yaml-rust2's scanner gives up first, at its 255th `[`.
    assert_err(&err("[".repeat(1000)), 1, 256, &["deeper than 64 levels"]);
    let mut block = String::new();
    for i in 0..70 {
        block.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
    }
    // Level 65 is the mapping that starts with `k64`.
    assert_err(&err(block), 65, 129, &["deeper than 64 levels"]);
    // Aliases cannot smuggle in depth.
    let src = format!(
        "a: &d {}{}\nb: {}*d{}\n",
        "[".repeat(40),
        "]".repeat(40),
        "[".repeat(30),
        "]".repeat(30)
    );
    assert_err(
        &err(src),
        2,
        34,
        &["deeper than 64 levels after expanding alias `*d`"],
    );
}

#[test]
fn aliases_expand_with_positions() {
    let n = ok("base: &b\n  x: 1\n  y: [2]\nother: *b\ns: &s hi\nt: *s\n");
    let other = path(&n, &["other"]);
    assert_eq!(lc(other), (4, 8), "the alias itself is at the `*`");
    assert_eq!(
        lc(path(other, &["y", "0"])),
        (3, 7),
        "its insides are where their text is"
    );
    assert!(matches!(&path(&n, &["t"]).value, Value::Str(s) if s == "hi"));
    assert_eq!(lc(path(&n, &["t"])), (6, 4));
    // A redefined anchor: the alias takes the latest one.
    let n = ok("a: &x 1\nb: &x 2\nc: *x\n");
    assert!(matches!(path(&n, &["c"]).value, Value::Int(2)));
    // Merge keys are plain keys.
    let n = ok("a: &m {x: 1}\nb:\n  <<: *m\n  y: 2\n");
    assert!(path(&n, &["b"]).get("<<").is_some());
    assert!(path(&n, &["b"]).get("x").is_none());
}

#[test]
fn refuses_undefined_and_recursive_aliases() {
    assert_err(
        &err("a: 1\nb: *nope\n"),
        2,
        4,
        &["undefined alias `*nope`", "`&nope`", "earlier"],
    );
    assert_err(
        &err("a: &x [1, *x]\n"),
        1,
        11,
        &["alias `*x` refers to a value that contains it"],
    );
}

fn billion_laughs() -> String {
    let mut s = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    s
}

#[test]
fn refuses_a_billion_laughs_quickly() {
    let src = billion_laughs();
    let start = Instant::now();
    let e = err(&src);
    let took = start.elapsed();
    assert!(took < Duration::from_millis(50), "took {took:?}");
    // 10 + 110 + 1110 + 11110 nodes fit; the first aliases of level 5 do not.
    assert_eq!(e.pos.line, 5);
    assert!(
        e.message
            .starts_with("document too large after expanding aliases (anchors/aliases)"),
        "{e}"
    );
}

#[test]
fn accepts_aliases_within_the_budget() {
    // Four levels of 10x: about 12,000 values once expanded.
    let src: String = billion_laughs()
        .lines()
        .take(4)
        .map(|l| format!("{l}\n"))
        .collect();
    let n = ok(&src);
    let Value::Seq(level3) = &path(&n, &["a3"]).value else {
        panic!()
    };
    assert_eq!(level3.len(), 10);
    assert!(matches!(&path(&n, &["a3", "9", "9", "9", "9"]).value, Value::Str(s) if s == "lol"));
    assert_eq!(
        lc(path(&n, &["a3", "9", "9", "9", "9"])),
        (1, 55),
        "innermost text is at the anchor"
    );
}

#[test]
fn refuses_one_big_string_aliased_many_times() {
    let big = "x".repeat(200_000);
    let refs = vec!["*s"; 50].join(", ");
    let e = err(format!("s: &s {big}\nt: [{refs}]\n"));
    assert!(
        e.message.contains("after expanding aliases") && e.message.contains("MiB of text"),
        "{e}"
    );
    assert_eq!(e.pos.line, 2);
}

#[test]
fn refuses_too_many_values_without_aliases() {
    let e = err(format!("a: [{}]\n", "1,".repeat(MAX_NODES)));
    assert!(
        e.message
            .starts_with("document too large: more than 100000 values"),
        "{e}"
    );
}

#[test]
fn parses_five_thousand_keys() {
    let src: String = (0..5000).map(|i| format!("key{i}: {i}\n")).collect();
    let start = Instant::now();
    let n = ok(&src);
    assert!(start.elapsed() < Duration::from_secs(2));
    let Value::Map(entries) = &n.value else {
        panic!()
    };
    assert_eq!(entries.len(), 5000);
    assert_eq!(lc(path(&n, &["key4999"])), (5000, 10));
}

#[test]
fn hostile_inputs_fail_fast() {
    let cases = [
        "[".repeat(MAX_INPUT_BYTES),
        "{a: ".repeat(MAX_INPUT_BYTES / 4),
        "- ".repeat(MAX_INPUT_BYTES / 2),
        format!("a: {}", "x".repeat(MAX_INPUT_BYTES - 3)),
        format!("a: \"{}", "x".repeat(MAX_INPUT_BYTES - 10)),
        "&a ".repeat(MAX_INPUT_BYTES / 3),
        (0..MAX_INPUT_BYTES / 8)
            .map(|i| format!("k{i}: 1\n"))
            .collect::<String>()[..MAX_INPUT_BYTES - 16]
            .to_string(),
    ];
    for src in cases {
        let start = Instant::now();
        let _ = parse("t.yaml", src.as_bytes());
        // Generous: debug builds on a busy CI machine; release is ~10x faster.
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}… took {:?}",
            &src[..10],
            start.elapsed()
        );
    }
}

#[test]
fn scan_errors_get_one_based_positions_and_hints() {
    // yaml-rust2 columns are 0-based: the `:` of ` b:` is at its column 2.
    let e = err("a: 1\n b: 2\n");
    assert_err(
        &e,
        2,
        3,
        &[
            "invalid YAML: mapping values are not allowed in this context",
            "indentation",
        ],
    );
    assert_err(
        &err("a: {b: 1\n"),
        2,
        1,
        &["did not find expected ',' or '}'", "not closed"],
    );
    assert_err(
        &err("a: [1, 2\nb: 3\n"),
        2,
        2,
        &["illegal placement of ':'", "closed"],
    );
    assert_err(
        &err("a: \"\\q\"\n"),
        1,
        4,
        &["unknown escape character", "single quotes"],
    );
    assert_err(&err("a:\n  - 1\n  b: 2\n"), 3, 3, &["invalid YAML"]);
}

#[test]
fn get_remove_type_name() {
    let mut n = ok("a: 1\nb: [x]\nc: {d: true}\ne: s\nf:\ng: 1.5\n");
    let names: Vec<_> = ["a", "b", "c", "e", "f", "g"]
        .iter()
        .map(|k| n.get(k).unwrap().type_name())
        .collect();
    assert_eq!(
        names,
        [
            "a number",
            "a list",
            "a mapping",
            "a string",
            "null",
            "a number"
        ]
    );
    assert_eq!(path(&n, &["c", "d"]).type_name(), "true/false");
    assert!(n.get("zz").is_none());
    assert!(path(&n, &["a"]).get("a").is_none());
    let b = n.remove("b").unwrap();
    assert_eq!(lc(&b), (2, 4));
    assert!(n.get("b").is_none());
    assert!(n.remove("b").is_none());
    let Value::Map(entries) = &n.value else {
        panic!()
    };
    let keys: Vec<_> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
    assert_eq!(keys, ["a", "c", "e", "f", "g"]);
}

#[test]
fn merge_is_deep_and_keeps_positions_of_the_supplier() {
    let base = parse("base.yaml", b"name: dev\nmetrics:\n  enabled: true\n  retention: 15d\n  values: {a: 1, b: 2}\nhosts: [a, b, c]\n").unwrap();
    let overlay = parse(
        "over.yaml",
        b"metrics:\n  retention: 30d\n  storage: 50Gi\n  values: {b: 3}\nhosts: [z]\nextra: 1\n",
    )
    .unwrap();
    let m = merge(base, overlay);
    let Value::Map(entries) = &m.value else {
        panic!()
    };
    let keys: Vec<_> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
    assert_eq!(
        keys,
        ["name", "metrics", "hosts", "extra"],
        "base order, new keys appended"
    );
    let metrics = m.get("metrics").unwrap();
    assert_eq!(
        &*metrics.pos.source, "base.yaml",
        "a merged mapping stays the base's"
    );
    let Value::Map(me) = &metrics.value else {
        panic!()
    };
    let keys: Vec<_> = me.iter().map(|(k, _)| k.name.as_str()).collect();
    assert_eq!(keys, ["enabled", "retention", "values", "storage"]);
    let enabled = metrics.get("enabled").unwrap();
    assert_eq!((&*enabled.pos.source, enabled.pos.line), ("base.yaml", 3));
    let retention = metrics.get("retention").unwrap();
    assert_eq!(retention.raw.as_deref(), Some("30d"));
    assert_eq!(
        (
            &*retention.pos.source,
            retention.pos.line,
            retention.pos.col
        ),
        ("over.yaml", 2, 14)
    );
    let (rkey, _) = me.iter().find(|(k, _)| k.name == "retention").unwrap();
    assert_eq!(
        (&*rkey.pos.source, rkey.pos.line),
        ("over.yaml", 2),
        "a replaced value brings its key"
    );
    let values = metrics.get("values").unwrap();
    assert!(matches!(values.get("a").unwrap().value, Value::Int(1)));
    assert!(matches!(values.get("b").unwrap().value, Value::Int(3)));
    assert_eq!(&*values.get("b").unwrap().pos.source, "over.yaml");
    // Lists are replaced, not concatenated.
    let hosts = m.get("hosts").unwrap();
    let Value::Seq(items) = &hosts.value else {
        panic!()
    };
    assert_eq!(items.len(), 1);
    assert_eq!((&*hosts.pos.source, hosts.pos.line), ("over.yaml", 5));
    // A mapping replaced by a scalar, and the other way round.
    let a = parse("a", b"x: {y: 1}\n").unwrap();
    let b = parse("b", b"x: 5\n").unwrap();
    assert!(matches!(
        merge(a.clone(), b.clone()).get("x").unwrap().value,
        Value::Int(5)
    ));
    assert!(matches!(merge(b, a).get("x").unwrap().value, Value::Map(_)));
}

#[test]
fn to_value_round_trips() {
    let src = "name: dev\nn: 3\nneg: -7\nf: 2.5\nb: false\nnothing: null\nlist: [a, 1, {k: v}]\nnested:\n  deep:\n    - x: 1\ntext: |\n  hello\n";
    let v = ok(src).to_value();
    let expected: yaml_serde::Value = yaml_serde::from_str(src).unwrap();
    assert_eq!(v, expected);
    // Back through text and our parser again: same value.
    let again = ok(&yaml_serde::to_string(&v).unwrap()).to_value();
    assert_eq!(again, v);
    // Keys become strings whatever they look like.
    let v = ok("1: a\ntrue: b\n").to_value();
    assert_eq!(v.get("1"), Some(&yaml_serde::Value::String("a".into())));
    assert_eq!(v.get("true"), Some(&yaml_serde::Value::String("b".into())));
}

#[test]
fn error_display_names_file_line_and_column() {
    let e = parse("stacks/dev.yaml", b"a: 1\nb: *x\n").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("stacks/dev.yaml:2:4: undefined alias `*x`"),
        "{e}"
    );
    let _: &dyn std::error::Error = &e;
}
