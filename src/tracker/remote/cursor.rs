//! Where a remote backend's change detection goes on: a time window's
//! start, the issues already read in its overlap (at which update time),
//! and when every synced issue was last read in full. Jira and GitHub
//! list what moved by time (`updated >=`, `since`); an issue read at the
//! same update time is not read again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Read again before the cursor: a minute for the rounding, one more for
/// writes a tracker commits late (and Cloud's eventually consistent search).
pub const OVERLAP_MS: i64 = 60_000;

/// Where reading goes on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The newest `updated` read, or the tracker's clock a minute before the last
    /// search when later (ms).
    pub t: i64,
    /// Issues read in the overlap window: id → the `updated` read.
    #[serde(default)]
    pub recent: BTreeMap<String, i64>,
    /// When every synced issue was last read in full (ms).
    #[serde(default)]
    pub full: i64,
}

impl Cursor {
    pub fn parse(text: &str) -> Cursor {
        serde_json::from_str(text).unwrap_or_default()
    }

    /// Whether issue `id` listed with `updated` needs reading (not read at
    /// that very `updated` before).
    pub fn is_new(&self, id: &str, updated: i64) -> bool {
        self.recent.get(id).is_none_or(|t| *t != updated)
    }

    /// Issue `id` was read at `updated`; what fell out of the window is
    /// forgotten.
    pub fn read(&mut self, id: &str, updated: i64) {
        self.t = self.t.max(updated);
        self.recent.insert(id.to_string(), updated);
        let floor = self.t - 3 * OVERLAP_MS;
        self.recent.retain(|_, t| *t >= floor);
    }
}
