//! `obsctl runbook`: the runbooks `render` writes, printed or written on their own.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::{RunbookArgs, RunbookFormat};
use crate::exit::{CommandOutcome, UsageError};
use crate::incident::runbook::{self, Runbook};

pub fn run(args: RunbookArgs) -> Result<CommandOutcome> {
    let profile = super::load_profile(&args.profile.profile)?;
    let stack = &profile.stack;
    if stack.slos.is_empty() {
        return Err(UsageError(format!(
            "profile `{}` ({}) has no `slos:`, so no alerts and no runbooks; add some (see the production profile) or pick another profile",
            stack.name, profile.source
        ))
        .into());
    }
    let selected: Vec<Runbook> = match &args.slo {
        None => runbook::runbooks(stack),
        Some(name) => {
            let slo = stack
                .slos
                .iter()
                .find(|s| s.name.as_str() == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = stack.slos.iter().map(|s| s.name.as_str()).collect();
                    let hint = crate::suggest::did_you_mean(name, &names);
                    UsageError(format!(
                        "--slo: profile `{}` has no SLO `{name}`{hint} (its SLOs: {})",
                        stack.name,
                        names.join(", ")
                    ))
                })?;
            vec![runbook::runbook(stack, slo)]
        }
    };
    let text = |rb: &Runbook| -> Result<String> {
        Ok(match args.format {
            RunbookFormat::Markdown => runbook::markdown(rb),
            RunbookFormat::Json => serde_json::to_string_pretty(rb)? + "\n",
            RunbookFormat::Yaml => yaml_serde::to_string(rb)?,
        })
    };
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let ext = match args.format {
                RunbookFormat::Markdown => "md",
                RunbookFormat::Json => "json",
                RunbookFormat::Yaml => "yaml",
            };
            for rb in &selected {
                let path = dir.join(format!("{}.{ext}", rb.slo));
                crate::output::write_atomically(&path, text(rb)?.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                eprintln!("wrote the runbook of `{}` → {}", rb.slo, path.display());
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            match args.format {
                RunbookFormat::Markdown => {
                    for (i, rb) in selected.iter().enumerate() {
                        if i > 0 {
                            out.write_all(b"\n---\n\n")?;
                        }
                        out.write_all(text(rb)?.as_bytes())?;
                    }
                }
                RunbookFormat::Json => {
                    let json = serde_json::json!({ "runbooks": selected });
                    out.write_all((serde_json::to_string_pretty(&json)? + "\n").as_bytes())?;
                }
                RunbookFormat::Yaml => {
                    let doc = serde_json::json!({ "runbooks": selected });
                    out.write_all(yaml_serde::to_string(&doc)?.as_bytes())?;
                }
            }
        }
    }
    Ok(CommandOutcome::Success)
}
