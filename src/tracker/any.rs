//! The tracker a sync uses, chosen when it is created or accepted.

use rusqlite::Connection;

use super::{Actor, Attachment, ChangeRecord, CommentOrigin, Embedded, Issue, NewAttachment, TResult, Tracker};
use crate::protocol::{FieldChanges, IssueFields};
use crate::store::SyncRecord;

/// One of the tracker backends.
pub enum AnyTracker<'c> {
    Embedded(Embedded<'c>),
}

/// The tracker of `sync`. `conn` is the engine's connection (its open
/// transaction): the embedded tracker works in it; other backends do not
/// touch it.
pub fn for_sync<'c>(_sync: &SyncRecord, conn: &'c Connection) -> anyhow::Result<AnyTracker<'c>> {
    Ok(AnyTracker::Embedded(Embedded::new(conn)))
}

macro_rules! each {
    ($self:ident, $t:ident => $e:expr) => {
        match $self {
            AnyTracker::Embedded($t) => $e,
        }
    };
}

impl Tracker for AnyTracker<'_> {
    fn has_project(&self, project: &str) -> TResult<bool> {
        each!(self, t => t.has_project(project))
    }
    fn start_cursor(&self, project: &str) -> TResult<String> {
        each!(self, t => t.start_cursor(project))
    }
    fn changes_since(&self, project: &str, cursor: &str, limit: usize) -> TResult<Vec<ChangeRecord>> {
        each!(self, t => t.changes_since(project, cursor, limit))
    }
    fn issue(&self, key: &str) -> TResult<Option<Issue>> {
        each!(self, t => t.issue(key))
    }
    fn local_field_time(&self, key: &str, field: &str, sync: &str) -> TResult<Option<i64>> {
        each!(self, t => t.local_field_time(key, field, sync))
    }
    fn local_comment_time(&self, key: &str, comment: &str, sync: &str) -> TResult<Option<i64>> {
        each!(self, t => t.local_comment_time(key, comment, sync))
    }
    fn create_issue(&self, project: &str, fields: &IssueFields, actor: Actor<'_>) -> TResult<String> {
        each!(self, t => t.create_issue(project, fields, actor))
    }
    fn update_issue(&self, key: &str, changes: &FieldChanges, actor: Actor<'_>) -> TResult<()> {
        each!(self, t => t.update_issue(key, changes, actor))
    }
    fn add_comment(
        &self,
        key: &str,
        body: &str,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        each!(self, t => t.add_comment(key, body, origin, actor))
    }
    fn edit_comment(&self, key: &str, comment: &str, body: &str, actor: Actor<'_>) -> TResult<()> {
        each!(self, t => t.edit_comment(key, comment, body, actor))
    }
    fn delete_comment(&self, key: &str, comment: &str, actor: Actor<'_>) -> TResult<()> {
        each!(self, t => t.delete_comment(key, comment, actor))
    }
    fn attachment(&self, key: &str, id: &str) -> TResult<Option<Attachment>> {
        each!(self, t => t.attachment(key, id))
    }
    fn add_attachment(
        &self,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        each!(self, t => t.add_attachment(key, file, origin, actor))
    }
    fn delete_attachment(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        each!(self, t => t.delete_attachment(key, id, actor))
    }
}
