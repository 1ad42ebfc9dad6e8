//! The embedded tracker's projects: made with a key, a name and the
//! statuses they allow, listed with how many issues they hold.

use anyhow::Result;
use rusqlite::{params, OptionalExtension};

use super::Embedded;

/// A project of the embedded tracker.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Project {
    pub key: String,
    pub name: String,
    /// Allowed statuses; `None` allows any.
    pub statuses: Option<Vec<String>>,
    pub issues: u64,
}

impl Embedded<'_> {
    pub fn create_project(&self, key: &str, name: &str, statuses: Option<&[String]>) -> Result<()> {
        let valid = !key.is_empty()
            && key.len() <= 20
            && key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !valid {
            anyhow::bail!(
                "project key '{key}' is invalid: use 1-20 upper-case letters and digits, starting with a letter"
            );
        }
        if self.project(key)?.is_some() {
            anyhow::bail!("project {key} already exists");
        }
        let statuses = statuses.map(|s| serde_json::to_string(s).expect("json"));
        self.conn
            .execute("INSERT INTO t_project (key, name, statuses) VALUES (?1, ?2, ?3)", params![key, name, statuses])?;
        Ok(())
    }

    pub fn project(&self, key: &str) -> Result<Option<Project>> {
        Ok(self
            .conn
            .query_row(
                "SELECT key, name, statuses, (SELECT COUNT(*) FROM t_issue WHERE project = p.key)
                 FROM t_project p WHERE key = ?1",
                [key],
                |r| {
                    let statuses: Option<String> = r.get(2)?;
                    Ok(Project {
                        key: r.get(0)?,
                        name: r.get(1)?,
                        statuses: statuses.and_then(|s| serde_json::from_str(&s).ok()),
                        issues: r.get::<_, i64>(3)? as u64,
                    })
                },
            )
            .optional()?)
    }

    pub fn projects(&self) -> Result<Vec<Project>> {
        let keys: Vec<String> = self
            .conn
            .prepare("SELECT key FROM t_project ORDER BY key")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        keys.iter().filter_map(|k| self.project(k).transpose()).collect()
    }
}
