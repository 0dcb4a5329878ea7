//! The `obsctl` binary: parse the command line, run the command, map its outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    obsctl::output::quiet_on_closed_pipe();
    let cli = obsctl::cli::Cli::parse();
    match obsctl::commands::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(error) if obsctl::output::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the context chain on one line: "rendering profile dev: …: cause".
            eprintln!("error: {error:#}");
            ExitCode::from(obsctl::exit::exit_code(&error))
        }
    }
}
