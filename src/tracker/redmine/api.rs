//! Redmine's REST API over HTTPS (rustls; no system OpenSSL), with every
//! answer sorted into the engine's outcomes: refused (this change can't be
//! applied), unavailable (down, 5xx, a timeout, 429, a refused key: try
//! again later) or failed.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::Value;

use super::settings::RedmineSettings;
pub use crate::tracker::remote::http::encode;
use crate::tracker::remote::http::{self, short};
use crate::tracker::remote::rest::{self, Answer, Rest};
use crate::tracker::{Content, NewAttachment, Refusal, TResult, TrackerError};

/// The longest an attachment's upload or download may take.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(3600);
/// The largest attachment read back (Redmine's own limit is lower).
pub const MAX_DOWNLOAD: u64 = crate::tracker::attachments::MAX_ATTACHMENT_BYTES;

pub struct Api {
    agent: ureq::Agent,
    base: String,
    /// Where the key comes from, and the key as last read (a key file is
    /// read again when it changes: a key reset needs no restart).
    source: crate::secret::Password,
    key: std::sync::Mutex<(String, Option<std::time::SystemTime>)>,
    /// Redmine's clock minus ours at its last answer with a `Date`, ms.
    skew: std::sync::Mutex<Option<i64>>,
    /// How long an answer may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base).field("key", &"<redacted>").finish()
    }
}

impl Api {
    pub fn new(s: &RedmineSettings) -> Result<Self> {
        let key = s.api_key.resolve().context("the Redmine API key")?;
        let stamp = key_stamp(&s.api_key);
        let timeout = Duration::from_secs(s.timeout_secs.max(1));
        let agent = http::agent(s.ca_file.as_deref(), timeout)?;
        Ok(Api {
            agent,
            timeout,
            base: s.base().to_string(),
            source: s.api_key.clone(),
            key: std::sync::Mutex::new((key, stamp)),
            skew: std::sync::Mutex::new(None),
        })
    }

    /// The key, read again from its file if the file changed.
    fn key(&self) -> String {
        let mut k = self.key.lock().expect("lock");
        let stamp = key_stamp(&self.source);
        if stamp != k.1 {
            if let Ok(fresh) = self.source.resolve() {
                *k = (fresh, stamp);
            }
        }
        k.0.clone()
    }

    fn url(&self, path: &str) -> String {
        rest::url(&self.base, path)
    }

    /// How far Redmine's clock is ahead of ours (negative: behind), as
    /// its last answer's `Date` said, to within a second.
    pub fn skew(&self) -> Option<i64> {
        *self.skew.lock().expect("lock")
    }

    /// GET returning JSON and the server's time of the answer.
    pub fn get_dated(&self, path: &str) -> TResult<(Value, Option<i64>)> {
        let a = self.exchange("GET", path, None)?;
        let date = a.date;
        ok(a, "GET", path).map(|v| (v, date))
    }

    /// Uploads a file as a stream; returns the token that attaches it to an
    /// issue.
    pub fn upload(&self, file: &NewAttachment<'_>) -> TResult<String> {
        crate::tracker::remote::count_call();
        let path = format!("/uploads.json?filename={}", encode(file.filename));
        let url = self.url(&path);
        let request = self
            .agent
            .post(&url)
            .header("X-Redmine-API-Key", self.key().as_str())
            .header("Content-Type", "application/octet-stream")
            .config()
            .timeout_global(Some(TRANSFER_TIMEOUT))
            .build();
        let sent = match file.content {
            Content::Bytes(data) => request.send(data),
            Content::File { path, .. } => {
                let f = std::fs::File::open(path)
                    .map_err(|e| anyhow::anyhow!("cannot read the attachment {}: {e}", file.filename))?;
                request.send(f)
            }
        };
        let mut resp = sent.map_err(|e| unreachable("POST", "/uploads.json", &e))?;
        let a = answer("POST", "/uploads.json", &mut resp)?;
        if a.status == 422 {
            return Err(Refusal::Invalid(format!(
                "Redmine refused the attachment {} ({} bytes): {} (its size limit is a Redmine \
                 setting: Administration › Settings › Files)",
                file.filename,
                file.size(),
                errors_of(&a.body)
            ))
            .into());
        }
        let v = ok(a, "POST", "/uploads.json")?;
        v["upload"]["token"].as_str().map(str::to_string).ok_or_else(|| bad_answer("POST", "/uploads.json", &v))
    }

    /// Streams an attachment's content into `out`; `None` if it is gone.
    pub fn download(&self, url: &str, out: &mut dyn std::io::Write) -> TResult<Option<u64>> {
        crate::tracker::remote::count_call();
        let mut resp = self
            .agent
            .get(self.url(url))
            .header("X-Redmine-API-Key", self.key().as_str())
            .config()
            .timeout_global(Some(TRANSFER_TIMEOUT))
            .build()
            .call()
            .map_err(|e| unreachable("GET", "an attachment", &e))?;
        let status = resp.status().as_u16();
        if status == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            let a = answer("GET", "an attachment", &mut resp)?;
            return ok(a, "GET", "an attachment").map(|_| None);
        }
        let mut body = resp.body_mut().with_config().limit(MAX_DOWNLOAD).reader();
        let n = std::io::copy(&mut body, out).map_err(|e| TrackerError::Unavailable {
            reason: format!("GET an attachment: the download broke off: {e}"),
            retry_after: None,
        })?;
        Ok(Some(n))
    }
}

impl Rest for Api {
    /// Sends a request; any status comes back as an [`Answer`], a failure
    /// to reach the server as unavailable.
    fn exchange(&self, method: &str, path: &str, body: Option<&Value>) -> TResult<Answer> {
        crate::tracker::remote::count_call();
        let url = self.url(path);
        let key = self.key();
        let key = key.as_str();
        let result = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("X-Redmine-API-Key", key).call(),
            ("DELETE", _) => self.agent.delete(&url).header("X-Redmine-API-Key", key).call(),
            ("POST", Some(b)) => self.agent.post(&url).header("X-Redmine-API-Key", key).send_json(b),
            ("PUT", Some(b)) => self.agent.put(&url).header("X-Redmine-API-Key", key).send_json(b),
            _ => return Err(anyhow::anyhow!("{method} without a body").into()),
        };
        let mut resp = result.map_err(|e| unreachable(method, path, &e))?;
        let a = answer(method, path, &mut resp)?;
        if let Some(date) = a.date {
            // `Date` has whole seconds: Redmine may be up to one ahead.
            *self.skew.lock().expect("lock") = Some(date - crate::clock::now_ms());
        }
        Ok(a)
    }

    fn ok(&self, a: Answer, method: &str, path: &str) -> TResult<Value> {
        ok(a, method, path)
    }
}

/// When a key file (or credential) last changed (`None` for other sources).
fn key_stamp(source: &crate::secret::Password) -> Option<std::time::SystemTime> {
    source.file().and_then(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
}

/// The server could not be reached.
fn unreachable(method: &str, path: &str, e: &ureq::Error) -> TrackerError {
    http::unreachable(method, path, e, "--redmine-ca-file")
}

/// Reads an answer's body (JSON if it parses) and sorts out statuses that
/// mean "try again later".
fn answer(method: &str, path: &str, resp: &mut ureq::http::Response<ureq::Body>) -> TResult<Answer> {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let date = rest::date_of(resp.headers());
    let body = crate::tracker::remote::http::read_body(resp, method, short(path))?;
    let path = short(path);
    let later = |why: String| Err(TrackerError::Unavailable { reason: format!("{method} {path}: {why}"), retry_after });
    match status {
        401 => later(
            "the API key was refused (401): check the sync user's key, and that Administration › \
                      Settings › API › \"Enable REST web service\" is on"
                .into(),
        ),
        429 => later("too many requests (429)".into()),
        500..=599 => later(format!("the server answered {status}")),
        // Redmine's optimistic locking: someone saved the issue meanwhile.
        409 => later("the issue was saved by someone else meanwhile (409)".into()),
        422 if errors_of(&body).contains("updated by another user") => {
            later("the issue was saved by someone else meanwhile".into())
        }
        _ => Ok(Answer { status, body, date, next: None }),
    }
}

/// The body of a 2xx answer; a refusal for 403, 404 and 422.
fn ok(a: Answer, method: &str, path: &str) -> TResult<Value> {
    let path = short(path);
    match a.status {
        200..=299 => Ok(a.body),
        403 => Err(Refusal::Invalid(format!(
            "Redmine refused {method} {path} (403 Forbidden): the sync user lacks a permission in the project"
        ))
        .into()),
        404 => Err(Refusal::Invalid(format!("{method} {path}: not found in Redmine (404)")).into()),
        422 => Err(Refusal::Invalid(format!("Redmine refused the change: {}", errors_of(&a.body))).into()),
        // Any other refusal (a proxy's 413, a 400) is this change's: its
        // issue waits, the others go on.
        s @ 400..=499 => Err(Refusal::Invalid(format!(
            "Redmine (or a proxy before it) refused {method} {path} ({s}): {}",
            errors_of(&a.body)
        ))
        .into()),
        s => Err(anyhow::anyhow!("{method} {path}: unexpected answer {s} from Redmine").into()),
    }
}

fn bad_answer(method: &str, path: &str, v: &Value) -> TrackerError {
    let shown: String = v.to_string().chars().take(200).collect();
    anyhow::anyhow!("{method} {path}: Redmine's answer is not what its API documents: {shown}").into()
}

/// Redmine's `{"errors": [...]}` as one line.
pub fn errors_of(body: &Value) -> String {
    match body["errors"].as_array() {
        Some(list) => list.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "),
        None => "no reason given".into(),
    }
}
