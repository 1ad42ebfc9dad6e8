//! Attachments of the embedded tracker: described in `t_attachment` with a
//! SHA-256, the content in pieces of 1 MiB in `t_attachment_piece`,
//! written and read as streams.

use std::io::{Read, Write};

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::Embedded;
use crate::clock::now_ms;
use crate::tracker::attachments::{check_filename, MAX_ATTACHMENT_BYTES};
use crate::tracker::{Actor, AttachmentInfo, ChangeKind, CommentOrigin, NewAttachment, Refusal, TResult};

/// Bytes per stored piece.
const PIECE: usize = 1 << 20;

const COLUMNS: &str = "id, filename, media_type, size, sha256, author, on_behalf_of, created_at";

fn info(r: &rusqlite::Row<'_>) -> rusqlite::Result<AttachmentInfo> {
    Ok(AttachmentInfo {
        id: r.get::<_, i64>(0)?.to_string(),
        filename: r.get(1)?,
        media_type: r.get(2)?,
        size: r.get::<_, i64>(3)? as u64,
        sha256: r.get(4)?,
        author: r.get(5)?,
        on_behalf_of: r.get(6)?,
        created_at: r.get(7)?,
    })
}

impl Embedded<'_> {
    /// The live attachments of an issue, oldest first.
    pub(super) fn attachments_of(&self, issue_id: i64) -> TResult<Vec<AttachmentInfo>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {COLUMNS} FROM t_attachment WHERE issue_id = ?1 AND deleted = 0 ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([issue_id], info)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn attachment_id(&self, issue_id: i64, id: &str) -> TResult<Option<i64>> {
        let Ok(n) = id.parse::<i64>() else {
            return Ok(None);
        };
        Ok(self
            .conn()
            .query_row(
                "SELECT id FROM t_attachment WHERE id = ?1 AND issue_id = ?2 AND deleted = 0",
                params![n, issue_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub(super) fn copy_attachment_to(
        &self,
        key: &str,
        id: &str,
        out: &mut dyn Write,
    ) -> TResult<Option<AttachmentInfo>> {
        let (issue_id, _) = self.issue_row(key)?;
        let Some(n) = self.attachment_id(issue_id, id)? else {
            return Ok(None);
        };
        let info = self.conn().query_row(&format!("SELECT {COLUMNS} FROM t_attachment WHERE id = ?1"), [n], info)?;
        let mut stmt =
            self.conn().prepare_cached("SELECT data FROM t_attachment_piece WHERE attachment_id = ?1 ORDER BY idx")?;
        let mut rows = stmt.query([n])?;
        while let Some(row) = rows.next()? {
            let piece = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
            out.write_all(piece).map_err(|e| anyhow::anyhow!("cannot write attachment {id} of {key}: {e}"))?;
        }
        Ok(Some(info))
    }

    pub(super) fn insert_attachment(
        &self,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        check_filename(file.filename)?;
        let size = file.size();
        if size > MAX_ATTACHMENT_BYTES {
            return Err(Refusal::Invalid(format!(
                "attachment {} is {size} bytes; the embedded tracker takes at most {MAX_ATTACHMENT_BYTES}",
                file.filename,
            ))
            .into());
        }
        let (issue_id, project) = self.issue_row(key)?;
        let now = now_ms();
        let on_behalf_of = origin.map(|o| o.author);
        self.conn().execute(
            "INSERT INTO t_attachment (issue_id, filename, media_type, data, size, sha256, author, on_behalf_of, created_at)
             VALUES (?1, ?2, ?3, x'', 0, '', ?4, ?5, ?6)",
            params![issue_id, file.filename, file.media_type, actor.user, on_behalf_of, origin.map_or(now, |o| o.created_at)],
        )?;
        let n = self.conn().last_insert_rowid();
        let (written, sha256) = self.write_pieces(n, &file)?;
        if written != size {
            return Err(anyhow::anyhow!(
                "attachment {} changed while it was stored: {written} bytes, not {size}",
                file.filename
            )
            .into());
        }
        self.conn()
            .execute("UPDATE t_attachment SET size = ?2, sha256 = ?3 WHERE id = ?1", params![n, size as i64, sha256])?;
        let id = n.to_string();
        self.conn().execute("UPDATE t_issue SET updated_at = ?2 WHERE id = ?1", params![issue_id, now])?;
        let kind = ChangeKind::AttachmentAdded { attachment: id.clone(), filename: file.filename.into(), size };
        self.log(&project, key, actor, &kind)?;
        Ok(id)
    }

    /// Stores the content in pieces; returns its size and SHA-256.
    fn write_pieces(&self, attachment: i64, file: &NewAttachment<'_>) -> TResult<(u64, String)> {
        let mut reader = file.reader().map_err(|e| anyhow::anyhow!("cannot read attachment {}: {e}", file.filename))?;
        let mut insert = self
            .conn()
            .prepare_cached("INSERT INTO t_attachment_piece (attachment_id, idx, data) VALUES (?1, ?2, ?3)")?;
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; PIECE];
        let (mut total, mut idx) = (0u64, 0i64);
        loop {
            let mut filled = 0;
            while filled < PIECE {
                match reader.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(k) => filled += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(anyhow::anyhow!("cannot read attachment {}: {e}", file.filename).into()),
                }
            }
            if filled == 0 {
                break;
            }
            hash.update(&buf[..filled]);
            insert.execute(params![attachment, idx, &buf[..filled]])?;
            total += filled as u64;
            idx += 1;
            if filled < PIECE {
                break;
            }
        }
        Ok((total, hex::encode(hash.finalize())))
    }

    pub(super) fn remove_attachment(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        let (issue_id, project) = self.issue_row(key)?;
        let n = self
            .attachment_id(issue_id, id)?
            .ok_or_else(|| Refusal::Invalid(format!("attachment {id} does not exist on issue {key}")))?;
        // The content goes; the row stays so ids are never reused.
        self.conn().execute("UPDATE t_attachment SET deleted = 1, data = x'' WHERE id = ?1", [n])?;
        self.conn().execute("DELETE FROM t_attachment_piece WHERE attachment_id = ?1", [n])?;
        self.conn().execute("UPDATE t_issue SET updated_at = ?2 WHERE id = ?1", params![issue_id, now_ms()])?;
        self.log(&project, key, actor, &ChangeKind::AttachmentDeleted { attachment: id.into() })
    }
}
