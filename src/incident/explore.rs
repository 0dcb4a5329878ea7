//! Grafana Explore deep links: one click opens a datasource with a query and a time range
//! (Grafana 10 and later: `/explore?schemaVersion=1&panes=<url-encoded JSON>&orgId=1`).

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::json;

/// A datasource Explore opens, by its fixed uid and type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datasource {
    pub uid: &'static str,
    pub kind: &'static str,
}

/// Metrics, logs and traces, with the uids the render provisions.
pub const PROMETHEUS: Datasource = Datasource {
    uid: crate::render::datasources::PROMETHEUS_UID,
    kind: "prometheus",
};
pub const LOKI: Datasource = Datasource {
    uid: crate::render::datasources::LOKI_UID,
    kind: "loki",
};
pub const TEMPO: Datasource = Datasource {
    uid: crate::render::datasources::TEMPO_UID,
    kind: "tempo",
};

/// The Explore address of `query` on `ds` over the last `range` (e.g. `1h`), under `grafana`.
pub fn link(grafana: &str, ds: Datasource, query: &str, range: &str) -> String {
    let datasource = json!({"type": ds.kind, "uid": ds.uid});
    // Tempo reads TraceQL from `query`; Prometheus and Loki read `expr`.
    let target = if ds == TEMPO {
        json!({"refId": "A", "datasource": datasource, "queryType": "traceql", "query": query})
    } else {
        json!({"refId": "A", "datasource": datasource, "expr": query})
    };
    let panes = json!({"a": {
        "datasource": ds.uid,
        "queries": [target],
        "range": {"from": format!("now-{range}"), "to": "now"},
    }});
    let encoded = utf8_percent_encode(&panes.to_string(), NON_ALPHANUMERIC).to_string();
    format!(
        "{}/explore?schemaVersion=1&panes={encoded}&orgId=1",
        grafana.trim_end_matches('/')
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The datasource uid and query a link opens, read back the way Grafana reads them.
    pub(crate) fn open(link: &str) -> (String, String) {
        let url = url::Url::parse(link).unwrap();
        assert_eq!(url.path(), "/explore");
        let panes = url
            .query_pairs()
            .find(|(k, _)| k == "panes")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let panes: serde_json::Value = serde_json::from_str(&panes).unwrap();
        let pane = &panes["a"];
        let q = &pane["queries"][0];
        assert_eq!(q["datasource"]["uid"], pane["datasource"]);
        let text = q["expr"].as_str().or(q["query"].as_str()).unwrap();
        (
            pane["datasource"].as_str().unwrap().to_string(),
            text.to_string(),
        )
    }

    #[test]
    fn queries_survive_the_round_trip_through_the_url() {
        let q =
            r#"sum by (code) (rate(http_requests_total{job="a",code=~"5.."}[5m])) / 2 + 1 & # ?"#;
        let l = link("https://g.example.org/", PROMETHEUS, q, "1h");
        assert!(
            l.starts_with("https://g.example.org/explore?schemaVersion=1&panes=%7B"),
            "{l}"
        );
        assert!(!l.contains(' ') && !l.contains('"') && !l.contains('{'));
        assert_eq!(open(&l), ("prometheus".to_string(), q.to_string()));
        let t = r#"{ resource.service.name = "a" && status = error }"#;
        let l = link("http://g", TEMPO, t, "30m");
        assert_eq!(open(&l), ("tempo".to_string(), t.to_string()));
        assert!(url::Url::parse(&l)
            .unwrap()
            .query_pairs()
            .any(|(_, v)| v.contains("\"queryType\":\"traceql\"")));
    }
}
