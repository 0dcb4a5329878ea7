//! `obsctl schema`: the JSON Schema of the profile format, for editor completion.

use anyhow::Result;

use crate::exit::CommandOutcome;
use crate::output::print_json;
use crate::profile::Stack;

pub fn run() -> Result<CommandOutcome> {
    let mut schema = schemars::schema_for!(Stack);
    schema.insert("title".into(), "obsctl stack profile".into());
    print_json(&schema)?;
    Ok(CommandOutcome::Success)
}
