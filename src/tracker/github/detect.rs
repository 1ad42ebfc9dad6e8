//! Change detection: the issues and the comments updated since the
//! cursor's window (two list calls per poll, each conditional: while
//! nothing moves the window stays put, and GitHub answers 304, which
//! costs no rate limit). An issue listed is compared with what postern
//! last saw of it; its comments are read only when they moved (listed,
//! or their count changed), its events (who set a field) only when a
//! field did. A periodic full read finds what moves no time GitHub lists
//! by (a deleted comment). What the sync user did is never reported.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::api::PER_PAGE;
use super::meta::str_of;
use super::read::{self, History};
use super::GitHub;
use crate::tracker::remote::cursor::{Cursor, OVERLAP_MS};
use crate::tracker::remote::detect::Round;
use crate::tracker::remote::state::Snapshot;
use crate::tracker::{ChangePage, TResult, WrittenBefore};

/// `ms` as GitHub's `since` (seconds, UTC).
fn iso(ms: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(ms.max(0)).unwrap_or_default();
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl GitHub {
    /// The repository's issues updated at or after `since` (ms), oldest
    /// first, pull requests left out.
    fn moved_issues(&self, since: i64) -> TResult<Vec<Value>> {
        let path = format!(
            "{}/issues?state=all&sort=updated&direction=asc&since={}&per_page={PER_PAGE}",
            self.settings.repo_path(),
            iso(since)
        );
        Ok(self.api.get_all(&path)?.into_iter().filter(|v| v["pull_request"].is_null()).collect())
    }

    /// The comments added or edited at or after `since`, by issue number
    /// (the repository's comments, pull requests' among them).
    fn moved_comments(&self, since: i64) -> TResult<BTreeMap<String, Vec<Value>>> {
        let path = format!(
            "{}/issues/comments?sort=updated&direction=asc&since={}&per_page={PER_PAGE}",
            self.settings.repo_path(),
            iso(since)
        );
        let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for c in self.api.get_all(&path)? {
            if let Some(n) = c["issue_url"].as_str().and_then(|u| u.rsplit('/').next()) {
                out.entry(n.to_string()).or_default().push(c);
            }
        }
        Ok(out)
    }
}

/// Whether any of `listed` (comments the window lists) is new or reads
/// otherwise than postern last saw it: the list brings each whole, so a
/// comment seen before costs no call, however often the window lists it.
fn comments_moved(listed: Option<&Vec<Value>>, before: Option<&Snapshot>, m: &super::meta::Meta) -> bool {
    listed.into_iter().flatten().any(|c| {
        let text = read::comment(c, m).body;
        before.and_then(|b| b.comments.get(&str_of(&c["id"]))) != Some(&text)
    })
}

/// A new sync starts now (or at `at`, when GitHub was away as it was
/// made): what was there then is known; what came after is news.
pub(super) fn start(g: &GitHub, at: Option<i64>) -> TResult<String> {
    g.meta()?;
    let now = at.unwrap_or_else(|| g.api.server_now().unwrap_or_else(crate::clock::now_ms));
    for v in g.moved_issues(now - OVERLAP_MS)? {
        if read::ms(&v["updated_at"]) <= now {
            g.state.written(&g.full(&v)?)?;
        }
    }
    let c = Cursor { t: now, full: crate::clock::now_ms(), ..Default::default() };
    Ok(serde_json::to_string(&c)?)
}

/// The comments of issue `v` as far as detection needs them: read when
/// they moved, else as last seen (an id and its text: only what is new or
/// changed is reported, and nothing is).
fn comments_of(g: &GitHub, v: &Value, before: Option<&Snapshot>, moved: bool) -> TResult<Vec<Value>> {
    let count = v["comments"].as_u64().unwrap_or(0) as usize;
    match before {
        Some(b) if !moved && b.comments.len() == count => Ok(b
            .comments
            .iter()
            .map(|(id, body)| json!({ "id": id.parse::<u64>().unwrap_or(0), "body": body, "user": {} }))
            .collect()),
        _ if count == 0 && before.is_none_or(|b| b.comments.is_empty()) => Ok(Vec::new()),
        _ => g.comments_json(&str_of(&v["number"])),
    }
}

/// `hinted`: issues a webhook named, read whole (their comments too).
pub fn changes(g: &GitHub, cursor: &str, hinted: &BTreeSet<String>) -> TResult<ChangePage> {
    if cursor.is_empty() || crate::tracker::remote::started_at(cursor).is_some() {
        let at = crate::tracker::remote::started_at(cursor);
        return Ok(ChangePage { next: start(g, at)?, done: true, ..Default::default() });
    }
    let m = g.meta()?;
    let mut c = Cursor::parse(cursor);
    let now = crate::clock::now_ms();
    let full = now - c.full >= g.settings.rescan_secs as i64 * 1000;
    let since = c.t - OVERLAP_MS;
    let mut listed: BTreeMap<String, Option<Value>> =
        g.moved_issues(since)?.into_iter().map(|v| (str_of(&v["number"]), Some(v))).collect();
    let comments_listed = g.moved_comments(since)?;
    // Whatever the window lists was read, and all of it is older than the
    // overlap before GitHub's clock: the window moves on to GitHub's now
    // (else a burst long past is listed, page by page, at every poll).
    // While it lists nothing it stays put, and GitHub answers 304.
    let updated = listed.values().flatten().map(|v| &v["updated_at"]);
    let updated: Vec<i64> =
        updated.chain(comments_listed.values().flatten().map(|c| &c["updated_at"])).map(read::ms).collect();
    let moved_on = match g.api.server_now() {
        Some(server) if !updated.is_empty() && updated.iter().all(|t| *t < server - OVERLAP_MS) => Some(server),
        _ => None,
    };
    let known: BTreeSet<String> = g.state.keys()?.into_iter().collect();
    for key in comments_listed.keys() {
        // A comment of an issue postern knows (else: a pull request's,
        // or an issue the listing brings anyway).
        if known.contains(key) {
            listed.entry(key.clone()).or_insert(None);
        }
    }
    for key in hinted.iter().filter(|k| known.contains(*k)) {
        listed.entry(key.clone()).or_insert(None);
    }
    if full {
        for key in known {
            listed.entry(key).or_insert(None);
        }
        c.full = now;
    }
    let mut round = Round::default();
    for (key, v) in listed {
        let v = match v {
            Some(v) => v,
            None => match g.issue_json(&key)? {
                Some(v) => v,
                None => continue, // deleted, moved away, or a pull request
            },
        };
        c.t = c.t.max(read::ms(&v["updated_at"]));
        let before = g.state.get(&key)?;
        let moved = full || hinted.contains(&key) || comments_moved(comments_listed.get(&key), before.as_ref(), &m);
        let comments = comments_of(g, &v, before.as_ref(), moved)?;
        let issue = read::issue(&v, &comments, &g.settings, &m);
        if before.as_ref().is_some_and(|b| b.fields == issue.fields && b.comments == Snapshot::of(&issue).comments) {
            continue;
        }
        let fields_moved = before.as_ref().is_none_or(|b| b.fields != issue.fields);
        let ours = m.is_sync_user(&v["user"]);
        let events = if fields_moved && (before.is_some() || ours) { g.events_json(&key)? } else { Vec::new() };
        round.issue(&g.state, &issue, &History { v: &v, comments: &comments, events, m: &m }, 0)?;
    }
    if let Some(server) = moved_on {
        c.t = c.t.max(server);
    }
    tracing::debug!(changes = round.count(), full, "GitHub polled");
    Ok(round.page(serde_json::to_string(&c)?))
}

/// The id of `write` (tagged `tag`) if the sync user made it at or after
/// `since`: an issue it opened, or a comment it wrote.
pub(super) fn find(g: &GitHub, write: &WrittenBefore<'_>, tag: &str, since: i64) -> TResult<Option<String>> {
    let m = g.meta()?;
    // In GitHub's clock, as the Date of its last answer says.
    let since = since + g.api.server_now().map_or(0, |s| s - crate::clock::now_ms()) - 2000;
    let matched = |mark: Option<String>, same: bool, at: &Value| match mark {
        Some(mark) => mark == tag,
        None => same && read::ms(at) >= since,
    };
    match *write {
        WrittenBefore::Issue { summary } => {
            let path = format!(
                "{}/issues?state=all&creator={}&sort=created&direction=desc&since={}&per_page={PER_PAGE}",
                g.settings.repo_path(),
                crate::tracker::remote::http::encode(&m.login),
                iso(since - OVERLAP_MS)
            );
            let list = g.api.get_all(&path)?;
            Ok(list.iter().filter(|v| v["pull_request"].is_null() && m.is_sync_user(&v["user"])).find_map(|v| {
                let mark = read::split_mark(v["body"].as_str().unwrap_or_default()).1;
                matched(mark, v["title"] == summary, &v["created_at"]).then(|| str_of(&v["number"]))
            }))
        }
        WrittenBefore::Comment { key, body, author } => {
            if g.issue_json(key)?.is_none() {
                return Ok(None);
            }
            Ok(g.comments_json(key)?.iter().rev().filter(|c| m.is_sync_user(&c["user"])).find_map(|c| {
                let (behalf, text, mark) = read::comment_parts(c["body"].as_str().unwrap_or_default(), true);
                let same = text == body && behalf.as_deref() == author;
                matched(mark, same, &c["created_at"]).then(|| str_of(&c["id"]))
            }))
        }
        // Never written: GitHub holds neither.
        WrittenBefore::Attachment { .. } | WrittenBefore::Worklog { .. } => Ok(None),
    }
}
