//! The GitHub flags of `sync create` and `sync accept` (`--tracker
//! github`; then --project is the repository, `owner/name`).

use anyhow::{bail, Result};
use clap::Args;

use super::mail_args::absolute;
use crate::tracker::github::{GitHub, GitHubAuth, GitHubSettings};
use crate::transport::mail::Password;

#[derive(Debug, Args)]
#[command(next_help_heading = "GitHub (--tracker github; --project is owner/name)")]
pub struct GitHubArgs {
    /// GitHub's address: https://github.com (the default), or an
    /// Enterprise Server's, e.g. https://github.example.com (its API,
    /// /api/v3, is found from it).
    #[arg(long, value_name = "URL")]
    pub github_url: Option<String>,
    /// The sync user's personal access token (fine-grained: Issues read
    /// and write, Metadata read, on the repository). Prefer
    /// --github-token-env or --github-token-file: a value given here is
    /// stored in the database.
    #[arg(long, value_name = "TOKEN")]
    pub github_token: Option<String>,
    /// Name of an environment variable holding the token.
    #[arg(long, value_name = "VAR")]
    pub github_token_env: Option<String>,
    /// File holding the token, or credential:NAME (a systemd credential).
    #[arg(long, value_name = "FILE")]
    pub github_token_file: Option<String>,
    /// Sign in as a GitHub App installed on the repository (instead of a
    /// token): the App's id, with --github-app-key-file.
    #[arg(long, value_name = "ID")]
    pub github_app_id: Option<String>,
    /// The App's private key (the .pem file GitHub gave), or
    /// credential:NAME.
    #[arg(long, value_name = "FILE")]
    pub github_app_key_file: Option<String>,
    /// Trust this CA certificate (PEM) for GitHub, e.g. a company CA of
    /// an Enterprise Server.
    #[arg(long, value_name = "FILE")]
    pub github_ca_file: Option<String>,
    /// File holding the secret the repository's webhooks are signed with
    /// (`run --http` then takes them as a wake-up), or credential:NAME.
    #[arg(long, value_name = "FILE")]
    pub github_webhook_secret_file: Option<String>,
    /// Seconds between full reads of the synced GitHub issues (which find
    /// deleted comments).
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub github_rescan_secs: u64,
    /// Seconds a GitHub answer may take before postern gives up on it.
    #[arg(long, value_name = "SECS", default_value_t = crate::tracker::remote::http::default_timeout())]
    pub github_timeout_secs: u64,
}

impl GitHubArgs {
    pub fn given(&self) -> bool {
        [
            &self.github_url,
            &self.github_token,
            &self.github_token_env,
            &self.github_token_file,
            &self.github_app_id,
            &self.github_app_key_file,
            &self.github_ca_file,
            &self.github_webhook_secret_file,
        ]
        .iter()
        .any(|f| f.is_some())
    }

    /// The settings these flags describe, for repository `repo`.
    pub fn settings(&self, repo: &str, statuses: &str) -> Result<GitHubSettings> {
        let token = match (&self.github_token, &self.github_token_env, &self.github_token_file) {
            (Some(v), None, None) => Some(Password::Value(v.clone())),
            (None, Some(e), None) => Some(Password::Env(e.clone())),
            (None, None, Some(f)) => Some(Password::from_file_flag(f, absolute)?),
            (None, None, None) => None,
            _ => bail!("give the GitHub token one way only"),
        };
        let auth = match (token, &self.github_app_id, &self.github_app_key_file) {
            (Some(token), None, None) => GitHubAuth::Token { token },
            (None, Some(id), Some(key)) => {
                GitHubAuth::App { app_id: id.clone(), key: Password::from_file_flag(key, absolute)? }
            }
            (None, None, None) => bail!(
                "give the sync user's GitHub token with --github-token-env, --github-token-file or --github-token \
                 (or a GitHub App with --github-app-id and --github-app-key-file)"
            ),
            (None, _, _) => bail!("a GitHub App needs both --github-app-id and --github-app-key-file"),
            (Some(_), _, _) => bail!("give a GitHub token or a GitHub App, not both"),
        };
        let s = GitHubSettings {
            url: GitHubSettings::api_base(self.github_url.as_deref().unwrap_or("https://github.com")),
            repo: repo.to_string(),
            auth,
            ca_file: self.github_ca_file.as_deref().map(absolute).transpose()?,
            statuses: crate::tracker::redmine::settings::parse_map("status-map", statuses)?,
            rescan_secs: self.github_rescan_secs,
            timeout_secs: self.github_timeout_secs,
            webhook_secret: self
                .github_webhook_secret_file
                .as_deref()
                .map(|f| Password::from_file_flag(f, absolute))
                .transpose()?,
        };
        s.check()?;
        Ok(s)
    }
}

/// Checks GitHub settings against the server before they are saved, and
/// says what was found (`skip`: --skip-tracker-check).
pub(super) fn check_github(s: &GitHubSettings, home: &std::path::Path, skip: bool) -> Result<()> {
    if skip {
        eprintln!("GitHub not checked (--skip-tracker-check)");
        return Ok(());
    }
    let found = GitHub::open(s, home, "check")?
        .check()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .map_err(|e| e.context("checking GitHub; nothing was saved (--skip-tracker-check to save anyway)"))?;
    eprintln!("{found}");
    Ok(())
}
