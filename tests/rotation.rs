//! Key rotation without a new handshake: the new certificate travels
//! signed by the old key, the partner pins it, messages in flight under
//! the old key still count, and the old key stops being believed after.

mod common;
use common::*;

use postern::crypto::cert_from_armored;
use postern::protocol::{names, Body, Envelope, FORMAT_VERSION};

#[test]
fn rotating_a_key_keeps_the_sync_running() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let sync = pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    let old = s.ok(&["key", "show"]);

    // In flight when the slave rotates: a slave message signed by the old
    // key, and a master message encrypted to the old key.
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "queued before rotation"]);
    s.cycle();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "encrypted to the old key"]);
    m.cycle();

    let new = s.ok(&["key", "rotate"]);
    assert_ne!(new, old);
    assert_eq!(s.ok(&["key", "show"]), new);
    assert!(s.home().join(format!("keys/retired/{old}.key.asc")).exists());
    assert_eq!(s.status()["own_fingerprint"], new.as_str());
    // A second rotation before the partner has the first is refused.
    let err = s.fail(&["key", "rotate"]);
    assert!(err.contains("not yet acknowledged"), "{err}");

    s.ok(&["issue", "create", "--project", "SP2", "--summary", "after rotation"]);
    settle(&m, &s, "acme");
    assert_eq!(m.status()["partner_fingerprint"], new.as_str(), "the master pinned the new key");
    assert_eq!(m.status()["quarantined"], 0);
    assert_eq!(s.status()["quarantined"], 0);
    let summaries = |p: &TestPeer, proj: &str| -> Vec<String> {
        let mut v: Vec<String> = p.issues(proj).iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(summaries(&m, "SAM2"), ["after rotation", "encrypted to the old key", "queued before rotation"]);
    assert_eq!(summaries(&s, "SP2"), summaries(&m, "SAM2"));

    // The old key is no longer believed for new messages.
    let before = m.status();
    let old_cert = cert_from_armored(SLAVE_KEY.as_bytes()).unwrap();
    let master = cert_from_armored(MASTER_KEY.as_bytes()).unwrap();
    let seq = before["incoming_seq"].as_u64().unwrap() + 1;
    let env = Envelope {
        postern: FORMAT_VERSION,
        sync: sync.clone(),
        from: old.clone(),
        to: master.fingerprint().to_hex(),
        seq,
        ack: 0,
        sent_at: 1,
        body: Body::Changes { changes: vec![], via: vec![] },
    };
    let name = names::message_name(&sync, seq, "0ld");
    std::fs::write(
        m.exchange("acme").join("RECEIVE").join(&name),
        craft(Some(&old_cert), &master, &env.to_json(), false),
    )
    .unwrap();
    let r = m.cycle();
    assert_eq!((r.quarantined, r.applied), (1, 0));
    let reason = std::fs::read_to_string(m.quarantine("acme").join(format!("{name}.reason.txt"))).unwrap();
    assert!(reason.contains("retired key"), "{reason}");

    // And both go on, the master rotating too.
    let mnew = m.ok(&["key", "rotate"]);
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "both rotated"]);
    settle(&m, &s, "acme");
    assert_eq!(s.status()["partner_fingerprint"], mnew.as_str());
    let k = s.json(&["sync", "export", "acme"])["firstConnector"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["remoteIssueKey"] == "SAM2-1")
        .unwrap()["localIssueKey"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(s.issue(&k)["summary"], "both rotated");
}

#[test]
fn rotation_waits_for_the_handshake_and_for_a_stopped_daemon() {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    m.ok(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot"]);
    let err = m.fail(&["key", "rotate"]);
    assert!(err.contains("finish its handshake"), "{err}");
    let _running = m.peer();
    let out = m.cli_env(&["key", "rotate"], &[("POSTERN_LOCK_WAIT", "0.2")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another postern process is already running"), "{err}");
}
