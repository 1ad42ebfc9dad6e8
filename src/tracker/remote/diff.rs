//! What changed in a remote tracker's issue since postern last saw it, by
//! someone other than the sync user: fields, comments, attachments and
//! worklogs. Who did what is the backend's to say (`Who`).

use std::collections::BTreeMap;

use super::state::{fingerprint, Snapshot};
use crate::protocol::FieldChanges;
use crate::tracker::{ChangeKind, Issue};

/// Who wrote what in one issue, as the backend reads it.
pub trait Who {
    /// Who created the issue, and whether that was the sync user.
    fn creator(&self) -> (String, bool);
    /// Whether the sync user wrote comment `id`.
    fn comment_by_sync_user(&self, id: &str) -> bool;
    /// Whether the sync user made the last change of comment `id` (a
    /// backend that cannot tell: whether it wrote it). A person's edit of
    /// a comment the sync user wrote is news for the partner.
    fn comment_last_edited_by_sync_user(&self, id: &str) -> bool {
        self.comment_by_sync_user(id)
    }
    /// Whether the sync user attached `id`.
    fn attachment_by_sync_user(&self, id: &str) -> bool;
    /// Whether the sync user set `field` last (its value is the partner's).
    fn field_last_set_by_sync_user(&self, field: &str) -> bool;
    /// Whether someone other than the sync user set `field` last (false
    /// when nobody changed it since the issue was made).
    fn field_last_set_by_someone_else(&self, field: &str) -> bool;
}

/// What changed from `before` to `now` by someone other than the sync
/// user: `(when, who, what)`.
pub fn diff(before: Option<&Snapshot>, now: &Issue, who: &impl Who) -> Vec<(i64, String, ChangeKind)> {
    let Some(before) = before else {
        let (creator, by_sync_user) = who.creator();
        if by_sync_user {
            return others_in_ours(now, who);
        }
        // Never seen: made by someone here.
        return vec![(now.created_at, creator, ChangeKind::IssueCreated)];
    };
    let mut out = Vec::new();
    let mut fields = FieldChanges::default();
    let (b, n) = (&before.fields, &now.fields);
    for name in ["summary", "description", "status", "priority", "labels", "assignee", "type", "due_date", "custom"] {
        let changed = match name {
            "type" => (b.issue_type != n.issue_type).then(|| fields.issue_type = n.issue_type.clone()),
            "due_date" => {
                (b.due_date != n.due_date).then(|| fields.due_date = Some(n.due_date.clone().unwrap_or_default()))
            }
            "custom" => (b.custom != n.custom).then(|| fields.custom = custom_diff(&b.custom, &n.custom)),
            "summary" => (b.summary != n.summary).then(|| fields.summary = Some(n.summary.clone())),
            "description" => (b.description != n.description).then(|| fields.description = Some(n.description.clone())),
            "status" => (b.status != n.status).then(|| fields.status = Some(n.status.clone())),
            "priority" => (b.priority != n.priority).then(|| fields.priority = Some(n.priority.clone())),
            "labels" => (b.labels != n.labels).then(|| fields.labels = Some(n.labels.clone())),
            _ => (b.assignee != n.assignee).then(|| fields.assignee = Some(n.assignee.clone().unwrap_or_default())),
        };
        // Set by the sync user last: the partner's value, not news.
        if changed.is_some() && who.field_last_set_by_sync_user(name) {
            fields.drop_field(name);
        }
    }
    if !fields.is_empty() {
        out.push((now.updated_at, String::new(), ChangeKind::IssueUpdated { fields }));
    }
    for c in &now.comments {
        match before.comments.get(&c.id) {
            None if who.comment_by_sync_user(&c.id) => {}
            Some(_) if who.comment_last_edited_by_sync_user(&c.id) => {}
            None => out.push((
                c.created_at,
                c.author.clone(),
                ChangeKind::CommentAdded { comment: c.id.clone(), author: c.author.clone(), body: c.body.clone() },
            )),
            Some(old) if *old != c.body => out.push((
                c.updated_at.max(now.updated_at),
                c.author.clone(),
                ChangeKind::CommentEdited { comment: c.id.clone(), body: c.body.clone() },
            )),
            Some(_) => {}
        }
    }
    for id in before.comments.keys() {
        if !now.comments.iter().any(|c| &c.id == id) {
            out.push((now.updated_at, String::new(), ChangeKind::CommentDeleted { comment: id.clone() }));
        }
    }
    for a in &now.attachments {
        if !who.attachment_by_sync_user(&a.id) && !before.attachments.contains(&a.id) {
            let kind =
                ChangeKind::AttachmentAdded { attachment: a.id.clone(), filename: a.filename.clone(), size: a.size };
            out.push((a.created_at, a.author.clone(), kind));
        }
    }
    for id in &before.attachments {
        if !now.attachments.iter().any(|a| &a.id == id) {
            out.push((now.updated_at, String::new(), ChangeKind::AttachmentDeleted { attachment: id.clone() }));
        }
    }
    let none = BTreeMap::new();
    let known = before.worklogs.as_ref();
    for w in now.worklogs.iter().filter(|_| known.is_some()) {
        match known.unwrap_or(&none).get(&w.id) {
            None => out.push((now.updated_at, w.author.clone(), ChangeKind::WorklogAdded { worklog: w.clone() })),
            Some(f) if *f != fingerprint(w) => {
                out.push((now.updated_at, w.author.clone(), ChangeKind::WorklogEdited { worklog: w.clone() }))
            }
            Some(_) => {}
        }
    }
    for id in known.unwrap_or(&none).keys() {
        if !now.worklogs.iter().any(|w| &w.id == id) {
            out.push((now.updated_at, String::new(), ChangeKind::WorklogDeleted { worklog: id.clone() }));
        }
    }
    out.sort_by_key(|(at, _, _)| *at);
    out
}

/// An issue the sync user made that postern does not know as it was
/// written (its answer was lost, and it was found again): what others did
/// in it since, told by who did what. A worklog postern logged says whose
/// at the partner it is (`on_behalf_of`; its author may be a person here,
/// the one a mapping names): the others are people's.
fn others_in_ours(now: &Issue, who: &impl Who) -> Vec<(i64, String, ChangeKind)> {
    let mut out = Vec::new();
    let mut fields = FieldChanges::all(&now.fields);
    for name in crate::protocol::FIELD_NAMES {
        if !who.field_last_set_by_someone_else(name) {
            fields.drop_field(name);
        }
    }
    if !fields.is_empty() {
        out.push((now.updated_at, String::new(), ChangeKind::IssueUpdated { fields }));
    }
    for c in now.comments.iter().filter(|c| !who.comment_by_sync_user(&c.id)) {
        let kind = ChangeKind::CommentAdded { comment: c.id.clone(), author: c.author.clone(), body: c.body.clone() };
        out.push((c.created_at, c.author.clone(), kind));
    }
    for a in now.attachments.iter().filter(|a| !who.attachment_by_sync_user(&a.id)) {
        let kind = ChangeKind::AttachmentAdded { attachment: a.id.clone(), filename: a.filename.clone(), size: a.size };
        out.push((a.created_at, a.author.clone(), kind));
    }
    for w in now.worklogs.iter().filter(|w| w.on_behalf_of.is_none()) {
        out.push((now.updated_at, w.author.clone(), ChangeKind::WorklogAdded { worklog: w.clone() }));
    }
    out.sort_by_key(|(at, _, _)| *at);
    out
}

/// The custom fields that differ: the new value, or empty where one went.
fn custom_diff(before: &BTreeMap<String, String>, now: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> =
        now.iter().filter(|(k, v)| before.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    for k in before.keys().filter(|k| !now.contains_key(*k)) {
        out.insert(k.clone(), String::new());
    }
    out
}
