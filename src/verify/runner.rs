//! Runs the checks on the scheduler (`crate::schedule`): each as soon as the checks it needs have
//! passed, all under one deadline. A check whose prerequisite did not pass is skipped with the reason. With `--only`,
//! prerequisites from other components still run, unreported; their failure is the dependent
//! check's failure.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::expect::Expectations;
use super::http::{format_duration, Endpoint};
use super::ids::{now_ns, RunIds};
use super::targets::{ClusterAccess, Credentials, Target, Urls};
use super::{CheckResult, Component, Status, VerifyReport};
use crate::cluster::port_forward::PortForward;

/// Everything one run needs.
pub struct Inputs {
    pub expect: Expectations,
    pub only: BTreeSet<Component>,
    /// Bounds the whole run.
    pub timeout: Duration,
    pub urls: Urls,
    pub cluster: ClusterAccess,
    /// From the environment; otherwise verify reads the profile's admin Secret.
    pub grafana_credentials: Option<Credentials>,
}

/// Called as each reported check finishes (a progress display).
pub type Progress = Arc<dyn Fn(&CheckResult) + Send + Sync>;

/// A check's verdict, with its one-line detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CheckVerdict {
    Pass(String),
    Fail(String),
    Skip(String),
}

impl CheckVerdict {
    fn split(self) -> (Status, String) {
        match self {
            CheckVerdict::Pass(d) => (Status::Pass, d),
            CheckVerdict::Fail(d) => (Status::Fail, d),
            CheckVerdict::Skip(d) => (Status::Skip, d),
        }
    }
}

impl From<Result<String, String>> for CheckVerdict {
    fn from(result: Result<String, String>) -> Self {
        match result {
            Ok(detail) => CheckVerdict::Pass(detail),
            Err(detail) => CheckVerdict::Fail(detail),
        }
    }
}

type CheckFn = Box<dyn FnOnce(Arc<Ctx>) -> BoxFuture<'static, CheckVerdict> + Send>;

/// One named check, the checks it needs (`component/check`), and what it does.
pub(crate) struct Check {
    pub component: Component,
    pub name: String,
    pub needs: Vec<String>,
    run: CheckFn,
}

impl Check {
    pub fn new<F, Fut>(component: Component, name: impl Into<String>, needs: &[&str], f: F) -> Self
    where
        F: FnOnce(Arc<Ctx>) -> Fut + Send + 'static,
        Fut: Future<Output = CheckVerdict> + Send + 'static,
    {
        Check {
            component,
            name: name.into(),
            needs: needs.iter().map(|n| n.to_string()).collect(),
            run: Box::new(move |ctx| Box::pin(f(ctx))),
        }
    }

    pub fn key(&self) -> String {
        format!("{}/{}", self.component, self.name)
    }
}

/// After the deadline, a check gets this long to report its own (more precise) timeout.
const GRACE: Duration = Duration::from_millis(250);

/// Shared state of one run: the deadline, the ids written into the stack, and connections made
/// once and reused (the cluster client, port-forwards, Grafana's credentials).
pub(crate) struct Ctx {
    pub expect: Expectations,
    pub deadline: Instant,
    pub timeout: Duration,
    pub ids: RunIds,
    /// When the run started, in Unix nanoseconds (query windows start before it).
    pub started_ns: u128,
    /// When this run's span was pushed to Tempo, in Unix nanoseconds: series made from it are
    /// newer.
    pub span_pushed_ns: std::sync::OnceLock<u128>,
    urls: Urls,
    cluster_access: ClusterAccess,
    /// The client, and the API server's address when a kubeconfig named it.
    cluster: OnceCell<Result<(kube::Client, String), String>>,
    endpoints: [OnceCell<Result<Endpoint, String>>; Target::COUNT],
    /// Kept alive for the run; dropping one stops its listener.
    forwards: Mutex<Vec<PortForward>>,
    env_credentials: Option<Credentials>,
    grafana_credentials: OnceCell<Result<Credentials, String>>,
}

impl Ctx {
    fn new(inputs: Inputs, started: Instant) -> Self {
        Ctx {
            deadline: started + inputs.timeout,
            timeout: inputs.timeout,
            expect: inputs.expect,
            ids: RunIds::fresh(),
            started_ns: now_ns(),
            span_pushed_ns: std::sync::OnceLock::new(),
            urls: inputs.urls,
            cluster_access: inputs.cluster,
            cluster: OnceCell::new(),
            endpoints: Default::default(),
            forwards: Mutex::new(Vec::new()),
            env_credentials: inputs.grafana_credentials,
            grafana_credentials: OnceCell::new(),
        }
    }

    /// `30s`, for messages.
    pub fn timeout_text(&self) -> String {
        format_duration(self.timeout)
    }

    /// A Kubernetes API call bounded by the deadline; errors say what was being done.
    pub async fn kube<T, E: std::error::Error + 'static>(
        &self,
        what: &str,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<T, String> {
        match tokio::time::timeout_at(self.deadline, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                let text = match (&e as &dyn std::error::Error).downcast_ref::<kube::Error>() {
                    Some(k) => crate::cluster::workloads::describe(k),
                    None => e.to_string(),
                };
                Err(format!("{}: {what}: {text}", self.api_name()))
            }
            Err(_) => Err(format!(
                "{}: {what}: no answer within {}",
                self.api_name(),
                self.timeout_text()
            )),
        }
    }

    /// `Kubernetes API at https://10.0.0.1:6443` when the address is known.
    pub fn api_name(&self) -> String {
        match self
            .cluster
            .get()
            .and_then(|c| c.as_ref().ok())
            .map(|(_, url)| url)
        {
            Some(url) => format!("Kubernetes API at {}", url.trim_end_matches('/')),
            None => "Kubernetes API".into(),
        }
    }

    /// The Kubernetes client, connected once.
    pub async fn cluster(&self) -> Result<kube::Client, String> {
        self.cluster
            .get_or_init(|| async {
                match tokio::time::timeout_at(self.deadline, self.cluster_access.connect()).await {
                    Ok(result) => result,
                    Err(_) => Err(format!(
                        "connecting to the cluster took longer than {}",
                        self.timeout_text()
                    )),
                }
            })
            .await
            .clone()
            .map(|(client, _)| client)
    }

    /// Where `target` answers: its URL flag, else a port-forward to its Service, made once.
    pub async fn endpoint(&self, target: Target) -> Result<Endpoint, String> {
        self.endpoints[target.index()]
            .get_or_init(|| self.resolve(target))
            .await
            .clone()
    }

    async fn resolve(&self, target: Target) -> Result<Endpoint, String> {
        if let Some(endpoint) = target.explicit(&self.urls) {
            return Ok(endpoint);
        }
        let namespace = &self.expect.namespace;
        let (service, port) = target.service(&self.expect.endpoints);
        let what = format!("svc/{service}.{namespace}:{port}");
        let client = self.cluster().await.map_err(|e| {
            format!(
                "no {} and the cluster is unreachable for a port-forward to {what}: {e}",
                target.flag()
            )
        })?;
        let forward = tokio::time::timeout_at(
            self.deadline,
            crate::cluster::port_forward::forward(client, namespace, &service, port),
        )
        .await
        .map_err(|_| format!("port-forward to {what}: no answer within the timeout"))?
        .map_err(|e| format!("port-forward to {what}: {e} (or pass {})", target.flag()))?;
        let url = format!("http://{}", forward.local_addr());
        self.forwards
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(forward);
        let base = url
            .parse()
            .map_err(|e| format!("port-forward to {what}: {e}"))?;
        Ok(Endpoint::new(base, true))
    }

    /// Grafana's credentials: from the environment, else the profile's admin Secret.
    pub async fn grafana_credentials(&self) -> Result<Credentials, String> {
        self.grafana_credentials
            .get_or_init(|| async {
                if let Some(credentials) = &self.env_credentials {
                    return Ok(credentials.clone());
                }
                let namespace = &self.expect.namespace;
                let secret = &self.expect.grafana_secret;
                let explain = |reason: String| {
                    format!(
                        "no Grafana credentials: set GRAFANA_USER and GRAFANA_PASSWORD (or GRAFANA_TOKEN), \
                         or let obsctl read Secret {namespace}/{secret}: {reason}"
                    )
                };
                let client = self.cluster().await.map_err(explain)?;
                let read = crate::cluster::workloads::secret_pair(
                    client,
                    namespace,
                    secret,
                    "admin-user",
                    "admin-password",
                );
                let (user, password) = self
                    .kube(&format!("reading Secret {namespace}/{secret}"), read)
                    .await
                    .map_err(explain)?;
                Ok(Credentials::Basic { user, password })
            })
            .await
            .clone()
    }
}

/// A context for one check's unit tests: the profile's expectations, Loki at `loki_url`, no
/// cluster, a 5 s deadline.
#[cfg(test)]
pub(crate) fn test_ctx(profile: &str, loki_url: Option<&str>) -> Ctx {
    let profile = crate::profile::load(profile).unwrap();
    let rendered = crate::render::render(&profile).unwrap();
    let inputs = Inputs {
        expect: Expectations::from_render(&profile, &rendered),
        only: BTreeSet::new(),
        timeout: Duration::from_secs(5),
        urls: Urls {
            loki: loki_url.map(|u| u.parse().unwrap()),
            ..Urls::default()
        },
        cluster: ClusterAccess {
            path: Some("/nonexistent".into()),
            context: None,
        },
        grafana_credentials: None,
    };
    Ctx::new(inputs, Instant::now())
}

/// What a finished check tells the checks that need it, and its result when it is reported.
#[derive(Clone, Debug)]
struct Finished {
    status: Status,
    detail: String,
    reported: bool,
    result: Option<CheckResult>,
}

/// Runs the selected checks and their prerequisites; returns the reported ones in catalog order.
pub async fn run(inputs: Inputs, progress: Option<Progress>) -> VerifyReport {
    let started = Instant::now();
    let only = inputs.only.clone();
    let ctx = Arc::new(Ctx::new(inputs, started));
    let catalog = catalog(&ctx.expect);

    let reported: HashSet<String> = catalog
        .iter()
        .filter(|c| only.contains(&c.component))
        .map(Check::key)
        .collect();
    let needs_of: HashMap<String, Vec<String>> =
        catalog.iter().map(|c| (c.key(), c.needs.clone())).collect();
    let mut wanted = reported.clone();
    let mut frontier: Vec<String> = wanted.iter().cloned().collect();
    while let Some(key) = frontier.pop() {
        for need in needs_of.get(&key).into_iter().flatten() {
            if needs_of.contains_key(need) && wanted.insert(need.clone()) {
                frontier.push(need.clone());
            }
        }
    }
    let checks: Vec<Check> = catalog
        .into_iter()
        .filter(|c| wanted.contains(&c.key()))
        .collect();

    let index: HashMap<String, usize> = checks
        .iter()
        .enumerate()
        .map(|(i, c)| (c.key(), i))
        .collect();
    let needs: Vec<Vec<usize>> = checks
        .iter()
        .map(|c| {
            c.needs
                .iter()
                .filter_map(|n| index.get(n).copied())
                .collect()
        })
        .collect();
    let mut nodes = CheckNodes {
        reported: checks.iter().map(|c| reported.contains(&c.key())).collect(),
        keys: checks.iter().map(Check::key).collect(),
        checks: checks.into_iter().map(Some).collect(),
        ctx,
        progress,
    };
    let results: Vec<CheckResult> = crate::schedule::run(&needs, &mut nodes)
        .await
        .into_iter()
        .flatten()
        .filter_map(|finished| finished.result)
        .collect();
    VerifyReport {
        checks: results,
        wall: started.elapsed(),
    }
}

/// The checks as nodes of the scheduler.
struct CheckNodes {
    checks: Vec<Option<Check>>,
    keys: Vec<String>,
    reported: Vec<bool>,
    ctx: Arc<Ctx>,
    progress: Option<Progress>,
}

impl CheckNodes {
    /// Runs a check whose prerequisites passed (unless its component is off or time is up).
    fn run_check(&mut self, i: usize) -> BoxFuture<'static, Finished> {
        let Check {
            component,
            name,
            run,
            ..
        } = self.checks[i].take().expect("each check runs once");
        let (ctx, progress, reported) = (self.ctx.clone(), self.progress.clone(), self.reported[i]);
        Box::pin(async move {
            let begun = Instant::now();
            let outcome = if let Some(reason) = ctx.expect.disabled(component) {
                CheckVerdict::Skip(reason)
            } else if begun >= ctx.deadline {
                CheckVerdict::Skip(format!(
                    "not started: the {} timeout ran out first",
                    ctx.timeout_text()
                ))
            } else {
                let limit = ctx.deadline + GRACE;
                let timeout = ctx.timeout_text();
                tokio::time::timeout_at(limit, run(ctx.clone()))
                    .await
                    .unwrap_or_else(|_| {
                        CheckVerdict::Fail(format!("did not finish within the {timeout} timeout"))
                    })
            };
            finish(component, name, outcome, begun, reported, progress.as_ref())
        })
    }
}

impl<'a> crate::schedule::Nodes<'a> for CheckNodes {
    type Result = Finished;

    fn start(&mut self, i: usize) -> BoxFuture<'a, Finished> {
        self.run_check(i)
    }

    fn blocked(&mut self, i: usize, need: usize, finished: &Finished) -> Finished {
        let check = self.checks[i].take().expect("each check runs once");
        let outcome = match self.ctx.expect.disabled(check.component) {
            Some(reason) => CheckVerdict::Skip(reason),
            None => blocked_by(&self.keys[need], finished),
        };
        finish(
            check.component,
            check.name,
            outcome,
            Instant::now(),
            self.reported[i],
            self.progress.as_ref(),
        )
    }

    fn succeeded(&self, finished: &Finished) -> bool {
        finished.status == Status::Pass
    }
}

/// What a check ended with, reported as it ends.
fn finish(
    component: Component,
    name: String,
    outcome: CheckVerdict,
    begun: Instant,
    reported: bool,
    progress: Option<&Progress>,
) -> Finished {
    let ran = !matches!(outcome, CheckVerdict::Skip(_));
    let (status, detail) = outcome.split();
    let result = CheckResult {
        component,
        check: name,
        status,
        detail: detail.clone(),
        duration_ms: if ran {
            begun.elapsed().as_millis() as u64
        } else {
            0
        },
    };
    if reported {
        if let Some(progress) = progress {
            progress(&result);
        }
    }
    Finished {
        status,
        detail,
        reported,
        result: reported.then_some(result),
    }
}

/// The outcome of a check whose prerequisite `need` did not pass.
fn blocked_by(need: &str, finished: &Finished) -> CheckVerdict {
    match (finished.status, finished.reported) {
        (Status::Fail, true) => CheckVerdict::Skip(format!("{need} failed")),
        (Status::Skip, true) => CheckVerdict::Skip(format!("{need} was skipped")),
        // Not reported (outside --only): its reason is this check's.
        (Status::Fail, false) => CheckVerdict::Fail(format!("{need}: {}", finished.detail)),
        (Status::Skip, false) | (Status::Pass, _) => {
            CheckVerdict::Skip(format!("{need}: {}", finished.detail))
        }
    }
}

/// Every check verify knows, in report order.
fn catalog(expect: &Expectations) -> Vec<Check> {
    let mut all = Vec::new();
    all.extend(super::workloads::checks());
    all.extend(super::prometheus::checks());
    all.extend(super::alertmanager::checks());
    all.extend(super::grafana::checks(expect));
    all.extend(super::loki::checks());
    all.extend(super::tempo::checks(expect));
    all.extend(super::correlation::checks());
    all.extend(super::collector::checks(expect));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(only: &[Component], edit: impl FnOnce(&mut crate::profile::Stack)) -> Inputs {
        let mut profile = crate::profile::load("dev").unwrap();
        edit(&mut profile.stack);
        let rendered = crate::render::render(&profile).unwrap();
        Inputs {
            expect: Expectations::from_render(&profile, &rendered),
            only: only.iter().copied().collect(),
            timeout: Duration::from_secs(5),
            urls: Urls::default(),
            cluster: ClusterAccess {
                path: Some("/nonexistent/kubeconfig".into()),
                context: None,
            },
            grafana_credentials: None,
        }
    }

    fn find<'a>(report: &'a VerifyReport, key: &str) -> &'a CheckResult {
        report
            .checks
            .iter()
            .find(|c| format!("{}/{}", c.component, c.check) == key)
            .unwrap()
    }

    #[tokio::test]
    async fn dependents_of_a_failed_check_are_skipped_with_the_reason() {
        let report = run(inputs(&[Component::Loki], |_| {}), None).await;
        let keys: Vec<String> = report
            .checks
            .iter()
            .map(|c| format!("{}/{}", c.component, c.check))
            .collect();
        assert_eq!(keys, ["loki/ready", "loki/push", "loki/read-back"]);
        assert_eq!(find(&report, "loki/ready").status, Status::Fail);
        assert!(find(&report, "loki/ready")
            .detail
            .contains("no --loki-url and the cluster is unreachable"));
        assert_eq!(find(&report, "loki/push").detail, "loki/ready failed");
        assert_eq!(
            find(&report, "loki/read-back").detail,
            "loki/push was skipped"
        );
        assert!(report.failed());
    }

    #[tokio::test]
    async fn a_check_that_does_not_apply_waits_for_nothing() {
        let report = run(
            inputs(&[Component::Tempo, Component::Collector], |s| {
                s.traces.metrics_generator = false;
                s.collector.mode = crate::profile::collector::CollectorMode::Deployment;
            }),
            None,
        )
        .await;
        let metrics = find(&report, "tempo/metrics-from-traces");
        assert_eq!(metrics.status, Status::Skip);
        assert_eq!(
            metrics.detail,
            "profile `dev` turns Tempo's metrics generator off"
        );
        let logs = find(&report, "collector/pod-logs");
        assert_eq!(logs.status, Status::Skip);
        assert!(
            logs.detail.contains("runs as a Deployment"),
            "{}",
            logs.detail
        );
    }

    #[tokio::test]
    async fn a_disabled_component_is_skipped_not_failed() {
        let report = run(
            inputs(&[Component::Loki, Component::Correlation], |s| {
                s.logs.enabled = false;
            }),
            None,
        )
        .await;
        assert!(!report.failed());
        for c in &report.checks {
            assert_eq!(c.status, Status::Skip, "{c:?}");
            assert!(c.detail.starts_with("profile `dev` disables"), "{c:?}");
        }
    }
}
