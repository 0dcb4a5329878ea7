//! Server-side apply (field manager `obsctl`, conflicts forced) of obsctl's own objects and of
//! the Prometheus Operator CRDs, the wait until CRDs are Established, and deleting obsctl's
//! objects again. Nothing outside the profile's namespace is touched, except the CRDs.

use std::time::{Duration, Instant};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::Client;
use serde_json::Value;

/// The field manager of everything obsctl applies.
pub const FIELD_MANAGER: &str = "obsctl";

/// How often a CRD's status is read while waiting for it to be Established.
const ESTABLISHED_POLL: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("object {index} has no {field}")]
    Malformed { index: usize, field: &'static str },
    #[error("refusing to touch {kind} `{name}`: it is outside namespace `{namespace}` (obsctl only changes its own namespace)")]
    OutsideNamespace {
        kind: String,
        name: String,
        namespace: String,
    },
    #[error("{action} {kind} `{name}`: {source}")]
    Api {
        action: &'static str,
        kind: String,
        name: String,
        #[source]
        source: Box<kube::Error>,
    },
    #[error("the chart's CRDs are not valid YAML: {0}")]
    CrdYaml(String),
    #[error("the chart printed no CustomResourceDefinition (`helm show crds` was empty)")]
    NoCrds,
    #[error("CRD{} {} not Established within {}s", if .names.len() > 1 { "s" } else { "" }, .names.join(", "), .after.as_secs())]
    NotEstablished { names: Vec<String>, after: Duration },
}

fn params() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}

/// API resources obsctl applies, so no discovery round trip is needed for them.
fn known_resource(gvk: &GroupVersionKind) -> Option<(ApiResource, bool)> {
    let (plural, namespaced) = match (gvk.group.as_str(), gvk.kind.as_str()) {
        ("", "Namespace") => ("namespaces", false),
        ("", "ConfigMap") => ("configmaps", true),
        ("", "Secret") => ("secrets", true),
        ("", "Service") => ("services", true),
        ("monitoring.coreos.com", "PrometheusRule") => ("prometheusrules", true),
        ("monitoring.coreos.com", "ServiceMonitor") => ("servicemonitors", true),
        ("monitoring.coreos.com", "PodMonitor") => ("podmonitors", true),
        _ => return None,
    };
    Some((ApiResource::from_gvk_with_plural(gvk, plural), namespaced))
}

/// The API of one object, after checking it stays inside `namespace`.
async fn api_for(
    client: &Client,
    namespace: &str,
    object: &Value,
    index: usize,
) -> Result<(Api<DynamicObject>, String, String), ApplyError> {
    let field = |f: &'static str, v: Option<&str>| {
        v.map(str::to_string)
            .ok_or(ApplyError::Malformed { index, field: f })
    };
    let api_version = field("apiVersion", object["apiVersion"].as_str())?;
    let kind = field("kind", object["kind"].as_str())?;
    let name = field("metadata.name", object["metadata"]["name"].as_str())?;
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    let gvk = GroupVersionKind::gvk(group, version, &kind);
    let (resource, namespaced) = match known_resource(&gvk) {
        Some(known) => known,
        None => {
            let (resource, caps) =
                kube::discovery::pinned_kind(client, &gvk)
                    .await
                    .map_err(|source| ApplyError::Api {
                        action: "discovering",
                        kind: kind.clone(),
                        name: name.clone(),
                        source: Box::new(source),
                    })?;
            (resource, caps.scope == kube::discovery::Scope::Namespaced)
        }
    };
    let outside = || ApplyError::OutsideNamespace {
        kind: kind.clone(),
        name: name.clone(),
        namespace: namespace.to_string(),
    };
    let api = if namespaced {
        match object["metadata"]["namespace"].as_str() {
            Some(ns) if ns != namespace => return Err(outside()),
            _ => Api::namespaced_with(client.clone(), namespace, &resource),
        }
    } else if kind == "Namespace" && group.is_empty() && name == namespace {
        Api::all_with(client.clone(), &resource)
    } else {
        return Err(outside());
    };
    Ok((api, kind, name))
}

/// Server-side applies each object (in order) into `namespace`.
pub async fn apply_all(
    client: &Client,
    namespace: &str,
    objects: &[Value],
) -> Result<usize, ApplyError> {
    for (index, object) in objects.iter().enumerate() {
        let (api, kind, name) = api_for(client, namespace, object, index).await?;
        let mut object = object.clone();
        if kind != "Namespace" {
            object["metadata"]["namespace"] = Value::String(namespace.to_string());
        }
        api.patch(&name, &params(), &Patch::Apply(&object))
            .await
            .map_err(|source| ApplyError::Api {
                action: "applying",
                kind,
                name,
                source: Box::new(source),
            })?;
    }
    Ok(objects.len())
}

/// Deletes each object obsctl applied (absent ones are fine). Namespaces are never deleted: that
/// would delete the volumes `down` keeps.
pub async fn delete_all(
    client: &Client,
    namespace: &str,
    objects: &[Value],
) -> Result<usize, ApplyError> {
    let mut deleted = 0;
    for (index, object) in objects.iter().enumerate() {
        if object["kind"] == "Namespace" {
            continue;
        }
        let (api, kind, name) = api_for(client, namespace, object, index).await?;
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => deleted += 1,
            Err(kube::Error::Api(status)) if status.is_not_found() => {}
            Err(source) => {
                return Err(ApplyError::Api {
                    action: "deleting",
                    kind,
                    name,
                    source: Box::new(source),
                })
            }
        }
    }
    Ok(deleted)
}

/// The CustomResourceDefinitions in `helm show crds` output (other documents are ignored).
pub fn parse_crds(yaml: &str) -> Result<Vec<Value>, ApplyError> {
    use serde::Deserialize;
    let mut crds = Vec::new();
    for document in yaml_serde::Deserializer::from_str(yaml) {
        let value = Value::deserialize(document).map_err(|e| ApplyError::CrdYaml(e.to_string()))?;
        if value["kind"] == "CustomResourceDefinition" {
            crds.push(value);
        }
    }
    if crds.is_empty() {
        return Err(ApplyError::NoCrds);
    }
    Ok(crds)
}

fn established(crd: &CustomResourceDefinition) -> bool {
    crd.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
}

/// Server-side applies every CRD, then waits (at most `bound`) until each is Established.
/// Returns the CRD names.
pub async fn apply_crds(
    client: &Client,
    crds: &[Value],
    bound: Duration,
) -> Result<Vec<String>, ApplyError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut pending = Vec::new();
    let mut names = Vec::new();
    for (index, crd) in crds.iter().enumerate() {
        let name = crd["metadata"]["name"]
            .as_str()
            .ok_or(ApplyError::Malformed {
                index,
                field: "metadata.name",
            })?
            .to_string();
        let applied = api
            .patch(&name, &params(), &Patch::Apply(crd))
            .await
            .map_err(|source| ApplyError::Api {
                action: "applying",
                kind: "CustomResourceDefinition".into(),
                name: name.clone(),
                source: Box::new(source),
            })?;
        // An existing CRD comes back Established; a new one is accepted by its controller a
        // moment later.
        if !established(&applied) {
            pending.push(name.clone());
        }
        names.push(name);
    }
    let deadline = Instant::now() + bound;
    while !pending.is_empty() {
        let mut still = Vec::new();
        for name in pending {
            let crd = api.get(&name).await.map_err(|source| ApplyError::Api {
                action: "reading",
                kind: "CustomResourceDefinition".into(),
                name: name.clone(),
                source: Box::new(source),
            })?;
            if !established(&crd) {
                still.push(name);
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if Instant::now() + ESTABLISHED_POLL > deadline {
            return Err(ApplyError::NotEstablished {
                names: pending,
                after: bound,
            });
        }
        tokio::time::sleep(ESTABLISHED_POLL).await;
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_crd_documents_are_taken_from_helm_output() {
        let yaml = "# Source: crds/a.yaml\n---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.example.com}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n";
        let crds = parse_crds(yaml).unwrap();
        assert_eq!(crds.len(), 1);
        assert_eq!(crds[0]["metadata"]["name"], "a.example.com");
        assert!(matches!(parse_crds("---\n"), Err(ApplyError::NoCrds)));
        assert!(matches!(parse_crds("a: [\n"), Err(ApplyError::CrdYaml(_))));
    }

    #[test]
    fn the_not_established_error_names_the_crds_and_the_bound() {
        let err = ApplyError::NotEstablished {
            names: vec!["a.x".into(), "b.x".into()],
            after: Duration::from_secs(30),
        };
        assert_eq!(err.to_string(), "CRDs a.x, b.x not Established within 30s");
    }
}
