//! Per-issue errors with their parked changes, and the quarantine log.

use anyhow::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::protocol::WireChange;

#[derive(Debug, Clone, Serialize)]
pub struct IssueError {
    pub remote_issue: String,
    pub local_key: Option<String>,
    pub seq: u64,
    pub reason: String,
    /// When it last failed.
    pub at: i64,
    /// When it first failed.
    pub first_at: i64,
    /// How often it was tried (1: failed once, never retried).
    pub tries: u64,
    pub parked: u64,
    /// Whether the issue's later changes wait behind it (a refused change)
    /// or go on (a value the tracker could not hold, the rest written).
    pub blocks: bool,
}

/// Whether the partner's changes of `remote_issue` wait behind an error.
pub fn is_blocked(conn: &Connection, sync_id: &str, remote_issue: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM issue_error WHERE sync_id = ?1 AND remote_issue = ?2 AND blocks = 1)",
        params![sync_id, remote_issue],
        |r| r.get(0),
    )?)
}

/// Whether `remote_issue` has an error, blocking or not.
pub fn has_error(conn: &Connection, sync_id: &str, remote_issue: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM issue_error WHERE sync_id = ?1 AND remote_issue = ?2)",
        params![sync_id, remote_issue],
        |r| r.get(0),
    )?)
}

/// Lists a refused change on `remote_issue`: its later changes wait
/// behind it.
pub fn record_error(
    conn: &Connection,
    sync_id: &str,
    remote_issue: &str,
    local_key: Option<&str>,
    seq: u64,
    reason: &str,
    now: i64,
) -> Result<()> {
    record(conn, (sync_id, remote_issue, local_key), seq, reason, now, true)
}

/// Lists on `remote_issue` a change that was written all but values the
/// tracker could not hold: it holds back nothing (an error that does
/// stays one).
pub fn record_not_held(
    conn: &Connection,
    sync_id: &str,
    remote_issue: &str,
    local_key: Option<&str>,
    seq: u64,
    reason: &str,
    now: i64,
) -> Result<()> {
    record(conn, (sync_id, remote_issue, local_key), seq, reason, now, false)
}

fn record(
    conn: &Connection,
    (sync_id, remote_issue, local_key): (&str, &str, Option<&str>),
    seq: u64,
    reason: &str,
    now: i64,
    blocks: bool,
) -> Result<()> {
    // A blocking error stays what the issue shows until it is retried.
    conn.execute(
        "INSERT INTO issue_error (sync_id, remote_issue, local_key, seq, reason, at, first_at, tries, blocks)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1, ?7)
         ON CONFLICT (sync_id, remote_issue) DO UPDATE SET local_key = excluded.local_key,
             seq = CASE WHEN blocks = 1 AND excluded.blocks = 0 THEN seq ELSE excluded.seq END,
             reason = CASE WHEN blocks = 1 AND excluded.blocks = 0 THEN reason ELSE excluded.reason END,
             at = excluded.at, tries = tries + 1, blocks = MAX(blocks, excluded.blocks)",
        params![sync_id, remote_issue, local_key, seq as i64, reason, now, blocks],
    )?;
    Ok(())
}

pub fn history(conn: &Connection, sync_id: &str, remote_issue: &str) -> Result<Option<(i64, u64)>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row(
            "SELECT first_at, tries FROM issue_error WHERE sync_id = ?1 AND remote_issue = ?2",
            params![sync_id, remote_issue],
            |r| Ok((r.get::<_, Option<i64>>(0)?.unwrap_or_default(), r.get::<_, i64>(1)? as u64)),
        )
        .optional()?)
}

/// After a retry failed again: the error keeps its first time and counts
/// the retry.
pub fn keep_history(conn: &Connection, sync_id: &str, remote_issue: &str, first_at: i64, tries: u64) -> Result<()> {
    conn.execute(
        "UPDATE issue_error SET first_at = ?3, tries = ?4 WHERE sync_id = ?1 AND remote_issue = ?2",
        params![sync_id, remote_issue, first_at, (tries + 1) as i64],
    )?;
    Ok(())
}

pub fn park(conn: &Connection, sync_id: &str, remote_issue: &str, seq: u64, change: &WireChange) -> Result<()> {
    conn.execute(
        "INSERT INTO parked (sync_id, remote_issue, seq, change) VALUES (?1, ?2, ?3, ?4)",
        params![sync_id, remote_issue, seq as i64, serde_json::to_string(change)?],
    )?;
    Ok(())
}

/// The parked changes of one issue, in arrival order: (row id, seq, change).
pub fn parked(conn: &Connection, sync_id: &str, remote_issue: &str) -> Result<Vec<(i64, u64, WireChange)>> {
    let mut stmt =
        conn.prepare("SELECT id, seq, change FROM parked WHERE sync_id = ?1 AND remote_issue = ?2 ORDER BY id")?;
    let rows = stmt
        .query_map(params![sync_id, remote_issue], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(|(id, seq, c)| Ok((id, seq as u64, serde_json::from_str(&c)?))).collect()
}

pub fn unpark(conn: &Connection, row_id: i64) -> Result<()> {
    conn.execute("DELETE FROM parked WHERE id = ?1", [row_id])?;
    Ok(())
}

pub fn clear_error(conn: &Connection, sync_id: &str, remote_issue: &str) -> Result<()> {
    conn.execute("DELETE FROM issue_error WHERE sync_id = ?1 AND remote_issue = ?2", params![sync_id, remote_issue])?;
    Ok(())
}

/// Drops the parked changes of an issue and its error (the admin's "ignore").
pub fn discard(conn: &Connection, sync_id: &str, remote_issue: &str) -> Result<usize> {
    let n =
        conn.execute("DELETE FROM parked WHERE sync_id = ?1 AND remote_issue = ?2", params![sync_id, remote_issue])?;
    clear_error(conn, sync_id, remote_issue)?;
    Ok(n)
}

pub fn errors(conn: &Connection, sync_id: &str) -> Result<Vec<IssueError>> {
    let mut stmt = conn.prepare(
        "SELECT e.remote_issue, e.local_key, e.seq, e.reason, e.at,
                (SELECT COUNT(*) FROM parked p WHERE p.sync_id = e.sync_id AND p.remote_issue = e.remote_issue),
                COALESCE(e.first_at, e.at), e.tries, e.blocks
         FROM issue_error e WHERE e.sync_id = ?1 ORDER BY e.at",
    )?;
    let rows = stmt
        .query_map([sync_id], |r| {
            Ok(IssueError {
                remote_issue: r.get(0)?,
                local_key: r.get(1)?,
                seq: r.get::<_, i64>(2)? as u64,
                reason: r.get(3)?,
                at: r.get(4)?,
                parked: r.get::<_, i64>(5)? as u64,
                first_at: r.get(6)?,
                tries: r.get::<_, i64>(7)? as u64,
                blocks: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn log_quarantine(conn: &Connection, sync_id: Option<&str>, file: &str, reason: &str, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO quarantine (sync_id, file, reason, at) VALUES (?1, ?2, ?3, ?4)",
        params![sync_id, file, reason, now],
    )?;
    Ok(())
}

/// Whether a file of sync `sync_id` was quarantined for `reason` already.
pub fn quarantined_for(conn: &Connection, sync_id: &str, reason: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM quarantine WHERE sync_id = ?1 AND reason = ?2)",
        params![sync_id, reason],
        |r| r.get(0),
    )?)
}

/// How the reason of a genuine message that came before the partner's
/// accept begins: it is counted apart from what failed the checks.
pub const EARLY: &str = "arrived before the partner's accept";

/// Files of sync `sync_id` that failed the checks (forged, damaged, for
/// another sync); not those that only came early.
pub fn quarantined(conn: &Connection, sync_id: &str) -> Result<u64> {
    Ok(quarantine_counts(conn, sync_id)?.0)
}

/// Genuine messages of sync `sync_id` set aside because they came before
/// the partner's accept (see [`EARLY`]).
pub fn early(conn: &Connection, sync_id: &str) -> Result<u64> {
    Ok(quarantine_counts(conn, sync_id)?.1)
}

/// (failed the checks, came early) of sync `sync_id`.
fn quarantine_counts(conn: &Connection, sync_id: &str) -> Result<(u64, u64)> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(substr(reason, 1, length(?2)) != ?2), 0), COALESCE(SUM(substr(reason, 1, length(?2)) = ?2), 0)
         FROM quarantine WHERE sync_id = ?1",
        params![sync_id, EARLY],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )?)
}

/// A file that failed the checks, as logged.
#[derive(Debug, Clone, Serialize)]
pub struct Quarantined {
    pub file: String,
    pub reason: String,
    pub at: i64,
}

/// The newest `limit` quarantined files of a sync, newest first.
pub fn quarantine_list(conn: &Connection, sync_id: &str, limit: usize) -> Result<Vec<Quarantined>> {
    let mut stmt =
        conn.prepare("SELECT file, reason, at FROM quarantine WHERE sync_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2")?;
    let rows = stmt
        .query_map(params![sync_id, limit as i64], |r| {
            Ok(Quarantined { file: r.get(0)?, reason: r.get(1)?, at: r.get(2)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}
