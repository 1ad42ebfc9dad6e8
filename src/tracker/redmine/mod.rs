//! Redmine over its REST API: issues of one project (subject, description,
//! status, priority, assignee, labels through a custom field), journals
//! with notes as comments, attachments. Changes are found by state (see
//! `detect`), since Redmine keeps no change log postern could read.

pub(crate) mod api;
mod custom;
mod detect;
mod find;
mod issue;
mod meta;
mod permissions;
mod read;
pub mod settings;
mod shapes;
mod time;
mod write;

use crate::tracker::remote::rest::Rest;
use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;

use self::api::Api;
use self::meta::Meta;
pub use self::settings::RedmineSettings;
use super::remote::state::Wrote;
use super::{AttachmentInfo, ChangePage, Issue, Reads, Refusal, TResult, TrackerError, Vocabulary, WrittenBefore};

/// The Redmine backend of one sync.
pub struct Redmine {
    api: Api,
    settings: RedmineSettings,
    meta: OnceLock<Meta>,
    users: OnceLock<Vec<crate::tracker::User>>,
    /// Custom fields found on issues since (see `custom`).
    learned: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    /// What was last sent or written, per issue (change detection).
    state: crate::tracker::remote::state::State,
    /// Issues read while finding changes, until the engine has collected
    /// them (its snapshot of a new issue need not read it again).
    recent: std::sync::Mutex<std::collections::HashMap<String, Issue>>,
    /// Values the last writes could not set (see `take_not_held`).
    not_held: std::sync::Mutex<Vec<String>>,
}

impl Redmine {
    /// `home`: where the backend keeps its own state (`trackers/`).
    pub fn open(settings: &RedmineSettings, home: &Path, sync_id: &str) -> anyhow::Result<Self> {
        settings.check()?;
        Ok(Redmine {
            api: Api::new(settings)?,
            settings: settings.clone(),
            meta: OnceLock::new(),
            users: OnceLock::new(),
            learned: Default::default(),
            state: crate::tracker::remote::state::State::new(&state_path(home, sync_id)),
            recent: Default::default(),
            not_held: Default::default(),
        })
    }

    fn meta(&self) -> TResult<&Meta> {
        if let Some(m) = self.meta.get() {
            return Ok(m);
        }
        let m = Meta::load(&self.api, &self.settings)?;
        Ok(self.meta.get_or_init(|| m))
    }

    /// Checks before a sync is saved: reachable, trusted, the key valid,
    /// the project visible, the labels field there.
    pub fn check(&self) -> TResult<String> {
        let m = match self.meta() {
            Err(TrackerError::Refused(Refusal::NoProject(p))) => {
                return Err(Refusal::Invalid(format!(
                    "project '{p}' does not exist in Redmine at {}, or the sync user is not a member of it",
                    self.settings.base()
                ))
                .into())
            }
            other => other?,
        };
        // Every name in the tables must be Redmine's.
        for (what, table, ids) in
            [("status", &self.settings.statuses, &m.statuses), ("priority", &self.settings.priorities, &m.priorities)]
        {
            for (theirs, ours) in table {
                if !ids.contains_key(ours) {
                    let known: Vec<&str> = ids.keys().map(String::as_str).collect();
                    return Err(Refusal::Invalid(format!(
                        "--{what}-map maps '{theirs}' to '{ours}', which is not a Redmine {what} (Redmine has: {})",
                        known.join(", ")
                    ))
                    .into());
                }
            }
        }
        let granted = permissions::granted(&self.api, m.project_id)?;
        let mut without = permissions::check(granted.as_ref(), &m.user_name, &self.settings.project, m.time_tracking)?;
        if !m.shapes.formats_known() && !m.custom_fields.is_empty() {
            without.push(
                "custom fields' formats are not known (Redmine shows them only to an admin): a user, version or \
                 key/value list field crosses as Redmine's ids, the others (text, list, date, number, link, \
                 yes/no) as they are"
                    .into(),
            );
        }
        Ok(format!(
            "Redmine {}: project {} (id {}), sync user {} (id {}), {} statuses, {} priorities, {} members{}",
            self.settings.base(),
            self.settings.project,
            m.project_id,
            m.user_name,
            m.user_id,
            m.statuses.len(),
            m.priorities.len(),
            m.members.len(),
            without.iter().map(|w| format!("\n{w}")).collect::<String>()
        ))
    }

    fn issue_json(&self, key: &str) -> TResult<Option<Value>> {
        let Ok(n) = key.parse::<u64>() else {
            return Ok(None);
        };
        Ok(self.api.get_opt(&format!("/issues/{n}.json?include=journals,attachments"))?.map(|v| v["issue"].clone()))
    }

    fn must_issue(&self, key: &str) -> TResult<Value> {
        let issue = self.issue_json(key)?.ok_or_else(|| Refusal::NoIssue(key.into()))?;
        if issue["project"]["id"].as_u64() != Some(self.meta()?.project_id) {
            return Err(Refusal::NoIssue(format!("{key} (in another Redmine project)")).into());
        }
        Ok(issue)
    }
}

impl Reads for Redmine {
    fn answer_timeout(&self) -> std::time::Duration {
        self.api.timeout
    }
    fn has_project(&self, _project: &str) -> TResult<bool> {
        match self.meta() {
            Ok(_) => Ok(true),
            Err(crate::tracker::TrackerError::Refused(Refusal::NoProject(_))) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Empty: the first look at Redmine marks the start (a sync can be
    /// saved while Redmine is away).
    /// Where a new sync starts: now (what is there now is known), not at
    /// its first poll, which may come days later.
    fn start_cursor(&self, _project: &str) -> TResult<String> {
        crate::tracker::remote::start_cursor(|| detect::start(self, None))
    }

    fn changes_since(&self, _project: &str, cursor: &str, limit: usize) -> TResult<ChangePage> {
        detect::changes(self, cursor, limit)
    }

    fn collected(&self, _cursor: &str) -> TResult<()> {
        self.recent.lock().expect("lock").clear();
        self.state.commit()
    }

    fn uncollected(&self) {
        self.recent.lock().expect("lock").clear();
        self.state.discard();
    }

    fn issue_keys(&self, _project: &str) -> TResult<Vec<String>> {
        let m = self.meta()?;
        let mut keys = Vec::new();
        loop {
            let path =
                format!("/issues.json?project_id={}&status_id=*&sort=id&limit=100&offset={}", m.project_id, keys.len());
            let v = self.api.get(&path)?;
            let page = v["issues"].as_array().cloned().unwrap_or_default();
            keys.extend(page.iter().filter_map(|i| i["id"].as_u64()).map(|id| id.to_string()));
            if page.is_empty() || keys.len() as u64 >= v["total_count"].as_u64().unwrap_or(0) {
                return Ok(keys);
            }
        }
    }

    fn issue(&self, key: &str) -> TResult<Option<Issue>> {
        if let Some(i) = self.recent.lock().expect("lock").get(key) {
            return Ok(Some(i.clone()));
        }
        let m = self.meta()?;
        match self.issue_json(key)? {
            Some(v) if v["project"]["id"].as_u64() == Some(m.project_id) => Ok(Some(self.full(&v)?)),
            _ => Ok(None),
        }
    }

    /// Labels without a labels field, worklogs without time tracking, and
    /// attachments' digests (an issue's read gives sizes only).
    fn take_not_held(&self) -> Vec<String> {
        std::mem::take(&mut *self.not_held.lock().expect("lock"))
    }

    fn not_carried(&self) -> TResult<Vec<String>> {
        let m = self.meta()?;
        let mut out = vec!["attachment_digests".to_string()];
        if m.labels_field.is_none() && m.label_categories.is_none() {
            out.push("labels".to_string());
        }
        if !m.time_tracking {
            out.push("worklogs".to_string());
        }
        Ok(out)
    }

    fn issues(&self, keys: &[String]) -> TResult<Vec<Option<Issue>>> {
        match keys {
            [one] => Ok(vec![self.issue(one)?]),
            _ => self.many(keys),
        }
    }

    fn local_field_time(&self, key: &str, field: &str, _sync: &str) -> TResult<Option<i64>> {
        let v = self.must_issue(key)?;
        Ok(issue::field_time(&v, field, self.meta()?))
    }

    fn local_field_times(&self, key: &str, _sync: &str) -> TResult<std::collections::BTreeMap<String, i64>> {
        let (v, m) = (self.must_issue(key)?, self.meta()?);
        let times =
            crate::protocol::FIELD_NAMES.iter().filter_map(|f| Some((f.to_string(), issue::field_time(&v, f, m)?)));
        Ok(times.collect())
    }

    /// Redmine does not say who changed a time entry: one still as postern
    /// wrote it was not changed here since.
    fn local_worklog_time(&self, key: &str, id: &str, _sync: &str) -> TResult<Option<i64>> {
        let Some(w) = self.worklogs(key)?.into_iter().find(|w| w.id == id) else {
            return Ok(None);
        };
        Ok((!self.state.ours(key, id, &crate::tracker::remote::state::fingerprint(&w))?).then_some(w.updated_at))
    }

    fn local_comment_time(&self, key: &str, comment: &str, _sync: &str) -> TResult<Option<i64>> {
        let v = self.must_issue(key)?;
        Ok(issue::comment_time(&v, comment, self.meta()?))
    }

    fn copy_attachment(&self, key: &str, id: &str, out: &mut dyn std::io::Write) -> TResult<Option<AttachmentInfo>> {
        let Some(i) = self.issue(key)? else {
            return Err(Refusal::NoIssue(key.into()).into());
        };
        let Some(mut info) = i.attachments.into_iter().find(|a| a.id == id) else {
            return Ok(None);
        };
        let mut hashing = crate::tracker::attachments::Hashing::new(out);
        if self.api.download(&format!("/attachments/download/{id}"), &mut hashing)?.is_none() {
            return Ok(None);
        }
        crate::tracker::attachments::check_download(&info.filename, info.size, hashing.written)?;
        info.sha256 = hashing.sha256();
        info.size = hashing.written;
        Ok(Some(info))
    }

    fn vocabulary(&self, _project: &str) -> TResult<Vocabulary> {
        let m = self.meta()?;
        Ok(Vocabulary {
            statuses: Some(m.statuses.keys().cloned().collect()),
            priorities: Some(m.priorities.keys().cloned().collect()),
            types: Some(m.trackers.keys().cloned().collect()),
            custom_fields: m.fields_complete.then(|| m.custom_fields.keys().cloned().collect()),
            users: Some(self.users()?),
        })
    }

    fn find_write(&self, write: &WrittenBefore<'_>, _tag: &str, since: i64) -> TResult<Option<String>> {
        let found = self.find(write, since)?;
        if let Some(id) = &found {
            // Found again: postern's, as if its answer had come (else the
            // partner would get its own worklog or comment back).
            match *write {
                // Not kept as read: what a person did in it since is news.
                WrittenBefore::Issue { .. } => self.state.forget(id)?,
                WrittenBefore::Comment { key, body, .. } => self.written(key, Wrote::Comment(id, Some(body)), None)?,
                WrittenBefore::Worklog { key, .. } => self.written(key, Wrote::Worklog(id), None)?,
                WrittenBefore::Attachment { key, .. } => self.written(key, Wrote::Attachment(id), None)?,
            }
        }
        Ok(found)
    }
}

/// Where change detection keeps its state for one sync.
pub fn state_path(home: &Path, sync_id: &str) -> std::path::PathBuf {
    home.join("trackers").join(format!("redmine-{sync_id}.db"))
}
