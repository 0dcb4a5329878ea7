//! Budget reports from given SLI samples: arithmetic, policy states, the table and Markdown.

use super::*;

fn policy() -> Policy {
    Policy {
        healthy: 50.0,
        low: 10.0,
        ..Policy::default()
    }
}

#[test]
fn states_follow_the_policy_boundaries() {
    let p = policy();
    let cases = [
        (100.0, BudgetState::Healthy),
        (50.1, BudgetState::Healthy),
        (50.0, BudgetState::Low),
        (10.0, BudgetState::Low),
        (9.99, BudgetState::Exhausted),
        (-250.0, BudgetState::Exhausted),
    ];
    for (remaining, want) in cases {
        assert_eq!(
            BudgetState::from_remaining(remaining, &p),
            want,
            "{remaining}"
        );
    }
    assert!(BudgetState::Exhausted > BudgetState::Low && BudgetState::Low > BudgetState::Healthy);
    assert_eq!(
        BudgetState::Exhausted.actions(),
        "feature freeze: only reliability work ships"
    );
}

fn slo_report(name: &str, remaining: Option<f64>) -> SloReport {
    let state = remaining.map(|r| BudgetState::from_remaining(r * 100.0, &policy()));
    SloReport {
        name: name.into(),
        group: Default::default(),
        service: "shop".into(),
        objective: 99.9,
        window: "30d".into(),
        period_start: "2026-01-01T00:00:00Z".into(),
        period_end: "2026-01-31T00:00:00Z".into(),
        error_budget_ratio: 0.001,
        total_events: remaining.map(|_| 1_000_000.0),
        bad_events: remaining.map(|r| (1.0 - r) * 1000.0),
        sli: remaining.map(|r| 1.0 - (1.0 - r) * 0.001),
        budget_remaining: remaining,
        budget_remaining_minutes: remaining.map(|r| r * 43.2),
        state,
        actions: state.map(BudgetState::actions),
        burn_rates: vec![
            BurnRate {
                window: "5m".into(),
                burn_rate: Some(0.5),
            },
            BurnRate {
                window: "1h".into(),
                burn_rate: None,
            },
        ],
        firing_alerts: vec![],
        notes: vec![],
    }
}

fn report() -> BudgetReport {
    BudgetReport {
        profile: "p".into(),
        prometheus_url: "http://127.0.0.1:9090".into(),
        time: "2026-01-31T00:00:00Z".into(),
        policy: PolicyJson {
            healthy: 50.0,
            low: 10.0,
        },
        slos: vec![
            slo_report("fine", Some(0.8)),
            slo_report("tight", Some(0.3)),
            slo_report("gone", Some(-0.2)),
            slo_report("blind", None),
        ],
    }
}

#[test]
fn the_gate_fails_at_or_below_its_state_and_without_data() {
    let r = report();
    let names = |t| {
        r.failing(t)
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(BudgetState::Low), ["tight", "gone", "blind"]);
    assert_eq!(names(BudgetState::Exhausted), ["gone", "blind"]);
}

#[test]
fn markdown_has_the_summary_burn_rates_and_verdicts() {
    let md = report().markdown();
    assert!(md.starts_with("# SLO report · p\n"), "{md}");
    assert!(
        md.contains("| fine | shop | 99.9% / 30d | 99.980% | 80.0% (34m34s) | healthy | - |"),
        "{md}"
    );
    assert!(
        md.contains("| gone | shop | 99.9% / 30d | 99.880% | -20.0% (overspent) | exhausted | - |"),
        "{md}"
    );
    assert!(
        md.contains("| blind | shop | 99.9% / 30d | no data | - | unknown | - |"),
        "{md}"
    );
    assert!(md.contains("| SLO | 5m | 1h |"), "{md}");
    assert!(md.contains("| fine | 0.50× | no data |"), "{md}");
    assert!(
        md.contains("- tight: low — more review; load tests for major changes"),
        "{md}"
    );
}
