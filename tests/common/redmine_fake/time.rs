//! Time entries in the fake Redmine: listed by project or issue (newest
//! spent first, or `sort=created_on:desc`), made, changed, deleted. They
//! do not move their issue's `updated_on`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::shapes::{named, project_ref, user_ref};
use super::{errors, ok, stamp, status, Call, Entry, Fake};

fn entry_json(f: &Fake, e: &Entry) -> Value {
    let activity = f.activities.iter().find(|a| a.0 == e.activity).map(|a| a.1).unwrap_or_default();
    json!({"id": e.id, "project": project_ref(f), "issue": {"id": e.issue}, "user": user_ref(f, e.user),
        "activity": named(e.activity, activity), "hours": e.hours, "comments": e.comments,
        "spent_on": e.spent_on, "created_on": stamp(e.created), "updated_on": stamp(e.updated)})
}

pub fn list(f: &Fake, c: &Call) -> Response {
    if !f.time_tracking {
        return status(StatusCode::FORBIDDEN);
    }
    let mut list: Vec<&Entry> = f
        .entries
        .iter()
        .filter(|e| c.q_u64("issue_id").is_none_or(|i| i == e.issue))
        .filter(|_| c.q("project_id").is_none_or(|p| p == super::PROJECT || p == f.project_id.to_string()))
        .collect();
    match c.q("sort") {
        Some("created_on:desc") => list.sort_by_key(|e| std::cmp::Reverse((e.created, e.id))),
        // Redmine's default: spent on, newest first.
        _ => list.sort_by(|a, b| (&b.spent_on, b.created).cmp(&(&a.spent_on, a.created))),
    }
    let limit = c.q_u64("limit").unwrap_or(25).clamp(1, 100) as usize;
    let offset = c.q_u64("offset").unwrap_or(0) as usize;
    let page: Vec<Value> = list.iter().skip(offset).take(limit).map(|e| entry_json(f, e)).collect();
    ok(json!({"time_entries": page, "total_count": list.len(), "offset": offset, "limit": limit}))
}

/// The entry `fields` describe, checked as Redmine checks it.
fn apply(f: &Fake, e: &mut Entry, fields: &Value, asker: u64) -> Result<(), Vec<&'static str>> {
    let mut bad = Vec::new();
    if let Some(h) = fields.get("hours") {
        e.hours = h.as_f64().or_else(|| h.as_str().and_then(|s| s.parse().ok())).unwrap_or(0.0);
    }
    if let Some(d) = fields["spent_on"].as_str() {
        e.spent_on = d.to_string();
    }
    if let Some(c) = fields["comments"].as_str() {
        e.comments = c.to_string();
    }
    if let Some(a) = fields["activity_id"].as_u64() {
        e.activity = a;
    }
    if let Some(u) = fields["user_id"].as_u64() {
        e.user = u;
    }
    if e.hours <= 0.0 {
        bad.push("Hours is invalid");
    }
    if chrono::NaiveDate::parse_from_str(&e.spent_on, "%Y-%m-%d").is_err() {
        bad.push("Date is not a valid date");
    }
    if !f.activities.iter().any(|a| a.0 == e.activity) {
        bad.push("Activity cannot be blank");
    }
    if e.user != asker && !f.user(e.user).is_some_and(|u| u.member) {
        bad.push("User is invalid");
    }
    if !f.issues.iter().any(|i| i.id == e.issue) {
        bad.push("Issue is invalid");
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad)
    }
}

pub fn create(f: &mut Fake, c: &Call) -> Response {
    let body = c.json();
    let fields = &body["time_entry"];
    let now = f.now();
    let mut e = Entry {
        id: 0,
        issue: fields["issue_id"].as_u64().unwrap_or_default(),
        user: c.user.id,
        hours: 0.0,
        spent_on: String::new(),
        comments: String::new(),
        activity: 0,
        created: now,
        updated: now,
    };
    if let Err(bad) = apply(f, &mut e, fields, c.user.id) {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, &bad);
    }
    e.id = f.id();
    let answer = entry_json(f, &e);
    f.entries.push(e);
    (StatusCode::CREATED, axum::Json(json!({ "time_entry": answer }))).into_response()
}

pub fn update(f: &mut Fake, c: &Call, id: &str) -> Response {
    let id: u64 = id.parse().unwrap_or_default();
    let Some(mut e) = f.entries.iter().find(|e| e.id == id).cloned() else {
        return status(StatusCode::NOT_FOUND);
    };
    if let Err(bad) = apply(f, &mut e, &c.json()["time_entry"], c.user.id) {
        return errors(StatusCode::UNPROCESSABLE_ENTITY, &bad);
    }
    e.updated = f.now();
    *f.entries.iter_mut().find(|x| x.id == id).unwrap() = e;
    status(StatusCode::NO_CONTENT)
}

pub fn delete(f: &mut Fake, id: &str) -> Response {
    let id: u64 = id.parse().unwrap_or_default();
    match f.entries.iter().position(|e| e.id == id) {
        Some(at) => {
            f.entries.remove(at);
            status(StatusCode::NO_CONTENT)
        }
        None => status(StatusCode::NOT_FOUND),
    }
}
