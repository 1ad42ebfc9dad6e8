//! A stateful fake Jira for contract tests (no Jira can run here), speaking
//! Cloud (REST v3: ADF bodies, account ids, `POST /search/jql` with
//! `nextPageToken`) or Data Center (REST v2: wiki markup, user names,
//! `GET /search` with `startAt`). Its answers follow Atlassian's published
//! API. It keeps issues with comments, attachments, worklogs, properties
//! and change history; its clock has milliseconds and can be moved; JQL
//! minutes are read in the asking user's time zone. Faults on demand:
//! throttling (429 with `Retry-After`) on every n-th call, a search that
//! lags behind writes (Cloud's eventual consistency; `reconcileIssues`
//! sees through it), refused tokens, missing permissions, statuses no
//! transition leads to.

#![allow(clippy::result_large_err)] // a test fake: an answer is the error

pub mod issues;
pub mod model;
pub mod notes;
pub mod search;
#[path = "../serve.rs"]
#[allow(clippy::duplicate_mod)] // a test binary may hold two fakes
mod serve;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub use model::User;

/// What the fake knows and how it misbehaves.
#[derive(Debug, Clone)]
pub struct Fake {
    pub cloud: bool,
    pub project: String,
    pub users: Vec<User>,
    /// `Authorization` header → the user it signs in.
    pub tokens: Vec<(String, usize)>,
    pub issues: Vec<model::Issue>,
    pub ids: u64,
    pub clock_offset_ms: i64,
    /// Permissions the sync user does not have.
    pub lacking: Vec<String>,
    /// Answer 429 (`Retry-After: 1`) to every n-th call (0: never).
    pub throttle_every: u64,
    pub calls: u64,
    pub throttled: u64,
    /// The `Retry-After` of a throttled call, in seconds.
    pub retry_after_secs: u64,
    /// Statuses no transition leads to.
    pub no_transition_to: Vec<String>,
    /// The workflow's transitions (from, to), as a real one has them (a
    /// path of several to some statuses); empty: any status to any other.
    pub workflow: Vec<(String, String)>,
    /// The status whose transition screen asks for a resolution (required).
    pub resolution_on: Option<String>,
    /// Statuses whose transitions have Jira's "only the assignee"
    /// condition: hidden from anyone the issue is not assigned to.
    pub assignee_only_to: Vec<String>,
    /// A validator on the transitions to a status: its message refuses
    /// them while the issue has no labels.
    pub labels_required_to: Option<(String, String)>,
    /// Cloud users hide their addresses (all but the sync user's).
    pub hidden_emails: bool,
    /// Reads of attachment content at the media host, and those that
    /// came with credentials (which must not travel there).
    pub media_reads: usize,
    pub media_reads_with_credentials: usize,
    /// Search does not see writes younger than this (ms), unless reconciled.
    pub search_lag_ms: i64,
    /// Issue ids searches asked to reconcile.
    pub reconciled: Vec<String>,
    /// Where the fake answers (its links are absolute).
    pub base_url: String,
    /// Every call takes this long (a slow Jira).
    pub delay_ms: u64,
    /// Issue key → the copy searches list in its place (an index behind).
    pub stale: BTreeMap<String, Value>,
    /// How many issues the last search found.
    pub last_found: Arc<std::sync::atomic::AtomicUsize>,
}

/// `Basic base64(sync@example.com:t0ken)`: the sync user (user 0).
pub const SYNC_AUTH: &str = "Basic c3luY0BleGFtcGxlLmNvbTp0MGtlbg==";
/// `Basic base64(alice@example.com:al1ce)`: a person (user 1).
pub const ALICE_AUTH: &str = "Basic YWxpY2VAZXhhbXBsZS5jb206YWwxY2U=";

impl Fake {
    pub fn new(cloud: bool, project: &str) -> Self {
        let user = |id: &str, name: &str, display: &str, tz: &str| User {
            account_id: id.into(),
            name: name.into(),
            display: display.into(),
            email: format!("{name}@example.com"),
            time_zone: tz.into(),
        };
        Fake {
            cloud,
            project: project.into(),
            users: vec![
                user("5b10ac8d82e05b22cc7d4ef5", "sync-user", "Sync User", "Europe/Berlin"),
                user("5b10a2844c20165700ede21g", "alice", "Alice Admin", "America/New_York"),
                user("5b10a0effa615349cb016cd8", "bob", "Bob Builder", "UTC"),
            ],
            tokens: vec![(SYNC_AUTH.into(), 0), (ALICE_AUTH.into(), 1), ("Bearer p4t".into(), 0)],
            issues: Vec::new(),
            ids: 10000,
            clock_offset_ms: 0,
            lacking: Vec::new(),
            throttle_every: 0,
            calls: 0,
            throttled: 0,
            retry_after_secs: 1,
            no_transition_to: Vec::new(),
            workflow: Vec::new(),
            resolution_on: None,
            assignee_only_to: Vec::new(),
            labels_required_to: None,
            hidden_emails: false,
            media_reads: 0,
            media_reads_with_credentials: 0,
            search_lag_ms: 0,
            reconciled: Vec::new(),
            base_url: String::new(),
            delay_ms: 0,
            stale: BTreeMap::new(),
            last_found: Default::default(),
        }
    }
}

pub type Shared = Arc<Mutex<Fake>>;

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
        .route("/rest/api/{v}/user/assignable/search", get(assignable))
        .route("/rest/api/{v}/issue", post(issues::create))
        .route("/rest/api/{v}/issue/{key}", get(issues::read).put(issues::edit))
        .route("/rest/api/{v}/issue/{key}/transitions", get(issues::transitions).post(issues::transition))
        .route("/rest/api/{v}/issue/{key}/changelog", get(issues::changelog))
        .route("/rest/api/{v}/issue/{key}/comment", get(notes::comments).post(notes::comment_add))
        .route(
            "/rest/api/{v}/issue/{key}/comment/{id}",
            get(notes::comment_get).put(notes::comment_edit).delete(notes::comment_delete),
        )
        .route("/rest/api/{v}/issue/{key}/worklog", get(notes::worklogs).post(notes::worklog_add))
        .route(
            "/rest/api/{v}/issue/{key}/worklog/{id}",
            get(notes::worklog_get).put(notes::worklog_edit).delete(notes::worklog_delete),
        )
        .route("/rest/api/{v}/issue/{key}/properties/{prop}", get(issues::property_get).put(issues::property_put))
        .route("/rest/api/{v}/issue/{key}/attachments", post(issues::attach))
        .route("/rest/api/{v}/attachment/content/{id}", get(issues::attachment_content))
        .route("/rest/api/{v}/attachment/{id}", axum::routing::delete(issues::attachment_delete))
        .route("/secure/attachment/{id}/{name}", get(issues::secure_attachment))
        .route("/media/file/{id}/binary", get(issues::media))
        .route("/rest/api/3/search/jql", post(search::search_jql))
        .route("/rest/api/2/search", get(search::search_v2))
        .with_state(state.clone())
        .layer(axum::middleware::map_response_with_state(state.clone(), date_header));
    let url = serve::serve_fake(app);
    state.lock().unwrap().base_url = url.clone();
    Running { url, state }
}

/// A sync's settings for the Jira at `url` (this fake, or a proxy in
/// front of it), project SUP.
#[allow(dead_code)] // not every test that runs the fake opens a backend itself
pub fn settings(
    url: &str,
    flavour: postern::tracker::jira::Flavour,
    auth: postern::tracker::jira::JiraAuth,
) -> postern::tracker::jira::JiraSettings {
    postern::tracker::jira::JiraSettings {
        url: url.into(),
        project: "SUP".into(),
        flavour,
        auth,
        ca_file: None,
        statuses: Default::default(),
        priorities: Default::default(),
        rescan_secs: 3600,
        timeout_secs: 60,
        screens: Default::default(),
        account_ids: Default::default(),
        webhook_secret: None,
    }
}

/// Every answer says the fake's time (`Date`), as Jira's do.
async fn date_header(State(s): State<Shared>, mut res: Response) -> Response {
    let now = s.lock().unwrap().now();
    let t = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    if let Ok(v) = t.format("%a, %d %b %Y %H:%M:%S GMT").to_string().parse() {
        res.headers_mut().insert(axum::http::header::DATE, v);
    }
    res
}

/// A Jira error answer.
/// Jira's ownership rule: changing what someone else wrote needs the
/// `_ALL_` permission (`all`); one's own, only the `_OWN_` one.
pub fn may_change(f: &Fake, user: usize, owner: usize, all: &str) -> Result<(), Response> {
    match user != owner && f.lacking.iter().any(|l| l == all) {
        true => Err(error(StatusCode::FORBIDDEN, "You do not have the permission to do this.")),
        false => Ok(()),
    }
}

pub fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"errorMessages": [message], "errors": {}}))).into_response()
}

/// Every call: counted, throttled when due, signed in, and the REST version
/// checked against the flavour. `Err`: the answer instead of the call's own.
pub fn gate(state: &Shared, headers: &HeaderMap, version: &str) -> Result<usize, Box<Response>> {
    let delay = state.lock().unwrap().delay_ms;
    std::thread::sleep(std::time::Duration::from_millis(delay));
    let mut f = state.lock().unwrap();
    f.calls += 1;
    if f.throttle_every > 0 && f.calls.is_multiple_of(f.throttle_every) {
        f.throttled += 1;
        let body = Json(json!({"errorMessages": ["Rate limit exceeded."], "errors": {}}));
        let wait = f.retry_after_secs.to_string();
        return Err(Box::new((StatusCode::TOO_MANY_REQUESTS, [("Retry-After", wait)], body).into_response()));
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(user) = f.tokens.iter().find(|(t, _)| t == auth).map(|(_, u)| *u) else {
        return Err(Box::new(error(StatusCode::UNAUTHORIZED, "You are not authenticated.")));
    };
    let want = if f.cloud { "3" } else { "2" };
    if version != want && !(version == "2" && f.cloud) {
        return Err(Box::new(error(StatusCode::NOT_FOUND, "no such API")));
    }
    Ok(user)
}

macro_rules! signed_in {
    ($s:expr, $h:expr, $v:expr) => {
        match $crate::jira_fake::gate(&$s, &$h, AsRef::<str>::as_ref(&$v)) {
            Ok(u) => u,
            Err(r) => return *r,
        }
    };
}
pub(crate) use signed_in;

async fn server_info(State(s): State<Shared>, Path(_v): Path<String>) -> Response {
    // Anonymous, as in Jira.
    let f = s.lock().unwrap();
    let kind = if f.cloud { "Cloud" } else { "Server" };
    Json(json!({"baseUrl": "http://jira.test", "version": "1001.0.0", "deploymentType": kind,
        "buildNumber": 100, "serverTitle": "Jira", "serverTime": f.time(f.now(), 0)}))
    .into_response()
}

async fn myself(State(s): State<Shared>, Path(v): Path<String>, h: HeaderMap) -> Response {
    let user = signed_in!(s, h, v);
    Json(s.lock().unwrap().user_json(user)).into_response()
}

async fn project(State(s): State<Shared>, Path((v, key)): Path<(String, String)>, h: HeaderMap) -> Response {
    signed_in!(s, h, v);
    if key != s.lock().unwrap().project {
        return error(StatusCode::NOT_FOUND, &format!("No project could be found with key '{key}'."));
    }
    let types: Vec<Value> =
        model::TYPES.iter().map(|(id, name)| json!({"id": id, "name": name, "subtask": false})).collect();
    Json(json!({"id": "10000", "key": key, "name": "Support", "issueTypes": types})).into_response()
}

async fn statuses(State(s): State<Shared>, Path((v, _key)): Path<(String, String)>, h: HeaderMap) -> Response {
    signed_in!(s, h, v);
    let list: Vec<Value> = model::STATUSES
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name, "statusCategory": model::category(name)}))
        .collect();
    let per_type: Vec<Value> = model::TYPES
        .iter()
        .map(|(id, name)| {
            json!({"id": id, "name": name, "self": format!("http://jira.test/rest/api/2/issuetype/{id}"),
                "subtask": false, "statuses": list})
        })
        .collect();
    Json(json!(per_type)).into_response()
}

async fn priorities(State(s): State<Shared>, Path(v): Path<String>, h: HeaderMap) -> Response {
    signed_in!(s, h, v);
    let list: Vec<Value> = model::PRIORITIES.iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
    Json(json!(list)).into_response()
}

async fn fields(State(s): State<Shared>, Path(v): Path<String>, h: HeaderMap) -> Response {
    signed_in!(s, h, v);
    Json(json!([{"id": "summary", "name": "Summary", "custom": false},
        {"id": model::CUSTOM.0, "name": model::CUSTOM.1, "custom": true, "schema": {"type": "string"}}]))
    .into_response()
}

async fn permissions(
    State(s): State<Shared>,
    Path(v): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    h: HeaderMap,
) -> Response {
    signed_in!(s, h, v);
    let f = s.lock().unwrap();
    let mut out = serde_json::Map::new();
    for key in q.get("permissions").map(String::as_str).unwrap_or_default().split(',').filter(|k| !k.is_empty()) {
        let have = !f.lacking.iter().any(|l| l == key);
        out.insert(key.into(), json!({"key": key, "name": key, "type": "PROJECT", "havePermission": have}));
    }
    Json(json!({ "permissions": Value::Object(out) })).into_response()
}

async fn assignable(State(s): State<Shared>, Path(v): Path<String>, h: HeaderMap) -> Response {
    signed_in!(s, h, v);
    let f = s.lock().unwrap();
    let list: Vec<Value> = (0..f.users.len()).map(|i| f.user_json(i)).collect();
    Json(json!(list)).into_response()
}
