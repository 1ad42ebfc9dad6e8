//! What postern learns of a GitHub repository once (reloaded when a
//! name it does not know is asked for): the sync user's login, whether
//! the repository has issues, who can be assigned, its milestones and
//! the organisation's issue types.

use crate::tracker::remote::rest::Rest;
use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::api::{Api, PER_PAGE};
use super::settings::{GitHubAuth, GitHubSettings};
use crate::tracker::{Refusal, TResult, TrackerError, User};

#[derive(Debug, Clone)]
pub struct Meta {
    /// The sync user's login (an App: `slug[bot]`).
    pub login: String,
    pub has_issues: bool,
    /// Who can be assigned issues here.
    pub users: Vec<User>,
    /// Milestone title → number.
    pub milestones: BTreeMap<String, u64>,
    /// The organisation's issue types; `None`: the owner has none (a
    /// user's repository, or types not enabled).
    pub types: Option<Vec<String>>,
}

/// The statuses a GitHub issue can have: open, or closed as completed,
/// as not planned or as a duplicate.
pub const STATUSES: [&str; 4] = ["Open", "Closed", "Not planned", "Duplicate"];

/// A status's `(state, state_reason)`.
pub fn state_of(status: &str) -> Option<(&'static str, Option<&'static str>)> {
    match status {
        "Open" => Some(("open", None)),
        "Closed" => Some(("closed", Some("completed"))),
        "Not planned" => Some(("closed", Some("not_planned"))),
        "Duplicate" => Some(("closed", Some("duplicate"))),
        _ => None,
    }
}

/// The status of an issue's `state` and `state_reason`.
pub fn status_of(v: &Value) -> String {
    match (v["state"].as_str(), v["state_reason"].as_str()) {
        (Some("closed"), Some("not_planned")) => "Not planned",
        (Some("closed"), Some("duplicate")) => "Duplicate",
        (Some("closed"), _) => "Closed",
        _ => "Open",
    }
    .to_string()
}

impl Meta {
    pub fn load(api: &Api, s: &GitHubSettings) -> TResult<Meta> {
        let repo = match api.get_opt(&s.repo_path())? {
            Some(r) => r,
            None => return Err(Refusal::NoProject(s.repo.clone()).into()),
        };
        let login = match &s.auth {
            GitHubAuth::Token { .. } => api.get("/user")?["login"].as_str().unwrap_or_default().to_string(),
            GitHubAuth::App { .. } => api.app_login().unwrap_or_default(),
        };
        let users = api
            .get_all(&format!("{}/assignees?per_page={PER_PAGE}", s.repo_path()))?
            .iter()
            .map(|u| User { name: str_of(&u["login"]), email: None, id: None })
            .collect();
        let milestones = api
            .get_all(&format!("{}/milestones?state=all&per_page={PER_PAGE}", s.repo_path()))?
            .iter()
            .filter_map(|m| Some((str_of(&m["title"]), m["number"].as_u64()?)))
            .collect();
        let types = match repo["owner"]["type"].as_str() {
            Some("Organization") => match api.exchange("GET", &format!("/orgs/{}/issue-types", s.owner()), None)? {
                a if a.status == 200 => Some(
                    a.body
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|t| t["is_enabled"].as_bool() != Some(false))
                        .map(|t| str_of(&t["name"]))
                        .collect(),
                ),
                _ => None,
            },
            _ => None,
        };
        Ok(Meta { login, has_issues: repo["has_issues"].as_bool() != Some(false), users, milestones, types })
    }

    pub fn is_sync_user(&self, user: &Value) -> bool {
        user["login"].as_str().is_some_and(|l| l.eq_ignore_ascii_case(&self.login))
    }
}

pub fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A name this repository does not know.
pub fn unknown(what: &str, value: &str, known: impl Iterator<Item = String>) -> TrackerError {
    Refusal::Unknown { what: what.into(), value: value.into(), known: known.collect() }.into()
}

/// What the check reports missing, probing without changing anything: an
/// issue without a title is refused as invalid (422) when the token may
/// write issues, and as forbidden when it may not.
pub fn missing_permissions(api: &Api, s: &GitHubSettings) -> TResult<Vec<String>> {
    let mut missing = Vec::new();
    let read = api.exchange("GET", &format!("{}/issues?per_page=1&state=all", s.repo_path()), None)?;
    if !(200..300).contains(&read.status) {
        missing.push("Issues: Read (to read issues and comments)".to_string());
    }
    let write = api.exchange("POST", &format!("{}/issues", s.repo_path()), Some(&json!({})))?;
    if matches!(write.status, 403 | 404) {
        missing.push("Issues: Read and write (to write issues, comments, labels and assignees)".to_string());
    } else if (200..300).contains(&write.status) {
        return Err(anyhow::anyhow!("GitHub made an issue without a title while postern checked the token").into());
    }
    Ok(missing)
}
