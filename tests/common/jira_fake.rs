//! A stateful fake Jira for contract tests (no Jira can run here), speaking
//! Cloud (REST v3) or Data Center (REST v2). Its answers follow Atlassian's
//! published API; faults come on demand: throttling (429 with
//! `Retry-After`) on every n-th call, a refused token, missing permissions.
//! Grows with the backend: today it serves what the check before saving a
//! sync reads.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// What the fake knows and how it misbehaves.
#[derive(Debug, Clone)]
pub struct Fake {
    pub cloud: bool,
    /// The `Authorization` header it takes.
    pub authorization: String,
    pub project: String,
    /// Permissions the sync user does not have.
    pub lacking: Vec<String>,
    /// Answer 429 (`Retry-After: 1`) to every n-th call (0: never).
    pub throttle_every: u64,
    pub calls: u64,
    pub throttled: u64,
    pub time_zone: String,
}

impl Fake {
    pub fn new(cloud: bool, authorization: &str, project: &str) -> Self {
        Fake {
            cloud,
            authorization: authorization.into(),
            project: project.into(),
            lacking: Vec::new(),
            throttle_every: 0,
            calls: 0,
            throttled: 0,
            time_zone: "Europe/Berlin".into(),
        }
    }
}

type Shared = Arc<Mutex<Fake>>;

/// A running fake: its base URL and its state.
pub struct Running {
    pub url: String,
    pub state: Shared,
}

/// Starts the fake on a free loopback port, in a thread of its own.
pub fn start(fake: Fake) -> Running {
    let state: Shared = Arc::new(Mutex::new(fake));
    let app = Router::new()
        .route("/rest/api/{v}/serverInfo", get(server_info))
        .route("/rest/api/{v}/myself", get(myself))
        .route("/rest/api/{v}/project/{key}", get(project))
        .route("/rest/api/{v}/project/{key}/statuses", get(statuses))
        .route("/rest/api/{v}/priority", get(priorities))
        .route("/rest/api/{v}/field", get(fields))
        .route("/rest/api/{v}/mypermissions", get(permissions))
        .with_state(state.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    Running { url, state }
}

/// Every call: counted, throttled when due, the credentials checked, and
/// the REST version checked against the flavour.
/// `Some`: the answer instead of the call's own.
fn gate(state: &Shared, headers: &HeaderMap, version: &str) -> Option<Response> {
    let mut f = state.lock().unwrap();
    f.calls += 1;
    if f.throttle_every > 0 && f.calls.is_multiple_of(f.throttle_every) {
        f.throttled += 1;
        let body = Json(json!({"errorMessages": ["Rate limit exceeded."], "errors": {}}));
        return Some((StatusCode::TOO_MANY_REQUESTS, [("Retry-After", "1")], body).into_response());
    }
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(f.authorization.as_str()) {
        let body = Json(json!({"errorMessages": ["You are not authenticated."], "errors": {}}));
        return Some((StatusCode::UNAUTHORIZED, body).into_response());
    }
    let want = if f.cloud { "3" } else { "2" };
    if version != want && !(version == "2" && f.cloud) {
        let body = Json(json!({"errorMessages": ["no such API"], "errors": {}}));
        return Some((StatusCode::NOT_FOUND, body).into_response());
    }
    None
}

async fn server_info(State(s): State<Shared>, Path(_v): Path<String>) -> Response {
    // Anonymous, as in Jira.
    let cloud = s.lock().unwrap().cloud;
    let kind = if cloud { "Cloud" } else { "Server" };
    Json(json!({"baseUrl": "http://jira.test", "version": "1001.0.0", "deploymentType": kind,
        "buildNumber": 100, "serverTitle": "Jira"}))
    .into_response()
}

async fn myself(State(s): State<Shared>, Path(v): Path<String>, h: HeaderMap) -> Response {
    if let Some(r) = gate(&s, &h, &v) {
        return r;
    }
    let f = s.lock().unwrap();
    let me = if f.cloud {
        json!({"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Sync User", "active": true,
            "timeZone": f.time_zone, "accountType": "atlassian"})
    } else {
        json!({"name": "sync-user", "key": "JIRAUSER10100", "displayName": "Sync User", "active": true,
            "timeZone": f.time_zone})
    };
    Json(me).into_response()
}

async fn project(State(s): State<Shared>, Path((v, key)): Path<(String, String)>, h: HeaderMap) -> Response {
    if let Some(r) = gate(&s, &h, &v) {
        return r;
    }
    if key != s.lock().unwrap().project {
        let body = Json(json!({"errorMessages": ["No project could be found with key '".to_string() + &key + "'."]}));
        return (StatusCode::NOT_FOUND, body).into_response();
    }
    Json(json!({"id": "10000", "key": key, "name": "Support",
        "issueTypes": [{"id": "10001", "name": "Bug", "subtask": false}, {"id": "10002", "name": "Task", "subtask": false}]}))
    .into_response()
}

async fn statuses(State(s): State<Shared>, Path((v, _key)): Path<(String, String)>, h: HeaderMap) -> Response {
    if let Some(r) = gate(&s, &h, &v) {
        return r;
    }
    let list =
        json!([{"id": "1", "name": "To Do"}, {"id": "3", "name": "In Progress"}, {"id": "10001", "name": "Done"}]);
    Json(json!([{"id": "10001", "name": "Bug", "subtask": false, "statuses": list},
        {"id": "10002", "name": "Task", "subtask": false, "statuses": list}]))
    .into_response()
}

async fn priorities(State(s): State<Shared>, Path(v): Path<String>, h: HeaderMap) -> Response {
    if let Some(r) = gate(&s, &h, &v) {
        return r;
    }
    Json(json!([{"id": "1", "name": "Highest"}, {"id": "2", "name": "High"}, {"id": "3", "name": "Medium"},
        {"id": "4", "name": "Low"}]))
    .into_response()
}

async fn fields(State(s): State<Shared>, Path(v): Path<String>, h: HeaderMap) -> Response {
    if let Some(r) = gate(&s, &h, &v) {
        return r;
    }
    Json(json!([{"id": "summary", "name": "Summary", "custom": false},
        {"id": "customfield_10010", "name": "Ticket ref", "custom": true, "schema": {"type": "string"}}]))
    .into_response()
}

async fn permissions(
    State(s): State<Shared>,
    Path(v): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    h: HeaderMap,
) -> Response {
    if let Some(r) = gate(&s, &h, &v) {
        return r;
    }
    let f = s.lock().unwrap();
    let mut out = serde_json::Map::new();
    for key in q.get("permissions").map(String::as_str).unwrap_or_default().split(',').filter(|k| !k.is_empty()) {
        let have = !f.lacking.iter().any(|l| l == key);
        out.insert(key.into(), json!({"key": key, "name": key, "type": "PROJECT", "havePermission": have}));
    }
    Json(json!({ "permissions": Value::Object(out) })).into_response()
}
