//! `obsctl render --out DIR`: write the values, manifests and `plan.json` of a profile, atomically.

use anyhow::Result;

use crate::cli::RenderArgs;
use crate::exit::CommandOutcome;
use crate::render::files;

pub fn run(args: RenderArgs) -> Result<CommandOutcome> {
    let (profile, rendered) = super::load_and_render(&args.profile)?;
    super::print_profile_warnings(&profile);
    files::write(&rendered, &args.out)?;
    eprintln!(
        "rendered profile `{}`: {} releases, {} manifest files, {} runbooks → {}",
        rendered.profile,
        rendered.releases.len(),
        rendered.manifests.len(),
        rendered.runbooks.len(),
        args.out.display()
    );
    Ok(CommandOutcome::Success)
}
