//! Who may read and who may act.
//!
//! - Bound to loopback, the console is readable without a token, but only
//!   under a loopback host name (`Host: 127.0.0.1`, `localhost`, `[::1]`):
//!   a page of another site that renames itself to 127.0.0.1 (DNS
//!   rebinding) is refused.
//! - Any other address needs the token even for reading (but `/health`).
//! - Actions need `--http-admin` and the token: as `Authorization: Bearer
//!   …` (scripts), or through `/login`, which gives an HttpOnly,
//!   SameSite=Strict session cookie; every form then carries the
//!   session's CSRF token, and a POST without it is refused.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::html::{esc, layout, Account};
use super::Shared;

const COOKIE: &str = "postern_session";
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
const MAX_SESSIONS: usize = 256;

/// The admin token. Never printed by `Debug`.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// A new random token (to be shown to the admin once).
    pub fn generate() -> Self {
        Token(random_hex(24))
    }

    /// The token in `path` (its first line), at least 16 characters.
    pub fn from_file(path: &std::path::Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the console token file {}: {e}", path.display()))?;
        let token = text.lines().next().unwrap_or("").trim().to_string();
        if token.len() < 16 {
            anyhow::bail!(
                "the console token in {} is too short ({} characters; at least 16, e.g. from `openssl rand -hex 24`)",
                path.display(),
                token.len()
            );
        }
        Ok(Token(token))
    }

    pub fn reveal(&self) -> &str {
        &self.0
    }

    fn matches(&self, given: &str) -> bool {
        same(&self.0, given)
    }
}

/// Compares digests, so the time taken tells nothing of the secret.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

struct Session {
    csrf: String,
    made: Instant,
    /// The outcome of the last action, shown once.
    flash: Option<String>,
}

#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    fn open(&self) -> String {
        let mut all = self.0.lock().unwrap();
        all.retain(|_, s| s.made.elapsed() < SESSION_LIFETIME);
        if all.len() >= MAX_SESSIONS {
            if let Some(oldest) = all.iter().min_by_key(|(_, s)| s.made).map(|(k, _)| k.clone()) {
                all.remove(&oldest);
            }
        }
        let id = random_hex(24);
        all.insert(id.clone(), Session { csrf: random_hex(16), made: Instant::now(), flash: None });
        id
    }

    pub fn set_flash(&self, id: &str, line: String) {
        if let Some(s) = self.0.lock().unwrap().get_mut(id) {
            s.flash = Some(line);
        }
    }
}

/// Who is asking: found by [`guard`] for every request.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    /// The session (logged in with the token).
    pub session: Option<String>,
    /// The session's CSRF token, for forms.
    pub csrf: Option<String>,
    /// Gave the token as a Bearer header.
    pub bearer: bool,
    /// May act (`--http-admin` and the token given).
    pub admin: bool,
    /// The last action's outcome, shown once.
    pub flash: Option<String>,
    /// The console has a token one can log in with.
    pub can_log_in: bool,
}

impl Viewer {
    /// What the page's header offers this viewer.
    pub fn account(&self) -> Account<'_> {
        match (&self.session, &self.csrf) {
            (Some(_), csrf) => Account::LogOut { csrf: csrf.as_deref().unwrap_or("") },
            (None, _) if self.can_log_in => Account::LogIn,
            (None, _) => Account::Nothing,
        }
    }
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE).then_some(v)
    })
}

fn host_is_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn open_path(path: &str) -> bool {
    path == "/health" || path == "/login" || path.starts_with("/static/")
}

/// Checks the host, finds the viewer, refuses readers without the token
/// where one is needed, and sets the headers every answer carries.
pub async fn guard(State(c): State<Shared>, mut req: Request, next: Next) -> Response {
    let loopback = c.opts.addr.ip().is_loopback();
    if loopback && !host_is_loopback(req.headers()) {
        return (StatusCode::MISDIRECTED_REQUEST, "this console answers only to a loopback host name\n")
            .into_response();
    }
    let mut viewer = Viewer { can_log_in: c.opts.token.is_some(), ..Viewer::default() };
    if let Some(token) = &c.opts.token {
        let bearer = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if let Some(given) = bearer.and_then(|b| b.strip_prefix("Bearer ")) {
            if !token.matches(given.trim()) {
                return (StatusCode::UNAUTHORIZED, "wrong token\n").into_response();
            }
            viewer.bearer = true;
        } else if let Some(id) = cookie(req.headers()) {
            let mut all = c.sessions.0.lock().unwrap();
            if let Some(s) = all.get_mut(id).filter(|s| s.made.elapsed() < SESSION_LIFETIME) {
                viewer.session = Some(id.to_string());
                viewer.csrf = Some(s.csrf.clone());
                viewer.flash = s.flash.take();
            }
        }
    }
    let known = viewer.bearer || viewer.session.is_some();
    viewer.admin = c.opts.admin && known;
    if !loopback && !known && !open_path(req.uri().path()) {
        let path = req.uri().path();
        if path.starts_with("/api/") || path == "/metrics" || req.method() != axum::http::Method::GET {
            let mut r =
                (StatusCode::UNAUTHORIZED, "this console needs its token (Authorization: Bearer …)\n").into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return with_headers(r);
        }
        let next_path = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_string();
        return with_headers(Redirect::to(&format!("/login?next={}", percent(&next_path))).into_response());
    }
    req.extensions_mut().insert(viewer);
    with_headers(next.run(req).await)
}

fn with_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Percent-encodes everything but unreserved characters and `/`.
pub fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only a path of this console: no other site, no `//host`.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(State(c): State<Shared>, Query(q): Query<NextQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    if c.opts.token.is_none() {
        let body = "<p>This console was started read-only on loopback: there is nothing to log in to. Start the \
                    daemon with <code>--http-admin</code> for actions.</p>";
        return layout("Log in", body, Account::Nothing).into_response();
    }
    let body = format!(
        "<form class=\"login\" method=\"post\" action=\"/login\">\
         <p>The console's token: printed once when the daemon started, or in the file given with \
         <code>--http-token-file</code>.</p>\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\
         <label>Token <input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"off\" required></label> \
         <button type=\"submit\" id=\"login\">Log in</button></form>",
        esc(next)
    );
    layout("Log in", &body, Account::Nothing).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

/// Failed logins wait, one at a time: guessing the token takes forever.
static LOGIN_FAILURES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn login(State(c): State<Shared>, Form(f): Form<LoginForm>) -> Response {
    let Some(token) = &c.opts.token else {
        return (StatusCode::NOT_FOUND, "no login on this console\n").into_response();
    };
    if !token.matches(f.token.trim()) {
        let _one = LOGIN_FAILURES.lock().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        tracing::warn!("console: a login with a wrong token");
        let body = "<p class=\"flash bad\">Wrong token.</p><p><a href=\"/login\">Try again</a></p>";
        return (StatusCode::UNAUTHORIZED, layout("Log in", body, Account::Nothing)).into_response();
    }
    let id = c.sessions.open();
    let mut r = Redirect::to(safe_next(f.next.as_deref())).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"))
            .expect("hex is a valid header value"),
    );
    r
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

pub async fn logout(
    State(c): State<Shared>,
    axum::Extension(v): axum::Extension<Viewer>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some(r) = v.csrf_refusal(f.csrf.as_deref()) {
        return r;
    }
    if let Some(id) = &v.session {
        c.sessions.0.lock().unwrap().remove(id);
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("postern_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

impl Viewer {
    /// Why a form may not act (`None`: it may): its CSRF token must be the session's (Bearer callers send no
    /// cookie, so need none).
    pub fn csrf_refusal(&self, given: Option<&str>) -> Option<Response> {
        if self.bearer {
            return None;
        }
        match (&self.csrf, given) {
            (Some(want), Some(given)) if same(want, given) => None,
            (None, _) => Some((StatusCode::UNAUTHORIZED, "log in first (/login)\n").into_response()),
            _ => Some(
                (StatusCode::FORBIDDEN, "the form's CSRF token is missing or wrong: reload the page\n").into_response(),
            ),
        }
    }
}
