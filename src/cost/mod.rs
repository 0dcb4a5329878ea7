//! `obsctl cost`: storage each component needs over the profile's retention, the volume sizes that
//! hold it, the monthly storage bill, and what commercial vendors would charge for the same
//! workload. Uses `profile` and `render`; nothing uses it.

pub mod catalog;
pub(crate) mod chart;
pub(crate) mod compare;
pub(crate) mod report;
pub(crate) mod sizing;

use crate::profile::{position, Problem, Profile, ProfileError};
use crate::render::Rendered;
pub use catalog::{Catalog, CatalogError};
use compare::{Usage, VendorCost};
use sizing::{ComponentSizing, VolumeClaim};

const GIB: f64 = (1u64 << 30) as f64;

/// A storage price as used, with where it came from.
#[derive(Clone, Debug)]
pub struct PriceUsed {
    pub usd_per_gib_month: f64,
    /// `profile` or `catalog`.
    pub from: &'static str,
    pub description: String,
    pub source: String,
    pub date: String,
}

/// One component's size and monthly storage cost.
#[derive(Clone, Debug)]
pub struct ComponentCost {
    pub sizing: ComponentSizing,
    /// The volumes as the profile requests them (billed on provisioned size) plus the bucket.
    pub monthly_usd: f64,
    /// The same with the recommended volume size.
    pub recommended_monthly_usd: f64,
}

/// Everything `obsctl cost` reports.
#[derive(Clone, Debug)]
pub struct Estimate {
    pub profile: String,
    pub source: String,
    pub components: Vec<ComponentCost>,
    pub self_hosted_monthly_usd: f64,
    pub self_hosted_recommended_monthly_usd: f64,
    pub comparison: Vec<VendorCost>,
    pub usage: Usage,
    pub block_storage: PriceUsed,
    pub object_storage: PriceUsed,
    pub catalog: String,
    /// Undersized volumes and anything else that makes a figure misleading.
    pub warnings: Vec<String>,
    /// What the figures leave out.
    pub notes: Vec<String>,
}

/// Sizes, prices and compares. Fails (with positions) when the profile lacks the workload an
/// enabled component needs.
pub fn estimate(
    profile: &Profile,
    rendered: &Rendered,
    catalog: &Catalog,
) -> Result<Estimate, ProfileError> {
    let stack = &profile.stack;
    let workload = required_workload(profile)?;
    let claim = |components: &[&str]| -> Option<VolumeClaim> {
        rendered
            .releases
            .iter()
            .flat_map(|r| &r.volumes)
            .find(|v| components.contains(&v.component))
            .map(|v| (v.size.clone(), v.replicas))
    };

    let mut sizings = Vec::new();
    if let (true, Some(m)) = (stack.metrics.enabled, &workload.metrics) {
        sizings.push(sizing::prometheus(stack, m.active_series));
    }
    if let (true, Some(l)) = (stack.logs.enabled, &workload.logs) {
        sizings.push(sizing::loki(stack, l, claim(&["loki", "loki-ingester"])));
    }
    if let (true, Some(t)) = (stack.traces.enabled, &workload.traces) {
        sizings.push(sizing::tempo(stack, t, claim(&["tempo"])));
    }
    if stack.metrics.enabled && stack.alertmanager.enabled {
        sizings.push(sizing::alertmanager(claim(&["alertmanager"])));
    }
    sizings.push(sizing::grafana(claim(&["grafana"])));

    let pricing = stack.pricing.clone().unwrap_or_default();
    let price = |from_profile: Option<f64>, catalog_price: &catalog::Price| match from_profile {
        Some(p) => PriceUsed {
            usd_per_gib_month: p,
            from: "profile",
            description: format!("`pricing:` in {}", profile.source),
            source: profile.source.clone(),
            date: String::new(),
        },
        None => PriceUsed {
            usd_per_gib_month: catalog_price.price,
            from: "catalog",
            description: catalog_price.description.clone().unwrap_or_default(),
            source: catalog_price.source.clone(),
            date: catalog_price.date.clone(),
        },
    };
    let block = price(
        pricing.block_storage.map(|p| p.get()),
        &catalog.storage.block_storage,
    );
    let object = price(
        pricing.object_storage.map(|p| p.get()),
        &catalog.storage.object_storage,
    );

    let components: Vec<ComponentCost> = sizings
        .into_iter()
        .map(|s| {
            let bucket = s.object_storage_bytes / GIB * object.usd_per_gib_month;
            let volumes = |q: &Option<crate::profile::Quantity>| {
                q.as_ref().map_or(0.0, |q| q.gib()) * s.volumes as f64 * block.usd_per_gib_month
            };
            ComponentCost {
                monthly_usd: volumes(&s.requested) + bucket,
                recommended_monthly_usd: volumes(&s.recommended) + bucket,
                sizing: s,
            }
        })
        .collect();

    let usage = Usage::new(stack, workload);
    let comparison = compare::compare(catalog, &usage);

    let mut warnings: Vec<String> = components
        .iter()
        .filter_map(|c| c.sizing.warning.clone())
        .collect();
    if workload.hosts == 0 {
        warnings.push("workload.hosts is 0: per-host vendor prices count nothing".into());
    }
    if workload.users == 0 {
        warnings.push("workload.users is 0: per-seat vendor prices count nothing".into());
    }
    for vendor in &comparison {
        for line in vendor
            .lines
            .iter()
            .filter(|l| l.usd.is_none() && l.billable > 0.0)
        {
            warnings.push(format!(
                "{}: {} {} are billable as {} but the catalog has no sourced price for them ({}); its total is a lower bound",
                vendor.vendor,
                report::count(line.billable),
                line.unit,
                line.item,
                line.unpriced.as_deref().unwrap_or("unpriced"),
            ));
        }
    }
    let notes = vec![
        "self-hosted figures are storage only: compute, network egress, object-storage requests and the people who run the stack are not included; vendor prices include their equivalents".to_string(),
        "vendor figures are list prices from the catalog: no discounts, commitments or items the catalog does not list".to_string(),
        "a month is 730 hours; vendor GB are 10^9 bytes, storage GiB are 2^30 bytes".to_string(),
    ];

    Ok(Estimate {
        profile: stack.name.to_string(),
        source: profile.source.clone(),
        self_hosted_monthly_usd: components.iter().map(|c| c.monthly_usd).sum(),
        self_hosted_recommended_monthly_usd: components
            .iter()
            .map(|c| c.recommended_monthly_usd)
            .sum(),
        components,
        comparison,
        usage,
        block_storage: block,
        object_storage: object,
        catalog: catalog.origin.clone(),
        warnings,
        notes,
    })
}

/// The workload, with a figure for every enabled signal; positioned problems otherwise.
fn required_workload(
    profile: &Profile,
) -> Result<&crate::profile::workload::Traffic, ProfileError> {
    let stack = &profile.stack;
    let problem = |path: &[&str], message: String| Problem {
        pos: position(&profile.root, path),
        path: path.join("."),
        message,
    };
    let Some(w) = &stack.workload else {
        return Err(ProfileError::Invalid(vec![problem(
            &["workload"],
            "`obsctl cost` needs the workload the stack will carry; add e.g. `workload: {hosts: 15, users: 15, metrics: {activeSeries: 150000}, logs: {ingestPerDay: 20GiB}, traces: {spansPerSecond: 500}}`".into(),
        )]));
    };
    let mut problems = Vec::new();
    for (enabled, present, key, example) in [
        (
            stack.metrics.enabled,
            w.metrics.is_some(),
            "metrics",
            "metrics: {activeSeries: 150000}",
        ),
        (
            stack.logs.enabled,
            w.logs.is_some(),
            "logs",
            "logs: {ingestPerDay: 20GiB}",
        ),
        (
            stack.traces.enabled,
            w.traces.is_some(),
            "traces",
            "traces: {spansPerSecond: 500}",
        ),
    ] {
        if enabled && !present {
            problems.push(problem(
                &["workload"],
                format!("`{key}` is enabled but the workload does not say how much it carries; add `{example}` under `workload` (or disable {key})"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(w)
    } else {
        Err(ProfileError::Invalid(problems))
    }
}
