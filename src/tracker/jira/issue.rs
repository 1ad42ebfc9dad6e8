//! A Jira issue as postern sees it: read from Jira's JSON (fields, the
//! text of description and comments in either dialect, who the sync user
//! wrote for), and the JSON of a write.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::jql::ms;
use super::meta::{str_of, unknown, Meta};
use super::settings::Flavour;
use super::text;
use super::ACCOUNT_ID;
use crate::protocol::IssueFields;
use crate::tracker::{AttachmentInfo, Comment, Issue, Refusal, TResult, Worklog};

/// The property postern keeps on what it writes: whose behalf, and the
/// marker of an interrupted write.
pub const PROPERTY: &str = "postern";

/// The journal's tag in postern's property of a comment or worklog (an
/// array of properties, as Jira lists them with `expand=properties`).
pub fn entity_mark(raw: &Value) -> Option<&str> {
    let props = raw["properties"].as_array()?;
    props.iter().find(|p| p["key"] == PROPERTY)?["value"]["write"].as_str()
}

/// The fields postern reads, custom ones added.
pub fn fields_param(m: &Meta) -> String {
    let mut f = vec![
        "summary",
        "description",
        "status",
        "priority",
        "labels",
        "assignee",
        "issuetype",
        "duedate",
        "created",
        "updated",
        "creator",
        "reporter",
        "project",
        "attachment",
        "comment",
        "worklog",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    f.extend(m.custom.values().cloned());
    f.join(",")
}

/// A user's name as postern shows it: the display name on Cloud, the user
/// name on Data Center; with the e-mail address when Jira shows it.
pub fn user_name(v: &Value, m: &Meta) -> Option<(String, Option<String>)> {
    if v.is_null() {
        return None;
    }
    let name = match m.flavour {
        Flavour::Cloud => match v["accountId"].as_str().filter(|id| m.named.contains(*id)) {
            Some(id) => format!("{ACCOUNT_ID}{id}"),
            None => str_of(&v["displayName"]),
        },
        Flavour::DataCenter => str_of(&v["name"]),
    };
    let email = v["emailAddress"].as_str().filter(|e| !e.is_empty()).map(String::from);
    Some((name, email))
}

/// Whether `user` (Jira's JSON) is the sync user.
pub fn is_sync_user(user: &Value, m: &Meta) -> bool {
    let id = match m.flavour {
        Flavour::Cloud => &user["accountId"],
        Flavour::DataCenter => &user["name"],
    };
    id.as_str() == Some(m.user_id.as_str())
}

/// The fields of issue JSON `v`.
pub fn fields_of(v: &Value, m: &Meta) -> IssueFields {
    let f = &v["fields"];
    let assignee = user_name(&f["assignee"], m);
    let mut custom = BTreeMap::new();
    for (name, id) in &m.custom {
        let value = match &f[id] {
            Value::Null => continue,
            Value::Object(o) => o.get("value").map(str_of).unwrap_or_default(),
            Value::Array(a) => {
                a.iter().map(|x| x.get("value").map_or_else(|| str_of(x), str_of)).collect::<Vec<_>>().join(",")
            }
            other => str_of(other),
        };
        if !value.is_empty() {
            custom.insert(name.clone(), value);
        }
    }
    IssueFields {
        summary: str_of(&f["summary"]),
        description: text::from_jira(m.flavour, &f["description"]),
        status: str_of(&f["status"]["name"]),
        priority: str_of(&f["priority"]["name"]),
        labels: f["labels"].as_array().into_iter().flatten().map(str_of).collect(),
        assignee: assignee.as_ref().map(|(n, _)| n.clone()),
        issue_type: Some(str_of(&f["issuetype"]["name"])).filter(|t| !t.is_empty()),
        due_date: f["duedate"].as_str().map(String::from),
        custom,
        assignee_email: assignee.and_then(|(_, e)| e),
    }
}

/// Issue JSON `v` with its comments, worklogs (each as Jira lists them,
/// with their properties) and the attachments' owners, as an [`Issue`].
pub fn from_json(v: &Value, comments: &[Value], worklogs: &[Value], behalf: &Map<String, Value>, m: &Meta) -> Issue {
    let f = &v["fields"];
    let name = |u: &Value| user_name(u, m).map(|(n, _)| n).unwrap_or_default();
    let comments = comments
        .iter()
        .map(|c| Comment {
            id: str_of(&c["id"]),
            author: name(&c["author"]),
            on_behalf_of: property(c, "on_behalf_of").filter(|_| is_sync_user(&c["author"], m)),
            body: text::from_jira(m.flavour, &c["body"]),
            created_at: ms(c["created"].as_str().unwrap_or_default()).unwrap_or_default(),
            updated_at: ms(c["updated"].as_str().unwrap_or_default()).unwrap_or_default(),
        })
        .collect();
    let attachments = f["attachment"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let id = str_of(&a["id"]);
            AttachmentInfo {
                on_behalf_of: behalf.get(&id).and_then(Value::as_str).map(String::from),
                id,
                filename: str_of(&a["filename"]),
                media_type: str_of(&a["mimeType"]),
                size: a["size"].as_u64().unwrap_or_default(),
                sha256: String::new(),
                author: name(&a["author"]),
                created_at: ms(a["created"].as_str().unwrap_or_default()).unwrap_or_default(),
            }
        })
        .collect();
    let worklogs = worklogs.iter().map(|w| worklog(w, m)).collect();
    Issue {
        key: str_of(&v["key"]),
        project: str_of(&f["project"]["key"]),
        fields: fields_of(v, m),
        created_at: ms(f["created"].as_str().unwrap_or_default()).unwrap_or_default(),
        updated_at: ms(f["updated"].as_str().unwrap_or_default()).unwrap_or_default(),
        comments,
        attachments,
        worklogs,
    }
}

/// A worklog: the sync user logs time for someone here on behalf of
/// someone at the partner (both kept in its property).
pub fn worklog(w: &Value, m: &Meta) -> Worklog {
    let ours = is_sync_user(&w["author"], m);
    let (author, email) = user_name(&w["author"], m).unwrap_or_default();
    let started = w["started"].as_str().unwrap_or_default();
    Worklog {
        id: str_of(&w["id"]),
        author: property(w, "user").filter(|_| ours).unwrap_or(author),
        on_behalf_of: property(w, "on_behalf_of").filter(|_| ours),
        minutes: (w["timeSpentSeconds"].as_u64().unwrap_or_default() / 60) as u32,
        spent_on: started.get(..10).unwrap_or_default().to_string(),
        comment: text::worklog_from_jira(&w["comment"]),
        email,
        updated_at: ms(w["updated"].as_str().unwrap_or_default()).unwrap_or_default(),
    }
}

/// A value of postern's property on a comment or worklog (read with
/// `expand=properties`).
fn property(v: &Value, name: &str) -> Option<String> {
    v["properties"]
        .as_array()?
        .iter()
        .find(|p| p["key"] == PROPERTY)
        .and_then(|p| p["value"][name].as_str().map(String::from))
}

/// Jira's JSON for the fields of a create or an update: only those given.
pub fn write_fields(
    f: &crate::protocol::FieldChanges,
    m: &Meta,
    assignee: Option<Value>,
) -> TResult<Map<String, Value>> {
    let mut out = Map::new();
    if let Some(s) = &f.summary {
        if s.trim().is_empty() {
            return Err(Refusal::Invalid("the summary must not be empty".into()).into());
        }
        out.insert("summary".into(), json!(s));
    }
    if let Some(d) = &f.description {
        out.insert("description".into(), text::to_jira(m.flavour, d));
    }
    // Empty: the partner's tracker has none; Jira's default stays.
    if let Some(p) = f.priority.as_ref().filter(|p| !p.is_empty()) {
        if !m.priorities.contains_key(p) {
            return Err(unknown("priority", p, m.priorities.keys().cloned()));
        }
        out.insert("priority".into(), json!({ "name": p }));
    }
    if let Some(t) = &f.issue_type {
        if !m.types.contains_key(t) {
            return Err(unknown("type", t, m.types.keys().cloned()));
        }
        out.insert("issuetype".into(), json!({ "name": t }));
    }
    if let Some(l) = &f.labels {
        if let Some(bad) = l.iter().find(|l| l.is_empty() || l.contains(char::is_whitespace)) {
            return Err(Refusal::Invalid(format!("Jira labels cannot hold spaces: {bad:?}")).into());
        }
        out.insert("labels".into(), json!(l));
    }
    if let Some(d) = &f.due_date {
        if !d.is_empty() && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
            return Err(Refusal::Invalid(format!("the due date {d:?} is not a date (YYYY-MM-DD)")).into());
        }
        out.insert("duedate".into(), if d.is_empty() { Value::Null } else { json!(d) });
    }
    if f.assignee.is_some() {
        out.insert("assignee".into(), assignee.unwrap_or(Value::Null));
    }
    for (name, value) in &f.custom {
        let Some(id) = m.custom.get(name) else {
            return Err(unknown("custom field", name, m.custom.keys().cloned()));
        };
        out.insert(id.clone(), if value.is_empty() { Value::Null } else { json!(value) });
    }
    Ok(out)
}
