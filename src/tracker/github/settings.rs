//! A GitHub sync's settings, stored as JSON with the sync: the REST API's
//! base (github.com or an Enterprise Server), the repository, and how
//! postern signs in (a fine-grained personal access token, or a GitHub
//! App's installation). Secrets are kept by source, never logged, shown or
//! exported.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::secret::Password;

/// github.com's REST API.
pub const GITHUB_API: &str = "https://api.github.com";

/// How postern signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum GitHubAuth {
    /// A fine-grained (or classic) personal access token of the sync user.
    Token { token: Password },
    /// A GitHub App installed on the repository: its id and private key
    /// (PEM); postern makes installation tokens and renews them before
    /// they expire. The App is the sync user.
    App { app_id: String, key: Password },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitHubSettings {
    /// The REST API's base: `https://api.github.com`, or
    /// `https://HOST/api/v3` on an Enterprise Server.
    pub url: String,
    /// `owner/name`.
    pub repo: String,
    pub auth: GitHubAuth,
    /// Trust this CA (PEM) for the server instead of the public roots.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// The partner's status names mapped to ours (partner → here).
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
    /// Seconds between full rescans of the synced issues (a deleted
    /// comment moves no time GitHub lists by).
    #[serde(default = "default_rescan")]
    pub rescan_secs: u64,
    /// Seconds an answer may take before postern gives up on it.
    #[serde(default = "crate::tracker::remote::http::default_timeout")]
    pub timeout_secs: u64,
    /// The secret `issues` and `issue_comment` webhooks are signed with
    /// (`X-Hub-Signature-256`); with it, `run --http` takes them as a
    /// wake-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<Password>,
}

fn default_rescan() -> u64 {
    3600
}

impl GitHubSettings {
    /// The API's base for a URL an admin gives: github.com's web address
    /// means its API; an Enterprise Server's `https://` address without a
    /// path gets `/api/v3`; anything else is taken as given.
    pub fn api_base(url: &str) -> String {
        let url = url.trim_end_matches('/');
        let host_only = url.splitn(4, '/').nth(3).is_none_or(str::is_empty);
        if url == "https://github.com" || url == "https://www.github.com" {
            GITHUB_API.to_string()
        } else if host_only && url.starts_with("https://") && !url.starts_with("https://api.") {
            format!("{url}/api/v3")
        } else {
            url.to_string()
        }
    }

    /// Checks what can be checked without the server.
    pub fn check(&self) -> Result<()> {
        crate::tracker::remote::http::check("GitHub", &self.url, self.ca_file.as_deref())?;
        let ok = |part: &str| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        match self.repo.split_once('/') {
            Some((owner, name)) if ok(owner) && ok(name) => {}
            _ => bail!("the GitHub repository {:?} must be written owner/name (e.g. example/support)", self.repo),
        }
        if let GitHubAuth::App { app_id, .. } = &self.auth {
            if app_id.is_empty() || !app_id.chars().all(|c| c.is_ascii_digit()) {
                bail!("the GitHub App id {app_id:?} must be its number (the App's settings page shows it)");
            }
        }
        Ok(())
    }

    pub fn base(&self) -> &str {
        self.url.trim_end_matches('/')
    }

    /// `/repos/owner/name`.
    pub fn repo_path(&self) -> String {
        format!("/repos/{}", self.repo)
    }

    /// The owner of the repository (an organisation or a user).
    pub fn owner(&self) -> &str {
        self.repo.split('/').next().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(repo: &str) -> GitHubSettings {
        GitHubSettings {
            url: GITHUB_API.into(),
            repo: repo.into(),
            auth: GitHubAuth::Token { token: Password::Value("ghp_s3cret".into()) },
            ca_file: None,
            statuses: BTreeMap::new(),
            rescan_secs: 3600,
            timeout_secs: 60,
            webhook_secret: None,
        }
    }

    #[test]
    fn repositories_urls_and_secrets_are_checked_and_kept_out_of_debug() {
        settings("example/support").check().unwrap();
        for bad in ["support", "example/", "/support", "ex ample/support", "a/b/c"] {
            let e = settings(bad).check().unwrap_err().to_string();
            assert!(e.contains("owner/name"), "{bad}: {e}");
        }
        assert!(!format!("{:?}", settings("example/support")).contains("s3cret"));
        assert_eq!(GitHubSettings::api_base("https://github.com/"), GITHUB_API);
        assert_eq!(GitHubSettings::api_base("https://github.example.com"), "https://github.example.com/api/v3");
        assert_eq!(GitHubSettings::api_base("https://github.example.com/api/v3/"), "https://github.example.com/api/v3");
        assert_eq!(GitHubSettings::api_base("https://api.github.com"), GITHUB_API);
        assert_eq!(GitHubSettings::api_base("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        let mut app = settings("example/support");
        app.auth = GitHubAuth::App { app_id: "12ab".into(), key: Password::File("/k.pem".into()) };
        assert!(app.check().unwrap_err().to_string().contains("App id"));
    }
}
