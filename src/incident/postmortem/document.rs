//! The postmortem as Markdown, in the structure of a blameless postmortem: overview, executive
//! summary, timeline, root-cause analysis, what went well and wrong, impact, action items,
//! lessons, communication. Computed figures are filled in; what only people know is a visible
//! `<placeholder>`. Pure: the same facts give the same bytes.

use std::fmt::Write as _;

use super::impact::{signed_duration, At, Kind, SloImpact};
use super::incident::Incident;
use super::Postmortem;
use crate::slo::explain::{float_minutes_text, thousands};

fn count(v: f64) -> String {
    thousands(v.round().max(0.0) as u128)
}

fn pct(ratio: f64, digits: usize) -> String {
    format!("{:.*}%", digits, ratio * 100.0)
}

/// One line, safe inside a table cell.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn or_placeholder(value: Option<&String>, placeholder: &str) -> String {
    match value.map(|v| v.trim()).filter(|v| !v.is_empty()) {
        Some(v) => cell(v),
        None => format!("<{placeholder}>"),
    }
}

fn list(out: &mut String, items: &[String], placeholder: &str) {
    let items: Vec<&String> = items.iter().filter(|i| !i.trim().is_empty()).collect();
    if items.is_empty() {
        let _ = writeln!(out, "- <{placeholder}>");
    }
    for item in items {
        let _ = writeln!(out, "- {}", cell(item));
    }
}

fn bad_events(s: &SloImpact) -> &'static str {
    match s.kind {
        Kind::Availability => "failed",
        Kind::Latency => "were slow",
    }
}

/// What the SLO counts as bad, for sentences: `failed`, `were slower than 0.5s`.
fn bad_phrase(s: &SloImpact) -> String {
    match (s.kind, s.latency_threshold_seconds) {
        (Kind::Latency, Some(t)) => format!("were slower than {t}s"),
        _ => bad_events(s).to_string(),
    }
}

/// `checkout-availability: 21,150 of 47,000 requests failed (45.00%); 48.96% of the 30d budget`.
fn impact_line(s: &SloImpact) -> String {
    match (s.events.bad, s.events.total, s.error_ratio) {
        (Some(b), Some(t), Some(r)) => {
            let mut line = format!(
                "{}: {} of {} requests {} ({})",
                s.display_name(),
                count(b),
                count(t),
                bad_phrase(s),
                pct(r, 2)
            );
            if let Some(c) = s.budget.consumed_by_incident {
                let _ = write!(line, "; {} of the {} error budget", pct(c, 2), s.window);
            }
            line
        }
        (_, Some(t), _) if t <= 0.0 => {
            format!("{}: no traffic recorded in the window", s.display_name())
        }
        _ => format!("{}: no data for the window", s.display_name()),
    }
}

fn day(at: At) -> String {
    at.to_string()[..10].to_string()
}

fn clock(at: At) -> String {
    let text = at.to_string();
    text[11..].trim_end_matches('Z').to_string()
}

pub fn markdown(pm: &Postmortem) -> String {
    let empty = Incident::default();
    let inc = pm.incident.as_ref().unwrap_or(&empty);
    let from = At(pm.window.from);
    let to = At(pm.window.to);
    let duration = signed_duration(pm.window.to - pm.window.from);
    let mut md = String::new();
    let title = or_placeholder(inc.title.as_ref(), "title: what users saw");
    let _ = writeln!(md, "# Postmortem: {title}\n");
    let _ = writeln!(
        md,
        "Blameless postmortem, {}. It looks for what in our systems and processes let this happen and what will \
         stop it happening again, not for someone to blame. SLO figures computed by obsctl from Prometheus \
         ({}); everything in `<angle brackets>` is for people to fill in.\n",
        inc.status.as_str(),
        pm.prometheus_url
    );

    // Overview.
    md.push_str("## Overview\n\n| | |\n|---|---|\n");
    if let Some(id) = inc.id.as_ref().filter(|i| !i.trim().is_empty()) {
        let _ = writeln!(md, "| Incident | {} |", cell(id));
    }
    let _ = writeln!(md, "| Date | {} |", day(from));
    let _ = writeln!(md, "| Window (UTC) | {from} – {to} ({duration}) |");
    let _ = writeln!(
        md,
        "| Severity | {} |",
        or_placeholder(inc.severity.as_ref(), "severity")
    );
    let _ = writeln!(
        md,
        "| Commander | {} |",
        or_placeholder(inc.commander.as_ref(), "incident commander")
    );
    if !inc.responders.is_empty() {
        let people: Vec<String> = inc
            .responders
            .iter()
            .map(|r| format!("{} ({})", cell(&r.name), cell(&r.role)))
            .collect();
        let _ = writeln!(md, "| Responders | {} |", people.join(", "));
    }
    let services = if inc.services.is_empty() {
        let mut s: Vec<String> = pm.slos.iter().map(|s| s.service.clone()).collect();
        s.dedup();
        s
    } else {
        inc.services.clone()
    };
    let _ = writeln!(md, "| Services | {} |", cell(&services.join(", ")));
    let impacts: Vec<String> = pm.slos.iter().map(|s| cell(&impact_line(s))).collect();
    let _ = writeln!(md, "| Impact | {} |", impacts.join("<br>"));
    if !inc.authors.is_empty() {
        let _ = writeln!(md, "| Authors | {} |", cell(&inc.authors.join(", ")));
    }

    // Executive summary.
    md.push_str("\n## Executive summary\n\n");
    for s in &pm.slos {
        let _ = writeln!(md, "{}\n", summary_sentence(s, from, to, &duration));
    }
    let _ = writeln!(
        md,
        "{}\n",
        or_placeholder(
            inc.summary.as_ref(),
            "what happened, in two or three sentences: the trigger, the effect on users, how it ended"
        )
    );

    // Timeline.
    md.push_str("## Timeline (UTC)\n\n| Time | Event | Source |\n|---|---|---|\n");
    for (at, text, source) in timeline(pm, inc) {
        let _ = writeln!(md, "| {} | {} | {} |", At(at), cell(&text), source);
    }

    // Root cause.
    md.push_str("\n## Root-cause analysis\n\n");
    let _ = writeln!(
        md,
        "**Trigger:** {}\n",
        or_placeholder(inc.trigger.as_ref(), "what set it off")
    );
    md.push_str("### Five whys\n\n");
    if inc.five_whys.is_empty() {
        md.push_str(
            "1. <Why did users see the problem?> <Because … (each answer is the next question; end at a system or process)>\n",
        );
    }
    for (i, w) in inc.five_whys.iter().enumerate() {
        let _ = writeln!(md, "{}. **{}** {}", i + 1, cell(&w.why), cell(&w.because));
    }
    let _ = writeln!(
        md,
        "\n**Root cause:** {}\n",
        or_placeholder(
            inc.root_cause.as_ref(),
            "the system or process condition the whys end at"
        )
    );
    md.push_str("**Contributing factors:**\n\n");
    list(&mut md, &inc.contributing_factors, "contributing factor");
    md.push('\n');
    md.push_str("**Detection:** ");
    let detection: Vec<String> = pm
        .slos
        .iter()
        .map(|s| match s.time_to_detect_seconds {
            Some(t) => format!(
                "{} paged {} after the start",
                s.display_name(),
                signed_duration(t)
            ),
            None => format!("{}: no page fired", s.display_name()),
        })
        .collect();
    let _ = write!(md, "{}.", detection.join("; "));
    if let Some(d) = inc.detection.as_ref().filter(|d| !d.trim().is_empty()) {
        let _ = write!(md, " {}", cell(d));
    }
    let _ = writeln!(
        md,
        "\n\n**Resolution:** {}\n",
        or_placeholder(inc.resolution.as_ref(), "what ended it")
    );

    // Went well / wrong / lucky.
    md.push_str("## What went well\n\n");
    list(
        &mut md,
        &inc.went_well,
        "what worked: alerts, tools, people, process",
    );
    md.push_str("\n## What went wrong\n\n");
    list(
        &mut md,
        &inc.went_wrong,
        "what made it worse or slower to fix",
    );
    md.push_str("\n## Where we got lucky\n\n");
    list(&mut md, &inc.got_lucky, "what could have made it worse");

    impact_section(&mut md, pm, inc);

    // Action items.
    md.push_str("\n## Action items\n\n| # | Action | Owner | Priority | Due | Ticket |\n|---|---|---|---|---|---|\n");
    if inc.action_items.is_empty() {
        md.push_str("| 1 | <action that removes a cause or shortens detection> | <owner> | <P0–P3> | <date> | <ticket> |\n");
    }
    for (i, a) in inc.action_items.iter().enumerate() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            i + 1,
            cell(&a.action),
            or_placeholder(a.owner.as_ref(), "owner"),
            a.priority
                .map(|p| p.to_string())
                .unwrap_or_else(|| "<priority>".into()),
            a.due
                .as_ref()
                .map(|d| d.as_str().to_string())
                .unwrap_or_else(|| "<date>".into()),
            or_placeholder(a.ticket.as_ref(), "ticket"),
        );
    }

    md.push_str("\n## Lessons learned\n\n");
    list(
        &mut md,
        &inc.lessons,
        "what we learned that others should know",
    );

    communication(&mut md, pm, inc, &services, &duration);

    let notes: Vec<String> = pm
        .slos
        .iter()
        .flat_map(|s| {
            s.notes
                .iter()
                .map(move |n| format!("{}: {n}", s.display_name()))
        })
        .collect();
    if !notes.is_empty() {
        md.push_str("\n## Data notes\n\n");
        for n in notes {
            let _ = writeln!(md, "- {}", cell(&n));
        }
    }
    md
}

fn summary_sentence(s: &SloImpact, from: At, to: At, duration: &str) -> String {
    let mut text = format!(
        "For {duration} on {} ({}–{} UTC), ",
        day(from),
        clock(from),
        clock(to)
    );
    match (s.events.bad, s.events.total, s.error_ratio) {
        (Some(b), Some(t), Some(r)) => {
            let _ = write!(
                text,
                "{} of {} requests counted by {} {} ({})",
                count(b),
                count(t),
                s.display_name(),
                bad_phrase(s),
                pct(r, 2)
            );
        }
        (_, Some(t), _) if t <= 0.0 => {
            let _ = write!(text, "{} recorded no requests at all", s.display_name());
        }
        _ => {
            let _ = write!(text, "{} has no data in Prometheus", s.display_name());
        }
    }
    if let Some(c) = s.budget.consumed_by_incident {
        let _ = write!(
            text,
            ", spending {} of its {} error budget",
            pct(c, 2),
            s.window
        );
        if let Some(m) = s.full_outage_minutes {
            let _ = write!(
                text,
                " (as much as {} of full outage)",
                float_minutes_text(m)
            );
        }
    }
    text.push('.');
    match s.time_to_detect_seconds {
        Some(t) => {
            let _ = write!(
                text,
                " The first page fired {} after the start.",
                signed_duration(t)
            );
        }
        None => text.push_str(" No page fired."),
    }
    if let (Some(sli), Some(rem), Some(state)) =
        (s.sli_window_after, s.budget.remaining_after, s.policy_state)
    {
        let _ = write!(
            text,
            " Over the {} window ending at the incident's end the SLI is {} against an objective of {}%, \
             with {} of the budget left: {} — {}.",
            s.window,
            pct(sli, 4),
            s.objective,
            pct(rem, 2),
            state.as_str(),
            state.actions()
        );
    }
    text
}

/// People's events and the computed ones, in time order (stable: people's first at equal times).
fn timeline(pm: &Postmortem, inc: &Incident) -> Vec<(f64, String, &'static str)> {
    let mut events: Vec<(f64, String, &'static str)> = Vec::new();
    events.push((pm.window.from, "Incident window starts".into(), "--from"));
    for e in &inc.timeline {
        events.push((e.at.0, e.text.clone(), "people"));
    }
    for s in &pm.slos {
        for a in &s.alerts {
            let what = format!(
                "{} {} {}/{} for {}",
                a.alertname,
                a.severity,
                a.long_window,
                a.short_window,
                s.display_name()
            );
            events.push((a.fired_at.0, format!("{what} fired"), a.source.as_str()));
            if let Some(r) = a.resolved_at {
                events.push((r.0, format!("{what} resolved"), a.source.as_str()));
            }
        }
        for c in &s.budget_crossings {
            events.push((
                c.at.0,
                format!(
                    "{}: error budget remaining fell to {}% (policy: {})",
                    s.display_name(),
                    c.threshold_percent,
                    c.state.as_str()
                ),
                "computed",
            ));
        }
    }
    events.push((pm.window.to, "Incident window ends".into(), "--to"));
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    events
}

fn impact_section(md: &mut String, pm: &Postmortem, inc: &Incident) {
    md.push_str("\n## Impact assessment\n\n### Technical\n\n");
    md.push_str("| SLO | Bad events | Events | Error ratio | Peak burn rate (5m) | Full-outage equivalent |\n|---|---|---|---|---|---|\n");
    for s in &pm.slos {
        let bad_label = match (s.kind, s.latency_threshold_seconds) {
            (Kind::Latency, Some(t)) => format!(" slower than {t}s"),
            _ => " failed".into(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            s.display_name(),
            s.events
                .bad
                .map(|b| format!("{}{bad_label}", count(b)))
                .unwrap_or_else(|| "no data".into()),
            s.events
                .total
                .map(count)
                .unwrap_or_else(|| "no data".into()),
            s.error_ratio
                .map(|r| pct(r, 2))
                .unwrap_or_else(|| "no traffic".into()),
            s.peak_burn_rate
                .map(|b| format!("{b:.1}×"))
                .unwrap_or_else(|| "-".into()),
            s.full_outage_minutes
                .map(float_minutes_text)
                .unwrap_or_else(|| "-".into()),
        );
    }
    md.push_str("\n### Business\n\n");
    let b = &inc.impact;
    if b.is_empty() {
        md.push_str("- <users affected, revenue, support tickets, SLA credits>\n");
    }
    if let Some(u) = &b.users {
        let _ = writeln!(md, "- Users: {}", cell(u));
    }
    if let Some(r) = &b.revenue {
        let _ = writeln!(md, "- Revenue: {}", cell(r));
    }
    if let Some(t) = b.tickets {
        let _ = writeln!(md, "- Support tickets: {t}");
    }
    for o in &b.other {
        let _ = writeln!(md, "- {}", cell(o));
    }
    md.push_str("\n### SLO and error budget\n\n");
    md.push_str("| SLO | Objective | Budget spent by this incident | SLI after | Budget left (before → after) | Policy |\n|---|---|---|---|---|---|\n");
    for s in &pm.slos {
        let left = match (s.budget.remaining_before, s.budget.remaining_after) {
            (Some(b), Some(a)) => format!("{} → {}", pct(b, 2), pct(a, 2)),
            (None, Some(a)) => format!("? → {}", pct(a, 2)),
            _ => "no data".into(),
        };
        let _ = writeln!(
            md,
            "| {} | {}% / {} | {} | {} | {} | {} |",
            s.display_name(),
            s.objective,
            s.window,
            s.budget
                .consumed_by_incident
                .map(|c| match s.budget.allowed_bad {
                    Some(a) => format!("{} (of {} allowed bad events)", pct(c, 2), count(a)),
                    None => pct(c, 2),
                })
                .unwrap_or_else(|| "no data".into()),
            s.sli_window_after
                .map(|v| pct(v, 4))
                .unwrap_or_else(|| "no data".into()),
            left,
            s.policy_state
                .map(|st| format!("{}: {}", st.as_str(), st.actions()))
                .unwrap_or_else(|| "unknown".into()),
        );
    }
    md.push_str("\n### Alerts and detection\n\n");
    let any = pm.slos.iter().any(|s| !s.alerts.is_empty());
    if any {
        md.push_str("| SLO | Alert | Fired | Resolved | Source |\n|---|---|---|---|---|\n");
        for s in &pm.slos {
            for a in &s.alerts {
                let _ = writeln!(
                    md,
                    "| {} | {} {} {}/{} | {} ({}) | {} | {} |",
                    s.display_name(),
                    a.alertname,
                    a.severity,
                    a.long_window,
                    a.short_window,
                    a.fired_at,
                    relative(a.fired_at.0 - s.incident.from.0),
                    a.resolved_at
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "still firing".into()),
                    a.source.as_str()
                );
            }
        }
        md.push('\n');
    }
    for s in &pm.slos {
        let _ = writeln!(
            md,
            "- {}: time to detect {}, time to resolve {}.",
            s.display_name(),
            s.time_to_detect_seconds
                .map(signed_duration)
                .unwrap_or_else(|| "unknown (no page fired)".into()),
            signed_duration(s.time_to_resolve_seconds)
        );
    }
}

/// `+4m` after the start, `-2m` before it.
fn relative(secs: f64) -> String {
    if secs < 0.0 {
        signed_duration(secs)
    } else {
        format!("+{}", signed_duration(secs))
    }
}

fn communication(
    md: &mut String,
    pm: &Postmortem,
    inc: &Incident,
    services: &[String],
    duration: &str,
) {
    let from = At(pm.window.from);
    let to = At(pm.window.to);
    let title = or_placeholder(inc.title.as_ref(), "title");
    let severity = or_placeholder(inc.severity.as_ref(), "severity");
    let figures: Vec<String> = pm
        .slos
        .iter()
        .filter_map(|s| {
            s.error_ratio
                .map(|r| format!("{} of {} requests {}", pct(r, 1), s.service, bad_phrase(s)))
        })
        .collect();
    let what = if figures.is_empty() {
        "<what users saw>".to_string()
    } else {
        figures.join(", ")
    };
    md.push_str("\n## Communication\n\n");
    let _ = writeln!(
        md,
        "### Internal update ({})\n",
        or_placeholder(inc.chat.as_ref(), "chat channel")
    );
    let budget: Vec<String> = pm
        .slos
        .iter()
        .filter_map(|s| {
            s.budget.consumed_by_incident.map(|c| {
                format!(
                    "{} spent {} of its {} budget",
                    s.display_name(),
                    pct(c, 1),
                    s.window
                )
            })
        })
        .collect();
    let _ = writeln!(
        md,
        "> **Resolved — {severity}: {title}.** From {} to {} UTC ({duration}) {what}. {} Commander: {}. \
         Postmortem draft: <link>; review: <date>.\n",
        clock(from),
        clock(to),
        if budget.is_empty() {
            String::new()
        } else {
            format!("{}.", budget.join("; "))
        },
        or_placeholder(inc.commander.as_ref(), "commander"),
    );
    let _ = writeln!(
        md,
        "### Status page ({})\n",
        or_placeholder(inc.status_page.as_ref(), "status page")
    );
    let _ = writeln!(
        md,
        "> **Resolved: {} degraded.** Between {} and {} UTC on {}, some requests to {} {}. The issue is resolved \
         and the service is operating normally. We are sorry for the disruption; we are reviewing what happened \
         and the steps that will prevent it from happening again.",
        cell(&services.join(", ")),
        clock(from),
        clock(to),
        day(from),
        cell(&services.join(", ")),
        if pm.slos.iter().all(|s| s.kind == Kind::Latency) {
            "were slow"
        } else {
            "failed or were slow"
        },
    );
}
