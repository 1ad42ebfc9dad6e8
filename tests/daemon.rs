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
    m.wait_running();
    s.wait_running();
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
    // Settled: from now on an idle pair runs no cycle at all (its own
    // writes wake nothing; local folders need no polling).
    std::thread::sleep(Duration::from_millis(500));
    let settled = [log_len(&m), log_len(&s)];
    std::thread::sleep(Duration::from_secs(3));
    let logs = [m.stop(dm), s.stop(ds)];
    for (log, from) in logs.iter().zip(settled) {
        let idle = &log[from..];
        assert_eq!(idle.matches("cycle finished").count(), 0, "idle daemons ran cycles:\n{idle}");
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

fn log_len(p: &TestPeer) -> usize {
    std::fs::read_to_string(p.home().join("daemon.log")).unwrap().len()
}

/// Two syncs between two homes: SAM2-SP2 ("a") and SAM3-SP3 ("b").
fn two_syncs() -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    m.ok(&["project", "create", "SAM3"]);
    s.ok(&["project", "create", "SP3"]);
    pair(&m, &s, "a", "SAM2", "SP2");
    pair(&m, &s, "b", "SAM3", "SP3");
    settle(&m, &s, "a");
    settle(&m, &s, "b");
    (m, s)
}

#[test]
fn a_change_wakes_only_the_sync_of_its_project() {
    let (m, _s) = two_syncs();
    let dm = m.daemon(&["--interval", "3600"]);
    let start = Instant::now();
    // The start-up cycle of each sync, then quiet.
    while std::fs::read_to_string(m.home().join("daemon.log")).unwrap().matches("cycle finished").count() < 2 {
        assert!(start.elapsed() < Duration::from_secs(30), "no start-up cycles");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let from = log_len(&m);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "for a only"]);
    while m.outgoing("a").is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "the change was not sent");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let log = m.stop(dm);
    let after = &log[from..];
    assert!(after.contains("cycle finished sync=\"a\""), "{after}");
    assert!(!after.contains("sync=\"b\""), "sync b was woken too:\n{after}");
    assert!(m.outgoing("b").is_empty());
}

#[test]
fn a_sync_whose_share_is_gone_does_not_stop_the_others() {
    let (m, _s) = two_syncs();
    // b's RECEIVE points into a share that is not mounted.
    let receive = m.exchange("b").join("RECEIVE");
    std::fs::remove_dir_all(&receive).unwrap();
    std::os::unix::fs::symlink("/nonexistent/share/RECEIVE", &receive).unwrap();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "for a"]);
    m.ok(&["issue", "create", "--project", "SAM3", "--summary", "for b"]);
    let out = m.cli(&["run", "--once"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "run --once reports the failed sync");
    assert!(err.contains("sync 'b'") && err.contains("not reachable"), "{err}");
    assert!(!err.contains("sync 'a'"), "{err}");
    assert_eq!(m.outgoing("a").len(), 1, "a was processed");
    assert_eq!(m.outgoing("b").len(), 1, "b still sends: only its receiving side is down");
    // The daemon backs off on b alone and goes on with a.
    let dm = m.daemon(&["--interval", "3600"]);
    std::thread::sleep(Duration::from_millis(500));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "for a again"]);
    let start = Instant::now();
    while m.outgoing("a").len() < 2 {
        assert!(start.elapsed() < Duration::from_secs(30), "a stopped with b");
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = m.stop(dm);
    assert!(log.contains("sync 'b'") && log.contains("tried again in"), "{log}");

    // `status` says which sync fails, at what, and since when.
    let text = m.ok(&["status"]);
    let b_part = &text[text.find("b (").unwrap()..];
    assert!(b_part.contains("FAILING         receiving since 20"), "{text}");
    assert!(b_part.contains("not reachable"), "{text}");
    assert_eq!(text.matches("FAILING").count(), 1, "a is healthy: {text}");
    let st = m.status_of("b");
    let failing = st["failing"].as_array().unwrap();
    assert_eq!(failing.len(), 1, "{st}");
    assert_eq!(failing[0]["what"], "receive");
    assert!(failing[0]["tries"].as_u64().unwrap() >= 2, "{st}");
    assert!(failing[0]["since"].as_i64().unwrap() < failing[0]["last_at"].as_i64().unwrap());
    // Mounted again: the next cycle clears it.
    std::fs::remove_file(&receive).unwrap();
    std::fs::create_dir(&receive).unwrap();
    m.ok(&["run", "--once"]);
    assert_eq!(m.status_of("b")["failing"], serde_json::json!([]));
    assert!(!m.ok(&["status"]).contains("FAILING"));
}

#[test]
fn a_failing_send_side_does_not_stop_receiving() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    // The master's SEND points into a share that is gone.
    let send = m.exchange("acme").join("SEND");
    std::fs::remove_dir_all(&send).unwrap();
    std::os::unix::fs::symlink("/nonexistent/share/SEND", &send).unwrap();
    let dm = m.daemon(&["--interval", "3600"]);
    let start = Instant::now();
    for (i, summary) in ["first", "second"].iter().enumerate() {
        s.ok(&["issue", "create", "--project", "SP2", "--summary", summary]);
        s.cycle();
        carry(&s, &m, "acme");
        // Each arrives while sending keeps failing (and backing off).
        while m.issues("SAM2").len() < i + 1 {
            assert!(start.elapsed() < Duration::from_secs(20), "receiving stopped with sending");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let log = m.stop(dm);
    assert!(log.contains("sending failed; it is tried again in"), "{log}");
    assert!(log.contains("receiving goes on"), "{log}");
    let failing = m.status()["failing"].clone();
    assert_eq!(failing.as_array().unwrap().len(), 1, "{failing}");
    assert_eq!(failing[0]["what"], "send");
    assert!(m.ok(&["status"]).contains("FAILING         sending since"));
}
