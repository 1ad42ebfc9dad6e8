//! The fake Jira's issue endpoints: issues, transitions, history,
//! properties and attachments (comments and worklogs: `notes`; search:
//! `search`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::model::{self, shown, Attachment, Comment, Issue, Worklog};
use super::{error, signed_in, Fake, Shared};

pub(super) type Q = Query<BTreeMap<String, String>>;

/// An issue as Jira answers `GET /issue/{key}`.
pub(super) fn issue_json(f: &Fake, i: &Issue, user: usize, changelog: bool) -> Value {
    let mut fields = Map::new();
    for (k, v) in &i.fields {
        let v = match k.as_str() {
            "status" => {
                let id = model::STATUSES.iter().find(|(_, n)| v == n).map_or("0", |(id, _)| id);
                json!({"id": id, "name": v})
            }
            "priority" => {
                json!({"name": v, "id": model::PRIORITIES.iter().find(|(_, n)| v == n).map_or("0", |(id, _)| id)})
            }
            "issuetype" => {
                json!({"name": v, "id": model::TYPES.iter().find(|(_, n)| v == n).map_or("0", |(id, _)| id)})
            }
            "assignee" => v.as_u64().map_or(Value::Null, |u| f.user_json(u as usize)),
            _ => v.clone(),
        };
        fields.insert(k.clone(), v);
    }
    fields.insert("project".into(), json!({"id": "10000", "key": f.project}));
    fields.insert("creator".into(), f.user_json(i.creator));
    fields.insert("reporter".into(), f.user_json(i.creator));
    fields.insert("created".into(), json!(f.time(i.created, user)));
    fields.insert("updated".into(), json!(f.time(i.updated, user)));
    let attachments: Vec<Value> = i.attachments.iter().map(|a| attachment_json(f, a, user)).collect();
    fields.insert("attachment".into(), json!(attachments));
    let mut v = json!({"id": i.id.to_string(), "key": i.key, "self": format!("http://jira.test/rest/api/2/issue/{}", i.id),
        "fields": fields});
    if changelog {
        let h: Vec<Value> = i.histories.iter().map(|h| history_json(f, h, user)).collect();
        v["changelog"] = json!({"startAt": 0, "maxResults": h.len(), "total": h.len(), "histories": h});
    }
    v
}

/// An attachment's metadata; its `content` link is absolute, to Jira
/// itself (Cloud: the REST path; Data Center: `/secure/attachment/…`).
fn attachment_json(f: &Fake, a: &Attachment, user: usize) -> Value {
    let content = match f.cloud {
        true => format!("{}/rest/api/3/attachment/content/{}", f.base_url, a.id),
        false => format!("{}/secure/attachment/{}/{}", f.base_url, a.id, a.filename),
    };
    json!({"id": a.id.to_string(), "filename": a.filename, "mimeType": a.mime, "size": a.data.len(),
        "author": f.user_json(a.author), "created": f.time(a.created, user), "content": content})
}

/// Data Center's attachment download (not a REST path).
pub async fn secure_attachment(
    State(s): State<Shared>,
    Path((id, _name)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    attachment_content(State(s), Path(("2".to_string(), id)), h).await
}

fn history_json(f: &Fake, h: &(u64, usize, i64, Vec<Value>), user: usize) -> Value {
    json!({"id": h.0.to_string(), "author": f.user_json(h.1), "created": f.time(h.2, user), "items": h.3})
}

pub(super) fn comment_json(f: &Fake, c: &Comment, user: usize, expand: bool) -> Value {
    let mut v = json!({"id": c.id.to_string(), "author": f.user_json(c.author), "updateAuthor": f.user_json(c.update_author),
        "body": c.body, "created": f.time(c.created, user), "updated": f.time(c.updated, user), "jsdPublic": true});
    if expand {
        v["properties"] = json!(c.properties);
    }
    v
}

pub(super) fn worklog_json(f: &Fake, w: &Worklog, key: u64, user: usize, expand: bool) -> Value {
    let mut v = json!({"id": w.id.to_string(), "issueId": key.to_string(), "author": f.user_json(w.author),
        "updateAuthor": f.user_json(w.update_author), "comment": w.comment, "started": w.started,
        "timeSpentSeconds": w.seconds, "created": f.time(w.created, user), "updated": f.time(w.updated, user)});
    if expand {
        v["properties"] = json!(w.properties);
    }
    v
}

pub(super) fn no_issue() -> Response {
    error(StatusCode::NOT_FOUND, "Issue does not exist or you do not have permission to see it.")
}

/// A body in the flavour's text form (ADF on Cloud, a string on DC).
pub(super) fn check_text(f: &Fake, v: &Value, what: &str) -> Result<(), Response> {
    let ok = match v {
        Value::Null => true,
        Value::String(_) => !f.cloud,
        Value::Object(o) => f.cloud && o.get("type") == Some(&json!("doc")) && o.get("version") == Some(&json!(1)),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        let want = if f.cloud { "an Atlassian Document" } else { "a string" };
        Err((
            StatusCode::BAD_REQUEST,
            Json(json!({"errorMessages": [], "errors": {what: format!("Operation value must be {want}")}})),
        )
            .into_response())
    }
}

/// Applies `fields` of a create or edit by `user`; the history items.
fn set_fields(f: &mut Fake, key: &str, fields: &Map<String, Value>, user: usize) -> Result<Vec<Value>, Response> {
    let mut items = Vec::new();
    let cloud = f.cloud;
    for (k, v) in fields {
        check_text(f, if k == "description" { v } else { &Value::Null }, k)?;
        let stored = match k.as_str() {
            "summary" => match v.as_str() {
                Some(s) if !s.trim().is_empty() => json!(s),
                _ => return Err((StatusCode::BAD_REQUEST, Json(json!({"errorMessages": [], "errors": {"summary": "You must specify a summary of the issue."}}))).into_response()),
            },
            "priority" | "issuetype" => {
                let name = v["name"].as_str().unwrap_or_default();
                let list = if k == "priority" { model::PRIORITIES } else { model::TYPES };
                if !list.iter().any(|(_, n)| *n == name) {
                    return Err((StatusCode::BAD_REQUEST, Json(json!({"errorMessages": [], "errors": {k: format!("Specify a valid '{k}' name")}}))).into_response());
                }
                json!(name)
            }
            "assignee" => match v {
                Value::Null => Value::Null,
                other => match f.user_of(other) {
                    Some(u) => json!(u),
                    None => return Err((StatusCode::BAD_REQUEST, Json(json!({"errorMessages": [], "errors": {"assignee": "User does not exist"}}))).into_response()),
                },
            },
            "duedate" => v.clone(),
            "labels" => v.clone(),
            "description" => v.clone(),
            c if c == model::CUSTOM.0 => v.clone(),
            other => return Err((StatusCode::BAD_REQUEST, Json(json!({"errorMessages": [], "errors": {other: format!("Field '{other}' cannot be set. It is not on the appropriate screen, or unknown.")}}))).into_response()),
        };
        let i = f.issue_mut(key).unwrap();
        let old = i.fields.get(k).cloned().unwrap_or(Value::Null);
        if old != stored {
            let show = |x: &Value| if k == "assignee" { Value::Null } else { shown(x) };
            let _ = cloud;
            items.push(json!({"field": k, "fieldtype": if k.starts_with("customfield") { "custom" } else { "jira" },
                "fieldId": k, "from": Value::Null, "fromString": show(&old), "to": Value::Null, "toString": show(&stored)}));
            if stored.is_null() {
                i.fields.remove(k);
            } else {
                i.fields.insert(k.clone(), stored);
            }
        }
    }
    let _ = user;
    Ok(items)
}

pub async fn create(State(s): State<Shared>, Path(v): Path<String>, h: HeaderMap, Json(body): Json<Value>) -> Response {
    let user = signed_in!(s, h, v);
    let mut f = s.lock().unwrap();
    if body["fields"]["project"]["key"].as_str() != Some(f.project.as_str()) {
        return error(StatusCode::BAD_REQUEST, "project: valid project is required");
    }
    let id = f.next_id();
    let n = f.issues.iter().filter(|i| i.key.starts_with(&format!("{}-", f.project))).count() + 1;
    let key = format!("{}-{n}", f.project);
    let now = f.now();
    let mut issue = Issue { id, key: key.clone(), creator: user, created: now, updated: now, ..Default::default() };
    issue.fields.insert("status".into(), json!("To Do"));
    issue.fields.insert("priority".into(), json!("Medium"));
    issue.fields.insert("labels".into(), json!([]));
    f.issues.push(issue);
    let mut fields = body["fields"].as_object().cloned().unwrap_or_default();
    fields.remove("project");
    if let Err(r) = set_fields(&mut f, &key, &fields, user) {
        f.issues.pop();
        return r;
    }
    for p in body["properties"].as_array().into_iter().flatten() {
        let (k, val) = (p["key"].as_str().unwrap_or_default().to_string(), p["value"].clone());
        f.issue_mut(&key).unwrap().properties.insert(k, val);
    }
    (
        StatusCode::CREATED,
        Json(json!({"id": id.to_string(), "key": key, "self": format!("http://jira.test/rest/api/{v}/issue/{id}")})),
    )
        .into_response()
}

pub async fn read(State(s): State<Shared>, Path((v, key)): Path<(String, String)>, q: Q, h: HeaderMap) -> Response {
    let user = signed_in!(s, h, v);
    let f = s.lock().unwrap();
    let Some(i) = f.issue(&key) else { return no_issue() };
    let wanted = |name: &str| q.get(name).map(|v| v.split(',').collect::<Vec<_>>());
    Json(view(
        &f,
        i,
        user,
        wanted("fields"),
        wanted("expand").unwrap_or_default().contains(&"changelog"),
        wanted("properties"),
    ))
    .into_response()
}

/// An issue as Jira shows it: the fields asked for (all: `None`), its
/// history when expanded, the issue properties asked for.
pub(super) fn view(
    f: &Fake,
    i: &Issue,
    user: usize,
    fields: Option<Vec<&str>>,
    changelog: bool,
    properties: Option<Vec<&str>>,
) -> Value {
    let mut out = issue_json(f, i, user, changelog && !f.cloud);
    if changelog && f.cloud {
        // Cloud stops at 40 histories here: the rest is read from /changelog.
        let h: Vec<Value> = i.histories.iter().take(40).map(|h| history_json(f, h, user)).collect();
        out["changelog"] = json!({"startAt": 0, "maxResults": 40, "total": i.histories.len(), "histories": h});
    }
    // The first page of comments (20 here) and worklogs (20), without
    // their properties, as Jira lists them in an issue.
    let comments: Vec<Value> = i.comments.iter().take(20).map(|c| comment_json(f, c, user, false)).collect();
    out["fields"]["comment"] = json!({"comments": comments, "maxResults": 20, "total": i.comments.len(), "startAt": 0});
    let worklogs: Vec<Value> = i.worklogs.iter().take(20).map(|w| worklog_json(f, w, i.id, user, false)).collect();
    out["fields"]["worklog"] = json!({"worklogs": worklogs, "maxResults": 20, "total": i.worklogs.len(), "startAt": 0});
    if let Some(keep) = fields {
        if let Some(o) = out["fields"].as_object_mut() {
            o.retain(|k, _| keep.contains(&k.as_str()) || keep.contains(&"*all"));
        }
    }
    // Issue properties asked for come with the issue.
    if let Some(names) = properties {
        let props: Map<String, Value> =
            names.into_iter().filter_map(|n| Some((n.to_string(), i.properties.get(n)?.clone()))).collect();
        out["properties"] = Value::Object(props);
    }
    out
}

pub async fn edit(
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
    let fields = body["fields"].as_object().cloned().unwrap_or_default();
    if fields.contains_key("status") {
        return error(StatusCode::BAD_REQUEST, "Field 'status' cannot be set: use a transition.");
    }
    let items = match set_fields(&mut f, &key, &fields, user) {
        Ok(items) => items,
        Err(r) => return r,
    };
    if !items.is_empty() {
        f.history(&key, user, items);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Whether the workflow has a transition from issue `i`'s status to `to`
/// that `user` may see (its conditions hold).
fn leads(f: &super::Fake, i: &model::Issue, user: usize, to: &str) -> bool {
    let from = i.fields["status"].as_str().unwrap_or_default();
    let assigned = i.fields.get("assignee").and_then(Value::as_u64) == Some(user as u64);
    from != to
        && !f.no_transition_to.iter().any(|x| x == to)
        && (f.workflow.is_empty() || f.workflow.iter().any(|(a, b)| a == from && b == to))
        && (assigned || !f.assignee_only_to.iter().any(|x| x == to))
}

pub async fn transitions(
    State(s): State<Shared>,
    Path((v, key)): Path<(String, String)>,
    q: Q,
    h: HeaderMap,
) -> Response {
    let user = signed_in!(s, h, v);
    let f = s.lock().unwrap();
    let Some(i) = f.issue(&key) else { return no_issue() };
    let with_fields = q.get("expand").is_some_and(|e| e.contains("transitions.fields"));
    let list: Vec<Value> = model::STATUSES
        .iter()
        .filter(|(_, n)| leads(&f, i, user, n))
        .map(|(id, n)| {
            let mut t = json!({"id": format!("1{id}"), "name": format!("Move to {n}"),
                "to": {"id": id, "name": n, "statusCategory": model::category(n)}});
            if with_fields {
                let mut fields = serde_json::Map::new();
                if f.resolution_on.as_deref() == Some(*n) {
                    let allowed: Vec<Value> =
                        model::RESOLUTIONS.iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
                    fields.insert(
                        "resolution".into(),
                        json!({"required": true, "name": "Resolution",
                        "key": "resolution", "operations": ["set"], "allowedValues": allowed,
                        "schema": {"type": "resolution", "system": "resolution"}}),
                    );
                }
                t["fields"] = Value::Object(fields);
            }
            t
        })
        .collect();
    Json(json!({"transitions": list})).into_response()
}

pub async fn transition(
    State(s): State<Shared>,
    Path((v, key)): Path<(String, String)>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let user = signed_in!(s, h, v);
    let mut f = s.lock().unwrap();
    let Some(i) = f.issue(&key) else { return no_issue() };
    let now = i.fields["status"].as_str().unwrap_or_default().to_string();
    let id = body["transition"]["id"].as_str().unwrap_or_default();
    let Some((_, to)) = model::STATUSES.iter().find(|(sid, n)| format!("1{sid}") == id && leads(&f, i, user, n)) else {
        return error(StatusCode::BAD_REQUEST, "Transition id is not valid for this issue.");
    };
    if let Some((_, message)) = f.labels_required_to.as_ref().filter(|(s, _)| s == to) {
        if i.fields.get("labels").and_then(Value::as_array).is_none_or(|l| l.is_empty()) {
            return error(StatusCode::BAD_REQUEST, message);
        }
    }
    let resolution = &body["fields"]["resolution"];
    if f.resolution_on.as_deref() == Some(*to) {
        let known = model::RESOLUTIONS.iter().any(|(id, name)| resolution["id"] == *id || resolution["name"] == *name);
        if !known {
            let e = json!({"errorMessages": [], "errors": {"resolution": "Resolution is required."}});
            return (StatusCode::BAD_REQUEST, Json(e)).into_response();
        }
    }
    let picked = model::RESOLUTIONS.iter().find(|(id, name)| resolution["id"] == *id || resolution["name"] == *name);
    let i = f.issue_mut(&key).unwrap();
    i.fields.insert("status".into(), json!(to));
    if let Some((id, name)) = picked {
        i.fields.insert("resolution".into(), json!({"id": id, "name": name}));
    }
    let item = json!({"field": "status", "fieldtype": "jira", "fieldId": "status", "from": Value::Null, "fromString": now,
        "to": Value::Null, "toString": to});
    f.history(&key, user, vec![item]);
    StatusCode::NO_CONTENT.into_response()
}

/// A page of a list, `startAt`/`maxResults` as Jira pages.
pub(super) fn page(list: Vec<Value>, q: &Q, field: &str, with_is_last: bool) -> Value {
    page_of(list, q, field, with_is_last, 100)
}

/// A page of at most `cap` items, whatever was asked (Jira may give fewer).
fn page_of(list: Vec<Value>, q: &Q, field: &str, with_is_last: bool, cap: usize) -> Value {
    let start: usize = q.get("startAt").and_then(|s| s.parse().ok()).unwrap_or(0);
    let max: usize = q.get("maxResults").and_then(|s| s.parse().ok()).unwrap_or(50).min(cap);
    let total = list.len();
    let items: Vec<Value> = list.into_iter().skip(start).take(max).collect();
    let mut v = json!({"startAt": start, "maxResults": max, "total": total, field: items});
    if with_is_last {
        v["isLast"] = json!(start + max >= total);
    }
    v
}

pub async fn changelog(
    State(s): State<Shared>,
    Path((v, key)): Path<(String, String)>,
    q: Q,
    h: HeaderMap,
) -> Response {
    let user = signed_in!(s, h, v);
    let f = s.lock().unwrap();
    if !f.cloud {
        return error(StatusCode::NOT_FOUND, "no such API");
    }
    let Some(i) = f.issue(&key) else { return no_issue() };
    let list = i.histories.iter().map(|h| history_json(&f, h, user)).collect();
    // Pages of 40: a client that reads only the first misses the rest.
    Json(page_of(list, &q, "values", true, 40)).into_response()
}

/// Issue properties: written without moving `updated` (as in Jira).
pub async fn property_get(
    State(s): State<Shared>,
    Path((v, key, prop)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    signed_in!(s, h, v);
    let f = s.lock().unwrap();
    let Some(i) = f.issue(&key) else { return no_issue() };
    match i.properties.get(&prop) {
        Some(val) => Json(json!({"key": prop, "value": val})).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("The property with key '{prop}' does not exist.")),
    }
}

pub async fn property_put(
    State(s): State<Shared>,
    Path((v, key, prop)): Path<(String, String, String)>,
    h: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    signed_in!(s, h, v);
    let mut f = s.lock().unwrap();
    let Some(i) = f.issue_mut(&key) else { return no_issue() };
    let existed = i.properties.insert(prop, body).is_some();
    if existed { StatusCode::OK } else { StatusCode::CREATED }.into_response()
}

/// `multipart/form-data` with one part named `file` (the header
/// `X-Atlassian-Token: no-check` is required, as in Jira).
pub async fn attach(
    State(s): State<Shared>,
    Path((v, key)): Path<(String, String)>,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let user = signed_in!(s, h, v);
    if h.get("x-atlassian-token").and_then(|v| v.to_str().ok()) != Some("no-check") {
        return error(StatusCode::FORBIDDEN, "XSRF check failed");
    }
    let ct = h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(boundary) = ct.split("boundary=").nth(1) else {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "multipart/form-data expected");
    };
    let Some((filename, mime, data)) = one_part(&body, boundary) else {
        return error(StatusCode::BAD_REQUEST, "no file part");
    };
    let mut f = s.lock().unwrap();
    if f.issue(&key).is_none() {
        return no_issue();
    }
    let (id, now) = (f.next_id(), f.now());
    let a = Attachment { id, filename, mime, data, author: user, created: now };
    let out = attachment_json(&f, &a, user);
    let i = f.issue_mut(&key).unwrap();
    i.attachments.push(a);
    i.updated = now;
    Json(json!([out])).into_response()
}

fn one_part(body: &[u8], boundary: &str) -> Option<(String, String, Vec<u8>)> {
    let start = format!("--{boundary}\r\n");
    let end = format!("\r\n--{boundary}--");
    let body = body.strip_prefix(start.as_bytes())?;
    let head_end = body.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&body[..head_end]).to_string();
    let rest = &body[head_end + 4..];
    let data_end = rest.windows(end.len()).rposition(|w| w == end.as_bytes())?;
    let filename = head.split("filename=\"").nth(1)?.split('"').next()?.to_string();
    let mime =
        head.lines().find_map(|l| l.strip_prefix("Content-Type: ")).unwrap_or("application/octet-stream").to_string();
    head.contains("name=\"file\"").then(|| (filename, mime, rest[..data_end].to_vec()))
}

pub async fn attachment_content(
    State(s): State<Shared>,
    Path((v, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    signed_in!(s, h, v);
    let f = s.lock().unwrap();
    match f.issues.iter().flat_map(|i| &i.attachments).find(|a| a.id.to_string() == id) {
        // Cloud hands the content over to its media host: a 303 to a
        // signed address, which wants no credentials.
        Some(a) if f.cloud && v == "3" => {
            let to = format!("{}/media/file/{}/binary?token=signed-{}", f.base_url, a.id, a.id);
            (StatusCode::SEE_OTHER, [("location", to)]).into_response()
        }
        Some(a) => ([("content-type", a.mime.clone())], a.data.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "The attachment does not exist."),
    }
}

/// Cloud's media host: the content at a signed address. Credentials sent
/// along (to another host, in Jira) are counted: they must not travel.
pub async fn media(State(s): State<Shared>, Path(id): Path<String>, q: Q, h: HeaderMap) -> Response {
    if q.get("token").map(String::as_str) != Some(format!("signed-{id}").as_str()) {
        return error(StatusCode::FORBIDDEN, "bad token");
    }
    let mut f = s.lock().unwrap();
    f.media_reads += 1;
    if h.contains_key("authorization") {
        f.media_reads_with_credentials += 1;
    }
    match f.issues.iter().flat_map(|i| &i.attachments).find(|a| a.id.to_string() == id) {
        Some(a) => ([("content-type", a.mime.clone())], a.data.clone()).into_response(),
        None => error(StatusCode::NOT_FOUND, "The attachment does not exist."),
    }
}

pub async fn attachment_delete(
    State(s): State<Shared>,
    Path((v, id)): Path<(String, String)>,
    h: HeaderMap,
) -> Response {
    let user = signed_in!(s, h, v);
    let mut f = s.lock().unwrap();
    let now = f.now();
    let owner = f.issues.iter().flat_map(|i| &i.attachments).find(|a| a.id.to_string() == id).map(|a| a.author);
    if let Some(owner) = owner {
        if let Err(r) = super::may_change(&f, user, owner, "DELETE_ALL_ATTACHMENTS") {
            return r;
        }
    }
    for i in &mut f.issues {
        if let Some(p) = i.attachments.iter().position(|a| a.id.to_string() == id) {
            i.attachments.remove(p);
            i.updated = now;
            return StatusCode::NO_CONTENT.into_response();
        }
    }
    error(StatusCode::NOT_FOUND, "The attachment does not exist.")
}
