//! Jira Cloud (REST v3) and Jira Data Center (REST v2): issues of one
//! project (summary, description, status through transitions, priority,
//! type, labels, assignee, due date, custom fields by name), comments,
//! attachments and worklogs. Changes are found by state (`detect`), from
//! JQL windows in the sync user's time zone (`jql`). Descriptions and
//! comments are Atlassian Document Format on Cloud and wiki markup on Data
//! Center (`text`). What the sync user writes for someone at the partner
//! carries postern's property (`issue::PROPERTY`).

pub mod adf;
pub mod api;
mod detect;
mod files;
mod issue;
pub mod jql;
mod markdown;
pub mod meta;
mod notes;
mod read;
pub mod settings;
pub mod text;
mod wiki;
mod wiki_inline;
mod wiki_read;
mod workflow;
mod write;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

pub use self::settings::{Flavour, JiraAuth, JiraSettings};

/// How Jira Cloud's users are named by account id, as Jira's own mentions
/// do (`[~accountid:5b10…]`), in a mapping file and on the wire.
pub const ACCOUNT_ID: &str = "accountid:";

use self::api::Api;
use self::issue::PROPERTY;
use self::meta::{str_of, Meta};
use super::remote::state::{State, Wrote};
use super::{
    Actor, AttachmentInfo, ChangePage, CommentOrigin, Issue, NewAttachment, NewWorklog, Reads, Refusal, TResult,
    TrackerError, Vocabulary, Writes, WrittenBefore,
};
use crate::protocol::{FieldChanges, IssueFields};

/// The Jira backend of one sync.
pub struct Jira {
    api: Api,
    settings: JiraSettings,
    meta: OnceLock<Meta>,
    users: OnceLock<Vec<super::User>>,
    /// What was last sent or written, per issue (change detection).
    state: State,
    /// Issues postern wrote since the last read: Cloud's search is
    /// eventually consistent, so the next search reconciles them.
    written_ids: Mutex<Vec<String>>,
    /// The journal's tag for the next issue, comment or worklog added: it
    /// goes into the same request as postern's property (`write`).
    next_tag: Mutex<Option<String>>,
    /// Issue key → id, as read (`reconcileIssues` takes ids).
    ids: Mutex<HashMap<String, String>>,
}

impl Jira {
    /// Issue `v` was read: its id is known.
    fn read_id(&self, v: &serde_json::Value) {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.insert(str_of(&v["key"]), str_of(&v["id"]));
    }

    /// The journal's tag for this write, once.
    pub(super) fn take_tag(&self) -> Option<String> {
        self.next_tag.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// `home`: where the backend keeps its own state (`trackers/`).
    pub fn open(settings: &JiraSettings, home: &Path, sync_id: &str) -> anyhow::Result<Self> {
        settings.check()?;
        Ok(Jira {
            api: Api::new(settings)?,
            settings: settings.clone(),
            meta: OnceLock::new(),
            users: OnceLock::new(),
            state: State::new(&home.join("trackers").join(format!("jira-{sync_id}.db"))),
            written_ids: Mutex::new(Vec::new()),
            next_tag: Mutex::new(None),
            ids: Mutex::new(HashMap::new()),
        })
    }

    fn meta(&self) -> TResult<&Meta> {
        if let Some(m) = self.meta.get() {
            return Ok(m);
        }
        let m = Meta::load(&self.api, &self.settings)?;
        Ok(self.meta.get_or_init(|| m))
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
        let m = match self.meta() {
            Err(TrackerError::Refused(Refusal::NoProject(p))) => {
                return Err(Refusal::Invalid(format!(
                    "project {p} does not exist in Jira at {}, or the sync user cannot browse it",
                    s.base()
                ))
                .into())
            }
            other => other?,
        };
        let (advised, missing): (Vec<_>, Vec<_>) = Meta::missing_permissions(&self.api, s)?
            .into_iter()
            .partition(|(k, _)| meta::ADVISED.iter().any(|(a, _)| a == k));
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
        ) + &advised
            .iter()
            .map(|(k, without)| format!("\nwithout {k} (not granted): {without}"))
            .collect::<String>())
    }

    /// What postern just wrote to issue `key`: remembered, never reported
    /// (and only that: a person's change made meanwhile stays news).
    fn wrote(&self, key: &str, what: Wrote<'_>) -> TResult<()> {
        // Known as written: no read (the next search brings the issue).
        let id = self.ids.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned();
        if let Some(id) = id {
            if self.state.written_known(key, &what)? {
                self.written_ids.lock().expect("lock").push(id);
                return Ok(());
            }
        }
        match self.issue_json(key)? {
            Some(v) => self.remember(&v, what),
            None => Ok(()),
        }
    }

    /// The issue `v`, as read after postern wrote `what` to it.
    fn remember(&self, v: &serde_json::Value, what: Wrote<'_>) -> TResult<()> {
        self.written_ids.lock().expect("lock").push(str_of(&v["id"]));
        let ours = issue::is_sync_user(&v["fields"]["creator"], self.meta()?);
        self.state.written_part(&self.full_with(v, false)?.0, what, ours)
    }
}

impl Reads for Jira {
    fn has_project(&self, _project: &str) -> TResult<bool> {
        match self.meta() {
            Ok(_) => Ok(true),
            Err(TrackerError::Refused(Refusal::NoProject(_))) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Empty: the first look at Jira marks the start.
    /// Where a new sync starts: now (what is there now is known), not at
    /// its first poll, which may come days later.
    fn start_cursor(&self, _project: &str) -> TResult<String> {
        crate::tracker::remote::start_cursor(|| detect::start(self, None))
    }

    fn changes_since(&self, _project: &str, cursor: &str, _limit: usize) -> TResult<ChangePage> {
        detect::changes(self, cursor)
    }

    fn collected(&self, _cursor: &str) -> TResult<()> {
        self.state.commit()
    }

    fn uncollected(&self) {
        self.state.discard();
    }

    fn issue_keys(&self, _project: &str) -> TResult<Vec<String>> {
        let jql = format!("project = \"{}\" ORDER BY created ASC, key ASC", self.settings.project);
        Ok(self.search_all(&jql, &[], false)?.into_iter().map(|f| f.key).collect())
    }

    /// Attachments' digests: reading an issue gives their sizes only.
    fn not_carried(&self) -> TResult<Vec<String>> {
        Ok(vec!["attachment_digests".to_string()])
    }

    fn issue(&self, key: &str) -> TResult<Option<Issue>> {
        match self.issue_json(key)? {
            Some(v) => Ok(Some(self.full(&v)?)),
            None => Ok(None),
        }
    }

    fn local_field_time(&self, key: &str, field: &str, _sync: &str) -> TResult<Option<i64>> {
        self.field_time(key, field)
    }

    fn local_field_times(&self, key: &str, _sync: &str) -> TResult<std::collections::BTreeMap<String, i64>> {
        self.field_times(key, &crate::protocol::FIELD_NAMES)
    }

    fn local_comment_time(&self, key: &str, comment: &str, _sync: &str) -> TResult<Option<i64>> {
        self.note_time(key, "comment", comment)
    }

    fn local_worklog_time(&self, key: &str, id: &str, _sync: &str) -> TResult<Option<i64>> {
        self.note_time(key, "worklog", id)
    }

    fn copy_attachment(&self, key: &str, id: &str, out: &mut dyn std::io::Write) -> TResult<Option<AttachmentInfo>> {
        self.download(key, id, out)
    }

    fn vocabulary(&self, _project: &str) -> TResult<Vocabulary> {
        let m = self.meta()?;
        Ok(Vocabulary {
            statuses: Some(m.statuses.clone()),
            priorities: Some(m.priorities.keys().cloned().collect()),
            types: Some(m.types.keys().cloned().collect()),
            custom_fields: Some(m.custom.keys().cloned().collect()),
            users: Some(self.users()?.clone()),
        })
    }

    fn take_throttled(&self) -> u64 {
        self.api.take_throttled()
    }
    fn answer_timeout(&self) -> std::time::Duration {
        self.api.timeout
    }

    /// A write begun before an interruption: the one carrying `tag` in
    /// postern's property, or (made without one) found by what the sync
    /// user made since `since`.
    fn find_write(&self, write: &WrittenBefore<'_>, tag: &str, since: i64) -> TResult<Option<String>> {
        let found = self.find(write, tag, since)?;
        if let Some(id) = &found {
            // Found again: postern's, as if its answer had come (else the
            // partner would get its own worklog or comment back).
            match *write {
                // Not kept as read: what a person did in it since is news.
                WrittenBefore::Issue { .. } => self.state.forget(id)?,
                WrittenBefore::Comment { key, body, .. } => self.wrote(key, Wrote::Comment(id, Some(body)))?,
                WrittenBefore::Worklog { key, .. } => self.wrote(key, Wrote::Worklog(id))?,
                WrittenBefore::Attachment { key, .. } => self.wrote(key, Wrote::Attachment(id))?,
            }
        }
        Ok(found)
    }
}

impl Writes for Jira {
    fn create_issue(&self, _project: &str, fields: &IssueFields, _actor: Actor<'_>) -> TResult<String> {
        self.create(fields)
    }

    fn update_issue(&self, key: &str, changes: &FieldChanges, _actor: Actor<'_>) -> TResult<()> {
        self.update(key, changes)?;
        self.wrote(key, Wrote::Fields(changes))
    }

    fn add_comment(
        &self,
        key: &str,
        body: &str,
        origin: Option<CommentOrigin<'_>>,
        _actor: Actor<'_>,
    ) -> TResult<String> {
        let id = self.comment_add(key, body, origin)?;
        self.wrote(key, Wrote::Comment(&id, Some(body)))?;
        Ok(id)
    }

    fn edit_comment(&self, key: &str, comment: &str, body: &str, _actor: Actor<'_>) -> TResult<()> {
        self.comment_edit(key, comment, body)?;
        self.wrote(key, Wrote::Comment(comment, Some(body)))
    }

    fn delete_comment(&self, key: &str, comment: &str, _actor: Actor<'_>) -> TResult<()> {
        self.comment_delete(key, comment)?;
        self.wrote(key, Wrote::Comment(comment, None))
    }

    fn add_attachment(
        &self,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        _actor: Actor<'_>,
    ) -> TResult<String> {
        let id = self.attach(key, file, origin)?;
        self.wrote(key, Wrote::Attachment(&id))?;
        Ok(id)
    }

    fn delete_attachment(&self, key: &str, id: &str, _actor: Actor<'_>) -> TResult<()> {
        self.unattach(key, id)?;
        self.wrote(key, Wrote::Attachment(id))
    }

    fn add_worklog(
        &self,
        key: &str,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
        _actor: Actor<'_>,
    ) -> TResult<String> {
        let id = self.worklog_add(key, w, origin)?;
        self.wrote(key, Wrote::Worklog(&id))?;
        Ok(id)
    }

    fn edit_worklog(&self, key: &str, id: &str, w: &NewWorklog<'_>, _actor: Actor<'_>) -> TResult<()> {
        self.worklog_edit(key, id, w)?;
        self.wrote(key, Wrote::Worklog(id))
    }

    fn delete_worklog(&self, key: &str, id: &str, _actor: Actor<'_>) -> TResult<()> {
        self.worklog_delete(key, id)?;
        self.wrote(key, Wrote::Worklog(id))
    }

    fn tag_next_write(&self, tag: &str) {
        *self.next_tag.lock().unwrap_or_else(|e| e.into_inner()) = Some(tag.to_string());
    }
}

impl Jira {
    /// The first issue after the highest of `known` keys (numbered in
    /// this project) that `is_it`, reading keys one by one until three in
    /// a row are not there (a gap: a deleted or moved issue).
    fn probe_after(
        &self,
        known: impl Iterator<Item = String>,
        is_it: &dyn Fn(&serde_json::Value) -> bool,
    ) -> TResult<Option<String>> {
        let prefix = format!("{}-", self.settings.project);
        let newest = known.filter_map(|k| k.strip_prefix(&prefix)?.parse::<u64>().ok()).max().unwrap_or(0);
        let mut missing = 0;
        for n in newest + 1.. {
            let key = format!("{prefix}{n}");
            match self.issue_json(&key)? {
                Some(v) if is_it(&v) => return Ok(Some(key)),
                Some(_) => missing = 0,
                None if missing == 2 => return Ok(None),
                None => missing += 1,
            }
        }
        Ok(None)
    }

    /// The id of `write` (tagged `tag`) if the sync user made it at or
    /// after `since`.
    fn find(&self, write: &WrittenBefore<'_>, tag: &str, since: i64) -> TResult<Option<String>> {
        let m = self.meta()?;
        // In Jira's clock, as the Date of its last answer says (a postern
        // clock ahead of Jira's would hide the write; an old answer only
        // widens the window).
        let since = since + self.api.server_now().map_or(0, |s| s - crate::clock::now_ms()) - 2000;
        let after = |t: &serde_json::Value| jql::ms(t.as_str().unwrap_or_default()).is_some_and(|t| t >= since);
        // Tagged: that write and no other, whenever it was made;
        // untagged: by what it holds, made since the write began.
        let matched = |mark: Option<&str>, same: bool, recent: bool| match mark {
            Some(m) => m == tag,
            None => same && recent,
        };
        match *write {
            WrittenBefore::Issue { summary } => {
                let jql = format!(
                    "project = \"{}\" AND created >= \"{}\" ORDER BY created DESC",
                    self.settings.project,
                    jql::jql_time(since - jql::OVERLAP_MS, m.time_zone)
                );
                let is_it = |v: &serde_json::Value| {
                    let f = &v["fields"];
                    let mark = v["properties"][PROPERTY]["write"].as_str();
                    issue::is_sync_user(&f["creator"], m)
                        && matched(mark, f["summary"] == summary, after(&f["created"]))
                };
                let listed = self.search_all(&jql, &[], true)?;
                if let Some(found) = listed.iter().find(|found| is_it(&found.v)) {
                    return Ok(Some(found.key.clone()));
                }
                // Cloud's search can lag behind a creation; reading an issue
                // never does: the keys after the newest known are read.
                let newest = listed.iter().map(|f| f.key.clone()).chain(self.state.keys()?);
                self.probe_after(newest, &is_it)
            }
            WrittenBefore::Comment { key, body, author } => {
                let Some(v) = self.issue_json(key)? else { return Ok(None) };
                let (i, listed) = self.full_with(&v, true)?;
                Ok(i.comments.iter().zip(&listed).rev().find_map(|(c, raw)| {
                    let ours = issue::is_sync_user(&raw["author"], m);
                    let same = c.body == body && c.on_behalf_of.as_deref() == author;
                    (ours && matched(issue::entity_mark(raw), same, after(&raw["created"]))).then(|| c.id.clone())
                }))
            }
            WrittenBefore::Attachment { key, filename, size } => {
                let Some(v) = self.issue_json(key)? else { return Ok(None) };
                Ok(v["fields"]["attachment"].as_array().into_iter().flatten().rev().find_map(|a| {
                    let ours = issue::is_sync_user(&a["author"], m) && after(&a["created"]);
                    (ours && a["filename"] == filename && a["size"].as_u64() == Some(size)).then(|| str_of(&a["id"]))
                }))
            }
            WrittenBefore::Worklog { key, minutes, spent_on, .. } => {
                let Some(i) = self.issue(key)? else { return Ok(None) };
                let path = format!("{}/issue/{}/worklog?expand=properties", self.rest(), api::encode(key));
                let raw = self.all_pages(&path, "worklogs")?;
                Ok(i.worklogs
                    .iter()
                    .rev()
                    .find(|w| {
                        let Some(r) = raw.iter().find(|r| str_of(&r["id"]) == w.id) else { return false };
                        let same = w.minutes == minutes && w.spent_on == spent_on;
                        issue::is_sync_user(&r["author"], m)
                            && matched(issue::entity_mark(r), same, w.updated_at >= since)
                    })
                    .map(|w| w.id.clone()))
            }
        }
    }
}
