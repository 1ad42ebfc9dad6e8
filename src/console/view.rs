//! What the console shows, read from the database: the status `postern
//! status` prints (already without secrets), a sync's health in one word
//! with what to do about it, and a sync's details.

use anyhow::Result;
use rusqlite::Connection;
use serde::Serialize;

use crate::status::{collect, SyncStatus};
use crate::store::{activity, conflicts, links, now_ms, problems, syncs};
use crate::words::plural;

/// One word for how a sync is, worst first: `failing`, `stalled` (the
/// partner does not acknowledge, or a gap does not fill), `expired`,
/// `paused`, `held` (a mass change waits), `diverged` (the last verify
/// found issues that differ from the partner's), `attention` (active, with
/// issue errors, open conflicts or quarantined files), `handshake`,
/// `active`.
pub fn health(s: &SyncStatus) -> &'static str {
    if !s.failing.is_empty() {
        "failing"
    } else if !s.stalled.is_empty() {
        "stalled"
    } else if s.state == "expired" || s.state == "paused" {
        s.state
    } else if s.mass_change_held.is_some() {
        "held"
    } else if !s.diverged.is_empty() {
        "diverged"
    } else if s.state == "active" && (s.issues_with_errors > 0 || s.conflicts > 0 || s.quarantined > 0) {
        "attention"
    } else {
        s.state
    }
}

/// What the admin can do about each thing that is not well.
pub fn advice(s: &SyncStatus) -> Vec<String> {
    let name = &s.name;
    let mut out = Vec::new();
    for t in &s.failing {
        let next = match t.what.as_str() {
            "refused" => "nothing crosses until both sides agree: follow what the partner said",
            "panic" => "postern retries by itself; the other syncs go on; please report it with the log",
            _ => {
                "postern retries by itself, waiting longer each time; fix the cause (server, folder, credentials) \
                  and it goes on"
            }
        };
        out.push(format!(
            "{} fails since {} ({} tries): {}. {next}.",
            t.subject(),
            crate::engine::handshake::format_ms(t.since),
            t.tries,
            t.error
        ));
    }
    for st in &s.stalled {
        out.push(format!("{}.", crate::engine::stall::Stall::describe(st, &crate::status::ago(now_ms() - st.since))));
    }
    match s.state {
        "paused" => out.push(format!("Paused: nothing crosses. Resume with `postern sync resume {name}`.")),
        "expired" => out.push(format!(
            "The handshake expired unaccepted: create a new sync; `postern sync delete {name}` frees the name."
        )),
        "handshake" => {
            out.push("Waiting for the partner to upload the handshake file and send its first message.".to_string())
        }
        _ => {}
    }
    if let Some(h) = &s.mass_change_held {
        out.push(format!(
            "{} issues held back, over the mass-change threshold of {}: check with `postern sync pending {name}`, then \
             `postern sync allow-mass-change {name}`.",
            h.issues, h.threshold
        ));
    }
    if s.issues_blocked > 0 {
        out.push(format!(
            "{} with errors: {} later changes wait. Fix the cause, then retry (`postern errors retry {name} --all`).",
            plural(s.issues_blocked, "issue", "issues"),
            if s.issues_blocked == 1 { "its" } else { "their" }
        ));
    }
    let not_held = s.issues_with_errors.saturating_sub(s.issues_blocked);
    if not_held > 0 {
        out.push(format!(
            "{} a value this tracker does not hold (it blocks nothing; see `postern errors list {name}`): add it \
             to the tracker or map it, then retry.",
            match not_held {
                1 => "1 issue lacks".to_string(),
                n => format!("{n} issues lack"),
            }
        ));
    }
    let (unpaired, differ): (Vec<_>, Vec<_>) =
        s.diverged.iter().partition(|d| d.what == crate::store::verify::UNPAIRED);
    let listed = |ds: &[&crate::status::Diverged]| {
        let keys: Vec<&str> = ds.iter().take(5).map(|d| d.issue.as_str()).collect();
        format!("{}{}", keys.join(", "), if ds.len() > 5 { ", …" } else { "" })
    };
    if !differ.is_empty() {
        out.push(format!(
            "{} from the partner's ({}): see `postern sync verify {name} --last`; \
             `postern sync verify {name} --repair` converges them.",
            match differ.len() {
                1 => "1 issue differs".to_string(),
                n => format!("{n} issues differ"),
            },
            listed(&differ)
        ));
    }
    if !unpaired.is_empty() {
        out.push(format!(
            "{} by the sync user, paired with no issue of the partner ({}): a copy the tracker made late, or \
             someone at work as the sync user, whose work never crosses. Delete it, or pair it with \
             `postern sync records pair {name}`.",
            match unpaired.len() {
                1 => "1 issue was made".to_string(),
                n => format!("{n} issues were made"),
            },
            listed(&unpaired)
        ));
    }
    if s.conflicts > 0 {
        let n = plural(s.conflicts, "open conflict", "open conflicts");
        out.push(format!("{n}: review them (`postern conflicts list {name}`)."));
    }
    if s.quarantined > 0 {
        out.push(format!(
            "{} quarantined: {} the checks (forged, damaged or for another sync); see the reasons below.",
            plural(s.quarantined, "file", "files"),
            if s.quarantined == 1 { "it failed" } else { "they failed" }
        ));
    }
    if s.held_for_gap > 0 {
        out.push(format!(
            "{} held for a gap: a missing message was asked for again; it crosses once the partner resends it.",
            plural(s.held_for_gap, "message", "messages")
        ));
    }
    out
}

/// The number of pairs per page of the sync page.
pub const PAGE: usize = 50;

/// A sync in detail.
#[derive(Debug, Serialize)]
pub struct SyncView {
    pub status: SyncStatus,
    pub health: &'static str,
    pub advice: Vec<String>,
    pub pairs_total: u64,
    pub pairs: Vec<links::Link>,
    pub search: String,
    pub page: usize,
    pub errors: Vec<problems::IssueError>,
    pub conflicts: Vec<conflicts::Conflict>,
    pub quarantine: Vec<problems::Quarantined>,
    pub hours: Vec<activity::Traffic>,
    pub totals: activity::Traffic,
}

/// The sync named `name` (or `None`), page `page` (from 0) of its pairs
/// matching `search`.
pub fn sync(conn: &Connection, name: &str, search: &str, page: usize) -> Result<Option<SyncView>> {
    let Some(rec) = syncs::get_by_name(conn, name)? else {
        return Ok(None);
    };
    let Some(status) = collect(conn)?.into_iter().find(|s| s.id == rec.id) else {
        return Ok(None);
    };
    let (pairs_total, pairs) = links::page(conn, &rec.id, search, page * PAGE, PAGE)?;
    Ok(Some(SyncView {
        health: health(&status),
        advice: advice(&status),
        pairs_total,
        pairs,
        search: search.to_string(),
        page,
        errors: problems::errors(conn, &rec.id)?,
        conflicts: conflicts::list(conn, &rec.id, false)?,
        quarantine: problems::quarantine_list(conn, &rec.id, 50)?,
        hours: activity::last_hours(conn, &rec.id, 24, now_ms())?,
        totals: activity::totals(conn, &rec.id)?,
        status,
    }))
}
