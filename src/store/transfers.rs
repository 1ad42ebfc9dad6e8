//! Large attachments on their way out and in (see `engine::transfers`):
//! how far each got, in the transaction of the message that moved it.

use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension};

/// An attachment on its way out.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: String,
    pub issue: String,
    pub attachment: String,
    /// The snapshot as the partner gets it (JSON).
    pub meta: String,
    pub via: Vec<String>,
    pub size: u64,
    pub chunk: u64,
    /// 0 until spooled.
    pub total: u32,
    pub next_index: u32,
    pub last_seq: Option<u64>,
}

/// An attachment on its way in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub id: String,
    pub issue: String,
    /// The sender's attachment id.
    pub attachment: String,
    pub filename: String,
    pub size: u64,
    pub total: u32,
    pub received: u32,
    pub bytes: u64,
    pub state: String,
    pub started_at: i64,
    pub updated_at: i64,
}

/// The largest attachment sync `id` sends or takes.
pub fn max_bytes(conn: &Connection, id: &str) -> Result<u64> {
    Ok(conn.query_row("SELECT max_attachment_bytes FROM sync WHERE id = ?1", [id], |r| r.get::<_, i64>(0))? as u64)
}

pub fn set_max_bytes(conn: &Connection, id: &str, n: u64) -> Result<()> {
    conn.execute(
        "UPDATE sync SET max_attachment_bytes = ?2 WHERE id = ?1",
        params![id, n.min(i64::MAX as u64) as i64],
    )?;
    Ok(())
}

pub fn add_outgoing(conn: &Connection, sync_id: &str, t: &Outgoing, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO transfer_out (sync_id, id, issue, attachment, meta, via, size, chunk, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            sync_id,
            t.id,
            t.issue,
            t.attachment,
            t.meta,
            serde_json::to_string(&t.via)?,
            t.size as i64,
            t.chunk as i64,
            now
        ],
    )?;
    Ok(())
}

/// Outgoing transfers not fully queued yet, oldest first.
pub fn outgoing(conn: &Connection, sync_id: &str) -> Result<Vec<Outgoing>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, issue, attachment, meta, via, size, chunk, total, next_index, last_seq FROM transfer_out
         WHERE sync_id = ?1 ORDER BY created_at, id",
    )?;
    let rows = stmt
        .query_map([sync_id], |r| {
            Ok(Outgoing {
                id: r.get(0)?,
                issue: r.get(1)?,
                attachment: r.get(2)?,
                meta: r.get(3)?,
                via: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
                size: r.get::<_, i64>(5)? as u64,
                chunk: r.get::<_, i64>(6)? as u64,
                total: r.get(7)?,
                next_index: r.get(8)?,
                last_seq: r.get::<_, Option<i64>>(9)?.map(|v| v as u64),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The spool file is written: the snapshot now has size and SHA-256.
pub fn spooled(conn: &Connection, sync_id: &str, id: &str, meta: &str, size: u64, total: u32) -> Result<()> {
    conn.execute(
        "UPDATE transfer_out SET meta = ?3, size = ?4, total = ?5 WHERE sync_id = ?1 AND id = ?2",
        params![sync_id, id, meta, size as i64, total],
    )?;
    Ok(())
}

/// Chunk `index` was queued as message `seq`.
pub fn queued(conn: &Connection, sync_id: &str, id: &str, index: u32, seq: u64) -> Result<()> {
    conn.execute(
        "UPDATE transfer_out SET next_index = ?3 + 1, last_seq = ?4 WHERE sync_id = ?1 AND id = ?2",
        params![sync_id, id, index, seq as i64],
    )?;
    Ok(())
}

pub fn drop_outgoing(conn: &Connection, sync_id: &str, id: &str) -> Result<()> {
    conn.execute("DELETE FROM transfer_out WHERE sync_id = ?1 AND id = ?2", params![sync_id, id])?;
    Ok(())
}

/// Bytes of chunks queued and not acknowledged yet.
pub fn in_flight(conn: &Connection, sync_id: &str) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM outbox WHERE sync_id = ?1 AND body LIKE '{\"kind\":\"chunk\"%'",
        [sync_id],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

pub fn incoming(conn: &Connection, sync_id: &str, id: &str) -> Result<Option<Incoming>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {IN_COLUMNS} FROM transfer_in WHERE sync_id = ?1 AND id = ?2"))?
        .query_row(params![sync_id, id], in_row)
        .optional()?)
}

/// Every incoming transfer of the sync (for `status` and clean-up).
pub fn all_incoming(conn: &Connection, sync_id: &str) -> Result<Vec<Incoming>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {IN_COLUMNS} FROM transfer_in WHERE sync_id = ?1 ORDER BY started_at"))?;
    let rows = stmt.query_map([sync_id], in_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

const IN_COLUMNS: &str = "id, issue, filename, size, total, received, bytes, state, started_at, updated_at, attachment";

fn in_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Incoming> {
    Ok(Incoming {
        id: r.get(0)?,
        issue: r.get(1)?,
        filename: r.get(2)?,
        size: r.get::<_, i64>(3)? as u64,
        total: r.get(4)?,
        received: r.get(5)?,
        bytes: r.get::<_, i64>(6)? as u64,
        state: r.get(7)?,
        started_at: r.get(8)?,
        updated_at: r.get(9)?,
        attachment: r.get(10)?,
    })
}

pub fn start_incoming(conn: &Connection, sync_id: &str, t: &Incoming) -> Result<()> {
    conn.execute(
        "INSERT INTO transfer_in (sync_id, id, issue, filename, size, total, received, bytes, state, started_at,
             updated_at, attachment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            sync_id,
            t.id,
            t.issue,
            t.filename,
            t.size as i64,
            t.total,
            t.received,
            t.bytes as i64,
            t.state,
            t.started_at,
            t.updated_at,
            t.attachment
        ],
    )?;
    Ok(())
}

/// One more chunk of `len` bytes is on disk.
pub fn received(conn: &Connection, sync_id: &str, id: &str, len: u64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE transfer_in SET received = received + 1, bytes = bytes + ?3, updated_at = ?4
         WHERE sync_id = ?1 AND id = ?2",
        params![sync_id, id, len as i64, now],
    )?;
    Ok(())
}

pub fn set_incoming_state(conn: &Connection, sync_id: &str, id: &str, state: &str) -> Result<()> {
    conn.execute("UPDATE transfer_in SET state = ?3 WHERE sync_id = ?1 AND id = ?2", params![sync_id, id, state])?;
    Ok(())
}

pub fn drop_incoming(conn: &Connection, sync_id: &str, id: &str) -> Result<()> {
    conn.execute("DELETE FROM transfer_in WHERE sync_id = ?1 AND id = ?2", params![sync_id, id])?;
    Ok(())
}

/// How far one transfer got (for `status` and the console).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Progress {
    /// `out` or `in`.
    pub direction: &'static str,
    /// The issue: ours going out, the partner's coming in.
    pub issue: String,
    pub filename: String,
    pub size: u64,
    /// Bytes queued (out) or received (in).
    pub done: u64,
    /// out: `copying` (from the tracker) or `sending`; in: `receiving`,
    /// `complete` (being attached), `blocked` (waits in the issue's error),
    /// `refused` or `cancelled` (deleted by the partner meanwhile).
    pub state: String,
}

pub fn progress(conn: &Connection, sync_id: &str) -> Result<Vec<Progress>> {
    let mut all: Vec<Progress> = outgoing(conn, sync_id)?
        .into_iter()
        .map(|t| {
            let meta: serde_json::Value = serde_json::from_str(&t.meta).unwrap_or_default();
            Progress {
                direction: "out",
                filename: meta["filename"].as_str().unwrap_or("?").to_string(),
                size: t.size,
                done: (t.next_index as u64 * t.chunk).min(t.size),
                state: if t.total == 0 { "copying" } else { "sending" }.into(),
                issue: t.issue,
            }
        })
        .collect();
    for t in all_incoming(conn, sync_id)? {
        let blocked = t.state == "complete" && super::problems::is_blocked(conn, sync_id, &t.issue)?;
        all.push(Progress {
            direction: "in",
            issue: t.issue,
            filename: t.filename,
            size: t.size,
            done: t.bytes,
            state: if blocked { "blocked".into() } else { t.state },
        });
    }
    Ok(all)
}
