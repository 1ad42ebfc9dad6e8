//! A sync's life cycle and the admin's error tools from the CLI: pause,
//! resume, delete, expired handshakes, retrying all errors, ignoring one
//! issue's incoming changes.

mod common;
use common::*;

fn paired() -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    (m, s)
}

#[test]
fn a_paused_sync_moves_nothing_until_resumed() {
    let (m, s) = paired();
    assert!(m.ok(&["sync", "pause", "acme"]).contains("Paused sync 'acme'"));
    assert!(m.fail(&["sync", "pause", "acme"]).contains("already paused"));
    assert_eq!(m.status()["state"], "paused");
    assert!(m.status()["paused_since"].as_i64().is_some());
    assert!(m.ok(&["status"]).contains("PAUSED "), "{}", m.ok(&["status"]));
    assert!(m.ok(&["sync", "list"]).contains("acme\tmaster\tpaused"));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "made while paused"]);
    m.cycle();
    assert!(m.outgoing("acme").is_empty(), "a paused sync sends nothing");
    assert_eq!(carry(&m, &s, "acme"), 0);

    // The receiving side paused: what arrives waits in RECEIVE.
    m.ok(&["sync", "resume", "acme"]);
    assert!(m.fail(&["sync", "resume", "acme"]).contains("is not paused"));
    s.ok(&["sync", "pause", "acme"]);
    m.cycle();
    assert_eq!(m.outgoing("acme").len(), 1, "collected after the resume, not lost");
    assert_eq!(carry(&m, &s, "acme"), 1);
    for _ in 0..3 {
        s.cycle();
    }
    assert!(s.issues("SP2").is_empty(), "a paused sync applies nothing");
    assert_eq!(list_messages(&s.exchange("acme").join("RECEIVE")).len(), 1, "the message waits");
    s.ok(&["sync", "resume", "acme"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "made while paused");
    assert_eq!(s.status()["state"], "active");
}

#[test]
fn a_running_daemon_leaves_a_paused_sync_alone() {
    let (m, s) = paired();
    m.ok(&["sync", "pause", "acme"]);
    let d = m.daemon(&["--interval", "0.2"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "while paused"]);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(m.outgoing("acme").is_empty(), "the daemon sent for a paused sync");
    m.ok(&["sync", "resume", "acme"]);
    let mut sent = false;
    for _ in 0..100 {
        if !m.outgoing("acme").is_empty() {
            sent = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(d);
    assert!(sent, "the daemon did not go on after the resume");
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "while paused");
}

#[test]
fn delete_refuses_unacknowledged_messages_unless_forced_and_frees_the_name() {
    let (m, s) = paired();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "kept in the tracker"]);
    m.cycle();
    let err = m.fail(&["sync", "delete", "acme"]);
    assert!(err.contains("1 message awaiting the partner's acknowledgement") && err.contains("--force"), "{err}");
    assert_eq!(m.status()["name"], "acme", "nothing deleted");
    let out = m.ok(&["sync", "delete", "acme", "--force"]);
    assert!(out.contains("Deleted sync 'acme'") && out.contains("no issue in the tracker was changed"), "{out}");
    assert!(out.contains("exchange folder"), "{out}");
    assert_eq!(m.ok(&["sync", "list"]), "no syncs in this home");
    assert_eq!(m.issue("SAM2-1")["summary"], "kept in the tracker");
    assert!(m.fail(&["sync", "delete", "acme"]).contains("no sync named 'acme'"));
    // The name is free again, and the home still works.
    std::fs::remove_file(m.home().join("acme.handshake.asc")).unwrap();
    m.ok(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"]);
    assert_eq!(m.status()["state"], "handshake");

    // The partner got the message and owes a reply: it is refused there too.
    carry(&m, &s, "acme");
    s.cycle();
    assert_eq!(s.issue("SP2-1")["summary"], "kept in the tracker");
    assert!(s.fail(&["sync", "delete", "acme"]).contains("awaiting the partner's acknowledgement"));
}

#[test]
fn a_settled_sync_deletes_without_force_and_leaves_the_issues() {
    let (m, s) = paired();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "paired one"]);
    settle(&m, &s, "acme");
    let out = s.ok(&["sync", "delete", "acme"]);
    assert!(out.contains("Deleted sync 'acme': 1 issue pairing, 0 unacknowledged messages"), "{out}");
    assert_eq!(s.ok(&["status", "--json"]), "[]");
    assert_eq!(s.issue("SP2-1")["summary"], "paired one");
    // Deleting one side leaves the other running on its own.
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "after the partner left"]);
    m.cycle();
    assert_eq!(m.status()["state"], "active");
}

#[test]
fn an_expired_handshake_is_shown_as_such_and_can_be_deleted() {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    m.ok(&["sync", "create", "--name", "old", "--project", "SAM2", "--sync-user", "bot", "--json"]);
    assert!(m.ok(&["sync", "list"]).contains("old\tmaster\thandshake"));
    let conn = postern::store::open(&m.home().join("postern.db")).unwrap();
    conn.execute("UPDATE sync SET handshake_expires = 1000", []).unwrap();
    assert!(m.ok(&["sync", "list"]).contains("old\tmaster\texpired"), "{}", m.ok(&["sync", "list"]));
    assert_eq!(m.status()["state"], "expired");
    let text = m.ok(&["status"]);
    assert!(text.contains("EXPIRED ") && text.contains("postern sync delete old"), "{text}");
    m.ok(&["sync", "delete", "old"]);
    std::fs::remove_file(m.home().join("old.handshake.asc")).unwrap();
    m.ok(&["sync", "create", "--name", "old", "--project", "SAM2", "--sync-user", "bot", "--json"]);
}

#[test]
fn retry_all_retries_every_blocked_issue_and_says_which_still_fail() {
    let (m, s) = paired();
    s.ok(&["project", "edit", "SP2", "--statuses", "Open,Done"]);
    for n in 1..=3 {
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("issue {n}")]);
    }
    settle(&m, &s, "acme");
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Review"]);
    m.ok(&["issue", "edit", "SAM2-2", "--status", "Review"]);
    settle(&m, &s, "acme");
    assert_eq!(s.status()["issues_with_errors"], 2);
    let out = s.cli(&["errors", "retry", "acme", "--all"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success());
    assert!(stdout.contains("[SAM2-1] still failing") && stdout.contains("[SAM2-2] still failing"), "{stdout}");
    assert!(stderr.contains("2 of 2 issues still failing"), "{stderr}");
    s.ok(&["project", "edit", "SP2", "--statuses", "Open,Review,Done"]);
    let out = s.ok(&["errors", "retry", "acme", "--all"]);
    assert_eq!(out, "[SAM2-1] 1 change applied\n[SAM2-2] 1 change applied");
    assert_eq!(s.issue("SP2-1")["status"], "Review");
    assert_eq!(s.issue("SP2-2")["status"], "Review");
    assert_eq!(s.ok(&["errors", "retry", "acme", "--all"]), "no errors in sync 'acme'");
    assert!(s.fail(&["errors", "retry", "acme"]).contains("--all"));
}

#[test]
fn an_issue_whose_incoming_changes_are_ignored_keeps_its_state_until_undone() {
    let (m, s) = paired();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "first"]);
    settle(&m, &s, "acme");
    let out = s.ok(&["errors", "ignore-issue", "acme", "SP2-1"]);
    assert!(out.contains("SP2-1 (partner's SAM2-1)") && out.contains("ignored from now on"), "{out}");
    let export = s.json(&["sync", "export", "acme"]);
    assert_eq!(export["firstConnector"][0]["incomingChangesIgnored"], true);
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "ignored edit"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "first");
    // Local edits still cross the other way.
    s.ok(&["issue", "edit", "SP2-1", "--priority", "High"]);
    settle(&m, &s, "acme");
    assert_eq!(m.issue("SAM2-1")["priority"], "High");
    // Undone, by the partner's key this time.
    assert!(s.ok(&["errors", "ignore-issue", "acme", "SAM2-1", "--undo"]).contains("applied again"));
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "taken again"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "taken again");
    assert!(s.fail(&["errors", "ignore-issue", "acme", "NOPE-9"]).contains("is not paired"));
}

#[test]
fn an_issue_ignored_while_blocked_drops_what_waits_and_what_comes() {
    let (m, s) = paired();
    s.ok(&["project", "edit", "SP2", "--statuses", "Open,Done"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "first"]);
    settle(&m, &s, "acme");
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Review"]);
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "behind the error"]);
    settle(&m, &s, "acme");
    assert_eq!(s.json(&["errors", "list", "acme", "--json"])[0]["parked"], 2);
    // Errors are named by either key.
    let err = s.fail(&["errors", "retry", "acme", "SP2-1"]);
    assert!(err.contains("[SAM2-1] still failing"), "{err}");
    let out = s.ok(&["errors", "ignore-issue", "acme", "SP2-1"]);
    assert!(out.contains("(2 waiting behind its error dropped)"), "{out}");
    assert_eq!(s.status()["issues_with_errors"], 0);
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "ignored too"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "first");
    assert_eq!(s.status()["issues_with_errors"], 0, "nothing piles up behind an ignored issue");
}
