//! Waiting for a state that takes time to arrive: the one poll loop of verify (attempts with a
//! growing pause, bounded by a deadline, remembering what it saw last and since when), and the
//! readiness probe built on it.

use std::future::Future;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::time::Instant;

use super::http::{format_duration, Answer, Call, Endpoint, ProbeError};

/// What one attempt found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Attempt<T> {
    /// The state arrived: stop with this value.
    Done(T),
    /// Not there yet, and may still come: what was seen, for the message if time runs out.
    NotYet(String),
    /// A state that will not resolve by itself: stop at once.
    Failed(String),
    /// The attempt itself ran into the deadline (a request timed out at it).
    OutOfTime,
}

impl<T> Attempt<T> {
    /// A request that got no answer: out of time when it timed out at the deadline; a refused
    /// connection before `ep` ever answered is a component still starting; anything else, and a
    /// refused connection after it answered once, is a failure.
    pub fn from_probe(ep: &Endpoint, error: ProbeError) -> Self {
        match error {
            ProbeError::Timeout { .. } => Attempt::OutOfTime,
            ProbeError::Connect { .. } if !ep.has_answered() => Attempt::NotYet(error.to_string()),
            other => Attempt::Failed(other.to_string()),
        }
    }
}

/// The pauses between attempts: `first`, then half as long again each time, up to `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const fn growing(first: Duration, max: Duration) -> Self {
        Backoff { first, max }
    }

    pub const fn every(pause: Duration) -> Self {
        Backoff {
            first: pause,
            max: pause,
        }
    }

    fn after(self, pause: Duration) -> Duration {
        (pause * 3 / 2).min(self.max).max(self.first)
    }
}

/// The last state seen while waiting, and how long it had lasted when the wait ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    pub what: String,
    pub lasted: Duration,
}

/// Why a wait ended without its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// An attempt found a definite failure.
    Failed(String),
    /// The deadline came first; the last state seen, if an attempt saw one.
    TimedOut(Option<Seen>),
}

impl Seen {
    /// `<what> (still so at the deadline, for the last 12.5s)`.
    pub fn at_deadline(&self) -> String {
        format!(
            "{} (still so at the deadline, for the last {})",
            self.what,
            format_duration(self.lasted)
        )
    }
}

impl Stop {
    /// The message of a wait that ended without its state: the failure, or the last state seen
    /// at the deadline, or `unseen` when no attempt saw one.
    pub fn message(self, unseen: impl FnOnce() -> String) -> String {
        match self {
            Stop::Failed(reason) => reason,
            Stop::TimedOut(Some(seen)) => seen.at_deadline(),
            Stop::TimedOut(None) => unseen(),
        }
    }

    /// `; last seen (for 12.5s): <what>`, or nothing when no attempt saw a state.
    pub fn last_seen(&self) -> String {
        match self {
            Stop::TimedOut(Some(seen)) => {
                format!(
                    "; last seen (for {}): {}",
                    format_duration(seen.lasted),
                    seen.what
                )
            }
            _ => String::new(),
        }
    }
}

/// Runs `attempt` until it is done or fails, pausing by `backoff` between attempts, until
/// `deadline`.
pub(crate) async fn until<T, F, Fut>(
    deadline: Instant,
    backoff: Backoff,
    mut attempt: F,
) -> Result<T, Stop>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let mut pause = backoff.first;
    // What the attempts saw last, and when they first saw it.
    let mut last: Option<(String, Instant)> = None;
    let timed_out = |last: Option<(String, Instant)>| {
        Stop::TimedOut(last.map(|(what, since)| Seen {
            what,
            lasted: since.elapsed(),
        }))
    };
    loop {
        match attempt().await {
            Attempt::Done(value) => return Ok(value),
            Attempt::Failed(reason) => return Err(Stop::Failed(reason)),
            Attempt::OutOfTime => return Err(timed_out(last)),
            Attempt::NotYet(what) => {
                if last.as_ref().is_none_or(|(seen, _)| *seen != what) {
                    last = Some((what, Instant::now()));
                }
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(timed_out(last));
        }
        tokio::time::sleep_until((now + pause).min(deadline)).await;
        if Instant::now() >= deadline {
            return Err(timed_out(last));
        }
        pause = backoff.after(pause);
    }
}

/// How often a readiness endpoint is asked again while it answers "not ready".
const READY_BACKOFF: Backoff = Backoff::growing(Duration::from_millis(200), Duration::from_secs(1));

/// `GET path` on `ep` until it answers something other than "not ready yet": 503 (a component
/// warming up, e.g. Tempo's and Loki's "waiting for 15s after being ready") and a refused
/// connection before the first answer are asked again until `deadline`. The answer, or why
/// there was none, with what was seen last and for how long.
pub(crate) async fn readiness(
    ep: &Endpoint,
    path: &str,
    deadline: Instant,
) -> Result<Answer, String> {
    let started = Instant::now();
    let polled = until(deadline, READY_BACKOFF, || async {
        match ep.send(Call::get(path), deadline).await {
            Ok(answer) if answer.status == StatusCode::SERVICE_UNAVAILABLE => {
                Attempt::NotYet(answer.unexpected().to_string())
            }
            Ok(answer) => Attempt::Done(answer),
            Err(e) => Attempt::from_probe(ep, e),
        }
    })
    .await;
    polled.map_err(|stop| {
        stop.message(|| {
            let url = reqwest::Url::parse(&ep.url(path))
                .map(|u| super::redact_url(&u))
                .unwrap_or_else(|_| ep.url(path));
            format!(
                "GET {url}: no answer within {}",
                format_duration(started.elapsed())
            )
        })
    })
}

/// Ready when `GET path` answers 2xx (after any warm-up): `ready at <base URL>`.
pub(crate) async fn ready(ep: &Endpoint, path: &str, deadline: Instant) -> Result<String, String> {
    let answer = readiness(ep, path, deadline).await?;
    if answer.status.is_success() {
        Ok(format!("ready at {}", super::redact_url(&ep.base)))
    } else {
        Err(answer.unexpected().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const QUICK: Backoff = Backoff::every(Duration::from_millis(10));

    #[test]
    fn pauses_grow_by_half_up_to_the_maximum() {
        let b = Backoff::growing(Duration::from_millis(100), Duration::from_millis(500));
        let mut pause = b.first;
        let mut seen = vec![pause];
        for _ in 0..6 {
            pause = b.after(pause);
            seen.push(pause);
        }
        let ms: Vec<u128> = seen.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [100, 150, 225, 337, 500, 500, 500]);
        let fixed = Backoff::every(Duration::from_millis(500));
        assert_eq!(fixed.after(fixed.first), Duration::from_millis(500));
    }

    #[tokio::test]
    async fn attempts_repeat_until_the_state_arrives() {
        let tries = AtomicUsize::new(0);
        let deadline = Instant::now() + Duration::from_secs(5);
        let got = until(deadline, QUICK, || async {
            match tries.fetch_add(1, Ordering::SeqCst) {
                0..=2 => Attempt::NotYet("warming".to_string()),
                n => Attempt::Done(n),
            }
        })
        .await;
        assert_eq!(got, Ok(3));
    }

    #[tokio::test]
    async fn a_definite_failure_stops_at_once() {
        let tries = AtomicUsize::new(0);
        let deadline = Instant::now() + Duration::from_secs(5);
        let started = Instant::now();
        let got: Result<(), Stop> = until(deadline, QUICK, || async {
            if tries.fetch_add(1, Ordering::SeqCst) == 0 {
                Attempt::NotYet("warming".into())
            } else {
                Attempt::Failed("answered 404".into())
            }
        })
        .await;
        assert_eq!(got, Err(Stop::Failed("answered 404".into())));
        assert_eq!(tries.load(Ordering::SeqCst), 2);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn at_the_deadline_the_last_state_is_told_with_how_long_it_lasted() {
        let tries = AtomicUsize::new(0);
        let deadline = Instant::now() + Duration::from_millis(300);
        let got: Result<(), Stop> = until(deadline, QUICK, || async {
            // A first state, then a second that lasts until the deadline.
            if tries.fetch_add(1, Ordering::SeqCst) < 3 {
                Attempt::NotYet("no targets".into())
            } else {
                Attempt::NotYet("1 target unknown".into())
            }
        })
        .await;
        let Err(Stop::TimedOut(Some(seen))) = &got else {
            panic!("{got:?}")
        };
        assert_eq!(seen.what, "1 target unknown");
        assert!(
            seen.lasted < Duration::from_millis(300) && seen.lasted >= Duration::from_millis(150),
            "{seen:?}"
        );
        assert!(Instant::now() >= deadline);
        let text = got.unwrap_err().last_seen();
        assert!(text.starts_with("; last seen (for "), "{text}");
        assert!(text.ends_with("): 1 target unknown"), "{text}");
        // Ran out of time mid-attempt, before any state was seen: nothing to tell.
        let got: Result<(), Stop> = until(deadline, QUICK, || async { Attempt::OutOfTime }).await;
        assert_eq!(got, Err(Stop::TimedOut(None)));
        assert_eq!(Stop::TimedOut(None).last_seen(), "");
    }

    #[tokio::test]
    async fn readiness_waits_out_a_warm_up_503() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/ready"))
            .respond_with(
                ResponseTemplate::new(503)
                    .set_body_string("Ingester not ready: waiting for 15s after being ready"),
            )
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/ready"))
            .respond_with(ResponseTemplate::new(200).set_body_string("ready"))
            .mount(&server)
            .await;
        let ep = Endpoint::new(server.uri().parse().unwrap(), true);
        let deadline = Instant::now() + Duration::from_secs(10);
        let detail = ready(&ep, "/ready", deadline).await.unwrap();
        assert_eq!(detail, format!("ready at {}/", server.uri()));
    }

    #[tokio::test]
    async fn readiness_still_warming_at_the_deadline_says_so() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(503)
                    .set_body_string("Ingester not ready: waiting for 15s after being ready"),
            )
            .mount(&server)
            .await;
        let ep = Endpoint::new(server.uri().parse().unwrap(), true);
        let deadline = Instant::now() + Duration::from_millis(700);
        let err = ready(&ep, "/ready", deadline).await.unwrap_err();
        assert!(
            err.starts_with(&format!(
                "GET {}/ready: answered 503 Service Unavailable: Ingester not ready: waiting for 15s after being ready (still so at the deadline, for the last ",
                server.uri()
            )),
            "{err}"
        );
    }

    #[tokio::test]
    async fn readiness_fails_at_once_on_a_4xx_and_on_refusal_after_an_answer() {
        // A bare listener that answers once and closes: wiremock pools its servers, so dropping
        // a MockServer would not make its port refuse.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let answer = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).await;
            conn.write_all(
                b"HTTP/1.1 403 Forbidden\r\ncontent-length: 9\r\nconnection: close\r\n\r\nforbidden",
            )
            .await
            .unwrap();
            // The listener drops here: the port refuses from now on.
        });
        let ep = Endpoint::new(format!("http://{addr}").parse().unwrap(), true);
        let started = Instant::now();
        let deadline = started + Duration::from_secs(10);
        let err = ready(&ep, "/ready", deadline).await.unwrap_err();
        assert!(
            err.ends_with("/ready: answered 403 Forbidden: forbidden"),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        answer.await.unwrap();

        // The component answered once, then went away: refused is definite now.
        assert!(ep.has_answered());
        let err = readiness(&ep, "/ready", deadline).await.unwrap_err();
        assert!(err.contains("/ready: "), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited for the deadline: {err}"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_before_any_answer_is_waited_on() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ep = Endpoint::new(format!("http://127.0.0.1:{port}").parse().unwrap(), true);
        let started = Instant::now();
        let err = ready(&ep, "/-/ready", started + Duration::from_millis(600))
            .await
            .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(600), "{err}");
        assert!(
            err.starts_with(&format!("GET http://127.0.0.1:{port}/-/ready: ")),
            "{err}"
        );
        assert!(
            err.contains("(still so at the deadline, for the last "),
            "{err}"
        );
    }
}
