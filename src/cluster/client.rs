//! Connecting like kubectl does: `--kubeconfig`, else $KUBECONFIG, else ~/.kube/config; `--context`,
//! else the kubeconfig's current context.

use std::path::Path;
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Which cluster and context a client talks to, for the line printed before anything changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub context: String,
    pub cluster_url: String,
}

/// Bound on connecting and on each API request: a dead API server fails fast with its URL named.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client for the chosen kubeconfig and context.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> anyhow::Result<(Client, Target)> {
    use anyhow::Context as _;
    let kubeconfig = match kubeconfig {
        Some(path) => Kubeconfig::read_from(path)
            .with_context(|| format!("reading kubeconfig {}", path.display()))?,
        None => Kubeconfig::read()
            .context("reading the kubeconfig ($KUBECONFIG or ~/.kube/config); pass --kubeconfig")?,
    };
    let current = context
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone())
        .context("the kubeconfig has no current context; pass --context")?;
    if !kubeconfig.contexts.iter().any(|c| c.name == current) {
        let known: Vec<_> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        anyhow::bail!(
            "context `{current}` is not in the kubeconfig (known: {})",
            known.join(", ")
        );
    }
    let options = KubeConfigOptions {
        context: Some(current.clone()),
        ..Default::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .with_context(|| format!("loading context `{current}` from the kubeconfig"))?;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(REQUEST_TIMEOUT);
    config.write_timeout = Some(REQUEST_TIMEOUT);
    let target = Target {
        context: current,
        cluster_url: config.cluster_url.to_string(),
    };
    let client = Client::try_from(config)
        .with_context(|| format!("building a client for {}", target.cluster_url))?;
    Ok((client, target))
}
