//! `obsctl verify`: flags checked first (bad ones exit 2 before anything runs), the profile
//! rendered into expectations, the checks run under `--timeout`, the report printed.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cli::{TableOrJson, VerifyArgs};
use crate::exit::{CommandOutcome, UsageError};
use crate::output::{print_document, stdout_is_tty};
use crate::verify::report;
use crate::verify::{
    parse_only, parse_url, ClusterAccess, Component, Credentials, Expectations, Inputs, Progress,
    Urls, VerifyInputError,
};

pub fn run(args: VerifyArgs) -> Result<CommandOutcome> {
    let usage = |e: VerifyInputError| UsageError(e.to_string());
    let only = parse_only(&args.only);
    let url = |flag: &'static str, value: &Option<String>| {
        value
            .as_deref()
            .map(|v| parse_url(flag, v))
            .transpose()
            .map_err(usage)
    };
    let urls = Urls {
        prometheus: url("--prometheus-url", &args.prometheus_url)?,
        alertmanager: url("--alertmanager-url", &args.alertmanager_url)?,
        grafana: url("--grafana-url", &args.grafana_url)?,
        loki: url("--loki-url", &args.loki_url)?,
        tempo: url("--tempo-url", &args.tempo_url)?,
        tempo_otlp: url("--tempo-otlp-url", &args.tempo_otlp_url)?,
    };
    let timeout = args.timeout.as_std();
    if timeout.is_zero() {
        return Err(usage(VerifyInputError::ZeroTimeout).into());
    }
    if let Some(path) = &args.junit {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) || path.is_dir() {
            return Err(UsageError(format!(
                "--junit: cannot write {}: its directory does not exist or it is a directory",
                path.display()
            ))
            .into());
        }
    }

    let (profile, rendered) = super::load_and_render(&args.profile)?;
    preflight_cluster(&args, &profile, &only, &urls)?;
    let inputs = Inputs {
        expect: Expectations::from_render(&profile, &rendered),
        only,
        timeout,
        urls,
        cluster: ClusterAccess {
            path: args.cluster.kubeconfig.clone(),
            context: args.cluster.context.clone(),
        },
        grafana_credentials: Credentials::from_env(|name| std::env::var(name).ok()),
    };

    let spinner =
        (args.output == TableOrJson::Table && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(100));
            bar.set_message(format!("verifying profile {} …", profile.stack.name));
            bar
        });
    let progress: Option<Progress> = spinner.clone().map(|bar| {
        let done = std::sync::atomic::AtomicUsize::new(0);
        let progress: Progress = Arc::new(move |c| {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            bar.set_message(format!(
                "{n} checks done, last {}/{}: {}",
                c.component,
                c.check,
                c.status.as_str()
            ));
        });
        progress
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(crate::verify::run(inputs, progress));
    // Port-forward bridges still open are cancelled, not waited for.
    runtime.shutdown_timeout(Duration::from_millis(200));
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }

    match args.output {
        format @ (TableOrJson::Json | TableOrJson::Yaml) => {
            print_document(format == TableOrJson::Yaml, &report::json(&result))?
        }
        TableOrJson::Table if stdout_is_tty() => {
            report::table(&result).print()?;
            println!("{}", report::summary_line(&result));
        }
        TableOrJson::Table => {
            print!("{}", report::lines(&result));
            println!("{}", report::summary_line(&result));
        }
    }
    if let Some(path) = &args.junit {
        crate::output::write_atomically(path, report::junit(&result).as_bytes())
            .with_context(|| format!("writing --junit {}", path.display()))?;
    }
    Ok(if result.failed() {
        CommandOutcome::Failures
    } else {
        CommandOutcome::Success
    })
}

/// The components that reach the cluster: those without a `--*-url`. Grafana given by URL but
/// without credentials in the environment would read the admin Secret through the cluster; that
/// is not required, and its checks say which credentials are missing, so it does not count.
fn cluster_components(only: &BTreeSet<Component>, urls: &Urls) -> Vec<Component> {
    let grafana_direct = urls.grafana.is_some();
    only.iter()
        .copied()
        .filter(|c| match c {
            Component::Workloads | Component::Collector => true,
            Component::Prometheus => urls.prometheus.is_none(),
            Component::Alertmanager => urls.alertmanager.is_none(),
            Component::Grafana => !grafana_direct,
            Component::Loki => urls.loki.is_none(),
            Component::Tempo => urls.tempo.is_none(),
            Component::Correlation => {
                !grafana_direct || urls.loki.is_none() || urls.tempo.is_none()
            }
        })
        .collect()
}

/// Before any check runs: when some component needs the cluster, the kubeconfig must load (one
/// clear error instead of a failure per check), and the profile's `cluster.context` guard holds,
/// as for `up` and `down` (verify creates a pod).
fn preflight_cluster(
    args: &VerifyArgs,
    profile: &crate::profile::Profile,
    only: &BTreeSet<Component>,
    urls: &Urls,
) -> Result<()> {
    let needing = cluster_components(only, urls);
    if needing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = needing.iter().map(|c| c.name()).collect();
    let (path, context) = (
        args.cluster.kubeconfig.as_deref(),
        args.cluster.context.as_deref(),
    );
    // One connection for all three questions: is there a kubeconfig, is it the profile's
    // context, does the API server answer.
    let down = super::shared::with_runtime(async {
        let (client, target) = crate::cluster::connect(path, context)
            .await
            .map_err(|e| match e.downcast_ref::<crate::cluster::KubeconfigError>() {
                Some(missing) => UsageError(format!(
                    "verify reaches {} through the cluster, and there is none to reach: {missing}; \
                     or give each component's address (--prometheus-url, --alertmanager-url, --grafana-url with \
                     GRAFANA_TOKEN or GRAFANA_USER/GRAFANA_PASSWORD, --loki-url, --tempo-url) and --only the ones you have",
                    names.join(", ")
                ))
                .into(),
                None => e,
            })?;
        crate::cluster::guard::check_context(
            profile.stack.name.as_ref(),
            profile.stack.cluster.context.as_deref(),
            &target.context,
            args.cluster.context.is_some(),
        )
        .map_err(|e| UsageError(e.to_string()))?;
        // One error when the API server does not answer, not the same failure from every
        // check that needs it. Not bad input: the kubeconfig is fine, the cluster is not there
        // (exit 1).
        Ok(crate::cluster::unreachable(&client, &target, API_PROBE_TIMEOUT).await)
    })?;
    if let Some(why) = down {
        anyhow::bail!(
            "verify reaches {} through the cluster, and {why}",
            names.join(", ")
        );
    }
    Ok(())
}

/// How long the API server has to answer the first request before verify gives up on it.
const API_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
