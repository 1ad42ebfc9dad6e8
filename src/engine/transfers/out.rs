//! The sending side of large attachments (see the module above).

use std::os::unix::fs::FileExt;

use rusqlite::Connection;

use super::{lacks_space, mb, spool_dir, sweep, WINDOW};
use crate::protocol::{AttachmentSnapshot, Body};
use crate::store::skipped::{self, Skipped};
use crate::store::transfers::{self, Outgoing};
use crate::store::{outbox, SyncRecord};
use crate::tracker::attachments::Hashing;
use crate::tracker::{TResult, Tracker, TrackerError};

/// Records the described attachment `a` of our issue `key` as a transfer
/// in chunks of `chunk` bytes. `false`: it is over the sync's limit and is
/// not sent: listed here as not sent (see `store::skipped`), and the
/// described change goes instead, for the partner to list as not received.
pub fn register(
    conn: &Connection,
    sync_id: &str,
    key: &str,
    a: &AttachmentSnapshot,
    via: &[String],
    chunk: u64,
    now: i64,
) -> anyhow::Result<bool> {
    let size = a.size.unwrap_or_default();
    let max = transfers::max_bytes(conn, sync_id)?;
    if size > max {
        let name = crate::store::syncs::get(conn, sync_id)?.map_or_else(|| sync_id.to_string(), |s| s.name);
        let reason = format!(
            "not sent: attachment {} is {}, over the largest attachment sync {name} sends, {}; raise it on both \
             sides with `postern sync edit {name} --max-attachment-mb N`, then send it with `postern sync resync \
             {name} --keys {key} --fields attachments`",
            a.filename,
            mb(size),
            mb(max)
        );
        tracing::warn!(sync = %name, issue = key, file = %a.filename, "{reason}");
        let s = Skipped {
            direction: "out".into(),
            issue: key.into(),
            attachment: a.id.clone(),
            filename: a.filename.clone(),
            size,
            reason,
            at: now,
        };
        skipped::record(conn, sync_id, &s)?;
        return Ok(false);
    }
    skipped::clear(conn, sync_id, "out", &a.id)?;
    if transfers::outgoing(conn, sync_id)?.iter().any(|t| t.attachment == a.id) {
        // Already on its way (a resync while it is sent): once is enough.
        return Ok(true);
    }
    let t = Outgoing {
        id: uuid::Uuid::new_v4().simple().to_string(),
        issue: key.to_string(),
        attachment: a.id.clone(),
        meta: serde_json::to_string(a)?,
        via: via.to_vec(),
        size,
        chunk,
        total: 0,
        next_index: 0,
        last_seq: None,
    };
    transfers::add_outgoing(conn, sync_id, &t, now)?;
    tracing::debug!(sync = sync_id, issue = key, transfer = %t.id, bytes = size, "attachment to send in chunks");
    Ok(true)
}

/// Our attachment `attachment` was deleted: a transfer of it stops (no
/// more chunks; the partner cancels what it received when the delete
/// arrives, after the chunks already queued), and it is no longer listed as
/// not sent.
pub fn cancel(conn: &Connection, sync_id: &str, attachment: &str) -> anyhow::Result<()> {
    for t in transfers::outgoing(conn, sync_id)?.into_iter().filter(|t| t.attachment == attachment) {
        transfers::drop_outgoing(conn, sync_id, &t.id)?;
        tracing::info!(sync = sync_id, issue = %t.issue, transfer = %t.id, "attachment deleted while it was sent: the rest is not sent");
    }
    skipped::clear(conn, sync_id, "out", attachment)?;
    Ok(())
}

/// Moves the sync's transfers on: new ones copied from the tracker into
/// their spool files, outside any transaction (a long copy does not hold
/// the home's write lock), then, in one short transaction, spool files
/// removed once acknowledged and chunks queued while fewer than [`WINDOW`]
/// wait for acknowledgement. Call outside a transaction. Returns the
/// messages queued.
pub fn feed(conn: &Connection, tracker: &impl Tracker, sync: &SyncRecord, now: i64) -> TResult<u64> {
    let dir = spool_dir(conn, &sync.id)?;
    let mut copied = Vec::new();
    for t in transfers::outgoing(conn, &sync.id)?.into_iter().filter(|t| t.total == 0) {
        let done = copy(tracker, &t, &dir)?;
        copied.push((t, done));
    }
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    for (mut t, done) in copied {
        match done {
            Some((sha256, size)) => record_spooled(&tx, sync, &mut t, sha256, size)?,
            None => {
                transfers::drop_outgoing(&tx, &sync.id, &t.id)?;
                tracing::info!(sync = %sync.name, issue = %t.issue, "attachment deleted before it was sent");
            }
        }
    }
    finish_acknowledged(&tx, sync)?;
    let mut queued = 0;
    for mut t in transfers::outgoing(&tx, &sync.id)?.into_iter().filter(|t| t.total > 0) {
        while t.next_index < t.total && transfers::in_flight(&tx, &sync.id)? < WINDOW {
            let body = chunk_body(&t, t.next_index)?;
            let seq = outbox::enqueue(&tx, &sync.id, &body, now)?;
            transfers::queued(&tx, &sync.id, &t.id, t.next_index, seq)?;
            t.next_index += 1;
            queued += 1;
        }
    }
    tx.commit()?;
    Ok(queued)
}

/// Forgets the transfers whose last chunk the partner acknowledged, and
/// removes spool files no transfer needs. Runs when an acknowledgement
/// arrives and each cycle.
pub fn finish_acknowledged(conn: &Connection, sync: &SyncRecord) -> anyhow::Result<()> {
    let acked = crate::store::syncs::get(conn, &sync.id)?.map_or(sync.out_acked, |s| s.out_acked);
    let mut live = Vec::new();
    for t in transfers::outgoing(conn, &sync.id)? {
        if t.total > 0 && t.next_index >= t.total && t.last_seq.is_some_and(|s| s <= acked) {
            transfers::drop_outgoing(conn, &sync.id, &t.id)?;
            tracing::info!(sync = %sync.name, issue = %t.issue, transfer = %t.id, "attachment sent and acknowledged");
        } else {
            live.push(t.id);
        }
    }
    sweep(&spool_dir(conn, &sync.id)?, "out-", &live);
    Ok(())
}

/// Copies the attachment from the tracker into its spool file: its
/// SHA-256 and size, or `None` when it is gone (deleted since).
fn copy(tracker: &impl Tracker, t: &Outgoing, dir: &std::path::Path) -> TResult<Option<(String, u64)>> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot make {}: {e}", dir.display()))?;
    let meta: AttachmentSnapshot = serde_json::from_str(&t.meta)?;
    if let Some(why) = lacks_space(dir, t.size, &format!("sending attachment {} of {}", meta.filename, t.issue))? {
        return Err(TrackerError::Unavailable { reason: why, retry_after: None });
    }
    let path = dir.join(format!("out-{}", t.id));
    let file = std::fs::File::create(&path).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    let mut w = Hashing::new(std::io::BufWriter::with_capacity(1 << 20, file));
    if tracker.copy_attachment(&t.issue, &t.attachment, &mut w)?.is_none() {
        drop(w);
        let _ = std::fs::remove_file(&path);
        return Ok(None);
    }
    let (sha256, size) = (w.sha256(), w.written);
    let file = w.inner.into_inner().map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?;
    file.sync_all().map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(Some((sha256, size)))
}

/// The spool file is written: the chunks can be counted.
fn record_spooled(conn: &Connection, sync: &SyncRecord, t: &mut Outgoing, sha256: String, size: u64) -> TResult<()> {
    let mut meta: AttachmentSnapshot = serde_json::from_str(&t.meta)?;
    meta.sha256 = sha256;
    meta.size = Some(size);
    t.meta = serde_json::to_string(&meta)?;
    t.size = size;
    t.total = size.div_ceil(t.chunk).max(1) as u32;
    transfers::spooled(conn, &sync.id, &t.id, &t.meta, size, t.total)?;
    tracing::info!(sync = %sync.name, issue = %t.issue, file = %meta.filename, chunks = t.total, "sending an attachment of {}", mb(size));
    Ok(())
}

/// Chunk `index` of `t`, without its bytes (the outbox keeps only this).
fn chunk_body(t: &Outgoing, index: u32) -> anyhow::Result<Body> {
    let offset = index as u64 * t.chunk;
    Ok(Body::Chunk {
        transfer: t.id.clone(),
        issue: t.issue.clone(),
        attachment: serde_json::from_str(&t.meta)?,
        index,
        total: t.total,
        offset,
        len: t.chunk.min(t.size - offset),
        via: t.via.clone(),
        data: Vec::new(),
    })
}

/// Fills a chunk's bytes from the spool file, for sealing.
pub fn payload(conn: &Connection, sync_id: &str, body: &mut Body) -> anyhow::Result<()> {
    let Body::Chunk { transfer, offset, len, data, attachment, .. } = body else {
        return Ok(());
    };
    let path = spool_dir(conn, sync_id)?.join(format!("out-{transfer}"));
    let file = std::fs::File::open(&path).map_err(|e| {
        anyhow::anyhow!("the spool file of attachment {} is missing ({}): {e}", attachment.filename, path.display())
    })?;
    let mut buf = vec![0u8; *len as usize];
    file.read_exact_at(&mut buf, *offset).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    *data = buf;
    Ok(())
}

/// Whether a transfer could queue more chunks now (the window has room).
/// One not spooled yet (the tracker or the disk failed) waits for the
/// tracker's own schedule, not this: no busy loop.
pub fn can_feed(conn: &Connection, sync_id: &str) -> anyhow::Result<bool> {
    let waiting: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM transfer_out WHERE sync_id = ?1 AND total > 0 AND next_index < total)",
        [sync_id],
        |r| r.get(0),
    )?;
    Ok(waiting && transfers::in_flight(conn, sync_id)? < WINDOW)
}
