//! Exit codes: 0 success, 1 the job ran and found failures, 2 bad input or usage.

use crate::profile::ProfileError;
use crate::render::RenderError;

/// Bad usage that clap cannot see (a malformed URL, an unknown component name, a missing TTY).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What a command reports when it ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Everything passed (exit 0).
    Success,
    /// The job ran and found failures: a failed check, a failed install (exit 1).
    Failures,
    /// Stopped by a signal (`libc::SIGINT`: exit 130, `SIGTERM`: 143).
    Interrupted(i32),
}

impl CommandOutcome {
    pub fn exit_code(self) -> u8 {
        match self {
            CommandOutcome::Success => 0,
            CommandOutcome::Failures => 1,
            CommandOutcome::Interrupted(signal) => crate::executor::interrupt::exit_code(signal),
        }
    }
}

/// Whether writing a path the user gave failed because of the path itself (they pick another):
/// no permission, a read-only file system, a missing parent, a file where a folder must be or
/// the other way round. A full disk or an I/O error is not the path's fault.
pub fn is_bad_output_path(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        error.kind(),
        PermissionDenied
            | ReadOnlyFilesystem
            | NotFound
            | NotADirectory
            | IsADirectory
            | AlreadyExists
    )
}

/// 2 when the error (or any of its causes) is bad input, 1 otherwise.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    let bad_input = error.chain().any(|cause| {
        cause.is::<ProfileError>()
            || cause.is::<RenderError>()
            || cause.is::<UsageError>()
            || cause.is::<crate::cluster::KubeconfigError>()
            || cause
                .downcast_ref::<crate::render::files::WriteError>()
                .is_some_and(|e| e.is_bad_input())
            || cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(is_bad_output_path)
    });
    if bad_input {
        2
    } else {
        1
    }
}
