//! What `down` keeps or, with `--purge-data`, deletes: the releases' PersistentVolumeClaims (in
//! the profile's namespace only) and the Prometheus Operator CRDs.

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams};
use kube::Client;
use serde::Serialize;

/// The API group of the CRDs obsctl applies (and `down` keeps).
pub const CRD_GROUP: &str = "monitoring.coreos.com";

#[derive(Debug, thiserror::Error)]
#[error("{action} in namespace `{namespace}`: {source}")]
pub struct ClaimsError {
    pub action: String,
    pub namespace: String,
    #[source]
    pub source: Box<kube::Error>,
}

/// One PersistentVolumeClaim of the stack.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Claim {
    pub name: String,
    /// The `app.kubernetes.io/instance` label that ties it to a release.
    pub instance: String,
    pub size: Option<String>,
    pub storage_class: Option<String>,
}

/// Whether a claim belongs to the stack. StatefulSet claims carry their set's selector labels:
/// `app.kubernetes.io/instance` is the release name (Loki, Tempo, Grafana's is
/// kube-prometheus-stack's), or `<kps fullname>-prometheus`/`-alertmanager` for the
/// operator-managed StatefulSets.
pub fn belongs(instance: &str, releases: &[&str], kps_fullname: &str) -> bool {
    releases.contains(&instance)
        || instance
            .strip_prefix(kps_fullname)
            .is_some_and(|rest| rest == "-prometheus" || rest == "-alertmanager")
}

/// The stack's claims in `namespace`.
pub async fn stack_claims(
    client: &Client,
    namespace: &str,
    releases: &[&str],
    kps_fullname: &str,
) -> Result<Vec<Claim>, ClaimsError> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|source| ClaimsError {
            action: "listing PersistentVolumeClaims".into(),
            namespace: namespace.into(),
            source: Box::new(source),
        })?;
    let mut claims: Vec<Claim> = list
        .items
        .into_iter()
        .filter_map(|pvc| {
            let instance = pvc
                .metadata
                .labels
                .as_ref()?
                .get("app.kubernetes.io/instance")?
                .clone();
            if !belongs(&instance, releases, kps_fullname) {
                return None;
            }
            let spec = pvc.spec.unwrap_or_default();
            Some(Claim {
                name: pvc.metadata.name?,
                instance,
                size: spec
                    .resources
                    .and_then(|r| r.requests)
                    .and_then(|r| r.get("storage").map(|q| q.0.clone())),
                storage_class: spec.storage_class_name,
            })
        })
        .collect();
    claims.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(claims)
}

/// Deletes claims by name (already gone is fine).
pub async fn delete_claims(
    client: &Client,
    namespace: &str,
    claims: &[Claim],
) -> Result<(), ClaimsError> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), namespace);
    for claim in claims {
        match api.delete(&claim.name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.is_not_found() => {}
            Err(source) => {
                return Err(ClaimsError {
                    action: format!("deleting PersistentVolumeClaim `{}`", claim.name),
                    namespace: namespace.into(),
                    source: Box::new(source),
                })
            }
        }
    }
    Ok(())
}

/// The names of the installed CRDs of obsctl's group (kept by `down`).
pub async fn kept_crds(client: &Client) -> Result<Vec<String>, ClaimsError> {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|source| ClaimsError {
            action: "listing CustomResourceDefinitions".into(),
            namespace: "(cluster)".into(),
            source: Box::new(source),
        })?;
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter(|crd| crd.spec.group == CRD_GROUP)
        .filter_map(|crd| crd.metadata.name)
        .collect();
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_belong_to_releases_and_to_the_operator_managed_sets() {
        let releases = ["kube-prometheus-stack", "loki", "tempo"];
        for yes in [
            "loki",
            "tempo",
            "kube-prometheus-stack",
            "kps-prometheus",
            "kps-alertmanager",
        ] {
            assert!(belongs(yes, &releases, "kps"), "{yes}");
        }
        for no in ["postgres", "kps-thanos", "kps", "lokix"] {
            assert!(!belongs(no, &releases, "kps"), "{no}");
        }
    }
}
