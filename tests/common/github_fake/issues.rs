//! The fake GitHub's issues, comments and events.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use super::{answer, error, page, shapes, signed_in, Comment, Event, Fake, Issue, Shared, Q};

type Repo = (String, String);

fn issue_json(f: &Fake, i: &Issue) -> Value {
    let labels: Vec<Value> = i.labels.iter().enumerate().map(|(n, l)| shapes::label(f, n, l)).collect();
    let assignees: Vec<Value> = i.assignees.iter().map(|u| f.user_json(*u)).collect();
    let milestone =
        i.milestone.and_then(|n| f.milestones.iter().find(|(m, _)| *m == n)).map(|(n, t)| shapes::milestone(f, *n, t));
    let ty = i.issue_type.as_ref().map(|t| shapes::issue_type(f.types.iter().position(|x| x == t).unwrap_or(0), t));
    let repo = format!("{}{}", f.base_url, f.repo_path());
    let url = format!("{repo}/issues/{}", i.number);
    let mut v = json!({"id": 9000 + i.number, "node_id": format!("I_{}", i.number), "number": i.number,
        "url": url, "repository_url": repo, "labels_url": format!("{url}/labels{{/name}}"),
        "comments_url": format!("{url}/comments"), "events_url": format!("{url}/events"),
        "html_url": format!("https://github.test{}/issues/{}", f.repo_path(), i.number),
        "title": i.title, "body": i.body, "state": i.state, "state_reason": i.state_reason,
        "user": f.user_json(i.user), "labels": labels, "assignee": assignees.first().cloned(),
        "assignees": assignees, "milestone": milestone, "type": ty, "locked": false,
        "comments": f.comments.iter().filter(|c| c.issue == i.number).count(),
        "created_at": Fake::time(i.created), "updated_at": Fake::time(i.updated),
        "closed_at": (i.state == "closed").then(|| Fake::time(i.updated)), "author_association": "MEMBER"});
    if i.pull_request {
        v["pull_request"] = json!({"url": format!("{}{}/pulls/{}", f.base_url, f.repo_path(), i.number),
            "html_url": null, "diff_url": null, "patch_url": null});
    }
    v
}

fn comment_json(f: &Fake, c: &Comment) -> Value {
    json!({"id": c.id, "node_id": format!("IC_{}", c.id), "body": c.body, "user": f.user_json(c.user),
        "url": format!("{}{}/issues/comments/{}", f.base_url, f.repo_path(), c.id),
        "issue_url": format!("{}{}/issues/{}", f.base_url, f.repo_path(), c.issue),
        "html_url": format!("https://github.test{}/issues/{}#issuecomment-{}", f.repo_path(), c.issue, c.id),
        "created_at": Fake::time(c.created), "updated_at": Fake::time(c.updated), "author_association": "MEMBER"})
}

fn ours(f: &Fake, (o, r): &Repo) -> bool {
    *o == f.owner && *r == f.repo
}

fn ms(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).map(|t| t.timestamp_millis()).unwrap_or(0)
}

pub async fn list(State(s): State<Shared>, Path(repo): Path<Repo>, uri: Uri, Query(q): Q, h: HeaderMap) -> Response {
    signed_in!(s, h, false);
    let f = s.lock().unwrap().clone();
    if !ours(&f, &repo) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    if !f.has_issues {
        return error(StatusCode::GONE, "Issues are disabled for this repo");
    }
    let since = q.get("since").map(|t| ms(t)).unwrap_or(0);
    let state = q.get("state").map(String::as_str).unwrap_or("open");
    let creator = q.get("creator");
    let mut list: Vec<&Issue> = f
        .issues
        .iter()
        .filter(|i| i.updated >= since && (state == "all" || i.state == state))
        .filter(|i| creator.is_none_or(|c| f.logins[i.user] == *c))
        .collect();
    let by_updated = q.get("sort").map(String::as_str) == Some("updated");
    list.sort_by_key(|i| if by_updated { (i.updated, i.number) } else { (i.created, i.number) });
    if q.get("direction").map(String::as_str) != Some("asc") {
        list.reverse();
    }
    let items = list.iter().map(|i| issue_json(&f, i)).collect();
    page(&s, &h, &uri, &q, items)
}

pub async fn create(State(s): State<Shared>, Path(repo): Path<Repo>, h: HeaderMap, Json(b): Json<Value>) -> Response {
    let user = signed_in!(s, h, true);
    let mut f = s.lock().unwrap();
    if !ours(&f, &repo) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let Some(title) = b["title"].as_str().filter(|t| !t.trim().is_empty()) else {
        let body = json!({"message": "Validation Failed",
            "errors": [{"resource": "Issue", "code": "missing_field", "field": "title"}]});
        drop(f);
        return answer(&s, &h, StatusCode::UNPROCESSABLE_ENTITY, body, None);
    };
    let now = f.now();
    let number = f.issues.len() as u64 + 1;
    let mut i = Issue {
        number,
        title: title.into(),
        body: b["body"].as_str().map(String::from),
        state: "open".into(),
        user,
        created: now,
        updated: now,
        ..Default::default()
    };
    if let Err(r) = set(&mut f, &mut i, &b, user) {
        return r;
    }
    f.events.retain(|e| e.issue != number); // made so, not changed
    let v = issue_json(&f, &i);
    f.issues.push(i);
    drop(f);
    answer(&s, &h, StatusCode::CREATED, v, None)
}

/// Sets what `b` names on `i`, with the events a change makes; a name
/// GitHub does not know is a 422.
fn set(f: &mut Fake, i: &mut Issue, b: &Value, user: usize) -> Result<(), Response> {
    let invalid = |field: &str, value: &Value| {
        let body = json!({"message": "Validation Failed",
            "errors": [{"resource": "Issue", "code": "invalid", "field": field, "value": value}]});
        (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    };
    let mut events: Vec<(&str, Value)> = Vec::new();
    if let Some(t) = b["title"].as_str() {
        if t.trim().is_empty() {
            return Err(invalid("title", &b["title"]));
        }
        if t != i.title {
            events.push(("renamed", json!({"rename": {"from": i.title, "to": t}})));
        }
        i.title = t.into();
    }
    if b.get("body").is_some() {
        i.body = b["body"].as_str().map(String::from);
    }
    if let Some(st) = b["state"].as_str() {
        let reason = b["state_reason"].as_str();
        if !matches!(st, "open" | "closed") {
            return Err(invalid("state", &b["state"]));
        }
        if st != i.state {
            events.push((if st == "closed" { "closed" } else { "reopened" }, json!({})));
        }
        i.state = st.into();
        i.state_reason = match (st, reason) {
            ("closed", Some(r @ ("completed" | "not_planned" | "duplicate"))) => Some(r.into()),
            ("closed", _) => Some("completed".into()),
            (_, Some("reopened")) => Some("reopened".into()),
            _ => None,
        };
    }
    if let Some(list) = b["labels"].as_array() {
        let mut new: Vec<String> = list.iter().filter_map(|l| l.as_str().map(String::from)).collect();
        new.sort();
        new.dedup();
        for l in &new {
            if !i.labels.contains(l) {
                events.push(("labeled", json!({"label": {"name": l, "color": "ededed"}})));
            }
        }
        for l in i.labels.iter().filter(|l| !new.contains(l)) {
            events.push(("unlabeled", json!({"label": {"name": l, "color": "ededed"}})));
        }
        i.labels = new;
    }
    if let Some(list) = b["assignees"].as_array() {
        let mut new = Vec::new();
        for a in list {
            match f.logins.iter().position(|l| Some(l.as_str()) == a.as_str()).filter(|u| *u < 3) {
                Some(u) => new.push(u),
                None => return Err(invalid("assignees", a)),
            }
        }
        if new != i.assignees {
            let (what, who) = match (new.first(), i.assignees.first()) {
                (Some(u), _) => ("assigned", *u),
                (None, Some(u)) => ("unassigned", *u),
                (None, None) => ("unassigned", user),
            };
            events.push((what, json!({"assignee": f.user_json(who), "assigner": f.user_json(user)})));
        }
        i.assignees = new;
    }
    if let Some(m) = b.get("milestone") {
        let new = match m {
            Value::Null => None,
            n => match n.as_u64().filter(|n| f.milestones.iter().any(|(m, _)| m == n)) {
                Some(n) => Some(n),
                None => return Err(invalid("milestone", m)),
            },
        };
        if new != i.milestone {
            let title =
                new.or(i.milestone).and_then(|n| f.milestones.iter().find(|(m, _)| *m == n)).map(|m| m.1.clone());
            let what = if new.is_some() { "milestoned" } else { "demilestoned" };
            events.push((what, json!({"milestone": {"title": title.unwrap_or_default()}})));
        }
        i.milestone = new;
    }
    if let Some(t) = b.get("type") {
        let new = match t {
            Value::Null => None,
            name if f.org && f.types.iter().any(|x| Some(x.as_str()) == name.as_str()) => {
                name.as_str().map(String::from)
            }
            _ => return Err(invalid("type", t)),
        };
        if new != i.issue_type {
            let ty = |t: &Option<String>| t.as_ref().map(|t| json!({"id": 30, "name": t, "color": "gray"}));
            let (now, prev) = (ty(&new), ty(&i.issue_type));
            events.push(match (&i.issue_type, &new) {
                (None, _) => ("issue_type_added", json!({"issue_type": now})),
                (_, None) => ("issue_type_removed", json!({"prev_issue_type": prev})),
                _ => ("issue_type_changed", json!({"issue_type": now, "prev_issue_type": prev})),
            });
        }
        i.issue_type = new;
    }
    let now = f.now();
    i.updated = now;
    for (e, detail) in events {
        let id = f.id();
        f.events.push(Event { id, issue: i.number, actor: user, event: e.into(), created: now, detail });
    }
    Ok(())
}

fn find(f: &Fake, repo: &Repo, number: &str) -> Option<usize> {
    if !ours(f, repo) {
        return None;
    }
    f.issues.iter().position(|i| Some(i.number) == number.parse().ok())
}

pub async fn read(State(s): State<Shared>, Path((o, r, n)): Path<(String, String, String)>, h: HeaderMap) -> Response {
    signed_in!(s, h, false);
    let f = s.lock().unwrap().clone();
    let Some(at) = find(&f, &(o, r), &n) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    answer(&s, &h, StatusCode::OK, issue_json(&f, &f.issues[at]), None)
}

pub async fn edit(
    State(s): State<Shared>,
    Path((o, r, n)): Path<(String, String, String)>,
    h: HeaderMap,
    Json(b): Json<Value>,
) -> Response {
    let user = signed_in!(s, h, true);
    let mut f = s.lock().unwrap();
    let Some(at) = find(&f, &(o, r), &n) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let mut i = f.issues[at].clone();
    if let Err(r) = set(&mut f, &mut i, &b, user) {
        return r;
    }
    let v = issue_json(&f, &i);
    f.issues[at] = i;
    drop(f);
    answer(&s, &h, StatusCode::OK, v, None)
}

pub async fn comments(
    State(s): State<Shared>,
    Path((o, r, n)): Path<(String, String, String)>,
    uri: Uri,
    Query(q): Q,
    h: HeaderMap,
) -> Response {
    signed_in!(s, h, false);
    let f = s.lock().unwrap().clone();
    let Some(at) = find(&f, &(o, r), &n) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let number = f.issues[at].number;
    let items = f.comments.iter().filter(|c| c.issue == number).map(|c| comment_json(&f, c)).collect();
    page(&s, &h, &uri, &q, items)
}

pub async fn comment_add(
    State(s): State<Shared>,
    Path((o, r, n)): Path<(String, String, String)>,
    h: HeaderMap,
    Json(b): Json<Value>,
) -> Response {
    let user = signed_in!(s, h, true);
    let mut f = s.lock().unwrap();
    let Some(at) = find(&f, &(o, r), &n) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let Some(body) = b["body"].as_str() else { return error(StatusCode::UNPROCESSABLE_ENTITY, "body is missing") };
    let (now, id) = (f.now(), f.id());
    let c = Comment { id, issue: f.issues[at].number, user, body: body.into(), created: now, updated: now };
    f.issues[at].updated = now;
    let v = comment_json(&f, &c);
    f.comments.push(c);
    drop(f);
    answer(&s, &h, StatusCode::CREATED, v, None)
}

pub async fn repo_comments(
    State(s): State<Shared>,
    Path(repo): Path<Repo>,
    uri: Uri,
    Query(q): Q,
    h: HeaderMap,
) -> Response {
    signed_in!(s, h, false);
    let f = s.lock().unwrap().clone();
    if !ours(&f, &repo) {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let since = q.get("since").map(|t| ms(t)).unwrap_or(0);
    let mut list: Vec<&Comment> = f.comments.iter().filter(|c| c.updated >= since).collect();
    list.sort_by_key(|c| (c.updated, c.id));
    if q.get("direction").map(String::as_str) == Some("desc") {
        list.reverse();
    }
    let items = list.iter().map(|c| comment_json(&f, c)).collect();
    page(&s, &h, &uri, &q, items)
}

fn comment_at(f: &Fake, repo: &Repo, id: &str) -> Option<usize> {
    if !ours(f, repo) {
        return None;
    }
    f.comments.iter().position(|c| Some(c.id) == id.parse().ok())
}

pub async fn comment_get(
    State(s): State<Shared>,
    Path((o, r, id)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    signed_in!(s, h, false);
    let f = s.lock().unwrap().clone();
    let Some(at) = comment_at(&f, &(o, r), &id) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    answer(&s, &h, StatusCode::OK, comment_json(&f, &f.comments[at]), None)
}

pub async fn comment_edit(
    State(s): State<Shared>,
    Path((o, r, id)): Path<(String, String, String)>,
    h: HeaderMap,
    Json(b): Json<Value>,
) -> Response {
    signed_in!(s, h, true);
    let mut f = s.lock().unwrap();
    let Some(at) = comment_at(&f, &(o, r), &id) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let Some(body) = b["body"].as_str() else { return error(StatusCode::UNPROCESSABLE_ENTITY, "body is missing") };
    let now = f.now();
    f.comments[at].body = body.into();
    f.comments[at].updated = now;
    let v = comment_json(&f, &f.comments[at]);
    drop(f);
    answer(&s, &h, StatusCode::OK, v, None)
}

pub async fn comment_delete(
    State(s): State<Shared>,
    Path((o, r, id)): Path<(String, String, String)>,
    h: HeaderMap,
) -> Response {
    signed_in!(s, h, true);
    let mut f = s.lock().unwrap();
    let Some(at) = comment_at(&f, &(o, r), &id) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    f.comments.remove(at);
    StatusCode::NO_CONTENT.into_response()
}

pub async fn events(
    State(s): State<Shared>,
    Path((o, r, n)): Path<(String, String, String)>,
    uri: Uri,
    Query(q): Q,
    h: HeaderMap,
) -> Response {
    signed_in!(s, h, false);
    let f = s.lock().unwrap().clone();
    let Some(at) = find(&f, &(o, r), &n) else { return error(StatusCode::NOT_FOUND, "Not Found") };
    let number = f.issues[at].number;
    let items = f.events.iter().filter(|e| e.issue == number).map(|e| shapes::event(&f, e, e.detail.clone())).collect();
    page(&s, &h, &uri, &q, items)
}

use axum::response::IntoResponse;
