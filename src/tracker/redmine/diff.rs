//! What changed in a Redmine issue since postern last saw it, by someone
//! other than the sync user: fields, notes, attachments and worklogs.

use std::collections::{BTreeMap, BTreeSet};

use super::detect::Seen;
use super::issue;
use crate::protocol::FieldChanges;
use crate::tracker::{ChangeKind, Issue};

/// What changed from `before` to `now` by someone other than the sync
/// user: `(when, who, what)`.
pub(super) fn diff(
    before: Option<&Seen>,
    now: &Issue,
    v: &serde_json::Value,
    m: &super::meta::Meta,
) -> Vec<(i64, String, ChangeKind)> {
    let by_sync_user = |user: &serde_json::Value| user["id"].as_u64() == Some(m.user_id);
    let Some(before) = before else {
        // Never seen: made by someone here (what the sync user made was
        // remembered when it was written).
        if by_sync_user(&v["author"]) {
            return Vec::new();
        }
        return vec![(
            now.created_at,
            v["author"]["name"].as_str().unwrap_or_default().into(),
            ChangeKind::IssueCreated,
        )];
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
        if changed.is_some() && last_set_by_sync_user(v, name, m) {
            fields.drop_field(name);
        }
    }
    if !fields.is_empty() {
        out.push((now.updated_at, String::new(), ChangeKind::IssueUpdated { fields }));
    }
    for c in &now.comments {
        let journal = issue::journal(v, &c.id);
        if journal.is_some_and(|j| by_sync_user(&j["user"])) {
            continue;
        }
        match before.comments.get(&c.id) {
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
        let mine = v["attachments"]
            .as_array()
            .and_then(|l| l.iter().find(|x| x["id"].as_u64().map(|i| i.to_string()) == Some(a.id.clone())))
            .is_some_and(|x| by_sync_user(&x["author"]));
        if !mine && !before.attachments.contains(&a.id) {
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
            Some(f) if *f != super::time::fingerprint(w) => {
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

/// The worklogs postern wrote last after `now` was taken: those it wrote
/// before and nobody changed, and (`written`) those this write changed.
pub(super) fn changed(before: Option<&Seen>, now: &Seen, written: bool) -> BTreeSet<String> {
    let old = before.and_then(|b| b.worklogs.as_ref());
    let mut out = BTreeSet::new();
    for (id, fp) in now.worklogs.iter().flatten() {
        let same = old.and_then(|o| o.get(id)) == Some(fp);
        let was_ours = before.is_some_and(|b| b.ours.contains(id));
        if (same && was_ours) || (!same && written) {
            out.insert(id.clone());
        }
    }
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

/// Whether the last journal that set `field` is the sync user's.
fn last_set_by_sync_user(v: &serde_json::Value, field: &str, m: &super::meta::Meta) -> bool {
    issue::last_setter(v, field, m) == Some(m.user_id)
}
