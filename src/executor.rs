//! Runs a plan's steps: each as soon as the steps it needs are done, independent ones
//! concurrently. A failed step stops the steps that need it (directly or not); steps already
//! running are left to finish, and independent steps still run. What each step does is the
//! caller's `runner`; the executor only schedules and reports.

pub mod progress;

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;

use crate::plan::Step;

/// What a step's runner returns: a short note on success (`installed`, `unchanged`), the reason
/// on failure.
pub type StepResult = Result<String, String>;

/// How one step ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum State {
    Done {
        #[serde(serialize_with = "seconds")]
        elapsed: Duration,
        note: String,
    },
    Failed {
        #[serde(serialize_with = "seconds")]
        elapsed: Duration,
        reason: String,
    },
    NotStarted {
        reason: String,
    },
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    pub id: String,
    #[serde(flatten)]
    pub state: State,
}

/// Every step's outcome, in plan order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub steps: Vec<Outcome>,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

impl Report {
    pub fn succeeded(&self) -> bool {
        self.steps
            .iter()
            .all(|o| matches!(o.state, State::Done { .. }))
    }

    pub fn state(&self, id: &str) -> Option<&State> {
        self.steps.iter().find(|o| o.id == id).map(|o| &o.state)
    }
}

/// What the executor tells its reporter, as it happens.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    Started(&'a Step),
    Finished(&'a Step, &'a State),
}

/// Shows progress: a terminal display, plain lines or JSON events.
pub trait Reporter: Sync {
    fn event(&self, event: Event<'_>);
    /// A line that is not about one step (the target, a hint).
    fn note(&self, text: &str);
    /// The end of the run.
    fn summary(&self, report: &Report);
}

/// Runs `steps` (each after the steps it needs, which must come before it) with `runner`.
pub async fn run<F>(steps: &[Step], runner: F, reporter: &dyn Reporter) -> Report
where
    F: Fn(&Step) -> BoxFuture<'static, StepResult>,
{
    let began = Instant::now();
    let mut states: Vec<Option<State>> = vec![None; steps.len()];
    let mut started = vec![false; steps.len()];
    let mut running = FuturesUnordered::new();
    loop {
        // Plan order is dependency order, so one pass settles chains of blocked steps.
        for i in 0..steps.len() {
            if started[i] || states[i].is_some() {
                continue;
            }
            let blocked = steps[i].needs.iter().find_map(|need| {
                let j = steps.iter().position(|s| &s.id == need)?;
                match &states[j] {
                    Some(State::Failed { .. }) => Some(format!("needs `{need}`, which failed")),
                    Some(State::NotStarted { .. }) => {
                        Some(format!("needs `{need}`, which was not started"))
                    }
                    _ => None,
                }
            });
            if let Some(reason) = blocked {
                let state = State::NotStarted { reason };
                reporter.event(Event::Finished(&steps[i], &state));
                states[i] = Some(state);
                continue;
            }
            let ready = steps[i].needs.iter().all(|need| {
                steps
                    .iter()
                    .position(|s| &s.id == need)
                    .is_some_and(|j| matches!(states[j], Some(State::Done { .. })))
            });
            if ready {
                started[i] = true;
                reporter.event(Event::Started(&steps[i]));
                let future = runner(&steps[i]);
                let start = Instant::now();
                running.push(async move { (i, future.await, start.elapsed()) });
            }
        }
        let Some((i, result, elapsed)) = running.next().await else {
            break;
        };
        let state = match result {
            Ok(note) => State::Done { elapsed, note },
            Err(reason) => State::Failed { elapsed, reason },
        };
        reporter.event(Event::Finished(&steps[i], &state));
        states[i] = Some(state);
    }
    let report = Report {
        steps: steps
            .iter()
            .zip(states)
            .map(|(step, state)| Outcome {
                id: step.id.clone(),
                // Only a step whose needs name no step at all can be left here.
                state: state.unwrap_or_else(|| State::NotStarted {
                    reason: "needs a step that is not in the plan".into(),
                }),
            })
            .collect(),
        elapsed: began.elapsed(),
    };
    reporter.summary(&report);
    report
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures::FutureExt;
    use tokio::sync::Barrier;

    use super::*;
    use crate::plan::Action;

    fn step(id: &str, needs: &[&str]) -> Step {
        Step {
            id: id.into(),
            action: Action::Helm,
            needs: needs.iter().map(|s| s.to_string()).collect(),
            argv: vec![],
        }
    }

    /// The `up` shape: kps, then loki and tempo, then the collector, then manifests.
    fn graph() -> Vec<Step> {
        vec![
            step("kps", &[]),
            step("loki", &["kps"]),
            step("tempo", &["kps"]),
            step("collector", &["loki", "tempo"]),
            step("manifests", &["kps", "loki", "tempo", "collector"]),
        ]
    }

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl Reporter for Log {
        fn event(&self, event: Event<'_>) {
            let line = match event {
                Event::Started(s) => format!("start {}", s.id),
                Event::Finished(s, State::Done { .. }) => format!("done {}", s.id),
                Event::Finished(s, State::Failed { .. }) => format!("failed {}", s.id),
                Event::Finished(s, State::NotStarted { .. }) => format!("skip {}", s.id),
            };
            self.0.lock().unwrap().push(line);
        }
        fn note(&self, _: &str) {}
        fn summary(&self, _: &Report) {
            self.0.lock().unwrap().push("summary".into());
        }
    }

    fn position(log: &[String], line: &str) -> usize {
        log.iter()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("no `{line}` in {log:?}"))
    }

    #[tokio::test]
    async fn steps_start_only_after_what_they_need_and_loki_and_tempo_overlap() {
        // Loki and Tempo each wait for the other at a barrier: the run only completes if both
        // are running at once (bounded, so a sequential executor fails instead of hanging).
        let barrier = Arc::new(Barrier::new(2));
        let log = Log::default();
        let report = run(
            &graph(),
            |s| {
                let barrier = barrier.clone();
                let id = s.id.clone();
                async move {
                    if id == "loki" || id == "tempo" {
                        tokio::time::timeout(Duration::from_secs(10), barrier.wait())
                            .await
                            .map_err(|_| format!("{id} never ran alongside its sibling"))?;
                    }
                    Ok("installed".to_string())
                }
                .boxed()
            },
            &log,
        )
        .await;
        assert!(report.succeeded(), "{report:?}");
        let log = log.0.into_inner().unwrap();
        assert!(position(&log, "done kps") < position(&log, "start loki"));
        assert!(position(&log, "done kps") < position(&log, "start tempo"));
        assert!(position(&log, "done loki") < position(&log, "start collector"));
        assert!(position(&log, "done tempo") < position(&log, "start collector"));
        assert!(position(&log, "done collector") < position(&log, "start manifests"));
        assert_eq!(log.last().unwrap(), "summary");
    }

    #[tokio::test]
    async fn a_failure_stops_what_needs_it_and_lets_the_sibling_finish() {
        let log = Log::default();
        let report = run(
            &graph(),
            |s| {
                let id = s.id.clone();
                async move {
                    if id == "loki" {
                        Err("resource StatefulSet/monitoring/loki not ready".to_string())
                    } else {
                        if id == "tempo" {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Ok("installed".to_string())
                    }
                }
                .boxed()
            },
            &log,
        )
        .await;
        assert!(!report.succeeded());
        assert!(matches!(report.state("kps"), Some(State::Done { .. })));
        assert!(
            matches!(report.state("tempo"), Some(State::Done { .. })),
            "{report:?}"
        );
        assert_eq!(
            report.state("loki"),
            Some(&State::Failed {
                elapsed: match report.state("loki") {
                    Some(State::Failed { elapsed, .. }) => *elapsed,
                    _ => unreachable!(),
                },
                reason: "resource StatefulSet/monitoring/loki not ready".into()
            })
        );
        assert_eq!(
            report.state("collector"),
            Some(&State::NotStarted {
                reason: "needs `loki`, which failed".into()
            })
        );
        assert_eq!(
            report.state("manifests"),
            Some(&State::NotStarted {
                reason: "needs `loki`, which failed".into()
            })
        );
        let log = log.0.into_inner().unwrap();
        assert!(!log.contains(&"start collector".to_string()));
        assert!(!log.contains(&"start manifests".to_string()));
    }

    #[tokio::test]
    async fn a_failure_at_the_root_starts_nothing_else() {
        let calls = Mutex::new(Vec::new());
        let report = run(
            &graph(),
            |s| {
                calls.lock().unwrap().push(s.id.clone());
                async { Err("no".to_string()) }.boxed()
            },
            &Log::default(),
        )
        .await;
        assert_eq!(*calls.lock().unwrap(), ["kps"]);
        assert_eq!(
            report.state("collector"),
            Some(&State::NotStarted {
                reason: "needs `loki`, which was not started".into()
            })
        );
    }
}
