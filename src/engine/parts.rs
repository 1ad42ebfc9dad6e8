//! Changes too large for one message (a big attachment, a huge
//! description): the sender splits the change's JSON into
//! [`Change::Part`]s, one per message, and the receiver stores each piece
//! in the same transaction as its sequence number and applies the change
//! when the last piece arrives. Messages arrive in order, exactly once, so
//! the pieces do too.

use anyhow::{bail, Result};
use base64::Engine as _;
use rusqlite::{params, Connection};

use crate::protocol::{Change, WireChange};

/// Room kept in every message for the envelope, signature, two encrypted
/// session keys and the mail around it.
const OVERHEAD: usize = 16 * 1024;
/// Batches stay below this many JSON bytes even when the limit is larger.
const BATCH_TARGET: usize = 2 * 1024 * 1024;
/// Attachment chunks stay below this many bytes even when the limit is
/// larger: every buffer a message needs (sealed, decrypted, the decoder's
/// own) stays small, and so does what the allocator keeps of them (with
/// 7 MB chunks a receiving peer grew past 100 MB).
const CHUNK_TARGET: usize = 2 * 1024 * 1024;
/// The largest change the receiver reassembles.
pub const MAX_CHANGE_BYTES: usize = 256 * 1024 * 1024;

/// How much fits in one message of at most `max_message_bytes` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// JSON bytes of a batch of changes (armoring adds about 35%).
    pub batch_json: usize,
    /// Raw bytes of a change's JSON per part (base64 adds 33%, armoring
    /// another 35%, whether or not compression helps).
    pub part_raw: usize,
    /// Raw bytes of an attachment chunk (sent uncompressed; armoring adds
    /// about 35%).
    pub chunk_raw: usize,
}

impl Budget {
    pub fn for_limit(max_message_bytes: u64) -> Self {
        let room = (max_message_bytes as usize).saturating_sub(OVERHEAD).max(OVERHEAD);
        Budget {
            batch_json: (room * 10 / 14).min(BATCH_TARGET),
            part_raw: room * 10 / 19,
            chunk_raw: (room * 10 / 14).min(CHUNK_TARGET),
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::for_limit(super::DEFAULT_MESSAGE_LIMIT)
    }
}

/// Splits a change whose JSON is `json` into parts of `part_raw` bytes.
pub fn split(change: &Change, json: &[u8], part_raw: usize) -> Vec<Change> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let chunks: Vec<&[u8]> = json.chunks(part_raw.max(1)).collect();
    let total = chunks.len() as u32;
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| Change::Part {
            issue: change.issue().to_string(),
            id: id.clone(),
            index: i as u32,
            total,
            data: base64::engine::general_purpose::STANDARD.encode(chunk),
        })
        .collect()
}

/// Stores one part. When it is the last, returns the whole change and
/// forgets the pieces. Errors describe a malformed part.
pub fn take(
    conn: &Connection,
    sync_id: &str,
    id: &str,
    index: u32,
    total: u32,
    data: &str,
) -> Result<Option<WireChange>> {
    let max_parts = (MAX_CHANGE_BYTES / 1024) as u32;
    if total == 0 || index >= total || total > max_parts {
        bail!("part {index} of {total} is out of range");
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| anyhow::anyhow!("part {index} of {total} is not base64: {e}"))?;
    conn.prepare_cached("INSERT OR REPLACE INTO part (sync_id, part_id, idx, data) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![sync_id, id, index, bytes])?;
    if index + 1 < total {
        return Ok(None);
    }
    let mut stmt =
        conn.prepare_cached("SELECT idx, data FROM part WHERE sync_id = ?1 AND part_id = ?2 ORDER BY idx")?;
    let mut rows = stmt.query(params![sync_id, id])?;
    let mut json = Vec::new();
    let mut expected = 0u32;
    while let Some(row) = rows.next()? {
        let idx: u32 = row.get(0)?;
        if idx != expected {
            break;
        }
        let piece: Vec<u8> = row.get(1)?;
        if json.len() + piece.len() > MAX_CHANGE_BYTES {
            bail!("the change in parts {id} is larger than {MAX_CHANGE_BYTES} bytes");
        }
        json.extend_from_slice(&piece);
        expected += 1;
    }
    drop(rows);
    conn.prepare_cached("DELETE FROM part WHERE sync_id = ?1 AND part_id = ?2")?.execute(params![sync_id, id])?;
    if expected != total {
        bail!("parts {id}: piece {expected} of {total} never arrived");
    }
    let change: WireChange = serde_json::from_slice(&json).map_err(|e| anyhow::anyhow!("parts {id}: {e}"))?;
    if matches!(change, WireChange::Known(Change::Part { .. })) {
        bail!("parts {id} hold another part");
    }
    Ok(Some(change))
}

/// Pieces received of changes not complete yet (for `status`).
pub fn pending(conn: &Connection, sync_id: &str) -> Result<u64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM part WHERE sync_id = ?1", [sync_id], |r| r.get::<_, i64>(0))? as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_leaves_room_for_armor_and_base64() {
        let b = Budget::for_limit(10_000_000);
        assert_eq!(b.batch_json, BATCH_TARGET);
        // base64 (4/3) then armor (~1.36) of a full part stays under the limit.
        assert!(b.part_raw * 4 / 3 * 136 / 100 + OVERHEAD < 10_000_000, "{b:?}");
        let small = Budget::for_limit(64 * 1024);
        assert!(small.batch_json * 136 / 100 + OVERHEAD <= 64 * 1024, "{small:?}");
        assert!(b.chunk_raw * 136 / 100 + OVERHEAD < 10_000_000, "{b:?}");
    }

    #[test]
    fn split_and_take_round_trip_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("db")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        let change = Change::CommentDeleted { issue: "A-1".into(), comment: "x".repeat(10_000) };
        let json = serde_json::to_vec(&change).unwrap();
        let parts = split(&change, &json, 1000);
        assert_eq!(parts.len(), json.len().div_ceil(1000));
        let mut out = None;
        for (i, p) in parts.iter().enumerate() {
            let Change::Part { id, index, total, data, issue } = p else { panic!("not a part") };
            assert_eq!(issue, "A-1");
            let got = take(&conn, "s", id, *index, *total, data).unwrap();
            assert_eq!(got.is_some(), i + 1 == parts.len());
            out = got;
        }
        assert_eq!(out, Some(WireChange::Known(change)));
        assert_eq!(pending(&conn, "s").unwrap(), 0);
    }

    #[test]
    fn a_missing_piece_or_bad_index_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("db")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        assert!(take(&conn, "s", "p", 0, 2, "e30=").unwrap().is_none());
        let err = take(&conn, "s", "q", 1, 2, "e30=").unwrap_err();
        assert!(err.to_string().contains("piece 0 of 2 never arrived"), "{err}");
        assert!(take(&conn, "s", "r", 2, 2, "e30=").is_err());
        assert!(take(&conn, "s", "r", 0, 1, "not base64!").is_err());
    }
}
