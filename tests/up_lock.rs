//! One writer per stack: `up` and `down` hold a Lease in the stack's namespace, against the fake
//! Kubernetes API (which keeps the Lease with the API server's optimistic concurrency): a live
//! lock refuses a second run naming its holder, an expired one is taken over, `--force-unlock`
//! takes a live one, the lock is renewed while the run lasts and released on success and on
//! error, and `--dry-run` and `plan` take none.

mod common;
mod up_support;

use up_support::fake_kube::FakeKube;
use up_support::{text, FakeHelm};

const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/monitoring/leases";

fn user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

async fn lease_calls(kube: &FakeKube) -> Vec<String> {
    kube.all_calls()
        .await
        .into_iter()
        .filter(|c| c.contains("/leases"))
        .collect()
}

#[tokio::test]
async fn a_live_lock_refuses_up_and_down_naming_the_holder_and_changes_nothing() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    kube.leases.seed(
        "bob",
        "ci-runner-7",
        "obsctl up --profile production",
        5,
        60,
    );
    let before = kube.leases.get();
    for command in ["up", "down"] {
        let output = helm.obsctl(&kube, &[command, "--yes"]).output().unwrap();
        let (stdout, stderr) = text(&output);
        assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
        assert!(
            stderr.contains(
                "namespace `monitoring` is locked by bob@ci-runner-7 (`obsctl up --profile production`, since "
            ),
            "{stderr}"
        );
        assert!(stderr.contains("or pass --force-unlock"), "{stderr}");
        assert!(stderr.contains("expires at "), "{stderr}");
    }
    assert!(helm.calls_of("upgrade").is_empty(), "{:#?}", helm.calls());
    assert!(helm.calls_of("uninstall").is_empty(), "{:#?}", helm.calls());
    // Nothing was applied, and the other run's Lease is untouched.
    assert!(!kube.calls().await.iter().any(|c| c.starts_with("PATCH")));
    assert_eq!(kube.leases.get(), before);
}

#[tokio::test]
async fn up_holds_the_lock_while_it_runs_and_releases_it_at_the_end() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let output = helm
        .obsctl(&kube, &["up", "--yes"])
        // Renewed every second: kube-prometheus-stack's 2.5 s see at least one renewal.
        .env("OBSCTL_LEASE_SECONDS", "3")
        .env("FAKE_HELM_SLEEP", "kube-prometheus-stack=2.5")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let calls = lease_calls(&kube).await;
    assert_eq!(
        calls.first().unwrap(),
        &format!("POST {LEASES}"),
        "{calls:#?}"
    );
    assert_eq!(
        calls.last().unwrap(),
        &format!("DELETE {LEASES}/obsctl-lock"),
        "{calls:#?}"
    );
    assert_eq!(kube.leases.get(), None, "the lock was not released");

    // Taken before the first change, released after the last.
    let all = kube.all_calls().await;
    let first_change = all.iter().position(|c| c.starts_with("PATCH")).unwrap();
    let taken = all
        .iter()
        .position(|c| c.starts_with("POST") && c.contains("/leases"))
        .unwrap();
    let released = all
        .iter()
        .rposition(|c| c.starts_with("DELETE") && c.contains("/leases"))
        .unwrap();
    assert!(taken < first_change && released > first_change, "{all:#?}");

    // The created Lease names this user, the command and a 3 s duration; renewals keep the
    // holder and move renewTime forward.
    let created: serde_json::Value = kube
        .all_requests()
        .await
        .iter()
        .find(|r| r.method.as_str() == "POST" && r.url.path() == LEASES)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .unwrap();
    assert_eq!(
        created["metadata"]["annotations"]["obsctl.dev/user"],
        user()
    );
    assert_eq!(
        created["metadata"]["annotations"]["obsctl.dev/command"],
        "obsctl up --profile dev"
    );
    assert_eq!(created["spec"]["leaseDurationSeconds"], 3);
    let renewals = kube.leases.replaced.lock().unwrap().clone();
    assert!(!renewals.is_empty(), "never renewed: {calls:#?}");
    for renewal in &renewals {
        assert_eq!(
            renewal["spec"]["holderIdentity"],
            created["spec"]["holderIdentity"]
        );
        assert!(
            renewal["spec"]["renewTime"].as_str().unwrap()
                > created["spec"]["renewTime"].as_str().unwrap(),
            "{renewal}"
        );
    }
}

#[tokio::test]
async fn an_expired_lock_is_taken_over_and_a_live_one_only_with_force_unlock() {
    // Renewed 120 s ago with a 60 s duration: its run is gone.
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    kube.leases
        .seed("bob", "ci-runner-7", "obsctl up --profile dev", 120, 60);
    let output = helm.obsctl(&kube, &["up", "--yes"]).output().unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let takeover = kube.leases.replaced.lock().unwrap()[0].clone();
    assert_eq!(
        takeover["metadata"]["annotations"]["obsctl.dev/user"],
        user()
    );
    assert_eq!(takeover["spec"]["leaseTransitions"], 1);
    assert_eq!(kube.leases.get(), None);

    // A live lock, taken over explicitly.
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    kube.leases
        .seed("bob", "ci-runner-7", "obsctl down --profile dev", 1, 60);
    let output = helm
        .obsctl(&kube, &["up", "--yes", "--force-unlock"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(helm.upgraded().len(), 4);
    let takeover = kube.leases.replaced.lock().unwrap()[0].clone();
    assert_eq!(
        takeover["metadata"]["annotations"]["obsctl.dev/user"],
        user()
    );
    assert_eq!(kube.leases.get(), None);
}

#[tokio::test]
async fn the_lock_is_released_when_up_or_down_fails() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    let output = helm
        .obsctl(&kube, &["up", "--yes"])
        .env("FAKE_HELM_FAIL", "loki")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{:?}", text(&output));
    assert_eq!(kube.leases.get(), None, "{:#?}", lease_calls(&kube).await);

    let output = helm
        .obsctl(&kube, &["down", "--yes"])
        .env("FAKE_HELM_FAIL", "tempo")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{:?}", text(&output));
    let calls = lease_calls(&kube).await;
    assert_eq!(
        calls.iter().filter(|c| c.starts_with("POST")).count(),
        2,
        "down took no lock: {calls:#?}"
    );
    assert_eq!(kube.leases.get(), None, "{calls:#?}");
}

#[tokio::test]
async fn a_failed_renewal_warns_and_the_run_goes_on_holding_the_lock() {
    // A renewal every second, all refused: a run shorter than the lease still holds it, so it
    // warns and finishes, and releases the lock at the end.
    let kube = FakeKube::start().await;
    kube.leases
        .refuse_renewals
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let helm = FakeHelm::new();
    let output = helm
        .obsctl(&kube, &["up", "--yes"])
        .env("OBSCTL_LEASE_SECONDS", "3")
        .env("FAKE_HELM_SLEEP", "kube-prometheus-stack=1.5")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("warning: could not renew the lock Lease monitoring/obsctl-lock: "),
        "{stderr}"
    );
    assert!(kube.leases.replaced.lock().unwrap().is_empty());
    assert_eq!(helm.upgraded().len(), 4);
    assert_eq!(kube.leases.get(), None, "released at the end");
}

#[tokio::test]
async fn dry_run_and_plan_take_no_lock() {
    let kube = FakeKube::start().await;
    let helm = FakeHelm::new();
    kube.leases
        .seed("bob", "ci-runner-7", "obsctl up --profile dev", 1, 60);
    let output = helm.obsctl(&kube, &["up", "--dry-run"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let output = helm.obsctl(&kube, &["plan", "--diff"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert!(lease_calls(&kube).await.is_empty());
}
