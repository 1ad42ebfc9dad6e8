//! A Redmine sync's settings, stored as JSON with the sync. The API key is
//! kept by source (a variable or a file, or the value itself when given
//! so): never logged, shown or exported.

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use crate::secret::Password;

/// The labels field's name for the issue category.
pub const CATEGORY: &str = "(category)";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedmineSettings {
    /// Base URL, e.g. `https://redmine.example.com` (no trailing slash).
    pub url: String,
    /// The project's identifier.
    pub project: String,
    /// The sync user's API key.
    pub api_key: Password,
    /// Trust this CA (PEM) for the server instead of the public roots.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// A custom field (by name) that holds labels, comma-separated; without
    /// one, labels are not synced with this tracker.
    #[serde(default)]
    /// The custom field that holds labels, or [`CATEGORY`]: the issue's
    /// category (one label).
    pub labels_field: Option<String>,
    /// The partner's status names mapped to ours (partner → here); a name
    /// not listed must exist here under the same name.
    #[serde(default)]
    pub statuses: BTreeMap<String, String>,
    /// The same for priorities.
    #[serde(default)]
    pub priorities: BTreeMap<String, String>,
    /// Seconds between full rescans of the synced issues (changes that do
    /// not move `updated_on`: journal edits, attachment deletions).
    #[serde(default = "default_rescan")]
    pub rescan_secs: u64,
    /// Seconds an answer may take before postern gives up on it (a write
    /// given up on is looked for before it is made again).
    #[serde(default = "crate::tracker::remote::http::default_timeout")]
    pub timeout_secs: u64,
}

fn default_rescan() -> u64 {
    3600
}

impl RedmineSettings {
    /// Checks what can be checked without the server.
    pub fn check(&self) -> Result<()> {
        crate::tracker::remote::http::check("Redmine", &self.url, self.ca_file.as_deref())?;
        if self.project.trim().is_empty() {
            bail!("the Redmine project identifier must not be empty");
        }
        Ok(())
    }

    pub fn base(&self) -> &str {
        self.url.trim_end_matches('/')
    }
}

/// Parses `A=B,C=D` (partner name = our name) into a table.
pub fn parse_map(flag: &str, text: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((theirs, ours)) = pair.split_once('=') else {
            bail!("--{flag}: {pair:?} is not PARTNER=OURS (e.g. \"Done=Closed\")");
        };
        let (theirs, ours) = (theirs.trim(), ours.trim());
        if theirs.is_empty() || ours.is_empty() {
            bail!("--{flag}: {pair:?} has an empty name");
        }
        if out.insert(theirs.to_string(), ours.to_string()).is_some() {
            bail!("--{flag}: {theirs:?} is mapped twice");
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_parse_and_refuse_mistakes() {
        let m = parse_map("status-map", "Done=Closed, In Progress = In Progress").unwrap();
        assert_eq!(m["Done"], "Closed");
        assert_eq!(m["In Progress"], "In Progress");
        assert!(parse_map("status-map", "Done").unwrap_err().to_string().contains("PARTNER=OURS"));
        assert!(parse_map("status-map", "A=B,A=C").unwrap_err().to_string().contains("mapped twice"));
        assert!(parse_map("status-map", "=B").is_err());
    }
}
