//! A partner's change written in part: the values the tracker could not
//! hold (outside a list, a part it does not carry) are listed on the
//! issue, blocking nothing, and kept for a retry; a later change of the
//! same values supersedes them.

use rusqlite::Connection;

use crate::protocol::{Change, WireChange};
use crate::store::{links, now_ms, problems, SyncRecord};
use crate::tracker::TResult as Result;

/// Lists `change` (message `seq`) on its issue as written but for `reason`,
/// blocking nothing, and keeps `kept` of it for a retry.
pub(super) fn list_not_held(
    conn: &Connection,
    sync: &SyncRecord,
    (seq, change): (u64, &Change),
    reason: &str,
    kept: Change,
) -> Result<()> {
    let remote = change.issue();
    let local = links::by_remote(conn, &sync.id, remote)?.map(|l| l.local_issue_key);
    tracing::warn!(sync = %sync.name, issue = remote, %reason, "change written in part");
    problems::record_not_held(conn, &sync.id, remote, local.as_deref(), seq, reason, now_ms())?;
    problems::park(conn, &sync.id, remote, seq, &WireChange::Known(kept))?;
    Ok(())
}

/// What of `change` a retry may still need after the tracker could not
/// hold some of its values: its labels and custom fields (all else took),
/// as an update made now.
pub(super) fn not_held_part(change: &Change) -> Change {
    let keep = |f: crate::protocol::FieldChanges| crate::protocol::FieldChanges {
        labels: f.labels,
        custom: f.custom,
        ..Default::default()
    };
    match change {
        Change::IssueCreated { issue, fields, .. } => Change::IssueUpdated {
            issue: issue.clone(),
            fields: keep(crate::protocol::FieldChanges::all(fields)),
            at: now_ms(),
            seen: None,
        },
        Change::IssueState { issue, fields, .. } => {
            Change::IssueUpdated { issue: issue.clone(), fields: keep(fields.clone()), at: now_ms(), seen: None }
        }
        Change::IssueUpdated { issue, fields, at, seen } => {
            Change::IssueUpdated { issue: issue.clone(), fields: keep(fields.clone()), at: *at, seen: *seen }
        }
        other => other.clone(),
    }
}

/// A later change of the partner's that sets labels or custom fields
/// supersedes what an earlier one could not set: that part leaves the
/// changes kept for a retry, and the issue's listing goes with the last.
pub(super) fn supersede(conn: &Connection, sync: &SyncRecord, change: &Change, seq: u64) -> Result<()> {
    let set = match change {
        Change::IssueUpdated { fields, .. } | Change::IssueState { fields, .. } => fields.names(),
        Change::IssueCreated { .. } => vec!["labels", "custom"],
        _ => return Ok(()),
    };
    let remote = change.issue();
    if !problems::has_error(conn, &sync.id, remote)? || problems::is_blocked(conn, &sync.id, remote)? {
        return Ok(());
    }
    let mut left = 0;
    for (row, at_seq, parked) in problems::parked(conn, &sync.id, remote)? {
        let WireChange::Known(Change::IssueUpdated { issue, mut fields, at, seen }) = parked else {
            left += 1;
            continue;
        };
        if at_seq >= seq {
            left += 1;
            continue;
        }
        for name in &set {
            fields.drop_field(name);
        }
        problems::unpark(conn, row)?;
        if !fields.is_empty() {
            let rest = WireChange::Known(Change::IssueUpdated { issue, fields, at, seen });
            problems::park(conn, &sync.id, remote, at_seq, &rest)?;
            left += 1;
        }
    }
    if left == 0 {
        tracing::info!(sync = %sync.name, issue = remote, "a later change superseded the values not held");
        problems::clear_error(conn, &sync.id, remote)?;
    }
    Ok(())
}
