//! `obsctl postmortem`: flags and the incident file checked first (bad ones exit 2 before any
//! query, nothing written), Prometheus reached by URL or through the cluster, the impact
//! computed, the document (or JSON) written whole.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::{DocumentFormat, PostmortemArgs};
use crate::exit::{CommandOutcome, UsageError};
use crate::incident::postmortem::impact::Window;
use crate::incident::postmortem::incident::{self, TEMPLATE};
use crate::incident::postmortem::{self as pm, blameless, Postmortem, PostmortemError};
use crate::profile::slo::Slo;
use crate::prometheus::Client;
use crate::time::parse_instant;

/// Clock skew tolerated on `--to` (a laptop slightly ahead of Prometheus).
const FUTURE_SKEW_SECS: f64 = 60.0;

pub fn run(args: PostmortemArgs) -> Result<CommandOutcome> {
    if args.template {
        emit(&args, TEMPLATE)?;
        return Ok(CommandOutcome::Success);
    }
    let time = |flag: &str, value: &Option<String>| -> Result<f64> {
        let text = value.as_deref().unwrap_or_default();
        parse_instant(text).map_err(|e| UsageError(format!("{flag}: {e}")).into())
    };
    let (from, to) = (time("--from", &args.from)?, time("--to", &args.to)?);
    let now = crate::time::now_unix();
    if to <= from {
        return Err(UsageError("--to must be later than --from".into()).into());
    }
    if to - from < 60.0 {
        return Err(UsageError(
            "the incident window (--from to --to) must be at least 1m: Prometheus needs two samples in it".into(),
        )
        .into());
    }
    if to > now + FUTURE_SKEW_SECS {
        return Err(UsageError(format!(
            "--to is in the future ({}); a postmortem is written once the incident is over",
            args.to.as_deref().unwrap_or_default()
        ))
        .into());
    }
    if let Some(path) = &args.out {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) || path.is_dir() {
            return Err(UsageError(format!(
                "--out: cannot write {}: its directory does not exist or it is a directory",
                path.display()
            ))
            .into());
        }
    }
    let loaded = args
        .incident
        .as_deref()
        .map(incident::load)
        .transpose()
        .map_err(|e| UsageError(format!("--incident: {e}")))?;
    let warnings: Vec<blameless::Warning> = loaded
        .as_ref()
        .map(|l| blameless::check(&l.incident, &l.root))
        .unwrap_or_default();
    for w in &warnings {
        eprintln!("warning: {w}");
    }

    let profile = super::load_profile(&args.profile.profile)?;
    let slos = pick_slos(&profile.stack.slos, &args.slo, profile.stack.name.as_ref())?;
    let window = Window { from, to };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let computed = runtime.block_on(async {
        // `_forward` is held until the queries are done: dropping it closes the port-forward.
        let (client, _forward) = match &args.prometheus_url {
            Some(url) => (
                Client::new(url, args.timeout.as_std())
                    .map_err(|e| UsageError(format!("--prometheus-url: {e}")))?,
                None,
            ),
            None => {
                let (client, forward) = through_cluster(&args, &profile).await?;
                (client, Some(forward))
            }
        };
        let checked = pm::check_retention(&client, &slos, window, now)
            .await
            .map_err(usage_if_retention)?;
        if !checked {
            eprintln!(
                "note: Prometheus at {} reports no time-based retention; the SLO windows are assumed to be covered",
                client.url()
            );
        }
        let impacts = pm::compute(&client, &slos, &profile.stack.policy, window, now)
            .await
            .map_err(usage_if_retention)?;
        anyhow::Ok((client.url().to_string(), impacts))
    })?;
    let (prometheus_url, impacts) = computed;
    let postmortem = Postmortem {
        prometheus_url,
        window,
        incident: loaded.map(|l| l.incident),
        slos: impacts,
        warnings,
    };
    let text = match args.output {
        DocumentFormat::Markdown => postmortem.markdown(),
        DocumentFormat::Json => {
            serde_json::to_string_pretty(&postmortem.json()).context("serializing")? + "\n"
        }
        DocumentFormat::Yaml => yaml_serde::to_string(&postmortem.json()).context("serializing")?,
    };
    emit(&args, &text)?;
    if postmortem.lacks_data() {
        for s in postmortem.slos.iter().filter(|s| s.lacks_data()) {
            for note in &s.notes {
                eprintln!("{}: {note}", s.name);
            }
        }
        return Ok(CommandOutcome::Failures);
    }
    Ok(CommandOutcome::Success)
}

fn usage_if_retention(e: PostmortemError) -> anyhow::Error {
    match e {
        PostmortemError::BeyondRetention { .. } => UsageError(e.to_string()).into(),
        PostmortemError::Query(q) => anyhow::Error::new(q).context("querying Prometheus"),
    }
}

/// Writes to `--out` (whole or not at all) or stdout.
fn emit(args: &PostmortemArgs, text: &str) -> Result<()> {
    match &args.out {
        Some(path) => {
            crate::output::write_atomically(path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// The profile's SLOs named by `--slo`, in the order given; unknown names exit 2 with a
/// suggestion.
fn pick_slos<'a>(all: &'a [Slo], names: &[String], profile: &str) -> Result<Vec<&'a Slo>> {
    let known: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    let mut out: Vec<&Slo> = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        match all.iter().find(|s| s.name.as_str() == name) {
            Some(slo) if !out.iter().any(|o| o.name == slo.name) => out.push(slo),
            Some(_) => {}
            None => {
                let hint = crate::suggest::closest(name, &known)
                    .map(|b| format!("did you mean `{b}`? "))
                    .unwrap_or_default();
                let list = if known.is_empty() {
                    "it has none".to_string()
                } else {
                    format!("it has: {}", known.join(", "))
                };
                return Err(UsageError(format!(
                    "--slo: profile `{profile}` has no SLO `{name}`; {hint}({list})"
                ))
                .into());
            }
        }
    }
    if out.is_empty() {
        return Err(UsageError("--slo: name at least one SLO of the profile".into()).into());
    }
    Ok(out)
}

/// A port-forward to the profile's Prometheus Service, like `verify`.
async fn through_cluster(
    args: &PostmortemArgs,
    profile: &crate::profile::Profile,
) -> Result<(Client, crate::cluster::port_forward::PortForward)> {
    let rendered = crate::render::render(profile)
        .with_context(|| format!("rendering profile `{}`", profile.stack.name))?;
    let svc = &rendered.endpoints.prometheus;
    let (kube, _) = crate::cluster::connect(
        args.cluster.kubeconfig.as_deref(),
        args.cluster.context.as_deref(),
    )
    .await
    .with_context(|| {
        format!("no --prometheus-url, and the cluster is unreachable for a port-forward to {svc}")
    })?;
    let forward = tokio::time::timeout(
        args.timeout.as_std(),
        crate::cluster::port_forward::forward(kube, &svc.namespace, &svc.name, svc.port),
    )
    .await
    .map_err(|_| anyhow::anyhow!("port-forward to {svc}: no answer within {}", args.timeout))?
    .with_context(|| format!("port-forward to {svc} (or pass --prometheus-url)"))?;
    let client = Client::new(
        &format!("http://{}", forward.local_addr()),
        args.timeout.as_std(),
    )?;
    Ok((client, forward))
}
