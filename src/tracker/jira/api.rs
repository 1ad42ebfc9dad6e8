//! Jira's REST API over HTTPS (rustls), with every answer sorted into the
//! engine's outcomes: refused (this change can't be applied), unavailable
//! (down, 5xx, a timeout, 429 or 503 — waiting as `Retry-After` or
//! `X-RateLimit-Reset` says, jittered — refused credentials) or failed.

use std::time::Duration;

use anyhow::Result;
use base64::Engine as _;
use serde_json::Value;

use super::settings::{JiraAuth, JiraSettings};
use crate::tracker::remote::http;
pub use crate::tracker::remote::http::encode;
pub(super) use crate::tracker::remote::http::short;
use crate::tracker::remote::rest::{self, WAIT_HERE};
pub use crate::tracker::remote::rest::{Answer, Rest};
use crate::tracker::{Refusal, TResult, TrackerError};

/// Waited when Jira throttles without saying how long.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

pub struct Api {
    pub(super) agent: ureq::Agent,
    base: String,
    auth: JiraAuth,
    throttled: std::sync::atomic::AtomicU64,
    /// Jira's clock at its last answer (its `Date`), ms; 0: not known.
    server_ms: std::sync::atomic::AtomicI64,
    /// How long an answer may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base).field("auth", &"<redacted>").finish()
    }
}

impl Api {
    pub fn new(s: &JiraSettings) -> Result<Self> {
        let timeout = Duration::from_secs(s.timeout_secs.max(1));
        let agent = http::agent(s.ca_file.as_deref(), timeout)?;
        Ok(Api {
            agent,
            timeout,
            base: s.base().to_string(),
            auth: s.auth.clone(),
            throttled: Default::default(),
            server_ms: Default::default(),
        })
    }

    /// The `Authorization` header, the secret read from its source now (a
    /// rotated token file needs no restart).
    pub(super) fn authorization(&self) -> TResult<String> {
        let fail = |e: anyhow::Error| TrackerError::Unavailable {
            reason: format!("the Jira credentials cannot be read: {e:#}"),
            retry_after: None,
        };
        Ok(match &self.auth {
            JiraAuth::Basic { user, secret } => {
                let secret = secret.resolve().map_err(fail)?;
                let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
                format!("Basic {pair}")
            }
            JiraAuth::Bearer { token } => format!("Bearer {}", token.resolve().map_err(fail)?),
        })
    }

    pub(super) fn url(&self, path: &str) -> String {
        rest::url(&self.base, path)
    }

    /// How often Jira throttled this backend since the last ask (each a
    /// wait as told).
    pub fn take_throttled(&self) -> u64 {
        self.throttled.swap(0, std::sync::atomic::Ordering::Relaxed)
    }

    fn exchange_once(&self, method: &str, path: &str, body: Option<&Value>) -> TResult<Answer> {
        crate::tracker::remote::count_call();
        let url = self.url(path);
        let auth = self.authorization()?;
        let auth = auth.as_str();
        let result = match (method, body) {
            ("GET", _) => {
                self.agent.get(&url).header("Authorization", auth).header("Accept", "application/json").call()
            }
            ("DELETE", _) => self.agent.delete(&url).header("Authorization", auth).call(),
            ("POST", Some(b)) => self.agent.post(&url).header("Authorization", auth).send_json(b),
            ("PUT", Some(b)) => self.agent.put(&url).header("Authorization", auth).send_json(b),
            _ => return Err(anyhow::anyhow!("{method} without a body").into()),
        };
        let mut resp = result.map_err(|e| unreachable(method, path, &e))?;
        if let Some(t) = rest::date_of(resp.headers()) {
            self.server_ms.store(t, std::sync::atomic::Ordering::Relaxed);
        }
        answer(method, path, &mut resp)
    }

    /// Jira's clock at its last answer, when it said (`Date`).
    pub fn server_now(&self) -> Option<i64> {
        Some(self.server_ms.load(std::sync::atomic::Ordering::Relaxed)).filter(|t| *t > 0)
    }
}

impl Rest for Api {
    /// A 429 or 503 is waited out here when short (Jira did not act).
    fn exchange(&self, method: &str, path: &str, body: Option<&Value>) -> TResult<Answer> {
        rest::waiting_out("Jira", WAIT_HERE, &self.throttled, || self.exchange_once(method, path, body))
    }

    fn ok(&self, a: Answer, method: &str, path: &str) -> TResult<Value> {
        ok(a, method, path)
    }
}

/// The server could not be reached.
pub(super) fn unreachable(method: &str, path: &str, e: &ureq::Error) -> TrackerError {
    http::unreachable(method, path, e, "--jira-ca-file")
}

/// How long Jira asked to be left alone: `Retry-After` (seconds), else
/// `X-RateLimit-Reset` (an ISO 8601 time), else a default; jittered up
/// to a fifth more, so that peers told the same do not come back at once.
fn wait_of(headers: &ureq::http::HeaderMap, now_ms: i64) -> Duration {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let told = header("retry-after").and_then(|v| v.parse::<u64>().ok()).map(Duration::from_secs).or_else(|| {
        let reset = chrono::DateTime::parse_from_rfc3339(header("x-ratelimit-reset")?).ok()?;
        Some(Duration::from_millis((reset.timestamp_millis() - now_ms).max(1000) as u64))
    });
    let base = told.unwrap_or(DEFAULT_WAIT);
    use rand::Rng;
    base.mul_f64(rand::thread_rng().gen_range(1.0..1.2))
}

/// Reads an answer's body (JSON if it parses) and sorts out statuses that
/// mean "try again later".
pub(super) fn answer(method: &str, path: &str, resp: &mut ureq::http::Response<ureq::Body>) -> TResult<Answer> {
    let status = resp.status().as_u16();
    let wait = matches!(status, 429 | 503).then(|| wait_of(resp.headers(), crate::clock::now_ms()));
    let body = crate::tracker::remote::http::read_body(resp, method, short(path))?;
    let path = short(path);
    let later = |why: String, retry_after| {
        Err(TrackerError::Unavailable { reason: format!("{method} {path}: {why}"), retry_after })
    };
    match status {
        401 => later(
            "the credentials were refused (401): check the sync user's e-mail and API token (Cloud) or \
             personal access token (Data Center)"
                .into(),
            None,
        ),
        429 => {
            later(format!("Jira throttles the sync user (429); waiting {}s", wait.unwrap_or_default().as_secs()), wait)
        }
        503 => later(format!("Jira is unavailable (503); waiting {}s", wait.unwrap_or_default().as_secs()), wait),
        500..=599 => later(format!("the server answered {status}: {}", errors_of(&body)), None),
        _ => Ok(Answer::new(status, body)),
    }
}

/// The permission a refused request most likely needed, in Jira's words.
pub fn permission_for(method: &str, path: &str) -> &'static str {
    let has = |part: &str| path.contains(part);
    match method {
        "PUT" if has("/comment/") => "EDIT_ALL_COMMENTS (to edit a comment a Jira user wrote)",
        "DELETE" if has("/comment/") => "DELETE_ALL_COMMENTS (to delete a comment a Jira user wrote)",
        "PUT" if has("/worklog/") => "EDIT_ALL_WORKLOGS (to edit a Jira user's worklog)",
        "DELETE" if has("/worklog/") => "DELETE_ALL_WORKLOGS (to delete a Jira user's worklog)",
        "DELETE" if has("/attachment/") => "DELETE_ALL_ATTACHMENTS (to delete a Jira user's attachment)",
        "POST" if has("/transitions") => "TRANSITION_ISSUES (to change an issue's status)",
        "POST" if has("/comment") => "ADD_COMMENTS (to comment)",
        "POST" if has("/worklog") => "WORK_ON_ISSUES (to log work)",
        "POST" if has("/attachments") => "CREATE_ATTACHMENTS (to attach files)",
        "POST" if path.ends_with("/issue") => "CREATE_ISSUES (to create issues)",
        "PUT" => "EDIT_ISSUES (to edit issues)",
        _ => "a permission",
    }
}

/// The body of a 2xx answer; a refusal for 400, 403, 404 and 409.
pub(super) fn ok(a: Answer, method: &str, path: &str) -> TResult<Value> {
    let path = short(path);
    match a.status {
        200..=299 => Ok(a.body),
        400 | 409 | 413 | 415 => {
            Err(Refusal::Invalid(format!("Jira refused the change ({}): {}", a.status, errors_of(&a.body))).into())
        }
        403 => Err(Refusal::Invalid(format!(
            "Jira refused {method} {path} (403 Forbidden): the sync user lacks {} in the project's permission \
             scheme: {}",
            permission_for(method, path),
            errors_of(&a.body)
        ))
        .into()),
        404 => Err(Refusal::Invalid(format!("{method} {path}: not found in Jira (404)")).into()),
        // Any other refusal (a proxy's 413, a 422) is this change's: its
        // issue waits, the others go on.
        s @ 400..=499 => Err(Refusal::Invalid(format!(
            "Jira (or a proxy before it) refused {method} {path} ({s}): {}",
            errors_of(&a.body)
        ))
        .into()),
        s => Err(anyhow::anyhow!("{method} {path}: unexpected answer {s} from Jira: {}", errors_of(&a.body)).into()),
    }
}

/// Jira's `{"errorMessages": [...], "errors": {field: message}}` as one line.
pub fn errors_of(body: &Value) -> String {
    let mut parts: Vec<String> =
        body["errorMessages"].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect();
    if let Some(map) = body["errors"].as_object() {
        parts.extend(map.iter().map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or_default())));
    }
    crate::tracker::remote::http::one_line(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_waits_as_told_with_jitter() {
        let mut h = ureq::http::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        let w = wait_of(&h, 0);
        assert!(w >= Duration::from_secs(7) && w < Duration::from_millis(8400), "{w:?}");
        let mut h = ureq::http::HeaderMap::new();
        h.insert("x-ratelimit-reset", "2026-12-04T10:00:20Z".parse().unwrap());
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z").unwrap().timestamp_millis();
        let w = wait_of(&h, now);
        assert!(w >= Duration::from_secs(20) && w < Duration::from_secs(24), "{w:?}");
        assert!(wait_of(&ureq::http::HeaderMap::new(), now) >= DEFAULT_WAIT);
    }

    #[test]
    fn jira_errors_read_as_one_line() {
        let body = serde_json::json!({"errorMessages": ["Issue does not exist"], "errors": {"summary": "required"}});
        assert_eq!(errors_of(&body), "Issue does not exist; summary: required");
        assert_eq!(errors_of(&Value::Null), "no reason given");
    }
}
