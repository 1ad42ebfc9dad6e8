//! The fake Jira's search: JQL evaluated honestly (minutes in the asking
//! user's zone), a lag on demand, and copies a lagging index keeps.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::issues::{page, view, Q};
use super::model::Issue;
use super::{error, signed_in, Fake, Shared};

/// What a search may see: everything, or (lagging) only issues last
/// written before the lag, unless reconciled.
fn visible(f: &Fake, i: &Issue, reconcile: &[String]) -> bool {
    f.search_lag_ms == 0 || i.updated <= f.now() - f.search_lag_ms || reconcile.contains(&i.id.to_string())
}

/// Issue `key` as a search for the whole of it lists it (for `stale`).
#[allow(dead_code)] // for the tests of a lagging index only
pub fn search_copy(f: &Fake, key: &str) -> Value {
    let asked = json!({"fields": ["*all"], "expand": "changelog", "properties": ["postern"]});
    search_row(f, f.issue(key).expect("an issue of the fake"), 0, &asked)
}

/// An issue as a search lists it: the fields, history and properties the
/// search asked for (`fields`, `expand`, `properties`), or its stale copy.
fn search_row(f: &Fake, i: &Issue, user: usize, asked: &Value) -> Value {
    if let Some(copy) = f.stale.get(&i.key) {
        return copy.clone();
    }
    let list = |v: &Value| -> Option<Vec<String>> {
        match v {
            Value::Array(a) => Some(a.iter().filter_map(|x| x.as_str().map(String::from)).collect()),
            Value::String(s) => Some(s.split(',').map(String::from).collect()),
            _ => None,
        }
    };
    let fields = list(&asked["fields"]).unwrap_or_else(|| vec!["updated".into()]);
    let properties = list(&asked["properties"]);
    let changelog = list(&asked["expand"]).is_some_and(|e| e.iter().any(|x| x == "changelog"));
    let mut out = view(
        f,
        i,
        user,
        Some(fields.iter().map(String::as_str).collect()),
        changelog,
        properties.as_ref().map(|p| p.iter().map(String::as_str).collect()),
    );
    if let Some(o) = out.as_object_mut() {
        o.retain(|k, _| matches!(k.as_str(), "id" | "key" | "self" | "fields" | "changelog" | "properties" | "expand"));
    }
    out
}

pub async fn search_jql(State(s): State<Shared>, h: HeaderMap, Json(body): Json<Value>) -> Response {
    let user = signed_in!(s, h, "3");
    let mut f = s.lock().unwrap();
    let jql = body["jql"].as_str().unwrap_or_default();
    let reconcile: Vec<String> =
        body["reconcileIssues"].as_array().into_iter().flatten().map(|x| x.to_string()).collect();
    f.reconciled.extend(reconcile.iter().cloned());
    let f = f;
    let found = match f.jql(jql, user) {
        Ok(list) => list.into_iter().filter(|i| visible(&f, i, &reconcile)).collect::<Vec<_>>(),
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    f.last_found.store(found.len(), std::sync::atomic::Ordering::Relaxed);
    // A token Jira did not give is refused, as Jira refuses it.
    let start: usize = match body["nextPageToken"].as_str() {
        None => 0,
        Some(t) => match t.strip_prefix("page-").and_then(|t| t.parse().ok()) {
            Some(n) => n,
            None => return error(StatusCode::BAD_REQUEST, "The provided next page token is invalid or expired."),
        },
    };
    let max = body["maxResults"].as_u64().unwrap_or(50).min(100) as usize;
    let rows: Vec<Value> = found.iter().skip(start).take(max).map(|i| search_row(&f, i, user, &body)).collect();
    let mut out = json!({"issues": rows, "isLast": start + max >= found.len()});
    if start + max < found.len() {
        out["nextPageToken"] = json!(format!("page-{}", start + max));
    }
    Json(out).into_response()
}

pub async fn search_v2(State(s): State<Shared>, q: Q, h: HeaderMap) -> Response {
    let user = signed_in!(s, h, "2");
    let f = s.lock().unwrap();
    if f.cloud {
        return error(
            StatusCode::GONE,
            "The requested API has been removed. Please migrate to /rest/api/3/search/jql.",
        );
    }
    let found = match f.jql(q.get("jql").map(String::as_str).unwrap_or_default(), user) {
        Ok(list) => list,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    f.last_found.store(found.len(), std::sync::atomic::Ordering::Relaxed);
    let asked = json!({"fields": q.get("fields"), "expand": q.get("expand"), "properties": q.get("properties")});
    let list = found.iter().map(|i| search_row(&f, i, user, &asked)).collect();
    Json(page(list, &q, "issues", false)).into_response()
}
