//! One function per subcommand. Each loads what it needs, calls into the library and prints.

mod completions;
mod cost;
mod down;
mod plan;
mod postmortem;
mod profile;
mod render;
mod runbook;
mod schema;
mod shared;
mod slo;
mod up;
mod verify;

use anyhow::{Context, Result};

use crate::cli::{Cli, Command, ProfileArg};
use crate::exit::{CommandOutcome, UsageError};
use crate::profile::Profile;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<CommandOutcome> {
    match cli.command {
        Command::Render(args) => render::run(args),
        Command::Plan(args) => plan::run(args),
        Command::Profile(cmd) => profile::run(cmd),
        Command::Schema => schema::run(),
        Command::Completions { shell } => completions::run(shell),
        Command::Slo(cmd) => slo::run(cmd),
        Command::Runbook(args) => runbook::run(args),
        Command::Postmortem(args) => postmortem::run(args),
        Command::Cost(args) => cost::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Up(args) => up::run(args),
        Command::Down(args) => down::run(args),
    }
}

/// Loads `--profile`, with the selector in the error context.
pub(crate) fn load_profile(selector: &str) -> Result<Profile> {
    // `OBSCTL_PROFILE=` (set but empty) means the default, as an unset variable does.
    let selector = if selector.trim().is_empty() {
        crate::cli::DEFAULT_PROFILE
    } else {
        selector
    };
    crate::profile::load(selector).with_context(|| format!("loading profile `{selector}`"))
}

/// Loads `--profile`, with `-n/--namespace` applied.
pub(crate) fn load_profile_arg(arg: &ProfileArg) -> Result<Profile> {
    let mut profile = load_profile(&arg.profile)?;
    if let Some(namespace) = &arg.namespace {
        profile.stack.namespace = namespace
            .parse()
            .map_err(|e| UsageError(format!("--namespace {namespace}: {e}")))?;
    }
    Ok(profile)
}

/// Loads and renders `--profile` (and `-n/--namespace`).
pub(crate) fn load_and_render(arg: &ProfileArg) -> Result<(Profile, crate::render::Rendered)> {
    let profile = load_profile_arg(arg)?;
    let rendered = crate::render::render(&profile)
        .with_context(|| format!("rendering profile `{}`", profile.stack.name))?;
    Ok((profile, rendered))
}

/// The warnings `profile validate` prints (overrides that contradict the model, SLO tiers that can
/// never fire, …), on stderr.
pub(crate) fn print_profile_warnings(profile: &Profile) {
    let slo = crate::profile::slo::warnings(&profile.stack, &profile.root);
    for warning in profile.warnings.iter().chain(&slo) {
        eprintln!("warning: {warning}");
    }
}
