//! Crash safety: real `postern run` daemons killed with SIGKILL at random
//! instants, mid-collect and mid-apply, restarted, and in the end both
//! trackers agree with nothing lost and nothing applied twice.

mod common;
use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use postern::protocol::IssueFields;
use postern::tracker::{Actor, Embedded, Reads, Writes};
use rand::Rng;

/// A daemon that may be killed: its log goes nowhere (nothing reads it).
fn daemon(p: &TestPeer) -> Child {
    Command::new(env!("CARGO_BIN_EXE_postern"))
        .arg("--home")
        .arg(p.home())
        .args(["run", "--interval", "0.05"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn bulk(p: &TestPeer, project: &str, n: usize, tag: &str) {
    let mut peer = p.peer();
    let tx = peer.conn.transaction().unwrap();
    let a = Actor::person("bulk");
    for i in 0..n {
        let f = IssueFields {
            summary: format!("{tag} {i}"),
            status: "Open".into(),
            priority: "Medium".into(),
            ..Default::default()
        };
        let k = Embedded::new(&tx).create_issue(project, &f, a).unwrap();
        Embedded::new(&tx).add_comment(&k, &format!("{tag} first comment on {i}"), None, a).unwrap();
    }
    tx.commit().unwrap();
}

fn edit_some(p: &TestPeer, project: &str, tag: &str) {
    let mut peer = p.peer();
    let keys = Embedded::new(&peer.conn).issue_keys(project).unwrap();
    let tx = peer.conn.transaction().unwrap();
    let a = Actor::person("editor");
    for k in keys.iter().step_by(7) {
        Embedded::new(&tx).add_comment(k, &format!("{tag} on {k}"), None, a).unwrap();
        let f = postern::protocol::FieldChanges { description: Some(format!("{tag} desc")), ..Default::default() };
        Embedded::new(&tx).update_issue(k, &f, a).unwrap();
    }
    tx.commit().unwrap();
}

/// Messages numbered so far, both ways: moves as soon as a daemon works.
fn progress(p: &TestPeer) -> i64 {
    let conn = postern::store::open(&p.home().join("postern.db")).unwrap();
    conn.query_row("SELECT SUM(out_seq + in_seq) FROM sync", [], |r| r.get(0)).unwrap()
}

fn quiet(m: &TestPeer, s: &TestPeer) -> bool {
    let (ms, ss) = (m.status(), s.status());
    ms["awaiting_ack"] == 0
        && ss["awaiting_ack"] == 0
        && ss["incoming_seq"] == ms["outgoing_seq"]
        && ms["incoming_seq"] == ss["outgoing_seq"]
        && common::list_messages(&m.exchange("acme").join("RECEIVE")).is_empty()
        && common::list_messages(&s.exchange("acme").join("RECEIVE")).is_empty()
}

#[test]
fn peers_killed_at_random_instants_lose_nothing_and_apply_nothing_twice() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    // Thousands of issues per cycle on purpose: no mass-change threshold.
    for p in [&m, &s] {
        p.ok(&["sync", "edit", "acme", "--mass-change-threshold", "0"]);
    }
    settle(&m, &s, "acme");
    for p in [&m, &s] {
        p.ok(&["sync", "timing", "acme", "--resend-after-secs", "0.5", "--gap-after-secs", "0.2"]);
    }
    wire(&m, &s, "acme");
    let mut rng = rand::thread_rng();
    let mut kills = 0;
    let mut interrupted = 0;
    for round in 0..8 {
        match round % 4 {
            0 => bulk(&m, "SAM2", 1500, &format!("m{round}")),
            1 => bulk(&s, "SP2", 1000, &format!("s{round}")),
            2 => edit_some(&m, "SAM2", &format!("m{round}")),
            _ => edit_some(&s, "SP2", &format!("s{round}")),
        }
        let before = progress(&m) + progress(&s);
        let (mut dm, mut ds) = (daemon(&m), daemon(&s));
        // Kill once the daemons are seen working (however slow a loaded
        // machine makes their start), within a short window: the work takes
        // longer, so the kills land mid-work.
        let start = Instant::now();
        while progress(&m) + progress(&s) == before {
            assert!(start.elapsed() < Duration::from_secs(60), "the daemons never started working");
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..60)));
        ds.kill().unwrap();
        if round % 2 == 0 {
            dm.kill().unwrap();
            kills += 1;
        }
        kills += 1;
        ds.wait().unwrap();
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..100)));
        let _ = dm.kill();
        dm.wait().unwrap();
        // Did the kill cut work short? (Something still on its way.)
        if !quiet(&m, &s) {
            interrupted += 1;
        }
    }
    eprintln!("{kills} kills, {interrupted} while work was under way");
    assert!(kills >= 12);
    assert!(interrupted >= 2, "only {interrupted} kills landed while work was under way");

    // Let both run undisturbed until they agree, then stop them politely.
    let (dm, ds) = (m.daemon(&["--interval", "0.05"]), s.daemon(&["--interval", "0.05"]));
    let start = Instant::now();
    while !quiet(&m, &s) {
        assert!(start.elapsed() < Duration::from_secs(120), "no convergence: {} / {}", m.status(), s.status());
        std::thread::sleep(Duration::from_millis(200));
    }
    m.stop(dm);
    s.stop(ds);

    let (mi, si) = (m.issues("SAM2"), s.issues("SP2"));
    assert_eq!(mi.len(), 3000 + 2000, "master: every issue once");
    assert_eq!(si.len(), 3000 + 2000, "slave: every issue once");
    let export = m.json(&["sync", "export", "acme"]);
    let pairs = export["firstConnector"].as_array().unwrap();
    assert_eq!(pairs.len(), 5000);
    let mut comments = 0;
    for p in pairs {
        let (l, r) = (p["localIssueKey"].as_str().unwrap(), p["remoteIssueKey"].as_str().unwrap());
        let (a, b) = (m.peer(), s.peer());
        let ia = Embedded::new(&a.conn).issue(l).unwrap().unwrap();
        let ib = Embedded::new(&b.conn).issue(r).unwrap().unwrap();
        assert_eq!(ia.fields, ib.fields, "{l} / {r}");
        let ba: Vec<_> = ia.comments.iter().map(|c| &c.body).collect();
        let bb: Vec<_> = ib.comments.iter().map(|c| &c.body).collect();
        assert_eq!(ba, bb, "{l} / {r}: comments once each, in order");
        comments += ba.len();
    }
    assert!(comments > 5000);
    assert_eq!(m.status()["quarantined"], 0);
    assert_eq!(s.status()["quarantined"], 0);

    // And postern's own check agrees: a verify finds nothing that differs.
    m.ok(&["sync", "verify", "acme", "--wait", "0"]);
    let report = |p: &TestPeer| {
        let out = p.cli(&["sync", "verify", "acme", "--last", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).ok().map(|r| (out.status.code(), r))
    };
    for _ in 0..20 {
        m.cycle();
        s.cycle();
        if report(&m).is_some() {
            break;
        }
    }
    for p in [&m, &s] {
        let (code, r) = report(p).expect("a verify report");
        assert_eq!((code, r["differing"].as_array().map(Vec::len)), (Some(0), Some(0)), "{r}");
        assert_eq!((r["pairs"].as_u64(), r["partner_pairs"].as_u64()), (Some(5000), Some(5000)));
    }
}
