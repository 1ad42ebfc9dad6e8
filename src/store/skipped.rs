//! Attachments over a sync's limit, which did not cross: ours not sent
//! (`out`), the partner's not received (`in`). They block nothing; `status`
//! and `errors list` show them until the attachment crosses after all (the
//! limit raised, the issue's attachments resynced) or is deleted.

use anyhow::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

/// One attachment that did not cross.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// `out`: ours, not sent; `in`: the partner's, not received.
    pub direction: String,
    /// Our issue (out) or the partner's (in).
    pub issue: String,
    /// Its id on the side it belongs to.
    pub attachment: String,
    pub filename: String,
    pub size: u64,
    /// What happened and what the admin can do.
    pub reason: String,
    pub at: i64,
}

/// Records (or refreshes) an attachment that did not cross.
pub fn record(conn: &Connection, sync_id: &str, s: &Skipped) -> Result<()> {
    conn.execute(
        "INSERT INTO attachment_skipped (sync_id, direction, issue, attachment, filename, size, reason, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (sync_id, direction, attachment) DO UPDATE SET issue = excluded.issue,
             filename = excluded.filename, size = excluded.size, reason = excluded.reason, at = excluded.at",
        params![sync_id, s.direction, s.issue, s.attachment, s.filename, s.size as i64, s.reason, s.at],
    )?;
    Ok(())
}

/// The attachment crossed after all, or is gone: `true` when it was listed.
pub fn clear(conn: &Connection, sync_id: &str, direction: &str, attachment: &str) -> Result<bool> {
    let n = conn.execute(
        "DELETE FROM attachment_skipped WHERE sync_id = ?1 AND direction = ?2 AND attachment = ?3",
        params![sync_id, direction, attachment],
    )?;
    Ok(n > 0)
}

/// The attachments of sync `sync_id` that did not cross, oldest first.
pub fn list(conn: &Connection, sync_id: &str) -> Result<Vec<Skipped>> {
    let mut stmt = conn.prepare_cached(
        "SELECT direction, issue, attachment, filename, size, reason, at FROM attachment_skipped
         WHERE sync_id = ?1 ORDER BY at, issue",
    )?;
    let rows = stmt
        .query_map([sync_id], |r| {
            Ok(Skipped {
                direction: r.get(0)?,
                issue: r.get(1)?,
                attachment: r.get(2)?,
                filename: r.get(3)?,
                size: r.get::<_, i64>(4)? as u64,
                reason: r.get(5)?,
                at: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_until_cleared_once_per_attachment() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("p.db")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        let mut s = Skipped {
            direction: "out".into(),
            issue: "P-1".into(),
            attachment: "7".into(),
            filename: "core.bin".into(),
            size: 3 << 30,
            reason: "over the limit".into(),
            at: 1,
        };
        record(&conn, "s", &s).unwrap();
        s.at = 2;
        record(&conn, "s", &s).unwrap();
        assert_eq!(list(&conn, "s").unwrap(), vec![s]);
        assert!(!clear(&conn, "s", "in", "7").unwrap(), "the other direction is another attachment");
        assert!(clear(&conn, "s", "out", "7").unwrap());
        assert!(list(&conn, "s").unwrap().is_empty());
    }
}
