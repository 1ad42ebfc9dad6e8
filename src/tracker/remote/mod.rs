//! What the remote backends (Redmine, Jira, GitHub) share: their REST
//! clients' plumbing (`http`, `rest`), and change detection by
//! state. Each lists what moved (`listing`: the cursor never passes a
//! change it did not list), keeps what it last saw of an issue (`state`)
//! and reports what differs, by someone other than the sync user (`diff`),
//! one round at a time (`detect`).

pub mod cursor;
pub mod detect;
pub mod diff;
pub mod http;
pub mod listing;
pub mod rest;
pub mod state;

use std::sync::atomic::{AtomicU64, Ordering};

/// HTTP calls made to remote trackers by this process (benchmarks report
/// calls per synced change).
static CALLS: AtomicU64 = AtomicU64::new(0);

/// Counts one HTTP call to a remote tracker.
pub fn count_call() {
    CALLS.fetch_add(1, Ordering::Relaxed);
}

/// HTTP calls made to remote trackers by this process so far.
pub fn calls() -> u64 {
    CALLS.load(Ordering::Relaxed)
}

/// Where a new sync starts, when the tracker cannot be asked at the
/// accept (it is away; the sync is saved all the same): at this moment,
/// by postern's clock. The first poll knows what was there then, and
/// reports what came after.
pub fn start_later(now_ms: i64) -> String {
    format!("{START_AT}{now_ms}")
}

/// The moment a cursor of [`start_later`] starts at.
pub fn started_at(cursor: &str) -> Option<i64> {
    cursor.strip_prefix(START_AT)?.parse().ok()
}

const START_AT: &str = "start-at:";

/// The start cursor of a remote backend: `start` asked now, or, when the
/// tracker is away, a start at this moment made good at the first poll.
pub fn start_cursor(start: impl FnOnce() -> crate::tracker::TResult<String>) -> crate::tracker::TResult<String> {
    match start() {
        Err(crate::tracker::TrackerError::Unavailable { reason, .. }) => {
            tracing::info!(%reason, "the tracker is away: the sync starts now, made good at its first poll");
            Ok(start_later(crate::clock::now_ms()))
        }
        other => other,
    }
}
