//! Which tracker a sync works with (`sync create`, `sync accept`): the
//! embedded one, a Redmine with its URL, API key and name tables, or a
//! Jira (see `jira_args`).

use anyhow::{bail, Result};
use clap::Args;

use super::mail_args::absolute;
use crate::tracker::redmine::settings::parse_map;
use crate::tracker::redmine::{Redmine, RedmineSettings};
use crate::tracker::TrackerSettings;
use crate::transport::mail::Password;

#[derive(Debug, Args)]
#[command(next_help_heading = "Tracker")]
pub struct TrackerArgs {
    /// The tracker this side syncs: `embedded` (postern's own), `redmine`
    /// (then --project is the Redmine project's identifier) or `jira` (then
    /// --project is the Jira project's key) or `github` (then --project
    /// is the repository, owner/name).
    #[arg(long, default_value = "embedded", value_parser = ["embedded", "redmine", "jira", "github"])]
    pub tracker: String,
    #[command(flatten)]
    pub jira: super::jira_args::JiraArgs,
    #[command(flatten)]
    pub github: super::github_args::GitHubArgs,
    /// Redmine's base URL, e.g. https://redmine.example.com.
    #[arg(long, value_name = "URL", help_heading = "Redmine (--tracker redmine)")]
    pub redmine_url: Option<String>,
    /// The sync user's Redmine API key (prefer --redmine-key-env or
    /// --redmine-key-file: a value given here is stored in the database).
    #[arg(long, value_name = "KEY", help_heading = "Redmine (--tracker redmine)")]
    pub redmine_key: Option<String>,
    /// Name of an environment variable holding the API key.
    #[arg(long, value_name = "VAR", help_heading = "Redmine (--tracker redmine)")]
    pub redmine_key_env: Option<String>,
    /// File holding the API key, or credential:NAME (a systemd credential).
    #[arg(long, value_name = "FILE", help_heading = "Redmine (--tracker redmine)")]
    pub redmine_key_file: Option<String>,
    /// Trust this CA certificate (PEM) for Redmine, e.g. a company CA.
    #[arg(long, value_name = "FILE", help_heading = "Redmine (--tracker redmine)")]
    pub redmine_ca_file: Option<String>,
    /// A Redmine custom field (by name) that holds labels: a text field
    /// (comma-separated) or a list, usually with several values; "(category)":
    /// the issue category (one label). Without it labels are not synced with
    /// Redmine.
    #[arg(long, value_name = "NAME", help_heading = "Redmine (--tracker redmine)")]
    pub redmine_labels_field: Option<String>,
    /// Statuses whose names differ: PARTNER=OURS pairs, comma-separated
    /// (e.g. "Open=New,Done=Closed"); other names must exist on both sides.
    #[arg(long, value_name = "PAIRS")]
    pub status_map: Option<String>,
    /// Priorities whose names differ, as for --status-map.
    #[arg(long, value_name = "PAIRS")]
    pub priority_map: Option<String>,
    /// Seconds between full reads of the synced Redmine issues, which
    /// catch changes that do not move `updated_on` (a note edited, a file
    /// deleted).
    #[arg(long, value_name = "SECS", default_value_t = 3600, help_heading = "Redmine (--tracker redmine)")]
    pub redmine_rescan_secs: u64,
    /// Seconds a Redmine answer may take before postern gives up on it.
    #[arg(long, value_name = "SECS", default_value_t = crate::tracker::remote::http::default_timeout(), help_heading = "Redmine (--tracker redmine)")]
    pub redmine_timeout_secs: u64,
    /// Save the sync without first checking the tracker (reachable, key
    /// valid, project visible).
    #[arg(long)]
    pub skip_tracker_check: bool,
    /// A mapping file (TOML) of the partner's statuses, priorities, issue
    /// types, custom fields and users to ours (see docs/mappings.md).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<std::path::PathBuf>,
}

impl TrackerArgs {
    /// The settings these flags describe, for a sync of `project`.
    pub fn settings(&self, project: &str) -> Result<TrackerSettings> {
        let redmine_flags = [
            &self.redmine_url,
            &self.redmine_key,
            &self.redmine_key_env,
            &self.redmine_key_file,
            &self.redmine_ca_file,
            &self.redmine_labels_field,
        ];
        if self.tracker != "jira" && self.jira.given() {
            bail!("Jira settings were given, but the tracker is {}: add --tracker jira", self.tracker);
        }
        if self.tracker != "redmine" && redmine_flags.iter().any(|f| f.is_some()) {
            bail!("Redmine settings were given, but the tracker is {}: add --tracker redmine", self.tracker);
        }
        if self.tracker != "github" && self.github.given() {
            bail!("GitHub settings were given, but the tracker is {}: add --tracker github", self.tracker);
        }
        if self.tracker == "github" {
            if self.priority_map.is_some() {
                bail!("GitHub issues have no priority: --priority-map does not apply");
            }
            return Ok(TrackerSettings::GitHub(
                self.github.settings(project, self.status_map.as_deref().unwrap_or(""))?,
            ));
        }
        if self.tracker == "jira" {
            let maps = (self.status_map.as_deref().unwrap_or(""), self.priority_map.as_deref().unwrap_or(""));
            return Ok(TrackerSettings::Jira(self.jira.settings(project, maps, self.skip_tracker_check)?));
        }
        if self.tracker == "embedded" {
            if self.status_map.is_some() || self.priority_map.is_some() {
                bail!("--status-map and --priority-map apply to a Redmine or Jira tracker (add --tracker)");
            }
            return Ok(TrackerSettings::Embedded);
        }
        let Some(url) = self.redmine_url.clone() else {
            bail!("a Redmine tracker needs --redmine-url");
        };
        let api_key = match (&self.redmine_key, &self.redmine_key_env, &self.redmine_key_file) {
            (Some(v), None, None) => Password::Value(v.clone()),
            (None, Some(e), None) => Password::Env(e.clone()),
            (None, None, Some(f)) => Password::from_file_flag(f, absolute)?,
            (None, None, None) => {
                bail!(
                    "give the sync user's Redmine API key with --redmine-key-env, --redmine-key-file or --redmine-key"
                )
            }
            _ => bail!("give the Redmine API key one way only"),
        };
        let s = RedmineSettings {
            url,
            project: project.to_string(),
            api_key,
            ca_file: self.redmine_ca_file.as_deref().map(absolute).transpose()?,
            labels_field: self.redmine_labels_field.clone(),
            statuses: parse_map("status-map", self.status_map.as_deref().unwrap_or(""))?,
            priorities: parse_map("priority-map", self.priority_map.as_deref().unwrap_or(""))?,
            rescan_secs: self.redmine_rescan_secs,
            timeout_secs: self.redmine_timeout_secs,
        };
        s.check()?;
        Ok(TrackerSettings::Redmine(s))
    }

    /// Checks a remote tracker before anything is saved, and says what
    /// it found.
    pub fn check_before_saving(&self, settings: &TrackerSettings, home: &std::path::Path) -> Result<()> {
        match settings {
            TrackerSettings::Redmine(s) => check_redmine(s, home, self.skip_tracker_check),
            TrackerSettings::Jira(s) => super::jira_args::check_jira(s, home, self.skip_tracker_check),
            TrackerSettings::GitHub(s) => super::github_args::check_github(s, home, self.skip_tracker_check),
            TrackerSettings::Embedded => Ok(()),
        }
    }
}

/// Checks Redmine settings against the server before they are saved, and
/// says what was found (`skip`: --skip-tracker-check).
pub(super) fn check_redmine(s: &RedmineSettings, home: &std::path::Path, skip: bool) -> Result<()> {
    if skip {
        eprintln!("Redmine not checked (--skip-tracker-check)");
        return Ok(());
    }
    let found = Redmine::open(s, home, "check")?
        .check()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .map_err(|e| e.context("checking Redmine; nothing was saved (--skip-tracker-check to save anyway)"))?;
    eprintln!("{found}");
    Ok(())
}
