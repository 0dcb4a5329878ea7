//! Postmortems: the SLO impact of an incident window computed from Prometheus (`impact`), the
//! incident file people write (`incident`, with the `blameless` check), and the document around
//! them (`document`). Data flows one way: profile SLOs + incident file + Prometheus → impact →
//! document / JSON.

pub(crate) mod blameless;
pub(crate) mod document;
pub(crate) mod impact;
pub mod incident;

use serde::Serialize;

use crate::profile::slo::{Policy, Slo};
use crate::prometheus::{Client, QueryError};
use impact::{At, SloImpact, Window};
use incident::Incident;

/// Everything the document and the JSON are made of.
#[derive(Clone, Debug)]
pub struct Postmortem {
    pub prometheus_url: String,
    pub window: Window,
    pub incident: Option<Incident>,
    pub slos: Vec<SloImpact>,
    pub warnings: Vec<blameless::Warning>,
}

#[derive(Debug, thiserror::Error)]
pub enum PostmortemError {
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The SLO window reaches back past what Prometheus keeps: the figures would be partial.
    #[error(
        "SLO `{slo}`: its {window} window ending at {to} starts at {start}, but Prometheus at {url} keeps only \
         {retention} of data (since about {oldest}); the SLI and budget would be computed from part of the \
         window. Query a Prometheus with longer retention (or a long-term store such as Thanos or Mimir), \
         or pick an earlier incident only if its window is still covered"
    )]
    BeyondRetention {
        slo: String,
        window: String,
        to: At,
        start: At,
        url: String,
        retention: String,
        oldest: At,
    },
}

/// Refuses SLO windows that start before the oldest data Prometheus keeps (`now − retention`).
/// Size-only retention (`10GiB`) cannot be checked; then `Ok(false)` says so.
pub async fn check_retention(
    client: &Client,
    slos: &[&Slo],
    window: Window,
    now: f64,
) -> Result<bool, PostmortemError> {
    let Some(text) = client.retention().await? else {
        return Ok(false);
    };
    let Some(secs) = impact::retention_secs(&text) else {
        return Ok(false);
    };
    let oldest = now - secs as f64;
    for slo in slos {
        let start = window.to - slo.window.as_secs() as f64;
        if start < oldest {
            return Err(PostmortemError::BeyondRetention {
                slo: slo.name.to_string(),
                window: slo.window.to_string(),
                to: At(window.to),
                start: At(start),
                url: client.url().to_string(),
                retention: text,
                oldest: At(oldest),
            });
        }
    }
    Ok(true)
}

/// Computes the impact on each SLO, concurrently. A per-label SLO gets one impact per group
/// that had requests in the window, the group that spent the largest share of its budget first.
pub async fn compute(
    client: &Client,
    slos: &[&Slo],
    policy: &Policy,
    window: Window,
    now: f64,
) -> Result<Vec<SloImpact>, PostmortemError> {
    let mut impacts = Vec::new();
    for slo in slos {
        let groups = impact::groups(client, slo, window).await?;
        let mut of_slo = futures::future::try_join_all(
            groups
                .iter()
                .map(|group| impact::compute(client, group, policy, window, now)),
        )
        .await?;
        of_slo.sort_by(|a, b| {
            let spent = |i: &SloImpact| i.budget.consumed_by_incident.unwrap_or(f64::NEG_INFINITY);
            spent(b).total_cmp(&spent(a))
        });
        impacts.extend(of_slo);
    }
    Ok(impacts)
}

#[derive(Serialize)]
struct Json<'a> {
    title: Option<&'a str>,
    prometheus_url: &'a str,
    from: At,
    to: At,
    slos: &'a [SloImpact],
    warnings: &'a [blameless::Warning],
    #[serde(skip_serializing_if = "Option::is_none")]
    incident_file: Option<&'a Incident>,
}

impl Postmortem {
    /// Whether any SLO lacks the data its figures need (exit code 1).
    pub fn lacks_data(&self) -> bool {
        self.slos.iter().any(SloImpact::lacks_data)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(Json {
            title: self.incident.as_ref().and_then(|i| i.title.as_deref()),
            prometheus_url: &self.prometheus_url,
            from: At(self.window.from),
            to: At(self.window.to),
            slos: &self.slos,
            warnings: &self.warnings,
            incident_file: self.incident.as_ref(),
        })
        .expect("the postmortem serializes")
    }

    pub fn markdown(&self) -> String {
        document::markdown(self)
    }
}

#[cfg(test)]
mod tests;
