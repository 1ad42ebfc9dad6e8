//! A small in-process Redmine, so `cargo test` covers the Redmine
//! backend's logic (the real Redmine stays in the integration script).
//! It answers as Redmine 5.0.4 does (Debian bookworm's, the one the
//! integration script runs; `../shared/FIXTURES.md` lists the facts), or
//! as 6.x where they differ (`v6`: a journal says when its notes were
//! edited and by whom). Times have whole seconds. These do not move an
//! issue's `updated_on`: editing a journal's notes, deleting an
//! attachment, time entries. Projects are private: a non-member gets 403.
//! `/custom_fields.json` answers an admin only.

#![allow(dead_code)] // each test binary uses a part

mod issues;
#[path = "../serve.rs"]
#[allow(clippy::duplicate_mod)] // a test binary may hold two fakes
mod serve;
mod shapes;
mod time;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};

/// The users: an admin, the sync user and a person.
pub const ADMIN_KEY: &str = "0000admin0000admin0000admin0000admin0000";
pub const SYNC_KEY: &str = "1111sync11111sync11111sync11111sync11111";
pub const ALICE_KEY: &str = "2222alice2222alice2222alice2222alice2222";
pub const PROJECT: &str = "conf";

#[derive(Debug, Clone)]
pub struct User {
    pub id: u64,
    pub login: String,
    pub name: (String, String),
    pub mail: String,
    pub admin: bool,
    pub key: String,
    /// A member of the project (role Developer).
    pub member: bool,
}

impl User {
    pub fn name(&self) -> String {
        format!("{} {}", self.name.0, self.name.1)
    }
}

#[derive(Debug, Clone)]
pub struct Journal {
    pub id: u64,
    pub user: u64,
    pub notes: String,
    pub created: i64,
    /// When and by whom the notes were last edited (shown from 6.0).
    pub edited: Option<(i64, u64)>,
    pub details: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: u64,
    pub filename: String,
    pub content_type: String,
    pub description: String,
    pub author: u64,
    pub created: i64,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct Issue {
    pub id: u64,
    pub project: u64,
    pub tracker: u64,
    pub status: u64,
    pub priority: u64,
    pub subject: String,
    /// As Redmine stores it (CRLF line ends).
    pub description: String,
    pub assigned: Option<u64>,
    pub due: Option<String>,
    /// Custom field id → value.
    pub custom: BTreeMap<u64, String>,
    pub author: u64,
    pub created: i64,
    pub updated: i64,
    pub journals: Vec<Journal>,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: u64,
    pub issue: u64,
    pub user: u64,
    pub hours: f64,
    pub spent_on: String,
    pub comments: String,
    pub activity: u64,
    pub created: i64,
    pub updated: i64,
}

/// What the fake knows.
#[derive(Debug, Clone)]
pub struct Fake {
    pub v6: bool,
    pub users: Vec<User>,
    pub project_id: u64,
    pub trackers: Vec<(u64, &'static str)>,
    pub statuses: Vec<(u64, &'static str, bool)>,
    pub priorities: Vec<(u64, &'static str)>,
    pub activities: Vec<(u64, &'static str)>,
    /// The project's issue custom fields: id, name (text fields).
    pub custom_fields: Vec<(u64, &'static str)>,
    pub time_tracking: bool,
    pub issues: Vec<Issue>,
    pub entries: Vec<Entry>,
    pub uploads: BTreeMap<String, Vec<u8>>,
    pub next: u64,
    pub calls: u64,
    /// How far the fake's clock is ahead of ours (its times and `Date`).
    pub clock_offset_ms: i64,
    pub base_url: String,
}

impl Fake {
    pub fn new(v6: bool) -> Self {
        let user = |id, login: &str, first: &str, last: &str, admin, key: &str, member| User {
            id,
            login: login.into(),
            name: (first.into(), last.into()),
            mail: format!("{login}@example.org"),
            admin,
            key: key.into(),
            member,
        };
        let mut f = Fake {
            v6,
            users: vec![
                user(1, "admin", "Redmine", "Admin", true, ADMIN_KEY, false),
                user(5, "sync", "Sync", "Bot", false, SYNC_KEY, true),
                user(6, "alice", "Alice", "Example", false, ALICE_KEY, true),
            ],
            project_id: 3,
            trackers: vec![(1, "Bug"), (2, "Feature")],
            statuses: vec![(1, "New", false), (2, "In Progress", false), (3, "Resolved", false), (5, "Closed", true)],
            priorities: vec![(1, "Low"), (2, "Normal"), (3, "High")],
            activities: vec![(8, "Design"), (9, "Development")],
            custom_fields: vec![(1, "Ticket ref")],
            time_tracking: true,
            issues: Vec::new(),
            entries: Vec::new(),
            uploads: BTreeMap::new(),
            next: 0,
            calls: 0,
            clock_offset_ms: 0,
            base_url: String::new(),
        };
        // An issue there before any sync.
        let now = f.now();
        let id = f.id();
        f.issues.push(Issue {
            id,
            project: f.project_id,
            tracker: 1,
            status: 1,
            priority: 2,
            subject: "there before the sync".into(),
            author: 6,
            created: now,
            updated: now,
            ..Default::default()
        });
        f
    }

    /// Now, in Redmine's whole seconds (ms).
    pub fn now(&self) -> i64 {
        (postern::store::now_ms() + self.clock_offset_ms) / 1000 * 1000
    }

    /// A new id (one sequence for everything: ids never collide).
    pub fn id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    pub fn user(&self, id: u64) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn issue_mut(&mut self, id: u64) -> Option<&mut Issue> {
        self.issues.iter_mut().find(|i| i.id == id)
    }
}

pub type Shared = Arc<Mutex<Fake>>;

pub struct Running {
    pub url: String,
    pub state: Shared,
}

/// Starts the fake on a free loopback port, in a thread of its own.
pub fn start(fake: Fake) -> Running {
    let state: Shared = Arc::new(Mutex::new(fake));
    let app = Router::new().fallback(dispatch).with_state(state.clone());
    let url = serve::serve_fake(app);
    state.lock().unwrap().base_url = url.clone();
    Running { url, state }
}

/// A sync's settings for the fake at `url`, signed in with `key`.
pub fn settings(url: &str, key: &str) -> postern::tracker::redmine::RedmineSettings {
    postern::tracker::redmine::RedmineSettings {
        url: url.into(),
        project: PROJECT.into(),
        api_key: postern::secret::Password::Value(key.into()),
        ca_file: None,
        labels_field: None,
        statuses: Default::default(),
        priorities: Default::default(),
        rescan_secs: 0,
        timeout_secs: 60,
    }
}

/// Redmine's refusal: `{"errors": [...]}`.
pub fn errors(status: StatusCode, list: &[&str]) -> Response {
    (status, Json(json!({ "errors": list }))).into_response()
}

pub fn status(s: StatusCode) -> Response {
    s.into_response()
}

pub fn ok(body: Value) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}

/// One request: who asks, what, and its query.
pub struct Call {
    pub user: User,
    pub method: Method,
    pub parts: Vec<String>,
    pub query: BTreeMap<String, String>,
    pub body: Bytes,
    pub headers: HeaderMap,
}

impl Call {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    pub fn q_u64(&self, k: &str) -> Option<u64> {
        self.q(k).and_then(|v| v.parse().ok())
    }
}

async fn dispatch(State(s): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers.get("x-redmine-api-key").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let user = {
        let mut f = s.lock().unwrap();
        f.calls += 1;
        f.users.iter().find(|u| u.key == key).cloned()
    };
    let Some(user) = user else {
        return status(StatusCode::UNAUTHORIZED);
    };
    let path = uri.path().strip_suffix(".json").unwrap_or(uri.path());
    let parts: Vec<String> = path.split('/').filter(|p| !p.is_empty()).map(String::from).collect();
    let query = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), decode(v)))
        .collect();
    let call = Call { user, method, parts, query, body, headers };
    let mut f = s.lock().unwrap();
    let date = chrono::DateTime::from_timestamp_millis(f.now()).unwrap_or_default();
    let mut answer = route(&mut f, &call);
    answer.headers_mut().insert("date", date.format("%a, %d %b %Y %H:%M:%S GMT").to_string().parse().unwrap());
    answer
}

fn route(f: &mut Fake, call: &Call) -> Response {
    let p: Vec<&str> = call.parts.iter().map(String::as_str).collect();
    match (call.method.as_str(), &p[..]) {
        ("GET", ["users", "current"]) => ok(shapes::current_user(f, call)),
        ("GET", ["users", id]) => shapes::user(f, call, id),
        ("GET", ["projects", id]) => shapes::project(f, call, id),
        ("GET", ["projects", _, "memberships"]) => ok(shapes::memberships(f)),
        ("GET", ["projects", _, "versions"]) => ok(json!({"versions": [], "total_count": 0})),
        ("GET", ["projects", _, "issue_categories"]) => ok(json!({"issue_categories": [], "total_count": 0})),
        ("GET", ["roles", _]) => ok(shapes::role()),
        ("GET", ["issue_statuses"]) => ok(shapes::statuses(f)),
        ("GET", ["enumerations", "issue_priorities"]) => ok(shapes::priorities(f)),
        ("GET", ["enumerations", "time_entry_activities"]) => ok(shapes::activities(f)),
        ("GET", ["custom_fields"]) if call.user.admin => ok(shapes::custom_fields(f)),
        ("GET", ["custom_fields"]) => status(StatusCode::FORBIDDEN),
        ("GET", ["issues"]) => issues::list(f, call),
        ("GET", ["issues", id]) => issues::show(f, call, id),
        ("POST", ["issues"]) => issues::create(f, call),
        ("PUT", ["issues", id]) => issues::update(f, call, id),
        ("PUT", ["journals", id]) => issues::edit_journal(f, call, id),
        ("POST", ["uploads"]) => issues::upload(f, call),
        ("GET", ["attachments", "download", id, ..]) => issues::download(f, id),
        ("DELETE", ["attachments", id]) => issues::delete_attachment(f, call, id),
        ("GET", ["time_entries"]) => time::list(f, call),
        ("POST", ["time_entries"]) => time::create(f, call),
        ("PUT", ["time_entries", id]) => time::update(f, call, id),
        ("DELETE", ["time_entries", id]) => time::delete(f, id),
        _ => status(StatusCode::NOT_FOUND),
    }
}

/// A query value, percent-decoded (`+` stays: Redmine's stamps have none).
fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&v[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Redmine's time format.
pub fn stamp(t: i64) -> String {
    chrono::DateTime::from_timestamp_millis(t).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
