//! How verify reaches each component: a URL given on the command line, or a port-forward through
//! the cluster to the Service the render names. Also Grafana's credentials, which come from the
//! environment or from the profile's admin Secret, never from a flag.

use std::fmt;
use std::path::PathBuf;

use super::http::Endpoint;
use super::VerifyInputError;

/// Explicit URLs (`--prometheus-url` …), validated.
#[derive(Clone, Debug, Default)]
pub struct Urls {
    pub prometheus: Option<reqwest::Url>,
    pub alertmanager: Option<reqwest::Url>,
    pub grafana: Option<reqwest::Url>,
    pub loki: Option<reqwest::Url>,
    pub tempo: Option<reqwest::Url>,
    pub tempo_otlp: Option<reqwest::Url>,
}

/// Parses one `--*-url` flag: absolute http(s) with a host, nothing else.
pub fn parse_url(flag: &'static str, value: &str) -> Result<reqwest::Url, VerifyInputError> {
    let bad = |reason: String| VerifyInputError::BadUrl {
        flag,
        value: value.to_string(),
        reason,
    };
    let url = reqwest::Url::parse(value).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!(
            "scheme `{}` is not http or https",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL takes no query or fragment".into()));
    }
    Ok(url)
}

impl Urls {
    /// Tempo's OTLP/HTTP receiver: `--tempo-otlp-url`, else port 4318 of `--tempo-url`'s host.
    pub fn tempo_otlp(&self) -> Option<reqwest::Url> {
        if let Some(url) = &self.tempo_otlp {
            return Some(url.clone());
        }
        let mut url = self.tempo.clone()?;
        url.set_port(Some(4318)).ok()?;
        url.set_path("/");
        Some(url)
    }
}

/// How to reach the Kubernetes API, like kubectl: `--kubeconfig`/`$KUBECONFIG`/`~/.kube/config`,
/// `--context`.
#[derive(Clone, Debug)]
pub struct ClusterAccess {
    pub path: Option<PathBuf>,
    pub context: Option<String>,
}

impl ClusterAccess {
    /// The client, and the API server's address (for messages).
    pub async fn connect(&self) -> Result<(kube::Client, String), String> {
        crate::cluster::connect(self.path.as_deref(), self.context.as_deref())
            .await
            .map(|(client, target)| (client, target.cluster_url))
            .map_err(|e| chain_text(&e))
    }
}

/// An error and its causes on one line, each cause once: kube's errors already repeat their
/// source in their own message.
fn chain_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}

/// Grafana credentials. `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic { user: String, password: String },
    Token(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { user, .. } => write!(f, "Basic({user}, ***)"),
            Credentials::Token(_) => f.write_str("Token(***)"),
        }
    }
}

impl Credentials {
    /// From `GRAFANA_TOKEN`, else `GRAFANA_USER` + `GRAFANA_PASSWORD`, through `get`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let non_empty = |name: &str| get(name).filter(|v| !v.is_empty());
        if let Some(token) = non_empty("GRAFANA_TOKEN") {
            return Some(Credentials::Token(token));
        }
        match (non_empty("GRAFANA_USER"), non_empty("GRAFANA_PASSWORD")) {
            (Some(user), Some(password)) => Some(Credentials::Basic { user, password }),
            _ => None,
        }
    }

    /// The `Authorization` header value.
    pub fn header(&self) -> String {
        use base64::Engine as _;
        match self {
            Credentials::Token(token) => format!("Bearer {token}"),
            Credentials::Basic { user, password } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
        }
    }
}

/// The components verify talks to over HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Prometheus,
    Alertmanager,
    Grafana,
    Loki,
    TempoQuery,
    TempoOtlp,
}

impl Target {
    pub const COUNT: usize = 6;

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn flag(self) -> &'static str {
        match self {
            Target::Prometheus => "--prometheus-url",
            Target::Alertmanager => "--alertmanager-url",
            Target::Grafana => "--grafana-url",
            Target::Loki => "--loki-url",
            Target::TempoQuery => "--tempo-url",
            Target::TempoOtlp => "--tempo-otlp-url",
        }
    }

    pub fn explicit(self, urls: &Urls) -> Option<Endpoint> {
        let url = match self {
            Target::Prometheus => urls.prometheus.clone(),
            Target::Alertmanager => urls.alertmanager.clone(),
            Target::Grafana => urls.grafana.clone(),
            Target::Loki => urls.loki.clone(),
            Target::TempoQuery => urls.tempo.clone(),
            Target::TempoOtlp => urls.tempo_otlp(),
        }?;
        Some(Endpoint::new(url, false))
    }

    /// The Service (name, port) that serves this target inside the cluster.
    pub fn service(self, e: &crate::render::endpoints::Endpoints) -> (String, u16) {
        match self {
            Target::Prometheus => (e.prometheus.name.clone(), e.prometheus.port),
            Target::Alertmanager => (e.alertmanager.name.clone(), e.alertmanager.port),
            Target::Grafana => (e.grafana.name.clone(), e.grafana.port),
            Target::Loki => (e.loki.name.clone(), e.loki.port),
            Target::TempoQuery => (e.tempo_query.name.clone(), e.tempo_query.port),
            // The same Service as gRPC 4317 answers OTLP/HTTP on 4318.
            Target::TempoOtlp => (e.tempo_otlp.name.clone(), 4318),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_absolute_http_with_a_host() {
        assert!(parse_url("--loki-url", "http://127.0.0.1:3100").is_ok());
        assert!(parse_url("--grafana-url", "https://grafana.example.com/grafana").is_ok());
        for bad in [
            "127.0.0.1:3100",
            "loki",
            "ftp://host/",
            "http://",
            "http://h/?a=b",
        ] {
            let err = parse_url("--loki-url", bad).unwrap_err();
            assert!(err.to_string().starts_with("--loki-url: "), "{err}");
        }
    }

    #[test]
    fn tempo_otlp_defaults_to_port_4318_of_the_query_host() {
        let urls = Urls {
            tempo: Some(parse_url("--tempo-url", "http://10.0.0.7:3200/").unwrap()),
            ..Urls::default()
        };
        assert_eq!(urls.tempo_otlp().unwrap().as_str(), "http://10.0.0.7:4318/");
        let urls = Urls {
            tempo_otlp: Some(parse_url("--tempo-otlp-url", "http://otlp:9999").unwrap()),
            ..urls
        };
        assert_eq!(urls.tempo_otlp().unwrap().as_str(), "http://otlp:9999/");
    }

    #[test]
    fn an_error_chain_says_each_cause_once() {
        let e = anyhow::anyhow!("No such file or directory (os error 2)")
            .context("failed to read kubeconfig: No such file or directory (os error 2)")
            .context("reading kubeconfig /nope");
        assert_eq!(
            chain_text(&e),
            "reading kubeconfig /nope: failed to read kubeconfig: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn credentials_prefer_a_token_and_never_show_in_debug() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let both = Credentials::from_env(env(&[
            ("GRAFANA_TOKEN", "glsa_secret"),
            ("GRAFANA_USER", "admin"),
            ("GRAFANA_PASSWORD", "pw-secret"),
        ]))
        .unwrap();
        assert_eq!(both.header(), "Bearer glsa_secret");
        assert!(!format!("{both:?}").contains("secret"));
        let basic = Credentials::from_env(env(&[
            ("GRAFANA_USER", "admin"),
            ("GRAFANA_PASSWORD", "pw-secret"),
        ]))
        .unwrap();
        assert_eq!(basic.header(), "Basic YWRtaW46cHctc2VjcmV0");
        assert!(!format!("{basic:?}").contains("pw-secret"));
        assert_eq!(
            Credentials::from_env(env(&[("GRAFANA_USER", "admin")])),
            None
        );
    }
}
