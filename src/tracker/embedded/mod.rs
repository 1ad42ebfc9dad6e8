//! The embedded SQLite tracker postern ships, so two peers can run with
//! nothing else installed. Tables `t_project`, `t_issue`, `t_comment` and
//! the change log `t_change` live in the home's database.

use rusqlite::{params, Connection, OptionalExtension};

mod attachments;
mod changelog;
mod projects;
pub mod schema;
pub use projects::Project;
mod worklogs;

use crate::clock::now_ms;
use crate::protocol::{FieldChanges, IssueFields};
use crate::tracker::{
    Actor, AttachmentInfo, ChangeKind, ChangePage, Comment, CommentOrigin, Issue, NewAttachment, NewWorklog, Reads,
    Refusal, TResult, Vocabulary, Writes,
};

pub const DEFAULT_STATUS: &str = "Open";
pub const DEFAULT_PRIORITY: &str = "Medium";

/// The embedded tracker, on a connection to the home's database (the
/// engine's open transaction while it applies or collects).
#[derive(Debug, Clone, Copy)]
pub struct Embedded<'c> {
    conn: &'c Connection,
}

impl<'c> Embedded<'c> {
    pub fn new(conn: &'c Connection) -> Self {
        Embedded { conn }
    }

    pub(super) fn conn(&self) -> &'c Connection {
        self.conn
    }

    fn check_status(&self, project: &str, status: &str) -> TResult<()> {
        let statuses: Option<Option<String>> = self
            .conn
            .prepare_cached("SELECT statuses FROM t_project WHERE key = ?1")?
            .query_row([project], |r| r.get(0))
            .optional()?;
        let statuses = statuses.ok_or_else(|| Refusal::NoProject(project.into()))?;
        if let Some(allowed) = statuses.and_then(|s| serde_json::from_str::<Vec<String>>(&s).ok()) {
            if !allowed.iter().any(|s| s == status) {
                return Err(Refusal::StatusNotAllowed {
                    project: project.into(),
                    status: status.into(),
                    allowed: allowed.join(", "),
                }
                .into());
            }
        }
        Ok(())
    }

    pub(super) fn issue_row(&self, key: &str) -> TResult<(i64, String)> {
        self.conn
            .query_row("SELECT id, project FROM t_issue WHERE key = ?1", [key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .ok_or_else(|| Refusal::NoIssue(key.into()).into())
    }

    fn comment_of(&self, issue_id: i64, key: &str, comment: &str) -> TResult<i64> {
        let id: i64 = comment.parse().map_err(|_| Refusal::NoComment { issue: key.into(), comment: comment.into() })?;
        self.conn
            .query_row(
                "SELECT id FROM t_comment WHERE id = ?1 AND issue_id = ?2 AND deleted = 0",
                params![id, issue_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Refusal::NoComment { issue: key.into(), comment: comment.into() }.into())
    }

    pub(super) fn log(&self, project: &str, key: &str, actor: Actor<'_>, kind: &ChangeKind) -> TResult<()> {
        self.conn.execute(
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
        ChangeKind::WorklogAdded { .. } => "worklog_added",
        ChangeKind::WorklogEdited { .. } => "worklog_edited",
        ChangeKind::WorklogDeleted { .. } => "worklog_deleted",
    }
}

/// Custom fields with a value (an empty one is no value).
fn without_empty(custom: &std::collections::BTreeMap<String, String>) -> std::collections::BTreeMap<&str, &str> {
    custom.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

impl Embedded<'_> {
    /// Refuses what the project does not take: a priority or type it does
    /// not allow, an assignee not in the directory, a date that is none.
    fn check_fields(&self, project: &str, c: &FieldChanges) -> TResult<()> {
        if let Some(p) = c.priority.as_ref().filter(|p| !p.is_empty()) {
            self.check_allowed(project, "priority", "priorities", p)?;
        }
        if let Some(t) = &c.issue_type {
            self.check_allowed(project, "type", "types", t)?;
        }
        if let Some(a) = &c.assignee {
            self.check_user(a)?;
        }
        match c.due_date.as_deref() {
            Some(d) if !d.is_empty() => crate::tracker::checks::check_date("due", d),
            _ => Ok(()),
        }
    }
}

fn check_summary(summary: &str) -> TResult<()> {
    if summary.trim().is_empty() {
        return Err(Refusal::Invalid("summary must not be empty".into()).into());
    }
    Ok(())
}

impl Reads for Embedded<'_> {
    fn issue_keys(&self, project: &str) -> TResult<Vec<String>> {
        Ok(self
            .conn
            .prepare("SELECT key FROM t_issue WHERE project = ?1 ORDER BY id")?
            .query_map([project], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn has_project(&self, project: &str) -> TResult<bool> {
        Ok(self.project(project)?.is_some())
    }

    fn start_cursor(&self, _project: &str) -> TResult<String> {
        Ok(self.last_change()?.to_string())
    }

    fn changes_since(&self, project: &str, cursor: &str, limit: usize) -> TResult<ChangePage> {
        let after: i64 =
            cursor.parse().map_err(|_| anyhow::anyhow!("the embedded tracker's cursor {cursor:?} is not a number"))?;
        let changes = self.read_log(project, after, limit)?;
        let next = changes.last().map_or_else(|| cursor.to_string(), |c| c.cursor.clone());
        Ok(ChangePage { changes, next, done: false, made_by_sync_user: Vec::new() })
    }

    fn local_field_time(&self, key: &str, field: &str, sync: &str) -> TResult<Option<i64>> {
        self.field_time(key, field, sync)
    }

    fn local_worklog_time(&self, key: &str, id: &str, sync: &str) -> TResult<Option<i64>> {
        self.worklog_time(key, id, sync)
    }

    fn local_comment_time(&self, key: &str, comment: &str, sync: &str) -> TResult<Option<i64>> {
        self.comment_time(key, comment, sync)
    }

    fn issue(&self, key: &str) -> TResult<Option<Issue>> {
        let row = self
            .conn
            .query_row(
                "SELECT id, project, summary, description, status, priority, labels, assignee, created_at, updated_at,
                        issue_type, due_date, custom
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
                                issue_type: r.get(10)?,
                                due_date: r.get(11)?,
                                custom: serde_json::from_str(&r.get::<_, String>(12)?).unwrap_or_default(),
                                assignee_email: None,
                            },
                            created_at: r.get(8)?,
                            updated_at: r.get(9)?,
                            comments: Vec::new(),
                            attachments: Vec::new(),
                            worklogs: Vec::new(),
                        },
                    ))
                },
            )
            .optional()?;
        let Some((id, mut issue)) = row else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(
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
        issue.attachments = self.attachments_of(id)?;
        issue.worklogs = self.worklogs_of(id)?;
        if let Some(a) = &issue.fields.assignee {
            issue.fields.assignee_email = self.email_of(a)?;
        }
        Ok(Some(issue))
    }

    fn copy_attachment(&self, key: &str, id: &str, out: &mut dyn std::io::Write) -> TResult<Option<AttachmentInfo>> {
        self.copy_attachment_to(key, id, out)
    }

    fn vocabulary(&self, project: &str) -> TResult<Vocabulary> {
        self.vocabulary_of(project)
    }
}

impl Writes for Embedded<'_> {
    fn create_issue(&self, project: &str, fields: &IssueFields, actor: Actor<'_>) -> TResult<String> {
        check_summary(&fields.summary)?;
        self.check_status(project, &fields.status)?;
        self.check_fields(project, &FieldChanges::all(fields))?;
        let number: i64 = self.conn.query_row(
            "UPDATE t_project SET next_number = next_number + 1 WHERE key = ?1 RETURNING next_number - 1",
            [project],
            |r| r.get(0),
        )?;
        let key = format!("{project}-{number}");
        let now = now_ms();
        self.conn.execute(
            "INSERT INTO t_issue (project, key, summary, description, status, priority, labels, assignee, created_at,
                                  updated_at, issue_type, due_date, custom)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12)",
            params![
                project,
                key,
                fields.summary,
                fields.description,
                fields.status,
                // The partner's tracker has none: ours, by default.
                if fields.priority.is_empty() { DEFAULT_PRIORITY } else { fields.priority.as_str() },
                serde_json::to_string(&fields.labels)?,
                fields.assignee,
                now,
                fields.issue_type,
                fields.due_date.as_deref().filter(|d| !d.is_empty()),
                serde_json::to_string(&without_empty(&fields.custom))?
            ],
        )?;
        self.log(project, &key, actor, &ChangeKind::IssueCreated)?;
        Ok(key)
    }

    fn update_issue(&self, key: &str, c: &FieldChanges, actor: Actor<'_>) -> TResult<()> {
        let (_, project) = self.issue_row(key)?;
        if let Some(s) = &c.summary {
            check_summary(s)?;
        }
        if let Some(s) = &c.status {
            self.check_status(&project, s)?;
        }
        self.check_fields(&project, c)?;
        if c.is_empty() {
            return Ok(());
        }
        let assignee = c.assignee.as_ref().map(|a| if a.is_empty() { None } else { Some(a.as_str()) });
        let due = c.due_date.as_ref().map(|d| if d.is_empty() { None } else { Some(d.as_str()) });
        let custom = if c.custom.is_empty() {
            None
        } else {
            let old: String = self.conn.query_row("SELECT custom FROM t_issue WHERE key = ?1", [key], |r| r.get(0))?;
            let mut all: std::collections::BTreeMap<String, String> = serde_json::from_str(&old).unwrap_or_default();
            all.extend(c.custom.clone());
            Some(serde_json::to_string(&without_empty(&all))?)
        };
        self.conn.execute(
            "UPDATE t_issue SET
                summary = COALESCE(?2, summary), description = COALESCE(?3, description),
                status = COALESCE(?4, status), priority = COALESCE(?5, priority),
                labels = COALESCE(?6, labels),
                assignee = CASE WHEN ?7 THEN ?8 ELSE assignee END,
                updated_at = ?9, issue_type = COALESCE(?10, issue_type),
                due_date = CASE WHEN ?11 THEN ?12 ELSE due_date END, custom = COALESCE(?13, custom)
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
                now_ms(),
                c.issue_type,
                due.is_some(),
                due.flatten(),
                custom
            ],
        )?;
        // The partner maps users by address: the log carries it.
        let mut fields = c.clone();
        if let Some(a) = c.assignee.as_deref().filter(|a| !a.is_empty()) {
            fields.assignee_email = self.email_of(a)?;
        }
        self.log(&project, key, actor, &ChangeKind::IssueUpdated { fields })
    }

    fn add_comment(
        &self,
        key: &str,
        body: &str,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        let (issue_id, project) = self.issue_row(key)?;
        let now = now_ms();
        let on_behalf_of = origin.map(|o| o.author);
        self.conn.execute(
            "INSERT INTO t_comment (issue_id, author, on_behalf_of, body, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![issue_id, actor.user, on_behalf_of, body, origin.map_or(now, |o| o.created_at), now],
        )?;
        let id = self.conn.last_insert_rowid().to_string();
        self.conn.execute("UPDATE t_issue SET updated_at = ?2 WHERE id = ?1", params![issue_id, now])?;
        self.log(
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

    fn edit_comment(&self, key: &str, comment: &str, body: &str, actor: Actor<'_>) -> TResult<()> {
        let (issue_id, project) = self.issue_row(key)?;
        let id = self.comment_of(issue_id, key, comment)?;
        self.conn
            .execute("UPDATE t_comment SET body = ?2, updated_at = ?3 WHERE id = ?1", params![id, body, now_ms()])?;
        self.log(&project, key, actor, &ChangeKind::CommentEdited { comment: comment.into(), body: body.into() })
    }

    fn delete_comment(&self, key: &str, comment: &str, actor: Actor<'_>) -> TResult<()> {
        let (issue_id, project) = self.issue_row(key)?;
        let id = self.comment_of(issue_id, key, comment)?;
        self.conn.execute("UPDATE t_comment SET deleted = 1, updated_at = ?2 WHERE id = ?1", params![id, now_ms()])?;
        self.log(&project, key, actor, &ChangeKind::CommentDeleted { comment: comment.into() })
    }

    fn add_attachment(
        &self,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        self.insert_attachment(key, file, origin, actor)
    }

    fn delete_attachment(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        self.remove_attachment(key, id, actor)
    }

    fn add_worklog(
        &self,
        key: &str,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        self.insert_worklog(key, w, origin, actor)
    }

    fn edit_worklog(&self, key: &str, id: &str, w: &NewWorklog<'_>, actor: Actor<'_>) -> TResult<()> {
        self.update_worklog(key, id, w, actor)
    }

    fn delete_worklog(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        self.remove_worklog(key, id, actor)
    }
}
