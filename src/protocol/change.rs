//! Change kinds carried in a message. Issues and comments are always named
//! by the *sender's* keys and ids; the receiver maps them through its links.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every field of an issue, as sent when an issue first crosses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IssueFields {
    pub summary: String,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub labels: Vec<String>,
    pub assignee: Option<String>,
    /// The issue's type (Redmine's tracker, Jira's issue type); absent from
    /// older senders and trackers without types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
    /// Due date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Custom fields by name, each value as text (lists comma-separated).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, String>,
    /// The assignee's e-mail address, when the sender's tracker shows it
    /// (users are mapped by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_email: Option<String>,
}

/// Every field's name on the wire, as [`FieldChanges::names`] gives them.
pub const FIELD_NAMES: [&str; 9] =
    ["summary", "description", "status", "priority", "labels", "assignee", "type", "due_date", "custom"];

/// The fields a change sets; absent means unchanged. An empty assignee
/// means "unassigned".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FieldChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
    /// An empty due date means "none".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// The custom fields set (by name; an empty value clears one). One
    /// field for conflicts and owners: `custom`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, String>,
    /// With `assignee`: the new assignee's e-mail address, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_email: Option<String>,
}

impl FieldChanges {
    /// Every field, as set in `f` (an empty assignee: unassigned).
    pub fn all(f: &IssueFields) -> Self {
        FieldChanges {
            summary: Some(f.summary.clone()),
            description: Some(f.description.clone()),
            status: Some(f.status.clone()),
            priority: Some(f.priority.clone()),
            labels: Some(f.labels.clone()),
            assignee: Some(f.assignee.clone().unwrap_or_default()),
            issue_type: f.issue_type.clone(),
            due_date: Some(f.due_date.clone().unwrap_or_default()),
            custom: f.custom.clone(),
            assignee_email: f.assignee_email.clone(),
        }
    }

    /// The fields of `there` that differ from `here` (labels in any
    /// order, a custom field by name).
    pub fn differing(here: &IssueFields, there: &IssueFields) -> Self {
        let (a, mut b) = (Self::all(here), Self::all(there));
        let sorted = |l: &Option<Vec<String>>| {
            let mut l = l.clone().unwrap_or_default();
            l.sort();
            l
        };
        if a.summary == b.summary {
            b.summary = None;
        }
        if a.description == b.description {
            b.description = None;
        }
        if a.status == b.status {
            b.status = None;
        }
        if a.priority == b.priority {
            b.priority = None;
        }
        if sorted(&a.labels) == sorted(&b.labels) {
            b.labels = None;
        }
        if a.assignee == b.assignee {
            b.assignee = None;
            b.assignee_email = None;
        }
        if a.issue_type == b.issue_type {
            b.issue_type = None;
        }
        if a.due_date == b.due_date {
            b.due_date = None;
        }
        b.custom.retain(|k, v| a.custom.get(k) != Some(v));
        b
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Names of the fields set, as in the wire format.
    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.summary.is_some() {
            v.push("summary")
        }
        if self.description.is_some() {
            v.push("description")
        }
        if self.status.is_some() {
            v.push("status")
        }
        if self.priority.is_some() {
            v.push("priority")
        }
        if self.labels.is_some() {
            v.push("labels")
        }
        if self.assignee.is_some() {
            v.push("assignee")
        }
        if self.issue_type.is_some() {
            v.push("type")
        }
        if self.due_date.is_some() {
            v.push("due_date")
        }
        if !self.custom.is_empty() {
            v.push("custom")
        }
        v
    }

    /// Keeps only the named fields (wire names).
    pub fn keep_only(&mut self, names: &[String]) {
        for n in self.names() {
            if !names.iter().any(|k| k == n) {
                self.drop_field(n);
            }
        }
    }

    /// Unsets the named field.
    pub fn drop_field(&mut self, name: &str) {
        match name {
            "summary" => self.summary = None,
            "description" => self.description = None,
            "status" => self.status = None,
            "priority" => self.priority = None,
            "labels" => self.labels = None,
            "assignee" => {
                self.assignee = None;
                self.assignee_email = None
            }
            "type" => self.issue_type = None,
            "due_date" => self.due_date = None,
            "custom" => self.custom.clear(),
            _ => {}
        }
    }
}

/// A comment as it stands, with the sender's comment id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentSnapshot {
    pub id: String,
    pub author: String,
    pub body: String,
    /// When it was written (sender's clock, ms): both sides order comments
    /// by it, so concurrent comments show in the same order everywhere.
    #[serde(default)]
    pub created_at: i64,
    /// Where the comment was first made, when not on the sender's side
    /// (see [`crate::store::origins`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

/// A file attached to an issue: small ones with their content (standard
/// base64), large ones described here and streamed in chunks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentSnapshot {
    pub id: String,
    pub filename: String,
    pub media_type: String,
    pub author: String,
    pub created_at: i64,
    /// SHA-256 of the content, hex: the receiver checks it.
    pub sha256: String,
    /// The content, base64; empty when it travels in chunks (`size` set).
    #[serde(default)]
    pub data: String,
    /// Set when the content travels apart, in [`crate::protocol::Body::Chunk`]
    /// messages, rather than in `data`: its size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The receiver's transfer that brought the content (never on the
    /// wire: set on the change a completed transfer becomes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<String>,
    /// Where the attachment was first made, when not on the sender's side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

/// Time logged on an issue (seed 000's worklogs), with the sender's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorklogSnapshot {
    pub id: String,
    /// Who logged it, on the sender's side, and their address if known.
    pub author: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_email: Option<String>,
    pub minutes: u32,
    /// The day the time was spent, `YYYY-MM-DD`.
    pub spent_on: String,
    #[serde(default)]
    pub comment: String,
    /// When it was last changed (sender's clock, ms; 0 from older
    /// senders): edits of one worklog on both sides resolve like fields.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub at: i64,
}

/// One change. `issue` is the sender's issue key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// First time an issue crosses: its full state, comments included.
    IssueCreated {
        issue: String,
        fields: IssueFields,
        comments: Vec<CommentSnapshot>,
        /// Where the issue was first made, when not on the sender's side.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gid: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        worklogs: Vec<WorklogSnapshot>,
        /// When each field was last changed on the sender's side (by
        /// anyone but this sync), for an issue first made elsewhere: the
        /// receiver may have it already by another path (a triangle of
        /// syncs) and then takes the fields changed here later than there.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        fields_at: BTreeMap<String, i64>,
    },
    /// Fields changed at `at` (sender's clock, ms). A field the receiver
    /// changed itself later is kept: the later edit wins on both sides.
    IssueUpdated {
        issue: String,
        fields: FieldChanges,
        at: i64,
        /// How many of the receiver's messages the sender had applied when
        /// it read this change: an edit of the receiver's it had not seen
        /// is concurrent (a conflict). Absent from older senders.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seen: Option<u64>,
    },
    CommentAdded {
        issue: String,
        comment: CommentSnapshot,
    },
    /// A comment's new text, written at `at` (sender's clock, ms; 0 from
    /// older senders): concurrent edits of one comment resolve like fields.
    CommentEdited {
        issue: String,
        comment: String,
        body: String,
        #[serde(default, skip_serializing_if = "is_zero")]
        at: i64,
    },
    CommentDeleted {
        issue: String,
        comment: String,
    },
    AttachmentAdded {
        issue: String,
        attachment: AttachmentSnapshot,
    },
    AttachmentDeleted {
        issue: String,
        attachment: String,
    },
    WorklogAdded {
        issue: String,
        worklog: WorklogSnapshot,
    },
    /// A worklog's new state (same id).
    WorklogEdited {
        issue: String,
        worklog: WorklogSnapshot,
    },
    WorklogDeleted {
        issue: String,
        worklog: String,
    },
    /// Sent back after creating a copy: "your `yours` is my `mine`", with
    /// comment and attachment id pairs (yours, mine).
    Paired {
        yours: String,
        mine: String,
        comments: Vec<(String, String)>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<(String, String)>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        worklogs: Vec<(String, String)>,
    },
    /// A resync: the issue's current state (the fields chosen, and its
    /// comments when chosen), not its history. The receiver converges:
    /// fields set, comments edited, re-created or added, never duplicated.
    IssueState {
        issue: String,
        fields: FieldChanges,
        at: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comments: Option<Vec<CommentSnapshot>>,
        /// With worklogs chosen: all of the issue's (the receiver adds,
        /// changes and deletes its paired ones to match).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        worklogs: Option<Vec<WorklogSnapshot>>,
    },
    /// The partner asks for a resync of its issues that `scope` matches
    /// (`sync resync --direction in|both`): the receiver sends their state
    /// and keeps the report. About no single issue.
    ResyncRequest {
        scope: super::scope::Scope,
    },
    /// The fields one side owns (field -> `master` or `slave`), as the
    /// sender's admin set them: the receiver takes the same, so both
    /// sides apply the same rule. About no single issue.
    FieldOwners {
        owners: std::collections::BTreeMap<String, String>,
    },
    /// A step of a verify round (`sync verify`): digests, then views of
    /// the issues that differ. About no single issue.
    Verify(Box<super::verify::VerifyStep>),
    /// Piece `index` (from 0) of `total` of one change too large for a
    /// message: `data` is base64 of a slice of that change's JSON. The
    /// pieces travel in consecutive messages and the receiver applies the
    /// change when the last arrives.
    Part {
        issue: String,
        id: String,
        index: u32,
        total: u32,
        data: String,
    },
}

impl Change {
    /// The issue key (sender's side) this change is about.
    pub fn issue(&self) -> &str {
        match self {
            Change::IssueCreated { issue, .. }
            | Change::IssueUpdated { issue, .. }
            | Change::CommentAdded { issue, .. }
            | Change::CommentEdited { issue, .. }
            | Change::CommentDeleted { issue, .. }
            | Change::AttachmentAdded { issue, .. }
            | Change::AttachmentDeleted { issue, .. }
            | Change::WorklogAdded { issue, .. }
            | Change::WorklogEdited { issue, .. }
            | Change::WorklogDeleted { issue, .. }
            | Change::IssueState { issue, .. }
            | Change::Part { issue, .. } => issue,
            Change::Paired { yours, .. } => yours,
            Change::ResyncRequest { .. } | Change::FieldOwners { .. } | Change::Verify(_) => "",
        }
    }
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// A change as read off the wire: a kind from a newer version is kept as
/// raw JSON rather than failing the whole message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
// Known changes are the common case: boxing them would cost an allocation
// each for the rare unknown one's sake.
#[allow(clippy::large_enum_variant)]
pub enum WireChange {
    Known(Change),
    Unknown(serde_json::Value),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kind_is_kept() {
        let v: Vec<WireChange> = serde_json::from_str(
            r#"[{"type":"time_travelled","issue":"A-1","minutes":5},
                {"type":"comment_deleted","issue":"A-1","comment":"7"}]"#,
        )
        .unwrap();
        assert!(matches!(v[0], WireChange::Unknown(_)));
        assert_eq!(v[1], WireChange::Known(Change::CommentDeleted { issue: "A-1".into(), comment: "7".into() }));
    }

    #[test]
    fn field_changes_omit_unchanged() {
        let f = FieldChanges { status: Some("Done".into()), ..Default::default() };
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"status":"Done"}"#);
        assert!(FieldChanges::default().is_empty());
    }
}
