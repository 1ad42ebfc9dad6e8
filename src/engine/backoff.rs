//! The waits a peer keeps for each sync between its cycles: sending that
//! backs off after failures, and a tracker that asked to be left alone
//! (`Retry-After`). Shared by every worker of one daemon (each sync's
//! cycle may run on another thread), so a wait outlives the worker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The longest pause of sending after repeated failures.
pub const SEND_PAUSE_MAX: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Default)]
pub struct Backoffs(Arc<Mutex<Waits>>);

#[derive(Debug, Default)]
struct Waits {
    send: HashMap<String, SendPause>,
    /// Until when, and why (the tracker's words).
    tracker: HashMap<String, (Instant, String)>,
}

/// Sending of one sync backing off after failures.
#[derive(Debug, Clone, Copy)]
struct SendPause {
    until: Instant,
    failures: u32,
}

impl Backoffs {
    fn with<T>(&self, f: impl FnOnce(&mut Waits) -> T) -> T {
        // A worker that panicked left the maps whole (each change is one
        // insert or remove): go on with them.
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// When sending of sync `id` may be tried again, if it is paused.
    pub fn send_paused_until(&self, id: &str) -> Option<Instant> {
        self.with(|w| w.send.get(id).map(|p| p.until)).filter(|u| *u > Instant::now())
    }

    /// Sending worked: the next failure starts from the shortest pause.
    pub fn sent(&self, id: &str) {
        self.with(|w| w.send.remove(id));
    }

    /// Records a failure to send; returns how long sending now waits
    /// (2 s doubling to [`SEND_PAUSE_MAX`], jittered by `jitter`, 0.5 to 1).
    pub fn pause_sending(&self, id: &str, jitter: f64) -> Duration {
        self.with(|w| {
            let failures = w.send.get(id).map_or(0, |p| p.failures) + 1;
            let base = Duration::from_secs(2u64 << (failures - 1).min(7)).min(SEND_PAUSE_MAX);
            let wait = base.mul_f64(jitter.clamp(0.5, 1.0));
            w.send.insert(id.to_string(), SendPause { until: Instant::now() + wait, failures });
            wait
        })
    }

    /// The tracker of sync `id` is not to be asked again before
    /// `retry_after` (a 429 or 503 with `Retry-After`, a write that may
    /// still be under way), for `why`.
    pub fn tracker_asked_to_wait(&self, id: &str, retry_after: Option<Duration>, why: &str) {
        if let Some(wait) = retry_after {
            self.with(|w| w.tracker.insert(id.to_string(), (Instant::now() + wait, why.to_string())));
        }
    }

    /// Until when sync `id`'s tracker is not to be asked, and why, if so.
    pub fn tracker_waits_until(&self, id: &str) -> Option<(Instant, String)> {
        self.with(|w| w.tracker.get(id).cloned()).filter(|(u, _)| *u > Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sending_pauses_grow_are_capped_and_end_with_a_success() {
        let b = Backoffs::default();
        let waits: Vec<u64> = (0..10).map(|_| b.pause_sending("s", 1.0).as_secs()).collect();
        assert_eq!(&waits[..4], [2, 4, 8, 16]);
        assert_eq!(*waits.last().unwrap(), 256, "doubling stops at 2^8 s");
        assert!(waits.iter().all(|w| *w <= SEND_PAUSE_MAX.as_secs()));
        assert!(b.send_paused_until("s").is_some());
        assert!(b.send_paused_until("other").is_none(), "each sync on its own");
        b.sent("s");
        assert!(b.send_paused_until("s").is_none());
        assert_eq!(b.pause_sending("s", 1.0).as_secs(), 2, "a success starts again from the shortest");
    }

    #[test]
    fn a_workers_copy_shares_the_waits() {
        let b = Backoffs::default();
        let worker = b.clone();
        worker.tracker_asked_to_wait("s", Some(Duration::from_secs(30)), "Jira throttles (429)");
        worker.tracker_asked_to_wait("t", None, "down");
        assert_eq!(b.tracker_waits_until("s").map(|(_, why)| why).as_deref(), Some("Jira throttles (429)"));
        assert!(b.tracker_waits_until("t").is_none(), "no Retry-After, no wait");
    }
}
