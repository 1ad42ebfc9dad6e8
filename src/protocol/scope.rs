//! Which issues a resync takes, and what of them. It crosses the wire
//! when one side asks the other to resync (`Change::ResyncRequest`).

use serde::{Deserialize, Serialize};

use super::IssueFields;

/// Which issues, and what of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Only these issue keys (empty: all of the project).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// Only issues updated at or after this time (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_since: Option<i64>,
    /// Only issues in one of these statuses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<String>,
    /// Only issues with one of these labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Only issues created before this time (the existing issues chosen at
    /// the start: not those that arrived from the partner since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_before: Option<i64>,
    /// Only these fields (`summary`, …, `comments`, `attachments`) of
    /// paired issues; empty: everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// The fields a resync can be limited to.
pub const FIELDS: &[&str] = &[
    "summary",
    "description",
    "status",
    "priority",
    "labels",
    "assignee",
    "type",
    "due_date",
    "custom",
    "comments",
    "attachments",
    "worklogs",
];

impl Scope {
    /// Whether an issue (its key, times and fields) is in the scope.
    pub fn matches(&self, key: &str, (created_at, updated_at): (i64, i64), fields: &IssueFields) -> bool {
        (self.keys.is_empty() || self.keys.iter().any(|k| k == key))
            && self.updated_since.is_none_or(|t| updated_at >= t)
            && self.created_before.is_none_or(|t| created_at < t)
            && (self.statuses.is_empty() || self.statuses.contains(&fields.status))
            && (self.labels.is_empty() || fields.labels.iter().any(|l| self.labels.contains(l)))
    }

    /// Whether paired issues' `field` (or `comments`, `attachments`) is sent.
    pub fn includes(&self, field: &str) -> bool {
        self.fields.is_empty() || self.fields.iter().any(|f| f == field)
    }
}
