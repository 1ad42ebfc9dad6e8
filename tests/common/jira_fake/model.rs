//! The fake Jira's state: users, issues with their comments, attachments,
//! worklogs, properties and change history, a clock with milliseconds, and
//! JQL evaluated honestly (minutes in the asking user's time zone).

use chrono::TimeZone;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone)]
pub struct User {
    pub account_id: String,
    pub name: String,
    pub display: String,
    pub email: String,
    pub time_zone: String,
}

#[derive(Debug, Clone, Default)]
pub struct Comment {
    pub id: u64,
    pub author: usize,
    pub update_author: usize,
    pub body: Value,
    pub created: i64,
    pub updated: i64,
    pub properties: Vec<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct Attachment {
    pub id: u64,
    pub filename: String,
    pub mime: String,
    pub data: Vec<u8>,
    pub author: usize,
    pub created: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Worklog {
    pub id: u64,
    pub author: usize,
    pub update_author: usize,
    pub seconds: u64,
    pub started: String,
    pub comment: Value,
    pub created: i64,
    pub updated: i64,
    pub properties: Vec<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct Issue {
    pub id: u64,
    pub key: String,
    /// summary, description, status, priority, labels, assignee (a user
    /// index or null), issuetype, duedate, customfield_*.
    pub fields: Map<String, Value>,
    pub creator: usize,
    pub created: i64,
    pub updated: i64,
    pub comments: Vec<Comment>,
    pub attachments: Vec<Attachment>,
    pub worklogs: Vec<Worklog>,
    pub properties: Map<String, Value>,
    /// (id, author, created, items)
    pub histories: Vec<(u64, usize, i64, Vec<Value>)>,
}

pub const STATUSES: &[(&str, &str)] = &[("1", "To Do"), ("3", "In Progress"), ("10001", "Done")];
/// A status's category, as Jira gives it with the status.
pub fn category(status: &str) -> Value {
    match status {
        "To Do" => json!({"id": 2, "key": "new", "name": "To Do", "colorName": "blue-gray"}),
        "Done" => json!({"id": 3, "key": "done", "name": "Done", "colorName": "green"}),
        _ => json!({"id": 4, "key": "indeterminate", "name": "In Progress", "colorName": "yellow"}),
    }
}

/// The resolutions a transition screen offers.
pub const RESOLUTIONS: &[(&str, &str)] = &[("10000", "Done"), ("10001", "Won't Do")];

pub const PRIORITIES: &[(&str, &str)] = &[("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low")];
pub const TYPES: &[(&str, &str)] = &[("10001", "Bug"), ("10002", "Task")];
pub const CUSTOM: (&str, &str) = ("customfield_10010", "Ticket ref");

impl super::Fake {
    /// The fake's clock: real time plus what the test moved it by.
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp_millis() + self.clock_offset_ms
    }

    /// A time as Jira writes it, in `user`'s zone.
    pub fn time(&self, ms: i64, user: usize) -> String {
        let tz: chrono_tz::Tz = self.users[user].time_zone.parse().unwrap_or(chrono_tz::UTC);
        let t = chrono::DateTime::from_timestamp_millis(ms).unwrap();
        tz.from_utc_datetime(&t.naive_utc()).format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
    }

    /// A user as Jira shows one.
    pub fn user_json(&self, i: usize) -> Value {
        let u = &self.users[i];
        if self.cloud {
            let mut v = json!({"accountId": u.account_id, "displayName": u.display, "active": true,
                "timeZone": u.time_zone, "accountType": "atlassian"});
            // Cloud shows an address only where the user lets it be seen.
            if !self.hidden_emails || i == 0 {
                v["emailAddress"] = json!(u.email);
            }
            v
        } else {
            json!({"name": u.name, "key": u.account_id, "displayName": u.display, "emailAddress": u.email,
                "active": true, "timeZone": u.time_zone})
        }
    }

    /// The user a write names (`{"accountId"}` or `{"name"}`).
    pub fn user_of(&self, v: &Value) -> Option<usize> {
        let (field, want) = if self.cloud { ("accountId", &v["accountId"]) } else { ("name", &v["name"]) };
        let want = want.as_str()?;
        self.users.iter().position(|u| if field == "accountId" { u.account_id == want } else { u.name == want })
    }

    pub fn issue_mut(&mut self, key: &str) -> Option<&mut Issue> {
        self.issues.iter_mut().find(|i| i.key == key || i.id.to_string() == key)
    }

    pub fn issue(&self, key: &str) -> Option<&Issue> {
        self.issues.iter().find(|i| i.key == key || i.id.to_string() == key)
    }

    pub fn next_id(&mut self) -> u64 {
        self.ids += 1;
        self.ids
    }

    /// The issues a JQL query finds, for `user`, in its order. The fake
    /// takes the subset postern writes: `project = "K"`, `AND updated >=
    /// "yyyy/MM/dd HH:mm"` or `created >=`, `ORDER BY updated|created
    /// ASC|DESC, key ASC`; anything else is a 400, as in Jira.
    pub fn jql(&self, q: &str, user: usize) -> Result<Vec<&Issue>, String> {
        let (cond, order) = q.split_once(" ORDER BY ").unwrap_or((q, "key ASC"));
        let mut project = None;
        let mut since: Vec<(&str, i64)> = Vec::new();
        for part in cond.split(" AND ") {
            let part = part.trim();
            if let Some(p) = part.strip_prefix("project = ") {
                project = Some(p.trim_matches('"').to_string());
            } else if let Some((field, t)) = part.split_once(" >= ") {
                let t = t.trim_matches('"');
                let tz: chrono_tz::Tz = self.users[user].time_zone.parse().unwrap_or(chrono_tz::UTC);
                let naive = chrono::NaiveDateTime::parse_from_str(t, "%Y/%m/%d %H:%M")
                    .map_err(|_| format!("Date value '{t}' for field '{field}' is invalid."))?;
                let ms = tz.from_local_datetime(&naive).earliest().ok_or("no such local time")?.timestamp_millis();
                match field {
                    "updated" | "created" => since.push((if field == "updated" { "updated" } else { "created" }, ms)),
                    other => return Err(format!("Field '{other}' is not supported by this fake.")),
                }
            } else {
                return Err(format!("Error in the JQL Query: '{part}'"));
            }
        }
        let mut out: Vec<&Issue> = self
            .issues
            .iter()
            .filter(|i| project.as_deref().is_none_or(|p| i.key.starts_with(&format!("{p}-"))))
            .filter(|i| since.iter().all(|(f, t)| if *f == "updated" { i.updated >= *t } else { i.created >= *t }))
            .collect();
        let first = order.split(',').next().unwrap_or("key ASC").trim();
        let by_created = first.starts_with("created");
        out.sort_by_key(|i| (if by_created { i.created } else { i.updated }, i.id));
        if first.ends_with("DESC") {
            out.reverse();
        }
        Ok(out)
    }

    /// Records a change of field `field` from `from` to `to` by `user`.
    pub fn history(&mut self, key: &str, user: usize, items: Vec<Value>) {
        let now = self.now();
        let id = self.next_id();
        if let Some(i) = self.issue_mut(key) {
            i.histories.push((id, user, now, items));
            i.updated = now;
        }
    }
}

/// A field's value as the history writes it.
pub fn shown(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        Value::String(s) => json!(s),
        Value::Array(a) => json!(a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" ")),
        other => json!(other.to_string()),
    }
}
