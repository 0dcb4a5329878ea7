//! Runs a plan's steps on the scheduler (`crate::schedule`): each as soon as the steps it needs
//! are done, independent ones concurrently. A failed step stops the steps that need it (directly
//! or not); steps already running are left to finish, and independent steps still run. What each
//! step does is `steps`; the executor runs and reports.

pub mod interrupt;
pub mod progress;
pub mod steps;

use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt};
use serde::Serialize;

use crate::plan::Step;
use crate::schedule;
pub use interrupt::Interrupt;

/// What a step's runner returns: a short note on success (`installed`, `unchanged`), the reason
/// on failure.
pub type StepResult = Result<String, String>;

/// How one step ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum StepState {
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
    /// Running when the run was interrupted, and did not finish.
    Interrupted {
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
pub struct StepOutcome {
    pub id: String,
    #[serde(flatten)]
    pub state: StepState,
}

/// Every step's outcome, in plan order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExecutionReport {
    pub steps: Vec<StepOutcome>,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

impl ExecutionReport {
    pub fn succeeded(&self) -> bool {
        self.steps
            .iter()
            .all(|o| matches!(o.state, StepState::Done { .. }))
    }
}

/// What the executor tells its reporter, as it happens.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    Started(&'a Step),
    Finished(&'a Step, &'a StepState),
}

/// Shows progress: a terminal display, plain lines or JSON events.
pub trait Reporter: Sync {
    fn event(&self, event: Event<'_>);
    /// A line that is not about one step (the target, a hint).
    fn note(&self, text: &str);
    /// The end of the run.
    fn summary(&self, report: &ExecutionReport);
}

/// Runs `steps` (each after the steps it needs) with `runner`, starting no step once `stop` is
/// triggered: steps still running are waited for (and reported interrupted if they then fail),
/// the others are not started.
pub async fn run_until<F>(
    steps: &[Step],
    runner: F,
    reporter: &dyn Reporter,
    stop: &Interrupt,
) -> ExecutionReport
where
    F: Fn(&Step) -> BoxFuture<'static, StepResult>,
{
    let began = Instant::now();
    // A need that names no step never finishes: the step is left unstarted (below).
    let needs: Vec<Vec<usize>> = steps
        .iter()
        .map(|step| {
            step.needs
                .iter()
                .map(|need| {
                    steps
                        .iter()
                        .position(|s| &s.id == need)
                        .unwrap_or(usize::MAX)
                })
                .collect()
        })
        .collect();
    let mut nodes = StepNodes {
        steps,
        runner,
        reporter,
        stop,
    };
    let states = schedule::run(&needs, &mut nodes).await;
    let report = ExecutionReport {
        steps: steps
            .iter()
            .zip(states)
            .map(|(step, state)| StepOutcome {
                id: step.id.clone(),
                state: state.unwrap_or_else(|| StepState::NotStarted {
                    reason: "needs a step that is not in the plan".into(),
                }),
            })
            .collect(),
        elapsed: began.elapsed(),
    };
    reporter.summary(&report);
    report
}

/// The plan's steps as nodes of the scheduler, each reported as it starts and ends.
struct StepNodes<'a, F> {
    steps: &'a [Step],
    runner: F,
    reporter: &'a dyn Reporter,
    stop: &'a Interrupt,
}

const INTERRUPTED_BEFORE_START: &str = "interrupted before it started";

impl<'a, F> schedule::Nodes<'a> for StepNodes<'a, F>
where
    F: Fn(&Step) -> BoxFuture<'static, StepResult>,
{
    type Result = StepState;

    fn start(&mut self, i: usize) -> BoxFuture<'a, StepState> {
        let (step, reporter, stop) = (&self.steps[i], self.reporter, self.stop);
        if stop.signal().is_some() {
            let state = StepState::NotStarted {
                reason: INTERRUPTED_BEFORE_START.into(),
            };
            reporter.event(Event::Finished(step, &state));
            return futures::future::ready(state).boxed();
        }
        reporter.event(Event::Started(step));
        let future = (self.runner)(step);
        let start = Instant::now();
        async move {
            let elapsed_result = future.await;
            let elapsed = start.elapsed();
            let state = match elapsed_result {
                Ok(note) => StepState::Done { elapsed, note },
                Err(reason) if stop.signal().is_some() => {
                    StepState::Interrupted { elapsed, reason }
                }
                Err(reason) => StepState::Failed { elapsed, reason },
            };
            reporter.event(Event::Finished(step, &state));
            state
        }
        .boxed()
    }

    fn blocked(&mut self, i: usize, need: usize, result: &StepState) -> StepState {
        let need = &self.steps[need].id;
        let reason = match result {
            _ if self.stop.signal().is_some() => INTERRUPTED_BEFORE_START.into(),
            StepState::NotStarted { .. } => format!("needs `{need}`, which was not started"),
            _ => format!("needs `{need}`, which failed"),
        };
        let state = StepState::NotStarted { reason };
        self.reporter.event(Event::Finished(&self.steps[i], &state));
        state
    }

    fn succeeded(&self, result: &StepState) -> bool {
        matches!(result, StepState::Done { .. })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::sync::Barrier;

    use super::*;
    use crate::plan::Action;

    /// Runs `steps` (each after the steps it needs) with `runner`.
    async fn run<F>(steps: &[Step], runner: F, reporter: &dyn Reporter) -> ExecutionReport
    where
        F: Fn(&Step) -> BoxFuture<'static, StepResult>,
    {
        run_until(steps, runner, reporter, &Interrupt::default()).await
    }

    impl ExecutionReport {
        fn state(&self, id: &str) -> Option<&StepState> {
            self.steps.iter().find(|o| o.id == id).map(|o| &o.state)
        }
    }

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
                Event::Finished(s, StepState::Done { .. }) => format!("done {}", s.id),
                Event::Finished(s, StepState::Failed { .. }) => format!("failed {}", s.id),
                Event::Finished(s, StepState::NotStarted { .. }) => format!("skip {}", s.id),
                Event::Finished(s, StepState::Interrupted { .. }) => {
                    format!("interrupted {}", s.id)
                }
            };
            self.0.lock().unwrap().push(line);
        }
        fn note(&self, _: &str) {}
        fn summary(&self, _: &ExecutionReport) {
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
        assert!(matches!(report.state("kps"), Some(StepState::Done { .. })));
        assert!(
            matches!(report.state("tempo"), Some(StepState::Done { .. })),
            "{report:?}"
        );
        assert_eq!(
            report.state("loki"),
            Some(&StepState::Failed {
                elapsed: match report.state("loki") {
                    Some(StepState::Failed { elapsed, .. }) => *elapsed,
                    _ => unreachable!(),
                },
                reason: "resource StatefulSet/monitoring/loki not ready".into()
            })
        );
        assert_eq!(
            report.state("collector"),
            Some(&StepState::NotStarted {
                reason: "needs `loki`, which failed".into()
            })
        );
        assert_eq!(
            report.state("manifests"),
            Some(&StepState::NotStarted {
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
            Some(&StepState::NotStarted {
                reason: "needs `loki`, which was not started".into()
            })
        );
    }
}
