//! Outgoing: change log → outbox, in one transaction (sending what the
//! outbox holds is `send`).

use crate::tracker::Reads;
use std::collections::HashSet;

use anyhow::Result;
use rusqlite::{Connection, TransactionBehavior};

use super::parts::{self, Budget};
use super::snapshots::{attachment_change, attachment_snapshot, snapshot, worklog_snapshot};
use crate::protocol::{Body, Change, CommentSnapshot, WireChange};
use crate::store::origins::{self, Kind};
use crate::store::{links, now_ms, outbox, syncs, SyncRecord};
use crate::tracker::{ChangeKind, ChangeRecord, TResult, Tracker};

/// Change-log rows read per query.
const PAGE: usize = 2000;
/// A message is closed at this many changes (or at its byte budget).
const MESSAGE_MAX_CHANGES: usize = 5000;

/// Reads the tracker's change log after the sync's cursor into numbered
/// outbox messages, moving the cursor in the same transaction. Changes the
/// sync applied for its partner are skipped (no echo). The first time an
/// issue crosses it goes as a full snapshot, which also covers its other
/// changes up to now. Messages stay within the sync's size limit: a change
/// too large for one goes in parts. Returns the number of messages enqueued.
/// Nothing is collected before the partner is known.
pub fn collect(conn: &mut Connection, sync: &SyncRecord) -> TResult<u64> {
    collect_into(conn, sync, None)
}

/// What the next cycle would send, change by change, without sending or
/// moving anything (`sync pending`).
pub fn pending(conn: &mut Connection, sync: &SyncRecord) -> TResult<Vec<Change>> {
    let mut out = Vec::new();
    collect_into(conn, sync, Some(&mut out))?;
    Ok(out)
}

/// [`collect`], or with `dry`, only the changes it would queue. A cycle
/// over the sync's mass-change threshold queues nothing (see `mass`).
fn collect_into(conn: &mut Connection, sync: &SyncRecord, mut dry: Option<&mut Vec<Change>>) -> TResult<u64> {
    // A master waits for the accept: it brings the partner's size limit,
    // and nothing can be sealed for the partner before it anyway.
    let Some(partner) = sync.partner_fpr.as_deref() else {
        return Ok(0);
    };
    // A replaced sync leaves what is new to the one that took over.
    if sync.replaced_by.is_some() {
        return Ok(0);
    }
    let own = sync.own_fpr.as_deref().unwrap_or_default();
    // A partner's message half applied to a remote tracker: what postern
    // wrote may not be known as its own yet (a lost answer). Collecting
    // waits until the message is through, so nothing echoes back.
    if sync.tracker.is_some() && home_of(conn).is_some_and(|h| super::journal::pending(&h, &sync.id).unwrap_or(false)) {
        tracing::debug!(sync = %sync.name, "a message of the partner is partly applied: collecting waits for it");
        return Ok(0);
    }
    // The tracker works on the same connection (the embedded tracker reads
    // inside this transaction) and outlives it (told what was committed).
    let conn: &Connection = conn;
    let tracker = &crate::engine::tracker_of::for_sync(sync, conn)?;
    recheck_unpaired(conn, tracker, sync)?;
    // A read that was not stored (an error, a dry run, a mass change held)
    // leaves nothing behind that would hide its changes now.
    tracker.uncollected();
    // A remote tracker is asked for its first page before the write
    // transaction begins: one that hangs holds up its own sync, never the
    // home's database (the other syncs, the admin's commands).
    let early = match &sync.tracker {
        Some(_) => {
            let cursor = syncs::get(conn, &sync.id)?.map_or_else(|| sync.change_cursor.clone(), |s| s.change_cursor);
            let page = tracker.changes_since(&sync.project, &cursor, PAGE)?;
            Some((cursor, page))
        }
        None => None,
    };
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let now = now_ms();
    let fresh = syncs::get(&tx, &sync.id)?;
    let current = fresh.clone().unwrap_or_else(|| sync.clone());
    let mut issues: HashSet<String> = HashSet::new();
    // What this side had applied of the partner's messages when it read
    // its changes (see `Change::IssueUpdated::seen`).
    let seen = fresh.as_ref().map_or(sync.in_seq, |s| s.in_seq);
    let mut cursor = fresh.map(|s| s.change_cursor).unwrap_or_else(|| sync.change_cursor.clone());
    let start = cursor.clone();
    let mut snapshotted: HashSet<String> = HashSet::new();
    let mut batch = Batch::for_sync(sync)?;
    let mut enqueued = 0;
    // Whether a sync of this project is mid-message (asked once, when an
    // issue the sync user made turns up).
    let mut mid_message: Option<bool> = None;
    let mut early = match early {
        Some((read_from, page)) if read_from == cursor => Some(page),
        Some(_) => {
            tracker.uncollected(); // the cursor moved meanwhile: read again
            None
        }
        None => None,
    };
    loop {
        let page = match early.take() {
            Some(page) => page,
            None => tracker.changes_since(&sync.project, &cursor, PAGE)?,
        };
        cursor = page.next;
        if !page.made_by_sync_user.is_empty() && mid_message.is_none() {
            mid_message = Some(project_mid_message(&tx, sync)?);
        }
        for key in page.made_by_sync_user {
            if mid_message == Some(false) && !links::paired_in_project(&tx, &sync.project, &key)? {
                tracing::warn!(sync = %sync.name, issue = %key, "an issue the sync user made is paired with none");
                crate::store::verify::mark_unpaired(&tx, &sync.id, &key, now)?;
            }
        }
        if page.changes.is_empty() {
            break;
        }
        let done = page.done;
        for row in page.changes {
            let Some(via) = passes(sync, partner, own, &row) else {
                continue;
            };
            if snapshotted.contains(&row.issue_key) {
                continue;
            }
            let changes = if links::by_local(&tx, &sync.id, &row.issue_key)?.is_none() {
                let Some(issue) = tracker.issue(&row.issue_key)? else {
                    continue;
                };
                links::insert(&tx, &sync.id, &issue.key, None, now)?;
                snapshotted.insert(issue.key.clone());
                snapshot(&tx, tracker, &sync.id, issue)?
            } else {
                if let ChangeKind::WorklogDeleted { worklog } = &row.kind {
                    // Its id may come again for a new one (a tracker on SQLite).
                    links::unpair_worklog(&tx, &sync.id, &row.issue_key, Some(worklog), None)?;
                }
                to_change(&tx, tracker, &row, Some(seen))?.and_then(|c| without_owned(sync, c)).into_iter().collect()
            };
            for change in changes {
                issues.insert(row.issue_key.clone());
                match dry.as_deref_mut() {
                    Some(out) => out.push(change),
                    None => enqueued += batch.add(&tx, &sync.id, now, change, (&row.issue_key, row.at), &via)?,
                }
            }
        }
        if done {
            break;
        }
    }
    if dry.is_some() {
        return Ok(0); // the transaction is dropped: nothing moved
    }
    if super::mass::over(&current, issues.len(), "send") {
        drop(tx); // nothing queued, the cursor stays
        super::mass::hold(conn, &current, "send", issues.len())?;
        return Ok(0);
    }
    super::mass::passed(&tx, &current, "send")?;
    enqueued += batch.flush(&tx, &sync.id, now)?;
    if cursor != start {
        syncs::set_cursor(&tx, &sync.id, &cursor)?;
    }
    tx.commit()?;
    tracker.collected(&cursor)?;
    // Large attachments: copied and queued after the commit (see `transfers`).
    enqueued += super::transfers::out::feed(conn, tracker, &current, now)?;
    Ok(enqueued)
}

/// The home's folder (where the apply journal sits beside the database).
fn home_of(conn: &Connection) -> Option<std::path::PathBuf> {
    conn.path().and_then(|p| std::path::Path::new(p).parent().map(|d| d.to_path_buf()))
}

/// Whether a sync of this home on the same project is in the middle of a
/// message: its pairings are not committed yet, so an issue the sync user
/// made is not judged unpaired now (that sync's own collecting, which
/// waits for the message, tells then).
fn project_mid_message(conn: &Connection, sync: &SyncRecord) -> Result<bool> {
    let Some(home) = home_of(conn) else { return Ok(false) };
    for other in syncs::list(conn)?.iter().filter(|o| o.project == sync.project && o.tracker.is_some()) {
        if super::journal::pending(&home, &other.id)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Issues found made by the sync user and paired with none stay shown
/// until a pairing holds them or they are gone (asked before collecting
/// begins its transaction: one read each, only while there are some).
fn recheck_unpaired(conn: &Connection, tracker: &impl Tracker, sync: &SyncRecord) -> Result<()> {
    for key in crate::store::verify::unpaired(conn, &sync.id)? {
        if links::paired_in_project(conn, &sync.project, &key)? || tracker.issue(&key)?.is_none() {
            crate::store::verify::clear_unpaired(conn, &sync.id, &key)?;
        }
    }
    Ok(())
}

/// Whether change-log row `row` goes to this sync's partner, and with
/// which `via`. Changes made here go (with none). A change some sync
/// applied for its partner never goes back to that sync, goes into other
/// syncs only when they forward (a hub), and never to a peer it has
/// crossed already, so no path of syncs, not even a cycle, makes a loop.
fn passes(sync: &SyncRecord, partner: &str, own: &str, row: &ChangeRecord) -> Option<Vec<String>> {
    match row.origin.as_deref() {
        None => Some(Vec::new()),
        Some(o) if o == sync.id || !sync.forward => None,
        Some(_) if row.via.iter().any(|p| p == partner || (sync.partner_prev_fpr.as_deref() == Some(p.as_str()))) => {
            None
        }
        Some(_) => {
            let mut via = row.via.clone();
            if !own.is_empty() && !via.iter().any(|p| p == own) {
                via.push(own.to_string());
            }
            Some(via)
        }
    }
}

/// A field the partner owns is not sent (see `conflict`); an update left
/// with no field is not sent at all.
fn without_owned(sync: &SyncRecord, change: Change) -> Option<Change> {
    match change {
        Change::IssueUpdated { issue, mut fields, at, seen } => {
            let before = fields.names().len();
            super::conflict::outgoing(sync, &mut fields);
            (before == 0 || !fields.is_empty()).then_some(Change::IssueUpdated { issue, fields, at, seen })
        }
        other => Some(other),
    }
}

/// The change to send for one change-log row; `None` when there is
/// nothing left to send (an attachment deleted since).
fn to_change(
    conn: &Connection,
    tracker: &impl Tracker,
    row: &ChangeRecord,
    seen: Option<u64>,
) -> Result<Option<Change>> {
    let issue = row.issue_key.clone();
    Ok(Some(match &row.kind {
        // A creation whose issue is already linked cannot happen; send the
        // (empty) update so nothing is silently lost.
        ChangeKind::IssueCreated => Change::IssueUpdated { issue, fields: Default::default(), at: row.at, seen },
        ChangeKind::IssueUpdated { fields } => Change::IssueUpdated { issue, fields: fields.clone(), at: row.at, seen },
        ChangeKind::CommentAdded { comment, author, body } => Change::CommentAdded {
            issue,
            comment: CommentSnapshot {
                id: comment.clone(),
                author: author.clone(),
                body: body.clone(),
                created_at: row.at,
                gid: origins::carried(conn, Kind::Comment, comment)?,
            },
        },
        ChangeKind::CommentEdited { comment, body } => {
            Change::CommentEdited { issue, comment: comment.clone(), body: body.clone(), at: row.at }
        }
        ChangeKind::CommentDeleted { comment } => Change::CommentDeleted { issue, comment: comment.clone() },
        ChangeKind::AttachmentAdded { attachment, size, .. } if *size <= super::transfers::INLINE_MAX => {
            match tracker.attachment(&issue, attachment)? {
                Some(a) => Change::AttachmentAdded { issue, attachment: attachment_snapshot(conn, a)? },
                None => return Ok(None),
            }
        }
        ChangeKind::AttachmentAdded { attachment, .. } => {
            let info = tracker.issue(&issue)?.and_then(|i| i.attachments.into_iter().find(|a| a.id == *attachment));
            match info {
                Some(info) => return attachment_change(conn, tracker, &issue, &info),
                None => return Ok(None),
            }
        }
        ChangeKind::AttachmentDeleted { attachment } => {
            Change::AttachmentDeleted { issue, attachment: attachment.clone() }
        }
        ChangeKind::WorklogAdded { worklog } => Change::WorklogAdded { issue, worklog: worklog_snapshot(worklog) },
        ChangeKind::WorklogEdited { worklog } => Change::WorklogEdited { issue, worklog: worklog_snapshot(worklog) },
        ChangeKind::WorklogDeleted { worklog } => Change::WorklogDeleted { issue, worklog: worklog.clone() },
    }))
}

/// Changes gathered into numbered outbox messages within the size limit.
#[derive(Default)]
pub(super) struct Batch {
    budget: Budget,
    /// The peers the batched changes crossed (one list per message).
    via: Vec<String>,
    changes: Vec<WireChange>,
    bytes: usize,
    touched: Vec<(String, i64)>,
    /// Our names turned into the partner's on the way out.
    mapping: super::mapping::Mapping,
}

impl Batch {
    /// Adds a change, closing the batch first if it would grow past the
    /// budget; a change too large for any message goes alone, in parts.
    pub(super) fn add(
        &mut self,
        conn: &Connection,
        sync_id: &str,
        now: i64,
        change: Change,
        (key, at): (&str, i64),
        via: &[String],
    ) -> Result<u64> {
        let mut change = change;
        self.mapping.out_change(&mut change);
        match &change {
            Change::AttachmentAdded { attachment: a, .. } => {
                let chunk = self.budget.chunk_raw as u64;
                if a.size.is_some() && super::transfers::out::register(conn, sync_id, key, a, via, chunk, now)? {
                    return Ok(0);
                }
            }
            Change::AttachmentDeleted { attachment, .. } => super::transfers::out::cancel(conn, sync_id, attachment)?,
            _ => {}
        }
        let json = serde_json::to_vec(&change)?;
        let mut enqueued = 0;
        if !self.changes.is_empty()
            && (self.bytes + json.len() > self.budget.batch_json
                || self.changes.len() >= MESSAGE_MAX_CHANGES
                || self.via != via)
        {
            enqueued += self.flush(conn, sync_id, now)?;
        }
        if self.via != via {
            self.via = via.to_vec();
        }
        if json.len() <= self.budget.batch_json {
            self.bytes += json.len();
            self.touched.push((key.to_string(), at));
            self.changes.push(WireChange::Known(change));
            return Ok(enqueued);
        }
        let parts = parts::split(&change, &json, self.budget.part_raw);
        tracing::debug!(sync = sync_id, bytes = json.len(), parts = parts.len(), "change split into parts");
        let last = parts.len() - 1;
        for (i, part) in parts.into_iter().enumerate() {
            self.changes.push(WireChange::Known(part));
            if i == last {
                // The issue's link records the last part's number.
                self.touched.push((key.to_string(), at));
            }
            enqueued += self.flush(conn, sync_id, now)?;
        }
        Ok(enqueued)
    }

    pub(super) fn for_sync(sync: &SyncRecord) -> Result<Self> {
        Ok(Batch {
            budget: Budget::for_limit(sync.max_message_bytes),
            mapping: super::mapping::Mapping::of(sync.mapping.as_deref())?,
            ..Default::default()
        })
    }

    pub(super) fn flush(&mut self, conn: &Connection, sync_id: &str, now: i64) -> Result<u64> {
        if self.changes.is_empty() {
            return Ok(0);
        }
        let body = Body::Changes { changes: std::mem::take(&mut self.changes), via: self.via.clone() };
        let seq = outbox::enqueue(conn, sync_id, &body, now)?;
        tracing::debug!(sync = sync_id, seq, changes = self.touched.len(), "changes queued");
        for (key, at) in self.touched.drain(..) {
            links::touch_outgoing(conn, sync_id, &key, seq, at, now)?;
        }
        self.bytes = 0;
        Ok(1)
    }
}
