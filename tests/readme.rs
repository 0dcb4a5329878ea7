//! The README is a contract: every `obsctl` command in its `sh` code blocks runs as written (in a
//! temporary directory, with the README's own files there), and the profile reference block is a
//! profile that renders.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use common::{fixture, obsctl};

const README: &str = include_str!("../README.md");

/// The fenced blocks of `lang`, in order.
fn blocks(lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in README.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(tag)) => {
                current = (tag.trim() == lang).then(String::new);
                if current.is_none() {
                    // Skip to the end of a block of another language.
                    current = Some("\u{0}".into());
                }
            }
            (Some(text), Some(_)) => {
                if !text.starts_with('\u{0}') {
                    out.push(std::mem::take(text));
                }
                current = None;
            }
            (Some(text), None) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// A README command: the words obsctl gets, and the file its standard output is redirected to.
struct Example {
    line: String,
    words: Vec<String>,
    stdout_to: Option<String>,
}

/// Every `obsctl …` command of the `sh` blocks (lines joined where they end in `\\`), without its
/// trailing comment, split into words, with a `> FILE` redirection taken apart.
fn commands() -> Vec<Example> {
    let mut joined = Vec::new();
    for block in blocks("sh") {
        let mut pending = String::new();
        for line in block.lines() {
            let line = line.trim();
            match line.strip_suffix('\\') {
                Some(head) => {
                    pending.push_str(head);
                    pending.push(' ');
                }
                None => {
                    pending.push_str(line);
                    joined.push(std::mem::take(&mut pending));
                }
            }
        }
    }
    joined
        .iter()
        .filter_map(|line| {
            let rest = line.strip_prefix("obsctl ")?;
            let code = rest.split(" #").next().unwrap().trim().to_string();
            let (args, stdout_to) = match code.split_once(" > ") {
                Some((args, file)) => (args.to_string(), Some(file.trim().to_string())),
                None => (code.clone(), None),
            };
            let words = args.split_whitespace().map(str::to_string).collect();
            Some(Example {
                line: format!("obsctl {code}"),
                words,
                stdout_to,
            })
        })
        .collect()
}

/// The block under "### Profile reference".
fn reference_profile() -> String {
    let start = README
        .find("### Profile reference")
        .expect("reference section");
    let rest = &README[start..];
    let open = rest.find("```yaml\n").expect("reference block") + "```yaml\n".len();
    let close = rest[open..].find("```").unwrap();
    rest[open..open + close].to_string()
}

/// Commands that talk to a cluster: here there is none, so they must get past flag parsing and
/// profile loading and stop with one clear error about the cluster, quickly.
fn needs_cluster(words: &[String]) -> bool {
    let has = |w: &str| words.iter().any(|x| x == w);
    match words[0].as_str() {
        "up" => !has("--dry-run"),
        "down" | "verify" => true,
        "plan" => has("--diff"),
        // Postmortems read Prometheus through the cluster unless given its URL.
        "postmortem" => !has("--template") && !has("--prometheus-url"),
        _ => false,
    }
}

#[test]
fn readme_has_commands_to_run() {
    let all = commands();
    let lines: Vec<&str> = all.iter().map(|e| e.line.as_str()).collect();
    assert!(all.len() >= 15, "{lines:?}");
    for needle in [
        "render",
        "slo rules",
        "slo explain",
        "cost --pricing",
        "up --dry-run",
    ] {
        assert!(
            lines.iter().any(|line| line.contains(needle)),
            "no `obsctl {needle}` example in the README"
        );
    }
}

#[test]
fn every_readme_command_runs_as_written() {
    let dir = tempfile::tempdir().unwrap();
    // The files the README's examples name.
    fs::write(dir.path().join("my-stack.yaml"), reference_profile()).unwrap();
    let catalog = obsctl().args(["cost", "--catalog"]).output().unwrap();
    assert!(catalog.status.success());
    fs::write(dir.path().join("my-prices.yaml"), &catalog.stdout).unwrap();
    let fake_helm = fixture("fake-helm/helm");
    let helm_state = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("no-kubeconfig");

    let mut failures = Vec::new();
    for Example {
        line,
        words,
        stdout_to,
    } in commands()
    {
        let started = Instant::now();
        let out = obsctl()
            .args(&words)
            .current_dir(dir.path())
            .env("OBSCTL_HELM", &fake_helm)
            .env("FAKE_HELM_STATE", helm_state.path())
            .env("KUBECONFIG", &kubeconfig)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        if let Some(file) = &stdout_to {
            fs::write(dir.path().join(file), &out.stdout).unwrap();
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        if needs_cluster(&words) {
            let parsed = !stderr.contains("Usage:") && !stderr.contains("unexpected argument");
            let about_cluster = stderr.contains("kubeconfig") || stderr.contains("cluster");
            if code != Some(2) || !parsed || !about_cluster || elapsed > Duration::from_secs(20) {
                failures.push(format!(
                    "{line}: without a cluster expected exit 2 naming the kubeconfig, got {code:?} after {elapsed:?}: {stderr}"
                ));
            }
        } else if code != Some(0) {
            failures.push(format!("{line}: exit {code:?}: {stderr}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // What the examples wrote is there.
    assert!(dir.path().join("out/plan.json").is_file());
    assert!(dir.path().join("costs.png").is_file());
}

#[test]
fn the_profile_reference_validates_and_renders_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my-stack.yaml");
    fs::write(&path, reference_profile()).unwrap();
    let out = obsctl()
        .args(["render", "--profile"])
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.path().join("out/plan.json")).unwrap()).unwrap();
    assert_eq!(plan["profile"], "my-stack");
}

#[test]
fn the_slo_block_of_the_readme_loads() {
    let slo_block = blocks("yaml")
        .into_iter()
        .find(|b| b.starts_with("slos:"))
        .expect("an `slos:` example");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slos.yaml");
    fs::write(&path, format!("name: slos\n{slo_block}")).unwrap();
    obsctl()
        .args(["slo", "rules", "--profile"])
        .arg(&path)
        .assert()
        .success();
}
