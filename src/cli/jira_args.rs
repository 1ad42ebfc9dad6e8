//! The Jira flags of `sync create` and `sync accept` (`--tracker jira`).

use anyhow::{bail, Result};
use clap::Args;

use super::mail_args::absolute;
use crate::tracker::jira::{Flavour, Jira, JiraAuth, JiraSettings};
use crate::transport::mail::Password;

#[derive(Debug, Args)]
#[command(next_help_heading = "Jira (--tracker jira)")]
pub struct JiraArgs {
    /// Jira's base URL, e.g. https://example.atlassian.net.
    #[arg(long, value_name = "URL")]
    pub jira_url: Option<String>,
    /// `cloud` (REST v3) or `datacenter` (REST v2); found from Jira's
    /// serverInfo when not given.
    #[arg(long, value_enum, value_name = "FLAVOUR")]
    pub jira_flavour: Option<Flavour>,
    /// Cloud: the sync account's e-mail address (with its API token).
    /// Data Center: a user name (with its password); leave it out to sign
    /// in with a personal access token.
    #[arg(long, value_name = "USER")]
    pub jira_user: Option<String>,
    /// The API token, personal access token or password (prefer
    /// --jira-token-env or --jira-token-file: a value given here is stored
    /// in the database).
    #[arg(long, value_name = "TOKEN")]
    pub jira_token: Option<String>,
    /// Name of an environment variable holding the token.
    #[arg(long, value_name = "VAR")]
    pub jira_token_env: Option<String>,
    /// File holding the token, or credential:NAME (a systemd credential).
    #[arg(long, value_name = "FILE")]
    pub jira_token_file: Option<String>,
    /// Trust this CA certificate (PEM) for Jira, e.g. a company CA.
    #[arg(long, value_name = "FILE")]
    pub jira_ca_file: Option<String>,
    /// File holding the secret Jira Data Center's webhooks are signed with
    /// (`run --http` then takes them as a wake-up), or credential:NAME.
    #[arg(long, value_name = "FILE")]
    pub jira_webhook_secret_file: Option<String>,
    /// Seconds between full reads of the synced Jira issues.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub jira_rescan_secs: u64,
    /// Seconds a Jira answer may take before postern gives up on it.
    #[arg(long, value_name = "SECS", default_value_t = crate::tracker::remote::http::default_timeout())]
    pub jira_timeout_secs: u64,
}

impl JiraArgs {
    pub fn given(&self) -> bool {
        [
            &self.jira_url,
            &self.jira_user,
            &self.jira_token,
            &self.jira_token_env,
            &self.jira_token_file,
            &self.jira_ca_file,
            &self.jira_webhook_secret_file,
        ]
        .iter()
        .any(|f| f.is_some())
            || self.jira_flavour.is_some()
    }

    /// The settings these flags describe, for project `project`; the
    /// flavour asked of Jira when not given (unless `offline`).
    pub fn settings(&self, project: &str, maps: (&str, &str), offline: bool) -> Result<JiraSettings> {
        use crate::tracker::redmine::settings::parse_map;
        let Some(url) = self.jira_url.clone() else {
            bail!("a Jira tracker needs --jira-url");
        };
        let token = match (&self.jira_token, &self.jira_token_env, &self.jira_token_file) {
            (Some(v), None, None) => Password::Value(v.clone()),
            (None, Some(e), None) => Password::Env(e.clone()),
            (None, None, Some(f)) => Password::from_file_flag(f, absolute)?,
            (None, None, None) => {
                bail!("give the sync user's Jira token with --jira-token-env, --jira-token-file or --jira-token")
            }
            _ => bail!("give the Jira token one way only"),
        };
        let auth = match &self.jira_user {
            Some(user) => JiraAuth::Basic { user: user.clone(), secret: token },
            None => JiraAuth::Bearer { token },
        };
        let mut s = JiraSettings {
            url,
            project: project.to_string(),
            flavour: self.jira_flavour.unwrap_or(Flavour::Cloud),
            auth,
            ca_file: self.jira_ca_file.as_deref().map(absolute).transpose()?,
            statuses: parse_map("status-map", maps.0)?,
            priorities: parse_map("priority-map", maps.1)?,
            rescan_secs: self.jira_rescan_secs,
            timeout_secs: self.jira_timeout_secs,
            screens: Default::default(),
            account_ids: Default::default(),
            webhook_secret: self
                .jira_webhook_secret_file
                .as_deref()
                .map(|f| Password::from_file_flag(f, absolute))
                .transpose()?,
        };
        s.check()?;
        if self.jira_flavour.is_none() {
            if offline {
                bail!("give --jira-flavour (cloud or datacenter) when Jira is not checked");
            }
            let home = tempfile::tempdir()?;
            // Asking which Jira it is is the check's first step: its
            // failure is the check's (unreachable, refused, bad secret…).
            s.flavour = Jira::open(&s, home.path(), "check")?.detect_flavour().map_err(|e| {
                anyhow::anyhow!(
                    "checking Jira; nothing was saved (--skip-tracker-check with --jira-flavour to save anyway): {e}"
                )
            })?;
        }
        if s.flavour == Flavour::Cloud && matches!(s.auth, JiraAuth::Bearer { .. }) {
            bail!("Jira Cloud signs in with the account's e-mail and an API token: add --jira-user EMAIL");
        }
        Ok(s)
    }
}

/// Checks Jira settings against the server before they are saved, and
/// says what was found (`skip`: --skip-tracker-check).
pub(super) fn check_jira(s: &JiraSettings, home: &std::path::Path, skip: bool) -> Result<()> {
    if skip {
        eprintln!("Jira not checked (--skip-tracker-check)");
        return Ok(());
    }
    let found = Jira::open(s, home, "check")?
        .check()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .map_err(|e| e.context("checking Jira; nothing was saved (--skip-tracker-check to save anyway)"))?;
    eprintln!("{found}");
    Ok(())
}
