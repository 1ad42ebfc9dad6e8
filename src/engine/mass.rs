//! Damage control (seed 001): a cycle that would create or change more of
//! the partner's issues than the sync's threshold (default 100) sends, or
//! applies, nothing. It records why, `status` says so, and it stays so
//! until the admin allows it once (`sync allow-mass-change`) or raises the
//! threshold. Checked on both sides: the sender before it queues, the
//! receiver before it applies.

use std::collections::HashSet;

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::protocol::{Change, WireChange};
use crate::store::{now_ms, SyncRecord};

/// What is held back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// `send` (this side's changes wait in the tracker) or `receive` (the
    /// partner's messages wait in the exchange).
    pub side: String,
    pub issues: u64,
    pub threshold: u64,
    pub since: i64,
}

/// The issues a batch of changes creates or changes (pairings and resync
/// states of paired issues do not count).
pub fn issues<'a>(changes: impl IntoIterator<Item = &'a WireChange>) -> HashSet<&'a str> {
    changes
        .into_iter()
        .filter_map(|c| match c {
            WireChange::Known(
                Change::Paired { .. }
                | Change::IssueState { .. }
                | Change::ResyncRequest { .. }
                | Change::FieldOwners { .. }
                | Change::Verify(_),
            ) => None,
            WireChange::Known(c) => Some(c.issue()),
            WireChange::Unknown(_) => None,
        })
        .collect()
}

/// Whether `count` issues in one cycle of `side` (`send` or `receive`) is
/// more than the sync lets through without the admin's say.
pub fn over(sync: &SyncRecord, count: usize, side: &str) -> bool {
    beyond(sync, count) && count > allowed_up_to(sync, side)
}

/// How many issues the admin allowed `side` to go through with: what it
/// held when allowed (more arrived since is held again), else none.
pub fn allowed_up_to(sync: &SyncRecord, side: &str) -> usize {
    match held(sync) {
        Some(h) if sync.mass_allowed && h.side == side => h.issues as usize,
        _ => 0,
    }
}

/// What is held back, if anything.
pub fn held(sync: &SyncRecord) -> Option<Held> {
    sync.mass_held.as_deref().and_then(|h| serde_json::from_str(h).ok())
}

/// Whether `count` issues is more than the threshold, allowed or not.
pub fn beyond(sync: &SyncRecord, count: usize) -> bool {
    sync.mass_threshold > 0 && count as u64 > sync.mass_threshold
}

/// Records what is held back (kept from the first time, with the latest count).
pub fn hold(conn: &Connection, sync: &SyncRecord, side: &str, count: usize) -> anyhow::Result<()> {
    let since = held(sync).filter(|h| h.side == side).map_or_else(now_ms, |h| h.since);
    let held = Held { side: side.into(), issues: count as u64, threshold: sync.mass_threshold, since };
    // A permission given for fewer issues does not cover these.
    conn.execute(
        "UPDATE sync SET mass_held = ?2, mass_allowed = 0 WHERE id = ?1",
        params![sync.id, serde_json::to_string(&held)?],
    )?;
    tracing::warn!(
        sync = %sync.name, side, issues = count, threshold = sync.mass_threshold,
        "mass change held back: allow it with `postern sync allow-mass-change {}`", sync.name
    );
    Ok(())
}

/// A cycle of `side` went through: what it held is no longer held, and
/// the admin's permission for it is used up.
pub fn passed(conn: &Connection, sync: &SyncRecord, side: &str) -> anyhow::Result<()> {
    if held(sync).is_some_and(|h| h.side == side) {
        conn.execute("UPDATE sync SET mass_allowed = 0, mass_held = NULL WHERE id = ?1", [&sync.id])?;
    }
    Ok(())
}

/// `sync allow-mass-change`: what is held goes through once. Refused when
/// nothing is held, so no permission lies in wait for a later mass change.
pub fn allow(conn: &Connection, sync: &SyncRecord) -> anyhow::Result<Held> {
    let Some(h) = held(sync) else {
        anyhow::bail!("sync '{}' holds nothing back: there is nothing to allow", sync.name);
    };
    conn.execute("UPDATE sync SET mass_allowed = 1 WHERE id = ?1", [&sync.id])?;
    Ok(h)
}

/// `sync edit --mass-change-threshold`.
pub fn set_threshold(conn: &Connection, sync_id: &str, threshold: u64) -> anyhow::Result<()> {
    conn.execute("UPDATE sync SET mass_threshold = ?2 WHERE id = ?1", params![sync_id, threshold as i64])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairings_and_resync_states_do_not_count() {
        let changes: Vec<WireChange> = serde_json::from_str(
            r#"[{"type":"issue_updated","issue":"A-1","fields":{},"at":1},
                {"type":"comment_added","issue":"A-1","comment":{"id":"1","author":"a","body":"b"}},
                {"type":"comment_deleted","issue":"A-2","comment":"7"},
                {"type":"paired","yours":"B-1","mine":"A-3","comments":[]},
                {"type":"issue_state","issue":"A-4","fields":{},"at":1},
                {"type":"worklog_added","issue":"A-5"}]"#,
        )
        .unwrap();
        let mut got: Vec<&str> = issues(&changes).into_iter().collect();
        got.sort();
        assert_eq!(got, ["A-1", "A-2"]);
    }
}
