//! A sync's life cycle in the database: pause, resume, delete.
//!
//! Deleting removes postern's state of the sync (pairings, queues, errors,
//! positions) and frees its name; it never touches the tracker's issues.

use anyhow::Result;
use rusqlite::{params, Connection, TransactionBehavior};

/// Marks the sync paused since `at`, or resumes it (`None`). Returns
/// whether anything changed.
pub fn set_paused(conn: &Connection, id: &str, at: Option<i64>) -> Result<bool> {
    let n = conn.execute(
        "UPDATE sync SET paused_at = ?2 WHERE id = ?1 AND (paused_at IS NULL) = (?2 IS NOT NULL)",
        params![id, at],
    )?;
    Ok(n > 0)
}

/// What a sync still had when it was deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Forgotten {
    pub pairs: u64,
    pub awaiting_ack: u64,
    pub held: u64,
    pub errors: u64,
}

/// What deleting sync `id` would forget.
pub fn what_delete_forgets(conn: &Connection, id: &str) -> Result<Forgotten> {
    let count = |sql: &str| conn.query_row(sql, [id], |r| r.get::<_, i64>(0)).map(|n| n as u64);
    Ok(Forgotten {
        pairs: count("SELECT COUNT(*) FROM link WHERE sync_id = ?1")?,
        awaiting_ack: count("SELECT COUNT(*) FROM outbox WHERE sync_id = ?1")?,
        held: count("SELECT COUNT(*) FROM held WHERE sync_id = ?1")?,
        errors: count("SELECT COUNT(*) FROM issue_error WHERE sync_id = ?1")?,
    })
}

/// Tables holding one sync's state, children before the sync itself.
const SYNC_TABLES: &[&str] = &[
    "outbox",
    "held",
    "comment_link",
    "attachment_link",
    "worklog_link",
    "link",
    "parked",
    "issue_error",
    "quarantine",
    "seen",
    "part",
    "imap_position",
    "sync_trouble",
    "conflict",
    "out_time",
    "activity",
    "transfer_out",
    "transfer_in",
    "attachment_skipped",
    "verify_round",
    "divergent",
    "verify_setting",
];

/// Removes everything postern keeps for sync `id`, in one transaction.
pub fn delete(conn: &mut Connection, id: &str) -> Result<Forgotten> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let forgotten = what_delete_forgets(&tx, id)?;
    for table in SYNC_TABLES {
        tx.execute(&format!("DELETE FROM {table} WHERE sync_id = ?1"), [id])?;
    }
    tx.execute("DELETE FROM sync WHERE id = ?1", [id])?;
    tx.commit()?;
    Ok(forgotten)
}
