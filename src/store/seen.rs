//! Digests of the messages taken (migration 2): replay detection.

use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension};

/// SHA-256 of a message as it arrived, hex.
pub fn digest(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// What is known of an exact copy of this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorCopy {
    New,
    /// Taken, but the file was not removed yet (a crash came between).
    Leftover {
        seq: u64,
    },
    /// Taken and removed before: this copy is a replay.
    Replay {
        seq: u64,
    },
}

pub fn lookup(conn: &Connection, sync_id: &str, digest: &str) -> Result<PriorCopy> {
    let row: Option<(i64, bool)> = conn
        .query_row("SELECT seq, removed FROM seen WHERE sync_id = ?1 AND digest = ?2", params![sync_id, digest], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(match row {
        None => PriorCopy::New,
        Some((seq, false)) => PriorCopy::Leftover { seq: seq as u64 },
        Some((seq, true)) => PriorCopy::Replay { seq: seq as u64 },
    })
}

/// Records a message as taken; call in the transaction that takes it.
pub fn record(conn: &Connection, sync_id: &str, digest: &str, seq: u64, now: i64) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO seen (sync_id, digest, seq, at) VALUES (?1, ?2, ?3, ?4)",
        params![sync_id, digest, seq as i64, now],
    )?;
    Ok(())
}

pub fn mark_removed(conn: &Connection, sync_id: &str, digest: &str) -> Result<()> {
    conn.execute("UPDATE seen SET removed = 1 WHERE sync_id = ?1 AND digest = ?2", params![sync_id, digest])?;
    Ok(())
}
