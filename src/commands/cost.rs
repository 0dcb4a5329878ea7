//! `obsctl cost`: size the profile's volumes, price them, compare with commercial APM, draw the chart.

use anyhow::{Context, Result};

use crate::cli::{CostArgs, CostFormat};
use crate::cost::chart::{self, ChartFormat};
use crate::cost::{report, scale, Catalog};
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
    let sweep = args
        .scale
        .as_deref()
        .map(scale::parse)
        .transpose()
        .map_err(|e| UsageError(format!("--scale {e}")))?;
    let catalog = match &args.pricing {
        Some(path) => Catalog::load_file(path)
            .map_err(|e| UsageError(format!("--pricing {}: {e}", path.display())))?,
        None => Catalog::builtin(),
    };
    let (profile, rendered) = super::load_and_render(&args.profile)?;

    if let Some(sweep) = sweep {
        let points = scale::sweep(&profile, &catalog, &sweep).map_err(|e| match e {
            scale::SweepError::Missing { .. } | scale::SweepError::Invalid { .. } => {
                anyhow::Error::from(UsageError(e.to_string()))
            }
            other => anyhow::Error::from(other).context(format!(
                "estimating the cost of profile `{}`",
                profile.stack.name
            )),
        })?;
        for (point, estimate) in &points {
            for warning in &estimate.warnings {
                eprintln!("warning: at {}={}: {warning}", sweep.field, point.text);
            }
        }
        match args.output {
            format @ (CostFormat::Json | CostFormat::Yaml) => print_document(
                format == CostFormat::Yaml,
                &scale::json(&profile, &sweep, &points),
            )?,
            CostFormat::Table => print!(
                "{}",
                report::sweep_table(&profile, &sweep, &points, stdout_is_tty())
            ),
            CostFormat::Csv => print!("{}", report::sweep_csv(&sweep, &points)),
            CostFormat::Markdown => print!("{}", report::sweep_markdown(&profile, &sweep, &points)),
        }
        if let Some(path) = &args.chart {
            chart::write_sweep(profile.stack.name.as_str(), &sweep, &points, path)?;
            eprintln!("chart written to {}", path.display());
        }
        return Ok(CommandOutcome::Success);
    }

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
