//! `obsctl profile show|validate|list`: print, check and list stack profiles.

use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::{ProfileCommand, TableOrJson, YamlOrJson};
use crate::exit::{CommandOutcome, UsageError};
use crate::output::{print_document, Table};
use crate::profile::{self, builtin_names};

pub fn run(cmd: ProfileCommand) -> Result<CommandOutcome> {
    match cmd {
        ProfileCommand::List { output } => list(output),
        ProfileCommand::Show { name, output } => show(&name, output),
        ProfileCommand::Validate { files } => validate(&files),
    }
}

fn list(output: TableOrJson) -> Result<CommandOutcome> {
    let mut rows = Vec::new();
    for name in builtin_names() {
        let loaded =
            profile::load(name).with_context(|| format!("loading built-in profile `{name}`"))?;
        rows.push((
            name,
            loaded.stack.extends.clone(),
            loaded.stack.description.clone().unwrap_or_default(),
        ));
    }
    match output {
        format @ (TableOrJson::Json | TableOrJson::Yaml) => print_document(
            format == TableOrJson::Yaml,
            &json!({
                "profiles": rows.iter().map(|(n, e, d)| json!({"name": n, "extends": e, "description": d})).collect::<Vec<_>>()
            }),
        )?,
        TableOrJson::Table => {
            let mut table = Table::new(["NAME", "EXTENDS", "DESCRIPTION"]);
            for (name, extends, description) in rows {
                table.row([
                    name.to_string(),
                    extends.unwrap_or_else(|| "-".into()),
                    description,
                ]);
            }
            table.print()?;
        }
    }
    Ok(CommandOutcome::Success)
}

fn show(name: &str, output: YamlOrJson) -> Result<CommandOutcome> {
    let loaded = super::load_profile(name)?;
    print_document(output == YamlOrJson::Yaml, &loaded.stack).context("printing the profile")?;
    Ok(CommandOutcome::Success)
}

/// Validates every file and reports each; exit 2 when any is invalid.
fn validate(files: &[String]) -> Result<CommandOutcome> {
    let mut invalid = 0;
    for file in files {
        let result = profile::load(file)
            .map_err(anyhow::Error::from)
            .and_then(|p| {
                crate::render::render(&p)
                    .map(|r| (p, r))
                    .map_err(anyhow::Error::from)
            });
        match result {
            Ok((p, rendered)) => {
                println!("{file}: ok (profile `{}`)", p.stack.name);
                super::print_profile_warnings(&p);
                for finding in crate::cost::volume_findings(&p, &rendered) {
                    eprintln!("warning: {file}: {finding}");
                }
            }
            Err(e) => {
                eprintln!("{e:#}");
                invalid += 1;
            }
        }
    }
    if invalid == 0 {
        Ok(CommandOutcome::Success)
    } else {
        // Each error was printed above; this line only counts them (and makes the exit code 2).
        Err(UsageError(format!("{invalid} of {} profile(s) invalid", files.len())).into())
    }
}
