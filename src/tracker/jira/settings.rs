//! A Jira sync's settings, stored as JSON with the sync. Secrets (API
//! token, personal access token, password) are kept by source (a variable
//! or a file, or the value itself when given so): never logged, shown or
//! exported.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::secret::Password;

/// Which Jira: Cloud speaks REST v3 (Atlassian Document Format, users by
/// account id, `/search/jql`), Data Center REST v2 (wiki markup, users by
/// name, `/search` with `startAt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    Cloud,
    #[value(name = "datacenter")]
    #[serde(rename = "datacenter")]
    DataCenter,
}

impl Flavour {
    /// The REST path prefix.
    pub fn rest(self) -> &'static str {
        match self {
            Flavour::Cloud => "/rest/api/3",
            Flavour::DataCenter => "/rest/api/2",
        }
    }
}

/// How postern signs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum JiraAuth {
    /// Cloud: e-mail and API token; Data Center: user and password.
    Basic { user: String, secret: Password },
    /// Data Center: a personal access token.
    Bearer { token: Password },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JiraSettings {
    /// Base URL, e.g. `https://example.atlassian.net` (no trailing slash).
    pub url: String,
    /// The project's key, e.g. `SUP`.
    pub project: String,
    /// Found from `serverInfo` when the sync is saved, unless given.
    pub flavour: Flavour,
    pub auth: JiraAuth,
    /// Trust this CA (PEM) for the server instead of the public roots.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// The partner's status names mapped to ours (partner → here).
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
    /// The same for priorities.
    #[serde(default)]
    pub priorities: BTreeMap<String, String>,
    /// Seconds between full rescans of the synced issues.
    #[serde(default = "default_rescan")]
    pub rescan_secs: u64,
    /// Seconds an answer may take before postern gives up on it (a write
    /// given up on is looked for before it is made again).
    #[serde(default = "crate::tracker::remote::http::default_timeout")]
    pub timeout_secs: u64,
    /// Values for fields a transition's screen requires, by field name:
    /// the `[screens]` of the sync's mapping file, put in when the tracker
    /// is opened (never stored with the settings).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub screens: BTreeMap<String, String>,
    /// The account ids the mapping's users table names (Cloud): such a
    /// user reads as `accountid:…`, not by display name, so the table
    /// maps it back. Put in when the tracker is opened.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub account_ids: BTreeSet<String>,
    /// The secret Jira Data Center's webhooks are signed with
    /// (`X-Hub-Signature`); with it, `run --http` takes them as a wake-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<Password>,
}

fn default_rescan() -> u64 {
    3600
}

impl JiraSettings {
    /// Checks what can be checked without the server.
    pub fn check(&self) -> Result<()> {
        crate::tracker::remote::http::check("Jira", &self.url, self.ca_file.as_deref())?;
        let key_ok = !self.project.is_empty()
            && self.project.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && self.project.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            bail!("the Jira project key {:?} must be upper-case letters, digits or _ (e.g. SUP)", self.project);
        }
        if let JiraAuth::Basic { user, .. } = &self.auth {
            if user.trim().is_empty() {
                bail!("the Jira user (Cloud: the account's e-mail) must not be empty");
            }
        }
        Ok(())
    }

    pub fn base(&self) -> &str {
        self.url.trim_end_matches('/')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(project: &str) -> JiraSettings {
        JiraSettings {
            url: "https://example.atlassian.net/".into(),
            project: project.into(),
            flavour: Flavour::Cloud,
            auth: JiraAuth::Basic { user: "sync@example.com".into(), secret: Password::Value("t0ken".into()) },
            ca_file: None,
            statuses: BTreeMap::new(),
            priorities: BTreeMap::new(),
            rescan_secs: 3600,
            timeout_secs: crate::tracker::remote::http::default_timeout(),
            screens: Default::default(),
            account_ids: Default::default(),
            webhook_secret: None,
        }
    }

    #[test]
    fn keys_urls_and_secrets_are_checked_and_kept_out_of_debug() {
        let s = settings("SUP");
        s.check().unwrap();
        assert_eq!(s.base(), "https://example.atlassian.net");
        assert!(settings("sup").check().unwrap_err().to_string().contains("upper-case"));
        assert!(!format!("{s:?}").contains("t0ken"), "{s:?}");
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<JiraSettings>(&json).unwrap(), s);
        assert!(json.contains("\"flavour\":\"cloud\""), "{json}");
    }
}
