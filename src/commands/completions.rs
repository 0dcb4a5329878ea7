//! `obsctl completions SHELL`: shell completion scripts generated from the clap definitions.

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::CommandOutcome;
use crate::output::print_text;

pub fn run(shell: clap_complete::Shell) -> Result<CommandOutcome> {
    // Generated into memory first: clap_complete panics on a write error, and a closed pipe
    // (`obsctl completions bash | head`) must end quietly.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "obsctl", &mut script);
    let script = String::from_utf8(script).context("the completion script is not UTF-8")?;
    print_text(&script)?;
    Ok(CommandOutcome::Success)
}
