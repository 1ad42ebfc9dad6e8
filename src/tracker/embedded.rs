//! The embedded SQLite tracker postern ships, so two peers can run with
//! nothing else installed. Tables `t_project`, `t_issue`, `t_comment` and
//! the change log `t_change` live in the home's database.

use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension};

use super::{
    Actor, Attachment, ChangeKind, ChangeRecord, Comment, CommentOrigin, Issue, NewAttachment, Tracker, TrackerError,
};
use crate::protocol::{FieldChanges, IssueFields};
use crate::store::now_ms;

pub const DEFAULT_STATUS: &str = "Open";
pub const DEFAULT_PRIORITY: &str = "Medium";

#[derive(Debug, Clone, Copy, Default)]
pub struct Embedded;

/// A project of the embedded tracker.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Project {
    pub key: String,
    pub name: String,
    /// Allowed statuses; `None` allows any.
    pub statuses: Option<Vec<String>>,
    pub issues: u64,
}

impl Embedded {
    pub fn create_project(&self, conn: &Connection, key: &str, name: &str, statuses: Option<&[String]>) -> Result<()> {
        let valid = !key.is_empty()
            && key.len() <= 20
            && key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !valid {
            anyhow::bail!(
                "project key '{key}' is invalid: use 1-20 upper-case letters and digits, starting with a letter"
            );
        }
        if self.project(conn, key)?.is_some() {
            anyhow::bail!("project {key} already exists");
        }
        let statuses = statuses.map(|s| serde_json::to_string(s).expect("json"));
        conn.execute("INSERT INTO t_project (key, name, statuses) VALUES (?1, ?2, ?3)", params![key, name, statuses])?;
        Ok(())
    }

    /// Replaces the allowed statuses (`None`: any).
    pub fn set_statuses(&self, conn: &Connection, key: &str, statuses: Option<&[String]>) -> Result<()> {
        let statuses = statuses.map(|s| serde_json::to_string(s).expect("json"));
        if conn.execute("UPDATE t_project SET statuses = ?2 WHERE key = ?1", params![key, statuses])? == 0 {
            anyhow::bail!("project {key} does not exist");
        }
        Ok(())
    }

    pub fn project(&self, conn: &Connection, key: &str) -> Result<Option<Project>> {
        Ok(conn
            .query_row(
                "SELECT key, name, statuses, (SELECT COUNT(*) FROM t_issue WHERE project = p.key)
                 FROM t_project p WHERE key = ?1",
                [key],
                |r| {
                    let statuses: Option<String> = r.get(2)?;
                    Ok(Project {
                        key: r.get(0)?,
                        name: r.get(1)?,
                        statuses: statuses.and_then(|s| serde_json::from_str(&s).ok()),
                        issues: r.get::<_, i64>(3)? as u64,
                    })
                },
            )
            .optional()?)
    }

    pub fn projects(&self, conn: &Connection) -> Result<Vec<Project>> {
        let keys: Vec<String> = conn
            .prepare("SELECT key FROM t_project ORDER BY key")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        keys.iter().filter_map(|k| self.project(conn, k).transpose()).collect()
    }

    /// Keys of a project's issues, in creation order.
    pub fn issue_keys(&self, conn: &Connection, project: &str) -> Result<Vec<String>> {
        Ok(conn
            .prepare("SELECT key FROM t_issue WHERE project = ?1 ORDER BY id")?
            .query_map([project], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn check_status(&self, conn: &Connection, project: &str, status: &str) -> Result<()> {
        let statuses: Option<Option<String>> = conn
            .prepare_cached("SELECT statuses FROM t_project WHERE key = ?1")?
            .query_row([project], |r| r.get(0))
            .optional()?;
        let statuses = statuses.ok_or_else(|| TrackerError::NoProject(project.into()))?;
        if let Some(allowed) = statuses.and_then(|s| serde_json::from_str::<Vec<String>>(&s).ok()) {
            if !allowed.iter().any(|s| s == status) {
                return Err(TrackerError::StatusNotAllowed {
                    project: project.into(),
                    status: status.into(),
                    allowed: allowed.join(", "),
                }
                .into());
            }
        }
        Ok(())
    }

    pub(super) fn issue_row(&self, conn: &Connection, key: &str) -> Result<(i64, String)> {
        conn.query_row("SELECT id, project FROM t_issue WHERE key = ?1", [key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| TrackerError::NoIssue(key.into()).into())
    }

    fn comment_of(&self, conn: &Connection, issue_id: i64, key: &str, comment: &str) -> Result<i64> {
        let id: i64 =
            comment.parse().map_err(|_| TrackerError::NoComment { issue: key.into(), comment: comment.into() })?;
        conn.query_row(
            "SELECT id FROM t_comment WHERE id = ?1 AND issue_id = ?2 AND deleted = 0",
            params![id, issue_id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| TrackerError::NoComment { issue: key.into(), comment: comment.into() }.into())
    }

    pub(super) fn log(
        &self,
        conn: &Connection,
        project: &str,
        key: &str,
        actor: Actor<'_>,
        kind: &ChangeKind,
    ) -> Result<()> {
        conn.execute(
            "INSERT INTO t_change (project, issue_key, at, actor, origin, via, kind, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                project,
                key,
                now_ms(),
                actor.user,
                actor.origin,
                actor.via,
                kind_name(kind),
                serde_json::to_string(kind)?
            ],
        )?;
        Ok(())
    }
}

fn kind_name(kind: &ChangeKind) -> &'static str {
    match kind {
        ChangeKind::IssueCreated => "issue_created",
        ChangeKind::IssueUpdated { .. } => "issue_updated",
        ChangeKind::CommentAdded { .. } => "comment_added",
        ChangeKind::CommentEdited { .. } => "comment_edited",
        ChangeKind::CommentDeleted { .. } => "comment_deleted",
        ChangeKind::AttachmentAdded { .. } => "attachment_added",
        ChangeKind::AttachmentDeleted { .. } => "attachment_deleted",
    }
}

fn check_summary(summary: &str) -> Result<()> {
    if summary.trim().is_empty() {
        return Err(TrackerError::Invalid("summary must not be empty".into()).into());
    }
    Ok(())
}

impl Tracker for Embedded {
    fn changes_since(&self, conn: &Connection, project: &str, cursor: i64, limit: usize) -> Result<Vec<ChangeRecord>> {
        let mut stmt = conn.prepare_cached(
            "SELECT id, issue_key, at, actor, origin, via, data FROM t_change
             WHERE project = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
        )?;
        type Row = (i64, String, i64, String, Option<String>, Option<String>, String);
        let rows = stmt
            .query_map(params![project, cursor, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
            })?
            .collect::<rusqlite::Result<Vec<Row>>>()?;
        rows.into_iter()
            .map(|(id, issue_key, at, actor, origin, via, data)| {
                let via = via.map(|v| v.split_whitespace().map(str::to_string).collect()).unwrap_or_default();
                Ok(ChangeRecord { id, issue_key, at, actor, origin, via, kind: serde_json::from_str(&data)? })
            })
            .collect()
    }

    fn local_field_time(&self, conn: &Connection, key: &str, field: &str, partner: &str) -> Result<Option<i64>> {
        Ok(conn.query_row(
            "SELECT MAX(at) FROM t_change
             WHERE issue_key = ?1 AND (origin IS NULL OR origin != ?2)
               AND (kind = 'issue_created'
                    OR (kind = 'issue_updated' AND json_extract(data, '$.fields.' || ?3) IS NOT NULL))",
            params![key, partner, field],
            |r| r.get(0),
        )?)
    }

    fn local_comment_time(&self, conn: &Connection, key: &str, comment: &str, partner: &str) -> Result<Option<i64>> {
        Ok(conn.query_row(
            "SELECT MAX(at) FROM t_change
             WHERE issue_key = ?1 AND (origin IS NULL OR origin != ?2)
               AND kind = 'comment_edited' AND json_extract(data, '$.comment') = ?3",
            params![key, partner, comment],
            |r| r.get(0),
        )?)
    }

    fn changed_projects(&self, conn: &Connection, after: i64) -> Result<Vec<(String, i64)>> {
        let mut stmt = conn.prepare_cached("SELECT project, MAX(id) FROM t_change WHERE id > ?1 GROUP BY project")?;
        let rows = stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    fn last_change(&self, conn: &Connection) -> Result<i64> {
        Ok(conn.query_row("SELECT COALESCE(MAX(id), 0) FROM t_change", [], |r| r.get(0))?)
    }

    fn issue(&self, conn: &Connection, key: &str) -> Result<Option<Issue>> {
        let row = conn
            .query_row(
                "SELECT id, project, summary, description, status, priority, labels, assignee, created_at, updated_at
                 FROM t_issue WHERE key = ?1",
                [key],
                |r| {
                    let labels: String = r.get(6)?;
                    Ok((
                        r.get::<_, i64>(0)?,
                        Issue {
                            key: key.to_string(),
                            project: r.get(1)?,
                            fields: IssueFields {
                                summary: r.get(2)?,
                                description: r.get(3)?,
                                status: r.get(4)?,
                                priority: r.get(5)?,
                                labels: serde_json::from_str(&labels).unwrap_or_default(),
                                assignee: r.get(7)?,
                            },
                            created_at: r.get(8)?,
                            updated_at: r.get(9)?,
                            comments: Vec::new(),
                            attachments: Vec::new(),
                        },
                    ))
                },
            )
            .optional()?;
        let Some((id, mut issue)) = row else {
            return Ok(None);
        };
        let mut stmt = conn.prepare_cached(
            "SELECT id, author, on_behalf_of, body, created_at, updated_at FROM t_comment
             WHERE issue_id = ?1 AND deleted = 0 ORDER BY created_at, id",
        )?;
        issue.comments = stmt
            .query_map([id], |r| {
                Ok(Comment {
                    id: r.get::<_, i64>(0)?.to_string(),
                    author: r.get(1)?,
                    on_behalf_of: r.get(2)?,
                    body: r.get(3)?,
                    created_at: r.get(4)?,
                    updated_at: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        issue.attachments = self.attachments_of(conn, id)?;
        Ok(Some(issue))
    }

    fn create_issue(&self, conn: &Connection, project: &str, fields: &IssueFields, actor: Actor<'_>) -> Result<String> {
        check_summary(&fields.summary)?;
        self.check_status(conn, project, &fields.status)?;
        let number: i64 = conn.query_row(
            "UPDATE t_project SET next_number = next_number + 1 WHERE key = ?1 RETURNING next_number - 1",
            [project],
            |r| r.get(0),
        )?;
        let key = format!("{project}-{number}");
        let now = now_ms();
        conn.execute(
            "INSERT INTO t_issue (project, key, summary, description, status, priority, labels, assignee, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
            params![
                project, key, fields.summary, fields.description, fields.status, fields.priority,
                serde_json::to_string(&fields.labels)?, fields.assignee, now
            ],
        )?;
        self.log(conn, project, &key, actor, &ChangeKind::IssueCreated)?;
        Ok(key)
    }

    fn update_issue(&self, conn: &Connection, key: &str, c: &FieldChanges, actor: Actor<'_>) -> Result<()> {
        let (_, project) = self.issue_row(conn, key)?;
        if let Some(s) = &c.summary {
            check_summary(s)?;
        }
        if let Some(s) = &c.status {
            self.check_status(conn, &project, s)?;
        }
        if c.is_empty() {
            return Ok(());
        }
        let assignee = c.assignee.as_ref().map(|a| if a.is_empty() { None } else { Some(a.as_str()) });
        conn.execute(
            "UPDATE t_issue SET
                summary = COALESCE(?2, summary), description = COALESCE(?3, description),
                status = COALESCE(?4, status), priority = COALESCE(?5, priority),
                labels = COALESCE(?6, labels),
                assignee = CASE WHEN ?7 THEN ?8 ELSE assignee END,
                updated_at = ?9
             WHERE key = ?1",
            params![
                key,
                c.summary,
                c.description,
                c.status,
                c.priority,
                c.labels.as_ref().map(|l| serde_json::to_string(l).expect("json")),
                assignee.is_some(),
                assignee.flatten(),
                now_ms()
            ],
        )?;
        self.log(conn, &project, key, actor, &ChangeKind::IssueUpdated { fields: c.clone() })
    }

    fn add_comment(
        &self,
        conn: &Connection,
        key: &str,
        body: &str,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> Result<String> {
        let (issue_id, project) = self.issue_row(conn, key)?;
        let now = now_ms();
        let on_behalf_of = origin.map(|o| o.author);
        conn.execute(
            "INSERT INTO t_comment (issue_id, author, on_behalf_of, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![issue_id, actor.user, on_behalf_of, body, origin.map_or(now, |o| o.created_at), now],
        )?;
        let id = conn.last_insert_rowid().to_string();
        conn.execute("UPDATE t_issue SET updated_at = ?2 WHERE id = ?1", params![issue_id, now])?;
        self.log(
            conn,
            &project,
            key,
            actor,
            &ChangeKind::CommentAdded {
                comment: id.clone(),
                author: on_behalf_of.unwrap_or(actor.user).into(),
                body: body.into(),
            },
        )?;
        Ok(id)
    }

    fn edit_comment(&self, conn: &Connection, key: &str, comment: &str, body: &str, actor: Actor<'_>) -> Result<()> {
        let (issue_id, project) = self.issue_row(conn, key)?;
        let id = self.comment_of(conn, issue_id, key, comment)?;
        conn.execute("UPDATE t_comment SET body = ?2, updated_at = ?3 WHERE id = ?1", params![id, body, now_ms()])?;
        self.log(conn, &project, key, actor, &ChangeKind::CommentEdited { comment: comment.into(), body: body.into() })
    }

    fn delete_comment(&self, conn: &Connection, key: &str, comment: &str, actor: Actor<'_>) -> Result<()> {
        let (issue_id, project) = self.issue_row(conn, key)?;
        let id = self.comment_of(conn, issue_id, key, comment)?;
        conn.execute("UPDATE t_comment SET deleted = 1, updated_at = ?2 WHERE id = ?1", params![id, now_ms()])?;
        self.log(conn, &project, key, actor, &ChangeKind::CommentDeleted { comment: comment.into() })
    }

    fn attachment(&self, conn: &Connection, key: &str, id: &str) -> Result<Option<Attachment>> {
        self.get_attachment(conn, key, id)
    }

    fn add_attachment(
        &self,
        conn: &Connection,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> Result<String> {
        self.insert_attachment(conn, key, file, origin, actor)
    }

    fn delete_attachment(&self, conn: &Connection, key: &str, id: &str, actor: Actor<'_>) -> Result<()> {
        self.remove_attachment(conn, key, id, actor)
    }
}
