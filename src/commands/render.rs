//! `obsctl render --out DIR`: write the values, manifests and `plan.json` of a profile, atomically.

use anyhow::{Context, Result};

use crate::cli::RenderArgs;
use crate::error::Outcome;
use crate::render::files;

pub fn run(args: RenderArgs) -> Result<Outcome> {
    let (_, rendered) = super::load_and_render(&args.profile.profile)?;
    files::write(&rendered, &args.out)
        .with_context(|| format!("writing the render to {}", args.out.display()))?;
    eprintln!(
        "rendered profile `{}`: {} releases, {} manifest files, {} runbooks → {}",
        rendered.profile,
        rendered.releases.len(),
        rendered.manifests.len(),
        rendered.runbooks.len(),
        args.out.display()
    );
    Ok(Outcome::Success)
}
