//! Attachments of the embedded tracker: files kept whole in `t_attachment`,
//! with a SHA-256 so both sides can show they hold the same bytes.

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};

use super::{Actor, Attachment, AttachmentInfo, ChangeKind, CommentOrigin, Embedded, NewAttachment, Refusal, TResult};
use crate::store::now_ms;

/// The largest file the embedded tracker takes.
pub const MAX_ATTACHMENT_BYTES: usize = 100 * 1024 * 1024;

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

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A file name safe to show and to write into a folder: no path, no
/// control characters, not empty.
fn check_filename(name: &str) -> TResult<()> {
    let bad = name.is_empty()
        || name.len() > 255
        || name == "."
        || name == ".."
        || name.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        return Err(Refusal::Invalid(format!(
            "attachment name {name:?} is not a plain file name (no folders, no control characters, 1-255 bytes)"
        ))
        .into());
    }
    Ok(())
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

    pub(super) fn get_attachment(&self, key: &str, id: &str) -> TResult<Option<Attachment>> {
        let (issue_id, _) = self.issue_row(key)?;
        let Some(n) = self.attachment_id(issue_id, id)? else {
            return Ok(None);
        };
        Ok(self
            .conn()
            .query_row(&format!("SELECT {COLUMNS}, data FROM t_attachment WHERE id = ?1"), [n], |r| {
                Ok(Attachment { info: info(r)?, data: r.get(8)? })
            })
            .optional()?)
    }

    pub(super) fn insert_attachment(
        &self,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        check_filename(file.filename)?;
        if file.data.len() > MAX_ATTACHMENT_BYTES {
            return Err(Refusal::Invalid(format!(
                "attachment {} is {} bytes; the embedded tracker takes at most {MAX_ATTACHMENT_BYTES}",
                file.filename,
                file.data.len()
            ))
            .into());
        }
        let (issue_id, project) = self.issue_row(key)?;
        let now = now_ms();
        let on_behalf_of = origin.map(|o| o.author);
        self.conn().execute(
            "INSERT INTO t_attachment (issue_id, filename, media_type, data, size, sha256, author, on_behalf_of, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                issue_id,
                file.filename,
                file.media_type,
                file.data,
                file.data.len() as i64,
                sha256_hex(file.data),
                actor.user,
                on_behalf_of,
                origin.map_or(now, |o| o.created_at)
            ],
        )?;
        let id = self.conn().last_insert_rowid().to_string();
        self.conn().execute("UPDATE t_issue SET updated_at = ?2 WHERE id = ?1", params![issue_id, now])?;
        let kind = ChangeKind::AttachmentAdded {
            attachment: id.clone(),
            filename: file.filename.into(),
            size: file.data.len() as u64,
        };
        self.log(&project, key, actor, &kind)?;
        Ok(id)
    }

    pub(super) fn remove_attachment(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        let (issue_id, project) = self.issue_row(key)?;
        let n = self
            .attachment_id(issue_id, id)?
            .ok_or_else(|| Refusal::Invalid(format!("attachment {id} does not exist on issue {key}")))?;
        // The content goes; the row stays so ids are never reused.
        self.conn().execute("UPDATE t_attachment SET deleted = 1, data = x'' WHERE id = ?1", [n])?;
        self.conn().execute("UPDATE t_issue SET updated_at = ?2 WHERE id = ?1", params![issue_id, now_ms()])?;
        self.log(&project, key, actor, &ChangeKind::AttachmentDeleted { attachment: id.into() })
    }
}
