//! A GitHub issue as postern sees it: title, body (GitHub-flavoured
//! Markdown, carried as it is), status from `state` and `state_reason`,
//! labels, the first assignee, the organisation's issue type, and the
//! milestone as the custom field `milestone`. What the sync user writes
//! for someone at the partner opens with a line saying so; the journal's
//! tag for a write rides in an HTML comment (invisible on GitHub) at the
//! end of the body, and neither is part of the text postern reads.

use serde_json::Value;

use super::meta::{status_of, str_of, Meta};
use super::settings::GitHubSettings;
use crate::protocol::IssueFields;
use crate::tracker::remote::diff::Who;
use crate::tracker::{Comment, Issue};

/// The custom field the milestone is carried as.
pub const MILESTONE: &str = "milestone";

const MARK_OPEN: &str = "<!-- postern:";
const MARK_CLOSE: &str = " -->";

/// `text` with the journal's tag `tag` at its end, hidden.
pub fn with_mark(text: &str, tag: Option<&str>) -> String {
    match tag {
        Some(t) if text.is_empty() => format!("{MARK_OPEN}{t}{MARK_CLOSE}"),
        Some(t) => format!("{text}\n\n{MARK_OPEN}{t}{MARK_CLOSE}"),
        None => text.to_string(),
    }
}

/// `(text, tag)` of a body written by [`with_mark`].
pub fn split_mark(body: &str) -> (String, Option<String>) {
    let Some(rest) = body.strip_suffix(MARK_CLOSE) else { return (body.to_string(), None) };
    let Some(at) = rest.rfind(MARK_OPEN) else { return (body.to_string(), None) };
    let tag = &rest[at + MARK_OPEN.len()..];
    if tag.is_empty() || tag.contains(char::is_whitespace) {
        return (body.to_string(), None);
    }
    let text = &rest[..at];
    (text.strip_suffix("\n\n").unwrap_or(text).to_string(), Some(tag.to_string()))
}

/// The line a comment the sync user writes for `author` opens with.
fn header(author: &str) -> String {
    format!("**{author}** (at the partner) wrote:")
}

/// The body postern writes for `text` by `author` at the partner.
pub fn comment_body(text: &str, author: Option<&str>, tag: Option<&str>) -> String {
    let text = match author {
        Some(a) => format!("{}\n\n{text}", header(a)),
        None => text.to_string(),
    };
    with_mark(&text, tag)
}

/// `(on behalf of, text, tag)` of a comment's body.
pub fn comment_parts(body: &str, by_sync_user: bool) -> (Option<String>, String, Option<String>) {
    let (text, tag) = split_mark(body);
    if by_sync_user {
        if let Some((first, rest)) = text.split_once("\n\n") {
            let author = first.strip_prefix("**").and_then(|f| f.strip_suffix("** (at the partner) wrote:"));
            if let Some(a) = author {
                return (Some(a.to_string()), rest.to_string(), tag);
            }
        }
    }
    (None, text, tag)
}

/// GitHub's times (`2026-12-04T10:15:30Z`) in ms since the epoch, at the
/// end of their second: a change made in the same second as one of the
/// partner's (whose times have milliseconds) is not taken for the older
/// (the later change wins, and GitHub's could be up to 999 ms later).
pub fn ms(v: &Value) -> i64 {
    let Some(t) = v.as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) else { return 0 };
    match t.timestamp_subsec_millis() {
        0 => t.timestamp_millis() + 999,
        _ => t.timestamp_millis(),
    }
}

/// An issue's fields, in the partner's status names where the sync's
/// table renames ours.
pub fn fields(v: &Value, s: &GitHubSettings) -> IssueFields {
    let status = crate::tracker::names::wire(&s.statuses, &status_of(v));
    let mut labels: Vec<String> = v["labels"].as_array().into_iter().flatten().map(|l| str_of(&l["name"])).collect();
    labels.sort();
    let milestone = v["milestone"]["title"].as_str().map(|t| (MILESTONE.to_string(), t.to_string()));
    IssueFields {
        summary: str_of(&v["title"]),
        description: split_mark(v["body"].as_str().unwrap_or_default()).0,
        status,
        priority: String::new(),
        labels,
        assignee: v["assignees"].as_array().and_then(|a| a.first()).map(|u| str_of(&u["login"])),
        issue_type: v["type"]["name"].as_str().map(String::from),
        due_date: None,
        custom: milestone.into_iter().collect(),
        assignee_email: None,
    }
}

/// Issue `v` with its comments (as GitHub lists them).
pub fn issue(v: &Value, comments: &[Value], s: &GitHubSettings, m: &Meta) -> Issue {
    Issue {
        key: str_of(&v["number"]),
        project: s.repo.clone(),
        fields: fields(v, s),
        created_at: ms(&v["created_at"]),
        updated_at: ms(&v["updated_at"]),
        comments: comments.iter().map(|c| comment(c, m)).collect(),
        attachments: Vec::new(),
        worklogs: Vec::new(),
    }
}

pub fn comment(c: &Value, m: &Meta) -> Comment {
    let ours = m.is_sync_user(&c["user"]);
    let (on_behalf_of, body, _) = comment_parts(c["body"].as_str().unwrap_or_default(), ours);
    Comment {
        id: str_of(&c["id"]),
        author: str_of(&c["user"]["login"]),
        on_behalf_of,
        body,
        created_at: ms(&c["created_at"]),
        updated_at: ms(&c["updated_at"]),
    }
}

/// An issue event's field (`events` of an issue): which wire field it set.
pub fn event_field(event: &str) -> Option<&'static str> {
    Some(match event {
        "renamed" => "summary",
        "closed" | "reopened" => "status",
        "labeled" | "unlabeled" => "labels",
        "assigned" | "unassigned" => "assignee",
        "milestoned" | "demilestoned" => "custom",
        "issue_type_added" | "issue_type_changed" | "issue_type_removed" => "type",
        _ => return None,
    })
}

/// Who did what in one issue: its author, its comments' authors, and the
/// events that set its fields. GitHub keeps no record of who edited a
/// body: a description is taken as a person's (postern's own writes are
/// known as written, see `remote::state`).
pub struct History<'a> {
    pub v: &'a Value,
    pub comments: &'a [Value],
    pub events: Vec<Value>,
    pub m: &'a Meta,
}

impl History<'_> {
    fn last_setter(&self, field: &str) -> Option<&Value> {
        self.events.iter().rev().find(|e| event_field(e["event"].as_str().unwrap_or_default()) == Some(field))
    }
}

impl Who for History<'_> {
    fn creator(&self) -> (String, bool) {
        (str_of(&self.v["user"]["login"]), self.m.is_sync_user(&self.v["user"]))
    }
    fn comment_by_sync_user(&self, id: &str) -> bool {
        self.comments.iter().any(|c| str_of(&c["id"]) == id && self.m.is_sync_user(&c["user"]))
    }
    /// GitHub does not say who edited a comment; postern keeps the text it
    /// wrote (`remote::state`), so a different text is someone's edit.
    fn comment_last_edited_by_sync_user(&self, _id: &str) -> bool {
        false
    }
    fn attachment_by_sync_user(&self, _id: &str) -> bool {
        false
    }
    fn field_last_set_by_sync_user(&self, field: &str) -> bool {
        self.last_setter(field).is_some_and(|e| self.m.is_sync_user(&e["actor"]))
    }
    fn field_last_set_by_someone_else(&self, field: &str) -> bool {
        self.last_setter(field).is_some_and(|e| !self.m.is_sync_user(&e["actor"]))
    }
}

/// The last time someone but the sync user set `field`, from the
/// events; the description, which has no event, at the issue's update.
pub fn field_time(v: &Value, events: &[Value], field: &str, m: &Meta) -> Option<i64> {
    if field == "description" {
        return Some(ms(&v["updated_at"]));
    }
    events
        .iter()
        .rev()
        .find(|e| event_field(e["event"].as_str().unwrap_or_default()) == Some(field) && !m.is_sync_user(&e["actor"]))
        .map(|e| ms(&e["created_at"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_headers_come_off_as_they_went_on() {
        for text in ["", "one", "a\n\nb", "ends with a blank\n\n", "<!-- a person's comment -->"] {
            assert_eq!(split_mark(&with_mark(text, Some("w-1-2"))), (text.to_string(), Some("w-1-2".into())));
            assert_eq!(split_mark(&with_mark(text, None)).0, text);
        }
        let body = comment_body("Two\n\nparagraphs", Some("Vera Vendor"), Some("t9"));
        assert!(body.starts_with("**Vera Vendor** (at the partner) wrote:\n\nTwo"), "{body}");
        assert_eq!(
            comment_parts(&body, true),
            (Some("Vera Vendor".into()), "Two\n\nparagraphs".into(), Some("t9".into()))
        );
        // A person who writes the same header speaks for themselves.
        assert_eq!(comment_parts(&body, false).0, None);
    }
}
