//! `postern bench`: two real peers with embedded trackers in a temporary
//! folder, over file exchange with encryption, measured end to end:
//! initial sync (with peak memory), steady-state throughput, latency with
//! notify and with polling only, one large attachment in parts, and a
//! gpg-per-message shell baseline on the same data. Prints a table and JSON. Figures, never assertions.

mod attachment;
mod baseline;
pub mod many;
pub mod redmine;
pub mod remote;
mod setup;
pub mod verify;

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::protocol::{FieldChanges, IssueFields};
use crate::tracker::{Actor, Embedded, Reads, Writes};
pub use attachment::noise;
use setup::{count, peak_rss, wait_until, Pair};

/// What to measure, and how much.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub issues: usize,
    pub comments: usize,
    pub changes: usize,
    pub latency_samples: usize,
    pub polling_samples: usize,
    pub baseline_messages: usize,
    /// Sizes in MB of the attachment runs.
    pub attachment_mb: Vec<usize>,
    /// Only the attachment runs (after a one-issue initial sync).
    pub attachments_only: bool,
}

#[derive(Debug, Serialize, Default)]
pub struct Figures {
    pub machine: String,
    pub initial_sync_issues: usize,
    pub initial_sync_comments: usize,
    pub initial_sync_seconds: f64,
    pub peak_rss_master_mb: f64,
    pub peak_rss_slave_mb: f64,
    pub throughput_changes: usize,
    pub throughput_changes_per_second: f64,
    pub latency_notify_p50_ms: f64,
    pub latency_notify_p99_ms: f64,
    pub latency_polling_p50_ms: f64,
    pub latency_polling_p99_ms: f64,
    pub latency_imap_idle: String,
    pub attachments: Vec<attachment::AttachmentFigures>,
    pub baseline_messages: usize,
    pub baseline_changes_per_second: f64,
    pub baseline_latency_ms: f64,
    pub throughput_ratio_to_baseline: f64,
    pub latency_ratio_to_baseline: f64,
}

fn progress(label: &str, done: u64, total: u64) {
    if std::io::stderr().is_terminal() {
        let width = 30;
        let filled = (done as usize * width).checked_div(total as usize).unwrap_or(0).min(width);
        eprint!("\r{label} [{}{}] {done}/{total}", "#".repeat(filled), " ".repeat(width - filled));
        if done >= total {
            eprintln!();
        }
    }
}

fn bulk(conn: &mut Connection, o: &BenchOptions) -> Result<()> {
    let tx = conn.transaction()?;
    let a = Actor::person("bench");
    for i in 0..o.issues {
        let f = IssueFields {
            summary: format!("Issue {i}: export fails for large projects"),
            description: "Steps: open the project, export, wait. ".repeat(4),
            status: "Open".into(),
            priority: "Medium".into(),
            labels: vec!["bench".into()],
            assignee: None,
            ..Default::default()
        };
        let key = Embedded::new(&tx).create_issue("SAM2", &f, a)?;
        for c in 0..o.comments {
            Embedded::new(&tx).add_comment(&key, &format!("Comment {c} on {key}: seen again today."), None, a)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// `issues` made at the vendor (project SAM2) with `comments` each, in one
/// transaction: what the remote trackers' benchmarks send across.
pub(crate) fn vendor_issues(conn: &mut Connection, issues: usize, comments: usize) -> Result<()> {
    let tx = conn.transaction()?;
    let e = Embedded::new(&tx);
    let a = Actor::person("vera");
    for i in 0..issues {
        let f = IssueFields {
            summary: format!("from the vendor {i}"),
            status: "Open".into(),
            priority: "Medium".into(),
            ..Default::default()
        };
        let k = e.create_issue("SAM2", &f, a)?;
        for j in 0..comments {
            e.add_comment(&k, &format!("vendor note {j} on {i}"), None, a)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Initial sync: `issues` with `comments` each, committed at once on the
/// master, until the slave has them all and the master knows every pair.
fn initial_sync(pair: &Pair, o: &BenchOptions, f: &mut Figures) -> Result<()> {
    let d = pair.start(&[])?;
    let start = Instant::now();
    bulk(&mut pair.master_db()?, o)?;
    let (sdb, mdb) = (pair.slave_db()?, pair.master_db()?);
    let total = (o.issues * (1 + o.comments)) as u64;
    wait_until(Duration::from_secs(600), Duration::from_millis(20), || {
        let got = count(&sdb, "SELECT COUNT(*) FROM t_issue")? + count(&sdb, "SELECT COUNT(*) FROM t_comment")?;
        progress("initial sync", got, total);
        let paired = count(&mdb, "SELECT COUNT(*) FROM link WHERE remote_key IS NOT NULL")?;
        Ok(got >= total && paired >= o.issues as u64)
    })?;
    f.initial_sync_seconds = start.elapsed().as_secs_f64();
    f.initial_sync_issues = o.issues;
    f.initial_sync_comments = o.issues * o.comments;
    f.peak_rss_master_mb = peak_rss(&d.master)? as f64 / 1048576.0;
    f.peak_rss_slave_mb = peak_rss(&d.slave)? as f64 / 1048576.0;
    d.stop()
}

fn applied_on_slave(sdb: &Connection) -> Result<u64> {
    count(sdb, "SELECT COUNT(*) FROM t_change WHERE origin IS NOT NULL")
}

/// Steady state: a stream of small edits and comments, committed in
/// batches as fast as the bench can, until all are applied on the slave.
fn throughput(pair: &Pair, o: &BenchOptions, f: &mut Figures) -> Result<()> {
    let d = pair.start(&[])?;
    let (mut mdb, sdb) = (pair.master_db()?, pair.slave_db()?);
    let base = applied_on_slave(&sdb)?;
    let keys: Vec<String> = Embedded::new(&mdb).issue_keys("SAM2")?;
    let a = Actor::person("bench");
    let start = Instant::now();
    for chunk in (0..o.changes).collect::<Vec<_>>().chunks(250) {
        let tx = mdb.transaction()?;
        for &i in chunk {
            let key = &keys[i % keys.len()];
            if i % 2 == 0 {
                let c = FieldChanges { summary: Some(format!("edit {i}")), ..Default::default() };
                Embedded::new(&tx).update_issue(key, &c, a)?;
            } else {
                Embedded::new(&tx).add_comment(key, &format!("comment {i}"), None, a)?;
            }
        }
        tx.commit()?;
    }
    let want = base + o.changes as u64;
    wait_until(Duration::from_secs(600), Duration::from_millis(5), || {
        let got = applied_on_slave(&sdb)?;
        progress("throughput", got - base, o.changes as u64);
        Ok(got >= want)
    })?;
    f.throughput_changes = o.changes;
    f.throughput_changes_per_second = o.changes as f64 / start.elapsed().as_secs_f64();
    d.stop()
}

/// Light load: one edit at a time, timed from commit to visible on the
/// slave. Returns (p50, p99) in milliseconds.
fn latency(pair: &Pair, samples: usize, run_args: &[&str], label: &str) -> Result<(f64, f64)> {
    let d = pair.start(run_args)?;
    let (mut mdb, sdb) = (pair.master_db()?, pair.slave_db()?);
    let key = Embedded::new(&mdb).issue_keys("SAM2")?.into_iter().next().expect("issues exist");
    let remote: String =
        sdb.query_row("SELECT local_key FROM link WHERE remote_key = ?1", params![key], |r| r.get(0))?;
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let value = format!("{label} latency {i}");
        let tx = mdb.transaction()?;
        Embedded::new(&tx).update_issue(
            &key,
            &FieldChanges { summary: Some(value.clone()), ..Default::default() },
            Actor::person("bench"),
        )?;
        tx.commit()?;
        let t = wait_until(Duration::from_secs(60), Duration::from_micros(500), || {
            let s: String = sdb.query_row("SELECT summary FROM t_issue WHERE key = ?1", [&remote], |r| r.get(0))?;
            Ok(s == value)
        })?;
        times.push(t.as_secs_f64() * 1000.0);
        progress(label, i as u64 + 1, samples as u64);
        std::thread::sleep(Duration::from_millis(20));
    }
    d.stop()?;
    times.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    Ok((pct(0.50), pct(0.99)))
}

/// The loopback mail servers of `scripts/mail-servers.sh`, if running.
fn mail_ports() -> Option<(u16, u16)> {
    let port = |v: &str| std::env::var(v).ok()?.parse().ok();
    Some((port("POSTERN_SMTP_PORT")?, port("POSTERN_IMAP_PORT")?))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cores} cores, {cpu}")
}

pub fn run(o: &BenchOptions) -> Result<Figures> {
    let dir = tempfile::tempdir()?;
    let pair = Pair::new(&dir.path().join("files"), None)?;
    let mut f = Figures { machine: machine(), ..Default::default() };
    if o.attachments_only {
        initial_sync(&pair, &BenchOptions { issues: 1, comments: 0, ..o.clone() }, &mut f)?;
        return attachments(&pair, o, f);
    }
    initial_sync(&pair, o, &mut f)?;
    throughput(&pair, o, &mut f)?;
    (f.latency_notify_p50_ms, f.latency_notify_p99_ms) = latency(&pair, o.latency_samples, &[], "latency (notify)")?;
    (f.latency_polling_p50_ms, f.latency_polling_p99_ms) =
        latency(&pair, o.polling_samples, &["--no-watch", "--interval", "2"], "latency (polling, 2 s)")?;
    f.latency_imap_idle = match mail_ports() {
        Some(ports) => {
            let mail = Pair::new(&dir.path().join("mail"), Some(ports))?;
            // Something to edit on the master, paired on the slave.
            let mut mdb = mail.master_db()?;
            let tx = mdb.transaction()?;
            let f = IssueFields {
                summary: "mail".into(),
                status: "Open".into(),
                priority: "Medium".into(),
                ..Default::default()
            };
            Embedded::new(&tx).create_issue("SAM2", &f, Actor::person("bench"))?;
            tx.commit()?;
            let d = mail.start(&[])?;
            let sdb = mail.slave_db()?;
            wait_until(Duration::from_secs(60), Duration::from_millis(20), || {
                Ok(count(&sdb, "SELECT COUNT(*) FROM link WHERE remote_key IS NOT NULL")? > 0)
            })?;
            d.stop()?;
            let (p50, p99) = latency(&mail, o.latency_samples.min(50), &[], "latency (IMAP IDLE)")?;
            format!("{p50:.0} / {p99:.0} ms")
        }
        None => "not measured: set POSTERN_SMTP_PORT and POSTERN_IMAP_PORT (scripts/mail-servers.sh)".into(),
    };
    let mut f = attachments(&pair, o, f)?;
    let b = baseline::run(&pair, o.baseline_messages)?;
    f.baseline_messages = o.baseline_messages;
    f.baseline_changes_per_second = b.changes_per_second;
    f.baseline_latency_ms = b.latency_ms;
    f.throughput_ratio_to_baseline = f.throughput_changes_per_second / b.changes_per_second;
    f.latency_ratio_to_baseline = b.latency_ms / f.latency_notify_p50_ms;
    Ok(f)
}

fn attachments(pair: &Pair, o: &BenchOptions, mut f: Figures) -> Result<Figures> {
    for mb in &o.attachment_mb {
        eprint!("\rattachment of {mb} MB ...");
        f.attachments.push(attachment::run(pair, (*mb).max(1))?);
        eprintln!(" done");
    }
    Ok(f)
}

pub fn print_table(f: &Figures) {
    if f.initial_sync_issues <= 1 {
        println!("postern bench (attachments only) on {}", f.machine);
        return print_attachments(f);
    }
    println!("postern bench on {}", f.machine);
    println!("{:<44} {:>14} {:>12}", "measure", "postern", "target");
    let row = |m: &str, v: String, t: &str| println!("{m:<44} {v:>14} {t:>12}");
    row(
        &format!("initial sync ({} issues, {} comments)", f.initial_sync_issues, f.initial_sync_comments),
        format!("{:.1} s", f.initial_sync_seconds),
        "< 30 s",
    );
    row("peak RSS during initial sync (master)", format!("{:.1} MB", f.peak_rss_master_mb), "< 100 MB");
    row("peak RSS during initial sync (slave)", format!("{:.1} MB", f.peak_rss_slave_mb), "< 100 MB");
    row(
        &format!("throughput ({} edits and comments)", f.throughput_changes),
        format!("{:.0}/s", f.throughput_changes_per_second),
        ">= 5000/s",
    );
    row(
        "latency p50 / p99, files + notify",
        format!("{:.1} / {:.1} ms", f.latency_notify_p50_ms, f.latency_notify_p99_ms),
        "p50 < 50 ms",
    );
    row(
        "latency p50 / p99, files, polling every 2 s",
        format!("{:.0} / {:.0} ms", f.latency_polling_p50_ms, f.latency_polling_p99_ms),
        "",
    );
    row("latency p50 / p99 over SMTP + IMAP IDLE", f.latency_imap_idle.clone(), "p50 < 1 s");
    print_attachments(f);
    println!();
    println!(
        "baseline: one gpg-signed, gpg-encrypted file per change ({} changes, shell pipeline)",
        f.baseline_messages
    );
    row("baseline throughput", format!("{:.0}/s", f.baseline_changes_per_second), "");
    row("baseline latency per change (seal + open)", format!("{:.1} ms", f.baseline_latency_ms), "");
    row("postern throughput / baseline", format!("{:.0}x", f.throughput_ratio_to_baseline), "");
    row("baseline latency / postern p50 (notify)", format!("{:.1}x", f.latency_ratio_to_baseline), "");
}

fn print_attachments(f: &Figures) {
    let row = |m: &str, v: String, t: &str| println!("{m:<44} {v:>14} {t:>12}");
    for a in &f.attachments {
        row(
            &format!("{} MB attachment, {} messages", a.megabytes, a.messages),
            format!("{:.1} s, {:.0} MB/s", a.seconds, a.mb_per_second),
            "",
        );
        row(
            "  peak RSS master / slave",
            format!("{:.0} / {:.0} MB", a.peak_rss_master_mb, a.peak_rss_slave_mb),
            "< 100 MB",
        );
        row("  crypto bound (seal + open, one process)", format!("{:.0} MB/s", a.crypto_bound_mb_per_second), "");
        row("  end to end / crypto bound", format!("{:.0} %", a.ratio_to_crypto_bound * 100.0), ">= 50 %");
    }
}
