//! Cross-field rules of `slos:` and `policy:` (each key alone is checked by its type while
//! loading). Errors are what would make the generated rules wrong or dead; warnings are what is
//! legal but probably not meant.
//!
//! What is checked offline, and what is not: selectors parse and regexes compile (at load time);
//! a latency threshold is a positive number, but whether it is one of the histogram's `le`
//! boundaries only the live series can tell (`obsctl slo report` says when the bucket is missing).

use std::collections::BTreeMap;

use super::super::{Problem, Stack};
use super::selector::is_label_name;
use super::{Indicator, Severity, Slo};
use crate::profile::types::format_seconds;
use crate::yaml::{Node, Value};

/// Labels obsctl sets on every SLO alert; `alerting.labels` may not redefine them.
pub const GENERATED_ALERT_LABELS: [&str; 6] = [
    "alertname",
    "slo",
    "service",
    "severity",
    "long_window",
    "short_window",
];

/// Collects the broken rules of every SLO and of the policy.
pub(in crate::profile) fn check_slos(stack: &Stack, root: &Node) -> Vec<Problem> {
    let mut out = Findings { root, list: vec![] };
    if !stack.slos.is_empty() {
        check_stack_fit(stack, &mut out);
    }
    let mut first_by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, slo) in stack.slos.iter().enumerate() {
        let first = *first_by_name.entry(slo.name.as_str()).or_insert(i);
        if first != i {
            out.add(
                i,
                &["name"],
                format!(
                    "duplicate SLO name `{}` (also slos[{first}]): the name identifies its rules and alerts; make it unique",
                    slo.name
                ),
            );
        }
        check_slo(i, slo, &mut out);
    }
    check_policy(stack, &mut out);
    out.list
}

/// What is legal but probably not meant: a window longer than the retention, a tier that can
/// never fire (it is left out of the rules), an objective no alerting can defend.
pub fn warnings(stack: &Stack, root: &Node) -> Vec<Problem> {
    let mut out = Findings { root, list: vec![] };
    let retention = &stack.metrics.retention;
    let unlinked: Vec<&str> = stack
        .slos
        .iter()
        .filter(|s| s.alerting.runbook_url.is_none())
        .map(|s| s.name.as_str())
        .collect();
    if !unlinked.is_empty() && stack.runbooks.base_url.is_none() && stack.grafana.url.is_none() {
        out.add_at(
            &["slos"],
            format!(
                "the alerts of {} link their runbooks to Grafana's in-cluster address, which people outside the cluster cannot open; set `runbooks.baseUrl` (where the rendered runbooks are published) or `grafana.url` (Grafana's external address)",
                unlinked.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
    for (i, slo) in stack.slos.iter().enumerate() {
        // The alerts (windows up to 3d) still work; only the SLI and budget would be short.
        if slo.window.as_secs() > retention.as_secs() {
            out.add(
                i,
                &["window"],
                format!(
                    "the {} window is longer than `metrics.retention` ({retention}): the SLI and budget over it would only see {retention} of data; raise the retention or shorten the window",
                    slo.window
                ),
            );
        }
        for tier in slo.enabled_tiers() {
            let burn = tier.burn_rate(&slo.window);
            if burn < super::Exact::ratio(1, 2) {
                out.add(
                    i,
                    &["window"],
                    format!(
                        "the {} tier's burn rate is only {}× ({}% of a {} budget in {}): it fires on traffic that would spend {}% of the budget over the whole window; use a window of 28d or more, or `ticket: false`",
                        tier.describe(),
                        burn.decimal(3),
                        tier.budget_percent(),
                        slo.window,
                        tier.long_window(),
                        (burn * super::Exact::int(100)).decimal(1),
                    ),
                );
            }
            if !tier.can_fire(&slo.objective, &slo.window) {
                out.add(
                    i,
                    &["objective"],
                    format!(
                        "the {} tier can never fire at {}%: it needs an error ratio above {} (burn rate {} × budget {}), more than 100% of requests failing; it is left out of the rules",
                        tier.describe(),
                        slo.objective,
                        percent(tier.threshold(&slo.objective, &slo.window)),
                        tier.burn_rate(&slo.window),
                        slo.objective.error_budget()
                    ),
                );
            }
        }
        if slo.objective.percent() >= super::Exact::parse_decimal("99.999", 3).expect("literal") {
            let seconds =
                slo.objective.error_budget() * super::Exact::int(i128::from(slo.window.as_secs()));
            out.add(
                i,
                &["objective"],
                format!(
                    "at {}% a full outage spends the whole {} budget in {} seconds: alerting cannot defend it, only design (canaries, progressive rollouts) can",
                    slo.objective, slo.window, seconds.decimal(1)
                ),
            );
        }
        traffic_warnings(stack, i, slo, &mut out);
    }
    out.list
}

/// `alerting.tiers`: windows that a tier's two-window rule can use, inside the SLO window, at most
/// one tier per long window (it names the alert), and few enough windows for 10 recording rules.
fn check_tiers(i: usize, slo: &Slo, specs: &[super::TierSpec], out: &mut Findings) {
    if specs.is_empty() {
        out.add(
            i,
            &["alerting", "tiers"],
            "an empty list has no alert; leave `tiers` out for the Workbook's four, or set `page: false` and `ticket: false`".into(),
        );
    }
    let mut long_windows: BTreeMap<u64, usize> = BTreeMap::new();
    for (n, spec) in specs.iter().enumerate() {
        let item = format!("tiers[{n}]");
        let (long, short) = (spec.long_window.as_secs(), spec.short_window.as_secs());
        if short < super::BASE_WINDOW_SECS {
            out.add_item(i, "alerting", &item, "shortWindow", format!(
                "the short window {} is shorter than the {} the rules record increases over; expected at least {}",
                spec.short_window, format_seconds(super::BASE_WINDOW_SECS), format_seconds(super::BASE_WINDOW_SECS)
            ));
        }
        if short >= long {
            out.add_item(i, "alerting", &item, "shortWindow", format!(
                "the short window {} must be shorter than the long window {} (it is what lets the alert reset quickly); the Workbook uses 1/12, e.g. `5m` for `1h`",
                spec.short_window, spec.long_window
            ));
        }
        if long > slo.window.as_secs() {
            out.add_item(i, "alerting", &item, "longWindow", format!(
                "the long window {} is longer than the SLO window {}: it would alert on errors the budget has already forgotten",
                spec.long_window, slo.window
            ));
        }
        let first = *long_windows.entry(long).or_insert(n);
        if first != n {
            out.add_item(i, "alerting", &item, "longWindow", format!(
                "tiers[{first}] has the long window {} too: the long window names the alert (`long_window` label, runbook section); give each tier its own",
                spec.long_window
            ));
        }
    }
    let mut windows: Vec<u64> = specs
        .iter()
        .flat_map(|s| [s.long_window.as_secs(), s.short_window.as_secs()])
        .filter(|&w| w != super::BASE_WINDOW_SECS)
        .collect();
    windows.sort_unstable();
    windows.dedup();
    // Two base recordings, one per window, one for the SLO window: 10 at most.
    if windows.len() > 7 {
        out.add(
            i,
            &["alerting", "tiers"],
            format!(
                "{} distinct windows need {} recording rules; share windows between tiers to stay within 10 (at most 7 windows besides 5m)",
                windows.len(),
                windows.len() + 3
            ),
        );
    }
}

/// What the expected traffic (`workload.services`) means for the pages: with `minEvents`, a page
/// whose long window never sees that many requests can never fire; without it, a page that one
/// failed request sets off.
fn traffic_warnings(stack: &Stack, i: usize, slo: &Slo, out: &mut Findings) {
    let Some(rps) = stack
        .workload
        .as_ref()
        .and_then(|w| w.services.get(&slo.service))
        .map(|s| s.requests_per_second.get())
        .filter(|&rps| rps > 0.0)
    else {
        return;
    };
    let pages = slo
        .live_tiers()
        .into_iter()
        .filter(|t| t.severity == Severity::Critical);
    for tier in pages {
        let long_requests = rps * tier.long_secs as f64;
        let short_requests = rps * tier.short_secs as f64;
        let threshold = tier.threshold(&slo.objective, &slo.window).to_f64();
        match slo.alerting.min_events {
            Some(min) if long_requests < min as f64 => out.add(
                i,
                &["alerting", "minEvents"],
                format!(
                    "at {}'s expected {rps} requests/s (`workload.services`) the {} page sees about {} requests in {}, fewer than `minEvents: {min}`: it can never fire; lower `minEvents` or rely on the tickets",
                    slo.service,
                    tier.describe(),
                    long_requests.round(),
                    tier.long_window(),
                ),
            ),
            // One failure is 1/N of a window of N requests: above the threshold in both windows,
            // it pages by itself.
            None if short_requests * threshold < 1.0 && long_requests * threshold < 1.0 => out.add(
                i,
                &["alerting"],
                format!(
                    "at {}'s expected {rps} requests/s (`workload.services`) one failed request is more than the {} page's {} error ratio of its {} and {} windows: a single failure pages; set `alerting.minEvents` (e.g. `{}`)",
                    slo.service,
                    tier.describe(),
                    percent(tier.threshold(&slo.objective, &slo.window)),
                    tier.long_window(),
                    tier.short_window(),
                    (1.0_f64 / threshold).ceil(),
                ),
            ),
            _ => {}
        }
    }
}

fn percent(ratio: super::Exact) -> String {
    format!("{}%", (ratio * super::Exact::int(100)).decimal(4))
}

struct Findings<'a> {
    root: &'a Node,
    list: Vec<Problem>,
}

impl Findings<'_> {
    /// At `slos[i].<keys>`, or the deepest of them that exists.
    fn add(&mut self, i: usize, keys: &[&str], message: String) {
        let mut path = format!("slos[{i}]");
        let mut node = self.root.get("slos").and_then(|slos| match &slos.value {
            Value::Seq(items) => items.get(i),
            _ => None,
        });
        for key in keys {
            path.push('.');
            path.push_str(key);
            if let Some(child) = node.and_then(|n| n.get(key)) {
                node = Some(child);
            }
        }
        let pos = node
            .or_else(|| self.root.get("slos"))
            .unwrap_or(self.root)
            .pos
            .clone();
        self.list.push(Problem { pos, path, message });
    }

    /// At `slos[i].<key>[j]`, or the list when the item is not there.
    fn add_index(&mut self, i: usize, key: &str, j: usize, message: String) {
        let list = self
            .root
            .get("slos")
            .and_then(|slos| match &slos.value {
                Value::Seq(items) => items.get(i),
                _ => None,
            })
            .and_then(|slo| slo.get(key));
        let item = list.and_then(|n| match &n.value {
            Value::Seq(items) => items.get(j),
            _ => None,
        });
        let pos = item.or(list).unwrap_or(self.root).pos.clone();
        self.list.push(Problem {
            pos,
            path: format!("slos[{i}].{key}[{j}]"),
            message,
        });
    }

    /// At `slos[i].<section>.<item>.<key>` (`section` such as `runbook`, `item` such as
    /// `steps[2]`; `key` may be empty).
    fn add_item(&mut self, i: usize, section: &str, item: &str, key: &str, message: String) {
        let (name, index) = match item.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (item, None),
        };
        let slo = self.root.get("slos").and_then(|slos| match &slos.value {
            Value::Seq(items) => items.get(i),
            _ => None,
        });
        let parent = slo.and_then(|n| n.get(section));
        let mut node = parent.and_then(|n| n.get(name));
        if let Some(index) = index {
            node = node.and_then(|n| match &n.value {
                Value::Seq(items) => items.get(index),
                _ => None,
            });
        }
        let leaf = if key.is_empty() {
            node
        } else {
            node.and_then(|n| n.get(key)).or(node)
        };
        let pos = leaf.or(parent).or(slo).unwrap_or(self.root).pos.clone();
        let mut path = format!("slos[{i}].{section}.{item}");
        if !key.is_empty() {
            path.push('.');
            path.push_str(key);
        }
        self.list.push(Problem { pos, path, message });
    }

    /// At a top-level key path.
    fn add_at(&mut self, keys: &[&str], message: String) {
        self.list.push(Problem {
            pos: crate::profile::position(self.root, keys),
            path: keys.join("."),
            message,
        });
    }
}

/// SLO rules run in the stack's Prometheus, and need its data and scrape rate.
fn check_stack_fit(stack: &Stack, out: &mut Findings) {
    let metrics = &stack.metrics;
    if !metrics.enabled {
        out.add_at(
            &["slos"],
            "SLO rules and alerts run in the stack's Prometheus, which this profile disables; enable `metrics` or remove `slos`".into(),
        );
        return;
    }
    let scrape = metrics.scrape_interval.as_secs();
    if scrape > 0 && 4 * scrape > super::BASE_WINDOW_SECS {
        out.add_at(
            &["metrics", "scrapeInterval"],
            format!(
                "SLO alerts use a {} window, shorter than four scrape intervals of `{}`: increase() over it sees too few samples to be trusted; use a scrape interval of at most `{}`",
                format_seconds(super::BASE_WINDOW_SECS),
                metrics.scrape_interval,
                format_seconds(super::BASE_WINDOW_SECS / 4)
            ),
        );
    }
}

/// `groupBy`: labels the SLI's series carry, which obsctl's rules and alerts do not set.
fn check_group_by(i: usize, slo: &Slo, out: &mut Findings) {
    let mut first_at: BTreeMap<&str, usize> = BTreeMap::new();
    for (j, label) in slo.group_by.iter().enumerate() {
        let first = *first_at.entry(label.as_str()).or_insert(j);
        let dropping = slo.indicator.selectors().into_iter().find(|s| {
            s.matchers()
                .iter()
                .any(|m| &m.label == label && m.drops_label())
        });
        let message = if !is_label_name(label) || label.starts_with("__") {
            format!("`{label}` is not a Prometheus label name; expected letters, digits and `_`, not starting with a digit or `__`, e.g. `route`")
        } else if first != j {
            format!("`{label}` is listed twice (also groupBy[{first}]); list each label once")
        } else if GENERATED_ALERT_LABELS.contains(&label.as_str()) {
            format!(
                "`{label}` is set by obsctl on every SLO alert ({}), so the groups would be lost on the alerts; group by a label of the SLI's series, e.g. `route`",
                GENERATED_ALERT_LABELS.join(", ")
            )
        } else if slo.alerting.labels.contains_key(label) {
            format!("`{label}` is also in `alerting.labels`, which would overwrite every group's value on the alerts; remove one of them")
        } else if label == "le" && matches!(slo.indicator, Indicator::Latency(_)) {
            "`le` is the histogram's bucket boundary that the latency threshold picks, not a group; group by a label of the requests, e.g. `route`".into()
        } else if let Some(selector) = dropping {
            format!(
                "the selector `{}` keeps only series without a `{label}` label, so there is nothing to group by; remove that matcher or the label from `groupBy`",
                selector.promql()
            )
        } else {
            continue;
        };
        out.add_index(i, "groupBy", j, message);
    }
}

fn check_slo(i: usize, slo: &Slo, out: &mut Findings) {
    check_group_by(i, slo, out);
    if let Some(specs) = &slo.alerting.tiers {
        check_tiers(i, slo, specs, out);
    }
    if slo.alerting.min_events == Some(0) {
        out.add(
            i,
            &["alerting", "minEvents"],
            "0 events is no guard: give the fewest events a tier's long window must see before it fires, e.g. `100`, or leave it out".into(),
        );
    }
    if slo.service.trim().is_empty() {
        out.add(
            i,
            &["service"],
            "expected the service's name (it labels the alerts), e.g. `checkout`".into(),
        );
    }
    if slo.window.as_secs() < super::LONGEST_ALERT_WINDOW_SECS {
        out.add(
            i,
            &["window"],
            format!(
                "the `{}` window is shorter than the longest alert window ({}); expected at least `3d`, usually `28d` or `30d`",
                slo.window,
                format_seconds(super::LONGEST_ALERT_WINDOW_SECS)
            ),
        );
    }
    if slo.window.as_secs() > 366 * 86_400 {
        out.add(
            i,
            &["window"],
            format!(
                "the `{}` window is longer than a year; expected e.g. `30d`",
                slo.window
            ),
        );
    }
    match &slo.indicator {
        Indicator::Ratio(r) => {
            let at = ["indicator", "ratio"];
            match (&r.errors, &r.good) {
                (None, None) => out.add(
                    i,
                    &at,
                    "give `errors:` (a selector of bad events) or `good:` (of good events) besides `total:`".into(),
                ),
                (Some(_), Some(_)) => out.add(
                    i,
                    &at,
                    "give either `errors:` or `good:`, not both: the other is derived from `total:`".into(),
                ),
                (Some(part), None) | (None, Some(part)) => {
                    if part.promql() == r.total.promql() {
                        let key = if r.errors.is_some() { "errors" } else { "good" };
                        out.add(
                            i,
                            &["indicator", "ratio", key],
                            format!("`{key}` selects the same series as `total`; narrow it, e.g. with `code=~\"5..\"`"),
                        );
                    }
                }
            }
        }
        Indicator::Latency(l) => {
            let metric = l.metric.metric();
            if let Some(suffix) = ["_bucket", "_count", "_sum"]
                .iter()
                .find(|s| metric.ends_with(*s))
            {
                out.add(
                    i,
                    &["indicator", "latency", "metric"],
                    format!(
                        "give the histogram's name without `{suffix}` (`{}`): obsctl reads its `_bucket` and `_count` series",
                        metric.trim_end_matches(suffix)
                    ),
                );
            }
            if l.metric.matchers().iter().any(|m| m.label == "le") {
                out.add(
                    i,
                    &["indicator", "latency", "metric"],
                    "remove the `le` matcher: obsctl selects the bucket from `threshold`".into(),
                );
            }
            if !(l.threshold.is_finite() && l.threshold > 0.0) {
                out.add(
                    i,
                    &["indicator", "latency", "threshold"],
                    format!(
                        "`{}` is not a latency; expected seconds above 0 that are one of the histogram's `le` boundaries, e.g. `0.5`",
                        l.threshold
                    ),
                );
            }
        }
    }
    check_alerting(i, slo, out);
    if let Some(runbook) = &slo.runbook {
        check_runbook(i, runbook, out);
    }
}

/// Why `url` cannot be the base of generated links, if it cannot: it must be an absolute http(s)
/// address without a query or fragment (obsctl appends paths), and nothing Helm or Grafana would
/// expand.
pub(crate) fn base_url_problem(url: &str) -> Option<&'static str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        None => Some("is not an http(s) URL"),
        Some(r) if r.is_empty() || r.starts_with('/') => Some("has no host"),
        Some(_) if url.contains(char::is_whitespace) => Some("contains a space"),
        Some(_) if url.contains(['?', '#']) => {
            Some("has a query or fragment, and obsctl appends paths to it")
        }
        Some(_) if url.contains("{{") || url.contains('$') => {
            Some("contains `{{` or `$`, which Helm or Grafana would expand")
        }
        Some(_) => None,
    }
}

fn check_runbook(i: usize, runbook: &super::runbook::Runbook, out: &mut Findings) {
    let blank = |s: &str| s.trim().is_empty();
    let mut previous: Option<&crate::profile::PromDuration> = None;
    for (j, step) in runbook.escalation.iter().enumerate() {
        let at = format!("escalation[{j}]");
        if blank(&step.to) {
            out.add_item(
                i,
                "runbook",
                &at,
                "to",
                "expected whom to escalate to, e.g. `#team-db` or a pager schedule name".into(),
            );
        }
        if let Some(before) = previous {
            if step.after.as_secs() <= before.as_secs() {
                out.add_item(
                    i, "runbook",
                    &at,
                    "after",
                    format!("`{}` is not after the previous step's `{before}`: escalation steps are in order, each later than the one before", step.after),
                );
            }
        }
        previous = Some(&step.after);
    }
    for (j, step) in runbook.steps.iter().enumerate() {
        let at = format!("steps[{j}]");
        if blank(&step.title) {
            out.add_item(
                i,
                "runbook",
                &at,
                "title",
                "expected a short title, e.g. `Fail over to the replica`".into(),
            );
        }
        if blank(&step.text) {
            out.add_item(
                i,
                "runbook",
                &at,
                "text",
                "expected what to do and when, in a sentence or two".into(),
            );
        }
        if step.command.as_deref().is_some_and(blank) {
            out.add_item(
                i,
                "runbook",
                &at,
                "command",
                "expected a command; leave `command` out for a step without one".into(),
            );
        }
    }
    let mut seen = BTreeMap::new();
    for (j, dep) in runbook.dependencies.iter().enumerate() {
        let at = format!("dependencies[{j}]");
        if blank(dep) {
            out.add_item(
                i,
                "runbook",
                &at,
                "",
                "expected the name of a dependency, e.g. `postgres`".into(),
            );
        } else if let Some(first) = seen.insert(dep.as_str(), j) {
            seen.insert(dep.as_str(), first);
            out.add_item(
                i,
                "runbook",
                &at,
                "",
                format!("`{dep}` is listed twice (also dependencies[{first}])"),
            );
        }
    }
    for (key, value) in [
        ("chat", &runbook.chat),
        ("statusPage", &runbook.status_page),
    ] {
        if value.as_deref().is_some_and(blank) {
            out.add_item(
                i,
                "runbook",
                key,
                "",
                format!("expected a name; leave `{key}` out to get a placeholder"),
            );
        }
    }
}

fn check_alerting(i: usize, slo: &Slo, out: &mut Findings) {
    let a = &slo.alerting;
    if let Some(url) = &a.runbook_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(' ') {
            out.add(
                i,
                &["alerting", "runbookUrl"],
                format!("`{url}` is not an http(s) URL; expected e.g. `https://runbooks.example.com/checkout`"),
            );
        }
    }
    for (key, value) in &a.labels {
        if !is_label_name(key) || key.starts_with("__") {
            out.add(
                i,
                &["alerting", "labels", key],
                format!("`{key}` is not a Prometheus label name; expected letters, digits and `_`, not starting with a digit or `__`"),
            );
        } else if GENERATED_ALERT_LABELS.contains(&key.as_str()) {
            out.add(
                i,
                &["alerting", "labels", key],
                format!(
                    "`{key}` is set by obsctl on every SLO alert ({}); choose another label name",
                    GENERATED_ALERT_LABELS.join(", ")
                ),
            );
        }
        if value.is_empty() {
            out.add(
                i,
                &["alerting", "labels", key],
                "expected a value; an empty label value removes the label".into(),
            );
        }
    }
    // A severity that is on but none of whose tiers can fire is certainly a mistake; a single
    // dead tier is only a warning (the other tier of the severity still guards).
    for (severity, on, key) in [
        (Severity::Critical, a.page, "page"),
        (Severity::Warning, a.ticket, "ticket"),
    ] {
        let all = slo.tiers();
        let tiers: Vec<_> = all.iter().filter(|t| t.severity == severity).collect();
        if tiers.is_empty() {
            continue;
        }
        if on
            && tiers
                .iter()
                .all(|t| !t.can_fire(&slo.objective, &slo.window))
        {
            out.add(
                i,
                &["alerting", key],
                format!(
                    "no {} tier can fire at {}% ({}): even 100% errors stay under their thresholds; set `{key}: false` or raise the objective",
                    severity.as_str(),
                    slo.objective,
                    tiers.iter().map(|t| t.describe()).collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
}

fn check_policy(stack: &Stack, out: &mut Findings) {
    let p = &stack.policy;
    let in_range = |v: f64| v.is_finite() && (0.0..=100.0).contains(&v);
    if !in_range(p.healthy) {
        out.add_at(
            &["policy", "healthy"],
            format!(
                "`{}` is not a percentage of budget remaining; expected 0 to 100, e.g. 50",
                p.healthy
            ),
        );
    }
    if !in_range(p.low) {
        out.add_at(
            &["policy", "low"],
            format!(
                "`{}` is not a percentage of budget remaining; expected 0 to 100, e.g. 10",
                p.low
            ),
        );
    }
    if !(p.postmortem.is_finite() && p.postmortem > 0.0 && p.postmortem <= 100.0) {
        out.add_at(
            &["policy", "postmortem"],
            format!(
                "`{}` is not a share of the budget; expected a percentage above 0 and at most 100, e.g. 20",
                p.postmortem
            ),
        );
    }
    if in_range(p.healthy) && in_range(p.low) && p.low >= p.healthy {
        out.add_at(
            &["policy", "low"],
            format!(
                "`low` ({}) must be below `healthy` ({}): above healthy is healthy, from low to healthy is low, below low is exhausted",
                p.low, p.healthy
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::profile::{load, load_file, ProfileError};

    const HEAD: &str = "name: t\nmetrics:\n  retention: 30d\n";

    fn load_text(text: &str) -> Result<crate::profile::Profile, ProfileError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, text).unwrap();
        load_file(&path)
    }

    /// The error text, with the temp dir's path cut to `p.yaml`.
    fn error(text: &str) -> String {
        match load_text(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => {
                let e = e.to_string();
                let at = e.find("p.yaml").unwrap_or(0);
                e[at..].replace("\n/", "\n").to_string()
            }
        }
    }

    /// The lint's warnings of a valid profile, as `path message`.
    fn warnings_of(text: &str) -> Vec<String> {
        let p = load_text(text).unwrap();
        super::warnings(&p.stack, &p.root)
            .iter()
            .map(|w| format!("{} {}", w.path, w.message))
            .collect()
    }

    fn slo(body: &str) -> String {
        format!("{HEAD}slos:\n  - name: a\n    service: s\n{body}")
    }

    const RATIO: &str = "    indicator:\n      ratio:\n        errors: e_total{code=~\"5..\"}\n        total: e_total\n";

    #[test]
    fn the_production_slos_load() {
        let stack = load("production").unwrap().stack;
        assert_eq!(stack.slos.len(), 2);
        assert_eq!(stack.slos[0].objective.error_budget().to_string(), "0.001");
        assert_eq!(stack.policy.healthy, 50.0);
    }

    #[test]
    fn bad_selectors_fail_at_their_position() {
        let text = slo("    objective: 99.9\n    window: 30d\n    indicator:\n      ratio:\n        errors: '{code=~\"5..\"}'\n        total: e_total\n");
        let e = error(&text);
        assert!(
            e.starts_with("p.yaml:11:17: `slos[0].indicator.ratio.errors`: invalid selector"),
            "{e}"
        );
        assert!(e.contains("no metric name"), "{e}");
        let text = slo("    objective: 99.9\n    window: 30d\n    indicator:\n      ratio:\n        errors: e_total{code=~\"5(\"}\n        total: e_total\n");
        assert!(error(&text).contains("not a valid regular expression"));
    }

    #[test]
    fn objectives_out_of_range_fail_at_their_position() {
        for bad in ["100", "0", "-1", "101", "ninety"] {
            let e = error(&slo(&format!(
                "    objective: {bad}\n    window: 30d\n{RATIO}"
            )));
            assert!(
                e.starts_with("p.yaml:7:16: `slos[0].objective`:"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn exactly_one_of_errors_and_good() {
        let neither = slo("    objective: 99\n    window: 30d\n    indicator:\n      ratio:\n        total: e_total\n");
        let e = error(&neither);
        assert!(
            e.starts_with("p.yaml:11:9: `slos[0].indicator.ratio`: give `errors:`"),
            "{e}"
        );
        let both = slo("    objective: 99\n    window: 30d\n    indicator:\n      ratio:\n        errors: e_total{c=\"5\"}\n        good: e_total{c=\"2\"}\n        total: e_total\n");
        assert!(error(&both).contains("either `errors:` or `good:`, not both"));
        let same = slo("    objective: 99\n    window: 30d\n    indicator:\n      ratio:\n        errors: e_total\n        total: e_total\n");
        assert!(error(&same)
            .contains("`slos[0].indicator.ratio.errors`: `errors` selects the same series"));
    }

    #[test]
    fn duplicate_names_are_refused_at_the_second() {
        let text = format!(
            "{HEAD}slos:\n  - name: a\n    service: s\n    objective: 99\n    window: 30d\n{RATIO}  - name: a\n    service: s\n    objective: 99\n    window: 30d\n{RATIO}"
        );
        let e = error(&text);
        assert!(
            e.starts_with("p.yaml:13:11: `slos[1].name`: duplicate SLO name `a` (also slos[0])"),
            "{e}"
        );
    }

    #[test]
    fn windows_and_scrape_intervals_must_suit_the_alert_windows() {
        let e = error(&slo(&format!("    objective: 99\n    window: 1d\n{RATIO}")));
        assert!(
            e.contains(
                "`slos[0].window`: the `1d` window is shorter than the longest alert window (3d)"
            ),
            "{e}"
        );
        let text = format!(
            "name: t\nmetrics:\n  retention: 30d\n  scrapeInterval: 2m\nslos:\n  - name: a\n    service: s\n    objective: 99\n    window: 30d\n{RATIO}"
        );
        let e = error(&text);
        assert!(e.starts_with("p.yaml:4:19: `metrics.scrapeInterval`: SLO alerts use a 5m window, shorter than four scrape intervals"), "{e}");
        let e = error(&format!("name: t\nmetrics:\n  enabled: false\nslos:\n  - name: a\n    service: s\n    objective: 99\n    window: 30d\n{RATIO}"));
        assert!(e.contains("which this profile disables"), "{e}");
    }

    #[test]
    fn latency_metrics_are_histogram_base_names() {
        let lat = |metric: &str, threshold: &str| {
            slo(&format!("    objective: 95\n    window: 30d\n    indicator:\n      latency:\n        metric: {metric}\n        threshold: {threshold}\n"))
        };
        assert!(error(&lat("h_seconds_bucket", "0.5")).contains("without `_bucket` (`h_seconds`)"));
        assert!(error(&lat("h_seconds{le=\"1\"}", "0.5")).contains("remove the `le` matcher"));
        assert!(error(&lat("h_seconds", "0")).contains("`slos[0].indicator.latency.threshold`"));
        assert!(error(&lat("h_seconds", "-1")).contains("not a latency"));
        assert!(load_text(&lat("h_seconds{job=\"a\"}", "0.25")).is_ok());
    }

    #[test]
    fn alerting_labels_urls_and_dead_severities_are_checked() {
        let with = |alerting: &str| {
            slo(&format!(
                "    objective: 99.9\n    window: 30d\n{RATIO}    alerting: {alerting}\n"
            ))
        };
        assert!(error(&with("{labels: {severity: high}}"))
            .contains("`slos[0].alerting.labels.severity`: `severity` is set by obsctl"));
        assert!(error(&with("{labels: {1team: x}}")).contains("not a Prometheus label name"));
        assert!(error(&with("{labels: {team: ''}}")).contains("expected a value"));
        assert!(error(&with("{runbookUrl: runbooks/x}")).contains("not an http(s) URL"));
        // At 80% no paging tier can fire (14.4 × 20%, 6 × 20% are over 100%).
        let e = error(&slo(&format!(
            "    objective: 80\n    window: 30d\n{RATIO}"
        )));
        assert!(
            e.contains("`slos[0].alerting.page`: no critical tier can fire at 80%"),
            "{e}"
        );
        let ok = slo(&format!(
            "    objective: 80\n    window: 30d\n{RATIO}    alerting: {{page: false}}\n"
        ));
        assert!(load_text(&ok).is_ok());
    }

    #[test]
    fn min_events_is_a_positive_count_at_its_position() {
        let with = |value: &str| {
            slo(&format!(
                "    objective: 99.9\n    window: 30d\n{RATIO}    alerting:\n      minEvents: {value}\n"
            ))
        };
        // Line 14 is `minEvents:`; its value starts at column 18.
        let e = error(&with("0"));
        assert!(
            e.starts_with("p.yaml:14:18: `slos[0].alerting.minEvents`: 0 events is no guard"),
            "{e}"
        );
        let e = error(&with("many"));
        assert!(
            e.starts_with("p.yaml:14:18: `slos[0].alerting.minEvents`"),
            "{e}"
        );
        assert!(load_text(&with("100")).is_ok());
    }

    #[test]
    fn group_by_labels_are_refused_at_their_position_when_no_group_could_be_told_apart() {
        let with = |indicator: &str, list: &str, rest: &str| {
            slo(&format!(
                "    objective: 99.9\n    window: 30d\n{indicator}    groupBy: {list}\n{rest}"
            ))
        };
        let at = |e: &str, col: usize, j: usize| {
            assert!(
                e.starts_with(&format!("p.yaml:13:{col}: `slos[0].groupBy[{j}]`: ")),
                "{e}"
            );
        };
        // Line 13 is `    groupBy: [`, whose first item starts at column 15.
        let e = error(&with(RATIO, "[route, 9lives]", ""));
        at(&e, 22, 1);
        assert!(e.contains("`9lives` is not a Prometheus label name"), "{e}");
        let e = error(&with(RATIO, "[route, route]", ""));
        at(&e, 22, 1);
        assert!(e.contains("listed twice (also groupBy[0])"), "{e}");
        let e = error(&with(RATIO, "[severity]", ""));
        at(&e, 15, 0);
        assert!(e.contains("`severity` is set by obsctl"), "{e}");
        let e = error(&with(
            RATIO,
            "[team]",
            "    alerting:\n      labels: {team: pay}\n",
        ));
        assert!(e.contains("also in `alerting.labels`"), "{e}");
        let latency =
            "    indicator:\n      latency:\n        metric: h_seconds\n        threshold: 0.5\n";
        let e = error(&with(latency, "[le]", ""));
        assert!(e.contains("`le` is the histogram's bucket boundary"), "{e}");
        // A matcher that only passes series without the label drops it, in any of the selectors.
        for dropping in [r#"route="""#, r#"route=~"""#, r#"route!~".+""#] {
            let indicator = format!(
                "    indicator:\n      ratio:\n        errors: 'e_total{{code=~\"5..\",{dropping}}}'\n        total: e_total\n"
            );
            let e = error(&with(&indicator, "[route]", ""));
            at(&e, 15, 0);
            assert!(
                e.contains("keeps only series without a `route` label"),
                "{dropping}: {e}"
            );
        }
        // Matchers that keep the label are fine, and so is a label the selectors do not name.
        let keeping = "    indicator:\n      ratio:\n        errors: 'e_total{code=~\"5..\",route=~\"/api/.*\"}'\n        total: 'e_total{route!=\"\"}'\n";
        let p = load_text(&with(keeping, "[route, method]", "")).unwrap();
        assert_eq!(p.stack.slos[0].group_by, ["route", "method"]);
        assert!(load_text(&with(latency, "[route]", "")).is_ok());
    }

    #[test]
    fn the_no_data_alert_keys_are_typed_at_their_position() {
        let with = |key: &str, value: &str| {
            slo(&format!(
                "    objective: 99.9\n    window: 30d\n{RATIO}    alerting:\n      {key}: {value}\n"
            ))
        };
        // Line 14 holds the key; `absent: ` ends at column 14, `absentFor: ` at 17.
        let e = error(&with("absent", "maybe"));
        assert!(
            e.starts_with("p.yaml:14:15: `slos[0].alerting.absent`"),
            "{e}"
        );
        let e = error(&with("absentFor", "soon"));
        assert!(
            e.starts_with("p.yaml:14:18: `slos[0].alerting.absentFor`"),
            "{e}"
        );
        assert!(load_text(&with("absent", "false")).is_ok());
        assert!(load_text(&with("absentFor", "30m")).is_ok());
    }

    #[test]
    fn own_tiers_are_refused_at_their_position_when_they_cannot_work() {
        let with = |tiers: &str| {
            slo(&format!(
                "    objective: 99.9\n    window: 30d\n{RATIO}    alerting:\n      tiers:\n{tiers}"
            ))
        };
        let tier = |long: &str, short: &str, burn: &str| {
            format!("        - {{severity: critical, longWindow: {long}, shortWindow: {short}, burnRate: {burn}}}\n")
        };
        // Line 15 is the first tier: its longWindow value at column 44, shortWindow at 61.
        let e = error(&with(&tier("1h", "5m", "fast")));
        assert!(e.starts_with("p.yaml:15:"), "{e}");
        assert!(
            e.contains("`slos[0].alerting.tiers[0].burnRate`: invalid burn rate `fast`"),
            "{e}"
        );
        assert!(error(&with(&tier("1h", "5m", "0"))).contains("invalid burn rate `0`"));
        let e = error(&with(
            "        - {severity: urgent, longWindow: 1h, shortWindow: 5m, burnRate: 14.4}\n",
        ));
        assert!(e.contains("`slos[0].alerting.tiers[0].severity`"), "{e}");
        let e = error(&with(&tier("1h", "1h", "14.4")));
        assert!(
            e.contains("p.yaml:15:61: `slos[0].alerting.tiers[0].shortWindow`: the short window 1h must be shorter than the long window 1h"),
            "{e}"
        );
        assert!(error(&with(&tier("1h", "1m", "14.4"))).contains(
            "`slos[0].alerting.tiers[0].shortWindow`: the short window 1m is shorter than the 5m"
        ));
        let e = error(&with(&tier("31d", "1d", "1")));
        assert!(
            e.contains("p.yaml:15:44: `slos[0].alerting.tiers[0].longWindow`: the long window 31d is longer than the SLO window 30d"),
            "{e}"
        );
        let e = error(&with(&format!(
            "{}{}",
            tier("1h", "5m", "14.4"),
            tier("1h", "10m", "10")
        )));
        assert!(
            e.contains("p.yaml:16:44: `slos[0].alerting.tiers[1].longWindow`: tiers[0] has the long window 1h too"),
            "{e}"
        );
        let e = error(&slo(&format!(
            "    objective: 99.9\n    window: 30d\n{RATIO}    alerting: {{tiers: []}}\n"
        )));
        assert!(
            e.contains("`slos[0].alerting.tiers`: an empty list has no alert"),
            "{e}"
        );
        let many: String = ["1h", "2h", "3h", "4h", "5h", "6h", "7h", "8h"]
            .iter()
            .map(|long| tier(long, "5m", "2"))
            .collect();
        assert!(error(&with(&many)).contains("8 distinct windows need 11 recording rules"));
        assert!(load_text(&with(&tier("2h", "10m", "10"))).is_ok());
    }

    #[test]
    fn bad_runbook_blocks_fail_at_their_position() {
        let with = |runbook: &str| {
            slo(&format!(
                "    objective: 99.9\n    window: 30d\n{RATIO}    runbook:\n{runbook}"
            ))
        };
        // Line 13 is `runbook:`; its keys start on line 14, column 7.
        let e = error(&with("      namespce: shop\n"));
        assert!(e.starts_with("p.yaml:14:7: `slos[0].runbook"), "{e}");
        assert!(e.contains("did you mean `namespace`?"), "{e}");
        let e = error(&with("      workload: deplyment/api\n"));
        assert!(
            e.starts_with("p.yaml:14:17: `slos[0].runbook.workload`"),
            "{e}"
        );
        assert!(e.contains("did you mean `deployment`?"), "{e}");
        let e = error(&with("      severity: {page: SEV9}\n"));
        assert!(
            e.starts_with("p.yaml:14:24: `slos[0].runbook.severity.page`"),
            "{e}"
        );
        assert!(e.contains("SEV1"), "{e}");
        let e = error(&with("      escalation:\n        - {after: 30m, to: '#a'}\n        - {after: 15m, to: '#b'}\n"));
        assert!(
            e.starts_with("p.yaml:16:19: `slos[0].runbook.escalation[1].after`: `15m` is not after the previous step's `30m`"),
            "{e}"
        );
        let e = error(&with(
            "      escalation:\n        - {after: 15, to: '#a'}\n",
        ));
        assert!(
            e.starts_with("p.yaml:15:19: `slos[0].runbook.escalation[0].after`"),
            "{e}"
        );
        let e = error(&with("      steps:\n        - {title: '', text: x}\n"));
        assert!(
            e.starts_with("p.yaml:15:19: `slos[0].runbook.steps[0].title`"),
            "{e}"
        );
        let e = error(&with(
            "      steps:\n        - {title: t, text: x, section: diagnosis}\n",
        ));
        assert!(e.contains("`slos[0].runbook.steps[0].section`"), "{e}");
        let e = error(&with("      dependencies: [db, db]\n"));
        assert!(
            e.starts_with("p.yaml:14:26: `slos[0].runbook.dependencies[1]`: `db` is listed twice"),
            "{e}"
        );
        assert!(load_text(&with(
            "      namespace: shop\n      workload: sts/db\n      severity: {page: SEV1}\n"
        ))
        .is_ok());
    }

    #[test]
    fn runbook_link_bases_must_be_plain_http_urls() {
        let e = error(&format!("{HEAD}grafana: {{url: 'grafana.internal'}}\n"));
        assert!(
            e.starts_with("p.yaml:4:16: `grafana.url`: `grafana.internal` is not an http(s) URL"),
            "{e}"
        );
        let e = error(&format!(
            "{HEAD}runbooks: {{baseUrl: 'https://w.internal/rb?x=1'}}\n"
        ));
        assert!(
            e.contains("`runbooks.baseUrl`: `https://w.internal/rb?x=1` has a query"),
            "{e}"
        );
        let e = error(&format!("{HEAD}policy: {{postmortem: 0}}\n"));
        assert!(e.contains("`policy.postmortem`"), "{e}");
    }

    #[test]
    fn alerts_whose_runbook_links_only_resolve_in_the_cluster_are_warned_about() {
        let warn = |extra: &str| {
            warnings_of(&format!(
                "{}{extra}",
                slo(&format!("    objective: 99.9\n    window: 30d\n{RATIO}"))
            ))
        };
        let w = warn("");
        assert_eq!(w.len(), 1, "{w:#?}");
        assert!(
            w[0].starts_with(
                "slos the alerts of `a` link their runbooks to Grafana's in-cluster address"
            ),
            "{}",
            w[0]
        );
        assert!(warn("grafana: {url: 'https://g.internal'}\n").is_empty());
        assert!(warn("runbooks: {baseUrl: 'https://w.internal/rb'}\n").is_empty());
    }

    #[test]
    fn expected_traffic_tells_a_page_that_can_never_fire_from_one_that_a_single_failure_sets_off() {
        let warn = |alerting: &str, rps: &str| {
            warnings_of(&format!(
                "{}{alerting}grafana: {{url: 'https://g.internal'}}\nworkload:\n  services:\n    s: {{requestsPerSecond: {rps}}}\n",
                slo(&format!("    objective: 99.9\n    window: 30d\n{RATIO}"))
            ))
        };
        // 0.01 req/s: 36 requests an hour, 216 in 6h. With the guard at 100 the 1h page never
        // fires (the 6h one does).
        let guarded = "    alerting: {minEvents: 100}\n";
        let w = warn(guarded, "0.01");
        assert_eq!(w.len(), 1, "{w:#?}");
        assert!(
            w[0].starts_with("slos[0].alerting.minEvents at s's expected 0.01 requests/s (`workload.services`) the critical 1h/5m page sees about 36 requests in 1h, fewer than `minEvents: 100`: it can never fire"),
            "{}",
            w[0]
        );
        // Unguarded, one failure among 36 is 2.8% > 1.44% in the 1h window (and more in the 5m):
        // it pages alone. In 6h one of 216 is 0.46% < 0.6%: it does not.
        let w = warn("", "0.01");
        assert_eq!(w.len(), 1, "{w:#?}");
        assert!(
            w[0].starts_with("slos[0].alerting at s's expected 0.01 requests/s (`workload.services`) one failed request is more than the critical 1h/5m page's 1.44% error ratio of its 1h and 5m windows: a single failure pages; set `alerting.minEvents` (e.g. `70`)"),
            "{}",
            w[0]
        );
        assert!(warn("", "100").is_empty());
        assert!(warn(guarded, "100").is_empty());
    }

    #[test]
    fn the_policy_must_order_its_thresholds() {
        let e = error(&format!("{HEAD}policy: {{healthy: 10, low: 50}}\n"));
        assert!(
            e.contains("`policy.low`: `low` (50) must be below `healthy` (10)"),
            "{e}"
        );
        assert!(error(&format!("{HEAD}policy: {{healthy: 150}}\n")).contains("`policy.healthy`"));
    }

    #[test]
    fn legal_but_doubtful_settings_are_warnings() {
        let text = format!(
            "name: t\nmetrics:\n  retention: 7d\nslos:\n  - name: a\n    service: s\n    objective: 90\n    window: 30d\n{RATIO}  - name: b\n    service: s\n    objective: 99.999\n    window: 30d\n{RATIO}"
        );
        let p = load_text(&text).unwrap();
        let w: Vec<String> = super::warnings(&p.stack, &p.root)
            .iter()
            .map(|w| format!("{} {}", w.path, w.message))
            .collect();
        assert_eq!(w.len(), 5, "{w:#?}");
        assert!(w[0].starts_with("slos the alerts of `a`, `b` link their runbooks"));
        assert!(w[1]
            .starts_with("slos[0].window the 30d window is longer than `metrics.retention` (7d)"));
        assert!(w[2].starts_with("slos[0].objective the critical 1h/5m tier can never fire at 90%: it needs an error ratio above 144%"), "{}", w[2]);
        assert!(
            w[4].contains("at 99.999% a full outage spends the whole 30d budget in 25.9 seconds"),
            "{}",
            w[3]
        );
    }
}
