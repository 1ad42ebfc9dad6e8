//! An issue as postern sees it in Redmine: its JSON, its time entries,
//! and the addresses of the users it names (where Redmine shows them).

use serde_json::Value;

use super::{issue, Redmine};
use crate::tracker::{Issue, TResult};

impl Redmine {
    /// An issue's JSON as postern's issue, with its worklogs.
    pub(super) fn full(&self, v: &Value) -> TResult<Issue> {
        let mut i = issue::from_json(v, self.meta()?, &self.settings);
        i.worklogs = self.worklogs(&i.key)?;
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
            list.push(crate::tracker::User { name: name.clone(), email });
        }
        Ok(self.users.get_or_init(|| list).clone())
    }
}
