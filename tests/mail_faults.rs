//! The email protocol when things go wrong, against real Postfix and
//! Dovecot (see `mail.rs`): a server restarts or is down, a peer is
//! killed while reading, the mailbox is recreated, a change is larger than
//! the mail size limit.

mod common;
use common::mail::*;
use common::*;

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn a_dovecot_restart_in_the_middle_of_a_sync_loses_nothing() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "before the restart"]);
    m.cycle();
    let down = stopped("imap");
    // Postfix still delivers; the slave cannot read; the master keeps sending.
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "while IMAP is down"]);
    let err = m.fail(&["run", "--once"]);
    assert!(err.contains("cannot reach the IMAP server"), "{err}");
    let err = s.fail(&["run", "--once"]);
    assert!(err.contains("cannot reach the IMAP server"), "{err}");
    drop(down);
    settle_mail(&m, &s);
    let mut got: Vec<String> = s.issues("SP2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    got.sort();
    assert_eq!(got, ["before the restart", "while IMAP is down"]);
    assert_eq!(m.status()["awaiting_ack"], 0);
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn an_attachment_larger_than_the_mail_size_limit_arrives_whole() {
    let _one = serial();
    // The test Postfix refuses mails over 1 MiB: check it really does.
    let (smtp, _) = ports();
    let too_big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(1_200_000));
    let refused = std::panic::catch_unwind(|| deposit("slave@example.test", &too_big));
    assert!(refused.is_err(), "Postfix on {smtp} should refuse a 1.2 MB mail");

    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail_with(&m, &s, "pw-slave", mail_flags, &["--max-message-size", "1MB"]);
    settle_mail(&m, &s);
    assert_eq!(s.status()["max_message_bytes"], 1_000_000, "the slave adopts the master's smaller limit");

    // 3 MB of incompressible bytes, each way.
    let dir = tempfile::tempdir().unwrap();
    let big = postern::bench::noise(3_000_000, 0x9e37_79b9_7f4a_7c15);
    let file = dir.path().join("dump.bin");
    std::fs::write(&file, &big).unwrap();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "core dump"]);
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap()]);
    settle_mail(&m, &s);
    s.ok(&["attachment", "add", "SP2-1", file.to_str().unwrap(), "--name", "back.bin"]);
    settle_mail(&m, &s);
    for (p, issue, name) in [(&s, "SP2-1", "dump.bin"), (&m, "SAM2-1", "back.bin")] {
        let list = p.json(&["attachment", "list", issue, "--json"]);
        let a = list.as_array().unwrap().iter().find(|a| a["filename"] == name).expect("attachment arrived");
        let out = p.home().join("got.bin");
        let _ = std::fs::remove_file(&out);
        p.ok(&["attachment", "get", issue, a["id"].as_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(std::fs::read(&out).unwrap() == big, "{name} arrived whole");
        assert_eq!(p.status()["parts_pending"], 0);
        assert_eq!(p.status()["awaiting_ack"], 0);
    }
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn the_imap_position_is_kept_and_a_new_uidvalidity_rereads_the_mailbox() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "one"]);
    settle_mail(&m, &s);
    let before = s.status()["imap_position"].clone();
    let last = before["last_uid"].as_u64().expect("position stored");
    assert!(last > 0, "{before}");
    let validity = before["uidvalidity"].as_u64().unwrap();
    // Mail settings saved again, with the same server, account and
    // mailbox (a new password file, say): where it was read up to holds.
    let again = mail_flags(&s, "slave", "pw-slave");
    let again: Vec<&str> = again.iter().map(String::as_str).collect();
    s.ok(&[&["sync", "edit", "acme"][..], &again].concat());
    assert_eq!(s.status()["imap_position"], before, "the position is kept");

    // The mailbox gets a new UIDVALIDITY (as after a restore): the slave
    // starts from the beginning and still applies each change once.
    let dir = std::env::var("POSTERN_MAIL_DIR").unwrap();
    let new_validity = (validity + 1000).to_string();
    let st = std::process::Command::new("doveadm")
        .args(["-c", &format!("{dir}/dovecot.conf"), "mailbox", "update", "-u", "slave@example.test"])
        .args(["--uid-validity", &new_validity, "INBOX"])
        .status()
        .unwrap();
    assert!(st.success(), "doveadm mailbox update");
    // As if the old mailbox had reached a high UID before it was recreated:
    // new mails now have lower UIDs, and must not be skipped.
    let db = postern::store::open(&s.home().join("postern.db")).unwrap();
    db.execute("UPDATE imap_position SET last_uid = 1000000", []).unwrap();
    drop(db);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "two"]);
    settle_mail(&m, &s);
    let after = s.status()["imap_position"].clone();
    assert_eq!(after["uidvalidity"].as_u64().unwrap().to_string(), new_validity, "{after}");
    let got: Vec<String> = s.issues("SP2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, ["one", "two"], "each change applied exactly once");
    let text = s.ok(&["status"]);
    assert!(text.contains(&format!("(UIDVALIDITY {new_validity})")), "{text}");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn postfix_down_while_sending_loses_nothing_and_doubles_nothing() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "before"]);
    settle_mail(&m, &s);
    let down = stopped("smtp");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "while SMTP is down"]);
    m.ok(&["comment", "add", "SAM2-2", "--body", "still down"]);
    let err = m.fail(&["run", "--once"]);
    assert!(err.contains("sending failed") && err.contains("cannot reach the SMTP server 127.0.0.1"), "{err}");
    assert!(m.status()["awaiting_ack"].as_u64().unwrap() >= 1, "kept in the outbox");
    drop(down);
    settle_mail(&m, &s);
    let got: Vec<String> = s.issues("SP2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, ["before", "while SMTP is down"]);
    assert_eq!(s.issue("SP2-2")["comments"].as_array().unwrap().len(), 1);
    assert_eq!(m.status()["awaiting_ack"], 0);
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn a_slave_killed_while_reading_its_mailbox_applies_everything_once() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    // Small messages, so the issues travel in many mails.
    pair_by_mail_with(&m, &s, "pw-slave", mail_flags, &["--max-message-size", "64KiB"]);
    settle_mail(&m, &s);
    let text = "lorem ipsum ".repeat(2000);
    for i in 0..40 {
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("issue {i}"), "--description", &text]);
        m.ok(&["comment", "add", &format!("SAM2-{}", i + 1), "--body", &format!("comment {i}")]);
    }
    let dm = m.daemon(&["--interval", "1"]);
    // SIGKILL the slave at random instants while it reads, applies and
    // deletes: between fetch and delete, between apply and expunge...
    let mut at_kill = Vec::new();
    for _ in 0..8 {
        let ds = s.daemon(&["--interval", "1"]);
        std::thread::sleep(std::time::Duration::from_millis(150 + rand::random::<u64>() % 500));
        ds.kill();
        at_kill.push(s.status()["incoming_seq"].as_u64().unwrap());
    }
    let ds = s.daemon(&["--interval", "1"]);
    let start = std::time::Instant::now();
    let waiting = |what: &str| {
        assert!(start.elapsed() < std::time::Duration::from_secs(120), "did not converge: {what}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    while s.issues("SP2").len() < 40 || m.status()["awaiting_ack"] != 0 {
        waiting("issues and acknowledgements");
    }
    // The master may still send a last bare acknowledgement as it sees the
    // slave's: stop it first, then let the slave read what is left of this
    // sync (other tests' syncs may have left mails in the shared mailbox).
    m.stop(dm);
    let id = s.status()["id"].as_str().unwrap().to_string();
    while mails_of_sync("slave@example.test", "pw-slave", &id) > 0 {
        waiting("the slave's mailbox");
    }
    s.stop(ds);
    let last = s.status()["incoming_seq"].as_u64().unwrap();
    eprintln!("killed at incoming messages {at_kill:?} of {last}");
    assert!(at_kill.iter().filter(|n| **n < last).count() >= 2, "kills landed mid-work: {at_kill:?} of {last}");
    let issues = s.issues("SP2");
    let mut summaries: Vec<String> = issues.iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    summaries.sort();
    summaries.dedup();
    assert_eq!((issues.len(), summaries.len()), (40, 40), "each issue exactly once");
    for i in &issues {
        let full = s.issue(i["key"].as_str().unwrap());
        assert_eq!(full["comments"].as_array().unwrap().len(), 1, "{}", full["key"]);
    }
    let left = mails_of_sync("slave@example.test", "pw-slave", &id);
    assert_eq!(left, 0, "every mail of the sync removed once applied");
    assert_eq!(s.status()["quarantined"], 0, "leftovers of a kill are finished, not quarantined");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn an_imap_outage_shows_as_failing_within_seconds_and_mail_moves_soon_after_it_ends() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    let (dm, ds) = (m.daemon(&["--interval", "3600"]), s.daemon(&["--interval", "3600"]));
    std::thread::sleep(std::time::Duration::from_secs(1));
    let receiving = |p: &TestPeer| p.status()["failing"].as_array().unwrap().iter().any(|t| t["what"] == "receive");
    let down = stopped("imap");
    let start = std::time::Instant::now();
    while !receiving(&s) {
        assert!(start.elapsed().as_secs() < 10, "the outage never showed: {}", s.status());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(s.ok(&["status"]).contains("FAILING         receiving since"));
    // Held down for a while: the watch must not back off past the outage.
    std::thread::sleep(std::time::Duration::from_secs(40));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "sent during the outage"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    drop(down);
    let back = std::time::Instant::now();
    while s.issues("SP2").is_empty() {
        assert!(back.elapsed().as_secs() < 10, "mail waited too long after the server came back");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let took = back.elapsed();
    while receiving(&s) {
        assert!(back.elapsed().as_secs() < 10, "FAILING stayed: {}", s.status());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    eprintln!("after the IMAP outage the change arrived in {took:?}");
    assert!(took.as_secs() < 5, "{took:?}");
    m.stop(dm);
    s.stop(ds);
}
