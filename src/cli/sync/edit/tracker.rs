//! `postern sync edit` of a Redmine or Jira sync: its address, key or
//! token, CA, rescan period and name tables, checked against the tracker
//! before they are saved.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use super::EditArgs;
use crate::cli::mail_args::absolute;
use crate::cli::tracker_args::check_redmine;
use crate::home::Home;
use crate::store::{syncs, SyncRecord};
use crate::tracker::github::{GitHubAuth, GitHubSettings};
use crate::tracker::jira::{JiraAuth, JiraSettings};
use crate::tracker::redmine::settings::parse_map;
use crate::tracker::TrackerSettings;
use crate::transport::mail::Password;

/// `PARTNER=OURS` pairs merged into `table`; `PARTNER=` removes a pair.
fn merge(flag: &str, table: &mut BTreeMap<String, String>, text: &str) -> Result<()> {
    let removed: Vec<String> =
        text.split(',').map(str::trim).filter_map(|p| p.strip_suffix('=').map(|t| t.trim().to_string())).collect();
    let rest: Vec<&str> = text.split(',').map(str::trim).filter(|p| !p.ends_with('=')).collect();
    for t in &removed {
        if table.remove(t).is_none() {
            bail!("--{flag}: there is no pair for '{t}' to remove");
        }
    }
    table.extend(parse_map(flag, &rest.join(","))?);
    Ok(())
}

pub fn edit(home: &Home, conn: &rusqlite::Connection, sync: &SyncRecord, a: &EditArgs) -> Result<()> {
    let current = match sync.tracker.as_deref() {
        Some(json) => serde_json::from_str(json)?,
        None => TrackerSettings::Embedded,
    };
    let jira_given = a.jira_url.is_some()
        || a.jira_token_file.is_some()
        || a.jira_token_env.is_some()
        || a.jira_ca_file.is_some()
        || a.jira_rescan_secs.is_some()
        || a.jira_timeout_secs.is_some();
    let mut s = match current {
        TrackerSettings::Redmine(_) | TrackerSettings::Embedded if a.github_given() => {
            bail!("sync '{}' does not use GitHub: GitHub settings do not apply", sync.name)
        }
        TrackerSettings::Redmine(_) if jira_given => {
            bail!("sync '{}' uses Redmine: Jira settings do not apply", sync.name)
        }
        TrackerSettings::Redmine(s) => s,
        TrackerSettings::Embedded => {
            bail!("sync '{}' uses the embedded tracker: Redmine settings and name tables do not apply", sync.name)
        }
        TrackerSettings::Jira(j) => return edit_jira(home, conn, sync, a, j),
        TrackerSettings::GitHub(g) => return edit_github(home, conn, sync, a, g),
    };
    if a.github_given() {
        bail!("sync '{}' does not use GitHub: GitHub settings do not apply", sync.name);
    }
    if let Some(t) = &a.status_map {
        merge("status-map", &mut s.statuses, t)?;
    }
    if let Some(t) = &a.priority_map {
        merge("priority-map", &mut s.priorities, t)?;
    }
    if let Some(u) = &a.redmine_url {
        s.url = u.clone();
    }
    match (&a.redmine_key_file, &a.redmine_key_env) {
        (Some(_), Some(_)) => bail!("give the Redmine API key one way only"),
        (Some(f), None) => s.api_key = Password::from_file_flag(f, absolute)?,
        (None, Some(e)) => s.api_key = Password::Env(e.clone()),
        (None, None) => {}
    }
    if let Some(f) = &a.redmine_ca_file {
        s.ca_file = Some(absolute(f)?);
    }
    if let Some(secs) = a.redmine_rescan_secs {
        s.rescan_secs = secs;
    }
    if let Some(secs) = a.redmine_timeout_secs {
        s.timeout_secs = secs;
    }
    if let Some(name) = &a.redmine_labels_field {
        s.labels_field = Some(name.trim().to_string()).filter(|n| !n.is_empty());
    }
    s.check()?;
    with_mapping(sync, &TrackerSettings::Redmine(s.clone()))?;
    check_redmine(&s, home.root(), a.skip_tracker_check)?;
    let json = serde_json::to_string(&TrackerSettings::Redmine(s.clone()))?;
    syncs::set_tracker(conn, &sync.id, Some(&json))?;
    println!("Sync '{}': Redmine {}, project {}", sync.name, s.base(), s.project);
    saved(sync, &s.statuses, &s.priorities);
    Ok(())
}

fn saved(sync: &SyncRecord, statuses: &BTreeMap<String, String>, priorities: &BTreeMap<String, String>) {
    let show = |m: &BTreeMap<String, String>| {
        if m.is_empty() {
            "(same names on both sides)".to_string()
        } else {
            m.iter().map(|(t, o)| format!("{t}={o}")).collect::<Vec<_>>().join(", ")
        }
    };
    println!("  statuses   {}", show(statuses));
    println!("  priorities {}", show(priorities));
    println!("A running daemon uses this from its next cycle. Issues refused for a missing name: `postern errors list {}`, then `postern errors retry`.", sync.name);
}

/// The same for a Jira sync.
fn edit_jira(
    home: &Home,
    conn: &rusqlite::Connection,
    sync: &SyncRecord,
    a: &EditArgs,
    mut s: JiraSettings,
) -> Result<()> {
    if a.redmine_url.is_some()
        || a.redmine_key_file.is_some()
        || a.redmine_key_env.is_some()
        || a.redmine_ca_file.is_some()
        || a.redmine_rescan_secs.is_some()
        || a.redmine_timeout_secs.is_some()
        || a.redmine_labels_field.is_some()
    {
        bail!("sync '{}' uses Jira: Redmine settings do not apply (--jira-url, --jira-token-file, …)", sync.name);
    }
    if let Some(t) = &a.status_map {
        merge("status-map", &mut s.statuses, t)?;
    }
    if let Some(t) = &a.priority_map {
        merge("priority-map", &mut s.priorities, t)?;
    }
    if let Some(u) = &a.jira_url {
        s.url = u.clone();
    }
    let token = match (&a.jira_token_file, &a.jira_token_env) {
        (Some(_), Some(_)) => bail!("give the Jira token one way only"),
        (Some(f), None) => Some(Password::from_file_flag(f, absolute)?),
        (None, Some(e)) => Some(Password::Env(e.clone())),
        (None, None) => None,
    };
    if let Some(t) = token {
        match &mut s.auth {
            JiraAuth::Basic { secret, .. } => *secret = t,
            JiraAuth::Bearer { token } => *token = t,
        }
    }
    if let Some(f) = &a.jira_ca_file {
        s.ca_file = Some(absolute(f)?);
    }
    if let Some(secs) = a.jira_rescan_secs {
        s.rescan_secs = secs;
    }
    if let Some(f) = &a.jira_webhook_secret_file {
        s.webhook_secret = secret_file(f)?;
    }
    if let Some(secs) = a.jira_timeout_secs {
        s.timeout_secs = secs;
    }
    s.check()?;
    with_mapping(sync, &TrackerSettings::Jira(s.clone()))?;
    crate::cli::jira_args::check_jira(&s, home.root(), a.skip_tracker_check)?;
    let json = serde_json::to_string(&TrackerSettings::Jira(s.clone()))?;
    syncs::set_tracker(conn, &sync.id, Some(&json))?;
    println!("Sync '{}': Jira {}, project {}", sync.name, s.base(), s.project);
    saved(sync, &s.statuses, &s.priorities);
    Ok(())
}

/// The same for a GitHub sync.
fn edit_github(
    home: &Home,
    conn: &rusqlite::Connection,
    sync: &SyncRecord,
    a: &EditArgs,
    mut s: GitHubSettings,
) -> Result<()> {
    if a.redmine_or_jira_given() {
        bail!("sync '{}' uses GitHub: only GitHub settings and --status-map apply (--github-token-file, …)", sync.name);
    }
    if a.priority_map.is_some() {
        bail!("GitHub issues have no priority: --priority-map does not apply");
    }
    if let Some(t) = &a.status_map {
        merge("status-map", &mut s.statuses, t)?;
    }
    if let Some(u) = &a.github_url {
        s.url = GitHubSettings::api_base(u);
    }
    let token = match (&a.github_token_file, &a.github_token_env) {
        (Some(_), Some(_)) => bail!("give the GitHub token one way only"),
        (Some(f), None) => Some(Password::from_file_flag(f, absolute)?),
        (None, Some(e)) => Some(Password::Env(e.clone())),
        (None, None) => None,
    };
    match (&mut s.auth, token, &a.github_app_key_file) {
        (GitHubAuth::Token { token }, Some(t), None) => *token = t,
        (GitHubAuth::App { key, .. }, None, Some(f)) => *key = Password::from_file_flag(f, absolute)?,
        (_, None, None) => {}
        (GitHubAuth::Token { .. }, _, Some(_)) => bail!("sync '{}' signs in with a token, not an App", sync.name),
        (GitHubAuth::App { .. }, Some(_), _) => {
            bail!("sync '{}' signs in as a GitHub App, not with a token", sync.name)
        }
    }
    if let Some(f) = &a.github_ca_file {
        s.ca_file = Some(absolute(f)?);
    }
    if let Some(f) = &a.github_webhook_secret_file {
        s.webhook_secret = secret_file(f)?;
    }
    if let Some(secs) = a.github_rescan_secs {
        s.rescan_secs = secs;
    }
    if let Some(secs) = a.github_timeout_secs {
        s.timeout_secs = secs;
    }
    s.check()?;
    with_mapping(sync, &TrackerSettings::GitHub(s.clone()))?;
    crate::cli::github_args::check_github(&s, home.root(), a.skip_tracker_check)?;
    let json = serde_json::to_string(&TrackerSettings::GitHub(s.clone()))?;
    syncs::set_tracker(conn, &sync.id, Some(&json))?;
    println!("Sync '{}': GitHub {}, repository {}", sync.name, s.base(), s.repo);
    saved(sync, &s.statuses, &BTreeMap::new());
    Ok(())
}

/// A webhook secret's file flag: "" takes no webhooks any more.
fn secret_file(flag: &str) -> Result<Option<Password>> {
    match flag {
        "" => Ok(None),
        f => Ok(Some(Password::from_file_flag(f, absolute)?)),
    }
}

/// The new tables beside the sync's mapping file: names in one place.
fn with_mapping(sync: &SyncRecord, settings: &TrackerSettings) -> Result<()> {
    let Some(text) = &sync.mapping else { return Ok(()) };
    let mapping = crate::engine::mapping::Mapping::parse(text)?;
    anyhow::Context::context(crate::cli::mapping_args::one_place(settings, &mapping), "nothing was saved")
}
