//! The receiving side of large attachments (see the module above).

use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use rusqlite::Connection;

use super::{lacks_space, mb, spool_dir, sweep};
use crate::protocol::{AttachmentSnapshot, Change, WireChange};
use crate::store::skipped::{self, Skipped};
use crate::store::transfers::{self, Incoming};
use crate::store::{links, now_ms, problems, SyncRecord};
use crate::tracker::{TResult, TrackerError};

/// One chunk as it arrived (the fields of `Body::Chunk`).
pub struct Chunk<'a> {
    pub transfer: &'a str,
    pub issue: &'a str,
    pub attachment: &'a AttachmentSnapshot,
    pub index: u32,
    pub total: u32,
    pub offset: u64,
    pub len: u64,
    pub via: &'a [String],
    pub data: &'a [u8],
}

/// The spool file of incoming transfer `id`.
pub fn spool_file(conn: &Connection, sync_id: &str, id: &str) -> anyhow::Result<PathBuf> {
    Ok(spool_dir(conn, sync_id)?.join(format!("in-{id}")))
}

/// Takes chunk `c` of message `seq`: writes its bytes, counts it, and with
/// the last one gives the attachment's change, for the caller to apply.
/// A chunk that does not fit its transfer is an error on the issue (the
/// bytes are not kept); a disk too full to start is "unavailable": the
/// message waits.
pub fn take(conn: &Connection, sync: &SyncRecord, seq: u64, c: &Chunk<'_>) -> TResult<Option<WireChange>> {
    let now = now_ms();
    let size = c.attachment.size.unwrap_or_default();
    let t = match transfers::incoming(conn, &sync.id, c.transfer)? {
        Some(t) => t,
        None if c.index == 0 => match start(conn, sync, seq, c, size, now)? {
            Some(t) => t,
            None => return Ok(None),
        },
        None => {
            tracing::debug!(sync = %sync.name, transfer = c.transfer, index = c.index, "chunk of a transfer not taken: skipped");
            return Ok(None);
        }
    };
    if t.state != "receiving" {
        return Ok(None);
    }
    let fits = c.total == t.total
        && c.index == t.received
        && c.len == c.data.len() as u64
        && c.offset == t.bytes
        && c.offset + c.len <= t.size
        && (c.index + 1 < t.total || c.offset + c.len == t.size);
    if !fits {
        let reason = format!(
            "attachment {} arrived damaged: piece {} of {} ({} bytes at {}) does not follow the {} of {} bytes received",
            c.attachment.filename,
            c.index + 1,
            c.total,
            c.data.len(),
            c.offset,
            t.received,
            t.bytes
        );
        return refuse(conn, sync, seq, c.issue, c.transfer, &reason).map(|()| None);
    }
    let path = spool_file(conn, &sync.id, c.transfer)?;
    write_at(&path, c.offset, c.data)?;
    transfers::received(conn, &sync.id, c.transfer, c.len, now)?;
    if c.index + 1 < t.total {
        return Ok(None);
    }
    transfers::set_incoming_state(conn, &sync.id, c.transfer, "complete")?;
    tracing::info!(sync = %sync.name, issue = c.issue, file = %c.attachment.filename, "attachment of {} received", mb(size));
    let mut attachment = c.attachment.clone();
    attachment.transfer = Some(c.transfer.to_string());
    Ok(Some(WireChange::Known(Change::AttachmentAdded { issue: c.issue.to_string(), attachment })))
}

/// The first chunk: the limit and the disk are checked, the transfer
/// recorded. `None`: refused (listed on the issue).
fn start(
    conn: &Connection,
    sync: &SyncRecord,
    seq: u64,
    c: &Chunk<'_>,
    size: u64,
    now: i64,
) -> TResult<Option<Incoming>> {
    let max = transfers::max_bytes(conn, &sync.id)?;
    let mut t = Incoming {
        id: c.transfer.to_string(),
        issue: c.issue.to_string(),
        attachment: c.attachment.id.clone(),
        filename: c.attachment.filename.clone(),
        size,
        total: c.total,
        received: 0,
        bytes: 0,
        state: "receiving".into(),
        started_at: now,
        updated_at: now,
    };
    if size > max {
        // Its chunks are skipped; nothing blocks the issue's other changes.
        t.state = "refused".into();
        transfers::start_incoming(conn, &sync.id, &t)?;
        let reason = format!(
            "not received: attachment {} is {} ({size} bytes), over the largest attachment sync {} takes, {}; \
             raise it with `postern sync edit {} --max-attachment-mb N`, then ask the partner to resync the \
             issue's attachments",
            c.attachment.filename,
            mb(size),
            sync.name,
            mb(max),
            sync.name
        );
        not_received(conn, sync, c.issue, c.attachment, &reason)?;
        return Ok(None);
    }
    if c.total == 0 || size == 0 {
        t.state = "refused".into();
        transfers::start_incoming(conn, &sync.id, &t)?;
        record(conn, sync, seq, c.issue, &format!("attachment {} arrived without content", c.attachment.filename))?;
        return Ok(None);
    }
    let dir = spool_dir(conn, &sync.id)?;
    std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot make {}: {e}", dir.display()))?;
    // The spool file, and the tracker's copy when it is applied.
    let what = format!("attachment {} of the partner's {}", c.attachment.filename, c.issue);
    if let Some(why) = lacks_space(&dir, size.saturating_mul(2), &what)? {
        return Err(TrackerError::Unavailable { reason: why, retry_after: None });
    }
    transfers::start_incoming(conn, &sync.id, &t)?;
    tracing::info!(sync = %sync.name, issue = c.issue, file = %c.attachment.filename, chunks = c.total, "receiving an attachment of {}", mb(size));
    Ok(Some(t))
}

/// The partner's attachment `a` of its issue `issue` did not cross (over a
/// limit): listed, blocking nothing, until it crosses after all.
pub fn not_received(
    conn: &Connection,
    sync: &SyncRecord,
    issue: &str,
    a: &AttachmentSnapshot,
    reason: &str,
) -> anyhow::Result<()> {
    tracing::warn!(sync = %sync.name, issue, file = %a.filename, "{reason}");
    let s = Skipped {
        direction: "in".into(),
        issue: issue.into(),
        attachment: a.id.clone(),
        filename: a.filename.clone(),
        size: a.size.unwrap_or_default(),
        reason: reason.into(),
        at: now_ms(),
    };
    skipped::record(conn, &sync.id, &s)
}

/// The partner deleted its attachment `attachment` (of its issue `issue`):
/// a transfer of it still arriving is cancelled (the partner sends no more
/// of it), and it is no longer listed as not received.
pub fn cancel(conn: &Connection, sync: &SyncRecord, issue: &str, attachment: &str) -> anyhow::Result<()> {
    for t in transfers::all_incoming(conn, &sync.id)? {
        if t.attachment == attachment && t.issue == issue && t.state == "receiving" {
            transfers::set_incoming_state(conn, &sync.id, &t.id, "cancelled")?;
            tracing::info!(sync = %sync.name, issue, file = %t.filename, "attachment deleted by the partner while it arrived: dropped");
        }
    }
    skipped::clear(conn, &sync.id, "in", attachment)?;
    Ok(())
}

fn refuse(conn: &Connection, sync: &SyncRecord, seq: u64, issue: &str, transfer: &str, reason: &str) -> TResult<()> {
    transfers::set_incoming_state(conn, &sync.id, transfer, "refused")?;
    record(conn, sync, seq, issue, reason)
}

fn record(conn: &Connection, sync: &SyncRecord, seq: u64, issue: &str, reason: &str) -> TResult<()> {
    tracing::warn!(sync = %sync.name, issue, %reason, "attachment refused");
    let local = links::by_remote(conn, &sync.id, issue)?.map(|l| l.local_issue_key);
    problems::record_error(conn, &sync.id, issue, local.as_deref(), seq, reason, now_ms())?;
    Ok(())
}

/// Writes `data` at `offset` and flushes it to disk (before the sequence
/// number that says it is there is committed).
fn write_at(path: &std::path::Path, offset: u64, data: &[u8]) -> TResult<()> {
    let fail = |e: std::io::Error| -> TrackerError {
        if e.raw_os_error() == Some(28) {
            TrackerError::Unavailable { reason: format!("the disk of {} is full", path.display()), retry_after: None }
        } else {
            anyhow::anyhow!("cannot write {}: {e}", path.display()).into()
        }
    };
    let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(fail)?;
    f.write_all_at(data, offset).map_err(fail)?;
    f.sync_data().map_err(fail)?;
    Ok(())
}

/// After a commit: transfers that are finished with (applied, refused and
/// the error dealt with, or discarded) are forgotten and their spool files
/// removed. A complete one whose change waits in an issue's error keeps its
/// file for the retry.
pub fn clean(conn: &Connection, sync_id: &str) -> anyhow::Result<()> {
    let mut live = Vec::new();
    for t in transfers::all_incoming(conn, sync_id)? {
        if t.state != "receiving" && !problems::is_blocked(conn, sync_id, &t.issue)? {
            transfers::drop_incoming(conn, sync_id, &t.id)?;
        } else if t.state != "refused" {
            live.push(t.id);
        }
    }
    sweep(&spool_dir(conn, sync_id)?, "in-", &live);
    Ok(())
}
