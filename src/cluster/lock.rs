//! One writer per stack: `up` and `down` hold a `coordination.k8s.io/v1` Lease in the stack's
//! namespace for the whole run, renewed in the background and deleted at the end. A second run
//! is refused with the holder's name; a Lease left by a crashed run expires after its duration
//! and `--force-unlock` takes one over explicitly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::Client;

/// The Lease's name in the stack's namespace.
pub const LEASE_NAME: &str = "obsctl-lock";
/// How long a Lease holds without renewal; a crashed run's lock is free after this.
pub const LEASE_DURATION: Duration = Duration::from_secs(60);

const ANNOTATION_USER: &str = "obsctl.dev/user";
const ANNOTATION_HOST: &str = "obsctl.dev/host";
const ANNOTATION_COMMAND: &str = "obsctl.dev/command";

/// Who takes the lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user: String,
    pub host: String,
    /// `obsctl up --profile dev`.
    pub command: String,
}

impl Identity {
    /// This process: `$USER` (or `$LOGNAME`), the host name, and `command`.
    pub fn current(command: &str) -> Identity {
        let user = ["USER", "LOGNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| "unknown".into());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".into());
        Identity {
            user,
            host,
            command: command.into(),
        }
    }

    /// The Lease's `holderIdentity`: unique per run, so a run only ever renews or releases its
    /// own Lease.
    fn holder_identity(&self) -> String {
        format!(
            "{}@{} pid {} {}",
            self.user,
            self.host,
            std::process::id(),
            Timestamp::now().as_nanosecond()
        )
    }
}

/// Who holds a Lease, as read back from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub user: String,
    pub host: String,
    pub command: String,
    pub since: Option<Timestamp>,
    pub expires: Option<Timestamp>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{} (`{}`", self.user, self.host, self.command)?;
        if let Some(since) = self.since {
            write!(
                f,
                ", since {}",
                since
                    .round(k8s_openapi::jiff::Unit::Second)
                    .unwrap_or(since)
            )?;
        }
        write!(f, ")")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "namespace `{namespace}` is locked by {holder}: another `obsctl up` or `down` is changing this stack; \
         wait for it to finish, or, if that run is gone, wait until its lock expires{expiry} or pass --force-unlock",
        expiry = holder.expires.map(|t| format!(" at {}", t.round(k8s_openapi::jiff::Unit::Second).unwrap_or(t))).unwrap_or_default()
    )]
    Held { namespace: String, holder: Holder },
    #[error("namespace `{namespace}` does not exist, so it holds no lock")]
    NoNamespace { namespace: String },
    #[error("{action} Lease {namespace}/{LEASE_NAME}: {reason}")]
    Api {
        action: &'static str,
        namespace: String,
        reason: String,
    },
}

/// A held lock. Renewed until `release`; dropping it without release stops the renewal and
/// leaves the Lease to expire.
pub struct Lock {
    api: Api<Lease>,
    namespace: String,
    /// The Lease as last written by this run (its resourceVersion guards every write).
    current: Arc<Mutex<Lease>>,
    renewal: tokio::task::JoinHandle<()>,
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

fn api_error(action: &'static str, namespace: &str, e: kube::Error) -> LockError {
    LockError::Api {
        action,
        namespace: namespace.into(),
        reason: super::workloads::describe(&e),
    }
}

fn is_code(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// The Lease for `who`, taken now (`transitions`: how often it changed hands before).
fn lease_for(who: &Identity, namespace: &str, duration: Duration, transitions: i32) -> Lease {
    let now = MicroTime(Timestamp::now());
    Lease {
        metadata: ObjectMeta {
            name: Some(LEASE_NAME.into()),
            namespace: Some(namespace.into()),
            labels: Some(
                [(
                    "app.kubernetes.io/managed-by".to_string(),
                    "obsctl".to_string(),
                )]
                .into(),
            ),
            annotations: Some(
                [
                    (ANNOTATION_USER.to_string(), who.user.clone()),
                    (ANNOTATION_HOST.to_string(), who.host.clone()),
                    (ANNOTATION_COMMAND.to_string(), who.command.clone()),
                ]
                .into(),
            ),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(who.holder_identity()),
            lease_duration_seconds: Some(duration.as_secs().max(1) as i32),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }),
    }
}

/// Who holds `lease`, and until when without renewal.
pub fn holder(lease: &Lease) -> Holder {
    let annotation = |key: &str| {
        lease
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key).cloned())
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let renewed = spec.renew_time.or(spec.acquire_time.clone()).map(|t| t.0);
    let expires = renewed.and_then(|t| {
        t.checked_add(SignedDuration::from_secs(
            spec.lease_duration_seconds.unwrap_or(0).into(),
        ))
        .ok()
    });
    Holder {
        user: annotation(ANNOTATION_USER).unwrap_or_else(|| "unknown".into()),
        host: annotation(ANNOTATION_HOST).unwrap_or_else(|| "unknown".into()),
        command: annotation(ANNOTATION_COMMAND)
            .or(spec.holder_identity)
            .unwrap_or_else(|| "unknown".into()),
        since: spec.acquire_time.map(|t| t.0),
        expires,
    }
}

/// Takes the stack's lock in `namespace` (which must exist), or says who holds it. An expired
/// Lease is taken over; a live one only with `force`.
pub async fn acquire(
    client: &Client,
    namespace: &str,
    who: &Identity,
    force: bool,
) -> Result<Lock, LockError> {
    acquire_for(client, namespace, who, force, lease_duration()).await
}

/// The Lease duration: `LEASE_DURATION`, or `OBSCTL_LEASE_SECONDS` (tests shorten it to see
/// renewal and expiry within seconds).
fn lease_duration() -> Duration {
    std::env::var("OBSCTL_LEASE_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map(Duration::from_secs)
        .unwrap_or(LEASE_DURATION)
}

async fn acquire_for(
    client: &Client,
    namespace: &str,
    who: &Identity,
    force: bool,
    duration: Duration,
) -> Result<Lock, LockError> {
    let api: Api<Lease> = Api::namespaced(client.clone(), namespace);
    let fresh = lease_for(who, namespace, duration, 0);
    let written = match api.create(&PostParams::default(), &fresh).await {
        Ok(lease) => lease,
        Err(e) if is_code(&e, 409) => {
            let existing = api
                .get(LEASE_NAME)
                .await
                .map_err(|e| api_error("reading", namespace, e))?;
            let held = holder(&existing);
            let live = held.expires.is_some_and(|t| t > Timestamp::now());
            if live && !force {
                return Err(LockError::Held {
                    namespace: namespace.into(),
                    holder: held,
                });
            }
            let transitions = existing
                .spec
                .as_ref()
                .and_then(|s| s.lease_transitions)
                .unwrap_or(0);
            let mut takeover = lease_for(who, namespace, duration, transitions + 1);
            // The resourceVersion makes the takeover fail if another run took it first.
            takeover.metadata.resource_version = existing.metadata.resource_version.clone();
            match api
                .replace(LEASE_NAME, &PostParams::default(), &takeover)
                .await
            {
                Ok(lease) => lease,
                Err(e) if is_code(&e, 409) => {
                    let now_held = api
                        .get(LEASE_NAME)
                        .await
                        .map(|l| holder(&l))
                        .unwrap_or(held);
                    return Err(LockError::Held {
                        namespace: namespace.into(),
                        holder: now_held,
                    });
                }
                Err(e) => return Err(api_error("taking over", namespace, e)),
            }
        }
        Err(e) if is_code(&e, 404) => {
            return Err(LockError::NoNamespace {
                namespace: namespace.into(),
            })
        }
        Err(e) => return Err(api_error("creating", namespace, e)),
    };
    let current = Arc::new(Mutex::new(written));
    let renewal = tokio::spawn(renew(
        api.clone(),
        namespace.to_string(),
        current.clone(),
        duration,
    ));
    Ok(Lock {
        api,
        namespace: namespace.into(),
        current,
        renewal,
    })
}

/// Renews the Lease every third of its duration, so two missed renewals still hold it.
async fn renew(api: Api<Lease>, namespace: String, current: Arc<Mutex<Lease>>, duration: Duration) {
    let mut tick = tokio::time::interval(duration / 3);
    tick.tick().await;
    loop {
        tick.tick().await;
        let mut lease = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(spec) = lease.spec.as_mut() {
            spec.renew_time = Some(MicroTime(Timestamp::now()));
        }
        match api
            .replace(LEASE_NAME, &PostParams::default(), &lease)
            .await
        {
            Ok(renewed) => *current.lock().unwrap_or_else(|p| p.into_inner()) = renewed,
            Err(e) => {
                let why = if is_code(&e, 409) || is_code(&e, 404) {
                    "another run took it over (--force-unlock) or deleted it".to_string()
                } else {
                    super::workloads::describe(&e)
                };
                eprintln!(
                    "warning: could not renew the lock Lease {namespace}/{LEASE_NAME}: {why}"
                );
                if is_code(&e, 409) || is_code(&e, 404) {
                    return;
                }
            }
        }
    }
}

impl Lock {
    /// Stops the renewal and deletes the Lease, unless another run has taken it over since.
    pub async fn release(self) -> Result<(), LockError> {
        self.renewal.abort();
        let version = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .metadata
            .resource_version
            .clone();
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version: version,
                uid: None,
            }),
            ..DeleteParams::default()
        };
        match self.api.delete(LEASE_NAME, &params).await {
            Ok(_) => Ok(()),
            // Taken over or already gone: not this run's to delete.
            Err(e) if is_code(&e, 409) || is_code(&e, 404) => Ok(()),
            Err(e) => Err(api_error("deleting", &self.namespace, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> Identity {
        Identity {
            user: "alice".into(),
            host: "laptop".into(),
            command: "obsctl up --profile dev".into(),
        }
    }

    #[test]
    fn a_lease_names_its_holder_and_expires_after_its_duration_from_the_last_renewal() {
        let lease = lease_for(&who(), "monitoring", Duration::from_secs(60), 0);
        let held = holder(&lease);
        assert_eq!(
            (
                held.user.as_str(),
                held.host.as_str(),
                held.command.as_str()
            ),
            ("alice", "laptop", "obsctl up --profile dev")
        );
        let since = held.since.unwrap();
        assert_eq!(
            held.expires.unwrap().duration_since(since),
            SignedDuration::from_secs(60)
        );
        let spec = lease.spec.unwrap();
        assert!(spec
            .holder_identity
            .unwrap()
            .starts_with(&format!("alice@laptop pid {}", std::process::id())));
        assert_eq!(lease.metadata.name.as_deref(), Some(LEASE_NAME));
    }

    #[test]
    fn the_refusal_says_who_what_since_when_and_how_out() {
        let holder = Holder {
            user: "bob".into(),
            host: "ci-runner-7".into(),
            command: "obsctl down --profile production".into(),
            since: Some("2026-12-03T07:00:00.4Z".parse().unwrap()),
            expires: Some("2026-12-03T07:01:30Z".parse().unwrap()),
        };
        let text = LockError::Held {
            namespace: "monitoring".into(),
            holder,
        }
        .to_string();
        assert_eq!(
            text,
            "namespace `monitoring` is locked by bob@ci-runner-7 (`obsctl down --profile production`, \
             since 2026-12-03T07:00:00Z): another `obsctl up` or `down` is changing this stack; wait for \
             it to finish, or, if that run is gone, wait until its lock expires at 2026-12-03T07:01:30Z \
             or pass --force-unlock"
        );
    }
}
