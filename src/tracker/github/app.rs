//! Signing in as a GitHub App: a JSON Web Token (RS256, signed with the
//! App's private key, valid ten minutes) finds the App's installation on
//! the repository and makes an installation token (valid an hour), which
//! postern renews five minutes before it expires.

use std::sync::Mutex;

use base64::Engine as _;
use serde_json::{json, Value};

use super::answer::message_of;
use crate::secret::Password;
use crate::tracker::remote::rest::Answer;
use crate::tracker::{TResult, TrackerError};

/// Renewed this long before it expires (ms).
const RENEW_BEFORE_MS: i64 = 5 * 60 * 1000;

/// The installation token of an App on one repository.
pub struct Installation {
    repo: String,
    /// The token and when it expires (ms).
    token: Mutex<Option<(String, i64)>>,
    /// The App's login (`slug[bot]`), once an installation was found.
    pub login: Mutex<Option<String>>,
}

fn unavailable(reason: String) -> TrackerError {
    TrackerError::Unavailable { reason, retry_after: None }
}

impl Installation {
    pub fn new(repo: &str) -> Self {
        Installation { repo: repo.to_string(), token: Mutex::new(None), login: Mutex::new(None) }
    }

    /// A token valid for five minutes at least; `call(method, path, jwt)`
    /// asks GitHub as the App.
    pub fn token(
        &self,
        app_id: &str,
        key: &Password,
        call: impl Fn(&str, &str, &str) -> TResult<Answer>,
    ) -> TResult<String> {
        let now = crate::clock::now_ms();
        let mut held = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((t, until)) = held.as_ref().filter(|(_, until)| *until - RENEW_BEFORE_MS > now) {
            tracing::trace!(expires_in_s = (until - now) / 1000, "GitHub App token held");
            return Ok(t.clone());
        }
        let pem =
            key.resolve().map_err(|e| unavailable(format!("the GitHub App's private key cannot be read: {e:#}")))?;
        let jwt =
            jwt(app_id, &pem, now / 1000).map_err(|e| unavailable(format!("the GitHub App's private key: {e}")))?;
        let path = format!("/repos/{}/installation", self.repo);
        let a = call("GET", &path, &jwt).map_err(|e| match e {
            TrackerError::Unavailable { reason, .. } if reason.contains("(401)") => unavailable(format!(
                "GitHub did not take the App {app_id}'s token: check its id and private key ({reason})"
            )),
            other => other,
        })?;
        let id = match a.status {
            200 => {
                if let Some(slug) = a.body["app_slug"].as_str() {
                    *self.login.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{slug}[bot]"));
                }
                a.body["id"].as_u64().unwrap_or_default()
            }
            404 => {
                return Err(unavailable(format!(
                    "the GitHub App {app_id} is not installed on {}: install it there (Settings → GitHub Apps)",
                    self.repo
                )))
            }
            s => {
                return Err(unavailable(format!(
                    "GitHub did not take the App {app_id}'s token ({s}): check its id and private key; {}",
                    message_of(&a.body)
                )))
            }
        };
        let a = call("POST", &format!("/app/installations/{id}/access_tokens"), &jwt)?;
        let (Some(token), Some(until)) = (a.body["token"].as_str(), a.body["expires_at"].as_str()) else {
            return Err(unavailable(format!(
                "GitHub made no installation token for the App {app_id} ({}): {}",
                a.status,
                message_of(&a.body)
            )));
        };
        let until =
            chrono::DateTime::parse_from_rfc3339(until).map(|t| t.timestamp_millis()).unwrap_or(now + 3_600_000);
        tracing::debug!(installation = id, expires_in_s = (until - now) / 1000, "GitHub App token made");
        *held = Some((token.to_string(), until));
        Ok(token.to_string())
    }
}

/// The App's JSON Web Token at `now` (seconds): issued a minute back (a
/// clock a little ahead of GitHub's), valid nine minutes more.
pub fn jwt(app_id: &str, pem: &str, now: i64) -> Result<String, String> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let header = b64(json!({"alg": "RS256", "typ": "JWT"}).to_string().as_bytes());
    let claims: Value = json!({"iat": now - 60, "exp": now + 540, "iss": app_id});
    let signing = format!("{header}.{}", b64(claims.to_string().as_bytes()));
    let key = key_pair(pem)?;
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signing.as_bytes(), &mut sig)
        .map_err(|_| "it cannot sign".to_string())?;
    Ok(format!("{signing}.{}", b64(&sig)))
}

/// An RSA key from PEM: PKCS#1 (`BEGIN RSA PRIVATE KEY`, as GitHub gives
/// it) or PKCS#8 (`BEGIN PRIVATE KEY`).
fn key_pair(pem: &str) -> Result<ring::signature::RsaKeyPair, String> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "it is not PEM (the .pem file GitHub gave when the key was made)".to_string())?;
    let parsed = if pem.contains("BEGIN RSA PRIVATE KEY") {
        ring::signature::RsaKeyPair::from_der(&der).map_err(|e| e.to_string())
    } else {
        ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| format!("it is not an RSA private key GitHub made ({e})"))
}
