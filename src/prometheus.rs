//! A minimal client for Prometheus' instant-query API (`GET /api/v1/query`: instant vectors, and
//! the raw samples of a range selector) and its retention (`/api/v1/status/runtimeinfo`), bounded
//! by a timeout, with errors that name the endpoint and the query.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("`{0}` is not an http(s) URL; expected e.g. `http://127.0.0.1:9090`")]
    BadUrl(String),
    #[error("cannot reach Prometheus at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("Prometheus at {url} did not answer within {seconds}s")]
    Timeout { url: String, seconds: u64 },
    #[error("Prometheus at {url} answered HTTP {status} to `{query}`: {body}")]
    Status {
        url: String,
        status: u16,
        query: String,
        body: String,
    },
    #[error("Prometheus at {url} refused `{query}`: {kind}: {message}")]
    Refused {
        url: String,
        query: String,
        kind: String,
        message: String,
    },
    #[error(
        "Prometheus at {url} sent an answer to `{query}` that is not an instant vector: {reason}"
    )]
    Decode {
        url: String,
        query: String,
        reason: String,
    },
}

/// One sample of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// One series of a range vector: its labels and its raw samples (unix seconds, value), oldest
/// first.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub samples: Vec<(f64, f64)>,
}

#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    timeout: Duration,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct MatrixItem {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
struct RuntimeInfo {
    #[serde(default, rename = "storageRetention")]
    storage_retention: Option<String>,
}

#[derive(Deserialize)]
struct VectorItem {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

impl Client {
    /// A client for `url` (`http://host:9090`, optionally with a path prefix such as `/prometheus`).
    pub fn new(url: &str, timeout: Duration) -> Result<Client, QueryError> {
        let base = url.trim_end_matches('/').to_string();
        let valid = (base.starts_with("http://") || base.starts_with("https://"))
            && reqwest::Url::parse(&base).is_ok_and(|u| u.host().is_some());
        if !valid {
            return Err(QueryError::BadUrl(url.to_string()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| QueryError::Unreachable {
                url: base.clone(),
                reason: e.to_string(),
            })?;
        Ok(Client {
            http,
            base,
            timeout,
        })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// Evaluates `query` at `time` (unix seconds; Prometheus' now when `None`).
    pub async fn query(&self, query: &str, time: Option<f64>) -> Result<Vec<Sample>, QueryError> {
        let data = self.fetch(query, time).await?;
        self.decode(query, data)
    }

    /// The raw samples a range selector (`metric{…}[2h]`) selects at `time`: an instant query
    /// whose answer is a matrix.
    pub async fn query_samples(&self, query: &str, time: f64) -> Result<Vec<Series>, QueryError> {
        let data = self.fetch(query, Some(time)).await?;
        if data.result_type != "matrix" {
            return Err(self.decode_error(
                query,
                &format!(
                    "result type `{}`, expected a range vector",
                    data.result_type
                ),
            ));
        }
        let items: Vec<MatrixItem> = serde_json::from_value(data.result)
            .map_err(|e| self.decode_error(query, &e.to_string()))?;
        items
            .into_iter()
            .map(|item| {
                let samples = item
                    .values
                    .iter()
                    .map(|(t, text)| {
                        parse_value(text)
                            .map(|v| (*t, v))
                            .ok_or_else(|| self.decode_error(query, &format!("value `{text}`")))
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Series {
                    labels: item.metric,
                    samples,
                })
            })
            .collect()
    }

    /// How long Prometheus keeps data, as it reports it (`15d`, `10GiB`, `15d or 10GiB`); `None`
    /// when the server has no runtime-info endpoint (some Prometheus-compatible stores).
    pub async fn retention(&self) -> Result<Option<String>, QueryError> {
        let url = format!("{}/api/v1/status/runtimeinfo", self.base);
        let what = "runtime info";
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = response.text().await.map_err(|e| self.transport_error(e))?;
        if !status.is_success() {
            return Err(QueryError::Status {
                url: self.base.clone(),
                status: status.as_u16(),
                query: what.into(),
                body: body.chars().take(200).collect(),
            });
        }
        #[derive(Deserialize)]
        struct Answer {
            data: RuntimeInfo,
        }
        let answer: Answer =
            serde_json::from_str(&body).map_err(|e| self.decode_error(what, &e.to_string()))?;
        Ok(answer
            .data
            .storage_retention
            .filter(|r| !r.trim().is_empty()))
    }

    async fn fetch(&self, query: &str, time: Option<f64>) -> Result<Data, QueryError> {
        let mut params = vec![("query", query.to_string())];
        if let Some(t) = time {
            params.push(("time", format!("{t:.3}")));
        }
        let url = format!("{}/api/v1/query", self.base);
        let response = self
            .http
            .get(&url)
            .query(&params)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| self.transport_error(e))?;
        let envelope: Result<Envelope, _> = serde_json::from_str(&body);
        match envelope {
            Ok(Envelope {
                status: s,
                error_type,
                error,
                ..
            }) if s == "error" => Err(QueryError::Refused {
                url: self.base.clone(),
                query: query.to_string(),
                kind: error_type.unwrap_or_else(|| "error".into()),
                message: error.unwrap_or_default(),
            }),
            Ok(Envelope {
                data: Some(data), ..
            }) if status.is_success() => Ok(data),
            _ if !status.is_success() => Err(QueryError::Status {
                url: self.base.clone(),
                status: status.as_u16(),
                query: query.to_string(),
                body: body.chars().take(200).collect(),
            }),
            Ok(_) => Err(self.decode_error(query, "no `data`")),
            Err(e) => Err(self.decode_error(query, &e.to_string())),
        }
    }

    fn decode(&self, query: &str, data: Data) -> Result<Vec<Sample>, QueryError> {
        match data.result_type.as_str() {
            "vector" => {
                let items: Vec<VectorItem> = serde_json::from_value(data.result)
                    .map_err(|e| self.decode_error(query, &e.to_string()))?;
                items
                    .into_iter()
                    .map(|item| {
                        let value = parse_value(&item.value.1).ok_or_else(|| {
                            self.decode_error(query, &format!("value `{}`", item.value.1))
                        })?;
                        Ok(Sample {
                            labels: item.metric,
                            value,
                        })
                    })
                    .collect()
            }
            "scalar" => {
                let (_, text): (f64, String) = serde_json::from_value(data.result)
                    .map_err(|e| self.decode_error(query, &e.to_string()))?;
                let value = parse_value(&text)
                    .ok_or_else(|| self.decode_error(query, &format!("value `{text}`")))?;
                Ok(vec![Sample {
                    labels: BTreeMap::new(),
                    value,
                }])
            }
            other => Err(self.decode_error(query, &format!("result type `{other}`"))),
        }
    }

    fn transport_error(&self, e: reqwest::Error) -> QueryError {
        if e.is_timeout() {
            QueryError::Timeout {
                url: self.base.clone(),
                seconds: self.timeout.as_secs(),
            }
        } else {
            // reqwest's Display hides the cause ("error sending request") and carries the whole
            // URL-encoded query; without the URL, the chain names the cause, each part once.
            let e = e.without_url();
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                let text = s.to_string();
                if !reason.contains(&text) {
                    reason = format!("{reason}: {text}");
                }
                source = s.source();
            }
            QueryError::Unreachable {
                url: self.base.clone(),
                reason,
            }
        }
    }

    fn decode_error(&self, query: &str, reason: &str) -> QueryError {
        QueryError::Decode {
            url: self.base.clone(),
            query: query.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Prometheus writes sample values as strings, including `NaN`, `+Inf` and `-Inf`.
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn client(url: &str) -> Client {
        Client::new(url, Duration::from_secs(5)).unwrap()
    }

    #[tokio::test]
    async fn vectors_and_scalars_decode_with_special_values() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/query"))
            .and(query_param("query", "up"))
            .and(query_param("time", "1700000000.000"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "status": "success",
                "data": {"resultType": "vector", "result": [
                    {"metric": {"job": "a"}, "value": [1700000000, "1"]},
                    {"metric": {"job": "b"}, "value": [1700000000, "NaN"]},
                ]}
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/query"))
            .and(query_param("query", "1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "status": "success", "data": {"resultType": "scalar", "result": [1, "+Inf"]}
            })))
            .mount(&server)
            .await;
        let c = client(&server.uri());
        let v = c.query("up", Some(1_700_000_000.0)).await.unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].labels["job"], "a");
        assert_eq!(v[0].value, 1.0);
        assert!(v[1].value.is_nan());
        let s = c.query("1", None).await.unwrap();
        assert_eq!(s[0].value, f64::INFINITY);
    }

    #[tokio::test]
    async fn refusals_name_the_endpoint_and_the_query() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "status": "error", "errorType": "bad_data", "error": "parse error at char 3"
            })))
            .mount(&server)
            .await;
        let err = client(&server.uri()).query("up{", None).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&server.uri()), "{text}");
        assert!(
            text.contains("`up{`") && text.contains("bad_data: parse error"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn unreachable_and_slow_endpoints_fail_in_bounded_time() {
        // A port nothing listens on (bound, then released).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let err = client(&url).query("up", None).await.unwrap_err();
        assert!(matches!(err, QueryError::Unreachable { .. }), "{err}");
        assert!(err.to_string().contains(&url));

        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
            .mount(&server)
            .await;
        let slow = Client::new(&server.uri(), Duration::from_millis(300)).unwrap();
        let started = std::time::Instant::now();
        let err = slow.query("up", None).await.unwrap_err();
        assert!(matches!(err, QueryError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn range_selectors_decode_to_raw_samples_and_retention_is_read() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/query"))
            .and(query_param("query", "ALERTS[1h]"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "status": "success",
                "data": {"resultType": "matrix", "result": [
                    {"metric": {"severity": "critical"}, "values": [[1700000000, "1"], [1700000030.5, "1"]]},
                ]}
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/query"))
            .and(query_param("query", "up"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "status": "success", "data": {"resultType": "vector", "result": []}
            })))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/status/runtimeinfo"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "status": "success", "data": {"storageRetention": "15d or 10GiB"}
            })))
            .mount(&server)
            .await;
        let c = client(&server.uri());
        let m = c
            .query_samples("ALERTS[1h]", 1_700_000_100.0)
            .await
            .unwrap();
        assert_eq!(m[0].labels["severity"], "critical");
        assert_eq!(
            m[0].samples,
            vec![(1_700_000_000.0, 1.0), (1_700_000_030.5, 1.0)]
        );
        let err = c.query_samples("up", 1.0).await.unwrap_err();
        assert!(err.to_string().contains("expected a range vector"), "{err}");
        assert_eq!(
            c.retention().await.unwrap().as_deref(),
            Some("15d or 10GiB")
        );
        let empty = MockServer::start().await;
        assert_eq!(client(&empty.uri()).retention().await.unwrap(), None);
    }

    #[test]
    fn urls_must_be_http() {
        for bad in ["localhost:9090", "ftp://x", "http://", ""] {
            assert!(Client::new(bad, Duration::from_secs(1)).is_err(), "{bad}");
        }
        assert_eq!(
            client("http://127.0.0.1:9090/").url(),
            "http://127.0.0.1:9090"
        );
    }
}
