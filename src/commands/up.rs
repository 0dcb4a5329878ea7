//! `obsctl up`: render, compare with the cluster, ask, then namespace → CRDs → releases (Loki
//! and Tempo together) → manifests, with progress and a summary. `--dry-run` prints the steps and
//! needs no cluster.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures::future::{BoxFuture, FutureExt, Shared};
use kube::Client;
use serde_json::{json, Value};

use crate::cli::{ClusterArgs, EventFormat, HelmArgs, UpArgs};
use crate::cluster::{self, apply, guard, secret, Target};
use crate::error::{Outcome, UsageError};
use crate::executor::{self, progress, StepResult};
use crate::helm::{self, Helm, HelmError};
use crate::output::{self, Table};
use crate::plan::diff::{self, Change, ReleaseChange};
use crate::plan::{self, Action, Step};
use crate::profile::Profile;
use crate::render::{files, Chart, Rendered};

pub fn run(args: UpArgs) -> Result<Outcome> {
    let (profile, rendered) = super::load_and_render(&args.profile)?;
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
        return Ok(Outcome::Success);
    }
    let result = detect_helm(&args.helm).and_then(|helm| {
        refuse_without_confirmation(args.yes, "up")?;
        with_runtime(up(&args, &profile, &rendered, helm, timeout))
    });
    if let (Err(e), EventFormat::Json) = (&result, args.output) {
        // A reader of the event stream sees how it ended, failure included.
        progress::emit(
            json!({"event": "error", "ok": false, "message": format!("{e:#}"), "exit_code": crate::error::exit_code(e)}),
        );
    }
    result
}

/// Runs a future on a fresh runtime; Helm processes still running after an interrupt get a
/// moment to exit (they received the same Ctrl-C).
pub(super) fn with_runtime<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(future);
    runtime.shutdown_timeout(Duration::from_secs(5));
    result
}

/// Helm, with the problems a user fixes by a flag or an install reported as bad usage (exit 2).
pub(super) fn detect_helm(args: &HelmArgs) -> Result<Helm> {
    Helm::detect(args.helm.as_deref()).map_err(|e| match e {
        HelmError::NotFound(_)
        | HelmError::Unsupported { .. }
        | HelmError::UnknownVersion { .. } => UsageError(e.to_string()).into(),
        other => anyhow::Error::new(other).context("running `helm version`"),
    })
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

/// Without a terminal to ask on, only `--yes` allows a change.
pub(super) fn refuse_without_confirmation(yes: bool, command: &str) -> Result<()> {
    if yes || output::interactive() {
        return Ok(());
    }
    Err(UsageError(format!(
        "`obsctl {command}` changes the cluster and asks first, but this is not an interactive terminal; \
         pass --yes to proceed without asking"
    ))
    .into())
}

/// Asks on stderr; only `y`/`yes` is consent.
pub(super) fn confirm(question: &str) -> Result<bool> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Connects like kubectl, applies the profile's context guard, and points Helm at the same
/// kubeconfig and context.
pub(super) async fn connect_checked(
    cluster: &ClusterArgs,
    profile: &Profile,
    helm: Helm,
) -> Result<(Client, Target, Helm)> {
    let (client, target) =
        cluster::connect(cluster.kubeconfig.as_deref(), cluster.context.as_deref()).await?;
    guard::check_context(
        profile.stack.name.as_ref(),
        profile.stack.cluster.context.as_deref(),
        &target.context,
        cluster.context.is_some(),
    )
    .map_err(|e| UsageError(e.to_string()))?;
    let helm = helm.target(cluster.kubeconfig.as_deref(), Some(&target.context));
    Ok((client, target, helm))
}

/// The line printed before anything changes.
pub(super) fn announce_target(target: &Target, namespace: &str, json: bool) {
    if json {
        progress::emit(json!({
            "event": "target", "context": target.context, "cluster": target.cluster_url, "namespace": namespace,
        }));
    } else {
        println!(
            "target: context `{}` ({}), namespace `{namespace}`",
            target.context, target.cluster_url
        );
    }
}

/// Per release: install, upgrade (changed paths) or unchanged, from what Helm reports.
pub(super) async fn release_changes(
    helm: &Helm,
    rendered: &Rendered,
) -> Result<Vec<ReleaseChange>> {
    let helm = helm.clone();
    let namespace = rendered.namespace.clone();
    let names: Vec<String> = rendered.releases.iter().map(|r| r.name.clone()).collect();
    let deployed = tokio::task::spawn_blocking(move || {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        helm.deployed(&namespace, &names)
    })
    .await
    .context("Helm query task")?
    .context("reading the deployed releases from Helm")?;
    Ok(rendered
        .releases
        .iter()
        .map(|release| {
            let live = deployed
                .iter()
                .find(|(n, _)| n == &release.name)
                .map(|(_, d)| d);
            diff::compare(release, live)
        })
        .collect())
}

/// The per-release table of a comparison, for people.
pub(super) fn change_table(rendered: &Rendered, changes: &[ReleaseChange]) -> Table {
    let mut table = Table::new(["RELEASE", "CHART", "CHANGE"]);
    for (release, change) in rendered.releases.iter().zip(changes) {
        table.row([
            release.name.clone(),
            format!("{} {}", release.chart.name, release.chart.version),
            change.summary(4),
        ]);
    }
    table
}

/// The changed paths of upgrades, one per line, for people.
pub(super) fn change_details(changes: &[ReleaseChange]) -> String {
    let mut out = String::new();
    for change in changes {
        if let Change::Upgrade { changed, .. } = &change.change {
            for c in changed {
                out.push_str(&format!(
                    "  {} {}: {} → {}\n",
                    change.release,
                    c.path,
                    c.before.as_deref().unwrap_or("(unset)"),
                    c.after.as_deref().unwrap_or("(unset)")
                ));
            }
        }
    }
    out
}

async fn up(
    args: &UpArgs,
    profile: &Profile,
    rendered: &Rendered,
    helm: Helm,
    timeout: Duration,
) -> Result<Outcome> {
    let json = args.output == EventFormat::Json;
    let (client, target, helm) = connect_checked(&args.cluster, profile, helm).await?;
    announce_target(&target, &rendered.namespace, json);

    // The chart's CRDs are read (downloaded) while Helm reports what is deployed and while the
    // user reads the plan: fetching changes nothing, and the CRD step then needs no wait for it.
    let crds = prefetch_crds(&helm, plan::crds_chart(rendered).cloned());
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
    if !args.yes && !confirm(&format!("Apply to context `{}`?", target.context))? {
        eprintln!("nothing changed");
        return Ok(Outcome::Failures);
    }

    let values_dir = write_values(rendered).context("writing the values files")?;
    let steps = plan::install(rendered, &helm, values_dir.path(), timeout);
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
    let (namespace_objects, manifest_objects) = split_manifests(rendered)?;
    let context = Arc::new(StepContext {
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
    let reporter = progress::for_output(&steps, json);
    let run = executor::run(
        &steps,
        |step| run_step(context.clone(), step.clone()),
        reporter.as_ref(),
    );
    let report = tokio::select! {
        report = run => report,
        _ = tokio::signal::ctrl_c() => {
            drop(values_dir);
            reporter.note("interrupted: steps in progress were stopped; run `obsctl up` again to resume");
            return Ok(Outcome::Failures);
        }
    };
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
    if !report.succeeded() {
        reporter.note("run `obsctl up` again to resume: finished releases are left as they are");
    }
    Ok(if report.succeeded() {
        Outcome::Success
    } else {
        Outcome::Failures
    })
}

/// Starts `helm show crds` of the chart in the background.
fn prefetch_crds(
    helm: &Helm,
    chart: Option<Chart>,
) -> Option<Shared<BoxFuture<'static, Result<String, String>>>> {
    let chart = chart?;
    let helm = helm.clone();
    let task = tokio::task::spawn_blocking(move || helm.show_crds(&chart));
    let fetch: BoxFuture<'static, Result<String, String>> = async move {
        task.await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("reading the chart's CRDs: {e}"))
    }
    .boxed();
    Some(fetch.shared())
}

/// What every step needs, shared by the concurrent steps.
struct StepContext {
    client: Client,
    cluster_url: String,
    namespace: String,
    namespace_objects: Vec<Value>,
    manifest_objects: Vec<Value>,
    admin_secret: Option<String>,
    /// The output of `helm show crds` (`None`: no chart ships CRDs).
    crds: Option<Shared<BoxFuture<'static, Result<String, String>>>>,
    /// Releases that are deployed exactly as rendered (and not `--force`d).
    skip: HashSet<String>,
    installs: HashSet<String>,
    timeout: Duration,
    secret_created: AtomicBool,
}

fn run_step(ctx: Arc<StepContext>, step: Step) -> BoxFuture<'static, StepResult> {
    async move {
        let api_error = |e: &dyn std::fmt::Display| format!("{e} (API server {})", ctx.cluster_url);
        match step.action {
            Action::Namespace => {
                apply::apply_all(&ctx.client, &ctx.namespace, &ctx.namespace_objects)
                    .await
                    .map_err(|e| api_error(&e))?;
                let mut note = format!("namespace {}", ctx.namespace);
                if let Some(name) = &ctx.admin_secret {
                    let created = secret::ensure_admin_secret(&ctx.client, &ctx.namespace, name)
                        .await
                        .map_err(|e| api_error(&e))?;
                    ctx.secret_created.store(created, Ordering::SeqCst);
                    note.push_str(&format!(
                        ", Secret {name} {}",
                        if created { "created" } else { "present" }
                    ));
                }
                Ok(note)
            }
            Action::Crds => {
                let Some(fetch) = ctx.crds.clone() else {
                    return Ok("no CRDs".into());
                };
                let yaml = fetch.await?;
                let crds = apply::parse_crds(&yaml).map_err(|e| e.to_string())?;
                let names = apply::apply_crds(&ctx.client, &crds, ctx.timeout)
                    .await
                    .map_err(|e| api_error(&e))?;
                Ok(format!("{} CRDs applied and Established", names.len()))
            }
            Action::Helm => {
                if ctx.skip.contains(&step.id) {
                    return Ok("unchanged".into());
                }
                let timeout = ctx.timeout;
                let argv = step.argv.clone();
                tokio::task::spawn_blocking(move || helm::run_step(&argv, timeout))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
                Ok(if ctx.installs.contains(&step.id) {
                    "installed"
                } else {
                    "upgraded"
                }
                .into())
            }
            Action::Manifests => {
                let n = apply::apply_all(&ctx.client, &ctx.namespace, &ctx.manifest_objects)
                    .await
                    .map_err(|e| api_error(&e))?;
                Ok(format!("{n} objects applied"))
            }
        }
    }
    .boxed()
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
    if format == EventFormat::Json {
        output::print_json(&json!({"steps": steps}))?;
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
