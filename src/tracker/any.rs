//! The tracker a sync uses, chosen when it is created or accepted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::github::{GitHub, GitHubSettings};
use super::jira::{Jira, JiraSettings};
use super::names::NameTables;
use super::redmine::{Redmine, RedmineSettings};
use super::{Embedded, Tracker, Wraps, WritesThrough};

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

impl TrackerSettings {
    /// The backend's name tables (`--status-map`, `--priority-map`: the
    /// partner's name → ours), empty where it has none.
    pub fn name_tables(&self) -> NameTables {
        match self {
            TrackerSettings::Embedded => NameTables::default(),
            TrackerSettings::Redmine(r) => {
                NameTables { statuses: r.statuses.clone(), priorities: r.priorities.clone() }
            }
            TrackerSettings::Jira(j) => NameTables { statuses: j.statuses.clone(), priorities: j.priorities.clone() },
            TrackerSettings::GitHub(g) => NameTables { statuses: g.statuses.clone(), priorities: Default::default() },
        }
    }
}

impl AnyTracker<'_> {
    /// Whether writes and the engine's transaction commit together (the
    /// embedded tracker); other backends are written through the apply
    /// journal.
    pub fn transactional(&self) -> bool {
        matches!(self, AnyTracker::Embedded(_))
    }
}

impl Wraps for AnyTracker<'_> {
    fn wrapped(&self) -> &dyn Tracker {
        match self {
            AnyTracker::Embedded(t) => t,
            AnyTracker::Redmine(t) => &**t,
            AnyTracker::Jira(t) => &**t,
            AnyTracker::GitHub(t) => &**t,
        }
    }
}

/// Choosing the backend changes nothing of its writes.
impl WritesThrough for AnyTracker<'_> {}
