//! `obsctl down`: uninstall the releases in reverse order, keeping PersistentVolumeClaims, CRDs,
//! the namespace and the Grafana admin Secret, and say what was kept. `--purge-data` also deletes
//! the releases' PVCs, after listing them and asking. Only the profile's namespace is touched.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use kube::Client;
use serde_json::{json, Value};

use super::shared::{
    announce_target, confirm_or_stop, connect_checked, detect_helm, finish_locked,
    refuse_without_confirmation, take_lock, with_error_event, with_runtime,
};
use crate::cli::DownArgs;
use crate::cluster::claims::{self, Claim};
use crate::cluster::Target;
use crate::executor::steps::{self, UninstallContext};
use crate::executor::{self, interrupt, progress, Interrupt};
use crate::exit::CommandOutcome;
use crate::helm::Helm;
use crate::output::Table;
use crate::plan;
use crate::profile::Profile;
use crate::render::endpoints::KPS_FULLNAME;
use crate::render::Rendered;

pub fn run(args: DownArgs) -> Result<CommandOutcome> {
    progress::set_stream_format(args.output);
    with_error_event(args.output.is_stream(), || {
        let (profile, rendered) = super::load_and_render(&args.profile)?;
        let helm = detect_helm(&args.helm)?;
        refuse_without_confirmation(args.yes, "down")?;
        with_runtime(down(&args, &profile, &rendered, helm))
    })
}

fn claim_table(claims: &[Claim]) -> Table {
    let mut table = Table::new(["PVC", "RELEASE", "SIZE", "STORAGE CLASS"]);
    for c in claims {
        table.row([
            c.name.clone(),
            c.instance.clone(),
            c.size.clone().unwrap_or_else(|| "-".into()),
            c.storage_class
                .clone()
                .unwrap_or_else(|| "(default)".into()),
        ]);
    }
    table
}

async fn down(
    args: &DownArgs,
    profile: &Profile,
    rendered: &Rendered,
    helm: Helm,
) -> Result<CommandOutcome> {
    let json = args.output.is_stream();
    let ns = rendered.namespace.clone();
    let (client, target, helm) = connect_checked(&args.cluster, profile, helm).await?;
    announce_target(&target, &ns, json);
    let listener = interrupt::listen("down").context("listening for interrupts")?;
    let stop = listener.interrupt.clone();
    let command = format!("obsctl down --profile {}", args.profile.profile);
    let lock = take_lock(&client, &ns, &command, args.force_unlock, None)
        .await
        .with_context(|| format!("Kubernetes API at {}", target.cluster_url))?;
    let result = locked_down(args, rendered, client, target, helm, &stop).await;
    finish_locked(lock, &stop, result).await
}

async fn locked_down(
    args: &DownArgs,
    rendered: &Rendered,
    client: Client,
    target: Target,
    helm: Helm,
    stop: &Interrupt,
) -> Result<CommandOutcome> {
    let json = args.output.is_stream();
    let ns = rendered.namespace.clone();

    let installed: HashSet<String> = {
        let helm = helm.clone();
        let ns = ns.clone();
        tokio::task::spawn_blocking(move || helm.list(&ns))
            .await
            .context("Helm query task")?
            .context("listing the installed releases")?
            .into_iter()
            .map(|r| r.name)
            .collect()
    };
    let names: Vec<&str> = rendered.releases.iter().map(|r| r.name.as_str()).collect();
    let before = claims::stack_claims(&client, &ns, &names, KPS_FULLNAME).await?;
    let to_uninstall: Vec<&str> = names
        .iter()
        .rev()
        .copied()
        .filter(|n| installed.contains(*n))
        .collect();

    if json {
        progress::emit(json!({
            "event": "plan", "uninstall": to_uninstall, "purge": args.purge_data,
            "claims": before,
        }));
    } else {
        if to_uninstall.is_empty() {
            println!(
                "no release of profile `{}` is installed in `{ns}`",
                rendered.profile
            );
        } else {
            println!("uninstall, in this order: {}", to_uninstall.join(", "));
        }
        if before.is_empty() {
            println!("no PersistentVolumeClaims of the stack in `{ns}`");
        } else if args.purge_data {
            println!("DELETE these PersistentVolumeClaims and their data (--purge-data):");
            claim_table(&before).print()?;
        } else {
            println!("keep these PersistentVolumeClaims (pass --purge-data to delete them):");
            claim_table(&before).print()?;
        }
    }
    let question = if args.purge_data && !before.is_empty() {
        format!(
            "Uninstall and delete {} volume claim(s) in context `{}`?",
            before.len(),
            target.context
        )
    } else {
        format!("Uninstall from context `{}`?", target.context)
    };
    if !args.yes && !confirm_or_stop(question, stop).await? {
        eprintln!("nothing changed");
        return Ok(CommandOutcome::Failures);
    }
    if stop.signal().is_some() {
        eprintln!("interrupted before any change: nothing changed");
        return Ok(CommandOutcome::Failures);
    }

    let steps = plan::uninstall(rendered, &helm, args.timeout.as_std());
    let objects: Vec<Value> = rendered
        .manifests
        .iter()
        .flat_map(|m| m.objects.iter())
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .context("converting the manifests")?;
    let context = Arc::new(UninstallContext {
        client: client.clone(),
        namespace: ns.clone(),
        objects,
        installed,
        timeout: args.timeout.as_std(),
    });
    let reporter = progress::for_output(&steps, json);
    let report = executor::run_until(
        &steps,
        |step| steps::uninstall_step(context.clone(), step.clone()),
        reporter.as_ref(),
        stop,
    )
    .await;
    if let Some(signal) = stop.signal() {
        reporter.note(&format!(
            "interrupted by {}: running uninstalls were stopped; volume claims were not deleted; \
             run `obsctl down` again to resume",
            interrupt::name(signal)
        ));
        return Ok(CommandOutcome::Interrupted(signal));
    }

    let mut purged = Vec::new();
    if args.purge_data && report.succeeded() && !before.is_empty() {
        claims::delete_claims(&client, &ns, &before).await?;
        purged = before.iter().map(|c| c.name.clone()).collect();
        reporter.note(&format!(
            "deleted PersistentVolumeClaims: {}",
            purged.join(", ")
        ));
    } else if args.purge_data && !report.succeeded() {
        reporter.note("volume claims were not deleted: the uninstall did not finish");
    }
    report_kept(
        &client,
        &ns,
        &names,
        &before,
        &purged,
        json,
        reporter.as_ref(),
    )
    .await?;
    Ok(if report.succeeded() {
        CommandOutcome::Success
    } else {
        CommandOutcome::Failures
    })
}

/// Lists what is still there: the claims (re-read, so a claim a chart deleted with its release
/// is not claimed as kept), the CRDs and the namespace.
async fn report_kept(
    client: &Client,
    ns: &str,
    names: &[&str],
    before: &[Claim],
    purged: &[String],
    json: bool,
    reporter: &dyn executor::Reporter,
) -> Result<()> {
    let after = claims::stack_claims(client, ns, names, KPS_FULLNAME).await?;
    let gone: Vec<&str> = before
        .iter()
        .filter(|c| !purged.contains(&c.name) && !after.iter().any(|a| a.name == c.name))
        .map(|c| c.name.as_str())
        .collect();
    let crds = claims::kept_crds(client).await?;
    if json {
        progress::emit(json!({
            "event": "kept", "namespace": ns, "claims": after, "crds": crds, "deleted_with_release": gone,
        }));
        return Ok(());
    }
    if !after.is_empty() {
        reporter.note(&format!(
            "kept PersistentVolumeClaims: {}",
            after
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !gone.is_empty() {
        reporter.note(&format!(
            "deleted by Helm with their release (chart-managed claims): {}",
            gone.join(", ")
        ));
    }
    if !crds.is_empty() {
        reporter.note(&format!(
            "kept {} CRDs of {}: {}",
            crds.len(),
            claims::CRD_GROUP,
            crds.join(", ")
        ));
    }
    reporter.note(&format!("kept namespace `{ns}`"));
    Ok(())
}
