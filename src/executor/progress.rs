//! Progress of a run, three ways: a multi-line display with one line per step and its elapsed
//! time (a terminal), plain timestamped lines (a pipe), one JSON event per line (`--output json`).
//! Everything goes to stdout; the summary closes every run.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::time::now_millis;

use super::{Event, ExecutionReport, Reporter, StepState};
use crate::output::Table;
use crate::plan::Step;

/// The reporter for how the command was asked to print.
pub fn for_output(steps: &[Step], json: bool) -> Box<dyn Reporter + Send> {
    if json {
        Box::new(JsonLines)
    } else if crate::output::stdout_is_tty() {
        Box::new(Bars::new(steps))
    } else {
        Box::new(Plain)
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// One line per state change for a person: `done (installed) in 2.1s`.
fn describe(state: &StepState) -> String {
    match state {
        StepState::Done { elapsed, note } if note.is_empty() => {
            format!("done in {}", secs(*elapsed))
        }
        StepState::Done { elapsed, note } => format!("done ({note}) in {}", secs(*elapsed)),
        StepState::Failed { elapsed, reason } => {
            format!("FAILED after {}: {reason}", secs(*elapsed))
        }
        StepState::Interrupted { elapsed, reason } => {
            format!("INTERRUPTED after {}: {reason}", secs(*elapsed))
        }
        StepState::NotStarted { reason } => format!("not started: {reason}"),
    }
}

/// The closing table and count line, for people.
pub fn summary_text(report: &ExecutionReport) -> String {
    let mut table = Table::new(["STEP", "RESULT", "TIME", "DETAIL"]);
    let (mut done, mut failed, mut interrupted, mut skipped) = (0, 0, 0, 0);
    for outcome in &report.steps {
        let (result, time, detail) = match &outcome.state {
            StepState::Done { elapsed, note } => {
                done += 1;
                ("done", secs(*elapsed), note.clone())
            }
            StepState::Failed { elapsed, reason } => {
                failed += 1;
                ("FAILED", secs(*elapsed), reason.clone())
            }
            StepState::Interrupted { elapsed, reason } => {
                interrupted += 1;
                ("INTERRUPTED", secs(*elapsed), reason.clone())
            }
            StepState::NotStarted { reason } => {
                skipped += 1;
                ("not started", "-".into(), reason.clone())
            }
        };
        table.row([outcome.id.clone(), result.into(), time, detail]);
    }
    let interrupted = if interrupted > 0 {
        format!(", {interrupted} interrupted")
    } else {
        String::new()
    };
    format!(
        "{}{done} done, {failed} failed{interrupted}, {skipped} not started in {}\n",
        table.render(false),
        secs(report.elapsed)
    )
}

/// Plain timestamped lines, for pipes and logs.
pub struct Plain;

impl Reporter for Plain {
    fn event(&self, event: Event<'_>) {
        let (id, text) = match event {
            Event::Started(step) => (&step.id, "started".to_string()),
            Event::Finished(step, state) => (&step.id, describe(state)),
        };
        println!("{} {id:<22} {text}", now_millis());
    }
    fn note(&self, text: &str) {
        println!("{} {text}", now_millis());
    }
    fn summary(&self, report: &ExecutionReport) {
        print!("{}", summary_text(report));
        let _ = std::io::stdout().flush();
    }
}

/// One JSON object per line: `{"ts", "event", …}`.
pub struct JsonLines;

/// Whether events are written as YAML documents instead of JSON lines: chosen once per run by
/// `-o`, before the first event.
static YAML_EVENTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Sets the event stream's format for this run (`-o json`: JSON lines, `-o yaml`: documents).
pub fn set_stream_format(format: crate::cli::EventFormat) {
    YAML_EVENTS.store(
        format == crate::cli::EventFormat::Yaml,
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Prints one event on stdout, with a `ts` field first: a JSON line, or a YAML document
/// (`---` first, so a reader splits the stream as it arrives).
pub fn emit(value: serde_json::Value) {
    let mut line = serde_json::Map::new();
    line.insert("ts".into(), now_millis().into());
    if let serde_json::Value::Object(fields) = value {
        line.extend(fields.into_iter().filter(|(k, _)| k != "ts"));
    }
    let mut out = std::io::stdout().lock();
    if YAML_EVENTS.load(std::sync::atomic::Ordering::Relaxed) {
        let _ = writeln!(out, "---");
        let _ = yaml_serde::to_writer(&mut out, &line);
    } else {
        let _ = serde_json::to_writer(&mut out, &line);
        let _ = writeln!(out);
    }
    let _ = out.flush();
}

impl Reporter for JsonLines {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Started(step) => emit(json!({
                "event": "step-started", "step": step.id, "action": step.action,
            })),
            Event::Finished(step, state) => {
                let mut value =
                    json!({"event": "step-finished", "step": step.id, "action": step.action});
                if let (Some(map), Ok(serde_json::Value::Object(fields))) =
                    (value.as_object_mut(), serde_json::to_value(state))
                {
                    map.extend(fields);
                }
                emit(value)
            }
        }
    }
    fn note(&self, text: &str) {
        emit(json!({"event": "note", "message": text}));
    }
    fn summary(&self, report: &ExecutionReport) {
        let mut value = json!({"event": "summary", "ok": report.succeeded()});
        if let (Some(map), Ok(serde_json::Value::Object(fields))) =
            (value.as_object_mut(), serde_json::to_value(report))
        {
            map.extend(fields);
        }
        emit(value);
    }
}

/// A live display: one line per step (waiting, a spinner with elapsed time, then the result).
pub struct Bars {
    multi: MultiProgress,
    bars: HashMap<String, ProgressBar>,
    /// After the summary the display is final: later notes are plain lines below it (through
    /// the display they would redraw over the summary).
    finished: AtomicBool,
}

impl Bars {
    pub fn new(steps: &[Step]) -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        let width = steps.iter().map(|s| s.id.len()).max().unwrap_or(10);
        let bars = steps
            .iter()
            .map(|step| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(Self::style(false, width));
                bar.set_prefix(step.id.clone());
                bar.set_message("waiting");
                (step.id.clone(), bar)
            })
            .collect();
        Bars {
            multi,
            bars,
            finished: AtomicBool::new(false),
        }
    }

    fn style(running: bool, width: usize) -> ProgressStyle {
        let template = if running {
            format!("{{prefix:<{width}}}  {{spinner}} {{msg}} {{elapsed}}")
        } else {
            format!("{{prefix:<{width}}}  {{msg}}")
        };
        ProgressStyle::with_template(&template).expect("valid progress template")
    }

    fn width(&self) -> usize {
        self.bars.keys().map(String::len).max().unwrap_or(10)
    }
}

impl Reporter for Bars {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Started(step) => {
                if let Some(bar) = self.bars.get(&step.id) {
                    bar.set_style(Self::style(true, self.width()));
                    bar.set_message("running");
                    bar.enable_steady_tick(Duration::from_millis(120));
                }
            }
            Event::Finished(step, state) => {
                if let Some(bar) = self.bars.get(&step.id) {
                    bar.set_style(Self::style(false, self.width()));
                    let mark = match state {
                        StepState::Done { .. } => "✓",
                        StepState::Failed { .. } => "✗",
                        StepState::Interrupted { .. } => "!",
                        StepState::NotStarted { .. } => "-",
                    };
                    bar.finish_with_message(format!("{mark} {}", describe(state)));
                }
            }
        }
    }
    fn note(&self, text: &str) {
        if self.finished.load(Ordering::SeqCst) {
            println!("{text}");
        } else {
            let _ = self.multi.println(text);
        }
    }
    fn summary(&self, report: &ExecutionReport) {
        for bar in self.bars.values() {
            if !bar.is_finished() {
                bar.finish();
            }
        }
        self.finished.store(true, Ordering::SeqCst);
        print!("\n{}", summary_text(report));
        let _ = std::io::stdout().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::StepOutcome;

    #[test]
    fn the_summary_counts_done_failed_and_not_started() {
        let report = ExecutionReport {
            steps: vec![
                StepOutcome {
                    id: "kps".into(),
                    state: StepState::Done {
                        elapsed: Duration::from_millis(3100),
                        note: "unchanged".into(),
                    },
                },
                StepOutcome {
                    id: "loki".into(),
                    state: StepState::Failed {
                        elapsed: Duration::from_secs(2),
                        reason: "boom".into(),
                    },
                },
                StepOutcome {
                    id: "otel-collector".into(),
                    state: StepState::NotStarted {
                        reason: "needs `loki`, which failed".into(),
                    },
                },
            ],
            elapsed: Duration::from_millis(5150),
        };
        let text = summary_text(&report);
        assert!(
            text.contains("kps             done         3.1s  unchanged"),
            "{text}"
        );
        assert!(
            text.contains("loki            FAILED       2.0s  boom"),
            "{text}"
        );
        assert!(
            text.contains("otel-collector  not started  -     needs `loki`, which failed"),
            "{text}"
        );
        assert!(
            text.ends_with("1 done, 1 failed, 1 not started in 5.2s\n"),
            "{text}"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["steps"][1],
            json!({"id": "loki", "state": "failed", "elapsed": 2.0, "reason": "boom"})
        );
    }
}
