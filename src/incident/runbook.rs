//! Runbooks: one per SLO, a section per alert tier it can fire, generated from the same model as
//! the rules. Pure and deterministic, like the render: the same profile gives the same bytes.
//!
//! Every number comes from where the rules take it: the tiers `Slo::live_tiers` alerts on, their
//! burn rates and thresholds from `profile::slo::Tier`, the alert's name, labels and `runbook_url`
//! from the generated rule itself, and the budget arithmetic from `slo::budget`.

mod dashboard;
mod markdown;

use std::collections::BTreeMap;

use serde::Serialize;

use super::explore::{self, Datasource};
use crate::profile::slo::runbook::{Runbook as RunbookConfig, StepSection, WorkloadRef};
use crate::profile::slo::selector::quote;
use crate::profile::slo::{Exact, Indicator, Selector, Severity, Slo, Tier};
use crate::profile::Stack;
use crate::render::labels;
use crate::slo::rules::{self, Rule};
use crate::slo::{budget, links};

pub use dashboard::config_map;
pub use markdown::markdown;

/// The time range Explore links open: the fastest page's long window and what led up to it.
const EXPLORE_RANGE: &str = "3h";
/// How often the communication templates promise an update.
const UPDATE_EVERY: &str = "30 minutes";

/// Everything one SLO's runbook says, as data (`obsctl runbook --format json`); `markdown` and the
/// runbook dashboard are views of it.
#[derive(Clone, Debug, Serialize)]
pub struct Runbook {
    pub slo: String,
    pub service: String,
    pub profile: String,
    pub objective_percent: f64,
    pub objective: String,
    pub window: String,
    pub kind: &'static str,
    /// Relative to a render's output directory.
    pub file: String,
    pub dashboard_uid: String,
    pub dashboard_url: String,
    pub slo_dashboard_url: String,
    pub namespace: Option<String>,
    pub workload: Option<String>,
    pub budget: Budget,
    pub alerts: Vec<AlertSection>,
    /// The `SLOMetricAbsent` alert's section; `None` with `alerting.absent: false`.
    pub no_data: Option<NoDataSection>,
    pub symptoms: Symptoms,
    pub mitigation: Vec<Step>,
    pub verify_recovery: VerifyRecovery,
    pub investigation: Vec<Query>,
    pub dependencies: Vec<Dependency>,
    pub escalation: Vec<EscalationStep>,
    pub chat: Option<String>,
    pub status_page: Option<String>,
    pub communication: Communication,
    pub postmortem: Postmortem,
}

#[derive(Clone, Debug, Serialize)]
pub struct Budget {
    /// 1 − objective, e.g. 0.001.
    pub ratio: f64,
    pub ratio_text: String,
    pub allowed_downtime_seconds: f64,
    /// e.g. `43.2 minutes`.
    pub allowed_downtime: String,
    /// How long a full outage takes to spend the whole budget (the same time).
    pub full_outage_burn_rate: String,
}

/// `SLOMetricAbsent`: the SLI's series are gone, and what to look at.
#[derive(Clone, Debug, Serialize)]
pub struct NoDataSection {
    pub anchor: &'static str,
    pub alert: String,
    pub labels: BTreeMap<String, String>,
    pub runbook_url: String,
    /// How long the series are gone before it fires, e.g. `10m`.
    pub r#for: String,
    /// The selector whose series are missing.
    pub selector: String,
    pub checks: Vec<Query>,
}

/// One alert tier: what fired, what it means in numbers.
#[derive(Clone, Debug, Serialize)]
pub struct AlertSection {
    pub anchor: String,
    pub title: String,
    pub severity: &'static str,
    pub incident_level: &'static str,
    pub alert: String,
    pub labels: BTreeMap<String, String>,
    pub runbook_url: String,
    pub long_window: String,
    pub short_window: String,
    pub burn_rate: f64,
    #[serde(skip)]
    pub burn: Exact,
    pub burn_rate_text: String,
    pub error_ratio_threshold: f64,
    pub error_ratio_threshold_text: String,
    /// Share of the budget already spent in the long window when it fires.
    pub budget_spent_when_firing_percent: f64,
    pub budget_per_hour_percent: f64,
    pub budget_per_hour_text: String,
    pub exhaustion_hours: f64,
    pub exhaustion_text: String,
    pub condition: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Symptoms {
    pub summary: String,
    /// The recorded SLI the alerts read, per window.
    pub recorded: Vec<String>,
    /// The raw series the SLI is computed from.
    pub bad_events: String,
    pub all_events: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub title: String,
    pub text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// `obsctl` or `team` (from the profile).
    pub source: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct VerifyRecovery {
    pub text: String,
    pub query: Query,
}

#[derive(Clone, Debug, Serialize)]
pub struct Query {
    pub title: String,
    pub text: String,
    pub language: &'static str,
    pub query: String,
    pub explore: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Dependency {
    pub name: String,
    /// What the link opens.
    pub what: String,
    pub url: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct EscalationStep {
    pub after: String,
    pub to: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Communication {
    pub initial: String,
    pub update: String,
    pub resolution: String,
    pub status_page: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Postmortem {
    pub budget_percent: f64,
    pub rule: String,
    pub command: String,
}

/// The runbooks of every SLO of the stack, in profile order.
pub fn runbooks(stack: &Stack) -> Vec<Runbook> {
    stack.slos.iter().map(|slo| runbook(stack, slo)).collect()
}

/// The runbook of one of the stack's SLOs.
pub fn runbook(stack: &Stack, slo: &Slo) -> Runbook {
    let default_config = RunbookConfig::default();
    let config = slo.runbook.as_ref().unwrap_or(&default_config);
    let grafana = links::grafana_base(stack);
    let budget_ratio = slo.objective.error_budget();
    let downtime = budget::allowed_downtime_secs(&slo.objective, &slo.window);
    let workload = config
        .workload
        .clone()
        .or_else(|| WorkloadRef::default_for(&slo.service));
    let alert_rules = alert_rules(stack, slo);
    let alerts: Vec<AlertSection> = slo
        .live_tiers()
        .iter()
        .map(|tier| alert_section(slo, config, tier, &alert_rules))
        .collect();
    let sli = Sli::of(slo);
    let ctx = Context {
        stack,
        slo,
        grafana: &grafana,
        namespace: config.namespace.as_ref().map(|n| n.as_str()),
        workload: workload.as_ref(),
        sli: &sli,
    };
    let page_level = alerts
        .iter()
        .find(|a| a.severity == Severity::Critical.as_str())
        .or(alerts.first())
        .map(|a| a.incident_level)
        .unwrap_or(config.severity.page.as_str());
    Runbook {
        slo: slo.name.to_string(),
        service: slo.service.clone(),
        profile: stack.name.to_string(),
        objective_percent: slo.objective.as_f64(),
        objective: slo.objective.to_string(),
        window: slo.window.to_string(),
        kind: match slo.indicator {
            Indicator::Ratio(_) => "availability",
            Indicator::Latency(_) => "latency",
        },
        file: links::runbook_path(slo),
        dashboard_uid: links::dashboard_uid(slo),
        dashboard_url: links::dashboard_url(stack, slo),
        slo_dashboard_url: format!("{grafana}/d/{}", crate::slo::dashboard::DASHBOARD_UID),
        namespace: ctx.namespace.map(str::to_string),
        workload: workload.as_ref().map(ToString::to_string),
        budget: Budget {
            ratio: budget_ratio.to_f64(),
            ratio_text: percent(budget_ratio),
            allowed_downtime_seconds: downtime.to_f64(),
            allowed_downtime: span(downtime),
            full_outage_burn_rate: format!("{}×", (Exact::int(1) / budget_ratio).decimal(2)),
        },
        symptoms: symptoms(slo, &sli),
        mitigation: mitigation(&ctx, config, &alerts),
        verify_recovery: verify_recovery(&ctx, &alerts),
        investigation: investigation(&ctx, config),
        dependencies: dependencies(stack, slo, config, &grafana),
        escalation: config
            .escalation
            .iter()
            .map(|e| EscalationStep {
                after: e.after.to_string(),
                to: e.to.clone(),
            })
            .collect(),
        chat: config.chat.clone(),
        status_page: config.status_page.clone(),
        communication: communication(slo, config, page_level, &alerts),
        postmortem: postmortem(stack, slo, &alerts),
        no_data: no_data(&ctx, &alert_rules),
        alerts,
    }
}

/// The generated alert rules of the SLO, the burn-rate ones by `long_window` label and the others
/// by alert name: the runbook quotes them rather than rebuilding their labels.
fn alert_rules(
    stack: &Stack,
    slo: &Slo,
) -> BTreeMap<String, (String, BTreeMap<String, String>, String)> {
    rules::groups(stack, slo)
        .into_iter()
        .flat_map(|g| g.rules)
        .filter_map(|rule| match rule {
            Rule::Alert {
                alert,
                labels,
                annotations,
                ..
            } => Some((
                labels
                    .get("long_window")
                    .cloned()
                    .unwrap_or_else(|| alert.clone()),
                (
                    alert,
                    labels,
                    annotations.get("runbook_url").cloned().unwrap_or_default(),
                ),
            )),
            Rule::Record { .. } => None,
        })
        .collect()
}

fn no_data(
    ctx: &Context,
    alert_rules: &BTreeMap<String, (String, BTreeMap<String, String>, String)>,
) -> Option<NoDataSection> {
    let (alert, labels, runbook_url) = alert_rules.get(rules::ABSENT_ALERT_NAME).cloned()?;
    let selector = &ctx.sli.total;
    let metric = selector.metric().to_string();
    let checks = vec![
        ctx.query(
            explore::PROMETHEUS,
            "promql",
            "Series of the metric, under any labels",
            "Empty: the target is not scraped (or no longer exports it). Not empty: a label the \
             selector needs was renamed or dropped; compare the labels with the selector."
                .into(),
            format!("count by (job, instance) ({metric})"),
        ),
        ctx.query(
            explore::PROMETHEUS,
            "promql",
            "Scrape targets down",
            "A target at 0 is scraped but does not answer: its pod, its port or its ServiceMonitor."
                .into(),
            "up == 0".into(),
        ),
    ];
    Some(NoDataSection {
        anchor: links::NO_DATA_ANCHOR,
        alert,
        labels,
        runbook_url,
        r#for: ctx.slo.alerting.absent_for.to_string(),
        selector: selector.promql(),
        checks,
    })
}

fn alert_section(
    slo: &Slo,
    config: &RunbookConfig,
    tier: &Tier,
    alert_rules: &BTreeMap<String, (String, BTreeMap<String, String>, String)>,
) -> AlertSection {
    let window = &slo.window;
    let burn = tier.burn_rate(window);
    let threshold = tier.threshold(&slo.objective, window);
    let per_hour = budget::share_per_hour(burn, window);
    let exhaustion = budget::exhaustion_secs(burn, window);
    let (alert, labels, runbook_url) = alert_rules
        .get(&tier.long_window().to_string())
        .cloned()
        .expect("every live tier has an alert rule");
    let (level, speed) = match tier.severity {
        Severity::Critical => (config.severity.page, "pages"),
        Severity::Warning => (config.severity.ticket, "opens a ticket"),
    };
    let bad = match slo.indicator {
        Indicator::Ratio(_) => "requests fail",
        Indicator::Latency(_) => "requests are slower than the threshold",
    };
    AlertSection {
        anchor: links::tier_anchor(tier),
        title: format!(
            "{} {}/{}: {} burn, {speed}",
            tier.severity.as_str(),
            tier.long_window(),
            tier.short_window(),
            if tier.long_secs <= 6 * 3_600 {
                "fast"
            } else {
                "slow"
            }
        ),
        severity: tier.severity.as_str(),
        incident_level: level.as_str(),
        alert,
        labels,
        runbook_url,
        long_window: tier.long_window().to_string(),
        short_window: tier.short_window().to_string(),
        burn_rate: burn.to_f64(),
        burn,
        burn_rate_text: format!("{}×", burn.decimal(4)),
        error_ratio_threshold: threshold.to_f64(),
        error_ratio_threshold_text: percent(threshold),
        budget_spent_when_firing_percent: tier.budget_percent().to_f64(),
        budget_per_hour_percent: (per_hour * Exact::int(100)).to_f64(),
        budget_per_hour_text: percent(per_hour),
        exhaustion_hours: (exhaustion / Exact::int(3_600)).to_f64(),
        exhaustion_text: span(exhaustion),
        condition: format!(
            "more than {} of {bad} ({}× the budgeted {}) over both the last {} and the last {}",
            percent(threshold),
            burn.decimal(4),
            percent(slo.objective.error_budget()),
            tier.long_window(),
            tier.short_window()
        ),
    }
}

/// The SLI's series, in the shapes the queries need.
struct Sli {
    /// Bad events (a selector, or `total - good` spelled as PromQL over a range).
    bad: BadEvents,
    total: Selector,
    /// The status-code label of the selectors, when they have one.
    code_label: Option<String>,
    latency: Option<(Selector, f64)>,
}

enum BadEvents {
    Selector(Selector),
    /// All events minus these good ones.
    NotGood(Selector),
}

/// Label names that hold a response's status, in the order they are preferred.
const CODE_LABELS: [&str; 5] = [
    "code",
    "status_code",
    "status",
    "http_status_code",
    "grpc_code",
];

impl Sli {
    fn of(slo: &Slo) -> Sli {
        let (bad, total, latency) = match &slo.indicator {
            Indicator::Ratio(r) => match (&r.errors, &r.good) {
                (Some(errors), _) => (BadEvents::Selector(errors.clone()), r.total.clone(), None),
                (None, Some(good)) => (BadEvents::NotGood(good.clone()), r.total.clone(), None),
                (None, None) => unreachable!("validated: errors or good"),
            },
            Indicator::Latency(l) => (
                BadEvents::NotGood(l.good()),
                l.total(),
                Some((l.metric.clone(), l.threshold)),
            ),
        };
        let mentioned: Vec<&str> = match &bad {
            BadEvents::Selector(s) | BadEvents::NotGood(s) => s.matchers(),
        }
        .iter()
        .chain(total.matchers())
        .map(|m| m.label.as_str())
        .collect();
        let code_label = latency.is_none().then(|| {
            CODE_LABELS
                .iter()
                .find(|l| mentioned.contains(l))
                .unwrap_or(&CODE_LABELS[0])
                .to_string()
        });
        Sli {
            bad,
            total,
            code_label,
            latency,
        }
    }

    fn rate(selector: &Selector, by: &str) -> String {
        format!("sum{by} (rate({}[5m]))", selector.promql())
    }

    /// The ratio of bad events, per `by` (e.g. ` by (pod)`, or empty for one series).
    fn bad_ratio(&self, by: &str) -> String {
        let total = Sli::rate(&self.total, by);
        match &self.bad {
            BadEvents::Selector(bad) => format!("{} / {total}", Sli::rate(bad, by)),
            BadEvents::NotGood(good) => format!("1 - {} / {total}", Sli::rate(good, by)),
        }
    }

    fn bad_events_text(&self) -> String {
        match &self.bad {
            BadEvents::Selector(bad) => bad.promql(),
            BadEvents::NotGood(good) => format!("{} minus {}", self.total.promql(), good.promql()),
        }
    }
}

struct Context<'a> {
    stack: &'a Stack,
    slo: &'a Slo,
    grafana: &'a str,
    namespace: Option<&'a str>,
    workload: Option<&'a WorkloadRef>,
    sli: &'a Sli,
}

impl Context<'_> {
    fn query(
        &self,
        ds: Datasource,
        language: &'static str,
        title: &str,
        text: String,
        query: String,
    ) -> Query {
        Query {
            title: title.to_string(),
            text,
            language,
            explore: explore::link(self.grafana, ds, &query, EXPLORE_RANGE),
            query,
        }
    }

    /// `kubectl -n NS` (or plain `kubectl`, in the context's namespace).
    fn kubectl(&self) -> String {
        match self.namespace {
            Some(ns) => format!("kubectl -n {ns}"),
            None => "kubectl".to_string(),
        }
    }
}

fn symptoms(slo: &Slo, sli: &Sli) -> Symptoms {
    let summary = match &slo.indicator {
        Indicator::Ratio(_) => format!(
            "{} is failing more requests than its objective allows: {}% of requests must succeed over any {} (an error budget of {} of requests).",
            slo.service,
            slo.objective,
            slo.window,
            percent(slo.objective.error_budget())
        ),
        Indicator::Latency(l) => format!(
            "{} is answering too many requests slower than {}: {}% must take at most {} over any {} (an error budget of {} of requests).",
            slo.service,
            seconds_text(l.threshold),
            slo.objective,
            seconds_text(l.threshold),
            slo.window,
            percent(slo.objective.error_budget())
        ),
    };
    let summary = match slo.group_by.as_slice() {
        [] => summary,
        by => format!(
            "{summary} Each {} has its own SLI, budget and alerts: the alert's `{}` label{} name{} the group that burns, and the queries below list every group, worst first.",
            by.join(" and "),
            by.join("`, `"),
            if by.len() > 1 { "s" } else { "" },
            if by.len() > 1 { "" } else { "s" },
        ),
    };
    let m = rules::series_matcher(slo);
    Symptoms {
        summary,
        recorded: rules::alert_windows(slo)
            .iter()
            .map(|w| worst_first(slo, format!("{}{m}", rules::ratio_metric(w))))
            .collect(),
        bad_events: sli.bad_events_text(),
        all_events: sli.total.promql(),
    }
}

/// A per-label SLO's query, sorted so that the group burning fastest comes first.
fn worst_first(slo: &Slo, query: String) -> String {
    if slo.group_by.is_empty() {
        query
    } else {
        format!("sort_desc({query})")
    }
}

fn mitigation(ctx: &Context, config: &RunbookConfig, alerts: &[AlertSection]) -> Vec<Step> {
    let k = ctx.kubectl();
    let chat = config.chat.as_deref().unwrap_or("<incident channel>");
    let level = alerts
        .first()
        .map(|a| a.incident_level)
        .unwrap_or(config.severity.page.as_str());
    let mut steps = vec![Step {
        title: "Acknowledge and declare".into(),
        text: format!(
            "Acknowledge the alert, declare a {level} incident (or the level of the section that fired) in {chat} and post the initial message from [Communication](#communication). Note the time: the incident starts when the error ratio rose, not when you were paged."
        ),
        commands: vec![],
        source: "obsctl",
    }];
    match ctx.workload {
        Some(w) => {
            steps.push(Step {
                title: "What changed?".into(),
                text: format!("A rollout in the last hours is the most likely cause. Check the rollout history and whether one is in progress, and the warnings of {w}."),
                commands: vec![
                    format!("{k} rollout history {w}"),
                    format!("{k} rollout status {w} --timeout=10s"),
                    format!("{k} events --for {w} --types=Warning"),
                ],
                source: "obsctl",
            });
            steps.push(Step {
                title: "Restarts and failing pods".into(),
                text: "Pods that crash-loop or get OOM-killed show up as restarts; the newest warnings of the namespace say why.".into(),
                commands: vec![
                    format!("{k} get pods --sort-by='.status.containerStatuses[0].restartCount'"),
                    format!("{k} get events --field-selector type=Warning --sort-by=.lastTimestamp | tail -n 20"),
                ],
                source: "obsctl",
            });
            steps.push(Step {
                title: "Roll back".into(),
                text: "If a rollout started shortly before the error ratio rose, roll back to the previous revision first and investigate after. Watch it finish.".into(),
                commands: vec![format!("{k} rollout undo {w}"), format!("{k} rollout status {w}")],
                source: "obsctl",
            });
            if w.kind.scales() {
                steps.push(Step {
                    title: "Scale out".into(),
                    text: format!("If {w} is saturated (CPU throttled, queues growing) rather than broken, double its replicas. If a HorizontalPodAutoscaler manages it, raise the HPA's `minReplicas` instead, or it scales back."),
                    commands: vec![
                        format!("{k} get hpa"),
                        format!("{k} scale {w} --replicas=$(( $({k} get {w} -o jsonpath='{{.spec.replicas}}') * 2 ))"),
                    ],
                    source: "obsctl",
                });
            }
        }
        None => steps.push(Step {
            title: "What changed?".into(),
            text: format!("The service `{}` is not a Kubernetes object name; set `runbook.workload` (e.g. `deployment/NAME`) in the profile to get rollout, rollback and scaling commands here.", ctx.slo.service),
            commands: vec![],
            source: "obsctl",
        }),
    }
    steps.extend(team_steps(config, StepSection::Mitigation));
    steps
}

fn team_steps(config: &RunbookConfig, section: StepSection) -> impl Iterator<Item = Step> + '_ {
    config
        .steps
        .iter()
        .filter(move |s| s.section == section)
        .map(|s| Step {
            title: s.title.clone(),
            text: s.text.clone(),
            commands: s.command.iter().cloned().collect(),
            source: "team",
        })
}

fn verify_recovery(ctx: &Context, alerts: &[AlertSection]) -> VerifyRecovery {
    let slo = ctx.slo;
    let base = crate::profile::PromDuration::from_secs(crate::profile::slo::BASE_WINDOW_SECS);
    let m = rules::series_matcher(slo);
    let budget = slo.objective.error_budget();
    let query = worst_first(slo, format!("{}{m} / {budget}", rules::ratio_metric(&base)));
    let clears: Vec<String> = alerts
        .iter()
        .map(|a| {
            format!(
                "{} once the {} ratio is under {}",
                a.anchor, a.short_window, a.error_ratio_threshold_text
            )
        })
        .collect();
    VerifyRecovery {
        text: format!(
            "Recovered means the burn rate over the last {base} is back under 1× (an error ratio under {}): from then on the budget is no longer shrinking faster than the {} window allows. The alerts clear by themselves as their short windows empty: {}.",
            percent(budget),
            slo.window,
            clears.join("; ")
        ),
        query: ctx.query(
            explore::PROMETHEUS,
            "promql",
            "Burn rate over the last 5m",
            "1 or more: still burning faster than the budget allows; under 1: recovered.".into(),
            query,
        ),
    }
}

fn investigation(ctx: &Context, config: &RunbookConfig) -> Vec<Query> {
    let sli = ctx.sli;
    let mut out = vec![];
    if let Some(code) = &sli.code_label {
        let by = format!(" by ({code})");
        let (q, what) = match &sli.bad {
            BadEvents::Selector(bad) => (Sli::rate(bad, &by), "Failing requests per second"),
            BadEvents::NotGood(_) => (Sli::rate(&sli.total, &by), "Requests per second"),
        };
        out.push(
            ctx.query(
                explore::PROMETHEUS,
                "promql",
                &format!("{what} by `{code}`"),
                "Which responses fail: one code (503 from a dependency, 500 from a bug) or many."
                    .into(),
                q,
            ),
        );
    }
    if let Some((metric, threshold)) = &sli.latency {
        let bucket = metric.with_metric(&format!("{}_bucket", metric.metric()));
        for q in ["0.99", "0.5"] {
            out.push(ctx.query(
                explore::PROMETHEUS,
                "promql",
                &format!("Latency p{}", (Exact::parse_decimal(q, 2).expect("literal") * Exact::int(100)).decimal(0)),
                format!("Against the objective's {}: a p99 far above it is a few slow requests, a p50 above it is everyone.", seconds_text(*threshold)),
                format!("histogram_quantile({q}, {})", Sli::rate(&bucket, " by (le)")),
            ));
        }
    }
    let what = if sli.latency.is_some() {
        "Share of slow requests"
    } else {
        "Error ratio"
    };
    out.push(ctx.query(
        explore::PROMETHEUS,
        "promql",
        &format!("{what} by route"),
        "One endpoint or all of them (series without a `route` or `handler` label show as one line).".into(),
        sli.bad_ratio(" by (route, handler)"),
    ));
    out.push(ctx.query(
        explore::PROMETHEUS,
        "promql",
        &format!("{what} by pod"),
        "One pod (a bad node, a stuck process: delete that pod) or all of them (a bad release or a dependency).".into(),
        sli.bad_ratio(" by (pod)"),
    ));
    let service = &ctx.slo.service;
    if ctx.stack.logs.enabled {
        let mut stream = vec![format!(
            "{}={}",
            labels::SERVICE_NAME.loki_label,
            quote(service)
        )];
        if let Some(ns) = ctx.namespace {
            stream.push(format!("{}={}", labels::NAMESPACE.loki_label, quote(ns)));
        }
        let filter = format!(
            "{{{}}} | {}=~{}",
            stream.join(", "),
            labels::LOG_LEVEL_METADATA,
            quote(&labels::ERROR_LOG_LEVELS.join("|"))
        );
        out.push(ctx.query(
            explore::LOKI,
            "logql",
            "Error log lines",
            format!("The service's error lines (Loki's `{}`), newest first; a trace id in a line links to its trace.", labels::LOG_LEVEL_METADATA),
            filter.clone(),
        ));
        out.push(ctx.query(
            explore::LOKI,
            "logql",
            "Error lines per pod",
            "Whether the errors come from one pod or all of them.".into(),
            format!(
                "sum by ({}) (count_over_time({filter} [5m]))",
                labels::POD.loki_label
            ),
        ));
    }
    if ctx.stack.traces.enabled {
        let svc = format!(
            "resource.{} = {}",
            labels::SERVICE_NAME.attribute,
            quote(service)
        );
        out.push(ctx.query(
            explore::TEMPO,
            "traceql",
            "Error traces",
            "Traces with a failed span of the service: the span that failed first names the cause.".into(),
            format!("{{ {svc} && status = error }}"),
        ));
        if let Some((_, threshold)) = &sli.latency {
            out.push(ctx.query(
                explore::TEMPO,
                "traceql",
                "Slow traces",
                format!("Server spans of the service slower than the objective's {}: where the time goes.", seconds_text(*threshold)),
                format!("{{ {svc} && kind = server && duration > {} }}", traceql_duration(*threshold)),
            ));
        }
    }
    out.extend(
        team_steps(config, StepSection::Investigation).map(|s| Query {
            title: s.title,
            text: s.text,
            language: "shell",
            query: s.commands.join("\n"),
            explore: String::new(),
        }),
    );
    out
}

fn dependencies(
    stack: &Stack,
    slo: &Slo,
    config: &RunbookConfig,
    grafana: &str,
) -> Vec<Dependency> {
    config
        .dependencies
        .iter()
        .map(|name| {
            let other = stack.slos.iter().find(|s| {
                s.name.as_str() != slo.name.as_str()
                    && (s.name.as_str() == name || s.service == *name)
            });
            match other {
                Some(o) => Dependency {
                    name: name.clone(),
                    what: format!("runbook of SLO `{}`", o.name),
                    url: format!("{}.md", o.name),
                },
                None => Dependency {
                    name: name.clone(),
                    what: "Grafana dashboards".into(),
                    url: format!(
                        "{grafana}/dashboards?query={}",
                        percent_encoding::utf8_percent_encode(
                            name,
                            percent_encoding::NON_ALPHANUMERIC
                        )
                    ),
                },
            }
        })
        .collect()
}

fn communication(
    slo: &Slo,
    config: &RunbookConfig,
    level: &str,
    alerts: &[AlertSection],
) -> Communication {
    let chat = config.chat.as_deref().unwrap_or("<incident channel>");
    let which: Vec<String> = alerts
        .iter()
        .map(|a| {
            format!(
                "{} {}/{} ({}, {} of the budget per hour)",
                a.severity, a.long_window, a.short_window, a.burn_rate_text, a.budget_per_hour_text
            )
        })
        .collect();
    let (symptom, public) = match &slo.indicator {
        Indicator::Ratio(_) => ("failing more requests than its SLO allows", "errors"),
        Indicator::Latency(_) => ("answering too many requests too slowly", "slow responses"),
    };
    let head = format!("[{level}] {} ({})", slo.name, slo.service);
    Communication {
        initial: format!(
            "{head}: investigating.\n\
             {service} is {symptom} ({objective}% over {window}).\n\
             Alert: <which fired: {which}>.\n\
             Impact: <who is affected and how>, since <start, HH:MM UTC>.\n\
             Incident lead: <name>. Updates every {UPDATE_EVERY} in {chat}.",
            service = slo.service,
            objective = slo.objective,
            window = slo.window,
            which = which.join(" | "),
        ),
        update: format!(
            "{head}: <investigating | identified | mitigating | monitoring>, <HH:MM UTC>.\n\
             Error budget remaining: <from the dashboard>% of {window}; burning at <burn rate>×.\n\
             What we know: <cause, or what is ruled out>.\n\
             What we are doing: <action>. Next update in {UPDATE_EVERY}.",
            window = slo.window,
        ),
        resolution: format!(
            "{head}: resolved at <HH:MM UTC>.\n\
             The burn rate is back under 1× (the 5m error ratio is under {budget}).\n\
             Duration: <start> to <end> UTC. Budget spent: <from `obsctl postmortem`>.\n\
             Cause: <one sentence>. Postmortem: <link, or why none is needed>.",
            budget = percent(slo.objective.error_budget()),
        ),
        status_page: format!(
            "Investigating: some customers may see {public} when using {service}. We are working on it and will post an update within {UPDATE_EVERY}.\n\
             Resolved: from <start> to <end> UTC some customers saw {public} when using {service}. The issue is fixed and we are monitoring.",
            service = slo.service,
        ),
    }
}

fn postmortem(stack: &Stack, slo: &Slo, alerts: &[AlertSection]) -> Postmortem {
    let pct = stack.policy.postmortem;
    let share =
        Exact::parse_decimal(&format!("{pct}"), 6).unwrap_or(Exact::ratio(1, 5)) / Exact::int(100);
    let full_outage = Exact::int(1) / slo.objective.error_budget();
    let mut examples = vec![format!(
        "{} of full outage",
        span(budget::secs_to_spend(share, full_outage, &slo.window))
    )];
    for a in alerts
        .iter()
        .filter(|a| a.severity == Severity::Critical.as_str())
    {
        examples.push(format!(
            "{} at the {} page's {}",
            span(budget::secs_to_spend(share, a.burn, &slo.window)),
            a.long_window,
            a.burn_rate_text
        ));
    }
    Postmortem {
        budget_percent: pct,
        rule: format!(
            "A postmortem is required when the incident spends more than {pct}% of the {} error budget (the profile's `policy.postmortem`): that is {}.",
            slo.window,
            examples.join(", or ")
        ),
        command: format!(
            "obsctl postmortem --profile {} --slo {} --from <start, e.g. 2026-01-31T09:12:00Z> --to <end>",
            stack.name, slo.name
        ),
    }
}

/// A ratio as a percentage: 0.0144 → `1.44%`.
pub(crate) fn percent(ratio: Exact) -> String {
    format!("{}%", (ratio * Exact::int(100)).decimal(4))
}

/// A span of seconds for people: `8.6 minutes`, `50 hours`, `5 days`.
pub(crate) fn span(secs: Exact) -> String {
    let minute = Exact::int(60);
    let hour = Exact::int(3_600);
    let day = Exact::int(86_400);
    let (value, unit) = if secs < Exact::int(90) {
        (secs, "seconds")
    } else if secs < Exact::int(2 * 3_600) {
        (secs / minute, "minutes")
    } else if secs < Exact::int(72 * 3_600) {
        (secs / hour, "hours")
    } else {
        (secs / day, "days")
    };
    let text = value.decimal(1);
    let unit = if text == "1" {
        unit.trim_end_matches('s')
    } else {
        unit
    };
    format!("{text} {unit}")
}

fn seconds_text(secs: f64) -> String {
    if secs < 1.0 {
        format!("{}ms", (secs * 1000.0).round())
    } else {
        format!("{secs}s")
    }
}

/// TraceQL durations: `500ms`, `2s`.
fn traceql_duration(secs: f64) -> String {
    seconds_text(secs)
}

#[cfg(test)]
mod tests;
