//! The admin's actions on a sync, shared by the CLI and the web console:
//! pause and resume, retry an issue's blocked changes or drop them, ignore
//! an issue, re-apply or dismiss a conflict. Each returns the line to show, or an error in words.

use anyhow::{bail, Result};
use rusqlite::Connection;

use super::apply::retry_parked;
use crate::protocol::FieldChanges;
use crate::store::{conflicts, lifecycle, links, now_ms, problems, SyncRecord};
use crate::tracker::{Actor, Writes};
use crate::words::plural;

pub fn pause(conn: &Connection, s: &SyncRecord) -> Result<String> {
    if !lifecycle::set_paused(conn, &s.id, Some(now_ms()))? {
        bail!("sync '{}' is already paused", s.name);
    }
    Ok(format!(
        "Paused sync '{}': nothing is collected, sent or applied until `postern sync resume {}`",
        s.name, s.name
    ))
}

pub fn resume(conn: &Connection, s: &SyncRecord) -> Result<String> {
    if !lifecycle::set_paused(conn, &s.id, None)? {
        bail!("sync '{}' is not paused", s.name);
    }
    Ok(format!("Resumed sync '{}': what changed meanwhile crosses on its next cycle", s.name))
}

/// The partner's key of an issue named by either key (errors are kept by
/// the partner's key; an admin may well give the local one).
pub fn partner_key(conn: &Connection, s: &SyncRecord, issue: &str) -> Result<String> {
    if problems::has_error(conn, &s.id, issue)? {
        return Ok(issue.to_string());
    }
    Ok(links::by_local(conn, &s.id, issue)?.and_then(|l| l.remote_issue_key).unwrap_or_else(|| issue.to_string()))
}

/// Retries one issue with an error (named by either key): `Ok(line)` when
/// all its changes applied, `Err(line)` with the reason when it still fails.
pub fn retry(conn: &mut Connection, s: &SyncRecord, issue: &str) -> Result<Result<String, String>> {
    let remote_issue = partner_key(conn, s, issue)?;
    if !problems::has_error(conn, &s.id, &remote_issue)? {
        bail!("issue {remote_issue} of sync '{}' has no error", s.name);
    }
    let (applied, left) = retry_parked(conn, s, &remote_issue)?;
    // An attachment applied or dropped by the retry leaves the spool.
    crate::engine::transfers::inbound::clean(conn, &s.id)?;
    if left == 0 {
        return Ok(Ok(format!("[{remote_issue}] {} applied", plural(applied as u64, "change", "changes"))));
    }
    let reason = problems::errors(conn, &s.id)?
        .into_iter()
        .find(|e| e.remote_issue == remote_issue)
        .map(|e| e.reason)
        .unwrap_or_default();
    Ok(Err(format!(
        "[{remote_issue}] still failing after {} applied: {reason}",
        plural(applied as u64, "change", "changes")
    )))
}

/// Drops the changes waiting behind an issue's error (named by either
/// key): the partner's later changes to it apply again.
pub fn drop_errors(conn: &Connection, s: &SyncRecord, issue: &str) -> Result<String> {
    let remote_issue = partner_key(conn, s, issue)?;
    if !problems::has_error(conn, &s.id, &remote_issue)? {
        bail!("issue {remote_issue} of sync '{}' has no error", s.name);
    }
    let n = problems::discard(conn, &s.id, &remote_issue)?;
    crate::engine::transfers::inbound::clean(conn, &s.id)?;
    Ok(format!("[{remote_issue}] {} dropped", plural(n as u64, "change", "changes")))
}

/// Ignores the partner's changes to a paired issue from now on (`undo`:
/// takes them again, from its next change); what waits behind its error
/// is dropped.
pub fn ignore_issue(conn: &Connection, s: &SyncRecord, issue: &str, undo: bool) -> Result<String> {
    let Some(link) = links::set_ignored(conn, &s.id, issue, !undo)? else {
        bail!("issue {issue} is not paired in sync '{}' (give its local or the partner's key)", s.name);
    };
    let remote = link.remote_issue_key.as_deref().unwrap_or("-");
    let dropped = match (undo, problems::has_error(conn, &s.id, remote)?) {
        (false, true) => problems::discard(conn, &s.id, remote)?,
        _ => 0,
    };
    crate::engine::transfers::inbound::clean(conn, &s.id)?;
    Ok(match undo {
        false => format!(
            "{} (partner's {remote}): the partner's changes are ignored from now on{}; `--undo` takes them again",
            link.local_issue_key,
            if dropped > 0 { format!(" ({dropped} waiting behind its error dropped)") } else { String::new() }
        ),
        true => format!(
            "{} (partner's {remote}): the partner's changes are applied again, from its next change",
            link.local_issue_key
        ),
    })
}

fn open_conflict(conn: &Connection, s: &SyncRecord, id: i64) -> Result<conflicts::Conflict> {
    match conflicts::get(conn, &s.id, id)? {
        Some(c) if c.state == "open" => Ok(c),
        Some(c) => bail!("conflict #{id} of sync '{}' is {} already", s.name, c.state),
        None => bail!("sync '{}' has no conflict #{id} (see `postern conflicts list {}`)", s.name, s.name),
    }
}

pub fn dismiss(conn: &Connection, s: &SyncRecord, id: i64) -> Result<String> {
    let c = open_conflict(conn, s, id)?;
    conflicts::set_state(conn, c.id, "dismissed")?;
    Ok(format!("Conflict #{id} dismissed ({} {} stays as it is)", c.local_key, c.field))
}

/// Sets the value that lost here again, as a local edit that crosses.
pub fn reapply(conn: &Connection, s: &SyncRecord, id: i64) -> Result<String> {
    let c = open_conflict(conn, s, id)?;
    let lost = match c.winner.as_str() {
        "partner" => c.local_value.clone(),
        "here" => c.partner_value.clone(),
        _ => bail!("conflict #{id} was merged: nothing lost to re-apply; dismiss it"),
    };
    if let Some(owner) = super::conflict::owner(s, &c.field).filter(|o| *o != s.role) {
        bail!(
            "{} is owned by the {} side: only its edits cross, so re-applying here would not reach the partner; \
             dismiss the conflict, or change the field there",
            c.field,
            owner.as_str()
        );
    }
    let mut fields = FieldChanges::default();
    match c.field.as_str() {
        "summary" => fields.summary = Some(lost.clone()),
        "description" => fields.description = Some(lost.clone()),
        "status" => fields.status = Some(lost.clone()),
        "priority" => fields.priority = Some(lost.clone()),
        "assignee" => fields.assignee = Some(if lost == "(unassigned)" { String::new() } else { lost.clone() }),
        other => bail!("conflict #{id}: the field {other} cannot be re-applied"),
    }
    let tracker = crate::engine::tracker_of::for_sync(s, conn)?;
    let actor = Actor { user: &s.sync_user, origin: None, via: None };
    tracker.update_issue(&c.local_key, &fields, actor)?;
    conflicts::set_state(conn, c.id, "reapplied")?;
    Ok(format!("{} {} set to {lost:?} again; it crosses to the partner with the next cycle", c.local_key, c.field))
}

/// Who owns which field (`sync edit --field-owner
/// FIELD=master|slave|latest,...`): stored, and queued for the partner,
/// which takes the same rule. Returns the line to show.
pub fn set_field_owners(conn: &Connection, s: &SyncRecord, spec: &str) -> Result<String> {
    const FIELDS: &[&str] =
        &["summary", "description", "status", "priority", "labels", "assignee", "type", "due_date", "custom"];
    let mut owners = s.field_owners.clone();
    for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((field, who)) = pair.split_once('=') else {
            bail!("--field-owner: '{pair}' is not FIELD=master, FIELD=slave or FIELD=latest");
        };
        let field = field.trim();
        if !FIELDS.contains(&field) {
            bail!("--field-owner: '{field}' is not one of {}", FIELDS.join(", "));
        }
        match who.trim() {
            "master" | "slave" => {
                owners.insert(field.into(), who.trim().into());
            }
            "latest" => {
                owners.remove(field);
            }
            other => bail!("--field-owner: '{other}' for {field} is not master, slave or latest"),
        }
    }
    // Both sides must apply the same rule: the partner takes the same map.
    let tx = conn.unchecked_transaction()?;
    crate::store::syncs::set_field_owners(&tx, &s.id, &owners)?;
    crate::store::outbox::enqueue_change(&tx, &s.id, crate::protocol::Change::FieldOwners { owners: owners.clone() })?;
    tx.commit()?;
    Ok(format!(
        "Sync '{}': {} (other fields: the later edit wins). The partner takes the same with its next cycle.",
        s.name,
        owned_list(&owners)
    ))
}

/// The owned fields in words.
pub fn owned_list(owners: &std::collections::BTreeMap<String, String>) -> String {
    match owners.is_empty() {
        true => "no field is owned by one side".into(),
        false => {
            format!("owned fields {}", owners.iter().map(|(f, w)| format!("{f}={w}")).collect::<Vec<_>>().join(", "))
        }
    }
}
