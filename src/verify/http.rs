//! HTTP probes: every request is bounded by the run's deadline, and every error names the
//! endpoint (without credentials) and what went wrong.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

/// A base URL and the client that reaches it.
#[derive(Clone)]
pub struct Endpoint {
    pub base: reqwest::Url,
    client: reqwest::Client,
    /// Whether anything ever answered here (shared by clones): a refused connection before
    /// that is a component still starting, after it a component gone.
    answered: Arc<AtomicBool>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Endpoint({})", redact_url(&self.base))
    }
}

/// An HTTP answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// The request, for messages: `GET http://…/path`.
    pub request: String,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ProbeError> {
        serde_json::from_slice(&self.body).map_err(|e| ProbeError::Body {
            request: self.request.clone(),
            reason: format!("not the expected JSON ({e}): {}", self.snippet()),
        })
    }

    /// The start of the body, on one line, for error messages.
    pub fn snippet(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.chars().count() > 160 {
            format!("{}…", line.chars().take(160).collect::<String>())
        } else {
            line
        }
    }

    pub fn unexpected(&self) -> ProbeError {
        ProbeError::Status {
            request: self.request.clone(),
            status: self.status,
            body: self.snippet(),
        }
    }
}

/// Why a probe got no usable answer.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProbeError {
    #[error("{request}: no answer within {after}")]
    Timeout { request: String, after: String },
    #[error("{request}: {reason}")]
    Connect { request: String, reason: String },
    #[error("{request}: answered {status}{}", if .body.is_empty() { String::new() } else { format!(": {}", .body) })]
    Status {
        request: String,
        status: StatusCode,
        body: String,
    },
    #[error("{request}: {reason}")]
    Body { request: String, reason: String },
}

/// A request to send: method, path (joined to the base URL), query, headers, body.
pub struct Call<'a> {
    method: Method,
    path: &'a str,
    query: Vec<(&'a str, String)>,
    headers: Vec<(&'static str, String)>,
    json: Option<&'a serde_json::Value>,
}

impl<'a> Call<'a> {
    pub fn get(path: &'a str) -> Self {
        Call {
            method: Method::GET,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            json: None,
        }
    }

    pub fn post_json(path: &'a str, body: &'a serde_json::Value) -> Self {
        Call {
            method: Method::POST,
            json: Some(body),
            ..Call::get(path)
        }
    }

    pub fn query(mut self, key: &'a str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// An optional header (a tenant, a credential).
    pub fn header_opt(self, name: &'static str, value: Option<String>) -> Self {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }
}

impl Endpoint {
    /// `direct` skips any HTTP proxy from the environment: port-forwards listen on loopback.
    pub fn new(base: reqwest::Url, direct: bool) -> Self {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("obsctl/", env!("CARGO_PKG_VERSION"), " verify"))
            .pool_idle_timeout(Duration::from_secs(30));
        if direct {
            builder = builder.no_proxy();
        }
        Endpoint {
            base,
            // Building a client only fails when the TLS backend cannot initialise.
            client: builder.build().unwrap_or_else(|_| reqwest::Client::new()),
            answered: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether any request here got an HTTP answer (of any status).
    pub fn has_answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed)
    }

    /// The URL of `path` below the base (a base with a path prefix keeps it).
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.base.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// Sends one request; gives up at `deadline`.
    pub async fn send(&self, call: Call<'_>, deadline: Instant) -> Result<Answer, ProbeError> {
        let url = self.url(call.path);
        let request = format!(
            "{} {}",
            call.method,
            redact_url(&reqwest::Url::parse(&url).unwrap_or_else(|_| self.base.clone()))
        );
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(ProbeError::Timeout {
                request,
                after: "the run's timeout (already spent)".into(),
            });
        }
        let mut builder = self
            .client
            .request(call.method.clone(), &url)
            .timeout(remaining);
        if !call.query.is_empty() {
            builder = builder.query(&call.query);
        }
        for (name, value) in &call.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = call.json {
            builder = builder.json(body);
        }
        let started = Instant::now();
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                ProbeError::Timeout {
                    request: request.clone(),
                    after: format_duration(started.elapsed()),
                }
            } else {
                ProbeError::Connect {
                    request: request.clone(),
                    reason: root_cause(&e),
                }
            }
        };
        let response = builder.send().await.map_err(classify)?;
        self.answered.store(true, Ordering::Relaxed);
        let status = response.status();
        let body = response.bytes().await.map_err(classify)?.to_vec();
        Ok(Answer {
            status,
            body,
            request,
        })
    }
}

/// The innermost cause of an error, which is the one that says what happened ("Connection
/// refused (os error 111)").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    if text.is_empty() {
        error.to_string()
    } else {
        text
    }
}

/// A URL with any password replaced, for messages.
pub fn redact_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

/// `850ms`, `2.5s`, `30s`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_below_a_base_path_and_passwords_never_show() {
        let ep = Endpoint::new(
            "http://grafana.example.com/grafana/".parse().unwrap(),
            false,
        );
        assert_eq!(
            ep.url("/api/health"),
            "http://grafana.example.com/grafana/api/health"
        );
        let url: reqwest::Url = "http://admin:s3cret@127.0.0.1:3000/".parse().unwrap();
        assert_eq!(redact_url(&url), "http://admin:***@127.0.0.1:3000/");
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_endpoint() {
        // Bind then drop: nothing listens on this port any more.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ep = Endpoint::new(format!("http://127.0.0.1:{port}").parse().unwrap(), true);
        let err = ep
            .send(
                Call::get("/-/ready"),
                Instant::now() + Duration::from_secs(5),
            )
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("GET http://127.0.0.1:{port}/-/ready: ")),
            "{text}"
        );
        assert!(matches!(err, ProbeError::Connect { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn a_silent_server_times_out_at_the_deadline() {
        // Accepts connections (the kernel's backlog does) and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let ep = Endpoint::new(format!("http://127.0.0.1:{port}").parse().unwrap(), true);
        let started = Instant::now();
        let err = ep
            .send(
                Call::get("/api/health"),
                Instant::now() + Duration::from_millis(300),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::Timeout { .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(err.to_string().contains("no answer within"), "{err}");
        drop(listener);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_millis(2500)), "2.5s");
    }
}
