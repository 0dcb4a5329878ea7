//! `obsctl cost`: storage each component needs over the profile's retention, the volume sizes that
//! hold it, the compute its pods request, the people who run it (when the profile says), and what
//! commercial vendors would charge for the same workload; `--scale` repeats it over a range of
//! workloads. Uses `profile` and `render`; nothing uses it.

pub mod catalog;
pub(crate) mod chart;
pub(crate) mod compare;
pub(crate) mod compute;
pub(crate) mod report;
pub(crate) mod scale;
pub(crate) mod sizing;

use crate::profile::{position, Problem, Profile, ProfileError};
use crate::render::Rendered;
pub use catalog::{Catalog, CatalogError};
use compare::{Usage, VendorCost};
pub use scale::{Sweep, SweepError};
use sizing::{ComponentSizing, VolumeClaim};

const GIB: f64 = (1u64 << 30) as f64;

/// A price as used, with where it came from.
#[derive(Clone, Debug)]
pub struct PriceUsed {
    pub price: f64,
    /// What the price is per: `GiB-month`, `vCPU-hour`, `GiB-hour`.
    pub unit: &'static str,
    /// `profile` or `catalog`.
    pub from: &'static str,
    pub description: String,
    pub source: String,
    pub date: String,
    /// Why a catalog price is not confirmed on its source page, where it is not.
    pub unconfirmed: Option<String>,
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

/// The stack's pods priced on their requests.
#[derive(Clone, Debug)]
pub struct ComputeCost {
    pub inventory: compute::Inventory,
    pub vcpu_hour: PriceUsed,
    pub gib_hour: PriceUsed,
    pub node_overhead: catalog::Figure,
    pub monthly_usd: f64,
}

/// `pricing.operations`: the people who run the stack.
#[derive(Clone, Copy, Debug)]
pub struct OperationsCost {
    pub hours_per_month: f64,
    pub hourly_rate: f64,
    pub monthly_usd: f64,
}

/// Everything `obsctl cost` reports.
#[derive(Clone, Debug)]
pub struct Estimate {
    pub profile: String,
    pub source: String,
    pub components: Vec<ComponentCost>,
    /// Volumes as the profile requests them, plus buckets.
    pub storage_monthly_usd: f64,
    /// Volumes at the recommended sizes, plus buckets.
    pub storage_recommended_monthly_usd: f64,
    pub compute: ComputeCost,
    pub operations: Option<OperationsCost>,
    /// Storage (as requested) + compute + operations.
    pub self_hosted_monthly_usd: f64,
    /// Storage (at the recommended sizes) + compute + operations.
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
    let sizings = sizings(stack, rendered, workload);

    let pricing = stack.pricing.clone().unwrap_or_default();
    let price = |from_profile: Option<f64>, catalog_price: &catalog::Price, unit| match from_profile
    {
        Some(p) => PriceUsed {
            price: p,
            unit,
            from: "profile",
            description: format!("`pricing:` in {}", profile.source),
            source: profile.source.clone(),
            date: String::new(),
            unconfirmed: None,
        },
        None => PriceUsed {
            price: catalog_price.price,
            unit,
            from: "catalog",
            description: catalog_price.description.clone().unwrap_or_default(),
            source: catalog_price.source.clone(),
            date: catalog_price.date.clone(),
            unconfirmed: catalog_price.unconfirmed.clone(),
        },
    };
    let block = price(
        pricing.block_storage.map(|p| p.get()),
        &catalog.storage.block_storage,
        "GiB-month",
    );
    let object = price(
        pricing.object_storage.map(|p| p.get()),
        &catalog.storage.object_storage,
        "GiB-month",
    );
    let vcpu_hour = price(
        pricing.vcpu_hour.map(|p| p.get()),
        &catalog.compute.vcpu_hour,
        "vCPU-hour",
    );
    let gib_hour = price(
        pricing.gib_hour.map(|p| p.get()),
        &catalog.compute.gib_hour,
        "GiB-hour",
    );

    let components: Vec<ComponentCost> = sizings
        .into_iter()
        .map(|s| {
            let bucket = s.object_storage_bytes / GIB * object.price;
            let volumes = |q: &Option<crate::profile::Quantity>| {
                q.as_ref().map_or(0.0, |q| q.gib()) * s.volumes as f64 * block.price
            };
            ComponentCost {
                monthly_usd: volumes(&s.requested) + bucket,
                recommended_monthly_usd: volumes(&s.recommended) + bucket,
                sizing: s,
            }
        })
        .collect();

    let inventory = compute::inventory(rendered, u64::from(workload.hosts));
    let node_overhead = catalog.compute.node_overhead.clone();
    let compute_usd = compute::monthly_usd(
        &inventory,
        vcpu_hour.price,
        gib_hour.price,
        node_overhead.value,
    );
    let compute = ComputeCost {
        inventory,
        vcpu_hour,
        gib_hour,
        node_overhead,
        monthly_usd: compute_usd,
    };
    let operations = pricing.operations.map(|o| OperationsCost {
        hours_per_month: o.hours_per_month.get(),
        hourly_rate: o.hourly_rate.get(),
        monthly_usd: o.hours_per_month.get() * o.hourly_rate.get(),
    });

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
    for release in &compute.inventory.unreviewed {
        warnings.push(format!(
            "compute: {release} is a chart version whose default requests obsctl has not reviewed; its pods are not in the compute line"
        ));
    }
    for vendor in &comparison {
        for line in vendor
            .lines
            .iter()
            .filter(|l| l.usd.is_none() && l.billable > 0.0)
        {
            warnings.push(format!(
                "{}: {} {} are billable as `{}`, for which {} publishes no list price ({}); its total leaves them out and is a lower bound (≥)",
                vendor.vendor,
                report::count(line.billable),
                line.unit,
                line.item,
                vendor.name,
                line.unpriced.as_deref().unwrap_or("unpriced"),
            ));
        }
    }
    let mut notes = vec![
        format!(
            "compute is the pods' requests × {} hours × the node-overhead factor {} ({}); pods run what they request, so set requests in the profile for any pod listed without them",
            compare::HOURS_PER_MONTH,
            compute.node_overhead.value,
            compute.node_overhead.description.as_deref().unwrap_or("nodes per unit of requests"),
        ),
        "not included on the self-hosted side: the Kubernetes control-plane fee, network egress, object-storage operations, backups".to_string(),
    ];
    let per_node = compute.inventory.per_node();
    if !per_node.pods.is_empty() {
        let usd = compute::monthly_usd(
            &per_node,
            compute.vcpu_hour.price,
            compute.gib_hour.price,
            compute.node_overhead.value,
        );
        notes.push(format!(
            "the per-node pods ({}) are {} of the compute line; a vendor needs its own agent on every node too, whose compute no vendor total here includes",
            per_node.pods.iter().map(|p| p.pod.as_str()).collect::<Vec<_>>().join(", "),
            report::usd(usd),
        ));
    }
    if operations.is_none() {
        notes.push("the people who run the stack are not counted: set `pricing.operations: {hoursPerMonth, hourlyRate}` in the profile to add them (vendors' prices include theirs)".to_string());
    }
    notes.push("vendor figures are list prices from the catalog: no discounts, commitments or items the catalog does not list".to_string());
    let unconfirmed = unconfirmed_figures(&block, &object, &compute, &comparison);
    if !unconfirmed.is_empty() {
        notes.push(format!(
            "not confirmed on their source pages (the catalog says why for each): {}; check them on the live pages before you publish a comparison, or pass your own with `--pricing FILE`",
            unconfirmed.join(", ")
        ));
    }
    notes.push(
        "a month is 730 hours; vendor GB are 10^9 bytes, storage GiB are 2^30 bytes".to_string(),
    );
    let storage_usd: f64 = components.iter().map(|c| c.monthly_usd).sum();
    let storage_recommended_usd: f64 = components.iter().map(|c| c.recommended_monthly_usd).sum();
    let fixed = compute.monthly_usd + operations.map_or(0.0, |o| o.monthly_usd);

    Ok(Estimate {
        profile: stack.name.to_string(),
        source: profile.source.clone(),
        storage_monthly_usd: storage_usd,
        storage_recommended_monthly_usd: storage_recommended_usd,
        self_hosted_monthly_usd: storage_usd + fixed,
        self_hosted_recommended_monthly_usd: storage_recommended_usd + fixed,
        compute,
        operations,
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

/// Storage sizing of every enabled component for the workload.
fn sizings(
    stack: &crate::profile::Stack,
    rendered: &Rendered,
    workload: &crate::profile::workload::Traffic,
) -> Vec<ComponentSizing> {
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
    sizings
}

/// Volumes too small for the profile's own `workload:` (data loss or a disk that fills), for
/// `profile validate` and `plan` to warn of and `up` to refuse. Empty without a workload.
pub fn volume_findings(profile: &Profile, rendered: &Rendered) -> Vec<String> {
    let Some(workload) = &profile.stack.workload else {
        return Vec::new();
    };
    sizings(&profile.stack, rendered, workload)
        .into_iter()
        .filter_map(|s| s.warning)
        .collect()
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

/// The figures this estimate used that the catalog marks `unconfirmed`, by name.
fn unconfirmed_figures(
    block: &PriceUsed,
    object: &PriceUsed,
    compute: &ComputeCost,
    comparison: &[compare::VendorCost],
) -> Vec<String> {
    let mut out: Vec<String> = [
        ("block storage", block),
        ("object storage", object),
        ("vCPU-hour", &compute.vcpu_hour),
        ("GiB-hour", &compute.gib_hour),
    ]
    .into_iter()
    .filter(|(_, p)| p.unconfirmed.is_some())
    .map(|(name, _)| name.to_string())
    .collect();
    if compute.node_overhead.unconfirmed.is_some() {
        out.push("node overhead".into());
    }
    for vendor in comparison {
        out.extend(
            vendor
                .lines
                .iter()
                .filter(|l| l.unconfirmed.is_some() && l.price.is_some())
                .map(|l| format!("{} {}", vendor.name, l.item)),
        );
    }
    out
}
