//! An issue as postern sees it in Redmine: its JSON, its time entries,
//! and the addresses of the users it names (where Redmine shows them).

use crate::tracker::remote::rest::Rest;
use serde_json::Value;

use super::{issue, Redmine};
use crate::tracker::{Issue, TResult};

impl Redmine {
    /// An issue's JSON as postern's issue, with its worklogs.
    pub(super) fn full(&self, v: &Value) -> TResult<Issue> {
        self.full_with(v, None)
    }

    /// Issue `v` as read after postern wrote `what` to it: without its
    /// time entries (a call saved per change) when the write was not one
    /// and the issue is known (only the part written is kept, see
    /// `remote::state`; an issue not known yet is kept whole).
    pub(super) fn read_back(&self, v: &Value, what: &crate::tracker::remote::state::Wrote<'_>) -> TResult<Issue> {
        use crate::tracker::remote::state::Wrote;
        let part = matches!(what, Wrote::Fields(_) | Wrote::Comment(..) | Wrote::Attachment(_));
        let key = v["id"].as_u64().map(|n| n.to_string()).unwrap_or_default();
        if part && self.state.get(&key)?.is_some() {
            return self.full_with(v, Some(Vec::new()));
        }
        self.full(v)
    }

    /// [`Self::full`] with the issue's time entries already read.
    fn full_with(&self, v: &Value, entries: Option<Vec<Value>>) -> TResult<Issue> {
        let mut i = issue::from_json(v, self.meta()?, &self.settings);
        i.worklogs = match entries {
            Some(mut e) => {
                e.sort_by_key(|e| (issue::ms(&e["created_on"]), e["id"].as_u64()));
                e.iter().map(super::time::from_json).collect()
            }
            None => self.worklogs(&i.key)?,
        };
        // Addresses, where Redmine shows them: the partner maps users by them.
        if i.fields.assignee.is_some() || !i.worklogs.is_empty() {
            let users = self.users()?;
            let email = |name: &str| users.iter().find(|u| u.name == name).and_then(|u| u.email.clone());
            i.fields.assignee_email = i.fields.assignee.as_deref().and_then(email);
            for w in &mut i.worklogs {
                w.email = email(&w.author);
            }
        }
        Ok(i)
    }

    /// The project's members with their addresses where Redmine shows
    /// them (read once).
    pub(super) fn users(&self) -> TResult<Vec<crate::tracker::User>> {
        if let Some(u) = self.users.get() {
            return Ok(u.clone());
        }
        let mut list = Vec::new();
        for (name, id) in &self.meta()?.members {
            let v = self.api.get_opt(&format!("/users/{id}.json"))?;
            let email = v.and_then(|v| v["user"]["mail"].as_str().map(String::from));
            list.push(crate::tracker::User { name: name.clone(), email, id: None });
        }
        Ok(self.users.get_or_init(|| list).clone())
    }

    /// Issues `keys`: one call each (with journals and attachments), and
    /// the project's time entries read once, 100 a call, instead of once
    /// per issue.
    pub(super) fn many(&self, keys: &[String]) -> TResult<Vec<Option<Issue>>> {
        let m = self.meta()?;
        let mut entries: std::collections::HashMap<String, Vec<Value>> = Default::default();
        if m.time_tracking {
            let mut read = 0u64;
            loop {
                let path = format!("/time_entries.json?project_id={}&limit=100&offset={read}", m.project_id);
                let v = self.api.get(&path)?;
                let page = v["time_entries"].as_array().cloned().unwrap_or_default();
                read += page.len() as u64;
                for e in page.iter().filter(|e| e["issue"]["id"].is_u64()) {
                    entries
                        .entry(e["issue"]["id"].as_u64().unwrap_or_default().to_string())
                        .or_default()
                        .push(e.clone());
                }
                if page.is_empty() || read >= v["total_count"].as_u64().unwrap_or(0) {
                    break;
                }
            }
        }
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(match self.issue_json(key)? {
                Some(v) if v["project"]["id"].as_u64() == Some(m.project_id) => {
                    let own = if m.time_tracking { Some(entries.remove(key).unwrap_or_default()) } else { None };
                    Some(self.full_with(&v, own)?)
                }
                _ => None,
            });
        }
        Ok(out)
    }
}
