//! What the remote backends' REST clients share: an answer, the verbs
//! built on one exchange and one reading of a status ([`Rest`]), a short
//! throttle waited out in place, and where a path goes. Each backend
//! keeps what is its own: how it signs in, which statuses mean "later",
//! and the words of its refusals.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::tracker::{TResult, TrackerError};

/// An answer: its status, body (JSON when there is one), the server's
/// clock when it said (`Date`, ms) and the next page when it links one.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub date: Option<i64>,
    pub next: Option<String>,
}

impl Answer {
    pub fn new(status: u16, body: Value) -> Self {
        Answer { status, body, ..Default::default() }
    }
}

/// A tracker's REST API: one exchange and how a status is read; the
/// verbs follow from them.
pub trait Rest {
    /// Sends a request. Any status comes back as an answer; a server that
    /// cannot be reached, throttles or refuses the credentials is
    /// unavailable.
    fn exchange(&self, method: &str, path: &str, body: Option<&Value>) -> TResult<Answer>;

    /// The body of a 2xx answer; for the others, a refusal (this change
    /// cannot be applied) or a failure, in the tracker's words.
    fn ok(&self, a: Answer, method: &str, path: &str) -> TResult<Value>;

    /// Whether a GET's `status` says there is no such thing.
    fn gone(&self, status: u16) -> bool {
        status == 404
    }

    /// GET returning JSON; any status but 2xx is an error.
    fn get(&self, path: &str) -> TResult<Value> {
        self.ok(self.exchange("GET", path, None)?, "GET", path)
    }

    /// GET that may find nothing (`None`).
    fn get_opt(&self, path: &str) -> TResult<Option<Value>> {
        let a = self.exchange("GET", path, None)?;
        if self.gone(a.status) {
            return Ok(None);
        }
        self.ok(a, "GET", path).map(Some)
    }

    fn post(&self, path: &str, body: &Value) -> TResult<Value> {
        self.ok(self.exchange("POST", path, Some(body))?, "POST", path)
    }

    fn put(&self, path: &str, body: &Value) -> TResult<Value> {
        self.ok(self.exchange("PUT", path, Some(body))?, "PUT", path)
    }

    fn patch(&self, path: &str, body: &Value) -> TResult<Value> {
        self.ok(self.exchange("PATCH", path, Some(body))?, "PATCH", path)
    }

    /// DELETE; a thing already gone counts as deleted.
    fn delete(&self, path: &str) -> TResult<()> {
        let a = self.exchange("DELETE", path, None)?;
        if a.status == 404 {
            return Ok(());
        }
        self.ok(a, "DELETE", path).map(|_| ())
    }
}

/// How long a throttle is waited out in place (the call asked again),
/// each time and in all; beyond, the engine waits and leaves the tracker
/// alone meanwhile.
#[derive(Debug, Clone, Copy)]
pub struct WaitHere {
    pub each: Duration,
    pub in_all: Duration,
}

/// What the backends wait out in place: at most 10 s each time, 30 s in
/// all for one call.
pub const WAIT_HERE: WaitHere = WaitHere { each: Duration::from_secs(10), in_all: Duration::from_secs(30) };

/// `once`, asked again while the tracker throttles for a moment (a
/// throttled call was not carried out), so that a change of many calls
/// gets through a steady throttle; each wait counted in `throttled`.
pub fn waiting_out(
    tracker: &str,
    limits: WaitHere,
    throttled: &AtomicU64,
    mut once: impl FnMut() -> TResult<Answer>,
) -> TResult<Answer> {
    let mut waited = Duration::ZERO;
    loop {
        match once() {
            Err(TrackerError::Unavailable { retry_after: Some(wait), reason })
                if wait <= limits.each && waited + wait <= limits.in_all =>
            {
                tracing::debug!(%reason, wait_ms = wait.as_millis() as u64, "{tracker} throttles: waiting");
                throttled.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(wait);
                waited += wait;
            }
            other => return other,
        }
    }
}

/// Where `path` goes: a whole URL as it is (a next page, a download),
/// else under `base`.
pub fn url(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_string()
    } else {
        format!("{base}{path}")
    }
}

/// The server's clock in a `Date` header, ms.
pub fn date_of(headers: &ureq::http::HeaderMap) -> Option<i64> {
    let v = headers.get("date")?.to_str().ok()?;
    chrono::DateTime::parse_from_rfc2822(v).ok().map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Canned(Vec<(u16, &'static str)>, std::sync::Mutex<usize>);

    impl Rest for Canned {
        fn exchange(&self, _: &str, _: &str, _: Option<&Value>) -> TResult<Answer> {
            let mut at = self.1.lock().unwrap();
            let (status, body) = self.0[*at];
            *at += 1;
            Ok(Answer::new(status, serde_json::from_str(body).unwrap()))
        }
        fn ok(&self, a: Answer, method: &str, path: &str) -> TResult<Value> {
            match a.status {
                200..=299 => Ok(a.body),
                s => Err(anyhow::anyhow!("{method} {path}: {s}").into()),
            }
        }
    }

    #[test]
    fn the_verbs_read_statuses_through_the_backends_reading() {
        let api = Canned(vec![(200, "1"), (404, "null"), (404, "null"), (500, "null")], Default::default());
        assert_eq!(api.get("/a").unwrap(), serde_json::json!(1));
        assert_eq!(api.get_opt("/b").unwrap(), None, "not there");
        api.delete("/c").unwrap();
        let err = api.post("/d", &Value::Null).unwrap_err().to_string();
        assert!(err.contains("POST /d: 500"), "{err}");
    }

    #[test]
    fn a_short_throttle_is_waited_out_and_a_long_one_is_not() {
        let throttled = AtomicU64::new(0);
        let limits = WaitHere { each: Duration::from_millis(50), in_all: Duration::from_millis(120) };
        let later =
            |ms| TrackerError::Unavailable { reason: "429".into(), retry_after: Some(Duration::from_millis(ms)) };
        let mut tries = 0;
        let a = waiting_out("T", limits, &throttled, || {
            tries += 1;
            if tries < 3 {
                Err(later(10))
            } else {
                Ok(Answer::new(200, Value::Null))
            }
        });
        assert_eq!((a.unwrap().status, throttled.load(Ordering::Relaxed)), (200, 2));
        let long = waiting_out("T", limits, &throttled, || Err(later(5000)));
        assert!(matches!(long, Err(TrackerError::Unavailable { .. })), "left to the engine");
        let mut n = 0;
        let many = waiting_out("T", limits, &throttled, || {
            n += 1;
            Err(later(50))
        });
        assert!(many.is_err() && n == 3, "at most 120 ms in all: {n} tries");
        assert_eq!(url("https://r.example", "/issues.json"), "https://r.example/issues.json");
        assert_eq!(url("https://r.example", "https://other/next"), "https://other/next");
    }
}
