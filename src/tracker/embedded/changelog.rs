//! The embedded tracker's change log `t_change`: what the engine reads
//! after a cursor, when fields and comments last changed here, and which
//! projects changed (so the daemon wakes only their syncs).

use rusqlite::params;

use super::Embedded;
use crate::tracker::{ChangeRecord, TResult};

impl Embedded<'_> {
    /// Change-log rows of `project` after id `after`, oldest first.
    pub(super) fn read_log(&self, project: &str, after: i64, limit: usize) -> TResult<Vec<ChangeRecord>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, issue_key, at, actor, origin, via, data FROM t_change
             WHERE project = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?;
        type Row = (i64, String, i64, String, Option<String>, Option<String>, String);
        let rows = stmt
            .query_map(params![project, after, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
            })?
            .collect::<rusqlite::Result<Vec<Row>>>()?;
        rows.into_iter()
            .map(|(id, issue_key, at, actor, origin, via, data)| {
                let via = via.map(|v| v.split_whitespace().map(str::to_string).collect()).unwrap_or_default();
                let kind = serde_json::from_str(&data)?;
                Ok(ChangeRecord { cursor: id.to_string(), issue_key, at, actor, origin, via, kind })
            })
            .collect()
    }

    /// When `field` of `key` was last set by anyone but sync `sync`.
    pub(super) fn field_time(&self, key: &str, field: &str, sync: &str) -> TResult<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT MAX(at) FROM t_change
             WHERE issue_key = ?1 AND (origin IS NULL OR origin != ?2)
               AND (kind = 'issue_created'
                    OR (kind = 'issue_updated' AND json_extract(data, '$.fields.' || ?3) IS NOT NULL))",
            params![key, sync, if field == "type" { "issue_type" } else { field }],
            |r| r.get(0),
        )?)
    }

    /// When comment `comment` of `key` was last edited by anyone but `sync`.
    pub(super) fn comment_time(&self, key: &str, comment: &str, sync: &str) -> TResult<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT MAX(at) FROM t_change
             WHERE issue_key = ?1 AND (origin IS NULL OR origin != ?2)
               AND kind = 'comment_edited' AND json_extract(data, '$.comment') = ?3",
            params![key, sync, comment],
            |r| r.get(0),
        )?)
    }

    /// When worklog `id` of `key` was last logged or changed by anyone but
    /// `sync`.
    pub(super) fn worklog_time(&self, key: &str, id: &str, sync: &str) -> TResult<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT MAX(at) FROM t_change
             WHERE issue_key = ?1 AND (origin IS NULL OR origin != ?2)
               AND kind IN ('worklog_added', 'worklog_edited') AND json_extract(data, '$.worklog.id') = ?3",
            params![key, sync, id],
            |r| r.get(0),
        )?)
    }

    /// Projects with change-log rows after `after`, each with its highest
    /// id (so a daemon wakes only the syncs of changed projects).
    pub fn changed_projects(&self, after: i64) -> anyhow::Result<Vec<(String, i64)>> {
        let mut stmt =
            self.conn().prepare_cached("SELECT project, MAX(id) FROM t_change WHERE id > ?1 GROUP BY project")?;
        let rows = stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Highest change-log id.
    pub fn last_change(&self) -> anyhow::Result<i64> {
        Ok(self.conn().query_row("SELECT COALESCE(MAX(id), 0) FROM t_change", [], |r| r.get(0))?)
    }
}
