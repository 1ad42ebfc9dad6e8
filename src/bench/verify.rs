//! `postern bench --verify`: two embedded peers over folders with N paired
//! issues of J comments each; a verify of both sides when they agree, and
//! again after some issues were changed behind postern's back. Measures
//! the time until the starter has its report, and the messages (count and
//! sealed bytes, as they cross the share).

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Result};
use serde::Serialize;

use super::setup::Pair;
use crate::engine::Peer;

#[derive(Debug, Serialize, Default)]
pub struct VerifyFigures {
    pub pairs: usize,
    pub comments_per_issue: usize,
    pub setup_seconds: f64,
    pub clean_seconds: f64,
    pub clean_messages: usize,
    pub clean_bytes: u64,
    pub changed_behind: usize,
    pub divergent_seconds: f64,
    pub divergent_messages: usize,
    pub divergent_bytes: u64,
    pub divergent_found: usize,
}

/// Files waiting in a folder of the share: (count, bytes).
fn waiting(dir: &Path) -> Result<(usize, u64)> {
    let mut out = (0, 0);
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_name().to_string_lossy().ends_with(".pgp") {
            out.0 += 1;
            out.1 += e.metadata()?.len();
        }
    }
    Ok(out)
}

/// One verify started on the master, cycled until its report is kept:
/// (seconds, messages, sealed bytes, issues found to differ).
fn one(pair: &Pair, m: &mut Peer, s: &mut Peer) -> Result<(f64, usize, u64, usize)> {
    let sync = crate::store::syncs::find(&m.conn, "bench")?;
    let start = Instant::now();
    let round = crate::engine::verify::start(&mut m.conn, &sync, false)?;
    let (mut messages, mut bytes) = (0, 0);
    let share = pair.root.join("share");
    for _ in 0..100 {
        m.cycle()?;
        let (n, b) = waiting(&share.join("m2s"))?;
        s.cycle()?;
        let (n2, b2) = waiting(&share.join("s2m"))?;
        messages += n + n2;
        bytes += b + b2;
        if let Some(r) = crate::store::verify::get(&m.conn, &sync.id, &round)?.and_then(|r| r.report) {
            return Ok((start.elapsed().as_secs_f64(), messages, bytes, r.differing.len()));
        }
    }
    bail!("the verify did not finish in 100 cycles")
}

pub fn run(issues: usize, comments: usize, changed: usize) -> Result<VerifyFigures> {
    let dir = tempfile::tempdir()?;
    let start = Instant::now();
    let pair = Pair::new(dir.path(), None)?;
    super::vendor_issues(&mut pair.master_db()?, issues, comments)?;
    let (mut m, mut s) = (Peer::open(pair.master.clone())?, Peer::open(pair.slave.clone())?);
    crate::engine::run_until_quiet(&mut m, &mut s)?;
    let mut f = VerifyFigures { pairs: issues, comments_per_issue: comments, ..Default::default() };
    f.setup_seconds = start.elapsed().as_secs_f64();
    (f.clean_seconds, f.clean_messages, f.clean_bytes, _) = one(&pair, &mut m, &mut s)?;
    let sdb = pair.slave_db()?;
    for i in 0..changed.min(issues) {
        let key = format!("SP2-{}", 1 + i * (issues / changed.max(1)).max(1));
        sdb.execute("UPDATE t_issue SET summary = summary || ' (changed behind)' WHERE key = ?1", [&key])?;
    }
    f.changed_behind = changed.min(issues);
    (f.divergent_seconds, f.divergent_messages, f.divergent_bytes, f.divergent_found) = one(&pair, &mut m, &mut s)?;
    Ok(f)
}

pub fn print_table(f: &VerifyFigures) {
    println!("verify, embedded <-> embedded over folders: {} pairs x {} comments", f.pairs, f.comments_per_issue);
    println!(
        "  both sides agree        {:.2} s, {} messages, {:.1} KB sealed",
        f.clean_seconds,
        f.clean_messages,
        f.clean_bytes as f64 / 1024.0
    );
    println!(
        "  {} changed behind       {:.2} s, {} messages, {:.1} KB sealed; {} found",
        f.changed_behind,
        f.divergent_seconds,
        f.divergent_messages,
        f.divergent_bytes as f64 / 1024.0,
        f.divergent_found
    );
    println!("targets: 10,000 pairs x 10 comments under 5 s and under 100 KB when both agree");
}
