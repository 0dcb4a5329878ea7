//! What each plan step does: the dispatcher from a step's action to the Kubernetes API calls or
//! the Helm command that carry it out, for `up` (install) and `down` (uninstall).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};
use kube::Client;
use serde_json::Value;

use super::StepResult;
use crate::cluster::{apply, secret};
use crate::helm::{self, Helm};
use crate::plan::{Action, Step};
use crate::render::Chart;

/// Starts `helm show crds` of the chart in the background.
pub fn prefetch_crds(
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
pub struct InstallContext {
    pub client: Client,
    pub cluster_url: String,
    pub namespace: String,
    pub namespace_objects: Vec<Value>,
    pub manifest_objects: Vec<Value>,
    pub admin_secret: Option<String>,
    /// The output of `helm show crds` (`None`: no chart ships CRDs).
    pub crds: Option<Shared<BoxFuture<'static, Result<String, String>>>>,
    /// Releases that are deployed exactly as rendered (and not `--force`d).
    pub skip: HashSet<String>,
    pub installs: HashSet<String>,
    pub timeout: Duration,
    pub secret_created: AtomicBool,
}

pub fn install_step(ctx: Arc<InstallContext>, step: Step) -> BoxFuture<'static, StepResult> {
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

/// What every step of `down` needs.
pub struct UninstallContext {
    pub client: Client,
    pub namespace: String,
    /// obsctl's own objects (rules, dashboards), deleted first.
    pub objects: Vec<Value>,
    /// Releases Helm lists as installed; the others are not uninstalled.
    pub installed: HashSet<String>,
    pub timeout: Duration,
}

pub fn uninstall_step(ctx: Arc<UninstallContext>, step: Step) -> BoxFuture<'static, StepResult> {
    async move {
        match step.action {
            Action::Manifests => apply::delete_all(&ctx.client, &ctx.namespace, &ctx.objects)
                .await
                .map(|n| format!("{n} objects deleted"))
                .map_err(|e| e.to_string()),
            Action::Helm if !ctx.installed.contains(&step.id) => Ok("not installed".into()),
            _ => {
                let (argv, timeout) = (step.argv.clone(), ctx.timeout);
                tokio::task::spawn_blocking(move || helm::run_step(&argv, timeout))
                    .await
                    .map_err(|e| e.to_string())?
                    .map(|_| "uninstalled".to_string())
                    .map_err(|e| e.to_string())
            }
        }
    }
    .boxed()
}
