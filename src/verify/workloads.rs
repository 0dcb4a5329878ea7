//! Workloads: every Deployment, StatefulSet and DaemonSet of the releases ready, claims bound,
//! the Prometheus Operator CRDs Established, no container restarting in a loop.

use std::sync::Arc;

use super::runner::{Check, Ctx};
use super::Component;
use crate::cluster::workloads::{self, ContainerState, Crd, Workload};

/// The API group of the CRDs obsctl applies (the Prometheus Operator's).
pub const CRD_GROUP: &str = "monitoring.coreos.com";
/// The CRDs the stack cannot work without: the operator's own resources and the ones obsctl and
/// the charts create objects of.
pub const REQUIRED_CRDS: [&str; 5] = [
    "prometheuses",
    "alertmanagers",
    "servicemonitors",
    "podmonitors",
    "prometheusrules",
];
/// The label value the Prometheus Operator puts on the StatefulSets it creates.
const OPERATOR: &str = "prometheus-operator";
/// Restarts above this, with the container up again, still count as a loop.
const RESTART_LOOP: i32 = 5;

pub(crate) fn checks() -> Vec<Check> {
    let c = Component::Workloads;
    vec![
        Check::new(
            c,
            "ready",
            &[],
            |ctx| async move { ready(&ctx).await.into() },
        ),
        Check::new(c, "volumes", &[], |ctx| async move {
            volumes(&ctx).await.into()
        }),
        Check::new(c, "crds", &[], |ctx| async move { crds(&ctx).await.into() }),
        Check::new(c, "restarts", &[], |ctx: Arc<Ctx>| async move {
            restarts(&ctx).await.into()
        }),
    ]
}

async fn ready(ctx: &Ctx) -> Result<String, String> {
    let client = ctx.cluster().await?;
    let ns = &ctx.expect.namespace;
    let all = ctx
        .kube(
            &format!("listing workloads in {ns}"),
            workloads::workloads(client, ns),
        )
        .await?;
    judge_workloads(&all, &ctx.expect.releases, ns)
}

/// The workloads of the releases (by Helm's annotation) and the operator's StatefulSets.
pub(crate) fn judge_workloads(
    all: &[Workload],
    releases: &[String],
    namespace: &str,
) -> Result<String, String> {
    let ours: Vec<&Workload> = all
        .iter()
        .filter(|w| {
            w.release.as_ref().is_some_and(|r| releases.contains(r))
                || w.managed_by.as_deref() == Some(OPERATOR)
        })
        .collect();
    if ours.is_empty() {
        return Err(format!(
            "no Deployment, StatefulSet or DaemonSet of releases {} in namespace {namespace}: is the stack installed (obsctl up)?",
            releases.join(", ")
        ));
    }
    let missing: Vec<&String> = releases
        .iter()
        .filter(|r| !ours.iter().any(|w| w.release.as_ref() == Some(*r)))
        .collect();
    let not_ready: Vec<String> = ours
        .iter()
        .filter(|w| !w.is_ready())
        .map(|w| {
            format!(
                "{} {} {}/{} ready{}",
                w.kind,
                w.name,
                w.ready,
                w.desired,
                if w.updated < w.desired {
                    format!(", {}/{} updated", w.updated, w.desired)
                } else {
                    String::new()
                }
            )
        })
        .collect();
    let mut problems = not_ready;
    if !missing.is_empty() {
        problems.push(format!(
            "no workloads of release(s) {}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(format!(
            "{} workloads of {} releases ready",
            ours.len(),
            releases.len()
        ))
    } else {
        Err(problems.join("; "))
    }
}

async fn volumes(ctx: &Ctx) -> Result<String, String> {
    let client = ctx.cluster().await?;
    let ns = &ctx.expect.namespace;
    let claims = ctx
        .kube(
            &format!("listing PersistentVolumeClaims in {ns}"),
            workloads::claims(client, ns),
        )
        .await?;
    let unbound: Vec<String> = claims
        .iter()
        .filter(|c| c.phase != "Bound")
        .map(|c| format!("{} {}", c.name, c.phase))
        .collect();
    if unbound.is_empty() {
        Ok(format!("{} claims bound", claims.len()))
    } else {
        Err(format!(
            "{} of {} claims not bound: {}",
            unbound.len(),
            claims.len(),
            unbound.join(", ")
        ))
    }
}

async fn crds(ctx: &Ctx) -> Result<String, String> {
    let client = ctx.cluster().await?;
    let found = ctx
        .kube(
            &format!("listing {CRD_GROUP} CRDs"),
            workloads::crds(client, CRD_GROUP),
        )
        .await?;
    judge_crds(&found)
}

pub(crate) fn judge_crds(found: &[Crd]) -> Result<String, String> {
    let mut problems = Vec::new();
    for plural in REQUIRED_CRDS {
        let name = format!("{plural}.{CRD_GROUP}");
        if !found.iter().any(|c| c.name == name) {
            problems.push(format!("{name} missing"));
        }
    }
    for crd in found.iter().filter(|c| !c.established) {
        problems.push(format!("{} not Established", crd.name));
    }
    if problems.is_empty() {
        Ok(format!("{} {CRD_GROUP} CRDs Established", found.len()))
    } else {
        Err(problems.join("; "))
    }
}

async fn restarts(ctx: &Ctx) -> Result<String, String> {
    let client = ctx.cluster().await?;
    let ns = &ctx.expect.namespace;
    let containers = ctx
        .kube(
            &format!("listing pods in {ns}"),
            workloads::containers(client, ns),
        )
        .await?;
    judge_restarts(&containers)
}

/// A container loops when it waits in CrashLoopBackOff, or has restarted many times and its last
/// run ended in an error.
pub(crate) fn judge_restarts(containers: &[ContainerState]) -> Result<String, String> {
    let looping: Vec<String> = containers
        .iter()
        .filter(|c| {
            c.waiting.as_deref() == Some("CrashLoopBackOff")
                || (c.restarts > RESTART_LOOP
                    && c.last_exit
                        .as_deref()
                        .is_some_and(|e| !e.ends_with("exit 0")))
        })
        .map(|c| {
            let mut text = format!("{}/{} restarted {}×", c.pod, c.container, c.restarts);
            if let Some(w) = &c.waiting {
                text.push_str(&format!(", {w}"));
            }
            if let Some(exit) = &c.last_exit {
                text.push_str(&format!(" (last: {exit})"));
            }
            text
        })
        .collect();
    if looping.is_empty() {
        let total: i32 = containers.iter().map(|c| c.restarts).sum();
        Ok(format!(
            "{} containers, none restarting in a loop ({total} restarts in all)",
            containers.len()
        ))
    } else {
        Err(looping.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(kind: &'static str, name: &str, release: Option<&str>, ready: i32) -> Workload {
        Workload {
            kind,
            name: name.into(),
            release: release.map(str::to_string),
            managed_by: None,
            desired: 1,
            ready,
            updated: 1,
        }
    }

    #[test]
    fn workloads_of_other_releases_do_not_count_and_missing_releases_do() {
        let releases = vec!["kube-prometheus-stack".to_string(), "loki".to_string()];
        let all = vec![
            workload("Deployment", "grafana", Some("kube-prometheus-stack"), 1),
            workload("StatefulSet", "loki", Some("loki"), 1),
            workload("Deployment", "someone-else", Some("other"), 0),
        ];
        assert_eq!(
            judge_workloads(&all, &releases, "monitoring").unwrap(),
            "2 workloads of 2 releases ready"
        );
        let err = judge_workloads(&all[..1], &releases, "monitoring").unwrap_err();
        assert_eq!(err, "no workloads of release(s) loki");
    }

    #[test]
    fn an_operator_statefulset_that_is_not_ready_fails() {
        let mut prom = workload("StatefulSet", "prometheus-kps-prometheus", None, 0);
        prom.managed_by = Some(OPERATOR.into());
        let all = vec![
            workload("Deployment", "grafana", Some("kube-prometheus-stack"), 1),
            prom,
        ];
        let err =
            judge_workloads(&all, &["kube-prometheus-stack".into()], "monitoring").unwrap_err();
        assert_eq!(err, "StatefulSet prometheus-kps-prometheus 0/1 ready");
    }

    #[test]
    fn crds_must_all_exist_and_be_established() {
        let mut found: Vec<Crd> = REQUIRED_CRDS
            .iter()
            .map(|p| Crd {
                name: format!("{p}.{CRD_GROUP}"),
                established: true,
            })
            .collect();
        assert!(judge_crds(&found).is_ok());
        found[1].established = false;
        found.remove(0);
        let err = judge_crds(&found).unwrap_err();
        assert_eq!(
            err,
            "prometheuses.monitoring.coreos.com missing; alertmanagers.monitoring.coreos.com not Established"
        );
    }

    #[test]
    fn crash_loops_are_named_with_their_last_exit() {
        let ok = ContainerState {
            pod: "loki-0".into(),
            container: "loki".into(),
            restarts: 1,
            waiting: None,
            last_exit: Some("Error, exit 1".into()),
        };
        let looping = ContainerState {
            pod: "tempo-0".into(),
            container: "tempo".into(),
            restarts: 7,
            waiting: Some("CrashLoopBackOff".into()),
            last_exit: Some("Error, exit 1".into()),
        };
        assert!(judge_restarts(std::slice::from_ref(&ok)).is_ok());
        assert_eq!(
            judge_restarts(&[ok, looping]).unwrap_err(),
            "tempo-0/tempo restarted 7×, CrashLoopBackOff (last: Error, exit 1)"
        );
    }
}
