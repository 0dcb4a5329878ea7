//! `obsctl up`: render, compare with the cluster, ask, then namespace → CRDs → releases (Loki
//! and Tempo together) → manifests, with progress and a summary. `--dry-run` prints the steps and
//! needs no cluster.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde_json::{json, Value};

use super::shared::{
    announce_target, change_details, change_table, confirm_or_stop, connect_checked, detect_helm,
    finish_locked, refuse_without_confirmation, release_changes, take_lock, with_error_event,
    with_runtime,
};
use crate::cli::{EventFormat, HelmArgs, UpArgs};
use crate::cluster::secret;
use crate::executor::steps::{self, InstallContext};
use crate::executor::{self, interrupt, progress, Interrupt};
use crate::exit::{CommandOutcome, UsageError};
use crate::helm::{self, Helm};
use crate::output;
use crate::plan::diff::Change;
use crate::plan::{self, Action, Step};
use crate::profile::Profile;
use crate::render::{files, Rendered};

pub fn run(args: UpArgs) -> Result<CommandOutcome> {
    progress::set_stream_format(args.output);
    with_error_event(args.output.is_stream(), || run_up(&args))
}

fn run_up(args: &UpArgs) -> Result<CommandOutcome> {
    let (profile, rendered) = super::load_and_render(&args.profile)?;
    let findings = crate::cost::volume_findings(&profile, &rendered);
    for finding in &findings {
        eprintln!("warning: {finding}");
    }
    if !findings.is_empty() && !args.dry_run && !args.accept_data_loss {
        return Err(UsageError(format!(
            "refusing to install profile `{}`: {} volume(s) too small for its own `workload:` (above); resize them in the profile, or pass --accept-data-loss to install anyway",
            profile.stack.name,
            findings.len()
        ))
        .into());
    }
    let timeout = args.timeout.as_std();
    if args.dry_run {
        let helm = dry_run_helm(&args.helm, args.helm_version)?;
        let helm = helm.target(
            args.cluster.kubeconfig.as_deref(),
            args.cluster.context.as_deref(),
        );
        // `-f` paths are relative: they name the files `obsctl render --out DIR` writes in DIR.
        let steps = plan::install(&rendered, &helm, Path::new(""), timeout);
        print_dry_run(&rendered, &helm, &steps, args.output)?;
        return Ok(CommandOutcome::Success);
    }
    let helm = detect_helm(&args.helm)?;
    refuse_without_confirmation(args.yes, "up")?;
    with_runtime(up(args, &profile, &rendered, helm, timeout))
}

/// `--dry-run` only prints, so it needs no Helm: without one found on PATH it builds the argv for
/// `--helm-version` and says so.
fn dry_run_helm(args: &HelmArgs, assumed_major: u8) -> Result<Helm> {
    if args.helm.is_some() || helm::locate(None).is_ok() {
        return detect_helm(args);
    }
    let version = if assumed_major == 3 {
        helm::Version {
            major: 3,
            minor: helm::MIN_HELM3_MINOR,
            patch: 0,
        }
    } else {
        helm::Version {
            major: 4,
            minor: 0,
            patch: 0,
        }
    };
    eprintln!(
        "note: no `helm` on PATH; the argv below is for Helm {assumed_major} (--helm-version 3|4 chooses)"
    );
    Ok(Helm::with_version("helm".into(), version).expect("3.14 and 4.0 are supported"))
}

async fn up(
    args: &UpArgs,
    profile: &Profile,
    rendered: &Rendered,
    helm: Helm,
    timeout: Duration,
) -> Result<CommandOutcome> {
    let json = args.output.is_stream();
    let (client, target, helm) = connect_checked(&args.cluster, profile, helm).await?;
    announce_target(&target, &rendered.namespace, json);
    let (namespace_objects, manifest_objects) = split_manifests(rendered)?;
    let listener = interrupt::listen("up").context("listening for interrupts")?;
    let stop = listener.interrupt.clone();
    let command = format!("obsctl up --profile {}", args.profile.profile);
    let lock = take_lock(
        &client,
        &rendered.namespace,
        &command,
        args.force_unlock,
        Some(&namespace_objects),
    )
    .await
    .with_context(|| format!("Kubernetes API at {}", target.cluster_url))?;
    let locked = Locked {
        client,
        target,
        helm,
        namespace_objects,
        manifest_objects,
    };
    let result = locked_up(args, profile, rendered, locked, timeout, &stop).await;
    finish_locked(lock, &stop, result).await
}

/// What `up` has once it holds the stack's lock.
struct Locked {
    client: kube::Client,
    target: crate::cluster::Target,
    helm: Helm,
    namespace_objects: Vec<Value>,
    manifest_objects: Vec<Value>,
}

async fn locked_up(
    args: &UpArgs,
    profile: &Profile,
    rendered: &Rendered,
    locked: Locked,
    timeout: Duration,
    stop: &Interrupt,
) -> Result<CommandOutcome> {
    let json = args.output.is_stream();
    let Locked {
        client,
        target,
        helm,
        namespace_objects,
        manifest_objects,
    } = locked;
    // The chart's CRDs are read (downloaded) while Helm reports what is deployed and while the
    // user reads the plan: fetching changes nothing, and the CRD step then needs no wait for it.
    let crds = steps::prefetch_crds(&helm, plan::crds_chart(rendered).cloned());
    let changes = release_changes(&helm, rendered).await?;
    let destructive: Vec<_> = changes.iter().flat_map(|c| c.destructive.iter()).collect();
    if json {
        progress::emit(json!({"event": "plan", "force": args.force, "releases": changes}));
    } else {
        change_table(rendered, &changes).print()?;
        print!("{}", change_details(&changes));
        for d in &destructive {
            eprintln!("warning: {d}");
        }
    }
    if !destructive.is_empty() && !args.allow_destructive {
        let list: Vec<String> = destructive.iter().map(|d| format!("  {d}")).collect();
        return Err(UsageError(format!(
            "refusing changes that lose data (pass --allow-destructive to make them anyway):\n{}",
            list.join("\n")
        ))
        .into());
    }
    if !args.yes
        && !confirm_or_stop(format!("Apply to context `{}`?", target.context), stop).await?
    {
        eprintln!("nothing changed");
        return Ok(CommandOutcome::Failures);
    }
    if stop.signal().is_some() {
        eprintln!("interrupted before any change: nothing changed");
        return Ok(CommandOutcome::Failures);
    }

    let values_dir = write_values(rendered).context("writing the values files")?;
    stop.remove_on_abort(values_dir.path().to_path_buf());
    let plan = plan::install(rendered, &helm, values_dir.path(), timeout);
    let skip: HashSet<String> = changes
        .iter()
        .filter(|c| c.is_unchanged() && !args.force)
        .map(|c| c.release.clone())
        .collect();
    let installs: HashSet<String> = changes
        .iter()
        .filter(|c| c.change == Change::Install)
        .map(|c| c.release.clone())
        .collect();
    let context = Arc::new(InstallContext {
        client,
        cluster_url: target.cluster_url.clone(),
        namespace: rendered.namespace.clone(),
        namespace_objects,
        manifest_objects,
        admin_secret: profile
            .stack
            .grafana
            .admin_secret
            .as_ref()
            .map(|s| s.to_string()),
        crds,
        skip,
        installs,
        timeout,
        secret_created: AtomicBool::new(false),
    });
    let reporter = progress::for_output(&plan, json);
    let report = executor::run_until(
        &plan,
        |step| steps::install_step(context.clone(), step.clone()),
        reporter.as_ref(),
        stop,
    )
    .await;
    // The values files go as soon as Helm is done with them.
    drop(values_dir);
    if context.secret_created.load(Ordering::SeqCst) {
        if let Some(name) = &context.admin_secret {
            reporter.note(&format!(
                "created Secret `{name}` with a random Grafana admin password; read it with: {}",
                secret::read_command(&context.namespace, name)
            ));
        }
    }
    if let Some(signal) = stop.signal() {
        reporter.note(&format!(
            "interrupted by {}: running steps were stopped (Helm rolled back what it had not finished); \
             run `obsctl up` again to resume",
            interrupt::name(signal)
        ));
    } else if !report.succeeded() {
        reporter.note("run `obsctl up` again to resume: finished releases are left as they are");
    }
    Ok(if report.succeeded() {
        CommandOutcome::Success
    } else {
        CommandOutcome::Failures
    })
}

/// The render's objects as JSON: the Namespace (applied first) and everything else (last).
fn split_manifests(rendered: &Rendered) -> Result<(Vec<Value>, Vec<Value>)> {
    let mut namespaces = Vec::new();
    let mut others = Vec::new();
    for manifest in &rendered.manifests {
        for object in &manifest.objects {
            let value = serde_json::to_value(object)
                .with_context(|| format!("converting an object of {}", manifest.path))?;
            if value["kind"] == "Namespace" {
                namespaces.push(value);
            } else {
                others.push(value);
            }
        }
    }
    if namespaces.is_empty() {
        // Every render has its namespace; a minimal one keeps `up` correct if that changes.
        namespaces.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": rendered.namespace}}));
    }
    Ok((namespaces, others))
}

/// The values files in a private directory (0700, files 0600), removed when the guard drops.
fn write_values(rendered: &Rendered) -> std::io::Result<tempfile::TempDir> {
    use std::fs::{DirBuilder, OpenOptions, Permissions};
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let dir = tempfile::Builder::new()
        .prefix("obsctl-values-")
        .permissions(Permissions::from_mode(0o700))
        .tempdir()?;
    for (relative, text) in files::contents(rendered) {
        if !relative.starts_with("releases/") {
            continue;
        }
        let path = dir.path().join(&relative);
        if let Some(parent) = path.parent() {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(text.as_bytes())?;
    }
    Ok(dir)
}

fn print_dry_run(
    rendered: &Rendered,
    helm: &Helm,
    steps: &[Step],
    format: EventFormat,
) -> Result<()> {
    if format.is_stream() {
        output::print_document(format == EventFormat::Yaml, &json!({"steps": steps}))?;
        return Ok(());
    }
    println!(
        "obsctl up --dry-run: profile `{}` → namespace `{}`, Helm {} ({})",
        rendered.profile,
        rendered.namespace,
        helm.version,
        helm.path.display()
    );
    println!("(-f paths are relative to a directory written by `obsctl render --out DIR`)");
    for (i, step) in steps.iter().enumerate() {
        let needs = if step.needs.is_empty() {
            String::new()
        } else {
            format!("  (after {})", step.needs.join(", "))
        };
        let what = match step.action {
            Action::Namespace => {
                "server-side apply of the namespace; the Grafana admin Secret if missing"
            }
            Action::Crds => "the chart's CRDs by server-side apply, then wait until Established",
            Action::Helm => "helm upgrade --install",
            Action::Manifests => "server-side apply of rules and dashboards",
        };
        println!("{:>2}. {}: {what}{needs}", i + 1, step.id);
        if !step.argv.is_empty() {
            println!("      $ {}", shell_words(&step.argv));
        }
    }
    Ok(())
}

/// An argv as a shell line, quoting only what needs it.
fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_privately_and_removed_with_the_guard() {
        use std::os::unix::fs::PermissionsExt;
        let rendered = crate::render::render(&crate::profile::load("dev").unwrap()).unwrap();
        let dir = write_values(&rendered).unwrap();
        let path = dir.path().to_path_buf();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let loki = plan::values_file(&path, "loki");
        assert_eq!(
            std::fs::metadata(&loki).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let expected = files::contents(&rendered)
            .into_iter()
            .find(|(p, _)| p == "releases/loki.values.yaml")
            .unwrap()
            .1;
        assert_eq!(std::fs::read_to_string(&loki).unwrap(), expected);
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn shell_words_quote_only_when_needed() {
        assert_eq!(
            shell_words(&[
                "helm".into(),
                "--timeout".into(),
                "600s".into(),
                "a b".into(),
                "it's".into()
            ]),
            r"helm --timeout 600s 'a b' 'it'\''s'"
        );
    }
}
