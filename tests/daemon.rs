//! `postern run` as a daemon: wakes on new files and tracker writes
//! (notify), stays idle when there is nothing to do, stops on SIGTERM.

mod common;
use common::*;
use std::time::{Duration, Instant};

#[test]
fn daemons_wake_on_changes_without_polling_and_idle_quietly() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    wire(&m, &s, "acme");
    // A full scan only once an hour: anything that arrives sooner came
    // through a notify wake-up.
    let (dm, ds) = (m.daemon(&["--interval", "3600"]), s.daemon(&["--interval", "3600"]));
    std::thread::sleep(Duration::from_millis(300));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "woken"]);
    let start = Instant::now();
    while s.issues("SP2").is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "the change never arrived");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the pairing reply and acknowledgements settle, then stay idle.
    while m.status()["awaiting_ack"] != 0 || s.status()["awaiting_ack"] != 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "acknowledgements never settled");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let logs = [m.stop(dm), s.stop(ds)];
    for log in &logs {
        let cycles = log.matches("cycle finished").count();
        // A handful of cycles for the work above; a busy loop would log thousands.
        assert!(cycles < 40, "{cycles} cycles: the daemon does not idle\n{log}");
        assert!(log.contains("postern stopped"), "{log}");
    }
    assert_eq!(s.issues("SP2")[0]["summary"], "woken");
}

#[test]
fn one_peer_process_per_home() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    let running = m.peer();
    let out = m.cli_env(&["run", "--once"], &[("POSTERN_LOCK_WAIT", "0.5")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("another postern process is already running"), "{err}");
    drop(running);
    m.ok(&["run", "--once"]);
}

#[test]
fn a_process_finishing_its_work_is_waited_for() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "queued"]);
    // Another process holds the home for a while, then lets go: the
    // command waits for it instead of failing.
    let running = m.peer();
    let (tx, rx) = std::sync::mpsc::channel();
    let release = std::thread::spawn(move || {
        rx.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        drop(running);
    });
    tx.send(()).unwrap();
    let out = m.cli_env(&["run", "--once"], &[("POSTERN_LOG", "postern=info")]);
    release.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("waiting up to 10s"), "the wait is said: {err}");
    assert_eq!(m.outgoing("acme").len(), 1, "the waiting command did its work");
}
