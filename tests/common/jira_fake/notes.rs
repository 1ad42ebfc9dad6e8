//! The fake Jira's comment and worklog endpoints.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::issues::{check_text, comment_json, no_issue, page, worklog_json, Q};
use super::model::{Comment, Worklog};
use super::{error, signed_in, Fake, Shared};

pub async fn comments(State(s): State<Shared>, Path((v, key)): Path<(String, String)>, q: Q, h: HeaderMap) -> Response {
    let user = signed_in!(s, h, v);
    let f = s.lock().unwrap();
    let Some(i) = f.issue(&key) else { return no_issue() };
    let expand = q.get("expand").is_some_and(|e| e.contains("properties"));
    let list = i.comments.iter().map(|c| comment_json(&f, c, user, expand)).collect();
    Json(page(list, &q, "comments", false)).into_response()
}

pub async fn comment_add(
    State(s): State<Shared>,
    Path((v, key)): Path<(String, String)>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let user = signed_in!(s, h, v);
    let mut f = s.lock().unwrap();
    if f.issue(&key).is_none() {
        return no_issue();
    }
    if let Err(r) = check_text(&f, &body["body"], "comment") {
        return r;
    }
    let (id, now) = (f.next_id(), f.now());
    let properties = body["properties"].as_array().cloned().unwrap_or_default();
    let c = Comment {
        id,
        author: user,
        update_author: user,
        body: body["body"].clone(),
        created: now,
        updated: now,
        properties,
    };
    let out = comment_json(&f, &c, user, false);
    let i = f.issue_mut(&key).unwrap();
    i.comments.push(c);
    i.updated = now;
    (StatusCode::CREATED, Json(out)).into_response()
}

pub async fn comment_get(
    State(s): State<Shared>,
    Path((v, key, id)): Path<(String, String, String)>,
    q: Q,
    h: HeaderMap,
) -> Response {
    let user = signed_in!(s, h, v);
    let f = s.lock().unwrap();
    let Some(i) = f.issue(&key) else { return no_issue() };
    match i.comments.iter().find(|c| c.id.to_string() == id) {
        Some(c) => {
            Json(comment_json(&f, c, user, q.get("expand").is_some_and(|e| e.contains("properties")))).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "Can not find a comment for the id."),
    }
}

pub async fn comment_edit(
    State(s): State<Shared>,
    Path((v, key, id)): Path<(String, String, String)>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let user = signed_in!(s, h, v);
    let mut f = s.lock().unwrap();
    if let Err(r) = check_text(&f, &body["body"], "comment") {
        return r;
    }
    let now = f.now();
    let Some(i) = f.issue_mut(&key) else { return no_issue() };
    let Some(owner) = i.comments.iter().find(|c| c.id.to_string() == id).map(|c| c.author) else {
        return error(StatusCode::NOT_FOUND, "Can not find a comment for the id.");
    };
    if let Err(r) = super::may_change(&f, user, owner, "EDIT_ALL_COMMENTS") {
        return r;
    }
    let Some(i) = f.issue_mut(&key) else { return no_issue() };
    let c = i.comments.iter_mut().find(|c| c.id.to_string() == id).unwrap();
    c.body = body["body"].clone();
    c.updated = now;
    c.update_author = user;
    i.updated = now;
    let c = c.clone();
    Json(comment_json(&f, &c, user, false)).into_response()
}

pub async fn comment_delete(
    State(s): State<Shared>,
    Path((v, key, id)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    let user = signed_in!(s, h, v);
    let mut f = s.lock().unwrap();
    let now = f.now();
    let Some(i) = f.issue(&key) else { return no_issue() };
    if let Some(c) = i.comments.iter().find(|c| c.id.to_string() == id) {
        if let Err(r) = super::may_change(&f, user, c.author, "DELETE_ALL_COMMENTS") {
            return r;
        }
    }
    let Some(i) = f.issue_mut(&key) else { return no_issue() };
    let before = i.comments.len();
    i.comments.retain(|c| c.id.to_string() != id);
    if i.comments.len() == before {
        return error(StatusCode::NOT_FOUND, "Can not find a comment for the id.");
    }
    i.updated = now;
    StatusCode::NO_CONTENT.into_response()
}

pub async fn worklogs(State(s): State<Shared>, Path((v, key)): Path<(String, String)>, q: Q, h: HeaderMap) -> Response {
    let user = signed_in!(s, h, v);
    let f = s.lock().unwrap();
    let Some(i) = f.issue(&key) else { return no_issue() };
    let expand = q.get("expand").is_some_and(|e| e.contains("properties"));
    let list = i.worklogs.iter().map(|w| worklog_json(&f, w, i.id, user, expand)).collect();
    Json(page(list, &q, "worklogs", false)).into_response()
}

fn worklog_fields(f: &Fake, body: &Value) -> Result<(u64, String), Response> {
    let seconds = body["timeSpentSeconds"].as_u64().unwrap_or(0);
    if seconds == 0 {
        return Err(error(StatusCode::BAD_REQUEST, "Worklog must not be null."));
    }
    let started = body["started"].as_str().unwrap_or_default().to_string();
    if chrono::DateTime::parse_from_str(&started, "%Y-%m-%dT%H:%M:%S%.f%z").is_err() {
        return Err(error(StatusCode::BAD_REQUEST, "Invalid started date."));
    }
    check_text(f, &body["comment"], "comment")?;
    Ok((seconds, started))
}

pub async fn worklog_add(
    State(s): State<Shared>,
    Path((v, key)): Path<(String, String)>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let user = signed_in!(s, h, v);
    let mut f = s.lock().unwrap();
    let Some(issue_id) = f.issue(&key).map(|i| i.id) else { return no_issue() };
    let (seconds, started) = match worklog_fields(&f, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (id, now) = (f.next_id(), f.now());
    let properties = body["properties"].as_array().cloned().unwrap_or_default();
    let w = Worklog {
        id,
        author: user,
        update_author: user,
        seconds,
        started,
        comment: body["comment"].clone(),
        created: now,
        updated: now,
        properties,
    };
    let out = worklog_json(&f, &w, issue_id, user, false);
    let i = f.issue_mut(&key).unwrap();
    i.worklogs.push(w);
    i.updated = now;
    (StatusCode::CREATED, Json(out)).into_response()
}

pub async fn worklog_get(
    State(s): State<Shared>,
    Path((v, key, id)): Path<(String, String, String)>,
    q: Q,
    h: HeaderMap,
) -> Response {
    let user = signed_in!(s, h, v);
    let f = s.lock().unwrap();
    let Some(i) = f.issue(&key) else { return no_issue() };
    match i.worklogs.iter().find(|w| w.id.to_string() == id) {
        Some(w) => Json(worklog_json(&f, w, i.id, user, q.get("expand").is_some_and(|e| e.contains("properties"))))
            .into_response(),
        None => error(StatusCode::NOT_FOUND, "Cannot find worklog with id."),
    }
}

pub async fn worklog_edit(
    State(s): State<Shared>,
    Path((v, key, id)): Path<(String, String, String)>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let user = signed_in!(s, h, v);
    let mut f = s.lock().unwrap();
    let (seconds, started) = match worklog_fields(&f, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let now = f.now();
    let Some(i) = f.issue(&key) else { return no_issue() };
    if let Some(w) = i.worklogs.iter().find(|w| w.id.to_string() == id) {
        if let Err(r) = super::may_change(&f, user, w.author, "EDIT_ALL_WORKLOGS") {
            return r;
        }
    }
    let Some(i) = f.issue_mut(&key) else { return no_issue() };
    let issue_id = i.id;
    let Some(w) = i.worklogs.iter_mut().find(|w| w.id.to_string() == id) else {
        return error(StatusCode::NOT_FOUND, "Cannot find worklog with id.");
    };
    w.seconds = seconds;
    w.started = started;
    w.comment = body["comment"].clone();
    w.updated = now;
    w.update_author = user;
    if let Some(p) = body["properties"].as_array() {
        w.properties = p.clone();
    }
    i.updated = now;
    let w = i.worklogs.iter().find(|w| w.id.to_string() == id).unwrap().clone();
    Json(worklog_json(&f, &w, issue_id, user, false)).into_response()
}

pub async fn worklog_delete(
    State(s): State<Shared>,
    Path((v, key, id)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    let user = signed_in!(s, h, v);
    let mut f = s.lock().unwrap();
    let now = f.now();
    let Some(i) = f.issue(&key) else { return no_issue() };
    if let Some(w) = i.worklogs.iter().find(|w| w.id.to_string() == id) {
        if let Err(r) = super::may_change(&f, user, w.author, "DELETE_ALL_WORKLOGS") {
            return r;
        }
    }
    let Some(i) = f.issue_mut(&key) else { return no_issue() };
    let before = i.worklogs.len();
    i.worklogs.retain(|w| w.id.to_string() != id);
    if i.worklogs.len() == before {
        return error(StatusCode::NOT_FOUND, "Cannot find worklog with id.");
    }
    i.updated = now;
    StatusCode::NO_CONTENT.into_response()
}
