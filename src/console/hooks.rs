//! Webhooks as a wake-up, polling as the truth: GitHub's `issues` and
//! `issue_comment` webhooks (`POST /hooks/github`, signed with
//! `X-Hub-Signature-256`) and Jira Data Center's (`POST /hooks/jira`,
//! signed with `X-Hub-Signature`) wake the syncs of that repository or
//! project at once. A hook carries no change: the sync reads its tracker
//! as at any poll, so a lost hook costs only latency and a forged one is
//! refused (its signature matches no sync's secret) and counted.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::Value;

use super::Shared;
use crate::tracker::TrackerSettings;

/// Hooks taken (a sync woken) and refused (unsigned, wrongly signed, or
/// for nothing synced here), since the daemon started.
pub static TAKEN: AtomicU64 = AtomicU64::new(0);
pub static REFUSED: AtomicU64 = AtomicU64::new(0);

/// Whether `signature` (`sha256=<hex>`) is `body`'s HMAC-SHA256 under
/// `secret` (compared in constant time).
pub fn signed(secret: &str, body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.trim().strip_prefix("sha256=") else { return false };
    let Ok(given) = hex::decode(hex) else { return false };
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// Which tracker a hook is from, and what names the synced thing in it.
#[derive(Clone, Copy)]
enum Source {
    GitHub,
    Jira,
}

/// The syncs `payload` is for whose secret signs `body` as `signature`.
fn woken(conn: &rusqlite::Connection, from: Source, payload: &Value, body: &[u8], signature: &str) -> Vec<String> {
    let Ok(syncs) = crate::store::syncs::list(conn) else { return Vec::new() };
    syncs
        .into_iter()
        .filter(|s| s.paused_at.is_none())
        .filter(|s| {
            let Ok(settings) = crate::engine::tracker_of::settings(s) else { return false };
            let secret = match (from, &settings) {
                (Source::GitHub, TrackerSettings::GitHub(g)) => {
                    let repo = payload["repository"]["full_name"].as_str().unwrap_or_default();
                    g.webhook_secret.as_ref().filter(|_| g.repo.eq_ignore_ascii_case(repo))
                }
                (Source::Jira, TrackerSettings::Jira(j)) => {
                    let project = payload["issue"]["fields"]["project"]["key"]
                        .as_str()
                        .or_else(|| payload["issue"]["key"].as_str().and_then(|k| k.rsplit_once('-').map(|p| p.0)))
                        .unwrap_or_default();
                    j.webhook_secret.as_ref().filter(|_| j.project == project)
                }
                _ => None,
            };
            secret.and_then(|p| p.resolve().ok()).is_some_and(|secret| signed(secret.trim(), body, signature))
        })
        .map(|s| s.id)
        .collect()
}

async fn take(c: Shared, from: Source, h: HeaderMap, body: Bytes) -> Response {
    let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (signature, event) = match from {
        Source::GitHub => (header("x-hub-signature-256"), header("x-github-event")),
        Source::Jira => (header("x-hub-signature"), "jira".to_string()),
    };
    let refuse = |why: &str| {
        REFUSED.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(why, "a webhook was refused");
        (StatusCode::UNAUTHORIZED, format!("{why}\n")).into_response()
    };
    if signature.is_empty() {
        return refuse("the webhook is not signed: give it the sync's secret");
    }
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return refuse("the webhook's body is not JSON");
    };
    let number = payload["issue"]["number"].as_u64();
    let home = c.home.clone();
    let body = body.to_vec();
    let found = tokio::task::spawn_blocking(move || {
        let conn = home.open_db().ok()?;
        Some(woken(&conn, from, &payload, &body, &signature))
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_default();
    if found.is_empty() {
        return refuse("the webhook's signature matches no sync of what it names");
    }
    TAKEN.fetch_add(1, Ordering::Relaxed);
    let wakes = matches!(event.as_str(), "issues" | "issue_comment" | "jira");
    for id in found.iter().filter(|_| wakes) {
        tracing::debug!(sync = %id, event, "a webhook wakes the sync");
        if let (Source::GitHub, Some(n)) = (from, number) {
            // Read whole: a deleted comment moves nothing GitHub lists.
            crate::tracker::github::hint(id, n);
        }
        crate::daemon::wake(id);
    }
    (StatusCode::ACCEPTED, if wakes { "woken\n" } else { "nothing to wake for this event\n" }).into_response()
}

pub async fn github(State(c): State<Shared>, h: HeaderMap, body: Bytes) -> Response {
    take(c, Source::GitHub, h, body).await
}

pub async fn jira(State(c): State<Shared>, h: HeaderMap, body: Bytes) -> Response {
    take(c, Source::Jira, h, body).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_signature_is_the_bodys_hmac_under_the_secret() {
        // GitHub's documented example: secret "It's a Secret to Everybody",
        // payload "Hello, World!".
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(super::signed("It's a Secret to Everybody", b"Hello, World!", sig));
        assert!(!super::signed("It's a Secret to Everybody", b"Hello, World?", sig));
        assert!(!super::signed("another secret", b"Hello, World!", sig));
        assert!(!super::signed("It's a Secret to Everybody", b"Hello, World!", &sig[7..]));
    }
}
