//! Shared test helpers: locating the real tools installed by scripts/install-tools.sh, running obsctl.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A tool from `.tools/bin` (installed by scripts/install-tools.sh), else from PATH. Panics with
/// the fix when it is missing: these tests run real components, never skip them.
pub fn tool(name: &str) -> PathBuf {
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/bin")
        .join(name);
    if local.is_file() {
        return local;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("`{name}` not found in .tools/bin or PATH: run scripts/install-tools.sh first");
}

pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

pub fn obsctl() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("obsctl").expect("obsctl binary");
    cmd.env_remove("OBSCTL_PROFILE").env_remove("OBSCTL_HELM");
    cmd
}

/// `obsctl render --profile PROFILE --out OUT`, which must succeed; its `plan.json`.
pub fn render(profile: &str, out: &Path) -> serde_json::Value {
    obsctl()
        .args(["render", "--profile", profile, "--out"])
        .arg(out)
        .assert()
        .success();
    serde_json::from_slice(&std::fs::read(out.join("plan.json")).unwrap()).unwrap()
}
