//! The `obsctl` binary: parse the command line, run the command, map its outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = obsctl::cli::Cli::parse();
    match obsctl::commands::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) => {
            // `{:#}` prints the context chain on one line: "rendering profile dev: …: cause".
            eprintln!("error: {error:#}");
            ExitCode::from(obsctl::error::exit_code(&error))
        }
    }
}
