//! Writing to GitHub: an issue made with its title, body, labels,
//! assignee, milestone and type in one call (and closed in a second when
//! it arrives closed: a new issue is open), an issue's fields changed in
//! one call, comments added, edited and deleted. Each answer is the
//! object as written, so nothing is read back to know it.

use crate::tracker::remote::rest::Rest;
use serde_json::{json, Map, Value};

use super::meta::{state_of, str_of, unknown, Meta, STATUSES};
use super::read::{self, MILESTONE};
use super::GitHub;
use crate::protocol::{FieldChanges, IssueFields};
use crate::tracker::remote::state::Wrote;
use crate::tracker::{CommentOrigin, Refusal, TResult, TrackerError};

impl GitHub {
    /// The partner's status name as ours, through the sync's table.
    fn ours(&self, status: &str) -> String {
        crate::tracker::names::ours(&self.settings.statuses, status).to_string()
    }

    /// The request body that sets `f` (only what it names).
    fn body_of(&self, f: &FieldChanges) -> TResult<Map<String, Value>> {
        let mut out = Map::new();
        if let Some(s) = &f.summary {
            if s.trim().is_empty() {
                return Err(Refusal::Invalid("a GitHub issue needs a title: the summary is empty".into()).into());
            }
            out.insert("title".into(), json!(s));
        }
        if let Some(d) = &f.description {
            out.insert("body".into(), json!(d));
        }
        if let Some(s) = &f.status {
            let ours = self.ours(s);
            let Some((state, reason)) = state_of(&ours) else {
                return Err(unknown("status", &ours, STATUSES.iter().map(|s| s.to_string())));
            };
            out.insert("state".into(), json!(state));
            out.insert("state_reason".into(), json!(reason.unwrap_or("reopened")));
        }
        if let Some(l) = &f.labels {
            out.insert("labels".into(), json!(l));
        }
        if let Some(a) = &f.assignee {
            let list: Vec<&str> = match a.as_str() {
                "" => Vec::new(),
                login => {
                    vec![self.known(login, "user", |m| m.users.iter().any(|u| u.name.eq_ignore_ascii_case(login)))?]
                }
            };
            out.insert("assignees".into(), json!(list));
        }
        if let Some(t) = &f.issue_type {
            // An owner without issue types does not carry them.
            if self.meta()?.types.is_some() {
                match t.as_str() {
                    "" => out.insert("type".into(), Value::Null),
                    name => out.insert(
                        "type".into(),
                        json!(self.known(name, "type", |m| m.types.iter().flatten().any(|x| x == name))?),
                    ),
                };
            }
        }
        for (name, value) in &f.custom {
            if name != MILESTONE {
                return Err(unknown("custom field", name, [MILESTONE.to_string()].into_iter()));
            }
            let number = match value.as_str() {
                "" => Value::Null,
                title => {
                    self.known(title, "milestone", |m| m.milestones.contains_key(title))?;
                    let number = self.meta()?.milestones.get(title).copied();
                    json!(number.ok_or_else(|| unknown("milestone", title, std::iter::empty()))?)
                }
            };
            out.insert("milestone".into(), number);
        }
        Ok(out)
    }

    /// `value` if the repository knows it (`has`), its metadata read again
    /// once when not (made since it was read); else refused as unknown.
    fn known<'v>(&self, value: &'v str, what: &str, has: impl Fn(&Meta) -> bool) -> TResult<&'v str> {
        if has(&*self.meta()?) || has(&*self.reload_meta()?) {
            return Ok(value);
        }
        let m = self.meta()?;
        let known: Vec<String> = match what {
            "user" => m.users.iter().map(|u| u.name.clone()).collect(),
            "type" => m.types.clone().unwrap_or_default(),
            _ => m.milestones.keys().cloned().collect(),
        };
        Err(unknown(what, value, known.into_iter()))
    }

    pub(super) fn create(&self, fields: &IssueFields) -> TResult<String> {
        let mut all = FieldChanges::all(fields);
        all.priority = None;
        all.due_date = None;
        all.custom.retain(|_, v| !v.is_empty());
        if all.assignee.as_deref() == Some("") {
            all.assignee = None;
        }
        let status = all.status.take().filter(|s| !s.is_empty());
        let mut body = self.body_of(&all)?;
        let close = match &status {
            Some(s) => self.body_of(&FieldChanges { status: Some(s.clone()), ..Default::default() })?,
            None => Map::new(),
        };
        let tag = self.take_tag();
        body.insert("body".into(), json!(read::with_mark(&fields.description, tag.as_deref())));
        let made = self.api.post(&format!("{}/issues", self.settings.repo_path()), &Value::Object(body))?;
        let key = str_of(&made["number"]);
        let made = if close.get("state").and_then(Value::as_str) == Some("closed") {
            match self.api.patch(&self.issue_path(&key), &Value::Object(close)) {
                // Made, not closed: kept and paired, not made again.
                Err(TrackerError::Refused(r)) => {
                    self.remember(&made, &[], Wrote::Issue)?;
                    return Err(Refusal::PartlyMade { id: key, why: r.to_string() }.into());
                }
                other => other?,
            }
        } else {
            made
        };
        self.remember(&made, &[], Wrote::Issue)?;
        Ok(key)
    }

    pub(super) fn update(&self, key: &str, changes: &FieldChanges) -> TResult<()> {
        let mut changes = changes.clone();
        changes.priority = None;
        changes.due_date = None;
        let body = self.body_of(&changes)?;
        if body.is_empty() {
            return Ok(());
        }
        let v = self.write_issue("PATCH", key, &self.issue_path(key), Some(&Value::Object(body)))?;
        self.wrote(key, &v, Wrote::Fields(&changes))
    }

    /// A request on issue `key` or its parts; an issue not there (or a
    /// pull request) is refused as missing.
    fn write_issue(&self, method: &str, key: &str, path: &str, body: Option<&Value>) -> TResult<Value> {
        let a = self.api.exchange(method, path, body)?;
        match a.status {
            404 | 410 => Err(Refusal::NoIssue(key.into()).into()),
            _ => super::api::ok(a, method, path),
        }
    }

    pub(super) fn comment_add(&self, key: &str, text: &str, origin: Option<CommentOrigin<'_>>) -> TResult<String> {
        let tag = self.take_tag();
        let body = read::comment_body(text, origin.map(|o| o.author), tag.as_deref());
        let path = format!("{}/comments", self.issue_path(key));
        let c = self.write_issue("POST", key, &path, Some(&json!({ "body": body })))?;
        let id = str_of(&c["id"]);
        self.wrote(key, &Value::Null, Wrote::Comment(&id, Some(text)))?;
        Ok(id)
    }

    fn comment_path(&self, id: &str) -> String {
        format!("{}/issues/comments/{id}", self.settings.repo_path())
    }

    /// Comment `id` of issue `key`, as GitHub has it (refused if not there).
    fn comment_json(&self, key: &str, id: &str) -> TResult<Value> {
        match self.api.get_opt(&self.comment_path(id))? {
            Some(c) if c["issue_url"].as_str().is_some_and(|u| u.ends_with(&format!("/issues/{key}"))) => Ok(c),
            _ => Err(Refusal::NoComment { issue: key.into(), comment: id.into() }.into()),
        }
    }

    pub(super) fn comment_edit(&self, key: &str, id: &str, text: &str) -> TResult<()> {
        let old = self.comment_json(key, id)?;
        let m = self.meta()?;
        // The partner's author stays named on the comment.
        let (behalf, _, _) =
            read::comment_parts(old["body"].as_str().unwrap_or_default(), m.is_sync_user(&old["user"]));
        let body = read::comment_body(text, behalf.as_deref(), None);
        self.api.patch(&self.comment_path(id), &json!({ "body": body }))?;
        self.wrote(key, &Value::Null, Wrote::Comment(id, Some(text)))
    }

    pub(super) fn comment_delete(&self, key: &str, id: &str) -> TResult<()> {
        self.comment_json(key, id)?;
        self.api.delete(&self.comment_path(id))?;
        self.wrote(key, &Value::Null, Wrote::Comment(id, None))
    }
}
