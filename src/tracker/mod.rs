//! Trackers: the plug point where issues are read and written.
//!
//! [`Tracker`] is what the engine needs ([`Reads`]: changes since an
//! opaque cursor, an issue's current state; [`Writes`]: the writes that
//! apply a partner's change), with typed outcomes ([`TrackerError`]:
//! refused, unavailable, failed). `backend` says how wrappers forward.

mod any;
pub mod attachments;
mod backend;
pub mod checks;
pub mod embedded;
pub mod github;
pub mod jira;
pub mod names;
pub mod redmine;
pub mod remote;

use serde::Serialize;

use crate::protocol::{FieldChanges, IssueFields};

pub use any::{open, AnyTracker, TrackerSettings};
pub use backend::{Reads, Tracker, Wraps, Writes, WritesThrough};
pub use embedded::Embedded;
pub use names::NameTables;

/// Removes what a backend keeps on disk for a deleted sync (a remote
/// tracker's change detection state); never the tracker's data.
pub fn forget(home: &std::path::Path, sync_id: &str) -> anyhow::Result<()> {
    for db in [redmine::state_path(home, sync_id), github::state_path(home, sync_id)] {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let path = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(anyhow::Error::new(e).context(format!("cannot remove {}", path.display())))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worklogs: Vec<Worklog>,
}

/// Time logged on an issue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Worklog {
    pub id: String,
    /// Whose time it is.
    pub author: String,
    /// When the sync user logged it for someone at the partner.
    pub on_behalf_of: Option<String>,
    pub minutes: u32,
    /// `YYYY-MM-DD`.
    pub spent_on: String,
    pub comment: String,
    /// The author's e-mail address, when the tracker shows it.
    #[serde(default)]
    pub email: Option<String>,
    /// When it was last changed (ms).
    #[serde(default)]
    pub updated_at: i64,
}

/// Time to log: for `user` (a user of this tracker; `None`: the writer).
#[derive(Debug, Clone, Copy)]
pub struct NewWorklog<'a> {
    pub user: Option<&'a str>,
    pub minutes: u32,
    pub spent_on: &'a str,
    pub comment: &'a str,
}

/// A user of the tracker, as mappings see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub name: String,
    pub email: Option<String>,
    /// How a mapping may name the user where names are not unique
    /// (`accountid:…` on Jira Cloud).
    pub id: Option<String>,
}

/// The values a project accepts, for mappings and their checks; `None`
/// where it accepts any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Vocabulary {
    pub statuses: Option<Vec<String>>,
    pub priorities: Option<Vec<String>>,
    pub types: Option<Vec<String>>,
    pub custom_fields: Option<Vec<String>>,
    pub users: Option<Vec<User>>,
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
    pub content: Content<'a>,
}

/// An attachment's content: bytes in memory, or a file read as a stream
/// (a large attachment received into a spool file).
#[derive(Debug, Clone, Copy)]
pub enum Content<'a> {
    Bytes(&'a [u8]),
    File { path: &'a std::path::Path, size: u64 },
}

impl<'a> NewAttachment<'a> {
    pub fn bytes(filename: &'a str, media_type: &'a str, data: &'a [u8]) -> Self {
        NewAttachment { filename, media_type, content: Content::Bytes(data) }
    }

    pub fn size(&self) -> u64 {
        match self.content {
            Content::Bytes(d) => d.len() as u64,
            Content::File { size, .. } => size,
        }
    }

    /// The content as a stream.
    pub fn reader(&self) -> std::io::Result<Box<dyn std::io::Read + 'a>> {
        Ok(match self.content {
            Content::Bytes(d) => Box::new(d),
            Content::File { path, .. } => Box::new(std::fs::File::open(path)?),
        })
    }
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

/// A write that may have been made before an interruption, to look for.
#[derive(Debug, Clone, Copy)]
pub enum WrittenBefore<'a> {
    Issue {
        summary: &'a str,
    },
    Comment {
        key: &'a str,
        body: &'a str,
        author: Option<&'a str>,
    },
    Attachment {
        key: &'a str,
        filename: &'a str,
        size: u64,
    },
    /// `comment` and `on_behalf_of` as the worklog was to be written.
    Worklog {
        key: &'a str,
        minutes: u32,
        spent_on: &'a str,
        comment: &'a str,
        on_behalf_of: Option<&'a str>,
    },
}

/// Changes read after a cursor, and where reading goes on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangePage {
    pub changes: Vec<ChangeRecord>,
    pub next: String,
    /// All there is now was read: no need to ask again until the next
    /// poll (a remote tracker's read costs calls; an empty page says the
    /// same).
    pub done: bool,
    /// Issues read for the first time that the sync user made: postern's
    /// own if a pairing holds them; if none does, a copy nobody sees (a
    /// write the tracker made after postern wrote it again) or someone at
    /// work as the sync user, whose work does not cross.
    pub made_by_sync_user: Vec<String>,
}

/// One change of an issue, as the tracker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// Where reading goes on after this change (opaque to the engine).
    pub cursor: String,
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
    WorklogAdded { worklog: Worklog },
    WorklogEdited { worklog: Worklog },
    WorklogDeleted { worklog: String },
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

/// Why a tracker refused a change: it blocks one issue, not the sync.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("project {0} does not exist")]
    NoProject(String),
    #[error("issue {0} does not exist")]
    NoIssue(String),
    #[error("comment {comment} does not exist on issue {issue}")]
    NoComment { issue: String, comment: String },
    #[error("status '{status}' is not allowed in project {project} (allowed: {allowed})")]
    StatusNotAllowed { project: String, status: String, allowed: String },
    #[error("worklog {worklog} does not exist on issue {issue}")]
    NoWorklog { issue: String, worklog: String },
    /// A value the tracker does not know (a status, priority, type, custom
    /// field or user): the engine adds what would map it.
    #[error("{what} '{value}' is not known here (known: {})", known.join(", "))]
    Unknown { what: String, value: String, known: Vec<String> },
    #[error("{0}")]
    Invalid(String),
    /// The issue `id` was made, but not all of the change took (a status
    /// the workflow would not reach): the pairing is kept, the change is
    /// refused and parked, and a retry brings the issue up to date
    /// instead of making another.
    #[error("{why}")]
    PartlyMade { id: String, why: String },
    /// A part of an issue this tracker cannot hold at all (GitHub: time
    /// logged, files): nothing was written. The engine lists it on the
    /// issue and keeps the change; nothing waits behind it.
    #[error("{0}")]
    NotCarried(String),
}

/// What can go wrong at a tracker. The engine branches on the variant:
/// a refusal parks one issue, unavailability waits and retries with
/// nothing parked, a failure stops the cycle.
#[derive(Debug, thiserror::Error)]
pub enum TrackerError {
    /// This change can't be applied (permission, a missing issue, a value
    /// the tracker does not know): the issue is parked and listed.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The tracker can't be reached now (down, 5xx, a timeout, 429): tried
    /// again later (not before `retry_after` when the server said so).
    #[error("the tracker is unavailable: {reason}")]
    Unavailable { reason: String, retry_after: Option<std::time::Duration> },
    /// Anything else (local storage, a bug).
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl TrackerError {
    /// Whether a write that failed so may still have been made, or may
    /// still be made, by the tracker: anything but a refusal and a "not
    /// now" the server gave with a time to come back (429, 503), which
    /// servers send without acting. A lost or cut answer, a timeout, a
    /// 502 or 504 from a proxy: the server may be at it still.
    pub fn may_have_acted(&self) -> bool {
        !matches!(self, TrackerError::Refused(_) | TrackerError::Unavailable { retry_after: Some(_), .. })
    }
}

impl From<rusqlite::Error> for TrackerError {
    fn from(e: rusqlite::Error) -> Self {
        TrackerError::Failed(e.into())
    }
}

impl From<serde_json::Error> for TrackerError {
    fn from(e: serde_json::Error) -> Self {
        TrackerError::Failed(e.into())
    }
}

/// A tracker call's result.
pub type TResult<T> = std::result::Result<T, TrackerError>;
