//! The remote tracker benchmark: an embedded peer and a peer on a Jira or
//! a GitHub (any: the examples `jira_bench` and `github_bench` run it
//! against the fakes of the tests), an initial sync each way and a steady
//! stream of edits and comments, timed, with the HTTP calls each synced
//! change took.

use crate::tracker::{Reads, Writes};
use std::time::Instant;

use anyhow::Result;
use serde::Serialize;

use super::setup::Pair;
use crate::protocol::{FieldChanges, IssueFields};
use crate::tracker::remote::calls;
use crate::tracker::{Actor, Embedded, Tracker, TrackerSettings};

#[derive(Debug, Serialize)]
pub struct RemoteFigures {
    pub tracker: String,
    pub issues: usize,
    pub comments_per_issue: usize,
    /// Jira → embedded: issues with comments made in Jira, found, applied.
    pub in_secs: f64,
    pub in_issues_per_sec: f64,
    pub in_calls_per_change: f64,
    /// Embedded → Jira: issues with comments written into Jira.
    pub out_secs: f64,
    pub out_issues_per_sec: f64,
    pub out_calls_per_change: f64,
    /// A steady stream: an edit or a comment at a time, each synced before
    /// the next, made in Jira (in) and at the vendor (out).
    pub steady_changes: usize,
    pub steady_in_calls_per_change: f64,
    pub steady_out_calls_per_change: f64,
}

/// What the remote side is: the sync's tracker settings, its project, a
/// person's view of the same tracker (who makes that side's changes), and
/// the fields of the issues that person files.
pub struct Remote<'a> {
    pub name: &'a str,
    pub settings: TrackerSettings,
    pub project: &'a str,
    pub person: &'a dyn Tracker,
    pub fields: IssueFields,
}

/// `later` runs before the steady stream: the initial sync's issues
/// should leave the search window first, as they would in a day's use (a
/// fake moves its clock; against a real tracker, wait a few minutes).
pub fn run(remote: &Remote<'_>, (issues, comments): (usize, usize), later: &dyn Fn()) -> Result<RemoteFigures> {
    let tmp = tempfile::tempdir()?;
    let pair = Pair::with_slave_tracker(tmp.path(), remote.project, remote.settings.clone())?;
    let who = remote.person;
    let as_person = Actor::person("bench");
    let (mut m, mut s) =
        (crate::engine::Peer::open(pair.master.clone())?, crate::engine::Peer::open(pair.slave.clone())?);
    crate::engine::run_until_quiet(&mut s, &mut m)?;
    let changes = (issues * (1 + comments)) as f64;

    // Jira → embedded.
    let mut keys = Vec::new();
    for i in 0..issues {
        let f = IssueFields { summary: format!("from {} {i}", remote.name), ..remote.fields.clone() };
        let key = who.create_issue(remote.project, &f, as_person)?;
        for j in 0..comments {
            who.add_comment(&key, &format!("{} note {j} on {i}", remote.name), None, as_person)?;
        }
        keys.push(key);
    }
    let (t, before) = (Instant::now(), calls());
    crate::engine::run_until_quiet(&mut s, &mut m)?;
    let in_secs = t.elapsed().as_secs_f64();
    let in_calls = (calls() - before) as f64;
    let arrived = Embedded::new(&m.conn).issue_keys("SAM2")?.len();
    anyhow::ensure!(arrived == issues, "{arrived} of {issues} issues arrived");

    // Embedded → Jira.
    super::vendor_issues(&mut m.conn, issues, comments)?;
    let (t, before) = (Instant::now(), calls());
    crate::engine::run_until_quiet(&mut m, &mut s)?;
    let out_secs = t.elapsed().as_secs_f64();
    let out_calls = (calls() - before) as f64;

    // A steady stream: edits and comments, one at a time.
    later();
    // The polls of those minutes (per interval, not per change).
    crate::engine::run_until_quiet(&mut s, &mut m)?;
    let steady = 20.min(issues * 2).max(2);
    let mut steady_in = 0;
    for n in 0..steady {
        let key = &keys[n % keys.len()];
        match n % 2 {
            0 => {
                let f = FieldChanges { summary: Some(format!("edited in {} {n}", remote.name)), ..Default::default() };
                who.update_issue(key, &f, as_person)?;
            }
            _ => drop(who.add_comment(key, &format!("steady note {n}"), None, as_person)?),
        }
        // The cycle that finds and sends it (idle polls are per interval,
        // not per change).
        let before = calls();
        s.cycle()?;
        steady_in += calls() - before;
        crate::engine::run_until_quiet(&mut s, &mut m)?;
    }
    // Issues the vendor made: those edited in Jira just now would keep
    // Jira's newer edit (the fake's clock runs ahead), and nothing would
    // be written.
    let e = Embedded::new(&m.conn);
    let mut vendor_keys = Vec::new();
    for k in e.issue_keys("SAM2")? {
        if e.issue(&k)?.is_some_and(|i| i.fields.summary.starts_with("from the vendor")) {
            vendor_keys.push(k);
        }
    }
    let mut steady_out = 0;
    for n in 0..steady {
        let key = &vendor_keys[n % vendor_keys.len()];
        {
            let tx = m.conn.transaction()?;
            let e = Embedded::new(&tx);
            let a = Actor::person("vera");
            match n % 2 {
                0 => e.update_issue(
                    key,
                    &FieldChanges { summary: Some(format!("edited at the vendor {n}")), ..Default::default() },
                    a,
                )?,
                _ => drop(e.add_comment(key, &format!("vendor steady note {n}"), None, a)?),
            }
            tx.commit()?;
        }
        // The cycle that receives and applies it (with its poll of Jira).
        m.cycle()?;
        let before = calls();
        s.cycle()?;
        steady_out += calls() - before;
        crate::engine::run_until_quiet(&mut m, &mut s)?;
    }
    let rate = |secs: f64| issues as f64 / secs.max(1e-9);
    Ok(RemoteFigures {
        tracker: remote.name.to_string(),
        issues,
        comments_per_issue: comments,
        in_secs,
        in_issues_per_sec: rate(in_secs),
        in_calls_per_change: in_calls / changes,
        out_secs,
        out_issues_per_sec: rate(out_secs),
        out_calls_per_change: out_calls / changes,
        steady_changes: steady,
        steady_in_calls_per_change: steady_in as f64 / steady as f64,
        steady_out_calls_per_change: steady_out as f64 / steady as f64,
    })
}

pub fn print_table(f: &RemoteFigures) {
    let t = &f.tracker;
    println!("{t}: {} issues with {} comments each", f.issues, f.comments_per_issue);
    println!(
        "  {t} -> embedded  {:>8.2} s  {:>7.1} issues/s   {:.2} HTTP calls per synced change",
        f.in_secs, f.in_issues_per_sec, f.in_calls_per_change
    );
    println!(
        "  embedded -> {t}  {:>8.2} s  {:>7.1} issues/s   {:.2} HTTP calls per synced change",
        f.out_secs, f.out_issues_per_sec, f.out_calls_per_change
    );
    println!(
        "  steady stream of {} edits and comments: {:.2} calls per change from {t}, {:.2} into {t}",
        f.steady_changes, f.steady_in_calls_per_change, f.steady_out_calls_per_change
    );
}
