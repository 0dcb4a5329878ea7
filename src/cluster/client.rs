//! Connecting like kubectl does: `--kubeconfig`, else $KUBECONFIG, else ~/.kube/config; `--context`,
//! else the kubeconfig's current context.

use std::path::{Path, PathBuf};
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

/// A kubeconfig that is missing, unreadable, or lacks the context asked for: bad input (exit 2),
/// with the path and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KubeconfigError(pub String);

/// Reads the kubeconfig like kubectl (`--kubeconfig`, else every file of $KUBECONFIG, else
/// ~/.kube/config) and picks the context (`--context`, else the current one).
pub fn load_kubeconfig(
    explicit: Option<&Path>,
    context: Option<&str>,
) -> Result<(Kubeconfig, String), KubeconfigError> {
    let env = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty());
    let (paths, origin): (Vec<PathBuf>, &str) = match (explicit, &env) {
        (Some(path), _) => (vec![path.to_path_buf()], "--kubeconfig"),
        (None, Some(list)) => (std::env::split_paths(list).collect(), "$KUBECONFIG"),
        (None, None) => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            (vec![home.join(".kube/config")], "the default")
        }
    };
    let hint =
        "point obsctl at a cluster with --kubeconfig FILE or $KUBECONFIG, and --context NAME";
    let mut merged: Option<Kubeconfig> = None;
    for path in paths.iter().filter(|p| p.is_file() || paths.len() == 1) {
        let read = Kubeconfig::read_from(path).map_err(|e| {
            KubeconfigError(format!(
                "kubeconfig {} ({origin}): {}; {hint}",
                path.display(),
                innermost_cause(&e)
            ))
        })?;
        merged = Some(match merged {
            None => read,
            Some(base) => base.merge(read).map_err(|e| {
                KubeconfigError(format!(
                    "kubeconfig {}: {}",
                    path.display(),
                    innermost_cause(&e)
                ))
            })?,
        });
    }
    let listed = || {
        paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kubeconfig = merged.ok_or_else(|| {
        KubeconfigError(format!("no kubeconfig at {} ({origin}); {hint}", listed()))
    })?;
    let current = context
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone().filter(|c| !c.is_empty()))
        .ok_or_else(|| {
            KubeconfigError(format!(
                "kubeconfig {} has no current context; pass --context NAME or run `kubectl config use-context NAME`",
                listed()
            ))
        })?;
    if !kubeconfig.contexts.iter().any(|c| c.name == current) {
        let known: Vec<_> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        return Err(KubeconfigError(format!(
            "context `{current}` is not in kubeconfig {} (known: {})",
            listed(),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    Ok((kubeconfig, current))
}

/// The last error of a chain: kube's errors repeat their source in their own message
/// (`…: No such file or directory (os error 2): No such file or directory`), and quote paths
/// with `Debug`; the innermost cause says it once.
fn innermost_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A client for the chosen kubeconfig and context.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> anyhow::Result<(Client, Target)> {
    use anyhow::Context as _;
    let (kubeconfig, current) = load_kubeconfig(kubeconfig, context)?;
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

/// Whether the API server answers at all: any HTTP answer (even a 403 or 404) is an answer; a
/// refused connection, a failed DNS lookup or TLS handshake, or silence within `within` is not.
/// Returns what went wrong, in an operator's words, with the server's address.
pub async fn unreachable(client: &Client, target: &Target, within: Duration) -> Option<String> {
    let url = target.cluster_url.trim_end_matches('/');
    match tokio::time::timeout(within, client.apiserver_version()).await {
        Ok(Ok(_)) | Ok(Err(kube::Error::Api(_))) => None,
        Ok(Err(e)) => Some(format!(
            "the Kubernetes API at {url} does not answer: {}",
            super::workloads::describe(&e)
        )),
        Err(_) => Some(format!(
            "the Kubernetes API at {url} did not answer within {}s",
            within.as_secs()
        )),
    }
}
