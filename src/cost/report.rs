//! The estimate for people (a table, Markdown) and for programs (JSON, CSV).

use serde_json::{json, Map, Value};

use super::{ComponentCost, Estimate, PriceUsed};
use crate::output::Table;

const GIB: f64 = (1u64 << 30) as f64;

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// `1234567.891` → `1,234,568` (whole numbers for counts of things).
pub fn count(x: f64) -> String {
    group(&format!("{:.0}", x.round()))
}

/// `1234.5` → `$1,234.50`.
pub fn usd(x: f64) -> String {
    let text = format!("{:.2}", x);
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    format!("${}.{cents}", group(whole))
}

fn group(digits: &str) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", digits),
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn gib_text(bytes: f64) -> String {
    super::sizing::gib(bytes)
}

fn pvc_text(c: &ComponentCost, recommended: bool) -> String {
    let q = if recommended {
        &c.sizing.recommended
    } else {
        &c.sizing.requested
    };
    match q {
        Some(q) if c.sizing.volumes > 1 => format!("{}×{q}", c.sizing.volumes),
        Some(q) => q.to_string(),
        None => "-".into(),
    }
}

fn vendor_total(v: &super::compare::VendorCost) -> String {
    if v.incomplete {
        format!("≥ {}", usd(v.monthly_usd))
    } else {
        usd(v.monthly_usd)
    }
}

/// The breakdown of one vendor in one line: priced items with a cost, unpriced billable ones.
fn breakdown_text(v: &super::compare::VendorCost) -> String {
    v.lines
        .iter()
        .filter_map(|l| match l.usd {
            Some(x) if x > 0.0 => Some(format!("{} {}", l.item, usd(x))),
            None if l.billable > 0.0 => Some(format!(
                "{} {} {}: no published list price",
                l.item,
                count(l.billable),
                l.unit
            )),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// How far a catalog figure was checked: `read 2026-12-04`, or `unconfirmed 2026-12-04` (with the
/// catalog's reason when `reason`).
fn checked_text(date: &str, unconfirmed: Option<&str>, reason: bool) -> String {
    match unconfirmed {
        None => format!("read {date}"),
        Some(why) if reason => format!("unconfirmed {date}: {why}"),
        Some(_) => format!("unconfirmed {date}"),
    }
}

/// The self-hosted side's four prices, named as the reports show them.
fn self_hosted_prices(e: &Estimate) -> [(&'static str, &PriceUsed); 4] {
    [
        ("block storage", &e.block_storage),
        ("object storage", &e.object_storage),
        ("CPU", &e.compute.vcpu_hour),
        ("memory", &e.compute.gib_hour),
    ]
}

fn price_text(name: &str, p: &PriceUsed, reason: bool) -> String {
    let mut s = format!("{name} ${}/{} from the {}", p.price, p.unit, p.from);
    if p.from == "catalog" {
        s.push_str(&format!(
            ": {} ({}, {})",
            p.description,
            p.source,
            checked_text(&p.date, p.unconfirmed.as_deref(), reason)
        ));
    } else {
        s.push_str(&format!(" ({})", p.description));
    }
    s
}

/// The JSON report: the contract (`components`, `self_hosted_monthly_usd`, `comparison`)
/// plus what a program needs to audit it.
pub fn json(e: &Estimate) -> Value {
    let components: Vec<Value> = e
        .components
        .iter()
        .map(|c| {
            let s = &c.sizing;
            let mut o = Map::new();
            o.insert("component".into(), json!(s.component));
            o.insert("storage_gib".into(), json!(round(s.storage_bytes / GIB, 3)));
            o.insert("volume_gib".into(), json!(round(s.volume_bytes / GIB, 3)));
            o.insert("volumes".into(), json!(s.volumes));
            o.insert(
                "requested_pvc".into(),
                json!(s.requested.as_ref().map(|q| q.to_string())),
            );
            o.insert(
                "recommended_pvc".into(),
                json!(s.recommended.as_ref().map(|q| q.to_string())),
            );
            o.insert(
                "object_storage_gib".into(),
                json!(round(s.object_storage_bytes / GIB, 3)),
            );
            o.insert("monthly_usd".into(), json!(round(c.monthly_usd, 2)));
            o.insert(
                "recommended_monthly_usd".into(),
                json!(round(c.recommended_monthly_usd, 2)),
            );
            o.insert("warning".into(), json!(s.warning));
            o.insert("assumptions".into(), Value::Object(s.assumptions.clone()));
            Value::Object(o)
        })
        .collect();
    let comparison: Vec<Value> = e
        .comparison
        .iter()
        .map(|v| {
            let breakdown: Map<String, Value> = v
                .lines
                .iter()
                .map(|l| (l.item.clone(), json!(l.usd.map(|x| round(x, 2)))))
                .collect();
            json!({
                "vendor": v.vendor,
                "name": v.name,
                "plan": v.plan,
                "monthly_usd": round(v.monthly_usd, 2),
                "incomplete": v.incomplete,
                "breakdown": breakdown,
                "lines": v.lines,
            })
        })
        .collect();
    let price = |p: &PriceUsed| {
        json!({
            "usd": p.price,
            "per": p.unit,
            "from": p.from,
            "description": p.description,
            "source": p.source,
            "date": p.date,
            "unconfirmed": p.unconfirmed,
        })
    };
    json!({
        "profile": e.profile,
        "components": components,
        "self_hosted_monthly_usd": round(e.self_hosted_monthly_usd, 2),
        "self_hosted_recommended_monthly_usd": round(e.self_hosted_recommended_monthly_usd, 2),
        "self_hosted": {
            "storage_usd": round(e.storage_monthly_usd, 2),
            "storage_recommended_usd": round(e.storage_recommended_monthly_usd, 2),
            "compute_usd": round(e.compute.monthly_usd, 2),
            "operations_usd": e.operations.map(|o| round(o.monthly_usd, 2)),
        },
        "compute": {
            "cpu_cores": round(e.compute.inventory.cpu_cores(), 3),
            "memory_gib": round(e.compute.inventory.memory_gib(), 3),
            "hours_per_month": super::compare::HOURS_PER_MONTH,
            "node_overhead": e.compute.node_overhead.value,
            "node_overhead_reason": e.compute.node_overhead.description,
            "node_overhead_source": e.compute.node_overhead.source,
            "node_overhead_unconfirmed": e.compute.node_overhead.unconfirmed,
            "monthly_usd": round(e.compute.monthly_usd, 2),
            "pods": e.compute.inventory.pods,
            "unreviewed_releases": e.compute.inventory.unreviewed,
            "chart_defaults_read": e.compute.inventory.defaults_read,
        },
        "operations": e.operations.map(|o| json!({
            "hours_per_month": o.hours_per_month,
            "hourly_rate": o.hourly_rate,
            "monthly_usd": round(o.monthly_usd, 2),
        })),
        "comparison": comparison,
        "usage_per_month": {
            "hosts": e.usage.hosts,
            "users": e.usage.users,
            "active_series": e.usage.active_series,
            "metric_samples": e.usage.metric_samples,
            "log_gb": round(e.usage.log_gb, 3),
            "log_events": e.usage.log_events.round(),
            "trace_gb": round(e.usage.trace_gb, 3),
        },
        "prices": {
            "block_storage": price(&e.block_storage),
            "object_storage": price(&e.object_storage),
            "vcpu_hour": price(&e.compute.vcpu_hour),
            "gib_hour": price(&e.compute.gib_hour),
            "catalog": e.catalog,
        },
        "warnings": e.warnings,
        "notes": e.notes,
    })
}

/// The table for people (plain aligned text; the header is bold on a TTY).
pub fn table(e: &Estimate, bold: bool) -> String {
    let mut out = format!(
        "cost estimate for profile `{}` ({})\n\n",
        e.profile, e.source
    );
    let mut t = Table::new([
        "COMPONENT",
        "DATA",
        "PER VOLUME",
        "REQUESTED",
        "RECOMMENDED",
        "BUCKET",
        "USD/MONTH",
        "AT RECOMMENDED",
    ]);
    for c in &e.components {
        let s = &c.sizing;
        let flag = if s.warning.is_some() { " !" } else { "" };
        t.row([
            s.component.to_string(),
            gib_text(s.storage_bytes),
            if s.volumes > 0 {
                gib_text(s.volume_bytes)
            } else {
                "-".into()
            },
            format!("{}{flag}", pvc_text(c, false)),
            pvc_text(c, true),
            if s.object_storage_bytes > 0.0 {
                gib_text(s.object_storage_bytes)
            } else {
                "-".into()
            },
            usd(c.monthly_usd),
            usd(c.recommended_monthly_usd),
        ]);
    }
    let total_row = |t: &mut Table, name: &str, a: f64, b: f64| {
        t.row([
            name.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            usd(a),
            usd(b),
        ])
    };
    total_row(
        &mut t,
        "storage",
        e.storage_monthly_usd,
        e.storage_recommended_monthly_usd,
    );
    total_row(
        &mut t,
        "compute",
        e.compute.monthly_usd,
        e.compute.monthly_usd,
    );
    if let Some(o) = e.operations {
        total_row(&mut t, "operations", o.monthly_usd, o.monthly_usd);
    }
    total_row(
        &mut t,
        "self-hosted total",
        e.self_hosted_monthly_usd,
        e.self_hosted_recommended_monthly_usd,
    );
    out.push_str(&t.render(bold));
    out.push('\n');
    out.push_str(&compute_table(e, bold));
    out.push('\n');
    let mut v = Table::new(["VENDOR", "PLAN", "USD/MONTH", "BREAKDOWN"]);
    for vendor in &e.comparison {
        v.row([
            vendor.name.clone(),
            vendor.plan.clone(),
            vendor_total(vendor),
            breakdown_text(vendor),
        ]);
    }
    out.push_str(&v.render(bold));
    out.push_str("\nhow the estimates are made:\n");
    for c in &e.components {
        if let Some(f) = c.sizing.assumptions.get("formula").and_then(Value::as_str) {
            out.push_str(&format!("  {}: {f}\n", c.sizing.component));
        }
    }
    out.push_str(&format!("  compute: {}\n", compute_formula(e)));
    if let Some(o) = e.operations {
        out.push_str(&format!(
            "  operations: {} h/month × ${}/h = {}\n",
            o.hours_per_month,
            o.hourly_rate,
            usd(o.monthly_usd)
        ));
    }
    out.push_str("prices:\n");
    for (name, p) in self_hosted_prices(e) {
        out.push_str(&format!("  {}\n", price_text(name, p, false)));
    }
    out.push_str(&format!("  vendors: {}\n", e.catalog));
    out.push_str("notes:\n");
    for n in &e.notes {
        out.push_str(&format!("  {n}\n"));
    }
    out
}

/// The pods by release: copies, requests per copy, where the requests come from.
fn compute_table(e: &Estimate, bold: bool) -> String {
    let mut t = Table::new(["RELEASE", "POD", "COPIES", "CPU", "MEMORY", "REQUESTS FROM"]);
    for p in &e.compute.inventory.pods {
        let from = if p.without_requests.is_empty() {
            p.from.to_string()
        } else if p.cpu_cores == 0.0 && p.memory_gib == 0.0 {
            "none (chart default: no requests)".to_string()
        } else {
            format!("{}; none for {}", p.from, p.without_requests.join(", "))
        };
        t.row([
            p.release.clone(),
            p.pod.clone(),
            format!("{} {}", p.copies, p.per),
            format!("{:.2}", p.cpu_cores),
            format!("{:.2} GiB", p.memory_gib),
            from,
        ]);
    }
    t.row([
        "compute".to_string(),
        String::new(),
        String::new(),
        format!("{:.2}", e.compute.inventory.cpu_cores()),
        format!("{:.2} GiB", e.compute.inventory.memory_gib()),
        usd(e.compute.monthly_usd),
    ]);
    t.render(bold)
}

/// The compute line's arithmetic, with its numbers.
fn compute_formula(e: &Estimate) -> String {
    let c = &e.compute;
    let unrequested = c
        .inventory
        .pods
        .iter()
        .filter(|p| p.cpu_cores == 0.0 && p.memory_gib == 0.0)
        .count();
    format!(
        "({:.2} vCPU × ${}/vCPU-hour + {:.2} GiB × ${}/GiB-hour) × {} h × node overhead {} = {}; {} pod kind(s) request nothing and count as zero",
        c.inventory.cpu_cores(),
        c.vcpu_hour.price,
        c.inventory.memory_gib(),
        c.gib_hour.price,
        super::compare::HOURS_PER_MONTH,
        c.node_overhead.value,
        usd(c.monthly_usd),
        unrequested,
    )
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV: one row per component, the self-hosted total, each vendor and each vendor line.
pub fn csv(e: &Estimate) -> String {
    let mut out = String::from(
        "kind,name,item,storage_gib,volumes,requested_pvc,recommended_pvc,object_storage_gib,monthly_usd,recommended_monthly_usd,lower_bound\n",
    );
    let blank = String::new;
    let mut row = |cells: [String; 11]| {
        out.push_str(
            &cells
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    };
    for c in &e.components {
        let s = &c.sizing;
        row([
            "component".into(),
            s.component.into(),
            String::new(),
            format!("{:.3}", s.storage_bytes / GIB),
            s.volumes.to_string(),
            s.requested
                .as_ref()
                .map(|q| q.to_string())
                .unwrap_or_default(),
            s.recommended
                .as_ref()
                .map(|q| q.to_string())
                .unwrap_or_default(),
            format!("{:.3}", s.object_storage_bytes / GIB),
            format!("{:.2}", c.monthly_usd),
            format!("{:.2}", c.recommended_monthly_usd),
            blank(),
        ]);
    }
    let line = |kind: &str, a: f64, b: f64| -> [String; 11] {
        [
            kind.into(),
            "self-hosted".into(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            format!("{a:.2}"),
            format!("{b:.2}"),
            blank(),
        ]
    };
    row(line(
        "storage",
        e.storage_monthly_usd,
        e.storage_recommended_monthly_usd,
    ));
    row(line(
        "compute",
        e.compute.monthly_usd,
        e.compute.monthly_usd,
    ));
    if let Some(o) = e.operations {
        row(line("operations", o.monthly_usd, o.monthly_usd));
    }
    row([
        "total".into(),
        "self-hosted".into(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        format!("{:.2}", e.self_hosted_monthly_usd),
        format!("{:.2}", e.self_hosted_recommended_monthly_usd),
        blank(),
    ]);
    for v in &e.comparison {
        row([
            "vendor".into(),
            v.vendor.clone(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            format!("{:.2}", v.monthly_usd),
            blank(),
            // The table's `≥`: some items have no sourced price, the total is a lower bound.
            v.incomplete.to_string(),
        ]);
        for l in &v.lines {
            row([
                "vendor-item".into(),
                v.vendor.clone(),
                l.item.clone(),
                blank(),
                blank(),
                blank(),
                blank(),
                blank(),
                l.usd.map(|x| format!("{x:.2}")).unwrap_or_default(),
                blank(),
                blank(),
            ]);
        }
    }
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// Markdown for a pull request or a wiki page.
pub fn markdown(e: &Estimate) -> String {
    let mut out = format!(
        "# Cost estimate: profile `{}`\n\n## Storage\n\n| component | data | per volume | requested | recommended | bucket | USD/month | at recommended |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
        e.profile
    );
    for c in &e.components {
        let s = &c.sizing;
        out.push_str(&format!(
            "| {} | {} | {} | {}{} | {} | {} | {} | {} |\n",
            s.component,
            gib_text(s.storage_bytes),
            if s.volumes > 0 {
                gib_text(s.volume_bytes)
            } else {
                "-".into()
            },
            pvc_text(c, false),
            if s.warning.is_some() { " ⚠" } else { "" },
            pvc_text(c, true),
            if s.object_storage_bytes > 0.0 {
                gib_text(s.object_storage_bytes)
            } else {
                "-".into()
            },
            usd(c.monthly_usd),
            usd(c.recommended_monthly_usd),
        ));
    }
    out.push_str(&format!(
        "| **storage** | | | | | | **{}** | **{}** |\n| **compute** | | | | | | **{}** | **{}** |\n",
        usd(e.storage_monthly_usd),
        usd(e.storage_recommended_monthly_usd),
        usd(e.compute.monthly_usd),
        usd(e.compute.monthly_usd),
    ));
    if let Some(o) = e.operations {
        out.push_str(&format!(
            "| **operations** | | | | | | **{}** | **{}** |\n",
            usd(o.monthly_usd),
            usd(o.monthly_usd)
        ));
    }
    out.push_str(&format!(
        "| **self-hosted total** | | | | | | **{}** | **{}** |\n\n## Compared with commercial APM\n\n| vendor | plan | USD/month | breakdown |\n|---|---|---:|---|\n",
        usd(e.self_hosted_monthly_usd),
        usd(e.self_hosted_recommended_monthly_usd)
    ));
    for v in &e.comparison {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            md_cell(&v.name),
            md_cell(&v.plan),
            vendor_total(v),
            md_cell(&breakdown_text(v))
        ));
    }
    out.push_str("\n## How the estimates are made\n\n");
    for c in &e.components {
        if let Some(f) = c.sizing.assumptions.get("formula").and_then(Value::as_str) {
            out.push_str(&format!("- **{}**: {f}\n", c.sizing.component));
        }
    }
    out.push_str(&format!("- **compute**: {}\n", compute_formula(e)));
    out.push_str("\n## Prices\n\n");
    for (name, p) in self_hosted_prices(e) {
        let mut chars = name.chars();
        let capitalised: String = chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default();
        out.push_str(&format!("- {}\n", price_text(&capitalised, p, true)));
    }
    for v in &e.comparison {
        for l in &v.lines {
            let price = match l.price {
                Some(p) if l.per != 1.0 => format!("${p} per {} {}", count(l.per), l.unit),
                Some(p) => format!("${p} per {}", l.unit_singular),
                None => format!(
                    "no published list price ({})",
                    l.unpriced.as_deref().unwrap_or("")
                ),
            };
            out.push_str(&format!(
                "- {} {}: {price} ([source]({}), {})\n",
                v.name,
                l.item,
                l.source,
                checked_text(&l.date, l.unconfirmed.as_deref(), true)
            ));
        }
    }
    if !e.warnings.is_empty() {
        out.push_str("\n## Warnings\n\n");
        for w in &e.warnings {
            out.push_str(&format!("- {w}\n"));
        }
    }
    out.push_str("\n## Notes\n\n");
    for n in &e.notes {
        out.push_str(&format!("- {n}\n"));
    }
    out
}

type SweepPoints = [(super::scale::Point, Estimate)];

fn vendor_names(points: &SweepPoints) -> Vec<String> {
    points
        .first()
        .map(|(_, e)| e.comparison.iter().map(|v| v.name.clone()).collect())
        .unwrap_or_default()
}

/// The sweep for people: one row per size, one column per option, then what it assumes.
pub fn sweep_table(
    profile: &crate::profile::Profile,
    sweep: &super::Sweep,
    points: &SweepPoints,
    bold: bool,
) -> String {
    let mut out = format!(
        "cost of profile `{}` ({}) by workload.{}\n\n",
        profile.stack.name, profile.source, sweep.field
    );
    let mut header = vec![
        sweep.field.to_string(),
        "SELF-HOSTED".to_string(),
        "(STORAGE".to_string(),
        "COMPUTE".to_string(),
        "OPERATIONS)".to_string(),
    ];
    header.extend(vendor_names(points).into_iter().map(|n| n.to_uppercase()));
    header.push("CHEAPEST".to_string());
    let mut t = Table::new(header);
    for (p, e) in points {
        let own = super::scale::self_hosted(e);
        let mut row = vec![
            p.text.clone(),
            usd(own),
            usd(e.storage_recommended_monthly_usd),
            usd(e.compute.monthly_usd),
            e.operations.map_or("-".to_string(), |o| usd(o.monthly_usd)),
        ];
        row.extend(e.comparison.iter().map(vendor_total));
        let cheapest = e
            .comparison
            .iter()
            .map(|v| (v.name.as_str(), v.monthly_usd))
            .chain(std::iter::once(("self-hosted", own)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(n, _)| n.to_string())
            .unwrap_or_default();
        row.push(cheapest);
        t.row(row);
    }
    out.push_str(&t.render(bold));
    out.push_str("\nassumptions:\n");
    for a in super::scale::assumptions(profile, sweep.field) {
        out.push_str(&format!("  {a}\n"));
    }
    out
}

/// CSV: one row per size and option.
pub fn sweep_csv(sweep: &super::Sweep, points: &SweepPoints) -> String {
    let mut out = format!("{},option,monthly_usd\n", csv_field(sweep.field));
    for (p, e) in points {
        out.push_str(&format!(
            "{},self-hosted,{:.2}\n",
            csv_field(&p.text),
            super::scale::self_hosted(e)
        ));
        for v in &e.comparison {
            out.push_str(&format!(
                "{},{},{:.2}\n",
                csv_field(&p.text),
                csv_field(&v.vendor),
                v.monthly_usd
            ));
        }
    }
    out
}

/// Markdown: the sweep table and its assumptions.
pub fn sweep_markdown(
    profile: &crate::profile::Profile,
    sweep: &super::Sweep,
    points: &SweepPoints,
) -> String {
    let names = vendor_names(points);
    let mut out = format!(
        "# Cost by workload.{}: profile `{}`\n\n| {} | self-hosted | {} |\n|---:|---:|{}\n",
        sweep.field,
        profile.stack.name,
        sweep.field,
        names
            .iter()
            .map(|n| md_cell(n))
            .collect::<Vec<_>>()
            .join(" | "),
        "---:|".repeat(names.len()),
    );
    for (p, e) in points {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            p.text,
            usd(super::scale::self_hosted(e)),
            e.comparison
                .iter()
                .map(vendor_total)
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    out.push_str("\n## Assumptions\n\n");
    for a in super::scale::assumptions(profile, sweep.field) {
        out.push_str(&format!("- {a}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_counts_are_grouped() {
        assert_eq!(usd(1234.5), "$1,234.50");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(999.999), "$1,000.00");
        assert_eq!(usd(1_234_567.0), "$1,234,567.00");
        assert_eq!(count(148_500.0), "148,500");
        assert_eq!(count(12.0), "12");
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
