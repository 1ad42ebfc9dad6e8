//! Jira Cloud (REST v3) and Jira Data Center (REST v2). Work in progress:
//! the connection (settings, credentials, throttling, the check before a
//! sync is saved) and the pieces change detection needs; the backend is
//! not yet offered by `sync create`.

pub mod api;
pub mod jql;
pub mod meta;
pub mod settings;

pub use self::settings::{Flavour, JiraAuth, JiraSettings};

use self::api::Api;
use self::meta::Meta;
use crate::tracker::{Refusal, TResult, TrackerError};

/// A connection to one Jira project.
pub struct Jira {
    api: Api,
    settings: JiraSettings,
}

impl Jira {
    pub fn open(settings: &JiraSettings) -> anyhow::Result<Self> {
        settings.check()?;
        Ok(Jira { api: Api::new(settings)?, settings: settings.clone() })
    }

    /// The flavour a Jira at `settings.url` is (Cloud or Data Center).
    pub fn detect_flavour(&self) -> TResult<Flavour> {
        meta::detect(&self.api)
    }

    /// Checks before a sync is saved: reachable, trusted, the credentials
    /// valid, the project visible, every permission a sync needs there.
    /// Each failure says what to do.
    pub fn check(&self) -> TResult<String> {
        let s = &self.settings;
        let m = match Meta::load(&self.api, s) {
            Err(TrackerError::Refused(Refusal::NoProject(p))) => {
                return Err(Refusal::Invalid(format!(
                    "project {p} does not exist in Jira at {}, or the sync user cannot browse it",
                    s.base()
                ))
                .into())
            }
            other => other?,
        };
        let missing = Meta::missing_permissions(&self.api, s)?;
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|(k, what)| format!("{k} (to {what})")).collect();
            return Err(Refusal::Invalid(format!(
                "the sync user {} lacks permissions in project {}: {}; grant them in the project's permission scheme",
                m.user_name,
                s.project,
                list.join(", ")
            ))
            .into());
        }
        Ok(format!(
            "Jira {} ({}): project {} (id {}), sync user {}, time zone {}, {} issue types, {} statuses, {} priorities, \
             {} custom fields",
            s.base(),
            match m.flavour {
                Flavour::Cloud => "Cloud, REST v3",
                Flavour::DataCenter => "Data Center, REST v2",
            },
            s.project,
            m.project_id,
            m.user_name,
            m.time_zone,
            m.types.len(),
            m.statuses.len(),
            m.priorities.len(),
            m.custom.len()
        ))
    }
}
