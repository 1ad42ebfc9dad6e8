//! Outbox (numbered messages until acknowledged) and held messages (arrived
//! ahead of a gap).

use anyhow::{bail, Result};
use rusqlite::{params, Connection, OptionalExtension};

use crate::protocol::Body;

/// A numbered message waiting for acknowledgement.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub seq: u64,
    pub body: Body,
    pub last_sent_at: Option<i64>,
    pub attempts: u32,
}

/// Queues one change of the sync's own (field owners, a resync request)
/// for the partner, as a message of its own, now.
pub fn enqueue_change(conn: &Connection, sync_id: &str, change: crate::protocol::Change) -> Result<u64> {
    let body = Body::Changes { changes: vec![crate::protocol::WireChange::Known(change)], via: Vec::new() };
    enqueue(conn, sync_id, &body, crate::store::now_ms())
}

/// Gives `body` the next sequence number of the sync and stores it. Call
/// inside the transaction that produced the body.
pub fn enqueue(conn: &Connection, sync_id: &str, body: &Body, now: i64) -> Result<u64> {
    let seq: i64 =
        conn.query_row("UPDATE sync SET out_seq = out_seq + 1 WHERE id = ?1 RETURNING out_seq", [sync_id], |r| {
            r.get(0)
        })?;
    conn.execute(
        "INSERT INTO outbox (sync_id, seq, body, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![sync_id, seq, serde_json::to_string(body)?, now],
    )?;
    conn.prepare_cached("INSERT OR REPLACE INTO out_time (sync_id, seq, at) VALUES (?1, ?2, ?3)")?
        .execute(params![sync_id, seq, now])?;
    conn.prepare_cached("DELETE FROM out_time WHERE sync_id = ?1 AND seq <= ?2 - 1000")?
        .execute(params![sync_id, seq])?;
    let changes = match body {
        Body::Changes { changes, .. } => changes.len(),
        _ => 0,
    };
    super::activity::count(conn, sync_id, super::activity::Way::Out, changes, now)?;
    Ok(seq as u64)
}

/// When our message `seq` was put together: `Some(i64::MIN)` for 0 (none),
/// `None` when it is no longer known.
pub fn put_together_at(conn: &Connection, sync_id: &str, seq: u64) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    if seq == 0 {
        return Ok(Some(i64::MIN));
    }
    Ok(conn
        .prepare_cached("SELECT at FROM out_time WHERE sync_id = ?1 AND seq = ?2")?
        .query_row(params![sync_id, seq.min(i64::MAX as u64) as i64], |r| r.get(0))
        .optional()?)
}

/// Entries never sent, or sent longer than `resend_after_ms` ago, in order.
pub fn due(conn: &Connection, sync_id: &str, now: i64, resend_after_ms: i64) -> Result<Vec<OutboxEntry>> {
    let mut stmt = conn.prepare(
        "SELECT seq, body, last_sent_at, attempts FROM outbox
         WHERE sync_id = ?1 AND (last_sent_at IS NULL OR last_sent_at <= ?2) ORDER BY seq",
    )?;
    let rows = stmt
        .query_map(params![sync_id, now - resend_after_ms], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(seq, body, last_sent_at, attempts)| {
            Ok(OutboxEntry { seq: seq as u64, body: serde_json::from_str(&body)?, last_sent_at, attempts })
        })
        .collect()
}

/// The syncs with messages never sent (another process may have queued
/// them: a retried error, a key rotation).
pub fn syncs_with_unsent(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT DISTINCT sync_id FROM outbox WHERE last_sent_at IS NULL")?;
    let rows = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// When the next entry is due (never sent: now, as 0), if any.
pub fn next_send(conn: &Connection, sync_id: &str, resend_after_ms: i64) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT MIN(CASE WHEN last_sent_at IS NULL THEN 0 ELSE last_sent_at + ?2 END) FROM outbox WHERE sync_id = ?1",
        params![sync_id, resend_after_ms],
        |r| r.get(0),
    )?)
}

pub fn mark_sent(conn: &Connection, sync_id: &str, seq: u64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET last_sent_at = ?3, attempts = attempts + 1 WHERE sync_id = ?1 AND seq = ?2",
        params![sync_id, seq as i64, now],
    )?;
    Ok(())
}

/// Makes `from..=to` due now (the partner asked for them again).
pub fn make_due(conn: &Connection, sync_id: &str, from: u64, to: u64) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE outbox SET last_sent_at = NULL WHERE sync_id = ?1 AND seq BETWEEN ?2 AND ?3",
        params![sync_id, from as i64, to as i64],
    )?)
}

/// Drops everything up to `ack`. An acknowledgement of a number never sent
/// is refused.
pub fn acknowledge(conn: &Connection, sync_id: &str, ack: u64, out_seq: u64) -> Result<()> {
    if ack > out_seq {
        bail!("acknowledges message {ack}, but only {out_seq} were sent");
    }
    conn.execute("DELETE FROM outbox WHERE sync_id = ?1 AND seq <= ?2", params![sync_id, ack as i64])?;
    conn.execute("UPDATE sync SET out_acked = MAX(out_acked, ?2) WHERE id = ?1", params![sync_id, ack as i64])?;
    Ok(())
}

pub fn pending(conn: &Connection, sync_id: &str) -> Result<u64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM outbox WHERE sync_id = ?1", [sync_id], |r| r.get::<_, i64>(0))? as u64)
}

/// Stores a verified message that arrived ahead of a gap (ignored if
/// held): its envelope's JSON and a chunk's bytes.
pub fn hold(conn: &Connection, sync_id: &str, seq: u64, env: &crate::protocol::Envelope, now: i64) -> Result<()> {
    let payload = match &env.body {
        Body::Chunk { data, .. } => Some(data.as_slice()),
        _ => None,
    };
    conn.execute(
        "INSERT OR IGNORE INTO held (sync_id, seq, envelope, received_at, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sync_id, seq as i64, String::from_utf8(env.to_json())?, now, payload],
    )?;
    Ok(())
}

/// Removes and returns the held message `seq`, if there is one.
pub fn take_held(conn: &Connection, sync_id: &str, seq: u64) -> Result<Option<crate::protocol::Envelope>> {
    let row: Option<(String, Option<Vec<u8>>)> = conn
        .query_row(
            "DELETE FROM held WHERE sync_id = ?1 AND seq = ?2 RETURNING envelope, payload",
            params![sync_id, seq as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((json, payload)) = row else {
        return Ok(None);
    };
    let mut env = crate::protocol::Envelope::from_json(json.as_bytes()).map_err(anyhow::Error::msg)?;
    if let (Body::Chunk { data, .. }, Some(payload)) = (&mut env.body, payload) {
        *data = payload;
    }
    Ok(Some(env))
}

/// Lowest held number and when the oldest held message arrived.
pub fn held_summary(conn: &Connection, sync_id: &str) -> Result<(u64, Option<u64>, Option<i64>)> {
    Ok(conn.query_row("SELECT COUNT(*), MIN(seq), MIN(received_at) FROM held WHERE sync_id = ?1", [sync_id], |r| {
        Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Option<i64>>(1)?.map(|v| v as u64), r.get(2)?))
    })?)
}

/// Our oldest message the partner has not acknowledged: its number, when
/// it was put together, and how often it was sent.
pub fn oldest_unacknowledged(conn: &Connection, sync_id: &str) -> Result<Option<(u64, i64, u32)>> {
    Ok(conn
        .prepare_cached("SELECT seq, created_at, attempts FROM outbox WHERE sync_id = ?1 ORDER BY seq LIMIT 1")?
        .query_row([sync_id], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)))
        .optional()?)
}
