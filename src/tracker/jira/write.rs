//! Writing issues: fields in one edit, the status through a transition
//! (Jira has no "set status"), users found by name.

use crate::tracker::remote::rest::Rest;
use serde_json::{json, Value};

use super::api::encode;
use super::issue::{self, write_fields};
use super::meta::{str_of, unknown};
use super::settings::Flavour;
use super::Jira;
use super::ACCOUNT_ID;
use crate::protocol::{FieldChanges, IssueFields};
use crate::tracker::remote::state::Wrote;
use crate::tracker::{Refusal, TResult, User};

impl Jira {
    /// The users who may be assigned issues of the project.
    pub(super) fn users(&self) -> TResult<&Vec<User>> {
        if let Some(u) = self.users.get() {
            return Ok(u);
        }
        let path = format!(
            "{}/user/assignable/search?project={}&maxResults=1000",
            self.rest(),
            encode(&self.settings.project)
        );
        let list = self.api.get(&path)?;
        let cloud = self.settings.flavour == Flavour::Cloud;
        let mut users = Vec::new();
        for u in list.as_array().into_iter().flatten() {
            let name = match self.settings.flavour {
                Flavour::Cloud => str_of(&u["displayName"]),
                Flavour::DataCenter => str_of(&u["name"]),
            };
            let email = u["emailAddress"].as_str().filter(|e| !e.is_empty()).map(String::from);
            let id = u["accountId"].as_str().filter(|_| cloud).map(|id| format!("{ACCOUNT_ID}{id}"));
            users.push(User { name, email, id });
        }
        Ok(self.users.get_or_init(|| users))
    }

    /// How Jira names user `name` (a display name, or `accountid:…` on
    /// Cloud) in a write (`{"accountId"}` on Cloud, `{"name"}` on Data
    /// Center); a refusal listing who exists.
    pub(super) fn user_ref(&self, name: &str) -> TResult<Value> {
        let users = self.users()?;
        let found =
            users.iter().find(|u| u.id.as_deref() == Some(name)).or_else(|| users.iter().find(|u| u.name == name));
        // A Cloud user is written by account id: one without is no user
        // to assign (never an empty id, which Jira would take as nobody).
        match (self.settings.flavour, found) {
            (Flavour::Cloud, Some(User { id: Some(id), .. })) => Ok(json!({ "accountId": &id[ACCOUNT_ID.len()..] })),
            (Flavour::DataCenter, Some(_)) => Ok(json!({ "name": name })),
            _ => Err(unknown("user", name, users.iter().map(|u| u.name.clone()))),
        }
    }

    fn assignee_of(&self, f: &FieldChanges) -> TResult<Option<Value>> {
        match f.assignee.as_deref() {
            None | Some("") => Ok(None),
            Some(name) => self.user_ref(name).map(Some),
        }
    }

    /// The partner's status and priority names as ours, through the
    /// sync's tables.
    fn ours(&self, f: &mut FieldChanges) {
        for (value, table) in [(&mut f.status, &self.settings.statuses), (&mut f.priority, &self.settings.priorities)] {
            if let Some(v) = value.as_mut() {
                *v = crate::tracker::names::ours(table, v).to_string();
            }
        }
    }

    pub(super) fn create(&self, fields: &IssueFields) -> TResult<String> {
        let m = self.meta()?;
        let status = crate::tracker::names::ours(&self.settings.statuses, &fields.status).to_string();
        let mut all = FieldChanges::all(fields);
        self.ours(&mut all);
        all.status = None;
        if all.assignee.as_deref() == Some("") {
            all.assignee = None;
        }
        if all.due_date.as_deref() == Some("") {
            all.due_date = None;
        }
        all.custom.retain(|_, v| !v.is_empty());
        let assignee = self.assignee_of(&all)?;
        let mut body = write_fields(&all, m, assignee)?;
        if !body.contains_key("issuetype") {
            let first = m.types.keys().next().cloned().unwrap_or_else(|| "Task".into());
            body.insert("issuetype".into(), json!({ "name": first }));
        }
        body.insert("project".into(), json!({ "key": self.settings.project }));
        // The journal's tag, in the create itself: no later write moves
        // `updated` or shows as a change.
        let tag = self.take_tag();
        let mut req = json!({ "fields": body });
        if let Some(t) = &tag {
            req["properties"] = json!([{ "key": issue::PROPERTY, "value": { "write": t } }]);
        }
        if !status.is_empty() && !m.statuses.contains(&status) {
            return Err(unknown("status", &status, m.statuses.iter().cloned()));
        }
        let v = self.api.post(&format!("{}/issue", self.rest()), &req)?;
        let key = str_of(&v["key"]);
        // The workflow's first status may be the one wanted already.
        let made = self.issue_json(&key)?.ok_or_else(|| anyhow::anyhow!("Jira made {key} but does not show it"))?;
        if status.is_empty() || str_of(&made["fields"]["status"]["name"]).eq_ignore_ascii_case(&status) {
            self.remember(&made, Wrote::Issue)?;
        } else {
            match self.transition(&key, &status) {
                // Made, its status refused: kept and paired, not made again.
                Err(crate::tracker::TrackerError::Refused(r)) => {
                    self.remember(&made, Wrote::Issue)?;
                    return Err(Refusal::PartlyMade { id: key, why: r.to_string() }.into());
                }
                other => other?,
            }
            self.wrote(&key, Wrote::Issue)?;
        }
        Ok(key)
    }

    pub(super) fn update(&self, key: &str, changes: &FieldChanges) -> TResult<()> {
        let m = self.meta()?;
        let mut changes = changes.clone();
        self.ours(&mut changes);
        let changes = &changes;
        // No look first: a missing issue is Jira's 404, a refusal.
        if let Some(s) = &changes.status {
            if !m.statuses.contains(s) {
                return Err(unknown("status", s, m.statuses.iter().cloned()));
            }
        }
        let assignee = self.assignee_of(changes)?;
        let body = write_fields(changes, m, assignee)?;
        if !body.is_empty() {
            self.api.put(&format!("{}/issue/{}", self.rest(), encode(key)), &json!({ "fields": body }))?;
        }
        if let Some(s) = &changes.status {
            self.transition(key, s)?;
        }
        Ok(())
    }
}
