//! Paired issues and comments: what Backbone's "Download synchronized
//! issues" export shows (seed 002's `firstConnector` record).

use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// One paired issue, serialized in the `firstConnector` shape.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub id: i64,
    pub local_issue_key: String,
    pub remote_issue_key: Option<String>,
    pub first_sync_date: i64,
    pub last_outgoing_change: Option<i64>,
    pub last_change_seen: Option<i64>,
    pub outgoing_message_sequence_id: Option<u64>,
    pub last_incoming_change: Option<i64>,
    pub incoming_message_sequence_id: Option<u64>,
    pub comments: Vec<CommentPair>,
    pub incoming_changes_ignored: bool,
    /// Edits up to this time count as known to the partner (pairs made
    /// from records).
    #[serde(skip)]
    pub known_until: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CommentPair {
    pub remote_id: String,
    pub local_id: String,
}

const COLUMNS: &str = "id, local_key, remote_key, first_sync, last_outgoing_change, last_change_seen, \
                       out_seq, last_incoming_change, in_seq, ignored, known_until";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Link> {
    Ok(Link {
        id: r.get(0)?,
        local_issue_key: r.get(1)?,
        remote_issue_key: r.get(2)?,
        first_sync_date: r.get(3)?,
        last_outgoing_change: r.get(4)?,
        last_change_seen: r.get(5)?,
        outgoing_message_sequence_id: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
        last_incoming_change: r.get(7)?,
        incoming_message_sequence_id: r.get::<_, Option<i64>>(8)?.map(|v| v as u64),
        comments: Vec::new(),
        incoming_changes_ignored: r.get(9)?,
        known_until: r.get(10)?,
    })
}

pub fn by_local(conn: &Connection, sync_id: &str, local_key: &str) -> Result<Option<Link>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM link WHERE sync_id = ?1 AND local_key = ?2"),
            params![sync_id, local_key],
            from_row,
        )
        .optional()?)
}

/// Whether any sync of this home on project `project` pairs issue
/// `local_key` (one made by the sync user for another sync of a hub).
pub fn paired_in_project(conn: &Connection, project: &str, local_key: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM link JOIN sync ON sync.id = link.sync_id
             WHERE link.local_key = ?2 AND sync.project = ?1)",
        params![project, local_key],
        |r| r.get(0),
    )?)
}

pub fn by_remote(conn: &Connection, sync_id: &str, remote_key: &str) -> Result<Option<Link>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM link WHERE sync_id = ?1 AND remote_key = ?2"),
            params![sync_id, remote_key],
            from_row,
        )
        .optional()?)
}

pub fn insert(conn: &Connection, sync_id: &str, local_key: &str, remote_key: Option<&str>, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO link (sync_id, local_key, remote_key, first_sync) VALUES (?1, ?2, ?3, ?4)",
        params![sync_id, local_key, remote_key, now],
    )?;
    Ok(())
}

/// A pairing restored from a synchronized-issue record, with its history
/// (times and the sequence numbers of the sync it was exported from).
pub struct Restored<'a> {
    pub local_key: &'a str,
    pub remote_key: &'a str,
    pub first_sync: i64,
    pub last_outgoing_change: Option<i64>,
    pub last_change_seen: Option<i64>,
    pub out_seq: Option<u64>,
    pub last_incoming_change: Option<i64>,
    pub in_seq: Option<u64>,
    pub ignored: bool,
    pub known_until: i64,
}

pub fn insert_restored(conn: &Connection, sync_id: &str, r: &Restored<'_>) -> Result<()> {
    conn.execute(
        "INSERT INTO link (sync_id, local_key, remote_key, first_sync, last_outgoing_change, last_change_seen,
                           out_seq, last_incoming_change, in_seq, ignored, known_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            sync_id,
            r.local_key,
            r.remote_key,
            r.first_sync,
            r.last_outgoing_change,
            r.last_change_seen,
            r.out_seq.map(|v| v as i64),
            r.last_incoming_change,
            r.in_seq.map(|v| v as i64),
            r.ignored,
            r.known_until
        ],
    )?;
    Ok(())
}

/// The attachment pairs (partner's id, local id) of one paired issue.
pub fn attachment_pairs(conn: &Connection, sync_id: &str, local_key: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT remote_id, local_id FROM attachment_link WHERE sync_id = ?1 AND local_key = ?2 ORDER BY rowid",
    )?;
    let rows = stmt.query_map(params![sync_id, local_key], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub fn set_remote(conn: &Connection, sync_id: &str, local_key: &str, remote_key: &str) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE link SET remote_key = ?3 WHERE sync_id = ?1 AND local_key = ?2",
        params![sync_id, local_key, remote_key],
    )?)
}

/// A local change of this issue went out in message `seq`.
pub fn touch_outgoing(
    conn: &Connection,
    sync_id: &str,
    local_key: &str,
    seq: u64,
    changed_at: i64,
    now: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE link SET out_seq = ?3, last_change_seen = ?4, last_outgoing_change = ?5
         WHERE sync_id = ?1 AND local_key = ?2",
        params![sync_id, local_key, seq as i64, changed_at, now],
    )?;
    Ok(())
}

/// A partner's change to this issue was applied from message `seq`.
pub fn touch_incoming(conn: &Connection, sync_id: &str, local_key: &str, seq: u64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE link SET in_seq = ?3, last_incoming_change = ?4 WHERE sync_id = ?1 AND local_key = ?2",
        params![sync_id, local_key, seq as i64, now],
    )?;
    Ok(())
}

/// Ignores the partner's changes to a paired issue from now on, or takes
/// them again (`incomingChangesIgnored`). `issue`: the local or the
/// partner's key. Returns the link, `None` if the issue is not paired.
pub fn set_ignored(conn: &Connection, sync_id: &str, issue: &str, ignored: bool) -> Result<Option<Link>> {
    let link = match by_local(conn, sync_id, issue)? {
        Some(l) => Some(l),
        None => by_remote(conn, sync_id, issue)?,
    };
    if let Some(l) = &link {
        conn.execute("UPDATE link SET ignored = ?2 WHERE id = ?1", params![l.id, ignored])?;
    }
    Ok(link)
}

pub fn pair_comment(conn: &Connection, sync_id: &str, local_key: &str, local_id: &str, remote_id: &str) -> Result<()> {
    pair_item(conn, "comment_link", sync_id, local_key, local_id, remote_id)
}

/// Local comment id, on local issue `local_key`, for the partner's
/// comment id (pairs are per issue: a tracker may give a deleted
/// comment's id to a new one on another issue).
pub fn local_comment(conn: &Connection, sync_id: &str, local_key: &str, remote_id: &str) -> Result<Option<String>> {
    local_item(conn, "comment_link", sync_id, local_key, remote_id)
}

pub fn pair_attachment(
    conn: &Connection,
    sync_id: &str,
    local_key: &str,
    local_id: &str,
    remote_id: &str,
) -> Result<()> {
    pair_item(conn, "attachment_link", sync_id, local_key, local_id, remote_id)
}

/// Local attachment id, on local issue `local_key`, for the partner's
/// attachment id (pairs are per issue, as comments').
pub fn local_attachment(conn: &Connection, sync_id: &str, local_key: &str, remote_id: &str) -> Result<Option<String>> {
    local_item(conn, "attachment_link", sync_id, local_key, remote_id)
}

pub fn pair_worklog(conn: &Connection, sync_id: &str, local_key: &str, local_id: &str, remote_id: &str) -> Result<()> {
    pair_item(conn, "worklog_link", sync_id, local_key, local_id, remote_id)
}

/// Local worklog id, on local issue `local_key`, for the partner's
/// worklog id (pairs are per issue, as comments').
pub fn local_worklog(conn: &Connection, sync_id: &str, local_key: &str, remote_id: &str) -> Result<Option<String>> {
    local_item(conn, "worklog_link", sync_id, local_key, remote_id)
}

/// The partner's id of our worklog `local_id` on local issue `local_key`.
pub fn remote_worklog(conn: &Connection, sync_id: &str, local_key: &str, local_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT remote_id FROM worklog_link WHERE sync_id = ?1 AND local_key = ?2 AND local_id = ?3")?
        .query_row(params![sync_id, local_key, local_id], |r| r.get(0))
        .optional()?)
}

/// Forgets a deleted worklog's pair on local issue `local_key`, by our id
/// or the partner's (a tracker may give a new worklog the id of a deleted
/// one).
pub fn unpair_worklog(
    conn: &Connection,
    sync_id: &str,
    local_key: &str,
    local_id: Option<&str>,
    remote_id: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM worklog_link WHERE sync_id = ?1 AND local_key = ?2 AND (local_id = ?3 OR remote_id = ?4)",
    )?
    .execute(params![sync_id, local_key, local_id, remote_id])?;
    Ok(())
}

fn pair_item(conn: &Connection, table: &str, sync_id: &str, key: &str, local_id: &str, remote_id: &str) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO {table} (sync_id, local_key, local_id, remote_id) VALUES (?1, ?2, ?3, ?4)"
    ))?
    .execute(params![sync_id, key, local_id, remote_id])?;
    Ok(())
}

fn local_item(conn: &Connection, table: &str, sync_id: &str, key: &str, remote_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT local_id FROM {table} WHERE sync_id = ?1 AND local_key = ?2 AND remote_id = ?3"
        ))?
        .query_row(params![sync_id, key, remote_id], |r| r.get(0))
        .optional()?)
}

/// Every pair of a sync, without its comment pairs.
pub fn all_bare(conn: &Connection, sync_id: &str) -> Result<Vec<Link>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM link WHERE sync_id = ?1 ORDER BY id"))?;
    let links = stmt.query_map([sync_id], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(links)
}

/// All links of a sync with their comment pairs.
pub fn all(conn: &Connection, sync_id: &str) -> Result<Vec<Link>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM link WHERE sync_id = ?1 ORDER BY id"))?;
    let mut links = stmt.query_map([sync_id], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    let mut cstmt = conn
        .prepare("SELECT remote_id, local_id FROM comment_link WHERE sync_id = ?1 AND local_key = ?2 ORDER BY rowid")?;
    for l in &mut links {
        l.comments = cstmt
            .query_map(params![sync_id, l.local_issue_key], |r| {
                Ok(CommentPair { remote_id: r.get(0)?, local_id: r.get(1)? })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
    }
    Ok(links)
}

/// One page of a sync's pairs (without comment pairs), newest pairing
/// first, those whose local or partner key contains `search` (any case):
/// (how many match in all, the page).
pub fn page(conn: &Connection, sync_id: &str, search: &str, offset: usize, limit: usize) -> Result<(u64, Vec<Link>)> {
    let pattern = format!("%{}%", search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let filter = "sync_id = ?1 AND (local_key LIKE ?2 ESCAPE '\\' OR COALESCE(remote_key, '') LIKE ?2 ESCAPE '\\')";
    let total: i64 =
        conn.query_row(&format!("SELECT COUNT(*) FROM link WHERE {filter}"), params![sync_id, pattern], |r| r.get(0))?;
    let mut stmt =
        conn.prepare(&format!("SELECT {COLUMNS} FROM link WHERE {filter} ORDER BY id DESC LIMIT ?3 OFFSET ?4"))?;
    let rows = stmt
        .query_map(params![sync_id, pattern, limit as i64, offset as i64], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((total as u64, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_id_given_again_on_another_issue_keeps_both_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("postern.db")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        // Comment 50 on A (the partner's V) was deleted behind postern's
        // back; the tracker gave 50 to the copy of W on B.
        pair_comment(&conn, "s", "A", "50", "V").unwrap();
        pair_comment(&conn, "s", "B", "50", "W").unwrap();
        assert_eq!(local_comment(&conn, "s", "A", "V").unwrap().as_deref(), Some("50"));
        assert_eq!(local_comment(&conn, "s", "B", "W").unwrap().as_deref(), Some("50"));
        assert_eq!(local_comment(&conn, "s", "B", "V").unwrap(), None, "V is A's, not B's");
        // Within one issue a pair is still replaced.
        pair_comment(&conn, "s", "A", "51", "V").unwrap();
        assert_eq!(local_comment(&conn, "s", "A", "V").unwrap().as_deref(), Some("51"));
    }

    #[test]
    fn the_comment_pairs_of_an_older_database_are_kept_by_the_migration() {
        let conn = Connection::open_in_memory().unwrap();
        for sql in &crate::store::MIGRATIONS[..14] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 14).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        conn.execute("INSERT INTO comment_link VALUES ('s', 'A', '50', 'V')", []).unwrap();
        crate::store::migrate(&conn).unwrap();
        assert_eq!(local_comment(&conn, "s", "A", "V").unwrap().as_deref(), Some("50"));
        pair_comment(&conn, "s", "B", "50", "W").unwrap();
        assert_eq!(local_comment(&conn, "s", "A", "V").unwrap().as_deref(), Some("50"), "kept after reuse");
    }

    #[test]
    fn attachment_and_worklog_ids_given_again_on_another_issue_keep_both_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("postern.db")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        // Time entry 7 on A (the partner's V) was deleted behind postern's
        // back and its id given to the copy of W on B; the same for
        // attachment 9.
        pair_worklog(&conn, "s", "A", "7", "V").unwrap();
        pair_worklog(&conn, "s", "B", "7", "W").unwrap();
        assert_eq!(local_worklog(&conn, "s", "A", "V").unwrap().as_deref(), Some("7"));
        assert_eq!(local_worklog(&conn, "s", "B", "W").unwrap().as_deref(), Some("7"));
        assert_eq!(remote_worklog(&conn, "s", "A", "7").unwrap().as_deref(), Some("V"));
        assert_eq!(remote_worklog(&conn, "s", "B", "7").unwrap().as_deref(), Some("W"));
        // The deletion on A forgets A's pair only.
        unpair_worklog(&conn, "s", "A", Some("7"), None).unwrap();
        assert_eq!(remote_worklog(&conn, "s", "A", "7").unwrap(), None);
        assert_eq!(remote_worklog(&conn, "s", "B", "7").unwrap().as_deref(), Some("W"));
        pair_attachment(&conn, "s", "A", "9", "X").unwrap();
        pair_attachment(&conn, "s", "B", "9", "Y").unwrap();
        assert_eq!(local_attachment(&conn, "s", "A", "X").unwrap().as_deref(), Some("9"));
        assert_eq!(local_attachment(&conn, "s", "B", "Y").unwrap().as_deref(), Some("9"));
        assert_eq!(local_attachment(&conn, "s", "B", "X").unwrap(), None, "X is A's, not B's");
    }

    #[test]
    fn the_attachment_and_worklog_pairs_of_an_older_database_are_kept_by_the_migration() {
        let conn = Connection::open_in_memory().unwrap();
        for sql in &crate::store::MIGRATIONS[..15] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 15).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        conn.execute("INSERT INTO attachment_link VALUES ('s', 'A', '9', 'X')", []).unwrap();
        conn.execute("INSERT INTO worklog_link VALUES ('s', 'A', '7', 'V')", []).unwrap();
        crate::store::migrate(&conn).unwrap();
        pair_attachment(&conn, "s", "B", "9", "Y").unwrap();
        pair_worklog(&conn, "s", "B", "7", "W").unwrap();
        assert_eq!(local_attachment(&conn, "s", "A", "X").unwrap().as_deref(), Some("9"), "kept after reuse");
        assert_eq!(local_worklog(&conn, "s", "A", "V").unwrap().as_deref(), Some("7"), "kept after reuse");
    }
}
