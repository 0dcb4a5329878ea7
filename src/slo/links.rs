//! Where the runbook of an SLO's alert lives, decided once for the rules (`runbook_url`), the
//! runbook files (their section anchors) and the runbook dashboards (their uids).
//!
//! `runbook_url` is, in order: the SLO's `alerting.runbookUrl`; `runbooks.baseUrl` +
//! `<slo>.md#<tier anchor>`; the runbook dashboard at `grafana.url`; the runbook dashboard at
//! Grafana's in-cluster address (the profile lint warns that people outside cannot open it).

use crate::profile::slo::{Slo, Tier};
use crate::profile::Stack;

/// Grafana refuses dashboard uids longer than this.
const MAX_UID_LEN: usize = 40;
const UID_PREFIX: &str = "obsctl-runbook-";

/// The anchor of a tier's section in the runbook: `critical-1h-5m`, like the alert's labels.
pub fn tier_anchor(tier: &Tier) -> String {
    format!(
        "{}-{}-{}",
        tier.severity.as_str(),
        tier.long_window(),
        tier.short_window()
    )
}

/// The runbook file of an SLO, relative to a render's output directory.
pub fn runbook_path(slo: &Slo) -> String {
    format!("runbooks/{}.md", slo.name)
}

/// The fixed uid of an SLO's runbook dashboard: `obsctl-runbook-<slo>`, or for names too long for
/// Grafana, their start and a hash of the whole name (stable across releases: FNV-1a).
pub fn dashboard_uid(slo: &Slo) -> String {
    let name = slo.name.as_str();
    let uid = format!("{UID_PREFIX}{name}");
    if uid.len() <= MAX_UID_LEN {
        return uid;
    }
    let hash = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let keep = MAX_UID_LEN - UID_PREFIX.len() - 9;
    format!(
        "{UID_PREFIX}{}-{hash:08x}",
        name[..keep].trim_end_matches('-')
    )
}

/// Grafana's address for people: `grafana.url`, else the in-cluster Service.
pub fn grafana_base(stack: &Stack) -> String {
    match &stack.grafana.url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => crate::render::endpoints::grafana_service(stack.namespace.as_str()).url(),
    }
}

/// The runbook dashboard of an SLO at Grafana's address.
pub fn dashboard_url(stack: &Stack, slo: &Slo) -> String {
    format!("{}/d/{}", grafana_base(stack), dashboard_uid(slo))
}

/// The `runbook_url` of a tier's alert.
pub fn runbook_url(stack: &Stack, slo: &Slo, tier: &Tier) -> String {
    runbook_url_at(stack, slo, &tier_anchor(tier))
}

/// The `runbook_url` of an alert whose runbook section is `anchor`.
fn runbook_url_at(stack: &Stack, slo: &Slo, anchor: &str) -> String {
    if let Some(url) = &slo.alerting.runbook_url {
        return url.clone();
    }
    if let Some(base) = &stack.runbooks.base_url {
        return format!("{}/{}.md#{anchor}", base.trim_end_matches('/'), slo.name);
    }
    dashboard_url(stack, slo)
}

/// The anchor of the runbook's section for `SLOMetricAbsent`.
pub const NO_DATA_ANCHOR: &str = "no-data";

/// The `runbook_url` of the SLO's `SLOMetricAbsent` alert: like a tier's, at the no-data section.
pub fn no_data_runbook_url(stack: &Stack, slo: &Slo) -> String {
    runbook_url_at(stack, slo, NO_DATA_ANCHOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::slo::TIERS;

    fn stack(extra: &str) -> Stack {
        let text = format!("name: t\nmetrics: {{retention: 30d}}\n{extra}slos:\n  - name: a\n    service: s\n    objective: 99.9\n    window: 30d\n    indicator: {{ratio: {{errors: 'e{{c=\"5\"}}', total: e}}}}\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, text).unwrap();
        crate::profile::load_file(&path).unwrap().stack
    }

    #[test]
    fn runbook_urls_resolve_in_order() {
        let s = stack("runbooks: {baseUrl: 'https://git.example.org/ops/runbooks/'}\ngrafana: {url: 'https://grafana.example.org'}\n");
        assert_eq!(
            runbook_url(&s, &s.slos[0], &TIERS[0]),
            "https://git.example.org/ops/runbooks/a.md#critical-1h-5m"
        );
        let s = stack("grafana: {url: 'https://grafana.example.org/'}\n");
        assert_eq!(
            runbook_url(&s, &s.slos[0], &TIERS[3]),
            "https://grafana.example.org/d/obsctl-runbook-a"
        );
        let s = stack("");
        assert_eq!(
            runbook_url(&s, &s.slos[0], &TIERS[3]),
            "http://grafana.monitoring.svc.cluster.local:80/d/obsctl-runbook-a"
        );
    }

    #[test]
    fn dashboard_uids_fit_grafana_and_stay_distinct() {
        let mut slo = stack("").slos.remove(0);
        assert_eq!(dashboard_uid(&slo), "obsctl-runbook-a");
        let long = "checkout-availability-of-the-eu-west-region-payments";
        slo.name = long.parse().unwrap();
        let uid = dashboard_uid(&slo);
        assert!(uid.len() <= MAX_UID_LEN, "{uid}");
        slo.name = format!("{long}-2").parse().unwrap();
        assert_ne!(dashboard_uid(&slo), uid);
        assert_eq!(
            TIERS.iter().map(tier_anchor).collect::<Vec<_>>(),
            [
                "critical-1h-5m",
                "critical-6h-30m",
                "warning-1d-2h",
                "warning-3d-6h"
            ]
        );
    }
}
