//! Large attachments, streamed in chunks in bounded memory.
//!
//! **Sending.** An attachment over [`INLINE_MAX`] is not put inside a
//! change: the change is only described (its `size` set) and the batch
//! records a transfer ([`out::register`]). Each cycle [`out::feed`] copies
//! the attachment once from the tracker into a spool file, as a stream,
//! computing its SHA-256, then queues [`Body::Chunk`](crate::protocol::Body)
//! messages a few at a time ([`WINDOW`] not yet acknowledged): edits made
//! meanwhile get numbers between the chunks and are not held up behind the
//! whole file. The outbox keeps only a chunk's place; [`out::payload`] reads
//! its bytes from the spool when the message is sealed (and again for a
//! resend). The spool goes once the last chunk is acknowledged.
//!
//! **Receiving.** Each chunk, in order, is written at its offset into a
//! spool file, flushed, and counted in the transaction that records its
//! sequence number; after a crash the same bytes are written again to the
//! same place, which is harmless, so a transfer resumes where it was. The
//! last chunk turns the transfer into an ordinary `attachment_added` change
//! whose content is the spool file: it is checked against the sender's
//! SHA-256 and handed to the tracker as a stream, like any change (a refusal
//! parks it with the spool kept). Until then nothing is attached.
//!
//! **By hand.** Every chunk is a standard OpenPGP message whose plaintext
//! is one line of JSON, then the bytes: `gpg --decrypt F | tail -n +2`
//! gives a chunk's bytes, and the chunks of a transfer concatenated in
//! order of `index` give the file (see docs/email.md).

pub mod inbound;
pub mod out;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rusqlite::Connection;

/// Attachments up to this size travel inside a change; larger ones in chunks.
pub const INLINE_MAX: u64 = 1 << 20;
/// Chunks queued and not acknowledged, per sync (of at most 2 MiB each).
pub const WINDOW: u64 = 16;
/// Kept free on the disk beyond what a transfer needs.
const DISK_MARGIN: u64 = 64 << 20;
/// The default largest attachment a sync sends or takes.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

/// The folder of a sync's spool files, beside the database.
pub fn spool_dir(conn: &Connection, sync_id: &str) -> Result<PathBuf> {
    let db = conn.path().filter(|p| !p.is_empty()).context("the database has no folder for spool files")?;
    let home = Path::new(db).parent().context("the database has no folder for spool files")?;
    Ok(home.join("spool").join(sync_id))
}

/// Removes a deleted sync's spool files.
pub fn forget(home: &Path, sync_id: &str) -> Result<()> {
    let dir = home.join("spool").join(sync_id);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// Free bytes for an unprivileged writer on the disk holding `dir`.
fn free_bytes(dir: &Path) -> Result<u64> {
    let st = rustix::fs::statvfs(dir).with_context(|| format!("cannot read the free space of {}", dir.display()))?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

/// `None` when `need` bytes (plus a margin) fit on the disk of `dir`, else
/// what to tell the admin.
fn lacks_space(dir: &Path, need: u64, what: &str) -> Result<Option<String>> {
    let free = free_bytes(dir)?;
    if free >= need.saturating_add(DISK_MARGIN) {
        return Ok(None);
    }
    Ok(Some(format!(
        "not enough disk space for {what}: {} needed in {} (with {} to spare), {} free; free some space and it \
         goes on by itself",
        mb(need),
        dir.display(),
        mb(DISK_MARGIN),
        mb(free)
    )))
}

/// Bytes in mebibytes, for messages.
pub fn mb(n: u64) -> String {
    if n >= 10 << 20 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    }
}

/// Removes the spool files of `dir` named `prefix` + an id `keep` does not
/// hold (left by a finished or abandoned transfer, or a crash).
fn sweep(dir: &Path, prefix: &str, keep: &[String]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_prefix(prefix) {
            if !keep.iter().any(|k| k == id) {
                if let Err(err) = std::fs::remove_file(e.path()) {
                    tracing::warn!(file = %e.path().display(), %err, "cannot remove a spool file");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_disk_check_says_what_is_needed_where() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(lacks_space(dir.path(), 1, "a file").unwrap(), None);
        let why = lacks_space(dir.path(), u64::MAX / 4, "attachment core.bin").unwrap().expect("too big");
        assert!(why.starts_with("not enough disk space for attachment core.bin"), "{why}");
        assert!(why.contains(&dir.path().display().to_string()) && why.contains("free"), "{why}");
    }

    #[test]
    fn spool_files_of_finished_transfers_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["out-a", "out-b", "in-a", "other"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        sweep(dir.path(), "out-", &["b".to_string()]);
        let mut left: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, ["in-a", "other", "out-b"]);
        assert_eq!(mb(3 << 20), "3.0 MiB");
        assert_eq!(mb(300 << 20), "300 MiB");
    }
}
