//! What `up`, `plan` and `down` share: the async runtime, Helm detection, asking before a change,
//! connecting with the context guard, and the per-release comparison with what is deployed.

use std::io::{BufRead, Write};
use std::time::Duration;

use anyhow::{Context as _, Result};
use kube::Client;
use serde_json::json;

use crate::cli::{ClusterArgs, HelmArgs};
use crate::cluster::lock::{self, Lock, LockError};
use crate::cluster::{self, apply, guard, Target};
use crate::executor::progress;
use crate::executor::Interrupt;
use crate::exit::{CommandOutcome, UsageError};
use crate::helm::{Helm, HelmError};
use crate::output::{self, Table};
use crate::plan::diff::{self, Change, ReleaseChange};
use crate::profile::Profile;
use crate::render::Rendered;

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
/// Runs a command whose `-o json` output is an event stream: however it fails (a bad profile,
/// no Helm, a refused lock), the stream's reader sees a last `error` event with the exit code.
pub(super) fn with_error_event(
    json: bool,
    run: impl FnOnce() -> Result<CommandOutcome>,
) -> Result<CommandOutcome> {
    let result = run();
    if let (Err(e), true) = (&result, json) {
        progress::emit(json!({
            "event": "error",
            "ok": false,
            "message": format!("{e:#}"),
            "exit_code": crate::exit::exit_code(e),
        }));
    }
    result
}

pub(super) fn detect_helm(args: &HelmArgs) -> Result<Helm> {
    Helm::detect(args.helm.as_deref()).map_err(|e| match e {
        HelmError::NotFound(_)
        | HelmError::Unsupported { .. }
        | HelmError::UnknownVersion { .. } => UsageError(e.to_string()).into(),
        other => anyhow::Error::new(other).context("running `helm version`"),
    })
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

/// Takes the stack's lock for `command` (`obsctl up --profile dev`). With `namespace_objects`
/// (`up`), a missing namespace is created first, since the Lease lives in it; without (`down`), a
/// missing namespace means there is nothing to lock.
pub(super) async fn take_lock(
    client: &Client,
    namespace: &str,
    command: &str,
    force: bool,
    namespace_objects: Option<&[serde_json::Value]>,
) -> Result<Option<Lock>> {
    let who = lock::Identity::current(command);
    match lock::acquire(client, namespace, &who, force).await {
        Ok(lock) => Ok(Some(lock)),
        Err(LockError::NoNamespace { .. }) => {
            let Some(objects) = namespace_objects else {
                return Ok(None);
            };
            apply::apply_all(client, namespace, objects)
                .await
                .with_context(|| format!("creating namespace `{namespace}` to hold the lock"))?;
            Ok(Some(lock::acquire(client, namespace, &who, force).await?))
        }
        Err(e) => Err(e.into()),
    }
}

/// Releases the lock and turns an interrupted run into its outcome (exit 130 or 143).
pub(super) async fn finish_locked(
    lock: Option<Lock>,
    stop: &Interrupt,
    result: Result<CommandOutcome>,
) -> Result<CommandOutcome> {
    if let Some(lock) = lock {
        if let Err(e) = lock.release().await {
            eprintln!("warning: {e}; the lock expires by itself");
        }
    }
    match stop.signal() {
        Some(signal) => Ok(CommandOutcome::Interrupted(signal)),
        None => result,
    }
}

/// `confirm`, given up on when the run is interrupted.
pub(super) async fn confirm_or_stop(question: String, stop: &Interrupt) -> Result<bool> {
    let ask = tokio::task::spawn_blocking(move || confirm(&question));
    tokio::select! {
        answer = ask => answer.context("confirmation task")?,
        _ = stop.wait() => Ok(false),
    }
}
