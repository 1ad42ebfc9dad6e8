//! Writing to Redmine: a partner's change in Redmine's terms, the issue
//! read back after each write (its status checked: a workflow may ignore
//! a transition), notes for someone at the partner, uploads, time.

use serde_json::{json, Value};

use super::{issue, Redmine};
use crate::protocol::{FieldChanges, IssueFields};
use crate::tracker::remote::rest::Rest;
use crate::tracker::remote::state::Wrote;
use crate::tracker::{Actor, CommentOrigin, NewAttachment, NewWorklog, Refusal, TResult, TrackerError, Writes};

impl Redmine {
    /// The fields of a write, in Redmine's terms.
    pub(super) fn fields_json(&self, c: &FieldChanges) -> TResult<serde_json::Map<String, Value>> {
        let m = self.meta()?;
        let mut out = serde_json::Map::new();
        if let Some(v) = &c.summary {
            if v.trim().is_empty() {
                return Err(Refusal::Invalid("summary must not be empty".into()).into());
            }
            out.insert("subject".into(), json!(v));
        }
        if let Some(v) = &c.description {
            out.insert("description".into(), json!(v));
        }
        if let Some(v) = &c.status {
            out.insert("status_id".into(), json!(m.id_for("status", v, &self.settings.statuses)?));
        }
        // Empty: the partner's tracker has none; Redmine's default stays.
        if let Some(v) = c.priority.as_ref().filter(|p| !p.is_empty()) {
            out.insert("priority_id".into(), json!(m.id_for("priority", v, &self.settings.priorities)?));
        }
        if let Some(v) = &c.assignee {
            out.insert("assigned_to_id".into(), m.member(v)?.map_or(json!(""), |id| json!(id)));
        }
        if let Some(t) = &c.issue_type {
            out.insert("tracker_id".into(), json!(m.tracker_for(t)?));
        }
        if let Some(d) = &c.due_date {
            out.insert("due_date".into(), if d.is_empty() { Value::Null } else { json!(d) });
        }
        let mut custom = Vec::new();
        if let (Some(v), Some(cf)) = (&c.labels, m.labels_field) {
            custom.push(m.shapes.entry(cf, v));
        }
        if let (Some(v), Some(categories)) = (&c.labels, &m.label_categories) {
            if let Some(id) = self.category_for(v, categories) {
                out.insert("category_id".into(), id);
            }
        }
        custom.extend(self.custom_json(&c.custom)?);
        if !custom.is_empty() {
            out.insert("custom_fields".into(), Value::Array(custom));
        }
        Ok(out)
    }

    /// The category for labels held in the issue category: the first
    /// label's (none: no category). A second label, or one no category
    /// is named, is not held (noted for `take_not_held`).
    fn category_for(&self, labels: &[String], categories: &std::collections::BTreeMap<String, u64>) -> Option<Value> {
        let Some(first) = labels.first() else {
            return Some(json!(""));
        };
        let mut notes = self.not_held.lock().expect("lock");
        if labels.len() > 1 {
            notes.push(format!(
                "Redmine's issue category holds one label: '{first}' set, {} not",
                labels[1..].iter().map(|l| format!("'{l}'")).collect::<Vec<_>>().join(", ")
            ));
        }
        match categories.get(first) {
            Some(id) => Some(json!(id)),
            None => {
                notes.push(format!(
                    "Redmine has no issue category '{first}' in this project (it has: {}): add it (the project's \
                     Settings › Issue categories), then `postern errors retry`",
                    categories.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
                None
            }
        }
    }

    /// PUT on an issue; one that is gone is that issue's refusal.
    pub(super) fn put_issue(&self, key: &str, fields: serde_json::Value) -> TResult<()> {
        self.recent.lock().expect("lock").clear();
        if key.parse::<u64>().is_err() {
            return Err(Refusal::NoIssue(key.into()).into());
        }
        match self.api.put(&format!("/issues/{key}.json"), &json!({ "issue": fields })) {
            Err(crate::tracker::TrackerError::Refused(Refusal::Invalid(why))) if why.contains("(404)") => {
                Err(Refusal::NoIssue(key.into()).into())
            }
            other => other.map(|_| ()),
        }
    }

    /// After a write: the issue read back, its status checked if one was set
    /// (a Redmine workflow ignores a transition it does not allow,
    /// answering 204), and remembered so it is not sent back.
    pub(super) fn written(&self, key: &str, what: Wrote<'_>, status: Option<&str>) -> TResult<()> {
        self.recent.lock().expect("lock").clear();
        let v = self.must_issue(key)?;
        let i = self.read_back(&v, &what)?;
        let ours = v["author"]["id"].as_u64() == Some(self.meta()?.user_id);
        self.state.written_part(&i, what, ours)?;
        match status {
            Some(s) if s != i.fields.status => {
                let why = format!(
                    "Redmine did not take status '{s}' for issue {key} (it stays '{}'): its workflow for the \
                     tracker {} does not let the sync user make that transition (Administration › Workflow)",
                    i.fields.status,
                    v["tracker"]["name"].as_str().unwrap_or("?")
                );
                Err(match what {
                    // A new issue: made, its status refused.
                    Wrote::Issue => Refusal::PartlyMade { id: key.to_string(), why },
                    _ => Refusal::Invalid(why),
                }
                .into())
            }
            _ => Ok(()),
        }
    }
}

impl Writes for Redmine {
    fn create_issue(&self, _project: &str, fields: &IssueFields, _actor: Actor<'_>) -> TResult<String> {
        let m = self.meta()?;
        let mut all = FieldChanges::all(fields);
        // Custom fields postern could not see yet (an empty project): set
        // once the new issue shows them.
        let later = self.unseen_fields(&mut all.custom);
        // Labels in a field whose shape is not known yet (one value or
        // several): set once the new issue shows it.
        let later_labels = match m.labels_field {
            Some(cf) if !m.shapes.is_known(cf) => all.labels.take(),
            _ => None,
        };
        let mut body = self.fields_json(&all)?;
        body.insert("project_id".into(), json!(m.project_id));
        if let (Some(t), None) = (m.tracker_id, &fields.issue_type) {
            body.insert("tracker_id".into(), json!(t));
        }
        let created = match self.api.post("/issues.json", &json!({ "issue": body })) {
            // A value outside a list's: the issue is made without it.
            Err(TrackerError::Refused(Refusal::Invalid(why))) => match self.drop_refused(&mut body, &why)? {
                true => self.api.post("/issues.json", &json!({ "issue": body }))?,
                false => return Err(Refusal::Invalid(why).into()),
            },
            other => other?,
        };
        let id = created["issue"]["id"].as_u64().ok_or_else(|| anyhow::anyhow!("Redmine gave no issue id"))?;
        let key = id.to_string();
        // A workflow may start every issue in its default status.
        let wanted = m.id_for("status", &fields.status, &self.settings.statuses)?;
        if created["issue"]["status"]["id"].as_u64() != Some(wanted) {
            self.put_issue(&key, json!({"status_id": wanted}))?;
            self.written(&key, Wrote::Issue, Some(&fields.status))?;
        } else {
            // Redmine's answer is the new issue (no notes, no files yet).
            self.state.written(&issue::from_json(&created["issue"], m, &self.settings))?;
        }
        self.set_unseen_fields(&key, &created["issue"], later, later_labels)?;
        Ok(key)
    }

    fn update_issue(&self, key: &str, changes: &FieldChanges, _actor: Actor<'_>) -> TResult<()> {
        let mut body = self.fields_json(changes)?;
        if !body.is_empty() {
            match self.put_issue(key, serde_json::Value::Object(body.clone())) {
                // A value outside a list's: the rest is written without it.
                Err(TrackerError::Refused(Refusal::Invalid(why))) => match self.drop_refused(&mut body, &why)? {
                    true if body.is_empty() => {}
                    true => self.put_issue(key, serde_json::Value::Object(body))?,
                    false => return Err(Refusal::Invalid(why).into()),
                },
                other => other?,
            }
        }
        self.written(key, Wrote::Fields(changes), changes.status.as_deref())
    }

    fn add_comment(
        &self,
        key: &str,
        body: &str,
        origin: Option<CommentOrigin<'_>>,
        _actor: Actor<'_>,
    ) -> TResult<String> {
        let notes = issue::notes_for(body, origin.map(|o| o.author));
        self.put_issue(key, json!({"notes": notes}))?;
        let after = self.must_issue(key)?;
        let id = issue::newest_journal(&after, self.meta()?.user_id, &notes)
            .ok_or_else(|| anyhow::anyhow!("Redmine took the note on issue {key} but does not list it"))?;
        let ours = after["author"]["id"].as_u64() == Some(self.meta()?.user_id);
        let what = Wrote::Comment(&id, Some(body));
        self.state.written_part(&self.read_back(&after, &what)?, what, ours)?;
        Ok(id)
    }

    fn edit_comment(&self, key: &str, comment: &str, body: &str, _actor: Actor<'_>) -> TResult<()> {
        let v = self.must_issue(key)?;
        let journal = issue::journal(&v, comment)
            .ok_or_else(|| Refusal::NoComment { issue: key.into(), comment: comment.into() })?;
        let author = issue::on_behalf_of(journal, self.meta()?);
        let notes = issue::notes_for(body, author.as_deref());
        self.api.put(&format!("/journals/{comment}.json"), &json!({"journal": {"notes": notes}}))?;
        self.written(key, Wrote::Comment(comment, Some(body)), None)
    }

    fn delete_comment(&self, key: &str, comment: &str, _actor: Actor<'_>) -> TResult<()> {
        let v = self.must_issue(key)?;
        if issue::journal(&v, comment).is_none() {
            return Err(Refusal::NoComment { issue: key.into(), comment: comment.into() }.into());
        }
        // Redmine has no DELETE for journals: emptied notes delete it.
        self.api.put(&format!("/journals/{comment}.json"), &json!({"journal": {"notes": ""}}))?;
        self.written(key, Wrote::Comment(comment, None), None)
    }

    fn add_attachment(
        &self,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        _actor: Actor<'_>,
    ) -> TResult<String> {
        let token = self.api.upload(&file)?;
        let upload = json!({
            "token": token,
            "filename": file.filename,
            "content_type": file.media_type,
            "description": issue::attachment_note(origin.map(|o| o.author)),
        });
        self.put_issue(key, json!({"uploads": [upload]}))?;
        let after = self.must_issue(key)?;
        let id = issue::newest_attachment(&after, self.meta()?.user_id, file.filename)
            .ok_or_else(|| anyhow::anyhow!("Redmine took the attachment on issue {key} but does not list it"))?;
        let ours = after["author"]["id"].as_u64() == Some(self.meta()?.user_id);
        let what = Wrote::Attachment(&id);
        self.state.written_part(&self.read_back(&after, &what)?, what, ours)?;
        Ok(id)
    }

    fn add_worklog(
        &self,
        key: &str,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
        _actor: Actor<'_>,
    ) -> TResult<String> {
        self.log_time(key, w, origin)
    }

    fn edit_worklog(&self, key: &str, id: &str, w: &NewWorklog<'_>, _actor: Actor<'_>) -> TResult<()> {
        self.change_time(key, id, w)
    }

    fn delete_worklog(&self, key: &str, id: &str, _actor: Actor<'_>) -> TResult<()> {
        self.delete_time(key, id)
    }

    fn delete_attachment(&self, key: &str, id: &str, _actor: Actor<'_>) -> TResult<()> {
        self.must_issue(key)?;
        self.api.delete(&format!("/attachments/{id}.json"))?;
        self.written(key, Wrote::Attachment(id), None)
    }
}
