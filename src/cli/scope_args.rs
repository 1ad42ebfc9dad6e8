//! Which issues a resync takes: `sync resync`'s filter, and the existing
//! issues chosen at `sync create`/`accept`.

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};

use crate::engine::resync::{Scope, FIELDS};

/// A point in time: a date (`2026-11-01`, midnight UTC) or RFC 3339.
pub fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) => Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis()),
        Err(_) => Err(format!("'{text}' is not a date (2026-11-01) or a time (2026-11-01T08:00:00Z)")),
    }
}

/// The filter of `sync resync`.
#[derive(Debug, Clone, Args)]
pub struct ScopeArgs {
    /// Only these issues (local keys, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "KEY,...")]
    pub keys: Vec<String>,
    /// Only issues updated at or after this date or time.
    #[arg(long, value_name = "DATE", value_parser = parse_time)]
    pub updated_since: Option<i64>,
    /// Only issues in one of these statuses (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "STATUS,...")]
    pub status: Vec<String>,
    /// Only issues with one of these labels (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "LABEL,...")]
    pub label: Vec<String>,
    /// Only these parts of paired issues (comma-separated): summary,
    /// description, status, priority, labels, assignee, type, due_date,
    /// custom, comments, attachments, worklogs.
    #[arg(long, value_delimiter = ',', value_name = "FIELD,...")]
    pub fields: Vec<String>,
}

impl ScopeArgs {
    pub fn scope(&self) -> Result<Scope> {
        if let Some(f) = self.fields.iter().find(|f| !FIELDS.contains(&f.as_str())) {
            bail!("--fields: '{f}' is not one of {}", FIELDS.join(", "));
        }
        Ok(Scope {
            keys: self.keys.clone(),
            updated_since: self.updated_since,
            statuses: self.status.clone(),
            labels: self.label.clone(),
            fields: self.fields.clone(),
            created_before: None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Existing {
    /// None: only issues created or changed from now on cross.
    None,
    /// Every issue of the project.
    All,
    /// Those the --existing-* filters match.
    Matching,
}

/// At `sync create`/`accept`: what happens to issues that already exist.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Existing issues (an initial resync)")]
pub struct ExistingArgs {
    /// Issues that exist before the sync: none cross until they change
    /// (the default), all of the project, or those matching the
    /// --existing-* filters. They cross once the partner is known.
    #[arg(long, value_enum, default_value = "none")]
    pub existing: Existing,
    /// With --existing matching: these issues (comma-separated keys).
    #[arg(long, value_delimiter = ',', value_name = "KEY,...")]
    pub existing_keys: Vec<String>,
    /// With --existing matching: issues updated at or after this date.
    #[arg(long, value_name = "DATE", value_parser = parse_time)]
    pub existing_updated_since: Option<i64>,
    /// With --existing matching: issues in one of these statuses.
    #[arg(long, value_delimiter = ',', value_name = "STATUS,...")]
    pub existing_status: Vec<String>,
    /// With --existing matching: issues with one of these labels.
    #[arg(long, value_delimiter = ',', value_name = "LABEL,...")]
    pub existing_label: Vec<String>,
}

impl ExistingArgs {
    /// The scope to send once the partner is known, if any: issues made
    /// before now (not those the partner sends meanwhile).
    pub fn scope(&self) -> Result<Option<Scope>> {
        let now = crate::store::now_ms() + 1;
        let filtered = !self.existing_keys.is_empty()
            || self.existing_updated_since.is_some()
            || !self.existing_status.is_empty()
            || !self.existing_label.is_empty();
        match self.existing {
            Existing::None | Existing::All if filtered => {
                bail!("the --existing-* filters need --existing matching")
            }
            Existing::Matching if !filtered => bail!(
                "--existing matching needs a filter: --existing-keys, --existing-updated-since, --existing-status \
                 or --existing-label"
            ),
            Existing::None => Ok(None),
            Existing::All => Ok(Some(Scope { created_before: Some(now), ..Default::default() })),
            Existing::Matching => Ok(Some(Scope {
                keys: self.existing_keys.clone(),
                updated_since: self.existing_updated_since,
                statuses: self.existing_status.clone(),
                labels: self.existing_label.clone(),
                fields: Vec::new(),
                created_before: Some(now),
            })),
        }
    }

    /// One line for the admin: what happens to existing issues.
    pub fn say(&self) -> &'static str {
        match self.existing {
            Existing::None => "none cross until they change (--existing all or matching sends them)",
            Existing::All => "all of the project cross once the partner is known",
            Existing::Matching => "those matching the filter cross once the partner is known",
        }
    }
}
