//! Worklogs in Redmine: time entries (`/time_entries.json`), in minutes
//! on the wire and hours here. Time logged for someone at the partner is
//! logged for the user the mapping names, with the partner's name kept at
//! the start of the comment. Time entries do not move an issue's
//! `updated_on`: change detection lists the newest ones each poll, and the
//! full rescan finds deletions.

use crate::tracker::remote::rest::Rest;
use serde_json::{json, Value};

use super::issue::ms;
use super::Redmine;
use crate::tracker::remote::state::Wrote;
use crate::tracker::{CommentOrigin, NewWorklog, Refusal, TResult, TrackerError, Worklog};

const PARTNER: &str = " (at the partner): ";

/// The newest time entries `(issue key, worklog)` and the project's total.
pub type Recent = (Vec<(String, Worklog)>, u64);

/// The comment written for time logged for `author` at the partner.
fn comment_for(comment: &str, author: Option<&str>) -> String {
    match author {
        Some(a) => format!("{a}{PARTNER}{comment}"),
        None => comment.to_string(),
    }
}

/// `(on behalf of, comment)` of a time entry's comment.
fn split(comment: &str) -> (Option<String>, String) {
    match comment.split_once(PARTNER) {
        Some((author, rest)) if !author.is_empty() && !author.contains('\n') => (Some(author.into()), rest.into()),
        _ => (None, comment.to_string()),
    }
}

pub fn from_json(e: &Value) -> Worklog {
    let (on_behalf_of, comment) = split(e["comments"].as_str().unwrap_or_default());
    Worklog {
        id: e["id"].as_u64().unwrap_or_default().to_string(),
        author: e["user"]["name"].as_str().unwrap_or_default().to_string(),
        on_behalf_of,
        minutes: (e["hours"].as_f64().unwrap_or_default() * 60.0).round() as u32,
        spent_on: e["spent_on"].as_str().unwrap_or_default().to_string(),
        comment,
        email: None,
        updated_at: ms(&e["updated_on"]),
    }
}

impl Redmine {
    fn time_tracking(&self) -> TResult<()> {
        if self.meta()?.time_tracking {
            return Ok(());
        }
        Err(Refusal::Invalid(format!(
            "Redmine project {} does not have time tracking: enable the module \"Time tracking\" in the project's \
             settings to sync worklogs",
            self.settings.project
        ))
        .into())
    }

    /// The time entries of issue `key`, oldest first (none without time
    /// tracking).
    pub(super) fn worklogs(&self, key: &str) -> TResult<Vec<Worklog>> {
        if !self.meta()?.time_tracking {
            return Ok(Vec::new());
        }
        let mut out: Vec<Value> = Vec::new();
        loop {
            let path = format!("/time_entries.json?issue_id={key}&limit=100&offset={}", out.len());
            let v = self.api.get(&path)?;
            let page = v["time_entries"].as_array().cloned().unwrap_or_default();
            // Only the issue's own (not its subtasks').
            out.extend(
                page.iter()
                    .filter(|e| e["issue"]["id"].as_u64().map(|i| i.to_string()).as_deref() == Some(key))
                    .cloned(),
            );
            if page.is_empty() || (out.len() as u64) >= v["total_count"].as_u64().unwrap_or(0) {
                break;
            }
        }
        out.sort_by_key(|e| (ms(&e["created_on"]), e["id"].as_u64()));
        Ok(out.iter().map(from_json).collect())
    }

    /// The newest time entries of the project (by creation: Redmine sorts
    /// by no update time), `(issue key, worklog)`, and how many the project
    /// has (fewer than expected: one was deleted). Edits of older ones are
    /// found by the full rescan. `None` without time tracking.
    pub(super) fn recent_worklogs(&self) -> TResult<Option<Recent>> {
        let m = self.meta()?;
        if !m.time_tracking {
            return Ok(None);
        }
        let v =
            self.api.get(&format!("/time_entries.json?project_id={}&sort=created_on:desc&limit=100", m.project_id))?;
        let list = v["time_entries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| Some((e["issue"]["id"].as_u64()?.to_string(), from_json(e))))
            .collect();
        Ok(Some((list, v["total_count"].as_u64().unwrap_or_default())))
    }

    fn entry_json(
        &self,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
    ) -> TResult<serde_json::Map<String, Value>> {
        crate::tracker::checks::check_worklog(w)?;
        let m = self.meta()?;
        let mut e = serde_json::Map::new();
        e.insert("hours".into(), json!(f64::from(w.minutes) / 60.0));
        e.insert("spent_on".into(), json!(w.spent_on));
        e.insert("comments".into(), json!(comment_for(w.comment, origin.map(|o| o.author))));
        if let Some(u) = w.user.filter(|u| *u != m.user_name) {
            let id = m.members.get(u).ok_or_else(|| Refusal::Unknown {
                what: "user".into(),
                value: u.into(),
                known: m.members.keys().cloned().collect(),
            })?;
            e.insert("user_id".into(), json!(id));
        }
        Ok(e)
    }

    pub(super) fn log_time(&self, key: &str, w: &NewWorklog<'_>, origin: Option<CommentOrigin<'_>>) -> TResult<String> {
        self.time_tracking()?;
        self.must_issue(key)?;
        let mut e = self.entry_json(w, origin)?;
        e.insert("issue_id".into(), json!(key.parse::<u64>().unwrap_or_default()));
        if let Some(a) = self.meta()?.activity_id {
            e.insert("activity_id".into(), json!(a));
        }
        let made = self.api.post("/time_entries.json", &json!({ "time_entry": e })).map_err(for_others)?;
        let id = made["time_entry"]["id"].as_u64().ok_or_else(|| anyhow::anyhow!("Redmine gave no time entry id"))?;
        self.written(key, Wrote::Worklog(&id.to_string()), None)?;
        Ok(id.to_string())
    }

    pub(super) fn change_time(&self, key: &str, id: &str, w: &NewWorklog<'_>) -> TResult<()> {
        self.time_tracking()?;
        let old = self.worklogs(key)?.into_iter().find(|x| x.id == id);
        let Some(old) = old else {
            return Err(Refusal::NoWorklog { issue: key.into(), worklog: id.into() }.into());
        };
        let origin = old.on_behalf_of.as_deref().map(|author| CommentOrigin { author, created_at: 0 });
        let e = self.entry_json(w, origin)?;
        self.api.put(&format!("/time_entries/{id}.json"), &json!({ "time_entry": e })).map_err(for_others)?;
        self.written(key, Wrote::Worklog(id), None)
    }

    pub(super) fn delete_time(&self, key: &str, id: &str) -> TResult<()> {
        self.time_tracking()?;
        if !self.worklogs(key)?.iter().any(|x| x.id == id) {
            return Err(Refusal::NoWorklog { issue: key.into(), worklog: id.into() }.into());
        }
        match self.api.delete(&format!("/time_entries/{id}.json")) {
            Err(TrackerError::Refused(Refusal::Invalid(why))) if why.contains("(404)") => {}
            other => other?,
        }
        self.written(key, Wrote::Worklog(id), None)
    }

    /// A time entry of `minutes` on `spent_on` made since `since`.
    /// A time entry the sync user wrote at or after `since`: Redmine 5.0
    /// names no author of a time entry, so it is matched by all it holds,
    /// the comment with its "on behalf of" mark included (a person's entry
    /// of the same time on the same day has none).
    pub(super) fn find_time(
        &self,
        key: &str,
        (minutes, spent_on): (u32, &str),
        (comment, on_behalf_of): (&str, Option<&str>),
        since: i64,
    ) -> TResult<Option<String>> {
        let v = self.api.get(&format!("/time_entries.json?issue_id={key}&limit=100"))?;
        Ok(v["time_entries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| ms(&e["created_on"]) >= since)
            .map(|e| (from_json(e), e))
            .find(|(w, _)| {
                w.minutes == minutes
                    && w.spent_on == spent_on
                    && w.comment.trim() == comment.trim()
                    && w.on_behalf_of.as_deref() == on_behalf_of
            })
            .and_then(|(_, e)| e["id"].as_u64())
            .map(|id| id.to_string()))
    }
}

/// A refusal of a time entry for another user names the permission.
fn for_others(e: crate::tracker::TrackerError) -> crate::tracker::TrackerError {
    match e {
        crate::tracker::TrackerError::Refused(Refusal::Invalid(why)) => {
            Refusal::Invalid(super::permissions::time_entry_refusal(&why).unwrap_or(why)).into()
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_logged_for_the_partner_keeps_the_name() {
        let c = comment_for("Profiling the export", Some("Vera Vendor"));
        assert_eq!(split(&c), (Some("Vera Vendor".into()), "Profiling the export".into()));
        assert_eq!(split("plain"), (None, "plain".into()));
        let e = json!({"id": 7, "user": {"name": "Alice"}, "hours": 1.25, "spent_on": "2026-11-20", "comments": c});
        let w = from_json(&e);
        assert_eq!(
            (w.minutes, w.on_behalf_of.as_deref(), w.comment.as_str()),
            (75, Some("Vera Vendor"), "Profiling the export")
        );
    }
}
