//! Nothing stalls silently: exchange folders rewired while the daemons
//! run, a sync whose tracker never answers, a cycle that panics. Each
//! either keeps moving or shows as FAILING in `status`, and never holds
//! up another sync.

mod common;
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    start.elapsed()
}

/// The user guide's step 3 (docs/setup.md) on one side: SEND's waiting messages into the
/// share, then SEND and RECEIVE replaced by links into it.
fn link_into_share(p: &TestPeer, sync: &str, send_to: &Path, receive_from: &Path) {
    let ex = p.exchange(sync);
    for f in std::fs::read_dir(ex.join("SEND")).unwrap() {
        let f = f.unwrap().path();
        std::fs::rename(&f, send_to.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::remove_dir_all(ex.join("SEND")).unwrap();
    std::fs::remove_dir_all(ex.join("RECEIVE")).unwrap();
    std::os::unix::fs::symlink(send_to, ex.join("SEND")).unwrap();
    std::os::unix::fs::symlink(receive_from, ex.join("RECEIVE")).unwrap();
}

/// Both sides' SEND and RECEIVE linked into one share (m2s, s2m), once
/// both sides are active.
fn shared(m: &TestPeer, s: &TestPeer) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let share = tempfile::tempdir().unwrap();
    let (m2s, s2m) = (share.path().join("m2s"), share.path().join("s2m"));
    std::fs::create_dir_all(&m2s).unwrap();
    std::fs::create_dir_all(&s2m).unwrap();
    link_into_share(m, "acme", &m2s, &s2m);
    link_into_share(s, "acme", &s2m, &m2s);
    wait_for("both sides active", Duration::from_secs(20), || {
        m.status()["state"] == "active" && s.status()["state"] == "active"
    });
    (share, m2s, s2m)
}

#[test]
fn folders_rewired_while_the_daemons_run_are_read_without_a_restart() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    // As `sync accept` says: run both sides. A full poll only hourly:
    // what arrives must be seen through the watches.
    let (dm, ds) = (m.daemon(&["--interval", "3600"]), s.daemon(&["--interval", "3600"]));
    std::thread::sleep(Duration::from_millis(500));
    let (share, _, _) = shared(&m, &s);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "through the share"]);
    wait_for("the issue crossed", Duration::from_secs(20), || s.issues("SP2").len() == 1);

    // On an active sync, the slave's RECEIVE (and the master's SEND)
    // relinked to another folder of the share.
    let moved = share.path().join("m2s-new");
    std::fs::create_dir(&moved).unwrap();
    for (p, name) in [(&m, "SEND"), (&s, "RECEIVE")] {
        let link = p.exchange("acme").join(name);
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&moved, &link).unwrap();
    }
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "after relinking"]);
    wait_for("the issue crossed the relinked folder", Duration::from_secs(20), || s.issues("SP2").len() == 2);

    // `mv RECEIVE away; mkdir RECEIVE` on the master: another folder at
    // the same place, which the slave's SEND is then linked to.
    let away = share.path().join("s2m-away");
    std::fs::rename(m.exchange("acme").join("RECEIVE"), &away).unwrap();
    std::fs::create_dir(m.exchange("acme").join("RECEIVE")).unwrap();
    let send = s.exchange("acme").join("SEND");
    std::fs::remove_file(&send).unwrap();
    std::os::unix::fs::symlink(m.exchange("acme").join("RECEIVE"), &send).unwrap();
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "into a new RECEIVE"]);
    wait_for("the issue crossed into the new RECEIVE", Duration::from_secs(20), || {
        m.issues("SAM2").iter().any(|i| i["summary"] == "into a new RECEIVE")
    });
    let log = m.stop(dm);
    assert!(log.contains("RECEIVE was replaced; watching the new one"), "{log}");
    s.stop(ds);
}

/// Answers nothing, ever: every connection is accepted and kept open.
fn silent_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        for stream in listener.incoming().flatten() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            kept.push(stream);
        }
    });
    (port, count)
}

#[test]
fn a_tracker_that_never_answers_delays_only_its_own_sync() {
    let (port, asked) = silent_server();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    for p in ["SAM3", "SAM4"] {
        m.ok(&["project", "create", p]);
    }
    s.ok(&["project", "create", "SP3"]);
    pair(&m, &s, "a", "SAM2", "SP2");
    pair(&m, &s, "b", "SAM3", "SP3");
    settle(&m, &s, "a");
    settle(&m, &s, "b");
    let url = format!("http://127.0.0.1:{port}");
    let redmine = ["--tracker", "redmine", "--redmine-url", &url, "--redmine-key", "k", "--skip-tracker-check"];
    pair_with(&m, &s, "hung", "SAM4", "support", &[], &redmine);
    // The slave's daemon asks the silent tracker every 0.2 s: its sync
    // hangs in a call that waits up to a minute.
    let ds = s.daemon(&["--interval", "0.2", "--tracker-interval", "0.2"]);
    wait_for("the silent tracker was asked", Duration::from_secs(20), || {
        asked.load(std::sync::atomic::Ordering::SeqCst) > 0
    });
    let mut pm = m.peer();
    let mut took = Vec::new();
    for i in 0..6 {
        let (sync, project, there) = if i % 2 == 0 { ("a", "SAM2", "SP2") } else { ("b", "SAM3", "SP3") };
        let before = s.issues(there).len();
        m.ok(&["issue", "create", "--project", project, "--summary", &format!("probe {i}")]);
        pm.cycle().unwrap();
        carry(&m, &s, sync);
        took.push(wait_for("a probe crossed", Duration::from_secs(30), || s.issues(there).len() > before));
        std::thread::sleep(Duration::from_millis(300));
    }
    let log = s.stop(ds);
    let slowest = took.iter().max().unwrap();
    assert!(*slowest < Duration::from_secs(5), "the other syncs waited for the silent tracker: {took:?}\n{log}");
    eprintln!("change applied beside a silent tracker: {took:?}");
}

#[test]
fn a_cycle_that_panics_shows_as_failing_and_the_other_syncs_go_on() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    m.ok(&["project", "create", "SAM3"]);
    s.ok(&["project", "create", "SP3"]);
    pair(&m, &s, "a", "SAM2", "SP2");
    let b = pair(&m, &s, "b", "SAM3", "SP3");
    settle(&m, &s, "a");
    settle(&m, &s, "b");
    let dm = m.daemon_env(&["--interval", "3600"], &[("POSTERN_TEST_PANIC_SYNC", &b)]);
    wait_for("b shows as failing", Duration::from_secs(20), || {
        m.status_of("b")["failing"].as_array().is_some_and(|f| f.iter().any(|t| t["what"] == "panic"))
    });
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "for a"]);
    wait_for("a went on", Duration::from_secs(20), || m.outgoing("a").len() == 1);
    let text = m.ok(&["status"]);
    let b_part = &text[text.find("b (").unwrap()..];
    assert!(b_part.contains("FAILING         crashed since"), "{text}");
    assert!(b_part.contains("src/daemon/worker.rs:"), "where it panicked: {text}");
    assert_eq!(text.matches("FAILING").count(), 1, "a is healthy: {text}");
    let log = m.stop(dm);
    assert!(log.contains("the cycle panicked"), "{log}");
    // Without the fault the next run clears it.
    m.ok(&["run", "--once"]);
    let dm = m.daemon(&["--interval", "3600"]);
    wait_for("b recovered", Duration::from_secs(20), || m.status_of("b")["failing"] == serde_json::json!([]));
    m.stop(dm);
}

/// The slave's RECEIVE relinked, while both daemons run, to a folder
/// nobody writes into: every file still lands somewhere, nothing fails,
/// and yet nothing the master sends is read. Both sides show it as
/// stalled (not acknowledged) in `status` within a few resend times,
/// and both clear once the link is put right.
#[test]
fn a_partner_that_reads_nothing_we_send_shows_as_stalled_on_both_sides() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    for p in [&m, &s] {
        p.ok(&["sync", "timing", "acme", "--resend-after-secs", "0.3"]);
    }
    let (dm, ds) = (m.daemon(&["--interval", "3600"]), s.daemon(&["--interval", "3600"]));
    std::thread::sleep(Duration::from_millis(500));
    let (share, m2s, _) = shared(&m, &s);
    let stalled = |p: &TestPeer| p.status()["stalled"].as_array().unwrap().clone();
    assert!(stalled(&m).is_empty() && stalled(&s).is_empty());

    let nowhere = share.path().join("nobody-writes-here");
    std::fs::create_dir(&nowhere).unwrap();
    let link = s.exchange("acme").join("RECEIVE");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&nowhere, &link).unwrap();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "never read"]);
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "read, but its acknowledgement is not"]);
    wait_for("the master shows its message as unanswered", Duration::from_secs(30), || {
        stalled(&m).iter().any(|st| st["what"] == "unanswered")
    });
    wait_for("the slave shows its message as unanswered", Duration::from_secs(30), || {
        stalled(&s).iter().any(|st| st["what"] == "unanswered")
    });
    assert!(m.issues("SAM2").iter().any(|i| i["summary"] == "read, but its acknowledgement is not"));
    assert!(s.issues("SP2").len() == 1, "nothing of the master's crossed");
    let text = m.ok(&["status"]);
    assert!(text.contains("UNANSWERED      our message"), "{text}");
    assert!(text.contains("reads the folder or mailbox this side sends to"), "{text}");
    assert!(m.status()["failing"].as_array().unwrap().is_empty(), "not a failure of the master's own work");

    // Put right: the link back to where the master writes. The resends
    // cross, both sides acknowledge, both clear.
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&m2s, &link).unwrap();
    wait_for("the master's issue crossed", Duration::from_secs(30), || {
        s.issues("SP2").iter().any(|i| i["summary"] == "never read")
    });
    wait_for("both sides clear", Duration::from_secs(30), || stalled(&m).is_empty() && stalled(&s).is_empty());
    assert!(!m.ok(&["status"]).contains("NOT RUNNING"));
    m.stop(dm);
    s.stop(ds);
    // A daemon that stopped is no silent stall either.
    assert!(m.ok(&["status"]).starts_with("NOT RUNNING: no `postern run` serves this home now"));
}
