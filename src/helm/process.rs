//! Running Helm: one subprocess with a bound, its stderr reduced to a short, specific error.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::sync::Mutex;
use std::time::{Duration as StdDuration, Instant};

use super::HelmError;

/// The Helm processes running now (process group → command line), and the signal obsctl was
/// interrupted by, if it was. Each Helm runs in its own process group, so a Ctrl-C on the
/// terminal reaches obsctl alone and obsctl passes it on exactly once; a Helm started after the
/// interrupt gets the signal as soon as it is registered.
struct Running {
    interrupted: Option<i32>,
    groups: BTreeMap<u32, String>,
}

static RUNNING: Mutex<Running> = Mutex::new(Running {
    interrupted: None,
    groups: BTreeMap::new(),
});

fn running() -> std::sync::MutexGuard<'static, Running> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

fn signal_group(group: u32, signal: i32) {
    // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
    unsafe {
        libc::kill(-(group as i32), signal);
    }
}

/// Passes `signal` to every running Helm (and every Helm started from now on); returns their
/// command lines.
pub fn interrupt_running(signal: i32) -> Vec<String> {
    let mut running = running();
    running.interrupted = Some(signal);
    for group in running.groups.keys() {
        signal_group(*group, signal);
    }
    running.groups.values().cloned().collect()
}

/// Kills every running Helm at once; returns their command lines.
pub fn kill_running() -> Vec<String> {
    let mut running = running();
    running.interrupted = Some(libc::SIGKILL);
    for group in running.groups.keys() {
        signal_group(*group, libc::SIGKILL);
    }
    running.groups.values().cloned().collect()
}

/// Extra time given to Helm past its own `--timeout` before obsctl kills it: chart download and
/// the rollback after a failure are not covered by `--timeout`.
const GRACE: StdDuration = StdDuration::from_secs(120);

/// Runs a Helm argv whose own `--timeout` is `timeout`, bounded by that plus a grace period.
pub fn run_step(argv: &[String], timeout: StdDuration) -> Result<String, HelmError> {
    run(argv, timeout + GRACE)
}

/// Runs an argv with a bound; stdout on success, the short form of stderr on failure.
pub fn run(argv: &[String], bound: StdDuration) -> Result<String, HelmError> {
    let command = display_argv(argv);
    let (program, args) = argv.split_first().expect("argv has the executable");
    let handle = duct::cmd(program, args)
        .before_spawn(|command| {
            command.process_group(0);
            Ok(())
        })
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .start()
        .map_err(|e| HelmError::Spawn {
            command: command.clone(),
            reason: e.to_string(),
        })?;
    let groups = handle.pids();
    {
        let mut running = running();
        for group in &groups {
            running.groups.insert(*group, command.clone());
            if let Some(signal) = running.interrupted {
                signal_group(*group, signal);
            }
        }
    }
    let waited = handle.wait_deadline(Instant::now() + bound);
    {
        let mut running = running();
        for group in &groups {
            running.groups.remove(group);
        }
    }
    let output = match waited {
        Ok(Some(output)) => output.clone(),
        Ok(None) => {
            let _ = handle.kill();
            return Err(HelmError::Timeout {
                command,
                after: bound,
            });
        }
        Err(e) => {
            return Err(HelmError::Spawn {
                command,
                reason: e.to_string(),
            })
        }
    };
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(HelmError::Failed {
            command,
            message: summarize_failure(&stderr),
        })
    }
}

/// An argv as one line for messages.
pub fn display_argv(argv: &[String]) -> String {
    argv.join(" ")
}

/// Helm's stderr → one short line: the failing resource and reason, without Helm's preambles,
/// and whether Helm rolled the release back.
pub fn summarize_failure(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
        .collect();
    let Some(start) = lines.iter().rposition(|l| l.starts_with("Error:")) else {
        // No `Error:` line: the last non-warning line is the best we have.
        let last = lines
            .iter()
            .rev()
            .find(|l| !is_noise(l))
            .copied()
            .unwrap_or("Helm failed without a message");
        return clip(last.trim());
    };
    // The error line and the detail lines that follow it (schema violations, "* " lists).
    let mut text = lines[start].trim_start_matches("Error:").trim().to_string();
    for extra in lines[start + 1..].iter().filter(|l| !is_noise(l)).take(4) {
        text.push_str("; ");
        text.push_str(extra.trim().trim_start_matches("* ").trim());
    }
    let mut rolled_back = None;
    for prefix in ["INSTALL FAILED:", "UPGRADE FAILED:"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            text = rest.trim().to_string();
        }
    }
    // "release loki failed, and has been rolled back due to atomic being set: <cause>"
    if let Some(pos) = text.find(" being set: ") {
        let head = &text[..pos];
        rolled_back = Some(if head.contains("uninstalled") {
            "Helm uninstalled the failed first install"
        } else {
            "Helm rolled the release back"
        });
        text = text[pos + " being set: ".len()..].trim().to_string();
    }
    text = text
        .trim_start_matches("1 error occurred:;")
        .trim()
        .to_string();
    let hint = if text.contains("another operation (install/upgrade/rollback) is in progress") {
        Some("a previous Helm operation was interrupted; see `helm history` and `helm rollback`")
    } else if text.contains("context deadline exceeded") || text.contains("timed out waiting") {
        Some("resources did not become ready within --timeout; check `kubectl get pods` and events")
    } else {
        None
    };
    let mut out = text;
    for note in [hint, rolled_back].into_iter().flatten() {
        out.push_str(&format!(" ({note})"));
    }
    clip(&out)
}

fn is_noise(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("WARNING:")
        || l.starts_with("walk.go:")
        || l.contains("coalesce.go:")
        || l.starts_with("level=WARN")
        || l.starts_with("level=INFO")
        || l.starts_with("level=DEBUG")
}

fn clip(text: &str) -> String {
    const MAX: usize = 600;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}
