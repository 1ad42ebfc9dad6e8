//! Redmine's issue JSON turned into postern's [`Issue`], and the small
//! facts read from journals: who set a field when, which journal or
//! attachment a write made, notes written for someone at the partner.

use serde_json::Value;

use super::meta::Meta;
use super::settings::RedmineSettings;
use crate::protocol::IssueFields;
use crate::tracker::names::wire;
use crate::tracker::{AttachmentInfo, Comment, Issue};

/// RFC 3339 → ms since the epoch (0 if absent or malformed).
pub fn ms(v: &Value) -> i64 {
    v.as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or_default()
}

/// Redmine stores descriptions with CRLF; the wire carries LF.
fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().replace("\r\n", "\n")
}

/// The first line of a note the sync user wrote for a partner's author.
fn header(author: &str) -> String {
    format!("{author} (at the partner) wrote:")
}

/// The notes postern writes for `body` by `author` at the partner.
pub fn notes_for(body: &str, author: Option<&str>) -> String {
    match author {
        Some(a) => format!("{}\n\n{body}", header(a)),
        None => body.to_string(),
    }
}

/// An attachment's description when the sync user attaches for someone.
pub fn attachment_note(author: Option<&str>) -> String {
    author.map(|a| format!("from {a} (at the partner)")).unwrap_or_default()
}

/// `(on behalf of, body)` of a journal's notes.
fn split_notes(notes: &str, by_sync_user: bool) -> (Option<String>, String) {
    if by_sync_user {
        if let Some((first, rest)) = notes.split_once("\n\n") {
            if let Some(author) = first.strip_suffix(" (at the partner) wrote:") {
                return (Some(author.to_string()), rest.to_string());
            }
        }
    }
    (None, notes.to_string())
}

pub fn journal<'a>(issue: &'a Value, id: &str) -> Option<&'a Value> {
    issue["journals"].as_array()?.iter().find(|j| j["id"].as_u64().map(|i| i.to_string()).as_deref() == Some(id))
}

/// Whose behalf a journal was written on, if the sync user wrote it so.
pub fn on_behalf_of(journal: &Value, m: &Meta) -> Option<String> {
    let by_sync_user = journal["user"]["id"].as_u64() == Some(m.user_id);
    split_notes(journal["notes"].as_str().unwrap_or_default(), by_sync_user).0
}

pub fn from_json(v: &Value, m: &Meta, s: &RedmineSettings) -> Issue {
    m.shapes.learn(&v["custom_fields"]);
    // A list field's values as they are; a text field's split at commas.
    let labels = match m.labels_field {
        Some(cf) => v["custom_fields"]
            .as_array()
            .and_then(|l| l.iter().find(|f| f["id"].as_u64() == Some(cf)))
            .map(|f| match &f["value"] {
                Value::Array(_) => super::shapes::values_of(&f["value"]),
                t => t
                    .as_str()
                    .into_iter()
                    .flat_map(|t| t.split(','))
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect(),
            })
            .unwrap_or_default(),
        None => match &m.label_categories {
            Some(_) => v["category"]["name"].as_str().map(String::from).into_iter().collect(),
            None => Vec::new(),
        },
    };
    let comments = v["journals"]
        .as_array()
        .map(|js| {
            js.iter()
                .filter(|j| !j["notes"].as_str().unwrap_or_default().is_empty())
                .map(|j| {
                    let by_sync_user = j["user"]["id"].as_u64() == Some(m.user_id);
                    let (on_behalf_of, body) = split_notes(j["notes"].as_str().unwrap_or_default(), by_sync_user);
                    let created = ms(&j["created_on"]);
                    Comment {
                        id: j["id"].as_u64().unwrap_or_default().to_string(),
                        author: j["user"]["name"].as_str().unwrap_or_default().to_string(),
                        on_behalf_of,
                        body,
                        created_at: created,
                        // Redmine 6 says when notes were edited; 5 does not.
                        updated_at: if j["updated_on"].is_string() { ms(&j["updated_on"]) } else { created },
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let attachments = v["attachments"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|a| AttachmentInfo {
                    id: a["id"].as_u64().unwrap_or_default().to_string(),
                    filename: a["filename"].as_str().unwrap_or_default().to_string(),
                    media_type: a["content_type"].as_str().unwrap_or("application/octet-stream").to_string(),
                    size: a["filesize"].as_u64().unwrap_or_default(),
                    sha256: String::new(),
                    author: a["author"]["name"].as_str().unwrap_or_default().to_string(),
                    on_behalf_of: a["description"]
                        .as_str()
                        .and_then(|d| d.strip_prefix("from "))
                        .and_then(|d| d.strip_suffix(" (at the partner)"))
                        .map(String::from),
                    created_at: ms(&a["created_on"]),
                })
                .collect()
        })
        .unwrap_or_default();
    Issue {
        key: v["id"].as_u64().unwrap_or_default().to_string(),
        project: s.project.clone(),
        fields: IssueFields {
            summary: text(&v["subject"]),
            description: text(&v["description"]),
            status: wire(&s.statuses, v["status"]["name"].as_str().unwrap_or_default()),
            priority: wire(&s.priorities, v["priority"]["name"].as_str().unwrap_or_default()),
            labels,
            assignee: v["assigned_to"]["name"].as_str().map(String::from),
            issue_type: v["tracker"]["name"].as_str().map(String::from),
            due_date: v["due_date"].as_str().map(String::from),
            custom: custom_of(v, m),
            assignee_email: None,
        },
        created_at: ms(&v["created_on"]),
        updated_at: ms(&v["updated_on"]),
        comments,
        attachments,
        worklogs: Vec::new(),
    }
}

/// The issue's custom fields with a value, by name (the labels field
/// left out; several values comma-separated).
fn custom_of(v: &Value, m: &Meta) -> std::collections::BTreeMap<String, String> {
    v["custom_fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["id"].as_u64().is_some() && f["id"].as_u64() != m.labels_field)
        .filter_map(|f| {
            let id = f["id"].as_u64()?;
            let value = match &f["value"] {
                Value::String(s) if !s.is_empty() => m.custom_value_in(id, s),
                Value::Array(l) => {
                    l.iter().filter_map(Value::as_str).map(|v| m.custom_value_in(id, v)).collect::<Vec<_>>().join(", ")
                }
                _ => String::new(),
            };
            Some((f["name"].as_str()?.to_string(), value)).filter(|(_, v)| !v.is_empty())
        })
        .collect()
}

/// Whether a journal detail sets one of postern's fields.
fn sets(d: &Value, field: &str, m: &Meta) -> bool {
    let name = d["name"].as_str().unwrap_or_default();
    let attr = match field {
        "summary" => "subject",
        "description" => "description",
        "status" => "status_id",
        "priority" => "priority_id",
        "assignee" => "assigned_to_id",
        "type" => "tracker_id",
        "due_date" => "due_date",
        "labels" if m.label_categories.is_some() => "category_id",
        "labels" => return m.labels_field.is_some_and(|id| d["property"] == "cf" && name == id.to_string()),
        "custom" => {
            return d["property"] == "cf" && m.labels_field.is_none_or(|id| name != id.to_string());
        }
        _ => return false,
    };
    d["property"] == "attr" && name == attr
}

/// Journals of anyone but the sync user.
fn others<'a>(v: &'a Value, m: &'a Meta) -> impl Iterator<Item = &'a Value> + 'a {
    v["journals"].as_array().into_iter().flatten().filter(move |j| j["user"]["id"].as_u64() != Some(m.user_id))
}

/// When `field` was last set by someone but the sync user (its creation
/// counts when someone else created the issue).
pub fn field_time(v: &Value, field: &str, m: &Meta) -> Option<i64> {
    let set = others(v, m)
        .filter(|j| j["details"].as_array().into_iter().flatten().any(|d| sets(d, field, m)))
        .map(|j| ms(&j["created_on"]))
        .max();
    let created = (v["author"]["id"].as_u64() != Some(m.user_id)).then(|| ms(&v["created_on"]));
    set.max(created)
}

/// Who set `field` last: the user of the last journal that changed it,
/// else the issue's author.
pub fn last_setter(v: &Value, field: &str, m: &Meta) -> Option<u64> {
    v["journals"]
        .as_array()
        .into_iter()
        .flatten()
        .rfind(|j| j["details"].as_array().into_iter().flatten().any(|d| sets(d, field, m)))
        .map_or_else(|| v["author"]["id"].as_u64(), |j| j["user"]["id"].as_u64())
}

/// When comment `id` was last edited by someone but the sync user.
pub fn comment_time(v: &Value, id: &str, m: &Meta) -> Option<i64> {
    let j = journal(v, id)?;
    if j["user"]["id"].as_u64() == Some(m.user_id) {
        return None;
    }
    j["updated_on"].is_string().then(|| ms(&j["updated_on"]))
}

/// The sync user's newest journal with these notes (the one a note
/// just made: Redmine's answer to the write does not name it).
pub fn newest_journal(v: &Value, user: u64, notes: &str) -> Option<String> {
    v["journals"]
        .as_array()?
        .iter()
        .filter(|j| j["user"]["id"].as_u64() == Some(user) && j["notes"].as_str() == Some(notes))
        .filter_map(|j| j["id"].as_u64())
        .max()
        .map(|id| id.to_string())
}

/// The sync user's newest attachment of this name.
pub fn newest_attachment(v: &Value, user: u64, filename: &str) -> Option<String> {
    v["attachments"]
        .as_array()?
        .iter()
        .filter(|a| a["author"]["id"].as_u64() == Some(user) && a["filename"].as_str() == Some(filename))
        .filter_map(|a| a["id"].as_u64())
        .max()
        .map(|id| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_written_for_the_partner_keep_their_author() {
        let n = notes_for("Seen on 4.2.\n\nAnd 4.3.", Some("Vera Vendor"));
        assert_eq!(split_notes(&n, true), (Some("Vera Vendor".into()), "Seen on 4.2.\n\nAnd 4.3.".into()));
        // Only the sync user's notes are read so: anyone can type that line.
        assert_eq!(split_notes(&n, false), (None, n.clone()));
        assert_eq!(split_notes("plain", true), (None, "plain".into()));
    }

    #[test]
    fn descriptions_lose_redmines_carriage_returns() {
        assert_eq!(text(&Value::from("a\r\nb")), "a\nb");
        assert_eq!(text(&Value::Null), "");
    }
}
