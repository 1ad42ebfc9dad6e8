//! Change detection: issues updated in the JQL window (see `jql`; pages
//! anchored as `remote::listing` says), each
//! read again only when its `updated` moved, compared with what postern
//! last saw (`remote::state`); a periodic full rescan catches what does not
//! move `updated`. What the sync user did is never reported: its comments,
//! attachments, and fields it set last (from the change history).

use serde_json::Value;

use super::issue::is_sync_user;
use super::jql::Cursor;
use super::meta::{str_of, Meta};
use super::read::{item_sets, Found};
use super::Jira;
use crate::tracker::remote::detect::Round;
use crate::tracker::remote::diff::Who;
use crate::tracker::{ChangePage, TResult};

/// Who did what in one issue, from its JSON, comments and history.
struct History<'a> {
    v: &'a Value,
    /// Each comment's id, whether the sync user wrote it, and whether it
    /// changed it last.
    comments: Vec<(String, bool, bool)>,
    histories: Vec<Value>,
    m: &'a Meta,
}

impl Who for History<'_> {
    fn creator(&self) -> (String, bool) {
        let c = &self.v["fields"]["creator"];
        let name = super::issue::user_name(c, self.m).map(|(n, _)| n).unwrap_or_default();
        (name, is_sync_user(c, self.m))
    }
    fn comment_by_sync_user(&self, id: &str) -> bool {
        self.comments.iter().any(|(c, ours, _)| c == id && *ours)
    }
    fn comment_last_edited_by_sync_user(&self, id: &str) -> bool {
        self.comments.iter().any(|(c, _, last)| c == id && *last)
    }
    fn attachment_by_sync_user(&self, id: &str) -> bool {
        self.v["fields"]["attachment"]
            .as_array()
            .and_then(|l| l.iter().find(|a| str_of(&a["id"]) == id))
            .is_some_and(|a| is_sync_user(&a["author"], self.m))
    }
    fn field_last_set_by_sync_user(&self, field: &str) -> bool {
        self.last_setter(field).is_some_and(|h| is_sync_user(&h["author"], self.m))
    }
    fn field_last_set_by_someone_else(&self, field: &str) -> bool {
        self.last_setter(field).is_some_and(|h| !is_sync_user(&h["author"], self.m))
    }
}

impl History<'_> {
    /// The last history entry that set `field`.
    fn last_setter(&self, field: &str) -> Option<&Value> {
        self.histories
            .iter()
            .rev()
            .find(|h| h["items"].as_array().into_iter().flatten().any(|i| item_sets(i, field, self.m)))
    }
}

/// A new sync starts now (or at `at`, when the tracker was away as it
/// was made): what was there then is known; what came after is news.
pub(super) fn start(j: &Jira, at: Option<i64>) -> TResult<String> {
    // Jira's clock where it said (JQL windows are in its time).
    let now = at.unwrap_or_else(|| j.api.server_now().unwrap_or_else(crate::clock::now_ms));
    let mut c = Cursor { t: now, full: crate::clock::now_ms(), ..Default::default() };
    for found in j.search_moved(c.t - super::jql::OVERLAP_MS, &[])? {
        if found.updated > now {
            continue;
        }
        j.state.written(&j.full(&found.v)?)?;
        c.read(&found.id, found.updated);
    }
    c.t = c.t.max(now);
    Ok(serde_json::to_string(&c)?)
}

pub fn changes(j: &Jira, cursor: &str) -> TResult<ChangePage> {
    if cursor.is_empty() || crate::tracker::remote::started_at(cursor).is_some() {
        let at = crate::tracker::remote::started_at(cursor);
        return Ok(ChangePage { next: start(j, at)?, done: true, ..Default::default() });
    }
    let m = j.meta()?;
    let mut c = Cursor::parse(cursor);
    let now = crate::clock::now_ms();
    let full = now - c.full >= j.settings.rescan_secs as i64 * 1000;
    let written: Vec<String> = std::mem::take(&mut *j.written_ids.lock().expect("lock"));
    // The search brings each issue whole: no call per issue.
    let listed = j.search_moved(c.t - super::jql::OVERLAP_MS, &written)?;
    // What was updated a minute before Jira's clock showed when it was
    // searched is listed by now: the next window need not go back further
    // (else a burst long past is listed again at every poll).
    if let Some(server) = j.api.server_now() {
        c.t = c.t.max(server - super::jql::OVERLAP_MS);
    }
    let mut keys: Vec<(String, Option<Found>)> = Vec::new();
    let listed_count = listed.len();
    for found in listed {
        // Cloud's search may lag: a copy no newer than what was read is no news.
        let older = j.state.get(&found.key)?.is_some_and(|s| s.updated_at >= found.updated);
        if older && !full {
            c.read(&found.id, found.updated);
        } else if full || c.is_new(&found.id, found.updated) {
            keys.push((found.key.clone(), Some(found)));
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
    let mut round = Round::default();
    for (key, listed) in keys {
        let v = match &listed {
            Some(found) if !full => found.v.clone(),
            _ => match j.issue_json(&key)? {
                Some(v) => v,
                None => continue, // deleted, or moved out of the project since
            },
        };
        let (issue, listed_comments) = j.full_with(&v, false)?;
        let comments = listed_comments
            .iter()
            .map(|x| {
                let by = if x["updateAuthor"].is_null() { &x["author"] } else { &x["updateAuthor"] };
                (str_of(&x["id"]), is_sync_user(&x["author"], m), is_sync_user(by, m))
            })
            .collect();
        // Who set a field last matters only when a field changed (or the
        // issue is not known as written: see `diff`).
        let fields_moved = j.state.get(&key)?.is_none_or(|b| b.fields != issue.fields);
        let histories = if fields_moved { j.changelog(&v)? } else { Vec::new() };
        round.issue(&j.state, &issue, &History { v: &v, comments, histories, m }, 0)?;
        if let Some(found) = listed {
            c.read(&found.id, found.updated);
        }
    }
    tracing::debug!(listed = listed_count, changes = round.count(), full, "Jira polled");
    Ok(round.page(serde_json::to_string(&c)?))
}
