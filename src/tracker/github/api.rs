//! GitHub's REST API over HTTPS (rustls), with every answer sorted into the
//! engine's outcomes, and GitHub's limits respected: reads are conditional
//! (`If-None-Match` with the `ETag` of the last answer: a 304 costs no
//! rate limit), lists are followed by their `Link` header, and a primary
//! limit (`x-ratelimit-remaining: 0` until `x-ratelimit-reset`) or a
//! secondary one (`retry-after`) is waited out as told.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Result;
use serde_json::Value;

use super::answer::message_of;
use super::app::Installation;
use super::settings::{GitHubAuth, GitHubSettings};
use crate::tracker::remote::http::{self, short};
use crate::tracker::remote::rest::{self, WAIT_HERE};
pub use crate::tracker::remote::rest::{Answer, Rest};
use crate::tracker::{Refusal, TResult, TrackerError};

/// Waited when GitHub limits without saying how long (its documentation:
/// at least a minute).
const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// A list's page size (GitHub's largest).
pub const PER_PAGE: u32 = 100;

/// The last answer to a GET: its `ETag`, body and next page.
type Cached = (String, Value, Option<String>);

pub struct Api {
    agent: ureq::Agent,
    base: String,
    auth: GitHubAuth,
    installation: Installation,
    /// The last answer to each GET: its `ETag`, body and next page.
    cached: Mutex<HashMap<String, Cached>>,
    throttled: AtomicU64,
    /// Calls answered 304 (no rate limit used), and all calls.
    pub not_modified: AtomicU64,
    pub calls: AtomicU64,
    /// `x-ratelimit-remaining` of the last answer (-1: not said).
    pub remaining: AtomicI64,
    /// GitHub's clock at its last answer (`Date`), ms; 0: not known.
    server_ms: AtomicI64,
    pub timeout: Duration,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base).field("auth", &"<redacted>").finish()
    }
}

impl Api {
    pub fn new(s: &GitHubSettings) -> Result<Self> {
        let timeout = Duration::from_secs(s.timeout_secs.max(1));
        Ok(Api {
            agent: http::agent(s.ca_file.as_deref(), timeout)?,
            base: s.base().to_string(),
            auth: s.auth.clone(),
            installation: Installation::new(&s.repo),
            cached: Default::default(),
            throttled: Default::default(),
            not_modified: Default::default(),
            calls: Default::default(),
            remaining: AtomicI64::new(-1),
            server_ms: Default::default(),
            timeout,
        })
    }

    /// The `Authorization` header, the secret read from its source now (a
    /// rotated token file needs no restart; an App's token is renewed
    /// before it expires).
    fn authorization(&self) -> TResult<String> {
        match &self.auth {
            GitHubAuth::Token { token } => {
                let t = token.resolve().map_err(|e| TrackerError::Unavailable {
                    reason: format!("the GitHub token cannot be read: {e:#}"),
                    retry_after: None,
                })?;
                Ok(format!("Bearer {}", t.trim()))
            }
            GitHubAuth::App { app_id, key } => {
                let token = self.installation.token(app_id, key, |method, path, jwt| {
                    self.exchange_as(method, path, Some(&Value::Null), &format!("Bearer {jwt}"))
                })?;
                Ok(format!("Bearer {token}"))
            }
        }
    }

    fn url(&self, path: &str) -> String {
        rest::url(&self.base, path)
    }

    fn exchange_as(&self, method: &str, path: &str, body: Option<&Value>, auth: &str) -> TResult<Answer> {
        crate::tracker::remote::count_call();
        self.calls.fetch_add(1, Ordering::Relaxed);
        let url = self.url(path);
        let etag = match method {
            "GET" => self.cached.lock().expect("lock").get(&url).map(|(e, _, _)| e.clone()),
            _ => None,
        };
        macro_rules! with {
            ($r:expr) => {
                $r.header("Authorization", auth)
                    .header("Accept", "application/vnd.github+json")
                    .header("X-GitHub-Api-Version", "2022-11-28")
            };
        }
        let result = match (method, body) {
            ("GET", _) => {
                let mut r = with!(self.agent.get(&url));
                if let Some(e) = &etag {
                    r = r.header("If-None-Match", e);
                }
                r.call()
            }
            ("DELETE", _) => with!(self.agent.delete(&url)).call(),
            ("POST", Some(Value::Null)) => with!(self.agent.post(&url)).send_empty(),
            ("POST", Some(b)) => with!(self.agent.post(&url)).send_json(b),
            ("PATCH", Some(b)) => with!(self.agent.patch(&url)).send_json(b),
            ("PUT", Some(b)) => with!(self.agent.put(&url)).send_json(b),
            _ => return Err(anyhow::anyhow!("{method} without a body").into()),
        };
        let mut resp = result.map_err(|e| http::unreachable(method, path, &e, "--github-ca-file"))?;
        let h = resp.headers();
        let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        if let Some(t) = rest::date_of(h) {
            self.server_ms.store(t, Ordering::Relaxed);
        }
        if let Some(n) = header("x-ratelimit-remaining").and_then(|v| v.parse().ok()) {
            self.remaining.store(n, Ordering::Relaxed);
        }
        let next = header("link").and_then(|l| next_link(&l));
        let new_etag = header("etag");
        let status = resp.status().as_u16();
        if status == 304 {
            self.not_modified.fetch_add(1, Ordering::Relaxed);
            if let Some((_, body, next)) = self.cached.lock().expect("lock").get(&url) {
                return Ok(Answer { status: 200, body: body.clone(), date: None, next: next.clone() });
            }
        }
        let wait = limit_wait(resp.headers(), status, self.server_now().unwrap_or_else(crate::clock::now_ms));
        let body = http::read_body(&mut resp, method, short(path))?;
        if let Some(wait) = wait {
            return Err(TrackerError::Unavailable {
                reason: format!(
                    "{method} {}: GitHub limits the sync user ({status}); waiting {}s",
                    short(path),
                    wait.as_secs()
                ),
                retry_after: Some(wait),
            });
        }
        match status {
            401 => Err(TrackerError::Unavailable {
                reason: format!(
                    "{method} {}: the credentials were refused (401): check the sync user's token (or the App's id \
                     and key); {}",
                    short(path),
                    message_of(&body)
                ),
                retry_after: None,
            }),
            500..=599 => Err(TrackerError::Unavailable {
                reason: format!("{method} {}: the server answered {status}: {}", short(path), message_of(&body)),
                retry_after: None,
            }),
            _ => {
                if let (200, "GET", Some(e)) = (status, method, new_etag) {
                    self.cached.lock().expect("lock").insert(url, (e, body.clone(), next.clone()));
                }
                Ok(Answer { status, body, date: None, next })
            }
        }
    }

    /// The App's login (`slug[bot]`), the App signed in.
    pub fn app_login(&self) -> Option<String> {
        self.authorization().ok()?;
        self.installation.login.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// GitHub's clock at its last answer, when it said (`Date`).
    pub fn server_now(&self) -> Option<i64> {
        Some(self.server_ms.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }

    /// How often GitHub limited this backend since the last ask.
    pub fn take_throttled(&self) -> u64 {
        self.throttled.swap(0, Ordering::Relaxed)
    }

    /// Every page of a list, following `Link: rel="next"`.
    pub fn get_all(&self, path: &str) -> TResult<Vec<Value>> {
        let mut out = Vec::new();
        let mut next = Some(path.to_string());
        while let Some(p) = next {
            let a = self.exchange("GET", &p, None)?;
            next = a.next.clone();
            match ok(a, "GET", &p)? {
                Value::Array(items) => out.extend(items),
                other => {
                    return Err(TrackerError::Unavailable {
                        reason: format!("GET {}: the answer is not a list: {}", short(&p), kind_of(&other)),
                        retry_after: None,
                    })
                }
            }
        }
        Ok(out)
    }
}

impl Rest for Api {
    /// A short limit is waited out here (GitHub did not act on the call).
    fn exchange(&self, method: &str, path: &str, body: Option<&Value>) -> TResult<Answer> {
        rest::waiting_out("GitHub", WAIT_HERE, &self.throttled, || {
            let auth = self.authorization()?;
            self.exchange_as(method, path, body, &auth)
        })
    }

    fn ok(&self, a: Answer, method: &str, path: &str) -> TResult<Value> {
        ok(a, method, path)
    }

    fn gone(&self, status: u16) -> bool {
        status == 404 || status == 410
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Object(_) => "an object",
        _ => "a value",
    }
}

/// The `rel="next"` of a `Link` header.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.trim().split_once(';')?;
        params.contains("rel=\"next\"").then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

/// How long GitHub asked to be left alone, if it did: a 429, or a 403
/// that is a limit (`retry-after` for a secondary limit, or no calls
/// `x-ratelimit-remaining` until `x-ratelimit-reset`, epoch seconds);
/// jittered up to a fifth more.
fn limit_wait(h: &ureq::http::HeaderMap, status: u16, now_ms: i64) -> Option<Duration> {
    let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    let retry = header("retry-after").and_then(|v| v.parse::<u64>().ok()).map(Duration::from_secs);
    let exhausted = header("x-ratelimit-remaining") == Some("0");
    let reset = header("x-ratelimit-reset")
        .and_then(|v| v.parse::<i64>().ok())
        .map(|t| Duration::from_millis((t * 1000 - now_ms).max(1000) as u64));
    let base = match status {
        429 => retry.or(reset).unwrap_or(DEFAULT_WAIT),
        403 if retry.is_some() => retry?,
        403 if exhausted => reset.unwrap_or(DEFAULT_WAIT),
        _ => return None,
    };
    use rand::Rng;
    Some(base.mul_f64(rand::thread_rng().gen_range(1.0..1.2)))
}

/// The permission a refused request most likely needed, in GitHub's words
/// (a fine-grained token's "Repository permissions").
pub fn permission_for(method: &str) -> &'static str {
    match method {
        "GET" => "Issues: Read and Metadata: Read",
        _ => "Issues: Read and write",
    }
}

/// The body of a 2xx answer; a refusal for any 4xx.
pub(super) fn ok(a: Answer, method: &str, path: &str) -> TResult<Value> {
    let path = short(path);
    match a.status {
        200..=299 => Ok(a.body),
        403 => Err(Refusal::Invalid(format!(
            "GitHub refused {method} {path} (403 Forbidden): the sync user's token lacks {} on the repository: {}",
            permission_for(method),
            message_of(&a.body)
        ))
        .into()),
        404 => Err(Refusal::Invalid(format!("{method} {path}: not found on GitHub (404)")).into()),
        410 => Err(Refusal::Invalid(format!("{method} {path}: gone on GitHub (410): {}", message_of(&a.body))).into()),
        s @ 400..=499 => {
            Err(Refusal::Invalid(format!("GitHub refused {method} {path} ({s}): {}", message_of(&a.body))).into())
        }
        s => Err(anyhow::anyhow!("{method} {path}: unexpected answer {s} from GitHub: {}", message_of(&a.body)).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_next_link() {
        let link = "<https://api.github.com/repositories/1/issues?page=2>; rel=\"next\", \
                    <https://api.github.com/repositories/1/issues?page=5>; rel=\"last\"";
        assert_eq!(next_link(link).as_deref(), Some("https://api.github.com/repositories/1/issues?page=2"));
        assert_eq!(next_link("<https://x/?page=1>; rel=\"prev\""), None);
    }

    #[test]
    fn limits_are_waited_as_told_and_other_refusals_are_not_limits() {
        let mut h = ureq::http::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        let w = limit_wait(&h, 403, 0).unwrap();
        assert!(w >= Duration::from_secs(7) && w < Duration::from_millis(8400), "{w:?}");
        let mut h = ureq::http::HeaderMap::new();
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        h.insert("x-ratelimit-reset", "1020".parse().unwrap());
        let w = limit_wait(&h, 403, 1_000_000).unwrap();
        assert!(w >= Duration::from_secs(20) && w < Duration::from_secs(24), "{w:?}");
        let mut h = ureq::http::HeaderMap::new();
        h.insert("x-ratelimit-remaining", "4999".parse().unwrap());
        assert_eq!(limit_wait(&h, 403, 0), None, "a 403 with calls left is a refusal");
        assert!(limit_wait(&ureq::http::HeaderMap::new(), 429, 0).unwrap() >= DEFAULT_WAIT);
    }
}
