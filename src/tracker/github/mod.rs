//! GitHub Issues (github.com and Enterprise Server, REST API 2022-11-28):
//! one repository's issues (pull requests left out) with title, body,
//! status, labels, assignee, issue type and milestone, and comments.
//! GitHub's REST API holds neither files nor logged time: a partner's are
//! listed on the issue as not carried, never dropped unsaid. Changes are
//! found by state (`detect`) from `since` windows read conditionally
//! (`api`: a 304 costs no rate limit).

mod answer;
mod api;
mod app;
mod detect;
pub mod meta;
mod read;
pub mod settings;
mod write;

use crate::tracker::remote::rest::Rest;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;

pub use self::settings::{GitHubAuth, GitHubSettings};

use self::api::{Api, PER_PAGE};
use self::meta::{str_of, Meta};
use super::remote::state::{State, Wrote};
use super::{
    Actor, AttachmentInfo, ChangePage, CommentOrigin, Issue, NewAttachment, NewWorklog, Reads, Refusal, TResult,
    TrackerError, Vocabulary, Writes, WrittenBefore,
};
use crate::protocol::{FieldChanges, IssueFields};

/// The GitHub backend of one sync.
pub struct GitHub {
    api: Api,
    settings: GitHubSettings,
    meta: Mutex<Option<Arc<Meta>>>,
    /// What was last sent or written, per issue (change detection).
    state: State,
    /// The journal's tag for the next issue or comment added.
    next_tag: Mutex<Option<String>>,
    sync_id: String,
}

/// Issues a webhook named, per sync: read whole at the sync's next poll
/// (a deleted comment moves no time GitHub lists by).
static HINTS: Mutex<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>> =
    Mutex::new(std::collections::BTreeMap::new());

/// A webhook of sync `sync_id` named issue `number`.
pub fn hint(sync_id: &str, number: u64) {
    let mut hints = HINTS.lock().unwrap_or_else(|e| e.into_inner());
    hints.entry(sync_id.to_string()).or_default().insert(number.to_string());
}

/// The issues webhooks named for `sync_id` since the last take.
fn take_hints(sync_id: &str) -> std::collections::BTreeSet<String> {
    HINTS.lock().unwrap_or_else(|e| e.into_inner()).remove(sync_id).unwrap_or_default()
}

/// Where a GitHub sync keeps its detection state.
pub fn state_path(home: &Path, sync_id: &str) -> std::path::PathBuf {
    home.join("trackers").join(format!("github-{sync_id}.db"))
}

impl GitHub {
    /// `home`: where the backend keeps its own state (`trackers/`).
    pub fn open(settings: &GitHubSettings, home: &Path, sync_id: &str) -> anyhow::Result<Self> {
        settings.check()?;
        Ok(GitHub {
            api: Api::new(settings)?,
            settings: settings.clone(),
            meta: Mutex::new(None),
            state: State::new(&state_path(home, sync_id)),
            next_tag: Mutex::new(None),
            sync_id: sync_id.to_string(),
        })
    }

    /// What postern knows of the repository (read once).
    fn meta(&self) -> TResult<Arc<Meta>> {
        if let Some(m) = &*self.meta.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(m.clone());
        }
        self.reload_meta()
    }

    /// Read again: a name asked for was not known (made since).
    fn reload_meta(&self) -> TResult<Arc<Meta>> {
        let m = Arc::new(Meta::load(&self.api, &self.settings)?);
        *self.meta.lock().unwrap_or_else(|e| e.into_inner()) = Some(m.clone());
        Ok(m)
    }

    fn take_tag(&self) -> Option<String> {
        self.next_tag.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn issue_path(&self, key: &str) -> String {
        format!("{}/issues/{}", self.settings.repo_path(), key.trim_start_matches('#'))
    }

    /// Issue `key` as GitHub has it; `None` if it is not there, is a pull
    /// request, or was moved to another repository.
    fn issue_json(&self, key: &str) -> TResult<Option<Value>> {
        if key.trim_start_matches('#').parse::<u64>().is_err() {
            return Ok(None);
        }
        Ok(self
            .api
            .get_opt(&self.issue_path(key))?
            .filter(|v| v["pull_request"].is_null() && str_of(&v["number"]) == key.trim_start_matches('#')))
    }

    /// The comments of issue `key`, oldest first.
    fn comments_json(&self, key: &str) -> TResult<Vec<Value>> {
        self.api.get_all(&format!("{}/comments?per_page={PER_PAGE}", self.issue_path(key)))
    }

    /// The events of issue `key` (who set which field), oldest first.
    fn events_json(&self, key: &str) -> TResult<Vec<Value>> {
        self.api.get_all(&format!("{}/events?per_page={PER_PAGE}", self.issue_path(key)))
    }

    fn full(&self, v: &Value) -> TResult<Issue> {
        let comments = match v["comments"].as_u64() {
            Some(0) => Vec::new(),
            _ => self.comments_json(&str_of(&v["number"]))?,
        };
        Ok(read::issue(v, &comments, &self.settings, &*self.meta()?))
    }

    /// Issue `v` (with `comments`), as read after postern wrote `what`.
    fn remember(&self, v: &Value, comments: &[Value], what: Wrote<'_>) -> TResult<()> {
        let m = self.meta()?;
        let i = read::issue(v, comments, &self.settings, &m);
        self.state.written_part(&i, what, m.is_sync_user(&v["user"]))
    }

    /// What postern just wrote to issue `key` (`v`: the issue as the
    /// answer gave it, or null): remembered, never reported.
    fn wrote(&self, key: &str, v: &Value, what: Wrote<'_>) -> TResult<()> {
        if self.state.written_known(key, &what)? {
            return Ok(());
        }
        if !v.is_null() && self.state.get(key)?.is_some() {
            return self.remember(v, &[], what);
        }
        let Some(v) = self.issue_json(key)? else { return Ok(()) };
        let comments = self.comments_json(key)?;
        self.remember(&v, &comments, what)
    }

    /// Checks before a sync is saved: reachable, trusted, the token
    /// valid, the repository visible with issues, the permissions a sync
    /// needs. Each failure says what to do.
    pub fn check(&self) -> TResult<String> {
        let s = &self.settings;
        let m = match self.meta() {
            Err(TrackerError::Refused(Refusal::NoProject(r))) => {
                return Err(Refusal::Invalid(format!(
                    "the repository {r} does not exist at {}, or the sync user's token cannot see it (a \
                     fine-grained token needs it under \"Repository access\", with Metadata: Read)",
                    s.base()
                ))
                .into())
            }
            other => other?,
        };
        if !m.has_issues {
            return Err(Refusal::Invalid(format!(
                "the repository {} has issues turned off: turn them on (Settings → General → Features → Issues)",
                s.repo
            ))
            .into());
        }
        let missing = meta::missing_permissions(&self.api, s)?;
        if !missing.is_empty() {
            return Err(Refusal::Invalid(format!(
                "the sync user {}'s token lacks, on {}: {}; give them to the token (fine-grained: Repository \
                 permissions) or to the App",
                m.login,
                s.repo,
                missing.join(", ")
            ))
            .into());
        }
        Ok(format!(
            "GitHub {}: repository {}, sync user {}, {} assignable users, {} milestones, {}; not carried: \
             priority, due date, attachments, worklogs",
            s.base(),
            s.repo,
            m.login,
            m.users.len(),
            m.milestones.len(),
            match &m.types {
                Some(t) => format!("{} issue types", t.len()),
                None => "no issue types".into(),
            }
        ))
    }

    /// Requests made, those answered 304 (no rate limit used), and the
    /// rate limit left at the last answer (benchmarks, `status`).
    pub fn calls(&self) -> (u64, u64, i64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.api.calls.load(Relaxed), self.api.not_modified.load(Relaxed), self.api.remaining.load(Relaxed))
    }
}

/// Why GitHub cannot take a part of an issue.
fn not_carried(what: &str) -> TrackerError {
    Refusal::NotCarried(format!("GitHub issues hold no {what} (its REST API has no place for them)")).into()
}

impl Reads for GitHub {
    fn has_project(&self, _project: &str) -> TResult<bool> {
        match self.meta() {
            Ok(_) => Ok(true),
            Err(TrackerError::Refused(Refusal::NoProject(_))) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn start_cursor(&self, _project: &str) -> TResult<String> {
        crate::tracker::remote::start_cursor(|| detect::start(self, None))
    }

    fn changes_since(&self, _project: &str, cursor: &str, _limit: usize) -> TResult<ChangePage> {
        let hinted = take_hints(&self.sync_id);
        let page = detect::changes(self, cursor, &hinted);
        if page.is_err() {
            // Read at the next poll instead.
            hinted.iter().filter_map(|k| k.parse().ok()).for_each(|n| hint(&self.sync_id, n));
        }
        page
    }

    fn collected(&self, _cursor: &str) -> TResult<()> {
        self.state.commit()
    }

    fn uncollected(&self) {
        self.state.discard();
    }

    fn issue_keys(&self, _project: &str) -> TResult<Vec<String>> {
        let path =
            format!("{}/issues?state=all&sort=created&direction=asc&per_page={PER_PAGE}", self.settings.repo_path());
        Ok(self
            .api
            .get_all(&path)?
            .iter()
            .filter(|v| v["pull_request"].is_null())
            .map(|v| str_of(&v["number"]))
            .collect())
    }

    fn not_carried(&self) -> TResult<Vec<String>> {
        let mut out: Vec<String> = ["priority", "due_date", "attachments", "worklogs"].map(String::from).into();
        if self.meta()?.types.is_none() {
            out.push("type".into());
        }
        Ok(out)
    }

    fn issue(&self, key: &str) -> TResult<Option<Issue>> {
        match self.issue_json(key)? {
            Some(v) => Ok(Some(self.full(&v)?)),
            None => Ok(None),
        }
    }

    fn local_field_time(&self, key: &str, field: &str, _sync: &str) -> TResult<Option<i64>> {
        Ok(self.local_field_times(key, _sync)?.get(field).copied())
    }

    fn local_field_times(&self, key: &str, _sync: &str) -> TResult<std::collections::BTreeMap<String, i64>> {
        let Some(v) = self.issue_json(key)? else { return Err(Refusal::NoIssue(key.into()).into()) };
        let (events, m) = (self.events_json(key)?, self.meta()?);
        Ok(crate::protocol::FIELD_NAMES
            .iter()
            .filter_map(|f| Some((f.to_string(), read::field_time(&v, &events, f, &m)?)))
            .collect())
    }

    /// GitHub does not say who edited a comment: one the sync user wrote
    /// is taken as postern's.
    fn local_comment_time(&self, key: &str, comment: &str, _sync: &str) -> TResult<Option<i64>> {
        let Some(c) = self.comments_json(key)?.into_iter().find(|c| str_of(&c["id"]) == comment) else {
            return Ok(None);
        };
        Ok((!self.meta()?.is_sync_user(&c["user"])).then(|| read::ms(&c["updated_at"])))
    }

    fn local_worklog_time(&self, _key: &str, _id: &str, _sync: &str) -> TResult<Option<i64>> {
        Ok(None)
    }

    fn copy_attachment(&self, _: &str, _: &str, _: &mut dyn std::io::Write) -> TResult<Option<AttachmentInfo>> {
        Ok(None)
    }

    fn vocabulary(&self, _project: &str) -> TResult<Vocabulary> {
        let m = self.meta()?;
        Ok(Vocabulary {
            statuses: Some(meta::STATUSES.iter().map(|s| s.to_string()).collect()),
            priorities: None,
            types: m.types.clone(),
            custom_fields: Some(vec![read::MILESTONE.to_string()]),
            users: Some(m.users.clone()),
        })
    }

    fn take_throttled(&self) -> u64 {
        self.api.take_throttled()
    }

    fn answer_timeout(&self) -> std::time::Duration {
        self.api.timeout
    }

    /// A write begun before an interruption: the one carrying `tag` in
    /// its hidden mark, or (made without one) found by what the sync user
    /// made since `since`.
    fn find_write(&self, write: &WrittenBefore<'_>, tag: &str, since: i64) -> TResult<Option<String>> {
        let found = detect::find(self, write, tag, since)?;
        if let (Some(id), WrittenBefore::Issue { .. }) = (&found, write) {
            // Not kept as read: what a person did in it since is news.
            self.state.forget(id)?;
        }
        if let (Some(id), WrittenBefore::Comment { key, body, .. }) = (&found, write) {
            self.wrote(key, &Value::Null, Wrote::Comment(id, Some(body)))?;
        }
        Ok(found)
    }
}

impl Writes for GitHub {
    fn create_issue(&self, _project: &str, fields: &IssueFields, _actor: Actor<'_>) -> TResult<String> {
        self.create(fields)
    }

    fn update_issue(&self, key: &str, changes: &FieldChanges, _actor: Actor<'_>) -> TResult<()> {
        self.update(key, changes)
    }

    fn add_comment(&self, key: &str, body: &str, origin: Option<CommentOrigin<'_>>, _: Actor<'_>) -> TResult<String> {
        self.comment_add(key, body, origin)
    }

    fn edit_comment(&self, key: &str, comment: &str, body: &str, _actor: Actor<'_>) -> TResult<()> {
        self.comment_edit(key, comment, body)
    }

    fn delete_comment(&self, key: &str, comment: &str, _actor: Actor<'_>) -> TResult<()> {
        self.comment_delete(key, comment)
    }

    fn add_attachment(
        &self,
        _key: &str,
        _file: NewAttachment<'_>,
        _origin: Option<CommentOrigin<'_>>,
        _actor: Actor<'_>,
    ) -> TResult<String> {
        Err(not_carried("files"))
    }

    /// Nothing of postern's is there to delete.
    fn delete_attachment(&self, _key: &str, _id: &str, _actor: Actor<'_>) -> TResult<()> {
        Ok(())
    }

    fn add_worklog(
        &self,
        _key: &str,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
        _actor: Actor<'_>,
    ) -> TResult<String> {
        let who = origin.map(|o| format!(" by {}", o.author)).unwrap_or_default();
        Err(not_carried(&format!("logged time ({} min on {}{who})", w.minutes, w.spent_on)))
    }

    fn edit_worklog(&self, _key: &str, _id: &str, _w: &NewWorklog<'_>, _actor: Actor<'_>) -> TResult<()> {
        Err(not_carried("logged time"))
    }

    fn delete_worklog(&self, _key: &str, _id: &str, _actor: Actor<'_>) -> TResult<()> {
        Ok(())
    }

    fn tag_next_write(&self, tag: &str) {
        *self.next_tag.lock().unwrap_or_else(|e| e.into_inner()) = Some(tag.to_string());
    }
}
