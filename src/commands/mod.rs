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

use crate::cli::{Cli, Command};
use crate::error::Outcome;
use crate::profile::Profile;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<Outcome> {
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
    crate::profile::load(selector).with_context(|| format!("loading profile `{selector}`"))
}

/// Loads and renders `--profile`.
pub(crate) fn load_and_render(selector: &str) -> Result<(Profile, crate::render::Rendered)> {
    let profile = load_profile(selector)?;
    let rendered = crate::render::render(&profile)
        .with_context(|| format!("rendering profile `{}`", profile.stack.name))?;
    Ok((profile, rendered))
}
