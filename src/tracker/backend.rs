//! What the engine needs from a tracker, in two halves: [`Reads`] (finding
//! changes, reading issues, what a write left behind) and [`Writes`]
//! (applying a partner's change). [`Tracker`] is both.
//!
//! A backend owns its I/O: nothing here receives postern's database. (The
//! embedded tracker is built on the engine's open transaction, so its
//! writes and the sequence number that carried them still commit
//! together.)
//!
//! A tracker that wraps another ([`super::AnyTracker`] choosing the
//! backend, the engine's apply journal making writes exactly once) says
//! what it wraps ([`Wraps`]) and reads through it; one that changes
//! nothing of the writes either says [`WritesThrough`]. The calls are
//! forwarded here, once, so no wrapper can forget one.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{
    Actor, Attachment, AttachmentInfo, ChangePage, CommentOrigin, Issue, NewAttachment, NewWorklog, TResult,
    Vocabulary, WrittenBefore,
};
use crate::protocol::{FieldChanges, IssueFields};

/// Reading a tracker: its changes, its issues, and what its writes left.
pub trait Reads {
    /// Whether `project` exists and the backend can reach it.
    fn has_project(&self, project: &str) -> TResult<bool>;
    /// Where a new sync of `project` starts reading changes (now).
    fn start_cursor(&self, project: &str) -> TResult<String>;
    /// Changes of `project` after `cursor`, oldest first, at most about
    /// `limit`, and the cursor after them. No changes: nothing new.
    fn changes_since(&self, project: &str, cursor: &str, limit: usize) -> TResult<ChangePage>;
    /// The engine has stored everything up to `cursor` (it is in the
    /// outbox, committed): a backend may now forget what it kept for it.
    fn collected(&self, _cursor: &str) -> TResult<()> {
        Ok(())
    }
    /// What an earlier read of changes kept was not stored (the engine
    /// rolled back: an error, a dry run, a mass change held): forget it,
    /// so the same changes are found again.
    fn uncollected(&self) {}
    /// Keys of a project's issues, oldest first (an initial import, a
    /// resync).
    fn issue_keys(&self, project: &str) -> TResult<Vec<String>>;
    fn issue(&self, key: &str) -> TResult<Option<Issue>>;
    /// Several issues at once, in the order of `keys` (`None`: not in the
    /// project). A backend that can share reads between them does (a
    /// verify reads every paired issue).
    fn issues(&self, keys: &[String]) -> TResult<Vec<Option<Issue>>> {
        keys.iter().map(|k| self.issue(k)).collect()
    }
    /// The parts of an issue (`labels`, `worklogs`, a field's wire name,
    /// `attachment_digests` when reading an issue gives no file digests)
    /// this tracker, as configured, does not hold: a verify leaves them out.
    fn not_carried(&self) -> TResult<Vec<String>> {
        Ok(Vec::new())
    }
    /// Values the writes since the last call could not set, each with
    /// why (a value outside a Redmine list's): the rest of each write took.
    /// The engine lists them on the issue without holding back its other
    /// changes. Taken: a second call answers only what came since.
    fn take_not_held(&self) -> Vec<String> {
        Vec::new()
    }
    /// When `field` of issue `key` was last set by anyone but the sync
    /// `sync` (whose partner's changes arrive in order anyway).
    fn local_field_time(&self, key: &str, field: &str, sync: &str) -> TResult<Option<i64>>;
    /// [`Reads::local_field_time`] of every field the wire carries, by
    /// wire name (a field never set by anyone but `sync` is absent). A
    /// remote backend reads the issue once for all of them.
    fn local_field_times(&self, key: &str, sync: &str) -> TResult<BTreeMap<String, i64>> {
        let mut out = BTreeMap::new();
        for name in crate::protocol::FIELD_NAMES {
            if let Some(t) = self.local_field_time(key, name, sync)? {
                out.insert(name.to_string(), t);
            }
        }
        Ok(out)
    }
    /// When comment `comment` of issue `key` was last edited by anyone but
    /// the sync `sync`.
    fn local_comment_time(&self, key: &str, comment: &str, sync: &str) -> TResult<Option<i64>>;
    /// When worklog `id` of issue `key` was last changed by anyone but the
    /// sync `sync` (a backend that cannot tell: by anyone).
    fn local_worklog_time(&self, key: &str, id: &str, _sync: &str) -> TResult<Option<i64>> {
        Ok(self.issue(key)?.and_then(|i| i.worklogs.into_iter().find(|w| w.id == id)).map(|w| w.updated_at))
    }
    /// Streams the content of an attachment of issue `key` into `out`
    /// (`None` if deleted); the info's size and SHA-256 are of what was
    /// written.
    fn copy_attachment(&self, key: &str, id: &str, out: &mut dyn std::io::Write) -> TResult<Option<AttachmentInfo>>;
    /// An attachment with its content in memory (`None` if deleted): for
    /// small files; large ones are streamed with [`Self::copy_attachment`].
    fn attachment(&self, key: &str, id: &str) -> TResult<Option<Attachment>> {
        let mut data = Vec::new();
        Ok(self.copy_attachment(key, id, &mut data)?.map(|info| Attachment { info, data }))
    }
    /// The values `project` accepts (mappings are checked against them).
    fn vocabulary(&self, project: &str) -> TResult<Vocabulary>;
    /// The id of `write` if the sync user made it at or after `since` (ms):
    /// a write begun before an interruption. `tag`: the journal's name for
    /// that write, which backends that can store a marker with a write
    /// (see [`Writes::tag_next_write`]) match exactly. Backends that share
    /// postern's transaction never need it.
    fn find_write(&self, _write: &WrittenBefore<'_>, _tag: &str, _since: i64) -> TResult<Option<String>> {
        Ok(None)
    }
    /// How long an answer may take: a write whose answer did not come
    /// may still be made by the tracker up to this long after postern
    /// gave up on it (zero for a tracker in postern's transaction).
    fn answer_timeout(&self) -> Duration {
        Duration::ZERO
    }
    /// How often the tracker throttled this backend since the last ask
    /// (each time waited out as told), for `status`.
    fn take_throttled(&self) -> u64 {
        0
    }
}

/// Writing a tracker: what applying a partner's change takes.
pub trait Writes {
    fn create_issue(&self, project: &str, fields: &IssueFields, actor: Actor<'_>) -> TResult<String>;
    fn update_issue(&self, key: &str, changes: &FieldChanges, actor: Actor<'_>) -> TResult<()>;
    /// `origin`: the partner's author and writing time, for a comment
    /// the sync user writes on someone's behalf.
    fn add_comment(
        &self,
        key: &str,
        body: &str,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String>;
    fn edit_comment(&self, key: &str, comment: &str, body: &str, actor: Actor<'_>) -> TResult<()>;
    fn delete_comment(&self, key: &str, comment: &str, actor: Actor<'_>) -> TResult<()>;
    /// `origin`: the partner's author and time, as for comments.
    fn add_attachment(
        &self,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String>;
    fn delete_attachment(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()>;
    /// `origin`: the partner's author, as for comments.
    fn add_worklog(
        &self,
        key: &str,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String>;
    fn edit_worklog(&self, key: &str, id: &str, w: &NewWorklog<'_>, actor: Actor<'_>) -> TResult<()>;
    fn delete_worklog(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()>;
    /// The journal's name for the next write that adds something (an
    /// issue, comment or worklog); a backend that can store it with that
    /// write, in the same request, does, so [`Reads::find_write`] finds
    /// exactly it.
    fn tag_next_write(&self, _tag: &str) {}
}

/// A tracker: read and written.
pub trait Tracker: Reads + Writes {}

impl<T: Reads + Writes + ?Sized> Tracker for T {}

/// A tracker wrapping another, which it reads through.
pub trait Wraps {
    fn wrapped(&self) -> &dyn Tracker;
}

/// A wrapper that writes through too.
pub trait WritesThrough: Wraps {}

impl<W: Wraps> Reads for W {
    fn has_project(&self, project: &str) -> TResult<bool> {
        self.wrapped().has_project(project)
    }
    fn start_cursor(&self, project: &str) -> TResult<String> {
        self.wrapped().start_cursor(project)
    }
    fn changes_since(&self, project: &str, cursor: &str, limit: usize) -> TResult<ChangePage> {
        self.wrapped().changes_since(project, cursor, limit)
    }
    fn collected(&self, cursor: &str) -> TResult<()> {
        self.wrapped().collected(cursor)
    }
    fn uncollected(&self) {
        self.wrapped().uncollected()
    }
    fn issue_keys(&self, project: &str) -> TResult<Vec<String>> {
        self.wrapped().issue_keys(project)
    }
    fn issue(&self, key: &str) -> TResult<Option<Issue>> {
        self.wrapped().issue(key)
    }
    fn issues(&self, keys: &[String]) -> TResult<Vec<Option<Issue>>> {
        self.wrapped().issues(keys)
    }
    fn not_carried(&self) -> TResult<Vec<String>> {
        self.wrapped().not_carried()
    }
    fn take_not_held(&self) -> Vec<String> {
        self.wrapped().take_not_held()
    }
    fn local_field_time(&self, key: &str, field: &str, sync: &str) -> TResult<Option<i64>> {
        self.wrapped().local_field_time(key, field, sync)
    }
    fn local_field_times(&self, key: &str, sync: &str) -> TResult<BTreeMap<String, i64>> {
        self.wrapped().local_field_times(key, sync)
    }
    fn local_comment_time(&self, key: &str, comment: &str, sync: &str) -> TResult<Option<i64>> {
        self.wrapped().local_comment_time(key, comment, sync)
    }
    fn local_worklog_time(&self, key: &str, id: &str, sync: &str) -> TResult<Option<i64>> {
        self.wrapped().local_worklog_time(key, id, sync)
    }
    fn copy_attachment(&self, key: &str, id: &str, out: &mut dyn std::io::Write) -> TResult<Option<AttachmentInfo>> {
        self.wrapped().copy_attachment(key, id, out)
    }
    fn attachment(&self, key: &str, id: &str) -> TResult<Option<Attachment>> {
        self.wrapped().attachment(key, id)
    }
    fn vocabulary(&self, project: &str) -> TResult<Vocabulary> {
        self.wrapped().vocabulary(project)
    }
    fn find_write(&self, write: &WrittenBefore<'_>, tag: &str, since: i64) -> TResult<Option<String>> {
        self.wrapped().find_write(write, tag, since)
    }
    fn answer_timeout(&self) -> Duration {
        self.wrapped().answer_timeout()
    }
    fn take_throttled(&self) -> u64 {
        self.wrapped().take_throttled()
    }
}

impl<W: WritesThrough> Writes for W {
    fn create_issue(&self, project: &str, fields: &IssueFields, actor: Actor<'_>) -> TResult<String> {
        self.wrapped().create_issue(project, fields, actor)
    }
    fn update_issue(&self, key: &str, changes: &FieldChanges, actor: Actor<'_>) -> TResult<()> {
        self.wrapped().update_issue(key, changes, actor)
    }
    fn add_comment(
        &self,
        key: &str,
        body: &str,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        self.wrapped().add_comment(key, body, origin, actor)
    }
    fn edit_comment(&self, key: &str, comment: &str, body: &str, actor: Actor<'_>) -> TResult<()> {
        self.wrapped().edit_comment(key, comment, body, actor)
    }
    fn delete_comment(&self, key: &str, comment: &str, actor: Actor<'_>) -> TResult<()> {
        self.wrapped().delete_comment(key, comment, actor)
    }
    fn add_attachment(
        &self,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        self.wrapped().add_attachment(key, file, origin, actor)
    }
    fn delete_attachment(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        self.wrapped().delete_attachment(key, id, actor)
    }
    fn add_worklog(
        &self,
        key: &str,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        self.wrapped().add_worklog(key, w, origin, actor)
    }
    fn edit_worklog(&self, key: &str, id: &str, w: &NewWorklog<'_>, actor: Actor<'_>) -> TResult<()> {
        self.wrapped().edit_worklog(key, id, w, actor)
    }
    fn delete_worklog(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        self.wrapped().delete_worklog(key, id, actor)
    }
    fn tag_next_write(&self, tag: &str) {
        self.wrapped().tag_next_write(tag)
    }
}
