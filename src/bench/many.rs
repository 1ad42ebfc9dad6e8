//! `postern bench --syncs 1,50,200,500`: two homes with N syncs between
//! them (N project pairs, folders linked into a share), run as daemons
//! with the default 2 s interval. For each N: each daemon's CPU while idle,
//! change → applied latency for edits in random projects, and peak memory.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rand::Rng;
use serde::Serialize;

use super::setup::{link, peak_rss, wait_until, Daemons, Pair};
use crate::engine::handshake::{self, SyncSettings};
use crate::engine::Peer;
use crate::home::Home;
use crate::protocol::{FieldChanges, IssueFields};
use crate::tracker::{Actor, Embedded, Writes};

#[derive(Debug, Serialize)]
pub struct ManyFigures {
    pub syncs: usize,
    pub idle_seconds: f64,
    pub idle_cpu_master_percent: f64,
    pub idle_cpu_slave_percent: f64,
    pub latency_samples: usize,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub peak_rss_master_mb: f64,
    pub peak_rss_slave_mb: f64,
}

/// Measures each home size in `counts`.
pub fn run(counts: &[usize], samples: usize, idle: Duration) -> Result<Vec<ManyFigures>> {
    counts.iter().map(|&n| one(n.max(1), samples.max(1), idle)).collect()
}

fn one(n: usize, samples: usize, idle: Duration) -> Result<ManyFigures> {
    let dir = tempfile::tempdir()?;
    let pair = setup(dir.path(), n)?;
    let d = pair.start(&[])?;
    // Let start-up work finish, then watch the two idle daemons.
    std::thread::sleep(Duration::from_secs(3));
    let (m0, s0, t0) = (cpu_ticks(&d.master.id())?, cpu_ticks(&d.slave.id())?, Instant::now());
    std::thread::sleep(idle);
    let secs = t0.elapsed().as_secs_f64();
    let tick = 100.0; // USER_HZ on Linux
    let percent = |a: u64, b: u64| (b - a) as f64 / tick / secs * 100.0;
    let (idle_m, idle_s) = (percent(m0, cpu_ticks(&d.master.id())?), percent(s0, cpu_ticks(&d.slave.id())?));
    let times = latencies(&pair, &d, n, samples)?;
    let pct = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
    let f = ManyFigures {
        syncs: n,
        idle_seconds: secs,
        idle_cpu_master_percent: idle_m,
        idle_cpu_slave_percent: idle_s,
        latency_samples: samples,
        latency_p50_ms: pct(0.5),
        latency_p99_ms: pct(0.99),
        peak_rss_master_mb: peak_rss(&d.master)? as f64 / 1048576.0,
        peak_rss_slave_mb: peak_rss(&d.slave)? as f64 / 1048576.0,
    };
    d.stop()?;
    Ok(f)
}

/// Edits of one issue in a random project on the master, each timed until
/// the slave shows it.
fn latencies(pair: &Pair, _d: &Daemons, n: usize, samples: usize) -> Result<Vec<f64>> {
    let (mut mdb, sdb) = (pair.master_db()?, pair.slave_db()?);
    let mut rng = rand::thread_rng();
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let p = rng.gen_range(0..n);
        let value = format!("edit {i}");
        let tx = mdb.transaction()?;
        let c = FieldChanges { summary: Some(value.clone()), ..Default::default() };
        Embedded::new(&tx).update_issue(&format!("M{p}-1"), &c, Actor::person("bench"))?;
        tx.commit()?;
        let t = wait_until(Duration::from_secs(60), Duration::from_micros(500), || {
            let s: String =
                sdb.query_row("SELECT summary FROM t_issue WHERE key = ?1", [format!("S{p}-1")], |r| r.get(0))?;
            Ok(s == value)
        })?;
        times.push(t.as_secs_f64() * 1000.0);
        super::progress(&format!("latency, {n} syncs"), i as u64 + 1, samples as u64);
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..200)));
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok(times)
}

/// Two homes, `n` syncs between projects M<i> and S<i>, one issue each,
/// paired and settled.
fn setup(root: &Path, n: usize) -> Result<Pair> {
    let (master, slave) = (Home::create(&root.join("master"))?, Home::create(&root.join("slave"))?);
    let (mkey, _) = master.own_key_or_generate()?;
    let (skey, _) = slave.own_key_or_generate()?;
    let (mut mdb, mut sdb) = (master.open_db()?, slave.open_db()?);
    let share = root.join("share");
    for i in 0..n {
        let name = format!("s{i}");
        Embedded::new(&mdb).create_project(&format!("M{i}"), "bench", None)?;
        Embedded::new(&sdb).create_project(&format!("S{i}"), "bench", None)?;
        let settings = |h: &Home, project: String| SyncSettings {
            name: name.clone(),
            description: "many syncs".into(),
            project,
            sync_user: "sync".into(),
            exchange_dir: h.default_exchange(&name),
            mail: None,
            max_message_bytes: handshake::DEFAULT_MESSAGE_LIMIT,
            forward: false,
            replaces: None,
            tracker: crate::tracker::TrackerSettings::Embedded,
            start: Default::default(),
        };
        let created = handshake::create_master(&mut mdb, &mkey, &settings(&master, format!("M{i}")), 86_400_000)?;
        let file = handshake::read_handshake(&created.handshake, &created.passphrase)?;
        handshake::accept(&mut sdb, &skey, &file, &settings(&slave, format!("S{i}")))?;
        super::setup::no_mass_limit(&master)?;
        super::setup::no_mass_limit(&slave)?;
        let (m2s, s2m) = (share.join(format!("{name}-m2s")), share.join(format!("{name}-s2m")));
        for d in [&m2s, &s2m] {
            std::fs::create_dir_all(d)?;
        }
        let (mx, sx) = (master.default_exchange(&name), slave.default_exchange(&name));
        link(&mx, "SEND", &m2s)?;
        link(&mx, "RECEIVE", &s2m)?;
        link(&sx, "SEND", &s2m)?;
        link(&sx, "RECEIVE", &m2s)?;
        super::progress(&format!("pairing {n} syncs"), i as u64 + 1, n as u64);
    }
    let (mut m, mut s) = (Peer::open(master.clone())?, Peer::open(slave.clone())?);
    crate::engine::run_until_quiet(&mut m, &mut s)?;
    let tx = m.conn.transaction()?;
    for i in 0..n {
        let f = IssueFields {
            summary: "many".into(),
            status: "Open".into(),
            priority: "Medium".into(),
            ..Default::default()
        };
        Embedded::new(&tx).create_issue(&format!("M{i}"), &f, Actor::person("bench"))?;
    }
    tx.commit()?;
    crate::engine::run_until_quiet(&mut m, &mut s)?;
    Ok(Pair { root: root.to_path_buf(), master, slave })
}

/// CPU time (user + system) of a process so far, in clock ticks.
fn cpu_ticks(pid: &u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name in parentheses; utime and stime are
    // the 14th and 15th fields of the line.
    let rest = stat.rsplit_once(')').context("unreadable /proc stat")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Ok(f[11].parse::<u64>()? + f[12].parse::<u64>()?)
}

pub fn print_table(all: &[ManyFigures]) {
    println!("many syncs in one home (files, default 2 s interval)");
    println!(
        "{:>6} {:>22} {:>22} {:>20}",
        "syncs", "idle CPU master/slave", "change->applied p50/p99", "peak RSS master/slave"
    );
    for f in all {
        println!(
            "{:>6} {:>21} {:>23} {:>21}",
            f.syncs,
            format!("{:.2} / {:.2} %", f.idle_cpu_master_percent, f.idle_cpu_slave_percent),
            format!("{:.0} / {:.0} ms", f.latency_p50_ms, f.latency_p99_ms),
            format!("{:.0} / {:.0} MB", f.peak_rss_master_mb, f.peak_rss_slave_mb)
        );
    }
    println!("targets: idle CPU < 0.5 % per daemon at 500 syncs; p50 within 2x of one sync");
}
