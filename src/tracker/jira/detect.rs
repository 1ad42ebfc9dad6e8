//! Change detection: issues updated in the JQL window (see `jql`), each
//! read again only when its `updated` moved, compared with what postern
//! last saw (`remote::state`); a periodic full rescan catches what does not
//! move `updated`. What the sync user did is never reported: its comments,
//! attachments, and fields it set last (from the change history).

use serde_json::Value;

use super::issue::is_sync_user;
use super::jql::{updated_since, Cursor};
use super::meta::{str_of, Meta};
use super::read::item_sets;
use super::Jira;
use crate::tracker::remote::diff::{changed, diff, Who};
use crate::tracker::remote::state::Seen;
use crate::tracker::{ChangePage, ChangeRecord, TResult};

/// Who did what in one issue, from its JSON, comments and history.
struct History<'a> {
    v: &'a Value,
    comments: Vec<(String, bool)>,
    histories: Vec<Value>,
    m: &'a Meta,
}

impl Who for History<'_> {
    fn creator(&self) -> (String, bool) {
        let c = &self.v["fields"]["creator"];
        let name = super::issue::user_name(c, self.m.flavour).map(|(n, _)| n).unwrap_or_default();
        (name, is_sync_user(c, self.m))
    }
    fn comment_by_sync_user(&self, id: &str) -> bool {
        self.comments.iter().any(|(c, ours)| c == id && *ours)
    }
    fn attachment_by_sync_user(&self, id: &str) -> bool {
        self.v["fields"]["attachment"]
            .as_array()
            .and_then(|l| l.iter().find(|a| str_of(&a["id"]) == id))
            .is_some_and(|a| is_sync_user(&a["author"], self.m))
    }
    fn field_last_set_by_sync_user(&self, field: &str) -> bool {
        self.histories
            .iter()
            .rev()
            .find(|h| h["items"].as_array().into_iter().flatten().any(|i| item_sets(i, field, self.m)))
            .is_some_and(|h| is_sync_user(&h["author"], self.m))
    }
}

/// A new sync starts now: what is there is known.
fn start(j: &Jira) -> TResult<String> {
    let mut c = Cursor { t: crate::store::now_ms(), ..Default::default() };
    c.full = c.t;
    let m = j.meta()?;
    for (id, key, updated) in j.search_all(&updated_since(&j.settings.project, &c.window(m.time_zone)), &[])? {
        if let Some(v) = j.issue_json(&key)? {
            j.state.written(&j.full(&v)?)?;
        }
        c.read(&id, updated);
    }
    c.t = c.t.max(crate::store::now_ms());
    Ok(serde_json::to_string(&c)?)
}

pub fn changes(j: &Jira, cursor: &str) -> TResult<ChangePage> {
    if cursor.is_empty() {
        return Ok(ChangePage { changes: Vec::new(), next: start(j)? });
    }
    let m = j.meta()?;
    let mut c = Cursor::parse(cursor);
    let now = crate::store::now_ms();
    let full = now - c.full >= j.settings.rescan_secs as i64 * 1000;
    let written: Vec<String> = std::mem::take(&mut *j.written_ids.lock().expect("lock"));
    let listed = j.search_all(&updated_since(&j.settings.project, &c.window(m.time_zone)), &written)?;
    let mut keys: Vec<(String, Option<(String, i64)>)> = Vec::new();
    for (id, key, updated) in listed {
        if full || c.is_new(&id, updated) {
            keys.push((key, Some((id, updated))));
        }
    }
    if full {
        for k in j.state.keys()? {
            if !keys.iter().any(|(key, _)| *key == k) {
                keys.push((k, None));
            }
        }
        c.full = now;
    }
    let mut changes = Vec::new();
    for (key, listed) in keys {
        let Some(v) = j.issue_json(&key)? else {
            continue; // deleted, or moved out of the project since
        };
        let (issue, listed_comments) = j.full_with(&v, false)?;
        let comments = listed_comments.iter().map(|x| (str_of(&x["id"]), is_sync_user(&x["author"], m))).collect();
        let before = j.state.get(&key)?;
        // Who set a field last matters only when a field changed.
        let fields_moved = before.as_ref().is_some_and(|b| b.fields != issue.fields);
        let histories = if fields_moved { j.changelog(&v)? } else { Vec::new() };
        let who = History { v: &v, comments, histories, m };
        for (at, actor, kind) in diff(before.as_ref(), &issue, &who) {
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
        let mut seen = Seen::of(&issue);
        seen.ours = changed(before.as_ref(), &seen, false);
        j.state.staged.lock().expect("lock").insert(key.clone(), seen);
        if let Some((id, updated)) = listed {
            c.read(&id, updated);
        }
    }
    let next = serde_json::to_string(&c)?;
    for ch in &mut changes {
        ch.cursor = next.clone();
    }
    Ok(ChangePage { changes, next })
}
