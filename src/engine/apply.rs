//! Applying a partner's changes to the local tracker, as the sync user.
//!
//! Runs inside the transaction that records the message's sequence number.
//! Each change gets a savepoint: a change the tracker refuses is rolled
//! back alone, recorded as the issue's error, and it and every later change
//! to that issue are parked until the admin retries or discards them.

use crate::tracker::Reads;
use rusqlite::Connection;

use super::journal::Journaled;
use super::not_held::{list_not_held, not_held_part, supersede};
use super::rules::partner_wins;
use super::{arrivals, parts};
use crate::protocol::{Body, Change, WireChange};
use crate::store::{links, now_ms, outbox, problems, SyncRecord};
use crate::tracker::{Actor, Refusal, TResult as Result, Tracker, TrackerError};

/// The peers a change from the partner has crossed: those the message
/// names and the partner itself (space-separated, as stored).
pub fn crossed(sync: &SyncRecord, via: &[String]) -> String {
    let mut all: Vec<&str> = via.iter().map(String::as_str).collect();
    if let Some(p) = sync.partner_fpr.as_deref() {
        if !all.contains(&p) {
            all.push(p);
        }
    }
    all.join(" ")
}

/// Applies the changes of message `seq` (which crossed the peers `via`
/// before its sender), then enqueues the pairings the partner needs to
/// learn (new issue and comment ids) as one message.
pub fn apply_message(
    conn: &Connection,
    tracker: &Journaled,
    sync: &SyncRecord,
    (seq, ack): (u64, u64),
    changes: &[WireChange],
    via: &[String],
) -> Result<()> {
    let via = crossed(sync, via);
    let mut replies = Vec::new();
    for change in changes {
        let whole;
        let change = match change {
            WireChange::Known(Change::Part { issue, id, index, total, data }) => {
                match parts::take(conn, &sync.id, id, *index, *total, data) {
                    Ok(Some(c)) => {
                        whole = c;
                        &whole
                    }
                    Ok(None) => continue,
                    Err(e) => {
                        let reason = format!("a change sent in parts could not be put together: {e:#}");
                        tracing::warn!(sync = %sync.name, issue, %reason);
                        let local = links::by_remote(conn, &sync.id, issue)?.map(|l| l.local_issue_key);
                        problems::record_error(conn, &sync.id, issue, local.as_deref(), seq, &reason, now_ms())?;
                        continue;
                    }
                }
            }
            other => other,
        };
        let WireChange::Known(change) = change else {
            tracing::warn!(sync = %sync.name, seq, "skipping a change kind this version does not know");
            continue;
        };
        if let Change::ResyncRequest { scope } = change {
            // Sent by this side's next cycle, like the existing issues.
            tracing::info!(sync = %sync.name, "the partner asks for a resync");
            let pending = super::resync::Pending { kind: "resync asked by the partner".into(), scope: scope.clone() };
            crate::store::syncs::set_initial_resync(conn, &sync.id, Some(&pending.to_json()))?;
            continue;
        }
        if let Change::Verify(step) = change {
            super::verify::handle(conn, tracker, sync, step)?;
            continue;
        }
        if let Change::FieldOwners { owners } = change {
            tracing::info!(sync = %sync.name, ?owners, "the partner set which side owns which fields");
            crate::store::syncs::set_field_owners(conn, &sync.id, owners)?;
            // The master's table is the one both keep: it confirms what it
            // took, so two admins changing it at once end up with the same.
            if sync.role == crate::store::Role::Master {
                outbox::enqueue_change(conn, &sync.id, Change::FieldOwners { owners: owners.clone() })?;
            }
            continue;
        }
        if let Change::Paired { yours, mine, comments, attachments, worklogs } = change {
            links::set_remote(conn, &sync.id, yours, mine)?;
            for (y, m) in comments {
                links::pair_comment(conn, &sync.id, yours, y, m)?;
            }
            for (y, m) in attachments {
                links::pair_attachment(conn, &sync.id, yours, y, m)?;
            }
            for (y, m) in worklogs {
                links::pair_worklog(conn, &sync.id, yours, y, m)?;
            }
            continue;
        }
        let remote = change.issue();
        // Ignored from now on: dropped, even behind an error.
        if links::by_remote(conn, &sync.id, remote)?.is_some_and(|l| l.incoming_changes_ignored) {
            continue;
        }
        if problems::is_blocked(conn, &sync.id, remote)? {
            problems::park(conn, &sync.id, remote, seq, &WireChange::Known(change.clone()))?;
            continue;
        }
        apply_guarded(conn, tracker, sync, (seq, ack), change, &via, &mut replies)?;
    }
    enqueue_replies(conn, sync, replies)
}

fn enqueue_replies(conn: &Connection, sync: &SyncRecord, replies: Vec<Change>) -> Result<()> {
    if !replies.is_empty() {
        let body = Body::Changes { changes: replies.into_iter().map(WireChange::Known).collect(), via: Vec::new() };
        outbox::enqueue(conn, &sync.id, &body, now_ms())?;
    }
    Ok(())
}

/// Applies one change under a savepoint. `Ok(false)`: the tracker refused
/// it and the issue is now blocked.
fn apply_guarded(
    conn: &Connection,
    tracker: &Journaled,
    sync: &SyncRecord,
    (seq, ack): (u64, u64),
    change: &Change,
    via: &str,
    replies: &mut Vec<Change>,
) -> Result<bool> {
    tracker.begin(seq, change);
    conn.execute_batch("SAVEPOINT apply_change")?;
    match apply_one(conn, tracker, sync, (seq, ack), change, via, replies) {
        Ok(()) => {
            conn.execute_batch("RELEASE apply_change")?;
            let not_held = tracker.take_not_held();
            if !not_held.is_empty() {
                // Written but for values the tracker cannot hold: listed on
                // the issue and kept for a retry; its other changes go on.
                let reason = format!("{} (the rest was written; nothing waits behind it)", not_held.join("; "));
                list_not_held(conn, sync, (seq, change), &reason, not_held_part(change))?;
            }
            supersede(conn, sync, change, seq)?;
            Ok(true)
        }
        // A part this tracker cannot hold at all: what else the change
        // wrote stands (its pairings kept); the change is listed and kept.
        Err(TrackerError::Refused(Refusal::NotCarried(why))) => {
            conn.execute_batch("RELEASE apply_change")?;
            list_not_held(conn, sync, (seq, change), &format!("not carried: {why}"), change.clone())?;
            supersede(conn, sync, change, seq)?;
            Ok(true)
        }
        Err(TrackerError::Refused(refusal)) => {
            conn.execute_batch("ROLLBACK TO apply_change; RELEASE apply_change")?;
            let remote = change.issue();
            if let (Refusal::PartlyMade { id, .. }, Change::IssueCreated { gid, .. }) = (&refusal, change) {
                // The issue is there: it stays paired, so a retry brings it
                // up to date instead of making a second one.
                arrivals::pair_made(conn, sync, remote, gid.as_deref(), id, now_ms())?;
            }
            let local = links::by_remote(conn, &sync.id, remote)?.map(|l| l.local_issue_key);
            let mapping = super::mapping::Mapping::of(sync.mapping.as_deref()).ok();
            let reason = match super::mapping::hint(&refusal, &sync.name, remote, mapping.as_ref()) {
                Some(hint) => format!("{refusal}: {hint}"),
                None => refusal.to_string(),
            };
            tracing::warn!(sync = %sync.name, issue = remote, %reason, "change refused; issue blocked");
            problems::record_error(conn, &sync.id, remote, local.as_deref(), seq, &reason, now_ms())?;
            problems::park(conn, &sync.id, remote, seq, &WireChange::Known(change.clone()))?;
            Ok(false)
        }
        Err(e) => {
            conn.execute_batch("ROLLBACK TO apply_change; RELEASE apply_change")?;
            Err(e)
        }
    }
}

fn apply_one(
    conn: &Connection,
    tracker: &impl Tracker,
    sync: &SyncRecord,
    (seq, ack): (u64, u64),
    change: &Change,
    via: &str,
    replies: &mut Vec<Change>,
) -> Result<()> {
    let actor = Actor { user: &sync.sync_user, origin: Some(&sync.id), via: Some(via) };
    let now = now_ms();
    let remote = change.issue();
    let link = links::by_remote(conn, &sync.id, remote)?;
    if link.as_ref().is_some_and(|l| l.incoming_changes_ignored) {
        return Ok(());
    }
    let mapped = in_our_names(tracker, sync, change)?;
    let change = mapped.as_ref().unwrap_or(change);
    let local = match (change, &link) {
        (Change::IssueCreated { fields, comments, gid, worklogs, fields_at, .. }, None) => {
            let here = arrivals::Here { conn, tracker, sync, actor };
            let key = arrivals::issue(&here, remote, gid.as_deref(), (fields, fields_at), comments, now, replies)?;
            super::worklogs::added(&here, &key, remote, worklogs, replies)?;
            key
        }
        (_, None) => {
            return Err(
                Refusal::Invalid(format!("issue {remote} of the partner is not paired with an issue here")).into()
            )
        }
        (_, Some(link)) => {
            let key = link.local_issue_key.clone();
            apply_to_linked(conn, tracker, sync, (link, ack), change, actor, replies)?;
            key
        }
    };
    Ok(links::touch_incoming(conn, &sync.id, &local, seq, now)?)
}

fn apply_to_linked(
    conn: &Connection,
    tracker: &impl Tracker,
    sync: &SyncRecord,
    (link, ack): (&links::Link, u64),
    change: &Change,
    actor: Actor<'_>,
    replies: &mut Vec<Change>,
) -> Result<()> {
    let key = link.local_issue_key.as_str();
    let local_comment = |remote_id: &str| -> Result<String> {
        links::local_comment(conn, &sync.id, key, remote_id)?
            .ok_or_else(|| Refusal::NoComment { issue: key.into(), comment: format!("(partner's {remote_id})") }.into())
    };
    match change {
        // Already here (sent again after a lost pairing, or made before
        // without all of it taking): bring fields up to date, add what is
        // missing. A field someone changed here after the partner's last
        // change was applied is not put back, unless the partner's own
        // change of it is later still (`fields_at`).
        Change::IssueCreated { issue, fields, comments, worklogs, fields_at, .. } => {
            let mut update = crate::protocol::FieldChanges::all(fields);
            let applied = link.last_incoming_change.unwrap_or(0);
            for (name, mine) in tracker.local_field_times(key, &sync.id)? {
                if mine > applied && fields_at.get(&name).is_none_or(|theirs| *theirs < mine) {
                    update.drop_field(&name);
                }
            }
            tracker.update_issue(key, &update, actor)?;
            let here = arrivals::Here { conn, tracker, sync, actor };
            for c in comments {
                arrivals::comment(&here, key, issue, c, replies)?;
            }
            super::worklogs::added(&here, key, issue, worklogs, replies)?;
            // The partner forgot the pair (`sync unpair` on its side only):
            // it learns it again, so the issue is not half paired.
            let mut pairs = Vec::new();
            for c in comments {
                if let Some(local) = links::local_comment(conn, &sync.id, key, &c.id)? {
                    pairs.push((c.id.clone(), local));
                }
            }
            replies.push(Change::Paired {
                yours: issue.clone(),
                mine: key.into(),
                comments: pairs,
                attachments: Vec::new(),
                worklogs: Vec::new(),
            });
            Ok(())
        }
        Change::IssueUpdated { fields, at, seen, .. } => {
            let known = seen.unwrap_or(ack);
            let decided = super::conflict::decide(conn, tracker, sync, link, (fields, *at, known))?;
            tracker.update_issue(key, &decided.apply, actor)?;
            if let Some(labels) = decided.merged_labels {
                // A local edit by the sync user: it crosses back, so both
                // sides end up with the merge.
                let merge = crate::protocol::FieldChanges { labels: Some(labels), ..Default::default() };
                tracker.update_issue(key, &merge, Actor { user: &sync.sync_user, origin: None, via: None })?;
            }
            Ok(())
        }
        Change::CommentAdded { issue, comment } => {
            arrivals::comment(&arrivals::Here { conn, tracker, sync, actor }, key, issue, comment, replies)
        }
        Change::AttachmentAdded { issue, attachment } => {
            arrivals::attachment(&arrivals::Here { conn, tracker, sync, actor }, key, issue, attachment, replies)
        }
        Change::AttachmentDeleted { issue, attachment } => {
            // Unpaired: deleted before it ever crossed (or while its chunks
            // arrived: they are dropped). Gone here too: both sides deleted
            // it. Nothing to do either way.
            super::transfers::inbound::cancel(conn, sync, issue, attachment)?;
            match links::local_attachment(conn, &sync.id, key, attachment)? {
                Some(local) if tracker.attachment(key, &local)?.is_some() => {
                    tracker.delete_attachment(key, &local, actor)
                }
                _ => Ok(()),
            }
        }
        Change::CommentEdited { comment, body, at, .. } => {
            let local = local_comment(comment)?;
            if !comment_exists(tracker, key, &local)? {
                tracing::info!(sync = %sync.name, issue = key, "an edit crossed a delete: the comment stays deleted");
                return Ok(());
            }
            if let Some(mine) = tracker.local_comment_time(key, &local, &sync.id)? {
                if !partner_wins(sync.role, *at, mine) {
                    tracing::info!(sync = %sync.name, issue = key, "concurrent comment edit: keeping the later local text");
                    return Ok(());
                }
            }
            tracker.edit_comment(key, &local, body, actor)
        }
        Change::CommentDeleted { comment, .. } => {
            let local = local_comment(comment)?;
            if !comment_exists(tracker, key, &local)? {
                return Ok(()); // both sides deleted it
            }
            tracker.delete_comment(key, &local, actor)
        }
        Change::WorklogAdded { issue, worklog } => super::worklogs::added(
            &arrivals::Here { conn, tracker, sync, actor },
            key,
            issue,
            std::slice::from_ref(worklog),
            replies,
        ),
        Change::WorklogEdited { worklog, .. } => {
            super::worklogs::edited(&arrivals::Here { conn, tracker, sync, actor }, key, worklog)
        }
        Change::WorklogDeleted { worklog, .. } => {
            super::worklogs::deleted(&arrivals::Here { conn, tracker, sync, actor }, key, worklog)
        }
        Change::IssueState { issue, fields, at, comments, worklogs } => {
            let here = arrivals::Here { conn, tracker, sync, actor };
            arrivals::state(&here, key, issue, (fields, *at), comments.as_deref(), replies)?;
            match worklogs {
                Some(list) => super::worklogs::converge(&here, key, issue, list, replies),
                None => Ok(()),
            }
        }
        Change::Paired { .. }
        | Change::Part { .. }
        | Change::ResyncRequest { .. }
        | Change::FieldOwners { .. }
        | Change::Verify(_) => Ok(()),
    }
}

/// A change with the partner's names in ours (the sync's mapping), or
/// `None` when it names nothing a mapping changes.
fn in_our_names(tracker: &impl Tracker, sync: &SyncRecord, change: &Change) -> Result<Option<Change>> {
    let mut change = change.clone();
    // A partner whose tracker has no priority (GitHub) sends an empty one:
    // ours stays as it is (a new issue gets this tracker's default).
    let mut emptied = false;
    if let Change::IssueUpdated { fields, .. } | Change::IssueState { fields, .. } = &mut change {
        emptied = fields.priority.as_deref() == Some("");
        if emptied {
            fields.priority = None;
        }
    }
    if sync.mapping.is_none() && !matches!(change, Change::IssueCreated { .. } | Change::IssueUpdated { .. }) {
        return Ok(emptied.then_some(change));
    }
    let m = super::mapping::Mapping::of(sync.mapping.as_deref())?;
    let users = || Ok(tracker.vocabulary(&sync.project)?.users);
    match &mut change {
        Change::IssueCreated { fields, .. } => m.issue_fields(fields, true, users)?,
        Change::IssueUpdated { fields, .. } | Change::IssueState { fields, .. } => m.incoming(fields, users)?,
        _ => return Ok(None),
    }
    Ok(Some(change))
}

fn comment_exists(tracker: &impl Tracker, key: &str, id: &str) -> Result<bool> {
    Ok(tracker.issue(key)?.is_some_and(|i| i.comments.iter().any(|c| c.id == id)))
}

/// Re-applies the parked changes of one partner issue, oldest first. Stops
/// at the first refusal (the issue stays blocked with the new reason).
/// Returns (applied, still parked).
pub fn retry_parked(conn: &mut Connection, sync: &SyncRecord, remote_issue: &str) -> Result<(usize, usize)> {
    let conn: &Connection = conn;
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    let any = crate::engine::tracker_of::for_sync(sync, conn)?;
    let tracker = &Journaled::new(&any, conn, &sync.id)?;
    let parked = problems::parked(&tx, &sync.id, remote_issue)?;
    let history = problems::history(&tx, &sync.id, remote_issue)?;
    problems::clear_error(&tx, &sync.id, remote_issue)?;
    let mut replies = Vec::new();
    let mut applied = 0;
    // Parked changes keep no record of their path: the partner at least.
    let via = crossed(sync, &[]);
    for (i, (row, seq, change)) in parked.iter().enumerate() {
        problems::unpark(&tx, *row)?;
        let WireChange::Known(change) = change else {
            continue;
        };
        // What the partner knew when it sent a parked change is not kept:
        // only edits not yet collected here count as concurrent.
        if !apply_guarded(&tx, tracker, sync, (*seq, u64::MAX), change, &via, &mut replies)? {
            // apply_guarded parked it again at the end: move the rest behind it
            for (row, seq, c) in &parked[i + 1..] {
                problems::unpark(&tx, *row)?;
                problems::park(&tx, &sync.id, remote_issue, *seq, c)?;
            }
            if let Some((first_at, tries)) = history {
                problems::keep_history(&tx, &sync.id, remote_issue, first_at, tries)?;
            }
            enqueue_replies(&tx, sync, replies)?;
            tx.commit()?;
            return Ok((applied, parked.len() - applied));
        }
        applied += 1;
    }
    // A change written but for a value the tracker still cannot hold is
    // parked again (blocking nothing): it is not done.
    let left = problems::parked(&tx, &sync.id, remote_issue)?.len();
    if let (true, Some((first_at, tries))) = (left > 0, history) {
        problems::keep_history(&tx, &sync.id, remote_issue, first_at, tries)?;
    }
    enqueue_replies(&tx, sync, replies)?;
    tx.commit()?;
    Ok((applied.saturating_sub(left), left))
}
