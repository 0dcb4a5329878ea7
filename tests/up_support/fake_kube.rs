//! A wiremock fake of the Kubernetes API, with the documented shapes obsctl uses: server-side
//! apply (`PATCH …?fieldManager=obsctl&force=true`, `application/apply-patch+yaml`, answering the
//! applied object), Secrets get/create, CustomResourceDefinitions with an `Established`
//! condition, PersistentVolumeClaim lists and deletes, and `Status` objects for errors.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A `metav1.Status` failure, as the API server sends with 4xx answers.
pub fn status(code: u16, reason: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    }))
}

/// Answers an apply with the applied object (plus an `Established` condition for CRDs when
/// asked), like the API server returns the object after the patch.
pub struct Applied {
    pub established: bool,
}

pub fn established_status() -> Value {
    json!({"conditions": [
        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": ""},
        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": ""},
    ]})
}

impl Respond for Applied {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut object: Value = match serde_json::from_slice(&request.body) {
            Ok(v) => v,
            Err(e) => return status(400, "BadRequest", &format!("body is not JSON: {e}")),
        };
        object["metadata"]["uid"] = json!("00000000-0000-0000-0000-000000000001");
        object["metadata"]["resourceVersion"] = json!("1");
        if object["kind"] == "CustomResourceDefinition" && self.established {
            object["status"] = established_status();
        }
        ResponseTemplate::new(200).set_body_json(object)
    }
}

/// Answers a create with the object, 201.
pub struct Created;

impl Respond for Created {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match serde_json::from_slice::<Value>(&request.body) {
            Ok(mut object) => {
                object["metadata"]["uid"] = json!("00000000-0000-0000-0000-000000000002");
                ResponseTemplate::new(201).set_body_json(object)
            }
            Err(e) => status(400, "BadRequest", &format!("body is not JSON: {e}")),
        }
    }
}

/// A CRD as the API server returns it on GET, Established.
pub fn crd(name: &str, group: &str) -> Value {
    let plural = name.split('.').next().unwrap();
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": name, "resourceVersion": "7"},
        "spec": {"group": group, "names": {"kind": "X", "plural": plural}, "scope": "Namespaced",
                 "versions": [{"name": "v1", "served": true, "storage": true}]},
        "status": established_status(),
    })
}

/// A PersistentVolumeClaim with its StatefulSet's `app.kubernetes.io/instance` label.
pub fn pvc(name: &str, instance: &str, size: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": "monitoring", "labels": {"app.kubernetes.io/instance": instance}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}},
        "status": {"phase": "Bound"},
    })
}

pub fn list(kind: &str, api_version: &str, items: Vec<Value>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "10"}, "items": items,
    }))
}

/// The Lease obsctl locks a stack with, kept like the API server keeps it: create fails with 409
/// when it exists, replace and delete fail with 409 on a stale resourceVersion (optimistic
/// concurrency), reads of a missing one are 404.
#[derive(Clone, Default)]
pub struct LeaseStore {
    pub lease: Arc<Mutex<Option<Value>>>,
    /// Every successful replace (renewals and takeovers), with the object written.
    pub replaced: Arc<Mutex<Vec<Value>>>,
    /// Answer every replace (renewal) with 503, as an API server that is briefly unavailable.
    pub refuse_renewals: Arc<std::sync::atomic::AtomicBool>,
    version: Arc<Mutex<u64>>,
}

impl LeaseStore {
    fn stamp(&self, object: &mut Value) {
        let mut version = self.version.lock().unwrap();
        *version += 1;
        object["metadata"]["resourceVersion"] = json!(version.to_string());
        object["metadata"]["uid"] = json!("00000000-0000-0000-0000-00000000000a");
    }

    pub fn get(&self) -> Option<Value> {
        self.lease.lock().unwrap().clone()
    }

    /// Puts a Lease held by someone else, renewed `renewed_ago` seconds ago.
    pub fn seed(&self, user: &str, host: &str, command: &str, renewed_ago: i64, duration: i64) {
        let now = jiff::Timestamp::now();
        let at = |ago: i64| (now - jiff::SignedDuration::from_secs(ago)).to_string();
        let mut lease = json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "obsctl-lock", "namespace": "monitoring", "annotations": {
                "obsctl.dev/user": user, "obsctl.dev/host": host, "obsctl.dev/command": command,
            }},
            "spec": {"holderIdentity": format!("{user}@{host} pid 1 1"), "leaseDurationSeconds": duration,
                     "acquireTime": at(renewed_ago + 30), "renewTime": at(renewed_ago),
                     "leaseTransitions": 0},
        });
        self.stamp(&mut lease);
        *self.lease.lock().unwrap() = Some(lease);
    }
}

impl Respond for LeaseStore {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = || serde_json::from_slice::<Value>(&request.body).unwrap_or(Value::Null);
        let current = self.get();
        let version = |v: &Value| {
            v["metadata"]["resourceVersion"]
                .as_str()
                .map(str::to_string)
        };
        match (request.method.as_str(), current) {
            ("POST", Some(_)) => status(
                409,
                "AlreadyExists",
                "leases.coordination.k8s.io \"obsctl-lock\" already exists",
            ),
            ("POST", None) => {
                let mut object = body();
                self.stamp(&mut object);
                *self.lease.lock().unwrap() = Some(object.clone());
                ResponseTemplate::new(201).set_body_json(object)
            }
            ("GET", Some(lease)) => ResponseTemplate::new(200).set_body_json(lease),
            (_, None) => status(
                404,
                "NotFound",
                "leases.coordination.k8s.io \"obsctl-lock\" not found",
            ),
            ("PUT", Some(_))
                if self
                    .refuse_renewals
                    .load(std::sync::atomic::Ordering::SeqCst) =>
            {
                status(
                    503,
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                )
            }
            ("PUT", Some(lease)) => {
                let mut object = body();
                if version(&object) != version(&lease) {
                    return status(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
                }
                self.stamp(&mut object);
                *self.lease.lock().unwrap() = Some(object.clone());
                self.replaced.lock().unwrap().push(object.clone());
                ResponseTemplate::new(200).set_body_json(object)
            }
            ("DELETE", Some(lease)) => {
                let options = body();
                let wanted = options["preconditions"]["resourceVersion"].as_str();
                if wanted.is_some() && wanted.map(str::to_string) != version(&lease) {
                    return status(
                        409,
                        "Conflict",
                        "Precondition failed: ResourceVersion mismatch",
                    );
                }
                *self.lease.lock().unwrap() = None;
                ResponseTemplate::new(200).set_body_json(json!({
                    "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                }))
            }
            _ => status(405, "MethodNotAllowed", "method not allowed"),
        }
    }
}

pub struct FakeKube {
    pub server: MockServer,
    pub leases: LeaseStore,
    dir: tempfile::TempDir,
}

impl FakeKube {
    /// A cluster where everything obsctl does succeeds: applies are answered with the object
    /// (CRDs Established at once), the Grafana Secret is missing and gets created, there are no
    /// claims and no CRDs listed. Tests mount more specific mocks with a lower priority number.
    pub async fn start() -> FakeKube {
        let server = MockServer::start().await;
        let leases = LeaseStore::default();
        Mock::given(path_regex(
            r"^/apis/coordination\.k8s\.io/v1/namespaces/monitoring/leases(/obsctl-lock)?$",
        ))
        .respond_with(leases.clone())
        .with_priority(5)
        .mount(&server)
        .await;
        Mock::given(method("PATCH"))
            .respond_with(Applied { established: true })
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(
                r"^/apis/apiextensions\.k8s\.io/v1/customresourcedefinitions/[^/]+$",
            ))
            .respond_with(|request: &Request| {
                let name = request.url.path().rsplit('/').next().unwrap().to_string();
                ResponseTemplate::new(200).set_body_json(crd(&name, "monitoring.coreos.com"))
            })
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(r"^/api/v1/namespaces/[^/]+/secrets/[^/]+$"))
            .respond_with(status(404, "NotFound", "secrets \"x\" not found"))
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/api/v1/namespaces/[^/]+/secrets$"))
            .respond_with(Created)
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(
                r"^/api/v1/namespaces/[^/]+/persistentvolumeclaims$",
            ))
            .respond_with(list("PersistentVolumeClaimList", "v1", vec![]))
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            ))
            .respond_with(list(
                "CustomResourceDefinitionList",
                "apiextensions.k8s.io/v1",
                vec![],
            ))
            .with_priority(10)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            })))
            .with_priority(10)
            .mount(&server)
            .await;
        let dir = tempfile::tempdir().unwrap();
        let kube = FakeKube {
            server,
            leases,
            dir,
        };
        kube.write_kubeconfig("fake");
        kube
    }

    /// Rewrites the kubeconfig with this current context (contexts `fake` and `other` both point
    /// at this server).
    pub fn write_kubeconfig(&self, current: &str) {
        let uri = self.server.uri();
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {current}\nclusters:\n- name: fake\n  cluster:\n    server: {uri}\n\
             users:\n- name: fake\n  user:\n    token: test-token\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: fake}}\n\
             - name: other\n  context: {{cluster: fake, user: fake}}\n"
        );
        std::fs::write(self.kubeconfig(), text).unwrap();
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    /// Every request except those for the stack's lock Lease (see `leases` and `all_requests`),
    /// so the tests of what a run changes are not about the lock.
    pub async fn requests(&self) -> Vec<Request> {
        self.all_requests()
            .await
            .into_iter()
            .filter(|r| !r.url.path().contains("/leases"))
            .collect()
    }

    pub async fn all_requests(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// `METHOD path` of every request but the lock's, in order.
    pub async fn calls(&self) -> Vec<String> {
        Self::lines(self.requests().await)
    }

    /// `METHOD path` of every request, the lock's included.
    pub async fn all_calls(&self) -> Vec<String> {
        Self::lines(self.all_requests().await)
    }

    fn lines(requests: Vec<Request>) -> Vec<String> {
        requests
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect()
    }
}
