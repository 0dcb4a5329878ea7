//! Writing a render to disk: everything goes to a fresh sibling directory first and is moved into
//! place at the end, so a failure never leaves a half-written output.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::Rendered;

/// The text of every file of a render, by relative path, in a stable order.
pub fn contents(rendered: &Rendered) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let plan = serde_json::to_string_pretty(&rendered.plan_json()).expect("plan.json serializes");
    files.push(("plan.json".to_string(), plan + "\n"));
    for release in &rendered.releases {
        let header = format!(
            "# Values for release `{}` ({} {}), rendered by obsctl from profile `{}`.\n# Do not edit: change the profile and render again.\n",
            release.name, release.chart.name, release.chart.version, rendered.profile
        );
        files.push((release.values_path(), header + &to_yaml(&release.values)));
    }
    for manifest in &rendered.manifests {
        let docs: Vec<String> = manifest.objects.iter().map(to_yaml).collect();
        files.push((
            manifest.path.clone(),
            format!("---\n{}", docs.join("---\n")),
        ));
    }
    for runbook in &rendered.runbooks {
        files.push((runbook.path.clone(), runbook.text.clone()));
    }
    files
}

fn to_yaml(value: &yaml_serde::Value) -> String {
    yaml_serde::to_string(value).expect("values serialize to YAML")
}

/// Writes the render to `dir`, replacing a previous render there. Nothing of `dir` changes on
/// failure. A non-empty directory that is not a previous render (no `plan.json`) is refused
/// rather than replaced: `--out .` must never wipe a working directory.
pub fn write(rendered: &Rendered, dir: &Path) -> io::Result<()> {
    if dir.is_dir() && !dir.join("plan.json").is_file() && fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} is not empty and holds no previous render (no plan.json); choose a new or empty directory", dir.display()),
        ));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let staging = parent.join(format!(".{name}.obsctl-{}", std::process::id()));
    let result = write_tree(rendered, &staging).and_then(|()| swap_into_place(&staging, dir));
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

fn write_tree(rendered: &Rendered, root: &Path) -> io::Result<()> {
    if root.exists() {
        fs::remove_dir_all(root)?;
    }
    for (relative, text) in contents(rendered) {
        let path = root.join(&relative);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(path, text)?;
    }
    Ok(())
}

/// Renames the staged tree over `dir`. An existing `dir` is moved aside first and removed last.
fn swap_into_place(staging: &Path, dir: &Path) -> io::Result<()> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a directory", dir.display()),
            ));
        }
        let old = staging.with_extension("old");
        fs::rename(dir, &old)?;
        if let Err(e) = fs::rename(staging, dir) {
            let _ = fs::rename(&old, dir);
            return Err(e);
        }
        fs::remove_dir_all(&old)
    } else {
        fs::rename(staging, dir)
    }
}
