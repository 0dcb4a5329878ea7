//! The OpenTelemetry Collector (issue 7): its agents ready on every node they may run on, and a
//! line written by a pod of obsctl's own reaching Loki with the labels Grafana's links join on.
//! The pod is short-lived: created, read back, deleted (also when the check fails).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;
use tokio::time::Instant;

use super::expect::LogsDestination;
use super::ids::SERVICE;
use super::loki::{format_labels, poll_lines, Entry};
use super::runner::{Check, CheckVerdict, Ctx};
use super::targets::Target;
use super::wait::{self, Attempt, Backoff, Stop};
use super::{Component, Expectations};
use crate::cluster::workloads::{self, may_run_on};
use crate::render::labels::{CONTAINER, NAMESPACE, POD, SERVICE_NAME};

/// A small image with a shell, to echo the marker line.
pub const MARKER_IMAGE: &str = "busybox:1.37";
/// The pod annotation the Kubernetes attributes processor reads `service.name` from.
const SERVICE_NAME_ANNOTATION: &str = "resource.opentelemetry.io/service.name";
/// Time kept at the end of the run to delete the marker pod.
const CLEANUP: Duration = Duration::from_secs(2);

pub(crate) fn checks(expect: &Expectations) -> Vec<Check> {
    let c = Component::Collector;
    let pod_logs = match pod_logs_skip(expect) {
        Some(reason) => Check::new(
            c,
            "pod-logs",
            &[],
            |_| async move { CheckVerdict::Skip(reason) },
        ),
        None => Check::new(
            c,
            "pod-logs",
            &["collector/rollout", "loki/ready"],
            |ctx| async move { pod_logs(&ctx).await },
        ),
    };
    vec![
        Check::new(c, "rollout", &[], |ctx| async move {
            rollout(&ctx).await.into()
        }),
        pod_logs,
    ]
}

/// Why a pod's line cannot be followed into the stack's Loki, if it cannot.
fn pod_logs_skip(expect: &Expectations) -> Option<String> {
    let collector = expect.collector.as_ref()?;
    if !collector.daemonset {
        return Some(
            "the collector runs as a Deployment: pod logs are only tailed by a DaemonSet".into(),
        );
    }
    match &collector.logs {
        LogsDestination::Stack => None,
        LogsDestination::Off => Some("the collector's logs pipeline is off".into()),
        LogsDestination::External(url) => Some(format!(
            "the collector sends logs to {url}, not the stack's Loki"
        )),
    }
}

async fn rollout(ctx: &Ctx) -> Result<String, String> {
    let Some(expect) = &ctx.expect.collector else {
        return Err("the profile runs no collector".into());
    };
    let client = ctx.cluster().await?;
    let ns = &ctx.expect.namespace;
    let name = &expect.workload;
    if !expect.daemonset {
        let found = ctx
            .kube(
                &format!("reading Deployment {ns}/{name}"),
                workloads::deployment(client, ns, name),
            )
            .await?;
        let Some(deployment) = found else {
            return Err(format!("Deployment {ns}/{name} not found"));
        };
        return if deployment.is_ready() {
            Ok(format!(
                "Deployment {name} {}/{} ready",
                deployment.ready, deployment.desired
            ))
        } else {
            Err(format!(
                "Deployment {name} {}/{} ready, {} updated",
                deployment.ready, deployment.desired, deployment.updated
            ))
        };
    }
    let reading = format!("reading DaemonSet {ns}/{name}");
    let (found, nodes) = futures::join!(
        ctx.kube(&reading, workloads::daemonset(client.clone(), ns, name)),
        ctx.kube("listing nodes", workloads::nodes(client)),
    );
    let Some(ds) = found? else {
        return Err(format!("DaemonSet {ns}/{name} not found"));
    };
    let nodes = nodes?;
    let eligible: Vec<&str> = nodes
        .iter()
        .filter(|n| may_run_on(&ds, n))
        .map(|n| n.name.as_str())
        .collect();
    let want = eligible.len() as i32;
    if ds.desired == want && ds.ready == want && ds.updated == want && want > 0 {
        Ok(format!(
            "DaemonSet {name}: a ready agent on each of {want} nodes{}",
            if nodes.len() > eligible.len() {
                format!(
                    " ({} nodes excluded by taints or selector)",
                    nodes.len() - eligible.len()
                )
            } else {
                String::new()
            }
        ))
    } else {
        Err(format!(
            "DaemonSet {name}: {} ready, {} scheduled, {} updated, on {want} nodes it may run on (of {})",
            ds.ready,
            ds.desired,
            ds.updated,
            nodes.len()
        ))
    }
}

/// The Loki labels the marker line must carry: the join labels of `render::labels`.
pub(crate) fn expected_labels(namespace: &str, pod: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (SERVICE_NAME.loki_label.to_string(), SERVICE.to_string()),
        (NAMESPACE.loki_label.to_string(), namespace.to_string()),
        (POD.loki_label.to_string(), pod.to_string()),
        (CONTAINER.loki_label.to_string(), SERVICE.to_string()),
    ])
}

/// The marker pod: echoes the marker every second (the collector may discover the log file after
/// the first line), ends by itself if obsctl cannot delete it, and fits a `restricted` namespace.
pub(crate) fn marker_pod(name: &str, marker: &str) -> Pod {
    let script =
        format!("i=0; while [ $i -lt 120 ]; do echo '{marker}'; i=$((i+1)); sleep 1; done");
    serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/name": SERVICE,
                "app.kubernetes.io/managed-by": "obsctl",
            },
            "annotations": {SERVICE_NAME_ANNOTATION: SERVICE},
        },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": 150,
            "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": false,
            "securityContext": {
                "runAsNonRoot": true,
                "runAsUser": 65534,
                "runAsGroup": 65534,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [{
                "name": SERVICE,
                "image": MARKER_IMAGE,
                "command": ["sh", "-c", script],
                "resources": {
                    "requests": {"cpu": "10m", "memory": "16Mi"},
                    "limits": {"memory": "32Mi"},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": true,
                    "capabilities": {"drop": ["ALL"]},
                },
            }],
        },
    }))
    .expect("the marker pod is a valid Pod")
}

async fn pod_logs(ctx: &Ctx) -> CheckVerdict {
    let client = match ctx.cluster().await {
        Ok(c) => c,
        Err(e) => return CheckVerdict::Fail(e),
    };
    let loki = match ctx.endpoint(Target::Loki).await {
        Ok(ep) => ep,
        Err(e) => return CheckVerdict::Fail(e),
    };
    let ns = ctx.expect.namespace.clone();
    let name = format!("{SERVICE}-{}", ctx.ids.run);
    let marker = format!(
        "obsctl verify pod-log marker={}{}",
        ctx.ids.run, ctx.ids.span_id
    );

    let pod = marker_pod(&name, &marker);
    let create = workloads::create_pod(client.clone(), &ns, &pod);
    if let Err(e) = ctx.kube(&format!("creating pod {ns}/{name}"), create).await {
        return CheckVerdict::Fail(e);
    }
    // Leave time to delete the pod whatever happens below.
    let until = ctx.deadline.checked_sub(CLEANUP).unwrap_or(ctx.deadline);
    let outcome = follow_marker(ctx, &client, &loki, &ns, &name, &marker, until).await;
    let delete = workloads::delete_pod(client, &ns, &name);
    let cleanup = tokio::time::timeout(CLEANUP, delete).await;
    match (outcome, cleanup) {
        (outcome, Ok(Ok(()))) => outcome,
        (CheckVerdict::Pass(detail), Ok(Err(e))) => CheckVerdict::Fail(format!(
            "{detail}, but deleting pod {ns}/{name} failed: {}",
            workloads::describe(&e)
        )),
        (CheckVerdict::Pass(detail), Err(_)) => CheckVerdict::Fail(format!(
            "{detail}, but deleting pod {ns}/{name} did not finish (it ends by itself within 150s)"
        )),
        (outcome, _) => outcome,
    }
}

#[allow(clippy::too_many_arguments)]
async fn follow_marker(
    ctx: &Ctx,
    client: &kube::Client,
    loki: &super::http::Endpoint,
    ns: &str,
    name: &str,
    marker: &str,
    until: Instant,
) -> CheckVerdict {
    // Wait for the pod to run; fail at once on what will not resolve by itself.
    let running = wait::until(
        until,
        Backoff::every(Duration::from_millis(500)),
        || async {
            let phase = match tokio::time::timeout_at(
                until,
                workloads::pod_phase(client.clone(), ns, name),
            )
            .await
            {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => {
                    return Attempt::Failed(format!(
                        "{}: reading pod {ns}/{name}: {}",
                        ctx.api_name(),
                        workloads::describe(&e)
                    ))
                }
                Err(_) => return Attempt::OutOfTime,
            };
            if let Some(reason) = phase.waiting.as_deref() {
                if matches!(
                    reason,
                    "ErrImagePull"
                        | "ImagePullBackOff"
                        | "InvalidImageName"
                        | "CreateContainerConfigError"
                ) {
                    return Attempt::Failed(format!(
                        "marker pod {ns}/{name} cannot start: {reason} (image {MARKER_IMAGE})"
                    ));
                }
            }
            match phase.phase.as_str() {
                "Running" | "Succeeded" => Attempt::Done(()),
                "Failed" => Attempt::Failed(format!("marker pod {ns}/{name} failed")),
                other => Attempt::NotYet(other.to_string()),
            }
        },
    )
    .await;
    match running {
        Ok(()) => {}
        Err(Stop::Failed(reason)) => return CheckVerdict::Fail(reason),
        Err(Stop::TimedOut(Some(seen))) => {
            return CheckVerdict::Fail(format!(
                "marker pod {ns}/{name} still {} after {}",
                seen.what,
                ctx.timeout_text()
            ))
        }
        Err(Stop::TimedOut(None)) => {
            return CheckVerdict::Fail(format!(
                "pod {ns}/{name} did not start within {}",
                ctx.timeout_text()
            ))
        }
    }

    // Any stream: which labels the line carries is what this check is about.
    let query = format!("{{{}=~\".+\"}} |= \"{marker}\"", SERVICE_NAME.loki_label);
    let tenant = ctx.expect.loki_tenant.clone();
    let path = "/loki/api/v1/query_range";
    let found = match poll_lines(ctx, loki, path, &query, tenant, &[], until).await {
        Ok(found) => found,
        Err(e) => return CheckVerdict::Fail(e),
    };
    let Some(entry) = found.into_iter().find(|e| e.line.contains(marker)) else {
        return CheckVerdict::Fail(format!(
            "the line of pod {ns}/{name} did not reach Loki within {}: are the collector's agents tailing /var/log/pods?",
            ctx.timeout_text()
        ));
    };
    judge_labels(&entry, &expected_labels(ns, name)).into()
}

pub(crate) fn judge_labels(
    entry: &Entry,
    want: &BTreeMap<String, String>,
) -> Result<String, String> {
    let wrong: Vec<String> = want
        .iter()
        .filter(|(k, v)| entry.labels.get(*k) != Some(*v))
        .map(|(k, v)| match entry.labels.get(k) {
            Some(got) => format!("{k}=\"{got}\" (expected \"{v}\")"),
            None => format!("{k} missing (expected \"{v}\")"),
        })
        .collect();
    if wrong.is_empty() {
        Ok(format!(
            "pod line reached Loki with {}",
            format_labels(want)
        ))
    } else {
        Err(format!(
            "pod line reached Loki with wrong labels: {}; it has {}",
            wrong.join(", "),
            format_labels(&entry.labels)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_pod_is_restricted_short_lived_and_named_for_the_links() {
        let pod = marker_pod("obsctl-verify-abc", "marker=1");
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
        assert!(spec.active_deadline_seconds.unwrap() <= 300);
        let container = &spec.containers[0];
        assert_eq!(container.name, SERVICE);
        assert!(container.command.as_ref().unwrap()[2].contains("echo 'marker=1'"));
        assert_eq!(
            pod.metadata.annotations.as_ref().unwrap()[SERVICE_NAME_ANNOTATION],
            SERVICE
        );
        assert_eq!(
            spec.security_context.as_ref().unwrap().run_as_non_root,
            Some(true)
        );
    }

    #[test]
    fn labels_are_compared_one_by_one() {
        let want = expected_labels("monitoring", "obsctl-verify-abc");
        let mut labels = want.clone();
        let ok = Entry {
            labels: labels.clone(),
            line: "x".into(),
        };
        assert!(judge_labels(&ok, &want).is_ok());
        labels.remove("k8s_pod_name");
        labels.insert("service_name".into(), "unknown_service".into());
        let err = judge_labels(
            &Entry {
                labels,
                line: "x".into(),
            },
            &want,
        )
        .unwrap_err();
        assert!(
            err.starts_with("pod line reached Loki with wrong labels: k8s_pod_name missing (expected \"obsctl-verify-abc\"), service_name=\"unknown_service\" (expected \"obsctl-verify\")"),
            "{err}"
        );
    }
}
