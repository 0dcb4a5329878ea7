//! SIGINT and SIGTERM during `up` and `down`. The first stops new steps and is passed on to the
//! running Helm processes, which then roll back (Helm 4's `--rollback-on-failure`, Helm 3's
//! `--atomic`); the run waits for them, prints its summary, cleans up and exits 130 (143 for
//! SIGTERM). A second signal kills Helm and exits at once, saying what may be left.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Notify;

use crate::helm;

/// Whether (and by which signal) this run was interrupted.
#[derive(Default)]
pub struct Interrupt {
    signal: AtomicI32,
    notify: Notify,
    /// Private directories removed even when a second signal ends the run at once.
    private_dirs: Mutex<Vec<PathBuf>>,
}

impl Interrupt {
    /// The signal this run was interrupted by (`libc::SIGINT`, `libc::SIGTERM`).
    pub fn signal(&self) -> Option<i32> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    /// Marks the run interrupted by `signal`: no new step starts, waiters wake.
    pub fn trigger(&self, signal: i32) {
        self.signal.store(signal, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Waits until the run is interrupted.
    pub async fn wait(&self) {
        let notified = self.notify.notified();
        if self.signal().is_none() {
            notified.await;
        }
    }

    /// Removes `dir` even if a second signal ends the run at once.
    pub fn remove_on_abort(&self, dir: PathBuf) {
        self.lock_dirs().push(dir);
    }

    fn lock_dirs(&self) -> std::sync::MutexGuard<'_, Vec<PathBuf>> {
        self.private_dirs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The second signal: kill Helm, remove the private directories, say what may be left and
    /// exit.
    fn abort(&self, signal: i32, command: &str) -> ! {
        let killed = helm::kill_running();
        for dir in self.lock_dirs().iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
        eprintln!("interrupted again: stopped at once");
        for line in killed {
            eprintln!("  killed: {line}");
        }
        eprintln!(
            "  may be left: a release in `pending-install`/`pending-upgrade`/`uninstalling` (see `helm history`; \
             `helm rollback` or `obsctl {command}` again), and the stack's lock Lease until it expires \
             (or `obsctl {command} --force-unlock`)"
        );
        std::process::exit(128 + signal);
    }
}

/// The exit code of a run interrupted by `signal`: 130 for SIGINT, 143 for SIGTERM.
pub fn exit_code(signal: i32) -> u8 {
    (128 + signal) as u8
}

/// `SIGINT` or `SIGTERM`, for messages.
pub fn name(signal: i32) -> &'static str {
    if signal == libc::SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    }
}

/// Listens for SIGINT and SIGTERM until the guard drops. `command` (`up`, `down`) names what to
/// run again in messages.
pub fn listen(command: &'static str) -> std::io::Result<Listener> {
    let interrupt = Arc::new(Interrupt::default());
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let shared = interrupt.clone();
    let task = tokio::spawn(async move {
        loop {
            let received = tokio::select! {
                _ = int.recv() => libc::SIGINT,
                _ = term.recv() => libc::SIGTERM,
            };
            match shared.signal() {
                None => {
                    eprintln!(
                        "{}: stopping — no new steps; waiting for running Helm commands to stop \
                         and roll back (interrupt again to stop at once)",
                        name(received)
                    );
                    shared.trigger(received);
                    helm::interrupt_running(received);
                }
                Some(first) => shared.abort(first, command),
            }
        }
    });
    Ok(Listener { interrupt, task })
}

/// The signal listener of one run; dropping it stops listening.
pub struct Listener {
    pub interrupt: Arc<Interrupt>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_trigger_wakes_waiters_and_is_remembered() {
        let interrupt = Arc::new(Interrupt::default());
        assert_eq!(interrupt.signal(), None);
        let waiter = tokio::spawn({
            let interrupt = interrupt.clone();
            async move { interrupt.wait().await }
        });
        tokio::task::yield_now().await;
        interrupt.trigger(libc::SIGTERM);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("the waiter woke")
            .unwrap();
        assert_eq!(interrupt.signal(), Some(libc::SIGTERM));
        // Waiting after the fact returns at once.
        interrupt.wait().await;
        assert_eq!(exit_code(libc::SIGINT), 130);
        assert_eq!(exit_code(libc::SIGTERM), 143);
    }
}
