//! Change detection by state: Redmine keeps no change log postern could
//! read, so issues updated since the cursor (with an overlap: its times
//! have whole seconds and `>=` is inclusive) are compared with what was
//! last sent or written (kept in the backend's own small database), and
//! a periodic full rescan catches what does not move `updated_on`
//! (journal edits, attachment deletions). What the sync user wrote is
//! never reported (it came from the partner). What differs is `diff`'s.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::diff::{changed, diff};
use super::issue::ms;
use super::Redmine;
use crate::protocol::IssueFields;
use crate::tracker::{ChangePage, ChangeRecord, Issue, TResult};

/// Seconds read again before the cursor.
const OVERLAP_MS: i64 = 2000;

/// What postern last saw of an issue, sent or written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Seen {
    pub(super) fields: IssueFields,
    pub(super) comments: BTreeMap<String, String>,
    pub(super) attachments: BTreeSet<String>,
    /// Worklogs: id -> what of them is compared. `None` from an older
    /// postern, which kept none: what is there is taken as known.
    #[serde(default)]
    pub(super) worklogs: Option<BTreeMap<String, String>>,
    /// Worklogs as postern last wrote them (no one changed them since).
    #[serde(default)]
    pub(super) ours: BTreeSet<String>,
    /// The issue's `updated_on` then: the list shows it, so an issue that
    /// did not move since is not read again.
    #[serde(default)]
    pub(super) updated_at: i64,
    /// Redmine's clock when it was read (its `Date`): read in a later
    /// second than its last update, it cannot have missed a change made
    /// in that same second.
    #[serde(default)]
    pub(super) read_at: i64,
}

impl Seen {
    fn of(i: &Issue) -> Self {
        Seen {
            fields: i.fields.clone(),
            comments: i.comments.iter().map(|c| (c.id.clone(), c.body.clone())).collect(),
            attachments: i.attachments.iter().map(|a| a.id.clone()).collect(),
            worklogs: Some(i.worklogs.iter().map(|w| (w.id.clone(), super::time::fingerprint(w))).collect()),
            ours: BTreeSet::new(),
            updated_at: i.updated_at,
            read_at: 0,
        }
    }
}

/// Where reading goes on: the newest `updated_on` read, and when all
/// synced issues were last read in full.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Cursor {
    t: i64,
    full: i64,
    /// How many time entries the project had at the last read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entries: Option<u64>,
}

fn parse(cursor: &str) -> Cursor {
    serde_json::from_str(cursor).unwrap_or_default()
}

pub struct State {
    path: std::path::PathBuf,
    /// Opened at first use (a check before saving a sync opens nothing).
    db: Mutex<Option<Connection>>,
    /// Read but not yet committed by the engine.
    staged: Mutex<HashMap<String, Seen>>,
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

    fn get(&self, key: &str) -> TResult<Option<Seen>> {
        if let Some(s) = self.staged.lock().expect("lock").get(key) {
            return Ok(Some(s.clone()));
        }
        let text: Option<String> = self.with_db(|db| {
            Ok(db.query_row("SELECT state FROM seen WHERE key = ?1", [key], |r| r.get(0)).optional()?)
        })?;
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    fn put(&self, key: &str, s: &Seen) -> TResult<()> {
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
        let mut now = Seen::of(i);
        // What this write changed is postern's; what it left stays as it was.
        now.ours = changed(before.as_ref(), &now, true);
        self.put(&i.key, &now)
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
        let staged: Vec<(String, Seen)> = self.staged.lock().expect("lock").drain().collect();
        for (k, s) in staged {
            self.put(&k, &s)?;
        }
        Ok(())
    }

    fn keys(&self) -> TResult<Vec<String>> {
        self.with_db(|db| {
            let mut st = db.prepare("SELECT key FROM seen")?;
            let keys = st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            Ok(keys)
        })
    }
}

/// A new sync starts after the newest issue now there.
pub fn start(r: &Redmine) -> TResult<String> {
    let m = r.meta()?;
    let v = r.api.get(&format!("/issues.json?project_id={}&status_id=*&sort=updated_on:desc&limit=1", m.project_id))?;
    let t = v["issues"].as_array().and_then(|l| l.first()).map_or(0, |i| ms(&i["updated_on"]));
    // The overlap reads the last seconds before the start again: what is
    // there now is known, so only later changes count.
    for (key, _) in updated_since(r, t - OVERLAP_MS)?.0 {
        if let Some(i) = crate::tracker::Tracker::issue(r, &key)? {
            r.state.written(&i)?;
        }
    }
    Ok(serde_json::to_string(&Cursor { t, full: crate::store::now_ms(), entries: None })?)
}

/// Issues updated at or after `since` (ms), oldest first, with their
/// `updated_on`; and Redmine's clock when it answered.
fn updated_since(r: &Redmine, since: i64) -> TResult<(Vec<(String, i64)>, i64)> {
    let m = r.meta()?;
    let when = chrono::DateTime::from_timestamp_millis(since.max(0)).unwrap_or_default();
    let stamp = when.format("%Y-%m-%dT%H:%M:%SZ");
    let mut keys = Vec::new();
    let mut server_time = 0;
    loop {
        let (v, date) = r.api.get_dated(&format!(
            "/issues.json?project_id={}&status_id=*&updated_on=%3E%3D{stamp}&sort=updated_on,id&limit=100&offset={}",
            m.project_id,
            keys.len()
        ))?;
        let page = v["issues"].as_array().cloned().unwrap_or_default();
        if server_time == 0 {
            server_time = date.unwrap_or(0);
        }
        keys.extend(page.iter().filter_map(|i| Some((i["id"].as_u64()?.to_string(), ms(&i["updated_on"])))));
        if page.is_empty() || keys.len() as u64 >= v["total_count"].as_u64().unwrap_or(0) {
            return Ok((keys, server_time));
        }
    }
}

pub fn changes(r: &Redmine, cursor: &str, _limit: usize) -> TResult<ChangePage> {
    if cursor.is_empty() {
        return Ok(ChangePage { changes: Vec::new(), next: start(r)? });
    }
    let mut c = parse(cursor);
    let now = crate::store::now_ms();
    r.recent.lock().expect("lock").clear();
    let (listed, server_time) = updated_since(r, c.t - OVERLAP_MS)?;
    let full = now - c.full >= r.settings.rescan_secs as i64 * 1000;
    let mut keys = Vec::new();
    let before = c.t;
    for (key, updated) in listed {
        c.t = c.t.max(updated);
        // Read again only what moved since it was last seen. An issue of
        // the newest second so far is read again anyway: a second change
        // within that second keeps its `updated_on`. (Once a newer second
        // was listed, that second had ended, and the issue was read after.)
        let unmoved = r
            .state
            .get(&key)?
            .is_some_and(|s| s.updated_at == updated && (updated < before || s.read_at >= updated + 1000));
        if full || !unmoved {
            keys.push(key);
        }
    }
    // Time entries do not move their issue: the newest ones tell which
    // issues have worklogs not seen yet.
    if let Some((recent, total)) = r.recent_worklogs()? {
        let mut new = 0;
        for (key, w) in recent {
            let seen = r.state.get(&key)?;
            let known = seen.as_ref().is_some_and(|s| {
                s.worklogs.as_ref().is_none_or(|l| l.get(&w.id) == Some(&super::time::fingerprint(&w)))
            });
            if !seen.is_some_and(|s| s.worklogs.as_ref().is_none_or(|l| l.contains_key(&w.id))) {
                new += 1;
            }
            if !known && !keys.contains(&key) {
                keys.push(key);
            }
        }
        // Fewer than before plus those new: some were deleted. The issues
        // with worklogs are read again (not all issues).
        if c.entries.is_some_and(|before| total < before + new) && !full {
            for k in r.state.keys()? {
                let has = r.state.get(&k)?.is_some_and(|s| s.worklogs.as_ref().is_some_and(|l| !l.is_empty()));
                if has && !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        c.entries = Some(total);
    }
    if full {
        for k in r.state.keys()? {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        c.full = now;
    }
    let m = r.meta()?;
    let mut changes = Vec::new();
    for key in keys {
        let Some(v) = r.issue_json(&key)? else {
            continue; // deleted, or moved out of the project since
        };
        if v["project"]["id"].as_u64() != Some(m.project_id) {
            continue;
        }
        let now_issue = r.full(&v)?;
        c.t = c.t.max(now_issue.updated_at);
        let before = r.state.get(&key)?;
        for (at, actor, kind) in diff(before.as_ref(), &now_issue, &v, m) {
            changes.push(ChangeRecord {
                cursor: String::new(),
                issue_key: key.clone(),
                at,
                actor,
                origin: None,
                via: Vec::new(),
                kind,
            });
        }
        // Read after this listing: not earlier than Redmine's clock then.
        let mut seen = Seen { read_at: server_time, ..Seen::of(&now_issue) };
        seen.ours = changed(before.as_ref(), &seen, false);
        r.state.staged.lock().expect("lock").insert(key.clone(), seen);
        r.recent.lock().expect("lock").insert(key, now_issue);
    }
    let next = serde_json::to_string(&c)?;
    for ch in &mut changes {
        ch.cursor = next.clone();
    }
    Ok(ChangePage { changes, next })
}
