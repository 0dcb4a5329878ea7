//! The comparison: each vendor's pricing model from the catalog applied to the same workload.

use serde::Serialize;

use super::catalog::{Catalog, Item, Quantity, Signal, Vendor};
use crate::profile::workload::Traffic;
use crate::profile::Stack;

/// Hours in a billing month, as cloud providers count them (8,760 h / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;
const SECONDS_PER_MONTH: f64 = HOURS_PER_MONTH * 3600.0;
const DAYS_PER_MONTH: f64 = HOURS_PER_MONTH / 24.0;
/// Vendors bill decimal gigabytes.
const GB: f64 = 1e9;

/// The workload as monthly billable quantities.
#[derive(Clone, Debug, Serialize)]
pub struct Usage {
    pub hosts: f64,
    pub users: f64,
    pub active_series: f64,
    pub metric_samples: f64,
    pub log_gb: f64,
    pub log_events: f64,
    pub trace_gb: f64,
    #[serde(skip)]
    pub logs_retention_secs: u64,
    #[serde(skip)]
    pub traces_retention_secs: u64,
}

impl Usage {
    pub fn new(stack: &Stack, w: &Traffic) -> Usage {
        let active_series = w.metrics.as_ref().map_or(0, |m| m.active_series) as f64;
        let interval = stack.metrics.scrape_interval.as_secs().max(1) as f64;
        let log_bytes = w
            .logs
            .as_ref()
            .map_or(0.0, |l| l.ingest_per_day.bytes() as f64 * DAYS_PER_MONTH);
        let log_events = w
            .logs
            .as_ref()
            .map_or(0.0, |l| log_bytes / l.bytes_per_event() as f64);
        let trace_bytes = w.traces.as_ref().map_or(0.0, |t| {
            t.spans_per_second.get() * t.bytes_per_span() as f64 * SECONDS_PER_MONTH
        });
        Usage {
            hosts: w.hosts as f64,
            users: w.users as f64,
            active_series,
            metric_samples: active_series / interval * SECONDS_PER_MONTH,
            log_gb: log_bytes / GB,
            log_events,
            trace_gb: trace_bytes / GB,
            logs_retention_secs: stack.logs.retention.as_secs(),
            traces_retention_secs: stack.traces.retention.as_secs(),
        }
    }

    fn metric_gb(&self, vendor: &Vendor) -> f64 {
        vendor
            .metric_bytes_per_sample
            .as_ref()
            .map_or(0.0, |f| self.metric_samples * f.value / GB)
    }

    fn quantity(&self, q: Quantity, vendor: &Vendor) -> f64 {
        match q {
            Quantity::Month => 1.0,
            Quantity::Hosts => self.hosts,
            Quantity::Users => self.users,
            Quantity::ActiveSeries => self.active_series,
            Quantity::LogGb => self.log_gb,
            Quantity::LogEvents => self.log_events,
            Quantity::TraceGb => self.trace_gb,
            Quantity::MetricGb => self.metric_gb(vendor),
            Quantity::IngestGb => self.metric_gb(vendor) + self.log_gb + self.trace_gb,
        }
    }
}

/// One line of a vendor's estimated bill.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    pub item: String,
    pub description: String,
    pub quantity: f64,
    pub unit: &'static str,
    #[serde(skip)]
    pub unit_singular: &'static str,
    /// What the item bills (for grouping lines into categories).
    #[serde(skip)]
    pub kind: Quantity,
    pub included: f64,
    pub billable: f64,
    /// USD per `per` units.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    pub per: f64,
    /// None when the catalog has no sourced price for the item.
    pub usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpriced: Option<String>,
    pub source: String,
    pub date: String,
    /// Why the price is not confirmed on its source page, where it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unconfirmed: Option<String>,
}

/// A vendor's monthly estimate.
#[derive(Clone, Debug, Serialize)]
pub struct VendorCost {
    pub vendor: String,
    pub name: String,
    pub plan: String,
    pub monthly_usd: f64,
    pub lines: Vec<Line>,
    /// Some billable quantity has no sourced price: the total is a lower bound.
    pub incomplete: bool,
}

/// Applies every vendor of the catalog to the usage.
pub fn compare(catalog: &Catalog, usage: &Usage) -> Vec<VendorCost> {
    catalog
        .vendors
        .0
        .iter()
        .map(|(id, vendor)| vendor_cost(id, vendor, usage))
        .collect()
}

fn vendor_cost(id: &str, vendor: &Vendor, usage: &Usage) -> VendorCost {
    let lines: Vec<Line> = vendor
        .items
        .0
        .iter()
        .map(|(item_id, item)| line(item_id, item, vendor, usage))
        .collect();
    let monthly_usd = lines.iter().filter_map(|l| l.usd).sum();
    let incomplete = lines.iter().any(|l| l.usd.is_none() && l.billable > 0.0);
    VendorCost {
        vendor: id.to_string(),
        name: vendor.name.clone(),
        plan: vendor.plan.clone(),
        monthly_usd,
        lines,
        incomplete,
    }
}

fn line(item_id: &str, item: &Item, vendor: &Vendor, usage: &Usage) -> Line {
    let mut quantity = usage.quantity(item.quantity, vendor);
    if let Some(r) = &item.retention_beyond {
        let kept = match r.signal {
            Signal::Logs => usage.logs_retention_secs,
            Signal::Traces => usage.traces_retention_secs,
        };
        let extra = kept.saturating_sub(r.included.as_secs());
        quantity *= extra.div_ceil(r.increment.as_secs().max(1)) as f64;
    }
    let included = item.included + item.included_per_host * usage.hosts;
    let billable = (quantity - included).max(0.0);
    // Within the allowance nothing is billed, priced or not.
    let usd = match item.price {
        Some(price) => Some(billable / item.per * price),
        None if billable == 0.0 => Some(0.0),
        None => None,
    };
    Line {
        item: item_id.to_string(),
        description: item.description.clone(),
        quantity,
        unit: item.quantity.unit(),
        unit_singular: item.quantity.singular(),
        kind: item.quantity,
        included,
        billable,
        price: item.price,
        per: item.per,
        usd,
        unpriced: item.unpriced.clone(),
        source: item.source.clone(),
        date: item.date.clone(),
        unconfirmed: item.unconfirmed.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage() -> Usage {
        // The production workload: 15 hosts, 15 users, 150k series at 30s, 20 GiB/day of logs,
        // 500 spans/s × 450 B; logs kept 30d, traces 14d.
        Usage {
            hosts: 15.0,
            users: 15.0,
            active_series: 150_000.0,
            metric_samples: 150_000.0 / 30.0 * SECONDS_PER_MONTH,
            log_gb: 20.0 * 1_073_741_824.0 * DAYS_PER_MONTH / GB,
            log_events: 20.0 * 1_073_741_824.0 * DAYS_PER_MONTH / 300.0,
            trace_gb: 500.0 * 450.0 * SECONDS_PER_MONTH / GB,
            logs_retention_secs: 30 * 86_400,
            traces_retention_secs: 14 * 86_400,
        }
    }

    fn find<'a>(costs: &'a [VendorCost], id: &str) -> &'a VendorCost {
        costs.iter().find(|c| c.vendor == id).unwrap()
    }

    fn usd(cost: &VendorCost, item: &str) -> Option<f64> {
        cost.lines.iter().find(|l| l.item == item).unwrap().usd
    }

    #[test]
    fn month_quantities_are_hand_computable() {
        let u = usage();
        // 20 GiB × 30.4167 days = 653.19 GB.
        assert!((u.log_gb - 653.19).abs() < 0.01, "{}", u.log_gb);
        // 500 × 450 B × 2,628,000 s = 591.3 GB.
        assert!((u.trace_gb - 591.3).abs() < 0.01, "{}", u.trace_gb);
        // 5,000 samples/s × 2,628,000 s = 1.314e10 samples.
        assert!((u.metric_samples - 1.314e10).abs() < 1.0);
    }

    #[test]
    fn datadog_per_host_per_gb_and_per_event() {
        let costs = compare(&Catalog::builtin(), &usage());
        let dd = find(&costs, "datadog");
        assert_eq!(usd(dd, "infrastructure"), Some(15.0 * 15.0));
        assert_eq!(usd(dd, "apm"), Some(31.0 * 15.0));
        let u = usage();
        assert!((usd(dd, "logs-ingest").unwrap() - u.log_gb * 0.10).abs() < 1e-9);
        assert!((usd(dd, "logs-index").unwrap() - u.log_events / 1e6 * 1.70).abs() < 1e-9);
        // 591 GB of spans is within 15 hosts × 150 GB: nothing billable, nothing unpriced.
        let spans = dd
            .lines
            .iter()
            .find(|l| l.item == "apm-ingested-spans")
            .unwrap();
        assert_eq!(spans.included, 2250.0);
        assert_eq!(spans.billable, 0.0);
        assert_eq!(
            spans.usd,
            Some(0.0),
            "nothing billable costs nothing, priced or not"
        );
        // 150k series, 1,500 included: 148,500 custom metrics at $5 per 100 = $7,425.
        let custom = dd
            .lines
            .iter()
            .find(|l| l.item == "custom-metrics")
            .unwrap();
        assert_eq!(custom.billable, 148_500.0);
        assert_eq!(custom.usd, Some(7_425.0));
        assert!(!dd.incomplete, "every billable item has a list price");
        let total = 225.0 + 465.0 + u.log_gb * 0.10 + u.log_events / 1e6 * 1.70 + 7_425.0;
        assert!((dd.monthly_usd - total).abs() < 1e-9);
    }

    #[test]
    fn new_relic_ingest_beyond_the_free_100gb_and_seats() {
        let costs = compare(&Catalog::builtin(), &usage());
        let nr = find(&costs, "newrelic");
        let u = usage();
        let ingest = u.metric_samples * 390.0 / GB + u.log_gb + u.trace_gb;
        let line = nr.lines.iter().find(|l| l.item == "data-ingest").unwrap();
        assert!((line.quantity - ingest).abs() < 1e-6);
        assert!((line.usd.unwrap() - (ingest - 100.0) * 0.40).abs() < 1e-6);
        assert_eq!(usd(nr, "users"), Some(15.0 * 349.0));
        assert!(!nr.incomplete);
    }

    #[test]
    fn grafana_cloud_series_gb_users_and_retention() {
        let costs = compare(&Catalog::builtin(), &usage());
        let gc = find(&costs, "grafana-cloud");
        let u = usage();
        assert_eq!(usd(gc, "platform"), Some(19.0));
        // (150,000 - 10,000) / 1,000 × 6.50 = 910.
        assert!((usd(gc, "metrics").unwrap() - 910.0).abs() < 1e-9);
        // Every GB received is processed ($0.05); every GB kept beyond the free 50 is written ($0.40).
        assert!((usd(gc, "logs-processed").unwrap() - u.log_gb * 0.05).abs() < 1e-9);
        assert!((usd(gc, "logs-written").unwrap() - (u.log_gb - 50.0) * 0.40).abs() < 1e-9);
        assert!((usd(gc, "traces-processed").unwrap() - u.trace_gb * 0.05).abs() < 1e-9);
        assert!((usd(gc, "traces-written").unwrap() - (u.trace_gb - 50.0) * 0.40).abs() < 1e-9);
        // 653.19 GB: $32.66 processed and $241.28 written.
        let logs = usd(gc, "logs-processed").unwrap() + usd(gc, "logs-written").unwrap();
        assert!((logs - 273.94).abs() < 0.01, "{logs}");
        assert_eq!(usd(gc, "users"), Some(12.0 * 8.0));
        // 30d of logs and 14d of traces are within the included 30 days.
        assert_eq!(usd(gc, "logs-retention"), Some(0.0));
        assert_eq!(usd(gc, "traces-retention"), Some(0.0));
        let mut longer = usage();
        longer.logs_retention_secs = 90 * 86_400;
        let costs = compare(&Catalog::builtin(), &longer);
        let gc = find(&costs, "grafana-cloud");
        // 60 extra days = two 30-day increments.
        assert!((usd(gc, "logs-retention").unwrap() - u.log_gb * 2.0 * 0.10).abs() < 1e-9);
    }
}
