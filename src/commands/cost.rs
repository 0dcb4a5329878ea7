//! `obsctl cost`: size the profile's volumes, price them, compare with commercial APM, draw the chart.

use anyhow::{Context, Result};

use crate::cli::{CostArgs, CostFormat};
use crate::cost::chart::{self, ChartFormat};
use crate::cost::{report, Catalog};
use crate::exit::{CommandOutcome, UsageError};
use crate::output::{print_document, stdout_is_tty};

pub fn run(args: CostArgs) -> Result<CommandOutcome> {
    if args.catalog {
        crate::output::print_text(Catalog::builtin_source())?;
        return Ok(CommandOutcome::Success);
    }
    // Flags first: a bad flag is reported before any work, and nothing is written.
    if let Some(path) = &args.chart {
        if ChartFormat::for_path(path).is_none() {
            return Err(UsageError(format!(
                "--chart {}: expected a file name ending in .svg or .png",
                path.display()
            ))
            .into());
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            return Err(UsageError(format!(
                "--chart {}: the directory `{}` does not exist",
                path.display(),
                dir.display()
            ))
            .into());
        }
    }
    let catalog = match &args.pricing {
        Some(path) => Catalog::load_file(path)
            .map_err(|e| UsageError(format!("--pricing {}: {e}", path.display())))?,
        None => Catalog::builtin(),
    };
    let (profile, rendered) = super::load_and_render(&args.profile)?;
    let estimate = crate::cost::estimate(&profile, &rendered, &catalog)
        .with_context(|| format!("estimating the cost of profile `{}`", profile.stack.name))?;

    for warning in &estimate.warnings {
        eprintln!("warning: {warning}");
    }
    match args.output {
        format @ (CostFormat::Json | CostFormat::Yaml) => {
            print_document(format == CostFormat::Yaml, &report::json(&estimate))?
        }
        CostFormat::Table => print!("{}", report::table(&estimate, stdout_is_tty())),
        CostFormat::Csv => print!("{}", report::csv(&estimate)),
        CostFormat::Markdown => print!("{}", report::markdown(&estimate)),
    }
    if let Some(path) = &args.chart {
        chart::write(&estimate, path)?;
        eprintln!("chart written to {}", path.display());
    }
    Ok(CommandOutcome::Success)
}
