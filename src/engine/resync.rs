//! Resync: send the current state of a sync's issues (all, or those a
//! filter matches), not their history. An issue that never crossed goes as
//! a first crossing (the existing issues chosen at `sync create`/`accept`
//! are such a resync); a paired one as [`Change::IssueState`], which the
//! receiver converges to without duplicating comments or attachments and
//! without sending anything back but pairings. Ends with a report in
//! Timetracker's shape: `Completed Successfully`, or `Completed with
//! warnings` and one `[KEY] failed to sync …` line per issue.

use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::outgoing::Batch;
use super::snapshots::{attachment_change, comment_snapshots, snapshot, worklog_snapshot};
pub use crate::protocol::scope::{Scope, FIELDS};
use crate::protocol::{Change, FieldChanges};
use crate::store::{links, now_ms, syncs, SyncRecord};
use crate::tracker::{Issue, Tracker};

/// A resync this side's next cycle sends (the existing issues chosen at
/// create/accept, or one the partner asked for), kept in the sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub kind: String,
    pub scope: Scope,
}

impl Pending {
    /// The existing issues chosen at create/accept.
    pub fn existing(scope: &Scope) -> Self {
        Pending { kind: "existing issues".into(), scope: scope.clone() }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a pending resync serializes")
    }
}

/// What a resync did, kept as the sync's last report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `resync` or `existing issues`.
    pub kind: String,
    pub started_at: i64,
    pub finished_at: i64,
    /// Issues the scope matched.
    pub issues: usize,
    /// Of them, sent for the first time (never crossed before).
    pub new: usize,
    /// Messages queued.
    pub messages: u64,
    /// One line per issue that failed, `[KEY] failed to sync …`.
    pub warnings: Vec<String>,
}

impl Report {
    pub fn outcome(&self) -> &'static str {
        if self.warnings.is_empty() {
            "Completed Successfully"
        } else {
            "Completed with warnings"
        }
    }
}

/// Asks the partner to send the state of its issues in `scope` (a resync
/// of its side); it does after its next cycle reads the request.
pub fn ask_partner(conn: &Connection, s: &SyncRecord, scope: Scope) -> anyhow::Result<()> {
    crate::store::outbox::enqueue_change(conn, &s.id, Change::ResyncRequest { scope })?;
    Ok(())
}

/// The issues of the sync's project that `scope` matches, read from the
/// tracker; issues that cannot be read are reported, not skipped silently.
pub fn plan(tracker: &impl Tracker, sync: &SyncRecord, scope: &Scope) -> anyhow::Result<(Vec<Issue>, Vec<String>)> {
    let keys = if scope.keys.is_empty() { tracker.issue_keys(&sync.project)? } else { scope.keys.clone() };
    let (mut issues, mut warnings) = (Vec::new(), Vec::new());
    for key in keys {
        match tracker.issue(&key) {
            Ok(Some(i)) if i.project == sync.project => {
                if scope.matches(&i.key, (i.created_at, i.updated_at), &i.fields) {
                    issues.push(i)
                }
            }
            Ok(Some(i)) => warnings.push(format!("[{key}] failed to sync issue: it is in project {}", i.project)),
            Ok(None) => warnings.push(format!("[{key}] failed to sync issue: no such issue")),
            Err(e) => warnings.push(format!("[{key}] failed to sync issue: {e}")),
        }
    }
    Ok((issues, warnings))
}

/// Issues per transaction: the daemon is never held up for long.
const CHUNK: usize = 100;

/// Queues the state of `issues` for the partner; `progress(done, total)`
/// after each chunk. Keeps the report as the sync's last.
pub fn run(
    conn: &mut Connection,
    sync: &SyncRecord,
    scope: &Scope,
    kind: &str,
    (issues, warnings): (Vec<Issue>, Vec<String>),
    progress: &mut dyn FnMut(usize, usize),
) -> anyhow::Result<Report> {
    if sync.partner_fpr.is_none() {
        anyhow::bail!("sync '{}' has no partner yet: a resync can only be sent once the handshake is done", sync.name);
    }
    let mut report =
        Report { kind: kind.into(), started_at: now_ms(), issues: issues.len(), warnings, ..Default::default() };
    let conn: &Connection = conn;
    let tracker = &crate::engine::tracker_of::for_sync(sync, conn)?;
    let total = issues.len();
    let mut done = 0;
    let mut chunks = issues.into_iter().peekable();
    // Each issue's attachments, to tell which stayed behind.
    let mut sent: Vec<(String, Vec<String>)> = Vec::new();
    while chunks.peek().is_some() {
        let chunk: Vec<Issue> = chunks.by_ref().take(CHUNK).collect();
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let mut batch = Batch::for_sync(sync)?;
        let now = now_ms();
        for issue in chunk {
            let key = issue.key.clone();
            if scope.includes("attachments") && !issue.attachments.is_empty() {
                sent.push((key.clone(), issue.attachments.iter().map(|a| a.id.clone()).collect()));
            }
            let changes = if links::by_local(&tx, &sync.id, &key)?.is_none() {
                links::insert(&tx, &sync.id, &key, None, now)?;
                report.new += 1;
                snapshot(&tx, tracker, &sync.id, issue)?
            } else {
                state(&tx, tracker, sync, scope, issue, now, &mut report.warnings)?
            };
            for change in changes {
                report.messages += batch.add(&tx, &sync.id, now, change, (&key, now), &[])?;
            }
        }
        report.messages += batch.flush(&tx, &sync.id, now)?;
        tx.commit()?;
        done += CHUNK.min(total - done);
        progress(done, total);
    }
    not_sent(conn, &sync.id, &sent, &mut report.warnings)?;
    report.finished_at = now_ms();
    syncs::set_last_resync(conn, &sync.id, &serde_json::to_string(&report)?)?;
    Ok(report)
}

/// Attachments over the sync's limit that stayed behind: the report says
/// so in the seed's words (`[KEY] failed to sync attachments: total: 2,
/// synchronized: 0`) rather than "Completed Successfully".
fn not_sent(
    conn: &Connection,
    sync_id: &str,
    sent: &[(String, Vec<String>)],
    warnings: &mut Vec<String>,
) -> anyhow::Result<()> {
    let skipped = crate::store::skipped::list(conn, sync_id)?;
    for (key, ids) in sent {
        let behind = skipped.iter().filter(|s| s.direction == "out" && ids.contains(&s.attachment)).count();
        let told = format!("[{key}] failed to sync attachments");
        if behind > 0 && !warnings.iter().any(|w| w.starts_with(&told)) {
            warnings.push(format!("{told}: total: {}, synchronized: {}", ids.len(), ids.len() - behind));
        }
    }
    Ok(())
}

/// A paired issue's state, and its attachments that never crossed.
pub(super) fn state(
    conn: &Connection,
    tracker: &impl Tracker,
    sync: &SyncRecord,
    scope: &Scope,
    issue: Issue,
    now: i64,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Vec<Change>> {
    let mut fields = FieldChanges::all(&issue.fields);
    if !scope.fields.is_empty() {
        fields.keep_only(&scope.fields);
    }
    let comments = match scope.includes("comments") {
        true => Some(comment_snapshots(conn, &issue.comments)?),
        false => None,
    };
    let worklogs = scope.includes("worklogs").then(|| issue.worklogs.iter().map(worklog_snapshot).collect());
    let mut out = vec![Change::IssueState { issue: issue.key.clone(), fields, at: now, comments, worklogs }];
    if !scope.includes("attachments") {
        return Ok(out);
    }
    let paired = links::attachment_pairs(conn, &sync.id, &issue.key)?;
    let unsent: Vec<_> = issue.attachments.iter().filter(|a| !paired.iter().any(|(_, l)| *l == a.id)).collect();
    let mut synced = 0;
    for a in &unsent {
        // An attachment that cannot be read now is reported, not fatal.
        if let Ok(Some(change)) = attachment_change(conn, tracker, &issue.key, a) {
            out.push(change);
            synced += 1;
        }
    }
    if synced < unsent.len() {
        warnings.push(format!(
            "[{}] failed to sync attachments: total: {}, synchronized: {}",
            issue.key,
            issue.attachments.len(),
            issue.attachments.len() - (unsent.len() - synced)
        ));
    }
    Ok(out)
}
