//! What the remote backends (Redmine, Jira) share: change detection by
//! state. Each lists what moved (`listing`: the cursor never passes a
//! change it did not list), keeps what it last saw of an issue (`state`)
//! and reports what differs, by someone other than the sync user (`diff`),
//! one round at a time (`detect`).

pub mod detect;
pub mod diff;
pub mod http;
pub mod listing;
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
