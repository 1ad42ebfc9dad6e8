//! What postern last saw of each issue of a remote tracker, sent or
//! written, kept in the backend's own small database: change detection
//! compares with it (see `diff`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::protocol::{FieldChanges, IssueFields};
use crate::tracker::{Issue, TResult, Worklog};

/// What of a worklog is compared.
pub fn fingerprint(w: &Worklog) -> String {
    format!("{}|{}|{}|{}", w.minutes, w.spent_on, w.author, w.comment)
}

/// What postern wrote to an issue (see [`State::written_part`]).
#[derive(Debug, Clone, Copy)]
pub enum Wrote<'a> {
    /// The issue itself: made by postern, all of it is postern's.
    Issue,
    Fields(&'a FieldChanges),
    /// A comment's id, and its text as postern left it (`None`: deleted).
    Comment(&'a str, Option<&'a str>),
    Attachment(&'a str),
    Worklog(&'a str),
}

/// Copies the fields `f` names from `from` into `to`.
fn copy_fields(to: &mut IssueFields, from: &IssueFields, f: &FieldChanges) {
    for name in f.names() {
        match name {
            "summary" => to.summary = from.summary.clone(),
            "description" => to.description = from.description.clone(),
            "status" => to.status = from.status.clone(),
            "priority" => to.priority = from.priority.clone(),
            "labels" => to.labels = from.labels.clone(),
            "assignee" => {
                to.assignee = from.assignee.clone();
                to.assignee_email = from.assignee_email.clone();
            }
            "type" => to.issue_type = from.issue_type.clone(),
            "due_date" => to.due_date = from.due_date.clone(),
            _ => {
                for k in f.custom.keys() {
                    match from.custom.get(k) {
                        Some(v) => drop(to.custom.insert(k.clone(), v.clone())),
                        None => drop(to.custom.remove(k)),
                    }
                }
            }
        }
    }
}

/// What postern last saw of an issue, sent or written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub fields: IssueFields,
    pub comments: BTreeMap<String, String>,
    pub attachments: BTreeSet<String>,
    /// Worklogs: id -> what of them is compared. `None` from an older
    /// postern, which kept none: what is there is taken as known.
    #[serde(default)]
    pub worklogs: Option<BTreeMap<String, String>>,
    /// Worklogs as postern last wrote them (no one changed them since).
    #[serde(default)]
    pub ours: BTreeSet<String>,
    /// The issue's `updated` then: the list shows it, so an issue that
    /// did not move since is not read again.
    #[serde(default)]
    pub updated_at: i64,
    /// The tracker's clock when it was read (its `Date`): read in a later
    /// second than its last update, it cannot have missed a change made
    /// in that same second.
    #[serde(default)]
    pub read_at: i64,
}

impl Snapshot {
    pub fn of(i: &Issue) -> Self {
        Snapshot {
            fields: i.fields.clone(),
            comments: i.comments.iter().map(|c| (c.id.clone(), c.body.clone())).collect(),
            attachments: i.attachments.iter().map(|a| a.id.clone()).collect(),
            worklogs: Some(i.worklogs.iter().map(|w| (w.id.clone(), fingerprint(w))).collect()),
            ours: BTreeSet::new(),
            updated_at: i.updated_at,
            read_at: 0,
        }
    }
}

pub struct State {
    path: std::path::PathBuf,
    /// Opened at first use (a check before saving a sync opens nothing).
    db: Mutex<Option<Connection>>,
    /// Read but not yet committed by the engine.
    pub staged: Mutex<HashMap<String, Snapshot>>,
}

impl State {
    pub fn new(path: &Path) -> Self {
        State { path: path.to_path_buf(), db: Mutex::new(None), staged: Mutex::new(HashMap::new()) }
    }

    fn with_db<T>(&self, f: impl FnOnce(&Connection) -> TResult<T>) -> TResult<T> {
        let mut guard = self.db.lock().expect("lock");
        if guard.is_none() {
            let path = &self.path;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let db = Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            db.busy_timeout(std::time::Duration::from_secs(10))?;
            db.execute_batch(
                "PRAGMA journal_mode = WAL;
                 CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, state TEXT NOT NULL);",
            )?;
            *guard = Some(db);
        }
        f(guard.as_ref().expect("opened"))
    }

    pub fn get(&self, key: &str) -> TResult<Option<Snapshot>> {
        if let Some(s) = self.staged.lock().expect("lock").get(key) {
            return Ok(Some(s.clone()));
        }
        let text: Option<String> = self.with_db(|db| {
            Ok(db.query_row("SELECT state FROM seen WHERE key = ?1", [key], |r| r.get(0)).optional()?)
        })?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    pub fn put(&self, key: &str, s: &Snapshot) -> TResult<()> {
        let state = serde_json::to_string(s)?;
        self.with_db(|db| {
            db.execute(
                "INSERT INTO seen (key, state) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET state = ?2",
                params![key, state],
            )?;
            Ok(())
        })
    }

    /// What postern itself just wrote: never reported as a change.
    pub fn written(&self, i: &Issue) -> TResult<()> {
        let before = self.get(&i.key)?;
        self.staged.lock().expect("lock").remove(&i.key);
        let mut now = Snapshot::of(i);
        // What this write changed is postern's; what it left stays as it was.
        now.ours = changed(before.as_ref(), &now, true);
        self.put(&i.key, &now)
    }

    /// Forgets issue `key`: read next as never seen (one the sync user
    /// made is then compared by who did what, see `diff`).
    pub fn forget(&self, key: &str) -> TResult<()> {
        self.staged.lock().expect("lock").remove(key);
        self.with_db(|db| {
            db.execute("DELETE FROM seen WHERE key = ?1", [key])?;
            Ok(())
        })
    }

    /// What postern itself just wrote, and only that: a person's change
    /// made meanwhile and not read yet stays news (it differs from what is
    /// kept). `i`: the issue as read after the write; `made_by_sync_user`:
    /// whether the sync user made it. One never seen is kept whole, unless
    /// the sync user made it: then it stays unknown, and detection tells
    /// what others did in it by who did what (a person's edit between a
    /// lost answer and this write is not taken for postern's).
    pub fn written_part(&self, i: &Issue, what: Wrote<'_>, made_by_sync_user: bool) -> TResult<()> {
        let Some(before) = self.get(&i.key)? else {
            if made_by_sync_user && !matches!(what, Wrote::Issue) {
                return Ok(());
            }
            return self.written(i);
        };
        self.staged.lock().expect("lock").remove(&i.key);
        let mut now = before.clone();
        match what {
            Wrote::Issue => return self.written(i),
            Wrote::Fields(f) => copy_fields(&mut now.fields, &i.fields, f),
            Wrote::Comment(id, _) => match i.comments.iter().find(|c| c.id == id) {
                Some(c) => drop(now.comments.insert(id.into(), c.body.clone())),
                None => drop(now.comments.remove(id)),
            },
            Wrote::Attachment(id) => match i.attachments.iter().any(|a| a.id == id) {
                true => drop(now.attachments.insert(id.into())),
                false => drop(now.attachments.remove(id)),
            },
            Wrote::Worklog(id) => {
                let list = now.worklogs.get_or_insert_with(Default::default);
                match i.worklogs.iter().find(|w| w.id == id) {
                    Some(w) => {
                        list.insert(id.into(), fingerprint(w));
                        now.ours.insert(id.into());
                    }
                    None => {
                        list.remove(id);
                        now.ours.remove(id);
                    }
                }
            }
        }
        self.put(&i.key, &now)
    }

    /// What postern just wrote, kept without reading the issue again,
    /// where what the tracker holds reads back as written (the summary,
    /// the description and a comment's text: each dialect's round trip).
    /// False (nothing kept): read the issue, and use `written_part`.
    pub fn written_known(&self, key: &str, what: &Wrote<'_>) -> TResult<bool> {
        let Some(mut now) = self.get(key)? else {
            return Ok(false);
        };
        let text = |t: &str| t.replace("\r\n", "\n");
        match what {
            Wrote::Fields(f) if f.names().iter().all(|n| matches!(*n, "summary" | "description")) => {
                if let Some(s) = &f.summary {
                    now.fields.summary = s.clone();
                }
                if let Some(d) = &f.description {
                    now.fields.description = text(d);
                }
            }
            Wrote::Comment(id, Some(body)) => drop(now.comments.insert(id.to_string(), text(body))),
            Wrote::Comment(id, None) => drop(now.comments.remove(*id)),
            _ => return Ok(false),
        }
        self.staged.lock().expect("lock").remove(key);
        self.put(key, &now)?;
        Ok(true)
    }

    /// Whether worklog `id` of `key` is as postern last wrote it, at `fp`.
    pub fn ours(&self, key: &str, id: &str, fp: &str) -> TResult<bool> {
        Ok(self.get(key)?.is_some_and(|s| {
            s.ours.contains(id) && s.worklogs.as_ref().and_then(|l| l.get(id)).is_some_and(|f| f == fp)
        }))
    }

    /// What was read was not stored: the next read compares with what
    /// was kept before it.
    pub fn discard(&self) {
        self.staged.lock().expect("lock").clear();
    }

    /// The engine committed what was read: keep it.
    pub fn commit(&self) -> TResult<()> {
        let staged: Vec<(String, Snapshot)> = self.staged.lock().expect("lock").drain().collect();
        for (k, s) in staged {
            self.put(&k, &s)?;
        }
        Ok(())
    }

    pub fn keys(&self) -> TResult<Vec<String>> {
        self.with_db(|db| {
            let mut st = db.prepare("SELECT key FROM seen")?;
            let keys = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            Ok(keys)
        })
    }
}

/// The worklogs postern wrote last after `now` was taken: those it wrote
/// before and nobody changed, and (`written`) those this write changed.
pub fn changed(before: Option<&Snapshot>, now: &Snapshot, written: bool) -> BTreeSet<String> {
    let old = before.and_then(|b| b.worklogs.as_ref());
    let mut out = BTreeSet::new();
    for (id, fp) in now.worklogs.iter().flatten() {
        let same = old.and_then(|o| o.get(id)) == Some(fp);
        let was_ours = before.is_some_and(|b| b.ours.contains(id));
        if (same && was_ours) || (!same && written) {
            out.insert(id.clone());
        }
    }
    out
}
