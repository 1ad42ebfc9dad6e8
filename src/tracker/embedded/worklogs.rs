//! Worklogs, users and the values a project accepts, in the embedded
//! tracker: time kept in `t_worklog`, users in `t_user` (by name, with an
//! e-mail address for mappings), allowed values in `t_project`.

use rusqlite::{params, OptionalExtension};

use super::Embedded;
use crate::clock::now_ms;
use crate::tracker::checks::check_worklog;
use crate::tracker::{Actor, ChangeKind, CommentOrigin, NewWorklog, Refusal, TResult, User, Vocabulary, Worklog};

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Worklog> {
    Ok(Worklog {
        id: r.get::<_, i64>(0)?.to_string(),
        author: r.get(1)?,
        on_behalf_of: r.get(2)?,
        minutes: r.get(3)?,
        spent_on: r.get(4)?,
        comment: r.get(5)?,
        email: None,
        updated_at: r.get(6)?,
    })
}

const COLUMNS: &str = "id, author, on_behalf_of, minutes, spent_on, comment, updated_at";

impl Embedded<'_> {
    /// The live worklogs of an issue, oldest first.
    pub(super) fn worklogs_of(&self, issue_id: i64) -> TResult<Vec<Worklog>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {COLUMNS} FROM t_worklog WHERE issue_id = ?1 AND deleted = 0 ORDER BY created_at, id"
        ))?;
        let mut rows: Vec<Worklog> = stmt.query_map([issue_id], row)?.collect::<rusqlite::Result<_>>()?;
        for w in &mut rows {
            w.email = self.email_of(&w.author)?;
        }
        Ok(rows)
    }

    fn worklog(&self, issue_id: i64, key: &str, id: &str) -> TResult<Worklog> {
        let missing = || Refusal::NoWorklog { issue: key.into(), worklog: id.into() };
        let n: i64 = id.parse().map_err(|_| missing())?;
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM t_worklog WHERE id = ?1 AND issue_id = ?2 AND deleted = 0"),
                params![n, issue_id],
                row,
            )
            .optional()?
            .ok_or_else(|| missing().into())
    }

    pub(super) fn insert_worklog(
        &self,
        key: &str,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        check_worklog(w)?;
        let (issue_id, project) = self.issue_row(key)?;
        let author = w.user.unwrap_or(actor.user);
        self.check_user(author)?;
        let now = now_ms();
        self.conn().execute(
            "INSERT INTO t_worklog (issue_id, author, on_behalf_of, minutes, spent_on, comment, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![issue_id, author, origin.map(|o| o.author), w.minutes, w.spent_on, w.comment, now],
        )?;
        let id = self.conn().last_insert_rowid().to_string();
        let mut worklog = self.worklog(issue_id, key, &id)?;
        worklog.email = self.email_of(&worklog.author)?;
        self.log(&project, key, actor, &ChangeKind::WorklogAdded { worklog })?;
        Ok(id)
    }

    pub(super) fn update_worklog(&self, key: &str, id: &str, w: &NewWorklog<'_>, actor: Actor<'_>) -> TResult<()> {
        check_worklog(w)?;
        let (issue_id, project) = self.issue_row(key)?;
        let old = self.worklog(issue_id, key, id)?;
        let author = w.user.unwrap_or(&old.author);
        self.check_user(author)?;
        self.conn().execute(
            "UPDATE t_worklog SET author = ?2, minutes = ?3, spent_on = ?4, comment = ?5, updated_at = ?6 WHERE id = ?1",
            params![old.id.parse::<i64>().unwrap_or_default(), author, w.minutes, w.spent_on, w.comment, now_ms()],
        )?;
        let mut worklog = self.worklog(issue_id, key, id)?;
        worklog.email = self.email_of(&worklog.author)?;
        self.log(&project, key, actor, &ChangeKind::WorklogEdited { worklog })
    }

    pub(super) fn remove_worklog(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        let (issue_id, project) = self.issue_row(key)?;
        let old = self.worklog(issue_id, key, id)?;
        self.conn().execute(
            "UPDATE t_worklog SET deleted = 1, updated_at = ?2 WHERE id = ?1",
            params![old.id.parse::<i64>().unwrap_or_default(), now_ms()],
        )?;
        self.log(&project, key, actor, &ChangeKind::WorklogDeleted { worklog: id.into() })
    }

    /// Adds or changes a user of the directory.
    pub fn set_user(&self, name: &str, email: Option<&str>) -> anyhow::Result<()> {
        if name.trim().is_empty() {
            anyhow::bail!("a user needs a name");
        }
        if let Some(e) = email {
            let other = self
                .users()?
                .into_iter()
                .find(|u| u.name != name && u.email.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(e)));
            if let Some(u) = other {
                anyhow::bail!("{} has the address {e} already: mappings match users by address, one user each", u.name);
            }
        }
        self.conn().execute(
            "INSERT INTO t_user (name, email) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET email = ?2",
            params![name, email],
        )?;
        Ok(())
    }

    /// The user directory; empty when none was set up (any name is taken).
    pub fn users(&self) -> TResult<Vec<User>> {
        let mut stmt = self.conn().prepare_cached("SELECT name, email FROM t_user ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok(User { name: r.get(0)?, email: r.get(1)?, id: None }))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A user's e-mail address, if the directory has one.
    pub(super) fn email_of(&self, name: &str) -> TResult<Option<String>> {
        let mut stmt = self.conn().prepare_cached("SELECT email FROM t_user WHERE name = ?1")?;
        Ok(stmt.query_row([name], |r| r.get(0)).optional()?.flatten())
    }

    /// With a directory, only its users may be named.
    pub(super) fn check_user(&self, name: &str) -> TResult<()> {
        let users = self.users()?;
        if name.is_empty() || users.is_empty() || users.iter().any(|u| u.name == name) {
            return Ok(());
        }
        Err(Refusal::Unknown {
            what: "user".into(),
            value: name.into(),
            known: users.into_iter().map(|u| u.name).collect(),
        }
        .into())
    }

    /// A project's allowed `column` values (statuses, priorities, types).
    pub(super) fn allowed(&self, project: &str, column: &str) -> TResult<Option<Vec<String>>> {
        let sql = format!("SELECT {column} FROM t_project WHERE key = ?1");
        let list: Option<Option<String>> = self.conn().query_row(&sql, [project], |r| r.get(0)).optional()?;
        let list = list.ok_or_else(|| Refusal::NoProject(project.into()))?;
        Ok(list.and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Refuses a priority or type the project does not allow.
    pub(super) fn check_allowed(&self, project: &str, what: &str, column: &str, value: &str) -> TResult<()> {
        match self.allowed(project, column)? {
            Some(list) if !list.iter().any(|v| v == value) => {
                Err(Refusal::Unknown { what: what.into(), value: value.into(), known: list }.into())
            }
            _ => Ok(()),
        }
    }

    /// Replaces a project's allowed priorities or types (`None`: any).
    pub fn set_allowed(&self, key: &str, column: &str, values: Option<&[String]>) -> anyhow::Result<()> {
        anyhow::ensure!(matches!(column, "statuses" | "priorities" | "types"), "no such list: {column}");
        let values = values.map(|s| serde_json::to_string(s).expect("json"));
        let sql = format!("UPDATE t_project SET {column} = ?2 WHERE key = ?1");
        if self.conn().execute(&sql, params![key, values])? == 0 {
            anyhow::bail!("project {key} does not exist");
        }
        Ok(())
    }

    /// Renames project `key` (the name shown; the key stays).
    pub fn set_project_name(&self, key: &str, name: &str) -> anyhow::Result<()> {
        anyhow::ensure!(!name.trim().is_empty(), "a project's name must not be empty");
        if self.conn().execute("UPDATE t_project SET name = ?2 WHERE key = ?1", params![key, name.trim()])? == 0 {
            anyhow::bail!("project {key} does not exist");
        }
        Ok(())
    }

    pub(super) fn vocabulary_of(&self, project: &str) -> TResult<Vocabulary> {
        let users = self.users()?;
        Ok(Vocabulary {
            statuses: self.allowed(project, "statuses")?,
            priorities: self.allowed(project, "priorities")?,
            types: self.allowed(project, "types")?,
            custom_fields: None,
            users: (!users.is_empty()).then_some(users),
        })
    }
}
