//! Trackers: the plug point where issues are read and written.
//!
//! [`Tracker`] is what the engine needs: the change log since a cursor, an
//! issue's current state, and the writes that apply a partner's change.
//! Writes take the engine's open transaction, so for the embedded tracker
//! a change and the sequence number that carried it commit together.

pub mod attachments;
pub mod embedded;

use rusqlite::Connection;
use serde::Serialize;

use crate::protocol::{FieldChanges, IssueFields};

pub use embedded::Embedded;

/// An issue as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub key: String,
    pub project: String,
    #[serde(flatten)]
    pub fields: IssueFields,
    pub created_at: i64,
    pub updated_at: i64,
    pub comments: Vec<Comment>,
    pub attachments: Vec<AttachmentInfo>,
}

/// An attachment without its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentInfo {
    pub id: String,
    pub filename: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: String,
    pub author: String,
    pub on_behalf_of: Option<String>,
    pub created_at: i64,
}

/// An attachment with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub info: AttachmentInfo,
    pub data: Vec<u8>,
}

/// A new attachment: name, media type and content.
#[derive(Debug, Clone, Copy)]
pub struct NewAttachment<'a> {
    pub filename: &'a str,
    pub media_type: &'a str,
    pub data: &'a [u8],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub id: String,
    pub author: String,
    /// When the sync user wrote it for someone on the partner's side.
    pub on_behalf_of: Option<String>,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One row of the tracker's change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub id: i64,
    pub issue_key: String,
    pub at: i64,
    pub actor: String,
    /// The sync that applied this change for its partner, if any.
    pub origin: Option<String>,
    /// The peers (fingerprints) such a change had crossed, its sender
    /// included; empty for changes made here.
    pub via: Vec<String>,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    IssueCreated,
    IssueUpdated { fields: FieldChanges },
    CommentAdded { comment: String, author: String, body: String },
    CommentEdited { comment: String, body: String },
    CommentDeleted { comment: String },
    AttachmentAdded { attachment: String, filename: String, size: u64 },
    AttachmentDeleted { attachment: String },
}

/// Who makes a write: a person, or the sync user on behalf of a sync.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user: &'a str,
    /// Set when postern applies a partner's change (echo suppression).
    pub origin: Option<&'a str>,
    /// With `origin`: the peers the change crossed, space-separated.
    pub via: Option<&'a str>,
}

impl<'a> Actor<'a> {
    /// A person (or script) writing here.
    pub fn person(user: &'a str) -> Self {
        Actor { user, origin: None, via: None }
    }
}

/// Who wrote a comment on the partner's side, and when.
#[derive(Debug, Clone, Copy)]
pub struct CommentOrigin<'a> {
    pub author: &'a str,
    pub created_at: i64,
}

/// A change the tracker refused: it blocks one issue, not the sync.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    #[error("project {0} does not exist")]
    NoProject(String),
    #[error("issue {0} does not exist")]
    NoIssue(String),
    #[error("comment {comment} does not exist on issue {issue}")]
    NoComment { issue: String, comment: String },
    #[error("status '{status}' is not allowed in project {project} (allowed: {allowed})")]
    StatusNotAllowed { project: String, status: String, allowed: String },
    #[error("{0}")]
    Invalid(String),
}

/// The operations the sync engine needs from a tracker.
pub trait Tracker {
    /// Change-log rows of `project` after `cursor`, oldest first.
    fn changes_since(
        &self,
        conn: &Connection,
        project: &str,
        cursor: i64,
        limit: usize,
    ) -> anyhow::Result<Vec<ChangeRecord>>;
    /// Projects with change-log rows after `after`, each with its highest
    /// id (so a daemon wakes only the syncs of changed projects).
    fn changed_projects(&self, conn: &Connection, after: i64) -> anyhow::Result<Vec<(String, i64)>>;
    /// Highest change-log id (the cursor a new sync starts from).
    fn last_change(&self, conn: &Connection) -> anyhow::Result<i64>;
    fn issue(&self, conn: &Connection, key: &str) -> anyhow::Result<Option<Issue>>;
    /// When `field` of issue `key` was last set by anyone but the partner of
    /// sync `partner` (whose changes arrive in order anyway).
    fn local_field_time(&self, conn: &Connection, key: &str, field: &str, partner: &str)
        -> anyhow::Result<Option<i64>>;
    /// When comment `comment` of issue `key` was last edited by anyone but
    /// the partner of sync `partner`.
    fn local_comment_time(
        &self,
        conn: &Connection,
        key: &str,
        comment: &str,
        partner: &str,
    ) -> anyhow::Result<Option<i64>>;
    fn create_issue(
        &self,
        conn: &Connection,
        project: &str,
        fields: &IssueFields,
        actor: Actor<'_>,
    ) -> anyhow::Result<String>;
    fn update_issue(
        &self,
        conn: &Connection,
        key: &str,
        changes: &FieldChanges,
        actor: Actor<'_>,
    ) -> anyhow::Result<()>;
    /// `origin`: the partner's author and writing time, for a comment
    /// the sync user writes on someone's behalf.
    fn add_comment(
        &self,
        conn: &Connection,
        key: &str,
        body: &str,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> anyhow::Result<String>;
    fn edit_comment(
        &self,
        conn: &Connection,
        key: &str,
        comment: &str,
        body: &str,
        actor: Actor<'_>,
    ) -> anyhow::Result<()>;
    fn delete_comment(&self, conn: &Connection, key: &str, comment: &str, actor: Actor<'_>) -> anyhow::Result<()>;
    /// An attachment of issue `key` with its content (`None` if deleted).
    fn attachment(&self, conn: &Connection, key: &str, id: &str) -> anyhow::Result<Option<Attachment>>;
    /// `origin`: the partner's author and time, as for comments.
    fn add_attachment(
        &self,
        conn: &Connection,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> anyhow::Result<String>;
    fn delete_attachment(&self, conn: &Connection, key: &str, id: &str, actor: Actor<'_>) -> anyhow::Result<()>;
}
