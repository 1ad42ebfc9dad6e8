//! The tracker a sync uses, chosen when it is created or accepted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::github::{GitHub, GitHubSettings};
use super::jira::{Jira, JiraSettings};
use super::redmine::{Redmine, RedmineSettings};
use super::{
    Actor, AttachmentInfo, ChangePage, CommentOrigin, Embedded, Issue, NewAttachment, NewWorklog, TResult, Tracker,
    Vocabulary, WrittenBefore,
};
use crate::protocol::{FieldChanges, IssueFields};
use crate::store::SyncRecord;

/// Which tracker a sync uses, with its settings (stored with the sync).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum TrackerSettings {
    Embedded,
    Redmine(RedmineSettings),
    Jira(JiraSettings),
    #[serde(rename = "github")]
    GitHub(GitHubSettings),
}

/// One of the tracker backends.
pub enum AnyTracker<'c> {
    Embedded(Embedded<'c>),
    Redmine(Arc<Redmine>),
    Jira(Arc<Jira>),
    GitHub(Arc<GitHub>),
}

type Key = (PathBuf, String, String);

/// Remote backends live as long as the process (they keep what they
/// learned of the server), one per sync and settings.
fn cached<T, S: Serialize>(
    cache: &'static OnceLock<Mutex<HashMap<Key, Arc<T>>>>,
    (home, sync_id, s): (&Path, &str, &S),
    open: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<Arc<T>> {
    let key = (home.to_path_buf(), sync_id.to_string(), serde_json::to_string(s)?);
    let mut cache = cache.get_or_init(Default::default).lock().expect("lock");
    if let Some(r) = cache.get(&key) {
        return Ok(r.clone());
    }
    let r = Arc::new(open()?);
    cache.insert(key, r.clone());
    Ok(r)
}

/// The tracker of `sync`. `conn` is the engine's connection (its open
/// transaction): the embedded tracker works in it; other backends do not
/// touch it.
impl TrackerSettings {
    /// The tracker settings stored with a sync.
    pub fn of(sync: &SyncRecord) -> anyhow::Result<TrackerSettings> {
        let mut settings = match sync.tracker.as_deref() {
            None => TrackerSettings::Embedded,
            Some(json) => serde_json::from_str(json)
                .map_err(|e| anyhow::anyhow!("the tracker settings of sync '{}' are damaged: {e}", sync.name))?,
        };
        // A mapping file's values for Jira's transition screens (a damaged
        // file is said where it is applied).
        if let TrackerSettings::Jira(j) = &mut settings {
            if let Ok(m) = crate::engine::mapping::Mapping::of(sync.mapping.as_deref()) {
                j.screens = m.screens();
                j.account_ids = m.account_ids();
            }
        }
        Ok(settings)
    }
}

pub fn for_sync<'c>(sync: &SyncRecord, conn: &'c Connection) -> anyhow::Result<AnyTracker<'c>> {
    open(&TrackerSettings::of(sync)?, conn, &sync.id)
}

/// The tracker for `settings`; a remote one keeps its state in the home
/// of `conn`'s database.
pub fn open<'c>(settings: &TrackerSettings, conn: &'c Connection, sync_id: &str) -> anyhow::Result<AnyTracker<'c>> {
    Ok(match settings {
        TrackerSettings::Embedded => AnyTracker::Embedded(Embedded::new(conn)),
        TrackerSettings::Redmine(s) => {
            static CACHE: OnceLock<Mutex<HashMap<Key, Arc<Redmine>>>> = OnceLock::new();
            let home = home_of(conn);
            AnyTracker::Redmine(cached(&CACHE, (&home, sync_id, s), || Redmine::open(s, &home, sync_id))?)
        }
        TrackerSettings::Jira(s) => {
            static CACHE: OnceLock<Mutex<HashMap<Key, Arc<Jira>>>> = OnceLock::new();
            let home = home_of(conn);
            AnyTracker::Jira(cached(&CACHE, (&home, sync_id, s), || Jira::open(s, &home, sync_id))?)
        }
        TrackerSettings::GitHub(s) => {
            static CACHE: OnceLock<Mutex<HashMap<Key, Arc<GitHub>>>> = OnceLock::new();
            let home = home_of(conn);
            AnyTracker::GitHub(cached(&CACHE, (&home, sync_id, s), || GitHub::open(s, &home, sync_id))?)
        }
    })
}

/// The home folder of `conn`'s database (where remote backends keep state).
fn home_of(conn: &Connection) -> PathBuf {
    let db = conn.path().map(PathBuf::from).unwrap_or_default();
    db.parent().map(Path::to_path_buf).unwrap_or_default()
}

impl AnyTracker<'_> {
    /// Whether writes and the engine's transaction commit together (the
    /// embedded tracker); other backends are written through the apply
    /// journal.
    pub fn transactional(&self) -> bool {
        matches!(self, AnyTracker::Embedded(_))
    }
}

macro_rules! each {
    ($self:ident, $t:ident => $e:expr) => {
        match $self {
            AnyTracker::Embedded($t) => $e,
            AnyTracker::Redmine($t) => $e,
            AnyTracker::Jira($t) => $e,
            AnyTracker::GitHub($t) => $e,
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
    fn changes_since(&self, project: &str, cursor: &str, limit: usize) -> TResult<ChangePage> {
        each!(self, t => t.changes_since(project, cursor, limit))
    }
    fn collected(&self, cursor: &str) -> TResult<()> {
        each!(self, t => t.collected(cursor))
    }
    fn uncollected(&self) {
        each!(self, t => t.uncollected())
    }
    fn issue_keys(&self, project: &str) -> TResult<Vec<String>> {
        each!(self, t => t.issue_keys(project))
    }
    fn issue(&self, key: &str) -> TResult<Option<Issue>> {
        each!(self, t => t.issue(key))
    }
    fn local_field_time(&self, key: &str, field: &str, sync: &str) -> TResult<Option<i64>> {
        each!(self, t => t.local_field_time(key, field, sync))
    }
    fn local_field_times(&self, key: &str, sync: &str) -> TResult<std::collections::BTreeMap<String, i64>> {
        each!(self, t => t.local_field_times(key, sync))
    }
    fn issues(&self, keys: &[String]) -> TResult<Vec<Option<Issue>>> {
        each!(self, t => t.issues(keys))
    }
    fn take_not_held(&self) -> Vec<String> {
        each!(self, t => t.take_not_held())
    }
    fn not_carried(&self) -> TResult<Vec<String>> {
        each!(self, t => t.not_carried())
    }
    fn local_worklog_time(&self, key: &str, id: &str, sync: &str) -> TResult<Option<i64>> {
        each!(self, t => t.local_worklog_time(key, id, sync))
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
    fn copy_attachment(&self, key: &str, id: &str, out: &mut dyn std::io::Write) -> TResult<Option<AttachmentInfo>> {
        each!(self, t => t.copy_attachment(key, id, out))
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
    fn add_worklog(
        &self,
        key: &str,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        each!(self, t => t.add_worklog(key, w, origin, actor))
    }
    fn edit_worklog(&self, key: &str, id: &str, w: &NewWorklog<'_>, actor: Actor<'_>) -> TResult<()> {
        each!(self, t => t.edit_worklog(key, id, w, actor))
    }
    fn delete_worklog(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        each!(self, t => t.delete_worklog(key, id, actor))
    }
    fn vocabulary(&self, project: &str) -> TResult<Vocabulary> {
        each!(self, t => t.vocabulary(project))
    }
    fn find_write(&self, write: &WrittenBefore<'_>, tag: &str, since: i64) -> TResult<Option<String>> {
        each!(self, t => t.find_write(write, tag, since))
    }
    fn tag_next_write(&self, tag: &str) {
        each!(self, t => t.tag_next_write(tag))
    }
    fn take_throttled(&self) -> u64 {
        each!(self, t => t.take_throttled())
    }
    fn answer_timeout(&self) -> std::time::Duration {
        each!(self, t => t.answer_timeout())
    }
}
