//! Mappings: the partner's names for statuses, priorities, issue types,
//! custom fields and users, turned into ours and back, declared per sync
//! in a TOML file (`sync create|accept|edit --mapping FILE`):
//!
//! ```toml
//! [status]            # the partner's name = ours
//! "In Review" = "In Progress"
//! "In Progress" = "In Progress"
//! [send.status]       # which partner name ours sends, where several map to it
//! "In Progress" = "In Progress"
//! [priority]
//! Urgent = "Immediate"
//! [type]
//! Task = "Feature"
//! [fields]            # custom fields by name
//! "Customer ref" = "Ticket ref"
//! [users]
//! by_email = true     # a partner user with an address one of ours has
//! fallback = "Sync Bot"
//! [users.table]       # the partner's name or address = our user
//! "vera@vendor.example" = "Vera Redmine"
//! "bob@vendor.example" = "accountid:5b10a0effa615349cb016cd8"  # Jira Cloud
//! [screens]           # what a Jira transition's screen asks for
//! Resolution = "Fixed"
//! ```
//!
//! Incoming values go through the tables (a name not listed stays as it
//! is); outgoing ones go back through them. Every backend uses this code,
//! at the edge: what the tracker does not know is refused there, and the
//! refusal says what to add here ([`hint`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::protocol::{FieldChanges, IssueFields};
use crate::tracker::{Refusal, TResult, User};

type Table = BTreeMap<String, Spanned<String>>;

/// How a mapping names a Jira Cloud user by account id.
pub use crate::tracker::jira::ACCOUNT_ID;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    status: Table,
    #[serde(default)]
    priority: Table,
    #[serde(default, rename = "type")]
    types: Table,
    #[serde(default)]
    fields: Table,
    #[serde(default)]
    users: Users,
    #[serde(default)]
    send: Send,
    /// Values for the fields a Jira transition's screen requires, by the
    /// field's name (a resolution on the way to Done).
    #[serde(default)]
    screens: Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Users {
    #[serde(default = "yes")]
    by_email: bool,
    #[serde(default)]
    fallback: Option<Spanned<String>>,
    #[serde(default)]
    table: Table,
}

impl Default for Users {
    fn default() -> Self {
        Users { by_email: true, fallback: None, table: Table::new() }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Send {
    #[serde(default)]
    status: Table,
    #[serde(default)]
    priority: Table,
    #[serde(default, rename = "type")]
    types: Table,
    #[serde(default)]
    fields: Table,
}

/// A sync's mapping, checked.
#[derive(Debug, Default)]
pub struct Mapping {
    file: File,
    text: String,
}

/// `line L, column C` of byte `at` in `text`.
fn place(text: &str, at: usize) -> String {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}

impl Mapping {
    /// Whether the file names statuses (`[status]`) and priorities
    /// (`[priority]`).
    pub fn names_statuses_and_priorities(&self) -> (bool, bool) {
        (!self.file.status.is_empty(), !self.file.priority.is_empty())
    }

    /// Parses and checks a mapping file; errors name the line and column.
    pub fn parse(text: &str) -> anyhow::Result<Mapping> {
        let file: File = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))?;
        let m = Mapping { file, text: text.to_string() };
        m.check()?;
        Ok(m)
    }

    /// The sync's mapping (none: everything as it is).
    pub fn of(text: Option<&str>) -> anyhow::Result<Mapping> {
        match text {
            None => Ok(Mapping::default()),
            Some(t) => Mapping::parse(t).map_err(|e| anyhow::anyhow!("the sync's mapping file: {e:#}")),
        }
    }

    /// The Jira Cloud account ids the users table names
    /// (`"vera@vendor.example" = "accountid:5b10…"`), for users whose
    /// display names are not unique or not known. Such a user reads back
    /// as `accountid:…`, which the table maps to the partner's user; a
    /// fallback has no way back, so its account reads by display name.
    pub fn account_ids(&self) -> std::collections::BTreeSet<String> {
        let table = self.file.users.table.values();
        table.filter_map(|v| v.get_ref().strip_prefix(ACCOUNT_ID)).map(String::from).collect()
    }

    /// What the `[screens]` table gives: field name → value.
    pub fn screens(&self) -> BTreeMap<String, String> {
        self.file.screens.iter().map(|(k, v)| (k.clone(), v.get_ref().clone())).collect()
    }

    /// Our names a section already maps to.
    pub fn targets<'a>(&'a self, section: &str) -> Box<dyn Iterator<Item = &'a str> + 'a> {
        match section {
            "users.table" => Box::new(self.file.users.table.values().map(|v| v.get_ref().as_str())),
            s => Box::new(self.table(s).0.values().map(|v| v.get_ref().as_str())),
        }
    }

    fn table(&self, what: &str) -> (&Table, &Table) {
        let (f, s) = (&self.file, &self.file.send);
        match what {
            "status" => (&f.status, &s.status),
            "priority" => (&f.priority, &s.priority),
            "type" => (&f.types, &s.types),
            _ => (&f.fields, &s.fields),
        }
    }

    /// The partner's `value` of `what` as ours.
    fn inward(&self, what: &str, value: &str) -> String {
        self.table(what).0.get(value).map_or_else(|| value.to_string(), |v| v.get_ref().clone())
    }

    /// Our `value` of `what` as the partner's.
    fn outward(&self, what: &str, value: &str) -> String {
        let (table, send) = self.table(what);
        if let Some(t) = send.get(value) {
            return t.get_ref().clone();
        }
        table.iter().find(|(_, o)| o.get_ref() == value).map_or_else(|| value.to_string(), |(t, _)| t.clone())
    }

    /// The partner's user as ours: by the table (address or name), by
    /// address, by name, else the fallback; an empty name is nobody.
    /// `users`: the tracker's users (`None`: it takes any name).
    pub fn user(&self, name: &str, email: Option<&str>, users: Option<&[User]>) -> TResult<String> {
        if name.is_empty() {
            return Ok(String::new());
        }
        let table = &self.file.users.table;
        if let Some(u) = email.and_then(|e| table.get(e)).or_else(|| table.get(name)) {
            return Ok(u.get_ref().clone());
        }
        let Some(users) = users else {
            return Ok(name.to_string());
        };
        let by_email = email
            .filter(|_| self.file.users.by_email)
            .and_then(|e| users.iter().find(|u| u.email.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(e))));
        if let Some(u) = by_email.or_else(|| users.iter().find(|u| u.name == name)) {
            return Ok(u.name.clone());
        }
        if let Some(f) = &self.file.users.fallback {
            return Ok(f.get_ref().clone());
        }
        Err(Refusal::Unknown {
            what: "user".into(),
            value: match email {
                Some(e) => format!("{name} <{e}>"),
                None => name.to_string(),
            },
            known: users.iter().map(|u| u.name.clone()).collect(),
        }
        .into())
    }

    /// Whether a user needs the tracker's list to be mapped.
    pub fn needs_users(&self, name: &str, email: Option<&str>) -> bool {
        let t = &self.file.users.table;
        !name.is_empty() && !email.is_some_and(|e| t.contains_key(e)) && !t.contains_key(name)
    }

    /// The partner's field changes in our names. `users`: looked up only
    /// when an assignee needs it.
    pub fn incoming(&self, c: &mut FieldChanges, users: impl FnOnce() -> TResult<Option<Vec<User>>>) -> TResult<()> {
        for (what, v) in [("status", &mut c.status), ("priority", &mut c.priority), ("type", &mut c.issue_type)] {
            if let Some(v) = v {
                *v = self.inward(what, v);
            }
        }
        c.custom = std::mem::take(&mut c.custom).into_iter().map(|(k, v)| (self.inward("fields", &k), v)).collect();
        if let Some(a) = &c.assignee {
            let email = c.assignee_email.as_deref();
            let list = if self.needs_users(a, email) { users()? } else { None };
            c.assignee = Some(self.user(a, email, list.as_deref())?);
            c.assignee_email = None;
        }
        Ok(())
    }

    /// Our user as the partner's `(name, address)`: the table read
    /// backwards (its key an address or a name), where one entry names it.
    pub fn user_out(&self, name: &str, email: Option<String>) -> (String, Option<String>) {
        let mut keys = self.file.users.table.iter().filter(|(_, ours)| ours.get_ref() == name);
        match (keys.next(), keys.next()) {
            (Some((k, _)), None) if k.contains('@') => (name.to_string(), Some(k.clone())),
            (Some((k, _)), None) => (k.clone(), email),
            _ => (name.to_string(), email),
        }
    }

    fn worklog_out(&self, w: &mut crate::protocol::WorklogSnapshot) {
        (w.author, w.author_email) = self.user_out(&w.author, w.author_email.take());
    }

    /// Our field changes in the partner's names.
    pub fn outgoing(&self, c: &mut FieldChanges) {
        if let Some(a) = c.assignee.as_deref().filter(|a| !a.is_empty()) {
            (c.assignee, c.assignee_email) = {
                let (n, e) = self.user_out(a, c.assignee_email.take());
                (Some(n), e)
            };
        }
        for (what, v) in [("status", &mut c.status), ("priority", &mut c.priority), ("type", &mut c.issue_type)] {
            if let Some(v) = v {
                *v = self.outward(what, v);
            }
        }
        c.custom = std::mem::take(&mut c.custom).into_iter().map(|(k, v)| (self.outward("fields", &k), v)).collect();
    }

    /// A whole issue's fields, either way.
    pub fn issue_fields(
        &self,
        f: &mut IssueFields,
        incoming: bool,
        users: impl FnOnce() -> TResult<Option<Vec<User>>>,
    ) -> TResult<()> {
        let mut c = FieldChanges::all(f);
        if incoming {
            self.incoming(&mut c, users)?;
        } else {
            self.outgoing(&mut c);
        }
        f.status = c.status.unwrap_or_default();
        f.priority = c.priority.unwrap_or_default();
        f.issue_type = c.issue_type;
        f.custom = c.custom;
        f.assignee = c.assignee.filter(|a| !a.is_empty());
        f.assignee_email = c.assignee_email;
        Ok(())
    }
}

impl Mapping {
    /// An outgoing change in the partner's names.
    pub fn out_change(&self, change: &mut crate::protocol::Change) {
        use crate::protocol::Change;
        match change {
            Change::IssueCreated { fields, worklogs, .. } => {
                let _ = self.issue_fields(fields, false, || Ok(None));
                worklogs.iter_mut().for_each(|w| self.worklog_out(w));
            }
            Change::IssueState { fields, worklogs, .. } => {
                self.outgoing(fields);
                worklogs.iter_mut().flatten().for_each(|w| self.worklog_out(w));
            }
            Change::IssueUpdated { fields, .. } => self.outgoing(fields),
            Change::WorklogAdded { worklog: w, .. } | Change::WorklogEdited { worklog: w, .. } => self.worklog_out(w),
            _ => {}
        }
    }
}

pub use hint::hint;

mod check;
mod hint;
#[cfg(test)]
mod tests;
