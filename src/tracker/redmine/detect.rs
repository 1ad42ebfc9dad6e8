//! Change detection by state: Redmine keeps no change log postern could
//! read, so issues updated since the cursor (with an overlap: its times
//! have whole seconds and `>=` is inclusive) are compared with what was
//! last sent or written (kept in the backend's own small database), and
//! a periodic full rescan catches what does not move `updated_on`
//! (journal edits, attachment deletions). What the sync user wrote is
//! never reported (it came from the partner). What differs is `diff`'s.

use crate::tracker::remote::rest::Rest;
use crate::tracker::Reads;
use serde::{Deserialize, Serialize};

use super::issue::ms;
use super::Redmine;
use crate::tracker::remote::detect::Round;
use crate::tracker::remote::listing::{anchored, Listed};
use crate::tracker::remote::state::fingerprint;
use crate::tracker::{ChangePage, TResult};

/// Seconds read again before the cursor.
const OVERLAP_MS: i64 = 2000;

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

/// A new sync starts after the newest issue now there (or at `at`, when
/// Redmine was away as the sync was made: what was there then is known,
/// what came after is news).
pub fn start(r: &Redmine, at: Option<i64>) -> TResult<String> {
    let m = r.meta()?;
    let t = match at {
        Some(at) => at,
        None => {
            let newest = format!("/issues.json?project_id={}&status_id=*&sort=updated_on:desc&limit=1", m.project_id);
            let v = r.api.get(&newest)?;
            v["issues"].as_array().and_then(|l| l.first()).map_or(0, |i| ms(&i["updated_on"]))
        }
    };
    // The overlap reads the last seconds before the start again: what is
    // there now is known, so only later changes count.
    for (key, updated) in updated_since(r, t - OVERLAP_MS)?.0 {
        if updated > t {
            continue;
        }
        if let Some(i) = Reads::issue(r, &key)? {
            r.state.written(&i)?;
        }
    }
    Ok(serde_json::to_string(&Cursor { t, full: crate::clock::now_ms(), entries: None })?)
}

/// Issues updated at or after `since` (ms), oldest first, with their
/// `updated_on`; and Redmine's clock when it answered. Pages are anchored
/// (see `remote::listing`): Redmine's grain is a second.
fn updated_since(r: &Redmine, since: i64) -> TResult<(Vec<(String, i64)>, i64)> {
    const PAGE: usize = 100;
    let m = r.meta()?;
    let mut server_time = 0;
    let listed = anchored(since.max(0), 1000, |from, offset: Option<usize>| {
        let offset = offset.unwrap_or(0);
        let when = chrono::DateTime::from_timestamp_millis(from).unwrap_or_default();
        let stamp = when.format("%Y-%m-%dT%H:%M:%SZ");
        let (v, date) = r.api.get_dated(&format!(
            "/issues.json?project_id={}&status_id=*&updated_on=%3E%3D{stamp}&sort=updated_on,id&limit={PAGE}&offset={offset}",
            m.project_id,
        ))?;
        if server_time == 0 {
            server_time = date.unwrap_or(0);
        }
        let rows: Vec<Listed<()>> = v["issues"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| Some(Listed { key: i["id"].as_u64()?.to_string(), updated: ms(&i["updated_on"]), row: () }))
            .collect();
        let more = (rows.len() >= PAGE).then_some(offset + rows.len());
        Ok((rows, more))
    })?;
    Ok((listed.into_iter().map(|l| (l.key, l.updated)).collect(), server_time))
}

pub fn changes(r: &Redmine, cursor: &str, _limit: usize) -> TResult<ChangePage> {
    if cursor.is_empty() || crate::tracker::remote::started_at(cursor).is_some() {
        let at = crate::tracker::remote::started_at(cursor);
        return Ok(ChangePage { next: start(r, at)?, done: true, ..Default::default() });
    }
    let mut c = parse(cursor);
    let now = crate::clock::now_ms();
    r.recent.lock().expect("lock").clear();
    let (listed, server_time) = updated_since(r, c.t - OVERLAP_MS)?;
    let full = now - c.full >= r.settings.rescan_secs as i64 * 1000;
    let mut keys = Vec::new();
    let before = c.t;
    let listed_count = listed.len();
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
            let known = seen
                .as_ref()
                .is_some_and(|s| s.worklogs.as_ref().is_none_or(|l| l.get(&w.id) == Some(&fingerprint(&w))));
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
    let mut round = Round::default();
    for key in keys {
        let Some(v) = r.issue_json(&key)? else {
            continue; // deleted, or moved out of the project since
        };
        if v["project"]["id"].as_u64() != Some(m.project_id) {
            continue;
        }
        // The cursor moves by what was listed only: an issue read after the
        // listing may be newer than others updated meanwhile and not listed.
        let now_issue = r.full(&v)?;
        // Read after this listing: not earlier than Redmine's clock then.
        round.issue(&r.state, &now_issue, &Journals { v: &v, m }, server_time)?;
        r.recent.lock().expect("lock").insert(key, now_issue);
    }
    tracing::debug!(listed = listed_count, changes = round.count(), full, "Redmine polled");
    Ok(round.page(serde_json::to_string(&c)?))
}

/// Who wrote what, from an issue's journals and authors.
struct Journals<'a> {
    v: &'a serde_json::Value,
    m: &'a super::meta::Meta,
}

impl crate::tracker::remote::diff::Who for Journals<'_> {
    fn creator(&self) -> (String, bool) {
        let a = &self.v["author"];
        (a["name"].as_str().unwrap_or_default().into(), a["id"].as_u64() == Some(self.m.user_id))
    }
    fn comment_by_sync_user(&self, id: &str) -> bool {
        super::issue::journal(self.v, id).is_some_and(|j| j["user"]["id"].as_u64() == Some(self.m.user_id))
    }
    /// Redmine 5.1 says who edited a note last (`updated_by`). Before it,
    /// nothing does; the sync user's notes change only through postern,
    /// which keeps the text it wrote: a different text is a person's edit.
    fn comment_last_edited_by_sync_user(&self, id: &str) -> bool {
        super::issue::journal(self.v, id)
            .and_then(|j| j["updated_by"]["id"].as_u64())
            .is_some_and(|by| by == self.m.user_id)
    }
    fn attachment_by_sync_user(&self, id: &str) -> bool {
        self.v["attachments"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["id"].as_u64().map(|i| i.to_string()).as_deref() == Some(id)))
            .is_some_and(|x| x["author"]["id"].as_u64() == Some(self.m.user_id))
    }
    fn field_last_set_by_sync_user(&self, field: &str) -> bool {
        super::issue::last_setter(self.v, field, self.m) == Some(self.m.user_id)
    }
    fn field_last_set_by_someone_else(&self, field: &str) -> bool {
        super::issue::last_setter(self.v, field, self.m).is_some_and(|u| u != self.m.user_id)
    }
}
