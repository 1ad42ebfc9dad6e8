//! The apply journal: exactly-once writes to a tracker that does not share
//! postern's transaction (Redmine and other remote trackers).
//!
//! Before each write postern records what it is about to do, keyed by the
//! sync, the message's sequence number, a digest of the change and the
//! write's place within it, in a database of its own that commits at once
//! (`<home>/apply-journal.db`); after the write it records the result (the
//! new issue, comment or attachment id). When a message is applied again
//! (a tracker that went away mid-message, a crash), a write that is
//! recorded as done is not repeated: its result is used. One recorded as
//! begun but not done may or may not have happened: the tracker is asked
//! to find it by what the sync user wrote since ([`Reads::find_write`]);
//! a backend that can store a marker with the write (Jira's entity
//! properties) is given the write's tag first and finds exactly it.
//! Writes that are the same when repeated (field updates, edits,
//! deletions) are not recorded: they are simply made again. Entries go once the message's
//! sequence number is committed.
//!
//! The embedded tracker writes in the engine's transaction, so it needs
//! none of this: [`Journaled`] passes its calls straight through.

use std::cell::{Cell, RefCell};
use std::path::Path;

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::protocol::{Change, FieldChanges, IssueFields};
use crate::store::now_ms;
use crate::tracker::{
    Actor, AnyTracker, CommentOrigin, NewAttachment, NewWorklog, Reads, Refusal, TResult, Tracker, TrackerError, Wraps,
    Writes, WrittenBefore,
};

impl Journaled<'_, '_> {
    /// Whether `id`, found for a write begun before an interruption,
    /// already stands for something else: paired with one of the
    /// partner's by an earlier message. Then it is not this write's (a
    /// tracker's lookup that matches by content can find an older twin).
    /// (The journal's other results are no guide: an issue's and a note's
    /// ids are both numbers in Redmine.)
    fn claimed(&self, lookup: &WrittenBefore<'_>, id: &str) -> TResult<bool> {
        let Some(path) = &self.engine_db else { return Ok(false) };
        // Comments, attachments and worklogs are paired per issue (their ids
        // may be given again).
        let (table, column, issue) = match *lookup {
            WrittenBefore::Issue { .. } => ("link", "local_key", None),
            WrittenBefore::Comment { key, .. } => ("comment_link", "local_id", Some(key)),
            WrittenBefore::Attachment { key, .. } => ("attachment_link", "local_id", Some(key)),
            WrittenBefore::Worklog { key, .. } => ("worklog_link", "local_id", Some(key)),
        };
        let engine = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        engine.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(engine.query_row(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {table} WHERE sync_id = ?1 AND {column} = ?2 AND (?3 IS NULL OR local_key = ?3))"
            ),
            params![self.sync, id, issue],
            |r| r.get(0),
        )?)
    }
}

/// A tracker whose writes go through the journal (when it needs one).
pub struct Journaled<'a, 'c> {
    inner: &'a AnyTracker<'c>,
    db: Option<Connection>,
    /// The engine's database (pairings), read apart from its transaction.
    engine_db: Option<std::path::PathBuf>,
    sync: String,
    /// The message and change being applied.
    at: RefCell<(u64, String)>,
    op: Cell<u32>,
    /// The last write's result came from the journal (made before).
    again: Cell<bool>,
}

fn open_db(home: &Path) -> anyhow::Result<Connection> {
    let path = home.join("apply-journal.db");
    let db = Connection::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    db.busy_timeout(std::time::Duration::from_secs(10))?;
    db.pragma_update(None, "synchronous", "FULL")?;
    db.execute_batch(
        "CREATE TABLE IF NOT EXISTS write (
            sync TEXT NOT NULL, seq INTEGER NOT NULL, change TEXT NOT NULL, op INTEGER NOT NULL,
            begun INTEGER NOT NULL, result TEXT,
            PRIMARY KEY (sync, seq, change, op));",
    )?;
    // Until when a write with no known result is not made again (ms): the
    // tracker may still be making it. Added after the first release.
    let has_settle: bool =
        db.query_row("SELECT EXISTS (SELECT 1 FROM pragma_table_info('write') WHERE name = 'settle')", [], |r| {
            r.get(0)
        })?;
    if !has_settle {
        db.execute_batch("ALTER TABLE write ADD COLUMN settle INTEGER NOT NULL DEFAULT 0")?;
    }
    Ok(db)
}

/// Whether a message of sync `sync_id` is partly applied: writes of it
/// are recorded (made, or begun with no known result) and its sequence
/// number is not committed yet. Until it is, what the tracker shows may
/// be postern's own writes not yet known as such (an answer that was
/// lost): change detection waits, so they are never sent back.
pub fn pending(home: &Path, sync_id: &str) -> anyhow::Result<bool> {
    if !home.join("apply-journal.db").exists() {
        return Ok(false);
    }
    Ok(open_db(home)?.query_row("SELECT EXISTS (SELECT 1 FROM write WHERE sync = ?1)", [sync_id], |r| r.get(0))?)
}

/// Drops the journal entries of a deleted sync.
pub fn forget(home: &Path, sync_id: &str) -> anyhow::Result<()> {
    if home.join("apply-journal.db").exists() {
        open_db(home)?.execute("DELETE FROM write WHERE sync = ?1", [sync_id])?;
    }
    Ok(())
}

impl<'a, 'c> Journaled<'a, 'c> {
    /// `conn`: the engine's database (the journal sits beside it).
    pub fn new(inner: &'a AnyTracker<'c>, conn: &Connection, sync: &str) -> anyhow::Result<Self> {
        let (db, engine_db) = if inner.transactional() {
            (None, None)
        } else {
            let path = conn.path().map(std::path::PathBuf::from).context("the database has no file")?;
            let home = path.parent().context("the database has no folder")?;
            (Some(open_db(home)?), Some(path))
        };
        Ok(Journaled {
            inner,
            db,
            engine_db,
            sync: sync.into(),
            at: RefCell::new((0, String::new())),
            op: Cell::new(0),
            again: Cell::new(false),
        })
    }

    /// The change about to be applied (its writes are numbered from 0).
    pub fn begin(&self, seq: u64, change: &Change) {
        let digest = serde_json::to_vec(change).map(|j| crate::store::seen::digest(&j)).unwrap_or_default();
        *self.at.borrow_mut() = (seq, digest);
        self.op.set(0);
    }

    /// Forgets the writes of messages up to `seq` (they are committed).
    pub fn done_up_to(&self, seq: u64) -> anyhow::Result<()> {
        if let Some(db) = &self.db {
            db.execute("DELETE FROM write WHERE sync = ?1 AND seq <= ?2", params![self.sync, seq as i64])?;
        }
        Ok(())
    }

    /// One write: done before → its result; begun before → found, or made
    /// again; new → recorded, made, recorded done.
    fn write<T: Serialize + DeserializeOwned>(
        &self,
        lookup: Option<WrittenBefore<'_>>,
        make: impl FnOnce() -> TResult<T>,
        found: impl FnOnce(String) -> T,
    ) -> TResult<T> {
        // Writes that are the same when repeated (updates, edits,
        // deletions) need no record: they are simply made again.
        self.again.set(false);
        let (Some(db), Some(lookup)) = (&self.db, lookup) else {
            return make();
        };
        let (seq, change) = self.at.borrow().clone();
        let op = self.op.get();
        self.op.set(op + 1);
        let key = params![self.sync, seq as i64, change, op];
        let tag = crate::store::seen::digest(format!("{}/{seq}/{change}/{op}", self.sync).as_bytes())[..24].to_string();
        let row: Option<(i64, Option<String>, i64)> = db
            .query_row(
                "SELECT begun, result, settle FROM write WHERE sync = ?1 AND seq = ?2 AND change = ?3 AND op = ?4",
                key,
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let answer_ms = self.inner.answer_timeout().as_millis() as i64;
        let settle = |until: i64| -> TResult<()> {
            db.execute(
                "UPDATE write SET settle = ?5 WHERE sync = ?1 AND seq = ?2 AND change = ?3 AND op = ?4",
                params![self.sync, seq as i64, change, op, until],
            )?;
            Ok(())
        };
        let record = |result: &T| -> TResult<()> {
            db.execute(
                "UPDATE write SET result = ?5 WHERE sync = ?1 AND seq = ?2 AND change = ?3 AND op = ?4",
                params![self.sync, seq as i64, change, op, serde_json::to_string(result)?],
            )?;
            Ok(())
        };
        match row {
            Some((_, Some(result), _)) => {
                tracing::debug!(sync = %self.sync, seq, op, "write done before; not repeated");
                self.again.set(true);
                return Ok(serde_json::from_str(&result)?);
            }
            Some((begun, None, until)) => {
                let found_id = self.inner.find_write(&lookup, &tag, begun)?;
                let found_id = match found_id {
                    Some(id) if self.claimed(&lookup, &id)? => {
                        tracing::warn!(sync = %self.sync, seq, op, id, "what was found stands for an earlier write; made again");
                        None
                    }
                    other => other,
                };
                if let Some(id) = found_id {
                    tracing::info!(sync = %self.sync, seq, op, "a write begun before an interruption was made: found it");
                    let r = found(id);
                    record(&r)?;
                    self.again.set(true);
                    return Ok(r);
                }
                // Not there (yet): a tracker that got the write but not to
                // the end of it may still make it. Made again now, it could
                // be there twice; so it waits its time, looked for again.
                let now = now_ms();
                if now < until {
                    return Err(still_settling(&lookup, now - begun, until - now));
                }
                settle(now + answer_ms)?;
            }
            None => {
                let now = now_ms();
                db.execute(
                    "INSERT INTO write (sync, seq, change, op, begun, settle) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![self.sync, seq as i64, change, op, now, now + answer_ms],
                )?;
            }
        }
        self.inner.tag_next_write(&tag);
        match make() {
            Ok(r) => {
                record(&r)?;
                Ok(r)
            }
            // Made, but not all of it took: what was made is kept (the
            // engine pairs it); made again, it would be a second copy.
            Err(TrackerError::Refused(Refusal::PartlyMade { id, why })) => {
                record(&found(id.clone()))?;
                Err(Refusal::PartlyMade { id, why }.into())
            }
            // Certainly not made: nothing to look for later.
            Err(e @ TrackerError::Refused(_)) => {
                db.execute(
                    "DELETE FROM write WHERE sync = ?1 AND seq = ?2 AND change = ?3 AND op = ?4",
                    params![self.sync, seq as i64, change, op],
                )?;
                Err(e)
            }
            // No answer, or one that says nothing of what was done: the
            // tracker may make it up to one answer's time from now.
            Err(e) => {
                settle(if e.may_have_acted() { now_ms() + answer_ms } else { 0 })?;
                Err(e)
            }
        }
    }
}

/// The error of a write whose earlier try got no answer and is not found
/// yet: the sync waits `left_ms`, then looks again.
fn still_settling(lookup: &WrittenBefore<'_>, ago_ms: i64, left_ms: i64) -> TrackerError {
    let what = match *lookup {
        WrittenBefore::Issue { summary } => format!("the issue {summary:?}"),
        WrittenBefore::Comment { key, .. } => format!("a comment on {key}"),
        WrittenBefore::Attachment { key, filename, .. } => format!("the file {filename} on {key}"),
        WrittenBefore::Worklog { key, .. } => format!("a worklog on {key}"),
    };
    let wait = std::time::Duration::from_millis(left_ms.max(0) as u64);
    TrackerError::Unavailable {
        reason: format!(
            "the write of {what} {}s ago got no answer and is not in the tracker yet; a tracker may still make it, \
             so postern looks for it again in {}s before writing it again",
            ago_ms / 1000,
            wait.as_secs().max(1)
        ),
        retry_after: Some(wait),
    }
}

impl Wraps for Journaled<'_, '_> {
    fn wrapped(&self) -> &dyn Tracker {
        self.inner
    }
}

impl Writes for Journaled<'_, '_> {
    fn create_issue(&self, project: &str, fields: &IssueFields, actor: Actor<'_>) -> TResult<String> {
        let lookup = WrittenBefore::Issue { summary: &fields.summary };
        let key = self.write(Some(lookup), || self.inner.create_issue(project, fields, actor), |id| id)?;
        if self.again.get() {
            // Made before, perhaps not whole (a status step cut off): its
            // fields are set again (the same when repeated), but for those
            // a person changed since: theirs is the later edit.
            let mut again = FieldChanges::all(fields);
            for name in self.inner.local_field_times(&key, &self.sync)?.keys() {
                again.drop_field(name);
            }
            self.inner.update_issue(&key, &again, actor)?;
        }
        Ok(key)
    }
    fn update_issue(&self, key: &str, changes: &FieldChanges, actor: Actor<'_>) -> TResult<()> {
        self.write(None, || self.inner.update_issue(key, changes, actor), |_| ())
    }
    fn add_comment(
        &self,
        key: &str,
        body: &str,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        let lookup = WrittenBefore::Comment { key, body, author: origin.map(|o| o.author) };
        self.write(Some(lookup), || self.inner.add_comment(key, body, origin, actor), |id| id)
    }
    fn edit_comment(&self, key: &str, comment: &str, body: &str, actor: Actor<'_>) -> TResult<()> {
        self.write(None, || self.inner.edit_comment(key, comment, body, actor), |_| ())
    }
    fn delete_comment(&self, key: &str, comment: &str, actor: Actor<'_>) -> TResult<()> {
        self.write(None, || self.inner.delete_comment(key, comment, actor), |_| ())
    }
    fn add_attachment(
        &self,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        let lookup = WrittenBefore::Attachment { key, filename: file.filename, size: file.size() };
        self.write(Some(lookup), || self.inner.add_attachment(key, file, origin, actor), |id| id)
    }
    fn delete_attachment(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        self.write(None, || self.inner.delete_attachment(key, id, actor), |_| ())
    }
    fn add_worklog(
        &self,
        key: &str,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
        actor: Actor<'_>,
    ) -> TResult<String> {
        let lookup = WrittenBefore::Worklog {
            key,
            minutes: w.minutes,
            spent_on: w.spent_on,
            comment: w.comment,
            on_behalf_of: origin.map(|o| o.author),
        };
        self.write(Some(lookup), || self.inner.add_worklog(key, w, origin, actor), |id| id)
    }
    fn edit_worklog(&self, key: &str, id: &str, w: &NewWorklog<'_>, actor: Actor<'_>) -> TResult<()> {
        self.write(None, || self.inner.edit_worklog(key, id, w, actor), |_| ())
    }
    fn delete_worklog(&self, key: &str, id: &str, actor: Actor<'_>) -> TResult<()> {
        self.write(None, || self.inner.delete_worklog(key, id, actor), |_| ())
    }
}
