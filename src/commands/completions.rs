//! `obsctl completions SHELL`: shell completion scripts generated from the clap definitions.

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Outcome;

pub fn run(shell: clap_complete::Shell) -> Result<Outcome> {
    clap_complete::generate(shell, &mut Cli::command(), "obsctl", &mut std::io::stdout());
    Ok(Outcome::Success)
}
