//! Support for the `up`/`down` tests: the fake Helm fixture and the fake Kubernetes API.
#![allow(dead_code)]

pub mod fake_kube;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{fixture, obsctl};
use fake_kube::FakeKube;

/// The fake `helm` of `tests/fixtures/fake-helm`, with its own state directory.
pub struct FakeHelm {
    pub state: tempfile::TempDir,
}

impl FakeHelm {
    pub fn new() -> FakeHelm {
        FakeHelm {
            state: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path() -> PathBuf {
        fixture("fake-helm/helm")
    }

    /// Every call, in the order they ended.
    pub fn calls(&self) -> Vec<Value> {
        let Ok(text) = std::fs::read_to_string(self.state.path().join("calls.jsonl")) else {
            return vec![];
        };
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Calls whose command starts with `word` (`upgrade`, `uninstall`, `list`).
    pub fn calls_of(&self, word: &str) -> Vec<Value> {
        self.calls()
            .into_iter()
            .filter(|c| c["words"][0] == word)
            .collect()
    }

    /// The release names of `upgrade` calls, in the order they ended.
    pub fn upgraded(&self) -> Vec<String> {
        self.calls_of("upgrade")
            .iter()
            .map(|c| c["release"].as_str().unwrap().to_string())
            .collect()
    }

    /// One call of `word` for `release`.
    pub fn call(&self, word: &str, release: &str) -> Value {
        self.calls_of(word)
            .into_iter()
            .find(|c| c["release"] == release)
            .unwrap_or_else(|| panic!("no `{word}` of {release} in {:#?}", self.calls()))
    }

    /// The names of the releases the fake holds.
    pub fn release_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.state.path().join("releases"))
            .map(|dir| {
                dir.filter_map(|e| {
                    let name = e.ok()?.file_name().to_string_lossy().into_owned();
                    name.strip_suffix(".meta").map(str::to_string)
                })
                .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The values Helm was given for a release, parsed.
    pub fn values(&self, release: &str) -> Value {
        let path = self
            .state
            .path()
            .join(format!("releases/{release}.values.yaml"));
        yaml_serde::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    pub fn clear_log(&self) {
        let _ = std::fs::remove_file(self.state.path().join("calls.jsonl"));
        for entry in std::fs::read_dir(self.state.path()).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("started-")
            {
                std::fs::remove_file(path).unwrap();
            }
        }
    }

    /// `obsctl <args>` against `kube`, driving this fake Helm.
    pub fn obsctl(&self, kube: &FakeKube, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = obsctl();
        cmd.env("FAKE_HELM_STATE", self.state.path())
            .env("KUBECONFIG", kube.kubeconfig())
            .env_remove("FAKE_HELM_FAIL")
            .env_remove("FAKE_HELM_SLEEP")
            .env_remove("FAKE_HELM_BARRIER")
            .env_remove("FAKE_HELM_BLOCK")
            .env_remove("OBSCTL_LEASE_SECONDS")
            .env_remove("FAKE_HELM_VERSION")
            .arg(args[0])
            .arg("--helm")
            .arg(Self::path())
            .args(&args[1..])
            .timeout(std::time::Duration::from_secs(120));
        cmd
    }
}

impl FakeHelm {
    /// `obsctl <args>` as a child process to signal, with the same environment as `obsctl`.
    pub fn spawn(
        &self,
        kube: &FakeKube,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> std::process::Child {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_obsctl"));
        cmd.env_remove("OBSCTL_PROFILE")
            .env_remove("OBSCTL_HELM")
            .env("FAKE_HELM_STATE", self.state.path())
            .env("KUBECONFIG", kube.kubeconfig())
            .env_remove("FAKE_HELM_FAIL")
            .env_remove("FAKE_HELM_SLEEP")
            .env_remove("FAKE_HELM_BARRIER")
            .env_remove("FAKE_HELM_BLOCK")
            .env_remove("FAKE_HELM_SLOW_ROLLBACK")
            .env_remove("FAKE_HELM_VERSION")
            .env_remove("OBSCTL_LEASE_SECONDS")
            .envs(env.iter().copied())
            .arg(args[0])
            .arg("--helm")
            .arg(Self::path())
            .args(&args[1..])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().expect("obsctl starts")
    }

    /// Waits (at most 60 s) until the fake Helm blocks in `release`'s step.
    pub fn wait_blocked(&self, release: &str) {
        let marker = self.state.path().join(format!("blocked-{release}"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !marker.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "{release} never blocked: {:#?}",
                self.calls()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// Sends `signal` (`SIGINT`, `SIGTERM`) to a child process.
pub fn signal(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits (at most `secs`) for a child to exit; its exit code, stdout and stderr.
pub fn finish(child: std::process::Child, secs: u64) -> (Option<i32>, String, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let mut child = child;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            let (out, err) = text(&output);
            panic!("obsctl did not exit within {secs} s:\n{out}\n{err}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let (out, err) = text(&output);
    (output.status.code(), out, err)
}

/// A profile file in `dir` that extends a built-in one with extra YAML.
pub fn profile(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, format!("name: {name}\nextends: dev\n{body}")).unwrap();
    path
}

/// stdout and stderr of a finished command, for messages.
pub fn text(output: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
