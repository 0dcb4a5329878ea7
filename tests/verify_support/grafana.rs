//! The fake Grafana: health, provisioned datasources and their health checks, and the datasource
//! proxy to the fake Loki and Tempo.

use std::sync::Mutex;

use base64::Engine as _;
use serde_json::{json, Value};
use wiremock::{Request, ResponseTemplate};

use super::{
    loki::loki_answer, tempo::tempo_answer, Behaviour, State, GRAFANA_PASSWORD, GRAFANA_USER,
    PROFILE,
};

/// The datasources as Grafana holds them after provisioning the rendered values: `$$` expanded to
/// `$`, numeric ids added, read-only.
pub(super) fn provisioned_datasources(b: &Behaviour) -> Vec<Value> {
    let profile = obsctl::profile::load(PROFILE).unwrap();
    let rendered = obsctl::render::render(&profile).unwrap();
    let kps =
        serde_json::to_value(&rendered.release("kube-prometheus-stack").unwrap().values).unwrap();
    let text = serde_json::to_string(&kps["grafana"]["additionalDataSources"]).unwrap();
    let mut list: Vec<Value> = serde_json::from_str(&text.replace("$$", "$")).unwrap();
    for (i, ds) in list.iter_mut().enumerate() {
        ds["id"] = json!(i + 1);
        ds["orgId"] = json!(1);
        ds["readOnly"] = json!(true);
        if let Some(s) = ds.as_object_mut() {
            s.remove("secureJsonData");
        }
    }
    if let Some((uid, pointer, value)) = &b.link_override {
        let ds = list.iter_mut().find(|d| d["uid"] == uid.as_str()).unwrap();
        *ds.pointer_mut(pointer).expect("the overridden link exists") = value.clone();
    }
    list
}

fn authorized(req: &Request) -> bool {
    let want = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{GRAFANA_USER}:{GRAFANA_PASSWORD}"))
    );
    req.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == want || v == "Bearer glsa_test_token")
}

/// Grafana: `/api/health`, `/api/datasources[/uid/<uid>[/health]]`, and the datasource proxy to
/// the fake Loki and Tempo.
pub(super) fn grafana_answer(
    state: &Mutex<State>,
    b: &Behaviour,
    datasources: &[Value],
    req: &Request,
) -> ResponseTemplate {
    let path = req.url.path();
    if path == "/api/health" {
        return ResponseTemplate::new(200)
            .set_body_json(json!({"commit": "abc123", "database": "ok", "version": "12.1.0"}));
    }
    if b.grafana_rejects_credentials || !authorized(req) {
        return ResponseTemplate::new(401).set_body_json(json!({"message": "Unauthorized"}));
    }
    if path == "/api/datasources" {
        return ResponseTemplate::new(200).set_body_json(datasources);
    }
    if let Some(rest) = path.strip_prefix("/api/datasources/proxy/uid/") {
        let (uid, _) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = format!("/api/datasources/proxy/uid/{uid}");
        return match datasources
            .iter()
            .find(|d| d["uid"] == uid)
            .and_then(|d| d["type"].as_str())
        {
            Some("loki") => loki_answer(state, b, req, Some(&prefix)),
            Some("tempo") => tempo_answer(state, b, req, Some(&prefix)),
            Some(_) => ResponseTemplate::new(502),
            None => ResponseTemplate::new(404)
                .set_body_json(json!({"message": "Data source not found"})),
        };
    }
    if let Some(rest) = path.strip_prefix("/api/datasources/uid/") {
        let (uid, health) = match rest.strip_suffix("/health") {
            Some(uid) => (uid, true),
            None => (rest, false),
        };
        let Some(ds) = datasources.iter().find(|d| d["uid"] == uid) else {
            return ResponseTemplate::new(404)
                .set_body_json(json!({"message": "Data source not found"}));
        };
        if !health {
            return ResponseTemplate::new(200).set_body_json(ds);
        }
        let answer = if b.unhealthy.iter().any(|u| u == uid) {
            ResponseTemplate::new(400).set_body_json(json!({
                "status": "ERROR",
                "message": format!("Unable to connect with {}. Please check the server logs for more details.", ds["name"].as_str().unwrap_or(uid)),
            }))
        } else {
            ResponseTemplate::new(200).set_body_json(json!({
                "status": "OK",
                "message": "Data source successfully connected.",
            }))
        };
        return answer.set_delay(b.grafana_health + b.latency);
    }
    ResponseTemplate::new(404).set_body_json(json!({"message": "Not found"}))
}
