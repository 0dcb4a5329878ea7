//! Runs a dependency graph: every node as soon as all the nodes it needs have finished,
//! independent nodes concurrently; a node whose need did not succeed is not run. The executor's
//! plan steps and verify's checks are both scheduled here.

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};

/// How to run the nodes of one graph.
pub trait Nodes<'a> {
    /// What a node ends with (run or not).
    type Result: 'a;

    /// Starts node `i`: all its needs have succeeded.
    fn start(&mut self, i: usize) -> BoxFuture<'a, Self::Result>;

    /// The result of node `i`, which is not run because its need `need` ended with `result`.
    fn blocked(&mut self, i: usize, need: usize, result: &Self::Result) -> Self::Result;

    /// Whether the nodes that need this one may run.
    fn succeeded(&self, result: &Self::Result) -> bool;
}

/// Runs every node of the graph whose `needs[i]` are the indices node `i` needs. Returns each
/// node's result in node order; `None` for a node that could never start (its need is out of
/// range or part of a cycle).
pub async fn run<'a, N: Nodes<'a>>(needs: &[Vec<usize>], nodes: &mut N) -> Vec<Option<N::Result>> {
    let count = needs.len();
    let mut results: Vec<Option<N::Result>> = (0..count).map(|_| None).collect();
    let mut started = vec![false; count];
    let mut running = FuturesUnordered::new();
    loop {
        // Settle every node whose needs are all finished; repeat, since settling a blocked node
        // can settle the nodes that need it.
        let mut settled = true;
        while settled {
            settled = false;
            for i in 0..count {
                if started[i] {
                    continue;
                }
                let finished = needs[i]
                    .iter()
                    .all(|&j| results.get(j).is_some_and(Option::is_some));
                if !finished {
                    continue;
                }
                started[i] = true;
                settled = true;
                let failed = needs[i].iter().copied().find(|&j| {
                    results[j]
                        .as_ref()
                        .is_some_and(|result| !nodes.succeeded(result))
                });
                match failed {
                    Some(j) => {
                        let result = nodes.blocked(i, j, results[j].as_ref().expect("finished"));
                        results[i] = Some(result);
                    }
                    None => {
                        let future = nodes.start(i);
                        running.push(async move { (i, future.await) });
                    }
                }
            }
        }
        let Some((i, result)) = running.next().await else {
            break;
        };
        results[i] = Some(result);
    }
    results
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use futures::FutureExt;
    use tokio::sync::Barrier;

    use super::*;

    /// Nodes that pass unless named in `fail`, logging starts and ends.
    struct Test {
        fail: Vec<usize>,
        log: Arc<Mutex<Vec<String>>>,
        barrier: Option<(usize, usize, Arc<Barrier>)>,
    }

    impl<'a> Nodes<'a> for Test {
        type Result = Result<usize, String>;

        fn start(&mut self, i: usize) -> BoxFuture<'a, Self::Result> {
            let log = self.log.clone();
            let fail = self.fail.contains(&i);
            let barrier = self
                .barrier
                .as_ref()
                .filter(|(a, b, _)| *a == i || *b == i)
                .map(|(_, _, b)| b.clone());
            log.lock().unwrap().push(format!("start {i}"));
            async move {
                if let Some(barrier) = barrier {
                    tokio::time::timeout(Duration::from_secs(10), barrier.wait())
                        .await
                        .map_err(|_| format!("{i} never ran alongside its sibling"))?;
                }
                tokio::task::yield_now().await;
                log.lock().unwrap().push(format!("end {i}"));
                if fail {
                    Err(format!("{i} failed"))
                } else {
                    Ok(i)
                }
            }
            .boxed()
        }

        fn blocked(&mut self, i: usize, need: usize, result: &Self::Result) -> Self::Result {
            self.log.lock().unwrap().push(format!("blocked {i}"));
            Err(format!(
                "needs {need}: {}",
                result.as_ref().err().cloned().unwrap_or_default()
            ))
        }

        fn succeeded(&self, result: &Self::Result) -> bool {
            result.is_ok()
        }
    }

    fn test(fail: &[usize]) -> Test {
        Test {
            fail: fail.to_vec(),
            log: Arc::default(),
            barrier: None,
        }
    }

    /// 0 → (1 ‖ 2) → 3 → 4, the shape of `up`.
    fn diamond() -> Vec<Vec<usize>> {
        vec![vec![], vec![0], vec![0], vec![1, 2], vec![3]]
    }

    fn index(log: &[String], line: &str) -> usize {
        log.iter()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("no `{line}` in {log:?}"))
    }

    #[tokio::test]
    async fn nodes_start_after_their_needs_and_independent_ones_overlap() {
        let mut nodes = test(&[]);
        // 1 and 2 wait for each other: the run only succeeds if both run at once.
        nodes.barrier = Some((1, 2, Arc::new(Barrier::new(2))));
        let results = run(&diamond(), &mut nodes).await;
        assert_eq!(
            results,
            [
                Some(Ok(0)),
                Some(Ok(1)),
                Some(Ok(2)),
                Some(Ok(3)),
                Some(Ok(4))
            ]
        );
        let log = nodes.log.lock().unwrap().clone();
        assert!(index(&log, "end 0") < index(&log, "start 1"));
        assert!(index(&log, "end 0") < index(&log, "start 2"));
        assert!(index(&log, "end 1") < index(&log, "start 3"));
        assert!(index(&log, "end 2") < index(&log, "start 3"));
        assert!(index(&log, "end 3") < index(&log, "start 4"));
    }

    #[tokio::test]
    async fn a_failure_blocks_what_needs_it_directly_or_not_and_the_sibling_still_runs() {
        let mut nodes = test(&[1]);
        let results = run(&diamond(), &mut nodes).await;
        assert_eq!(results[1], Some(Err("1 failed".into())));
        assert_eq!(results[2], Some(Ok(2)));
        assert_eq!(results[3], Some(Err("needs 1: 1 failed".into())));
        assert_eq!(results[4], Some(Err("needs 3: needs 1: 1 failed".into())));
        let log = nodes.log.lock().unwrap().clone();
        assert!(!log.contains(&"start 3".to_string()), "{log:?}");
        assert!(!log.contains(&"start 4".to_string()), "{log:?}");
    }

    #[tokio::test]
    async fn nodes_listed_before_their_needs_are_still_ordered() {
        // 0 needs 2, 2 needs 1: order in the list is not dependency order.
        let mut nodes = test(&[]);
        let results = run(&[vec![2], vec![], vec![1]], &mut nodes).await;
        assert!(results
            .iter()
            .all(|r| r.as_ref().is_some_and(|r| r.is_ok())));
        let log = nodes.log.lock().unwrap().clone();
        assert!(index(&log, "end 1") < index(&log, "start 2"));
        assert!(index(&log, "end 2") < index(&log, "start 0"));
    }

    #[tokio::test]
    async fn a_missing_need_or_a_cycle_leaves_the_node_unrun_instead_of_hanging() {
        let mut nodes = test(&[]);
        let results = run(&[vec![], vec![9], vec![3], vec![2]], &mut nodes).await;
        assert_eq!(results, [Some(Ok(0)), None, None, None]);
        assert_eq!(*nodes.log.lock().unwrap(), ["start 0", "end 0"]);
    }
}
