//! Synchronized-issue records in Backbone's "Download synchronized issues"
//! format (`firstConnector`, optionally `secondConnector`): exported from
//! a sync, merged from both sides' downloads, and used to pair existing
//! issues in a new sync without creating or changing any issue (a sync
//! rebuilt on a new machine, or moved to another protocol).
//!
//! `firstConnector` holds the records of the side that uploads the file
//! (its `localIssueKey` is an issue here); `secondConnector` the partner's,
//! whose keys and ids are the other way round.

use std::collections::{BTreeMap, HashSet};

use anyhow::{bail, Result};
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::store::{links, SyncRecord};
use crate::tracker::Reads;

/// One paired issue, with the seed's field names and order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub connector_key: String,
    pub local_issue_key: String,
    #[serde(default)]
    pub remote_issue_key: Option<String>,
    #[serde(default)]
    pub first_sync_date: i64,
    #[serde(default)]
    pub last_outgoing_change: Option<i64>,
    #[serde(default)]
    pub last_change_seen: Option<i64>,
    #[serde(default)]
    pub outgoing_message_sequence_id: Option<u64>,
    #[serde(default)]
    pub last_incoming_change: Option<i64>,
    #[serde(default)]
    pub incoming_message_sequence_id: Option<u64>,
    /// Left out when empty, as Backbone's own downloads do (seed 002's
    /// merged file); `comments` is always there, as in Backbone's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<ItemPair>,
    #[serde(default)]
    pub comments: Vec<ItemPair>,
    #[serde(default)]
    pub incoming_changes_ignored: bool,
}

/// A comment or attachment: its id here and, once paired, the partner's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPair {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    pub local_id: String,
}

/// A download: this side's records, and the partner's once merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Records {
    pub first_connector: Vec<Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_connector: Option<Vec<Record>>,
}

/// Reads a download; a mistake is named with its line and column.
pub fn parse(text: &str, source: &str) -> Result<Records> {
    let at = |e: serde_json::Error| {
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or(&what).to_string();
        anyhow::anyhow!("{source}: line {}, column {}: {what}; nothing was paired", e.line(), e.column())
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(at)?;
    if !value.get("firstConnector").is_some_and(serde_json::Value::is_array) {
        bail!(
            "{source} is not a download of synchronized issues: expected {{\"firstConnector\": [ ... ]}} at the top; \
             nothing was paired"
        );
    }
    serde_json::from_str(text).map_err(|e| {
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or(&what).to_string();
        anyhow::anyhow!("{source}: line {}, column {}: {what}; nothing was paired", e.line(), e.column())
    })
}

/// The records of `sync`: every paired issue with its comment and
/// attachment pairs.
pub fn export(conn: &Connection, sync: &SyncRecord) -> Result<Records> {
    let number: i64 = conn.query_row("SELECT rowid FROM sync WHERE id = ?1", [&sync.id], |r| r.get(0))?;
    let mut out = Vec::new();
    for l in links::all(conn, &sync.id)? {
        let pair = |(remote, local): (String, String)| ItemPair { remote_id: Some(remote), local_id: local };
        out.push(Record {
            id: l.id,
            connector_key: format!("CON-{number}-{}", sync.project),
            attachments: links::attachment_pairs(conn, &sync.id, &l.local_issue_key)?.into_iter().map(pair).collect(),
            comments: l.comments.into_iter().map(|c| pair((c.remote_id, c.local_id))).collect(),
            local_issue_key: l.local_issue_key,
            remote_issue_key: l.remote_issue_key,
            first_sync_date: l.first_sync_date,
            last_outgoing_change: l.last_outgoing_change,
            last_change_seen: l.last_change_seen,
            outgoing_message_sequence_id: l.outgoing_message_sequence_id,
            last_incoming_change: l.last_incoming_change,
            incoming_message_sequence_id: l.incoming_message_sequence_id,
            incoming_changes_ignored: l.incoming_changes_ignored,
        });
    }
    Ok(Records { first_connector: out, second_connector: None })
}

/// Seed 002's step 2: the uploading side's download with the partner's
/// as `secondConnector`.
pub fn merge(ours: Records, theirs: Records) -> Result<Records> {
    if ours.second_connector.is_some() || theirs.second_connector.is_some() {
        bail!("a file is already merged (it has a secondConnector): give the two downloads as they came");
    }
    Ok(Records { first_connector: ours.first_connector, second_connector: Some(theirs.first_connector) })
}

/// What pairing did with each issue.
#[derive(Debug, Default, Serialize)]
pub struct PairReport {
    pub paired: Vec<Paired>,
    pub skipped: Vec<Skipped>,
    /// Whether the partner's keys were checked against its own download
    /// (`secondConnector`); without it they are taken on trust.
    pub partner_keys_checked: bool,
}

#[derive(Debug, Serialize)]
pub struct Paired {
    pub local: String,
    pub remote: String,
    pub comments: usize,
    pub attachments: usize,
    /// Comment or attachment pairs left out: the id is not on the issue.
    pub items_skipped: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Skipped {
    pub local: String,
    pub remote: Option<String>,
    pub reason: String,
}

/// One candidate pairing, put together from both connectors.
struct Candidate {
    record: Record,
    /// local id -> partner's id
    comments: BTreeMap<String, String>,
    attachments: BTreeMap<String, String>,
}

fn candidates(records: Records) -> Vec<Candidate> {
    let pairs = |items: &[ItemPair]| -> BTreeMap<String, String> {
        items.iter().filter_map(|p| Some((p.local_id.clone(), p.remote_id.clone()?))).collect()
    };
    let mut out: Vec<Candidate> = records
        .first_connector
        .into_iter()
        .map(|r| Candidate { comments: pairs(&r.comments), attachments: pairs(&r.attachments), record: r })
        .collect();
    for theirs in records.second_connector.unwrap_or_default() {
        // The partner's record seen from here: keys and ids swap.
        let Some(local) = theirs.remote_issue_key.clone() else { continue };
        let swap = |items: &[ItemPair]| -> BTreeMap<String, String> {
            items.iter().filter_map(|p| Some((p.remote_id.clone()?, p.local_id.clone()))).collect()
        };
        match out.iter_mut().find(|c| c.record.local_issue_key == local) {
            Some(c) => {
                for (l, r) in swap(&theirs.comments) {
                    c.comments.entry(l).or_insert(r);
                }
                for (l, r) in swap(&theirs.attachments) {
                    c.attachments.entry(l).or_insert(r);
                }
                c.record.remote_issue_key.get_or_insert(theirs.local_issue_key.clone());
            }
            None => out.push(Candidate {
                comments: swap(&theirs.comments),
                attachments: swap(&theirs.attachments),
                record: Record {
                    local_issue_key: local,
                    remote_issue_key: Some(theirs.local_issue_key.clone()),
                    first_sync_date: theirs.first_sync_date,
                    incoming_changes_ignored: false,
                    comments: Vec::new(),
                    attachments: Vec::new(),
                    last_outgoing_change: None,
                    last_change_seen: None,
                    outgoing_message_sequence_id: None,
                    last_incoming_change: None,
                    incoming_message_sequence_id: None,
                    ..theirs
                },
            }),
        }
    }
    out
}

/// Pairs the issues the records name, in one transaction; issues are
/// never created or changed. Each record is paired or skipped with a reason.
pub fn pair(conn: &mut Connection, sync: &SyncRecord, records: Records) -> Result<PairReport> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tracker = crate::engine::tracker_of::for_sync(sync, &tx)?;
    let mut report = PairReport::default();
    let now = crate::store::now_ms();
    // The partner's own keys, when its download is in the file.
    let partner_keys: Option<HashSet<String>> =
        records.second_connector.as_ref().map(|second| second.iter().map(|r| r.local_issue_key.clone()).collect());
    report.partner_keys_checked = partner_keys.is_some();
    let (mut seen_local, mut seen_remote) = (HashSet::new(), HashSet::new());
    for c in candidates(records) {
        let r = &c.record;
        let local = r.local_issue_key.clone();
        let skip = |reason: String| Skipped { local: local.clone(), remote: r.remote_issue_key.clone(), reason };
        let Some(remote) = r.remote_issue_key.clone() else {
            report.skipped.push(skip("the record names no partner issue".into()));
            continue;
        };
        if !seen_local.insert(local.clone()) {
            report.skipped.push(skip(format!("{local} is listed twice in the file")));
            continue;
        }
        if !seen_remote.insert(remote.clone()) {
            report.skipped.push(skip(format!("the partner's {remote} is listed twice in the file")));
            continue;
        }
        if partner_keys.as_ref().is_some_and(|k| !k.contains(&remote)) {
            report.skipped.push(skip(format!("the partner's download (secondConnector) has no issue {remote}")));
            continue;
        }
        if let Some(reason) = already_paired(&tx, sync, &local, &remote)? {
            report.skipped.push(skip(reason));
            continue;
        }
        let issue = match tracker.issue(&local).map_err(anyhow::Error::from)? {
            None => {
                // The partner's download given as this side's?
                let hint = match tracker.issue(&remote) {
                    Ok(Some(_)) => format!(
                        " (but {remote} is: is this the partner's download? give it second, through `sync merge`)"
                    ),
                    _ => String::new(),
                };
                report.skipped.push(skip(format!("unknown local issue: {local} is not in the tracker{hint}")));
                continue;
            }
            Some(i) if i.project != sync.project => {
                report.skipped.push(skip(format!(
                    "project mismatch: {local} is in project {}, the sync's project is {}",
                    i.project, sync.project
                )));
                continue;
            }
            Some(i) => i,
        };
        links::insert_restored(
            &tx,
            &sync.id,
            &links::Restored {
                local_key: &local,
                remote_key: &remote,
                first_sync: if r.first_sync_date > 0 { r.first_sync_date } else { now },
                last_outgoing_change: r.last_outgoing_change,
                // Message numbers belonged to the sync the records came
                // from and start afresh here.
                last_change_seen: r.last_change_seen,
                out_seq: None,
                last_incoming_change: r.last_incoming_change,
                in_seq: None,
                ignored: r.incoming_changes_ignored,
                // Edits made before the pairing are no conflict.
                known_until: now,
            },
        )?;
        let mut items_skipped = Vec::new();
        let comment_ids: HashSet<&str> = issue.comments.iter().map(|c| c.id.as_str()).collect();
        let mut comments = 0;
        for (l, rid) in &c.comments {
            if comment_ids.contains(l.as_str()) {
                links::pair_comment(&tx, &sync.id, &local, l, rid)?;
                comments += 1;
            } else {
                items_skipped.push(format!("comment {l} is not on {local}"));
            }
        }
        let attachment_ids: HashSet<&str> = issue.attachments.iter().map(|a| a.id.as_str()).collect();
        let mut attachments = 0;
        for (l, rid) in &c.attachments {
            if attachment_ids.contains(l.as_str()) {
                links::pair_attachment(&tx, &sync.id, &local, l, rid)?;
                attachments += 1;
            } else {
                items_skipped.push(format!("attachment {l} is not on {local}"));
            }
        }
        report.paired.push(Paired { local, remote, comments, attachments, items_skipped });
    }
    drop(tracker);
    tx.commit()?;
    Ok(report)
}

/// `sync unpair`: forgets the pairing of one issue (by either key) with
/// its comment, attachment and worklog pairs. Its next change crosses as a new
/// issue. Returns (local, partner's) keys.
pub fn unpair(conn: &mut Connection, sync: &SyncRecord, issue: &str) -> Result<(String, String)> {
    let link = match links::by_local(conn, &sync.id, issue)? {
        Some(l) => l,
        None => match links::by_remote(conn, &sync.id, issue)? {
            Some(l) => l,
            None => bail!("{issue} is not paired in sync '{}' (give its local or the partner's key)", sync.name),
        },
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for table in ["comment_link", "attachment_link", "worklog_link"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE sync_id = ?1 AND local_key = ?2"),
            [&sync.id, &link.local_issue_key],
        )?;
    }
    tx.execute("DELETE FROM link WHERE id = ?1", [link.id])?;
    tx.commit()?;
    Ok((link.local_issue_key, link.remote_issue_key.unwrap_or_default()))
}

/// Why `local` and `remote` cannot be paired now, if they cannot.
fn already_paired(conn: &Connection, sync: &SyncRecord, local: &str, remote: &str) -> Result<Option<String>> {
    if let Some(l) = links::by_local(conn, &sync.id, local)? {
        return Ok(Some(match l.remote_issue_key.as_deref() {
            Some(r) if r == remote => format!("already paired with {remote}"),
            Some(r) => format!("already paired differently: {local} is paired with the partner's {r}"),
            None => format!("already paired differently: {local} crossed and waits for the partner's key"),
        }));
    }
    if let Some(l) = links::by_remote(conn, &sync.id, remote)? {
        return Ok(Some(format!(
            "already paired differently: the partner's {remote} is paired with {}",
            l.local_issue_key
        )));
    }
    Ok(None)
}
