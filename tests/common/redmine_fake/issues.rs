//! Issues in the fake Redmine: lists with Redmine's filters and sorts, an
//! issue with its journals and attachments, writes that keep a journal of
//! what they changed, notes edited or emptied, uploads and downloads.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::shapes::{named, project_ref, user_ref};
use super::{errors, ok, stamp as time, status, Attachment, Call, Fake, Issue, Journal};

/// An issue as Redmine shows it; `full`: with journals and attachments.
pub fn issue_json(f: &Fake, i: &Issue, full: bool) -> Value {
    let name = |list: &[(u64, &str)], id: u64| list.iter().find(|(x, _)| *x == id).map(|(_, n)| n.to_string());
    let st = f.statuses.iter().find(|(x, _, _)| *x == i.status);
    let mut v = json!({
        "id": i.id,
        "project": project_ref(f),
        "tracker": named(i.tracker, &name(&f.trackers, i.tracker).unwrap_or_default()),
        "status": {"id": i.status, "name": st.map(|s| s.1).unwrap_or_default(), "is_closed": st.is_some_and(|s| s.2)},
        "priority": named(i.priority, &name(&f.priorities, i.priority).unwrap_or_default()),
        "author": user_ref(f, i.author),
        "subject": i.subject,
        "description": i.description,
        "start_date": time(i.created)[..10],
        "due_date": i.due,
        "done_ratio": 0,
        "is_private": false,
        "estimated_hours": null,
        "custom_fields": f.custom_fields.iter()
            .map(|(id, n)| json!({"id": id, "name": n, "value": i.custom.get(id).cloned().unwrap_or_default()}))
            .collect::<Vec<_>>(),
        "created_on": time(i.created),
        "updated_on": time(i.updated),
        "closed_on": null,
    });
    if let Some(a) = i.assigned {
        v["assigned_to"] = user_ref(f, a);
    }
    if full {
        v["attachments"] = json!(i.attachments.iter().map(|a| attachment_json(f, a)).collect::<Vec<_>>());
        v["journals"] = json!(i.journals.iter().map(|j| journal_json(f, j)).collect::<Vec<_>>());
    }
    v
}

fn attachment_json(f: &Fake, a: &Attachment) -> Value {
    json!({"id": a.id, "filename": a.filename, "filesize": a.data.len(), "content_type": a.content_type,
        "description": a.description,
        "content_url": format!("{}/attachments/download/{}/{}", f.base_url, a.id, a.filename),
        "author": user_ref(f, a.author), "created_on": time(a.created)})
}

fn journal_json(f: &Fake, j: &Journal) -> Value {
    let mut v = json!({"id": j.id, "user": user_ref(f, j.user), "notes": j.notes, "created_on": time(j.created),
        "private_notes": false, "details": j.details});
    if f.v6 {
        let (at, by) = j.edited.unwrap_or((j.created, j.user));
        v["updated_on"] = json!(time(at));
        v["updated_by"] = user_ref(f, by);
    }
    v
}

/// `GET /issues.json`: `project_id`, `status_id` (`*`: all; else open
/// only), `author_id`, `updated_on=>=STAMP`, `sort`, `limit` (at most
/// 100), `offset`.
pub fn list(f: &Fake, c: &Call) -> Response {
    let mut list: Vec<&Issue> = f
        .issues
        .iter()
        .filter(|i| c.q("project_id").is_none_or(|p| p == super::PROJECT || p == i.project.to_string()))
        .filter(|i| c.q("status_id") == Some("*") || !f.statuses.iter().any(|s| s.0 == i.status && s.2))
        .filter(|i| c.q_u64("author_id").is_none_or(|a| a == i.author))
        .collect();
    if let Some(since) = c.q("updated_on") {
        let Some(t) = since
            .strip_prefix(">=")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
        else {
            return errors(StatusCode::UNPROCESSABLE_ENTITY, &["Updated is invalid"]);
        };
        list.retain(|i| i.updated >= t);
    }
    // Redmine's default order: id descending.
    let sort = c.q("sort").unwrap_or("id:desc");
    let key = |i: &Issue, col: &str| match col {
        "updated_on" => i.updated,
        "created_on" => i.created,
        _ => i.id as i64,
    };
    list.sort_by(|a, b| {
        for part in sort.split(',') {
            let (col, desc) = part.split_once(':').map_or((part, false), |(c, d)| (c, d == "desc"));
            let o = key(a, col).cmp(&key(b, col));
            let o = if desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        a.id.cmp(&b.id)
    });
    let limit = c.q_u64("limit").unwrap_or(25).clamp(1, 100) as usize;
    let offset = c.q_u64("offset").unwrap_or(0) as usize;
    let page: Vec<Value> = list.iter().skip(offset).take(limit).map(|i| issue_json(f, i, false)).collect();
    ok(json!({"issues": page, "total_count": list.len(), "offset": offset, "limit": limit}))
}

pub fn show(f: &Fake, c: &Call, id: &str) -> Response {
    match id.parse().ok().and_then(|id: u64| f.issues.iter().find(|i| i.id == id)) {
        Some(i) if c.user.member || c.user.admin => {
            let full = c.q("include").is_some_and(|v| v.contains("journals"));
            ok(json!({ "issue": issue_json(f, i, full) }))
        }
        Some(_) => status(StatusCode::FORBIDDEN),
        None => status(StatusCode::NOT_FOUND),
    }
}

/// The issue `c` changes with `fields`, checked as Redmine checks it.
/// `Err`: Redmine's 422 messages.
fn apply(f: &Fake, i: &mut Issue, fields: &Map<String, Value>) -> Result<(), Vec<String>> {
    let id_of = |v: &Value| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    let mut bad = Vec::new();
    for (k, v) in fields {
        match k.as_str() {
            "subject" => i.subject = v.as_str().unwrap_or_default().to_string(),
            "description" => i.description = v.as_str().unwrap_or_default().replace("\r\n", "\n").replace('\n', "\r\n"),
            "status_id" => match id_of(v).filter(|s| f.statuses.iter().any(|x| x.0 == *s)) {
                Some(s) => i.status = s,
                None => bad.push("Status cannot be blank".to_string()),
            },
            "priority_id" => match id_of(v).filter(|p| f.priorities.iter().any(|x| x.0 == *p)) {
                Some(p) => i.priority = p,
                None => bad.push("Priority cannot be blank".to_string()),
            },
            "tracker_id" => match id_of(v).filter(|t| f.trackers.iter().any(|x| x.0 == *t)) {
                Some(t) => i.tracker = t,
                None => bad.push("Tracker is not included in the list".to_string()),
            },
            "assigned_to_id" => match v {
                Value::Null => i.assigned = None,
                Value::String(s) if s.is_empty() => i.assigned = None,
                _ => match id_of(v).filter(|u| f.user(*u).is_some_and(|u| u.member)) {
                    Some(u) => i.assigned = Some(u),
                    None => bad.push("Assignee is invalid".to_string()),
                },
            },
            "due_date" => match v.as_str().filter(|d| !d.is_empty()) {
                None => i.due = None,
                Some(d) if d.len() == 10 && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() => {
                    i.due = Some(d.to_string())
                }
                Some(_) => bad.push("Due date is not a valid date".to_string()),
            },
            "custom_fields" => {
                for e in v.as_array().into_iter().flatten() {
                    // Redmine ignores a field the issue does not have.
                    let Some(id) = e["id"].as_u64().filter(|id| f.custom_fields.iter().any(|c| c.0 == *id)) else {
                        continue;
                    };
                    let value = e["value"].as_str().unwrap_or_default().to_string();
                    if value.is_empty() {
                        i.custom.remove(&id);
                    } else {
                        i.custom.insert(id, value);
                    }
                }
            }
            _ => {}
        }
    }
    if i.subject.trim().is_empty() {
        bad.push("Subject cannot be blank".to_string());
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad)
    }
}

/// What changed between `old` and `new`, as journal details.
fn details(old: &Issue, new: &Issue) -> Vec<Value> {
    let attr = |name: &str, a: Option<String>, b: Option<String>| {
        (a != b).then(|| json!({"property": "attr", "name": name, "old_value": a, "new_value": b}))
    };
    let n = |v: u64| Some(v.to_string());
    let mut out: Vec<Value> = [
        attr("subject", Some(old.subject.clone()), Some(new.subject.clone())),
        attr("description", Some(old.description.clone()), Some(new.description.clone())),
        attr("status_id", n(old.status), n(new.status)),
        attr("priority_id", n(old.priority), n(new.priority)),
        attr("tracker_id", n(old.tracker), n(new.tracker)),
        attr("assigned_to_id", old.assigned.map(|u| u.to_string()), new.assigned.map(|u| u.to_string())),
        attr("due_date", old.due.clone(), new.due.clone()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let ids: std::collections::BTreeSet<&u64> = old.custom.keys().chain(new.custom.keys()).collect();
    for id in ids {
        let (a, b) = (old.custom.get(id), new.custom.get(id));
        if a != b {
            out.push(json!({"property": "cf", "name": id.to_string(), "old_value": a, "new_value": b}));
        }
    }
    out
}

/// Files named by `uploads`, made by `user`; `None`: a token not known.
fn attach(f: &mut Fake, uploads: &Value, user: u64) -> Option<Vec<Attachment>> {
    let mut out = Vec::new();
    for u in uploads.as_array().into_iter().flatten() {
        let token = u["token"].as_str().unwrap_or_default();
        let data = f.uploads.remove(token)?;
        let id = f.id();
        out.push(Attachment {
            id,
            filename: u["filename"].as_str().unwrap_or("upload").to_string(),
            content_type: u["content_type"].as_str().unwrap_or("application/octet-stream").to_string(),
            description: u["description"].as_str().unwrap_or_default().to_string(),
            author: user,
            created: f.now(),
            data,
        });
    }
    Some(out)
}

fn bad_upload() -> Response {
    errors(StatusCode::UNPROCESSABLE_ENTITY, &["Attachments is invalid"])
}

pub fn create(f: &mut Fake, c: &Call) -> Response {
    let body = c.json();
    let Some(fields) = body["issue"].as_object() else {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, &["Subject cannot be blank"]);
    };
    let project = &fields.get("project_id").cloned().unwrap_or_default();
    if project.as_u64() != Some(f.project_id) && project.as_str() != Some(super::PROJECT) {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, &["Project cannot be blank"]);
    }
    if !c.user.member {
        return status(StatusCode::FORBIDDEN);
    }
    let now = f.now();
    let mut i = Issue {
        id: 0,
        project: f.project_id,
        tracker: f.trackers[0].0,
        status: 1,
        priority: 2,
        author: c.user.id,
        created: now,
        updated: now,
        ..Default::default()
    };
    if let Err(bad) = apply(f, &mut i, fields) {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, &bad.iter().map(String::as_str).collect::<Vec<_>>());
    }
    match attach(f, &fields.get("uploads").cloned().unwrap_or_default(), c.user.id) {
        Some(files) => i.attachments = files,
        None => return bad_upload(),
    }
    i.id = f.id();
    let answer = issue_json(f, &i, false);
    f.issues.push(i);
    (StatusCode::CREATED, axum::Json(json!({ "issue": answer }))).into_response()
}

pub fn update(f: &mut Fake, c: &Call, id: &str) -> Response {
    let Some(old) = id.parse().ok().and_then(|id: u64| f.issues.iter().find(|i| i.id == id)).cloned() else {
        return status(StatusCode::NOT_FOUND);
    };
    if !c.user.member {
        return status(StatusCode::FORBIDDEN);
    }
    let body = c.json();
    let fields = body["issue"].as_object().cloned().unwrap_or_default();
    let mut new = old.clone();
    if let Err(bad) = apply(f, &mut new, &fields) {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, &bad.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let mut changes = details(&old, &new);
    match attach(f, &fields.get("uploads").cloned().unwrap_or_default(), c.user.id) {
        Some(files) => {
            for a in files {
                changes.push(json!({"property": "attachment", "name": a.id.to_string(), "old_value": null,
                    "new_value": a.filename}));
                new.attachments.push(a);
            }
        }
        None => return bad_upload(),
    }
    let notes = fields.get("notes").and_then(Value::as_str).unwrap_or_default().to_string();
    if !changes.is_empty() || !notes.is_empty() {
        let now = f.now();
        let jid = f.id();
        new.journals.push(Journal { id: jid, user: c.user.id, notes, created: now, edited: None, details: changes });
        new.updated = now;
    }
    *f.issue_mut(old.id).unwrap() = new;
    status(StatusCode::NO_CONTENT)
}

/// `PUT /journals/N.json`: new notes; emptied notes of a journal without
/// details delete it. Its issue's `updated_on` does not move.
pub fn edit_journal(f: &mut Fake, c: &Call, id: &str) -> Response {
    let id: u64 = id.parse().unwrap_or_default();
    let now = f.now();
    let notes = c.json()["journal"]["notes"].as_str().unwrap_or_default().to_string();
    for i in &mut f.issues {
        if let Some(at) = i.journals.iter().position(|j| j.id == id) {
            let j = &mut i.journals[at];
            j.notes = notes;
            j.edited = Some((now, c.user.id));
            if j.notes.is_empty() && j.details.is_empty() {
                i.journals.remove(at);
            }
            return status(StatusCode::NO_CONTENT);
        }
    }
    status(StatusCode::NOT_FOUND)
}

/// `POST /uploads.json?filename=F`, octet-stream only (else 406).
pub fn upload(f: &mut Fake, c: &Call) -> Response {
    let ct = c.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if ct != "application/octet-stream" {
        return status(StatusCode::NOT_ACCEPTABLE);
    }
    let id = f.id();
    let token = format!("{id}.{}", hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(&c.body)[..8]));
    f.uploads.insert(token.clone(), c.body.to_vec());
    (StatusCode::CREATED, axum::Json(json!({"upload": {"id": id, "token": token}}))).into_response()
}

pub fn download(f: &Fake, id: &str) -> Response {
    let id: u64 = id.parse().unwrap_or_default();
    let found = f.issues.iter().flat_map(|i| &i.attachments).find(|a| a.id == id);
    match found {
        Some(a) => (StatusCode::OK, [("content-type", a.content_type.clone())], a.data.clone()).into_response(),
        None => status(StatusCode::NOT_FOUND),
    }
}

/// A deleted attachment leaves a journal detail; `updated_on` stays.
pub fn delete_attachment(f: &mut Fake, c: &Call, id: &str) -> Response {
    let id: u64 = id.parse().unwrap_or_default();
    let (now, jid) = (f.now(), f.id());
    for i in &mut f.issues {
        if let Some(at) = i.attachments.iter().position(|a| a.id == id) {
            let a = i.attachments.remove(at);
            let detail = json!({"property": "attachment", "name": id.to_string(), "old_value": a.filename,
                "new_value": null});
            i.journals.push(Journal {
                id: jid,
                user: c.user.id,
                notes: String::new(),
                created: now,
                edited: None,
                details: vec![detail],
            });
            return status(StatusCode::NO_CONTENT);
        }
    }
    status(StatusCode::NOT_FOUND)
}
