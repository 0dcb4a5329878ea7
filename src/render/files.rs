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

/// Why `render --out DIR` refused to write (bad input, exit 2), or the I/O error that stopped it.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{0}")]
    Refused(String),
    #[error("cannot write {}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

impl WriteError {
    fn io(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
        move |source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Permission denied, a read-only file system: the user picks another path.
    pub fn is_bad_input(&self) -> bool {
        match self {
            WriteError::Refused(_) => true,
            WriteError::Io { source, .. } => crate::exit::is_bad_output_path(source),
        }
    }
}

/// What a render owns at the top of its directory; a previous render's copies are replaced.
const RENDER_ENTRIES: [&str; 4] = ["plan.json", "releases", "manifests", "runbooks"];

/// Writes the render into `dir` (created when missing), replacing a previous render there. The
/// directory itself stays (a symlink stays a symlink, its mode and owner are kept); its contents are
/// staged in a hidden folder inside it and renamed into place at the end, so a failure leaves the
/// previous contents. A non-empty directory that is not a previous render (no `plan.json`) is
/// refused rather than replaced: `--out .` must never wipe a working directory.
pub fn write(rendered: &Rendered, dir: &Path) -> Result<(), WriteError> {
    if dir.exists() && !dir.is_dir() {
        return Err(WriteError::Refused(format!(
            "--out {}: exists and is not a directory; give a new or empty directory",
            dir.display()
        )));
    }
    if dir.is_dir()
        && !dir.join("plan.json").is_file()
        && fs::read_dir(dir)
            .map_err(WriteError::io(dir))?
            .next()
            .is_some()
    {
        return Err(WriteError::Refused(format!(
            "--out {}: not empty and holds no previous render (no plan.json); give a new or empty directory",
            dir.display()
        )));
    }
    fs::create_dir_all(dir).map_err(WriteError::io(dir))?;
    let staging = dir.join(format!(".obsctl-render-{}", std::process::id()));
    let old = dir.join(format!(".obsctl-previous-{}", std::process::id()));
    let result = write_tree(rendered, &staging).and_then(|()| swap_into_place(&staging, &old, dir));
    let _ = fs::remove_dir_all(&staging);
    let _ = fs::remove_dir_all(&old);
    // The staging folders are ours, not the user's: an error inside them is about `dir`.
    result.map_err(|e| match e {
        WriteError::Io { path, source } if path.starts_with(&staging) || path.starts_with(&old) => {
            WriteError::Io {
                path: dir.to_path_buf(),
                source,
            }
        }
        other => other,
    })
}

fn write_tree(rendered: &Rendered, root: &Path) -> Result<(), WriteError> {
    if root.exists() {
        fs::remove_dir_all(root).map_err(WriteError::io(root))?;
    }
    fs::create_dir(root).map_err(WriteError::io(root))?;
    for (relative, text) in contents(rendered) {
        let path = root.join(&relative);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(WriteError::io(dir))?;
        }
        fs::write(&path, text).map_err(WriteError::io(&path))?;
    }
    Ok(())
}

/// Moves the previous render's entries aside into `old`, then the staged ones into `dir`
/// (`plan.json` last, so a reader that sees the new plan sees its files). On failure every entry
/// moved so far goes back.
fn swap_into_place(staging: &Path, old: &Path, dir: &Path) -> Result<(), WriteError> {
    fs::create_dir(old).map_err(WriteError::io(old))?;
    let mut moved_aside = Vec::new();
    let mut placed = Vec::new();
    let result = (|| -> Result<(), WriteError> {
        for name in RENDER_ENTRIES {
            let current = dir.join(name);
            if fs::symlink_metadata(&current).is_ok() {
                fs::rename(&current, old.join(name)).map_err(WriteError::io(&current))?;
                moved_aside.push(name);
            }
        }
        for name in RENDER_ENTRIES.iter().rev() {
            let staged = staging.join(name);
            if staged.exists() {
                let target = dir.join(name);
                fs::rename(&staged, &target).map_err(WriteError::io(&target))?;
                placed.push(*name);
            }
        }
        Ok(())
    })();
    if result.is_err() {
        for name in placed {
            let _ = fs::rename(dir.join(name), staging.join(name));
        }
        for name in moved_aside {
            let _ = fs::rename(old.join(name), dir.join(name));
        }
    }
    result
}
