//! A stateful fake GitHub for contract tests (no GitHub runs here),
//! answering as GitHub's REST API (2022-11-28) documents: issues (pull
//! requests among them, as the issues list has them), comments, issue
//! events, assignees, milestones and an organisation's issue types; lists
//! paged by `Link`; conditional reads (`ETag`, 304 without using the rate
//! limit); `x-ratelimit-*` headers; a GitHub App's JWT and installation
//! tokens. Its clock has seconds, as GitHub's times do. Adding a comment
//! moves an issue's `updated_at`; editing or deleting one does not (the
//! conservative reading: detection must not rely on it). Faults on demand:
//! a secondary limit (403 with `retry-after`) on every n-th call, a token
//! without write access, issues turned off.

#![allow(clippy::result_large_err)] // a test fake: an answer is the error

pub mod issues;
#[path = "../serve.rs"]
#[allow(clippy::duplicate_mod)] // a test binary may hold two fakes
mod serve;
pub mod shapes;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};

/// The sync user's token, a person's (alice), and the App's key file.
pub const SYNC_TOKEN: &str = "ghp_syncSYNCsync0000";
pub const ALICE_TOKEN: &str = "ghp_aliceALICEalice00";
pub const APP_ID: &str = "4242";
pub const APP_KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/github-app.pem");

#[derive(Debug, Clone, Default)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub state: String,
    pub state_reason: Option<String>,
    pub labels: Vec<String>,
    pub assignees: Vec<usize>,
    pub milestone: Option<u64>,
    pub issue_type: Option<String>,
    pub user: usize,
    pub created: i64,
    pub updated: i64,
    pub pull_request: bool,
}

#[derive(Debug, Clone)]
pub struct Comment {
    pub id: u64,
    pub issue: u64,
    pub user: usize,
    pub body: String,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub id: u64,
    pub issue: u64,
    pub actor: usize,
    pub event: String,
    pub created: i64,
    /// What the event names besides (its label, assignee, title change…).
    pub detail: Value,
}

/// What the fake knows and how it misbehaves.
#[derive(Debug, Clone)]
pub struct Fake {
    pub owner: String,
    pub repo: String,
    /// The owner is an organisation (with issue types).
    pub org: bool,
    pub logins: Vec<String>,
    /// `Authorization` → the user it signs in.
    pub tokens: Vec<(String, usize)>,
    pub issues: Vec<Issue>,
    pub comments: Vec<Comment>,
    pub events: Vec<Event>,
    pub next_id: u64,
    pub milestones: Vec<(u64, String)>,
    pub types: Vec<String>,
    pub has_issues: bool,
    /// The sync user's token may read, not write.
    pub read_only: bool,
    pub clock_offset_ms: i64,
    pub calls: u64,
    pub not_modified: u64,
    pub remaining: i64,
    /// Answer 403 with `retry-after: 1` to every n-th call (0: never).
    pub limit_every: u64,
    pub limited: u64,
    /// Installation tokens made, and how long each is valid (seconds).
    pub app_tokens: u64,
    pub app_token_secs: i64,
    pub base_url: String,
}

impl Fake {
    pub fn new() -> Self {
        Fake {
            owner: "example".into(),
            repo: "support".into(),
            org: true,
            logins: ["postern-sync", "alice", "bob", "postern-app[bot]"].map(String::from).into(),
            tokens: vec![(format!("Bearer {SYNC_TOKEN}"), 0), (format!("Bearer {ALICE_TOKEN}"), 1)],
            issues: Vec::new(),
            comments: Vec::new(),
            events: Vec::new(),
            next_id: 1000,
            milestones: vec![(1, "CR-1".into()), (2, "v1.0".into())],
            types: ["Bug", "Task", "Feature"].map(String::from).into(),
            has_issues: true,
            read_only: false,
            clock_offset_ms: 0,
            calls: 0,
            not_modified: 0,
            remaining: 5000,
            limit_every: 0,
            limited: 0,
            app_tokens: 0,
            app_token_secs: 3600,
            base_url: String::new(),
        }
    }

    /// Now, in GitHub's seconds (ms, rounded down).
    pub fn now(&self) -> i64 {
        (postern::store::now_ms() + self.clock_offset_ms) / 1000 * 1000
    }

    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn time(t: i64) -> String {
        chrono::DateTime::from_timestamp_millis(t).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    pub fn user_json(&self, u: usize) -> Value {
        shapes::user(self, u)
    }

    pub fn repo_path(&self) -> String {
        format!("/repos/{}/{}", self.owner, self.repo)
    }
}

impl Default for Fake {
    fn default() -> Self {
        Self::new()
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
    let r = "/repos/{owner}/{repo}";
    let app = Router::new()
        .route("/user", get(user))
        .route(r, get(repository))
        .route(&format!("{r}/installation"), get(installation))
        .route("/app/installations/{id}/access_tokens", post(access_token))
        .route(&format!("{r}/assignees"), get(assignees))
        .route(&format!("{r}/milestones"), get(milestones))
        .route("/orgs/{org}/issue-types", get(issue_types))
        .route(&format!("{r}/issues"), get(issues::list).post(issues::create))
        .route(&format!("{r}/issues/comments"), get(issues::repo_comments))
        .route(
            &format!("{r}/issues/comments/{{id}}"),
            get(issues::comment_get).patch(issues::comment_edit).delete(issues::comment_delete),
        )
        .route(&format!("{r}/issues/{{number}}"), get(issues::read).patch(issues::edit))
        .route(&format!("{r}/issues/{{number}}/comments"), get(issues::comments).post(issues::comment_add))
        .route(&format!("{r}/issues/{{number}}/events"), get(issues::events))
        .with_state(state.clone());
    let url = serve::serve_fake(app);
    state.lock().unwrap().base_url = url.clone();
    Running { url, state }
}

/// A sync's settings for the GitHub at `url`, repository example/support,
/// signed in with `token`.
#[allow(dead_code)]
pub fn settings(url: &str, token: &str) -> postern::tracker::github::GitHubSettings {
    use postern::tracker::github::{GitHubAuth, GitHubSettings};
    GitHubSettings {
        url: url.into(),
        repo: "example/support".into(),
        auth: GitHubAuth::Token { token: postern::transport::mail::Password::Value(token.into()) },
        ca_file: None,
        statuses: Default::default(),
        rescan_secs: 3600,
        timeout_secs: 60,
        webhook_secret: None,
    }
}

/// A GitHub error answer.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest"}))).into_response()
}

/// Every call: counted, limited when due, signed in (`write`: it changes
/// something). `Err`: the answer instead of the call's own.
pub fn gate(s: &Shared, h: &HeaderMap, write: bool) -> Result<usize, Response> {
    let mut f = s.lock().unwrap();
    f.calls += 1;
    if h.get("x-github-api-version").and_then(|v| v.to_str().ok()) != Some("2022-11-28") {
        return Err(error(StatusCode::BAD_REQUEST, "X-GitHub-Api-Version 2022-11-28 expected"));
    }
    if f.limit_every > 0 && f.calls.is_multiple_of(f.limit_every) {
        f.limited += 1;
        let body = Json(json!({"message": "You have exceeded a secondary rate limit."}));
        return Err((StatusCode::FORBIDDEN, [("retry-after", "1")], body).into_response());
    }
    let auth = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(user) = f.tokens.iter().find(|(t, _)| t == auth).map(|(_, u)| *u) else {
        return Err(error(StatusCode::UNAUTHORIZED, "Bad credentials"));
    };
    if write && user == 0 && f.read_only {
        return Err(error(StatusCode::FORBIDDEN, "Resource not accessible by personal access token"));
    }
    Ok(user)
}

macro_rules! signed_in {
    ($s:expr, $h:expr, $write:expr) => {
        match $crate::github_fake::gate(&$s, &$h, $write) {
            Ok(u) => u,
            Err(r) => return r,
        }
    };
}
pub(crate) use signed_in;

/// An answer with GitHub's headers: an `ETag` (and a 304 without using
/// the rate limit when it was sent back), the rate limit, the date.
pub fn answer(s: &Shared, h: &HeaderMap, status: StatusCode, body: Value, link: Option<String>) -> Response {
    let mut f = s.lock().unwrap();
    let text = body.to_string();
    let etag = format!("W/\"{}\"", hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes())[..12]));
    let date = chrono::DateTime::from_timestamp_millis(f.now()).unwrap_or_default();
    let date = date.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let reset = (f.now() / 1000 + 3600).to_string();
    let sent = h.get("if-none-match").and_then(|v| v.to_str().ok());
    if status == StatusCode::OK && sent == Some(etag.as_str()) {
        f.not_modified += 1;
        let headers = [("etag", etag), ("date", date), ("x-ratelimit-remaining", f.remaining.to_string())];
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    f.remaining -= 1;
    let mut res = (status, Json(body)).into_response();
    let hs = res.headers_mut();
    for (k, v) in [
        ("etag", etag),
        ("date", date),
        ("x-ratelimit-limit", "5000".into()),
        ("x-ratelimit-remaining", f.remaining.to_string()),
        ("x-ratelimit-reset", reset),
        ("x-ratelimit-resource", "core".into()),
    ] {
        hs.insert(k, v.parse().unwrap());
    }
    if let Some(l) = link {
        hs.insert("link", l.parse().unwrap());
    }
    res
}

/// A page of `items` as `q` asks (`per_page`, `page`), with its `Link`.
pub fn page(s: &Shared, h: &HeaderMap, uri: &Uri, q: &BTreeMap<String, String>, items: Vec<Value>) -> Response {
    let per: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30).clamp(1, 100);
    let at: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    let last = items.len().div_ceil(per).max(1);
    let chunk: Vec<Value> = items.into_iter().skip((at - 1) * per).take(per).collect();
    let link = (at < last).then(|| {
        let base = s.lock().unwrap().base_url.clone();
        let mut q = q.clone();
        q.insert("page".into(), (at + 1).to_string());
        let query: Vec<String> =
            q.iter().map(|(k, v)| format!("{k}={}", postern::tracker::remote::http::encode(v))).collect();
        format!("<{base}{}?{}>; rel=\"next\"", uri.path(), query.join("&"))
    });
    answer(s, h, StatusCode::OK, json!(chunk), link)
}

type Q = Query<BTreeMap<String, String>>;

async fn user(State(s): State<Shared>, h: HeaderMap) -> Response {
    let u = signed_in!(s, h, false);
    if s.lock().unwrap().logins[u].ends_with("[bot]") {
        return error(StatusCode::FORBIDDEN, "Resource not accessible by integration");
    }
    let body = shapes::private_user(&s.lock().unwrap(), u);
    answer(&s, &h, StatusCode::OK, body, None)
}

async fn repository(State(s): State<Shared>, Path((o, r)): Path<(String, String)>, h: HeaderMap) -> Response {
    signed_in!(s, h, false);
    let f = s.lock().unwrap().clone();
    if o != f.owner || r != f.repo {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let body = shapes::repository(&f);
    answer(&s, &h, StatusCode::OK, body, None)
}

async fn assignees(State(s): State<Shared>, uri: Uri, Query(q): Q, h: HeaderMap) -> Response {
    signed_in!(s, h, false);
    let f = s.lock().unwrap().clone();
    let list = (0..3).map(|u| f.user_json(u)).collect();
    page(&s, &h, &uri, &q, list)
}

async fn milestones(State(s): State<Shared>, uri: Uri, Query(q): Q, h: HeaderMap) -> Response {
    signed_in!(s, h, false);
    let f = s.lock().unwrap().clone();
    let list = f.milestones.iter().map(|(n, t)| shapes::milestone(&f, *n, t)).collect();
    page(&s, &h, &uri, &q, list)
}

async fn issue_types(State(s): State<Shared>, Path(org): Path<String>, h: HeaderMap) -> Response {
    signed_in!(s, h, false);
    let f = s.lock().unwrap().clone();
    if !f.org || org != f.owner {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let list: Vec<Value> = f.types.iter().enumerate().map(|(i, t)| shapes::issue_type(i, t)).collect();
    answer(&s, &h, StatusCode::OK, json!(list), None)
}

/// The App's JWT, checked: signed with its key, issued by it, not expired.
fn app_signed(s: &Shared, h: &HeaderMap) -> Result<(), Response> {
    s.lock().unwrap().calls += 1;
    let auth = h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let jwt = auth.strip_prefix("Bearer ").unwrap_or_default();
    let parts: Vec<&str> = jwt.split('.').collect();
    let refuse = || error(StatusCode::UNAUTHORIZED, "A JSON web token could not be decoded");
    let [head, claims, sig] = parts[..] else { return Err(refuse()) };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let pem = std::fs::read_to_string(APP_KEY).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
    let key = ring::signature::RsaKeyPair::from_der(&der).unwrap();
    let public =
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, key.public().as_ref());
    let signed = format!("{head}.{claims}");
    if public.verify(signed.as_bytes(), &b64.decode(sig).map_err(|_| refuse())?).is_err() {
        return Err(refuse());
    }
    let c: Value = serde_json::from_slice(&b64.decode(claims).map_err(|_| refuse())?).map_err(|_| refuse())?;
    let now = s.lock().unwrap().now() / 1000;
    let ok = c["iss"] == APP_ID
        && c["iat"].as_i64().is_some_and(|t| t <= now)
        && c["exp"].as_i64().is_some_and(|t| t > now && t - now <= 600);
    if !ok {
        return Err(error(StatusCode::UNAUTHORIZED, "'Expiration time' claim ('exp') is too far in the future"));
    }
    Ok(())
}

async fn installation(State(s): State<Shared>, h: HeaderMap) -> Response {
    if let Err(r) = app_signed(&s, &h) {
        return r;
    }
    let body = shapes::installation(&s.lock().unwrap());
    answer(&s, &h, StatusCode::OK, body, None)
}

async fn access_token(State(s): State<Shared>, Path(id): Path<u64>, h: HeaderMap) -> Response {
    if let Err(r) = app_signed(&s, &h) {
        return r;
    }
    if id != 31 {
        return error(StatusCode::NOT_FOUND, "Not Found");
    }
    let mut f = s.lock().unwrap();
    f.app_tokens += 1;
    let token = format!("ghs_installation{}", f.app_tokens);
    f.tokens.push((format!("Bearer {token}"), 3));
    let expires = Fake::time(f.now() + f.app_token_secs * 1000);
    drop(f);
    answer(&s, &h, StatusCode::CREATED, json!({"token": token, "expires_at": expires}), None)
}
