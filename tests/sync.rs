//! Two peers over folders: convergence, exactly-once in order, gaps,
//! duplicates, no echo, per-issue failures.

mod common;
use common::*;

fn paired() -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    assert_eq!(m.status()["state"], "active");
    assert_eq!(s.status()["state"], "active");
    (m, s)
}

/// Every paired issue has the same content on both sides.
fn assert_converged(m: &TestPeer, s: &TestPeer) -> usize {
    let export = m.json(&["sync", "export", "acme"]);
    let pairs = export["firstConnector"].as_array().unwrap();
    for p in pairs {
        let local = p["localIssueKey"].as_str().unwrap();
        let remote = p["remoteIssueKey"].as_str().expect("pairing reached the master");
        assert_eq!(content(&m.issue(local)), content(&s.issue(remote)), "{local} vs {remote}");
    }
    assert_eq!(m.status()["awaiting_ack"], 0);
    assert_eq!(s.status()["awaiting_ack"], 0);
    pairs.len()
}

#[test]
fn interleaved_changes_on_both_sides_converge() {
    let (m, s) = paired();
    let a = m.ok(&[
        "issue",
        "create",
        "--project",
        "SAM2",
        "--summary",
        "Login fails",
        "--priority",
        "High",
        "--label",
        "sso",
        "--as",
        "vera",
    ]);
    assert_eq!(a, "SAM2-1");
    let c1 = m.ok(&["comment", "add", "SAM2-1", "--body", "Seen on 4.2", "--as", "vera"]);
    let b = s.ok(&[
        "issue",
        "create",
        "--project",
        "SP2",
        "--summary",
        "Timeout",
        "--description",
        "nightly job",
        "--as",
        "carl",
    ]);
    assert_eq!(b, "SP2-1");
    settle(&m, &s, "acme");
    assert_eq!(s.issues("SP2").len(), 2);
    assert_eq!(m.issues("SAM2").len(), 2);

    // Edit both issues on both sides between cycles.
    m.ok(&["issue", "edit", "SAM2-1", "--status", "In Progress", "--assignee", "vera"]);
    s.ok(&["issue", "edit", "SP2-2", "--labels", "sso,urgent"]);
    s.ok(&["comment", "add", "SP2-2", "--body", "Also for us", "--as", "carl"]);
    m.cycle();
    s.ok(&["issue", "edit", "SP2-1", "--priority", "Highest"]);
    m.ok(&["issue", "edit", "SAM2-2", "--summary", "Timeout in nightly job"]);
    m.ok(&["comment", "edit", "SAM2-1", &c1, "--body", "Seen on 4.2 and 4.3"]);
    settle(&m, &s, "acme");
    let del = m.ok(&["comment", "add", "SAM2-2", "--body", "typo comment"]);
    settle(&m, &s, "acme");
    m.ok(&["comment", "delete", "SAM2-2", &del]);
    s.ok(&["issue", "edit", "SP2-2", "--assignee", ""]);
    settle(&m, &s, "acme");

    assert_eq!(assert_converged(&m, &s), 2);
    let sam1 = m.issue("SAM2-1");
    assert_eq!(sam1["status"], "In Progress");
    assert_eq!(sam1["labels"], serde_json::json!(["sso", "urgent"]));
    assert_eq!(sam1["assignee"], serde_json::Value::Null);
    let bodies: Vec<_> = sam1["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Seen on 4.2 and 4.3", "Also for us"]);
    // the partner's comment is written by the sync user for its author
    let sp = s.issue("SP2-2");
    assert_eq!(sp["comments"][0]["author"], "sync-slave");
    assert_eq!(sp["comments"][0]["on_behalf_of"], "vera");
    assert_eq!(s.issue("SP2-1")["comments"].as_array().unwrap().len(), 0, "deleted comment is gone");

    // The export carries Backbone's firstConnector fields and comment pairs.
    let export = s.json(&["sync", "export", "acme"]);
    let rec =
        export["firstConnector"].as_array().unwrap().iter().find(|r| r["localIssueKey"] == "SP2-2").unwrap().clone();
    assert_eq!(rec["remoteIssueKey"], "SAM2-1");
    assert_eq!(rec["connectorKey"].as_str().unwrap().split('-').next_back(), Some("SP2"));
    for k in ["firstSyncDate", "lastIncomingChange", "incomingMessageSequenceId", "outgoingMessageSequenceId"] {
        assert!(rec[k].is_number(), "{k} in {rec}");
    }
    assert_eq!(rec["incomingChangesIgnored"], false);
    assert_eq!(rec["comments"].as_array().unwrap().len(), 2);
}

#[test]
fn applied_changes_are_not_echoed() {
    let (m, s) = paired();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "One"]);
    settle(&m, &s, "acme");
    let before = s.status()["outgoing_seq"].clone();
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "One, edited"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "hello"]);
    m.cycle();
    carry(&m, &s, "acme");
    let r = s.cycle();
    assert_eq!(r.applied, 1);
    let r2 = s.cycle();
    assert_eq!(r2.enqueued, 0, "nothing of the partner's goes back");
    // Only a pairing for the new comment (a protocol reply) was numbered.
    assert_eq!(s.status()["outgoing_seq"].as_u64(), before.as_u64().map(|b| b + 1));
    settle(&m, &s, "acme");
    assert_eq!(s.status()["outgoing_seq"].as_u64(), before.as_u64().map(|b| b + 1));
    assert_eq!(m.issue("SAM2-1")["comments"].as_array().unwrap().len(), 1);
    assert_eq!(m.issues("SAM2").len(), 1, "no issue came back");
    assert_converged(&m, &s);
}

#[test]
fn duplicated_reordered_and_missing_files_apply_once_in_order() {
    let (m, s) = paired();
    s.ok(&["sync", "timing", "acme", "--resend-after-secs", "3600", "--gap-after-secs", "0.05"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "v0"]);
    m.cycle();
    let mut files = m.outgoing("acme");
    for i in 1..=4 {
        m.ok(&["comment", "add", "SAM2-1", "--body", &format!("c{i}")]);
        m.ok(&["issue", "edit", "SAM2-1", "--summary", &format!("v{i}")]);
        m.cycle();
        let now = m.outgoing("acme");
        files.push(now.into_iter().find(|f| !files.contains(f)).unwrap());
    }
    assert_eq!(files.len(), 5);
    let recv = s.exchange("acme").join("RECEIVE");
    let deliver = |f: &std::path::PathBuf, copy: bool| {
        let to = recv.join(f.file_name().unwrap());
        if copy {
            std::fs::copy(f, to).unwrap();
        } else {
            std::fs::rename(f, to).unwrap();
        }
    };
    // 5th and 3rd first (held), 1st twice, 2nd and 4th lost.
    deliver(&files[4], true);
    deliver(&files[2], true);
    let r = s.cycle();
    assert_eq!((r.applied, r.held), (0, 2));
    assert_eq!(s.status()["held_for_gap"], 2);
    assert_eq!(s.status()["stalled"], serde_json::json!([]), "a gap is not a stall at once");
    // A gap that lasts several gap and resend times shows as stalled.
    s.ok(&["sync", "timing", "acme", "--resend-after-secs", "0.01", "--gap-after-secs", "0.01"]);
    std::thread::sleep(std::time::Duration::from_millis(60));
    let stall = &s.status()["stalled"][0];
    assert_eq!((&stall["what"], &stall["seq"], &stall["count"]), (&"gap".into(), &1.into(), &2.into()), "{stall}");
    assert!(s.ok(&["status"]).contains("GAP             the partner's message 1 has not come"));
    s.ok(&["sync", "timing", "acme", "--resend-after-secs", "3600", "--gap-after-secs", "0.05"]);
    deliver(&files[0], true);
    s.cycle();
    // The same file again (a duplicating share, or a replay): dropped as a
    // duplicate, not applied twice, no quarantine alarm.
    deliver(&files[0], true);
    let r = s.cycle();
    assert_eq!((r.duplicates, r.quarantined, r.applied), (1, 0, 0));
    for f in &files {
        let _ = std::fs::remove_file(f);
    }
    // A genuine resend of message 1 (encrypted afresh) is a quiet duplicate.
    m.ok(&["sync", "timing", "acme", "--resend-after-secs", "0.001", "--gap-after-secs", "3600"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    m.cycle();
    let resent = m.outgoing("acme");
    assert_eq!(resent.len(), 5, "all five unacknowledged messages were sent again");
    deliver(&resent[0], false);
    let r = s.cycle();
    assert_eq!((r.duplicates, r.quarantined, r.applied), (1, 0, 0));
    for f in &resent {
        let _ = std::fs::remove_file(f);
    }
    m.ok(&["sync", "timing", "acme", "--resend-after-secs", "3600", "--gap-after-secs", "3600"]);
    let sp = &s.issues("SP2")[0];
    assert_eq!(sp["summary"], "v0");
    // The gap lasts: the slave asks for 2; the master resends it; then 4.
    std::thread::sleep(std::time::Duration::from_millis(60));
    settle_with_waits(&m, &s);
    let sp = s.issue(s.issues("SP2")[0]["key"].as_str().unwrap());
    assert_eq!(sp["summary"], "v4");
    let bodies: Vec<_> =
        sp["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap().to_string()).collect();
    assert_eq!(bodies, ["c1", "c2", "c3", "c4"], "each comment once, in order");
    assert_eq!(s.status()["held_for_gap"], 0);
    assert_eq!(s.status()["incoming_seq"].as_u64(), m.status()["outgoing_seq"].as_u64());
    assert_converged(&m, &s);
}

/// Like `settle`, but sleeps past the gap timer between rounds.
fn settle_with_waits(m: &TestPeer, s: &TestPeer) {
    for _ in 0..20 {
        settle(m, s, "acme");
        if s.status()["held_for_gap"] == 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(60));
    }
    panic!("gap never filled");
}

#[test]
fn a_refused_change_blocks_its_issue_only_until_retried() {
    let (m, s) = paired();
    s.ok(&["project", "edit", "SP2", "--statuses", "Open,In Progress,Done"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "blocked one"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "free one"]);
    settle(&m, &s, "acme");
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Review"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "after the refused change"]);
    m.ok(&["issue", "edit", "SAM2-2", "--status", "Done"]);
    settle(&m, &s, "acme");

    let errors = s.json(&["errors", "list", "acme", "--json"]);
    assert_eq!(errors.as_array().unwrap().len(), 1);
    assert_eq!(errors[0]["remote_issue"], "SAM2-1");
    assert_eq!(errors[0]["local_key"], "SP2-1");
    assert_eq!(errors[0]["parked"], 2);
    assert!(errors[0]["reason"].as_str().unwrap().contains("status 'Review' is not allowed in project SP2"));
    assert_eq!(s.status()["issues_with_errors"], 1);
    let text = s.ok(&["errors", "list", "acme"]);
    assert!(text.starts_with("[SAM2-1] status 'Review' is not allowed"), "{text}");
    // The other issue went on; the blocked one has nothing of the later changes.
    assert_eq!(s.issue("SP2-2")["status"], "Done");
    assert_eq!(s.issue("SP2-1")["status"], "Open");
    assert_eq!(s.issue("SP2-1")["comments"].as_array().unwrap().len(), 0);
    // Later changes to the blocked issue wait behind it.
    m.ok(&["issue", "edit", "SAM2-1", "--priority", "Low"]);
    settle(&m, &s, "acme");
    assert_eq!(s.json(&["errors", "list", "acme", "--json"])[0]["parked"], 3);

    // Retrying without a fix fails clearly and keeps everything parked.
    let err = s.fail(&["errors", "retry", "acme", "SAM2-1"]);
    assert!(err.contains("still failing"), "{err}");
    let e = &s.json(&["errors", "list", "acme", "--json"])[0];
    assert_eq!(e["parked"], 3);
    assert_eq!(e["tries"], 2, "the retry is counted: {e}");
    assert!(e["first_at"].as_i64() <= e["at"].as_i64() && e["first_at"].as_i64() > Some(0), "{e}");
    assert!(s.ok(&["errors", "list", "acme"]).contains("tried 2 times"));
    // The admin allows the status and retries: all three apply, in order.
    s.ok(&["project", "edit", "SP2", "--statuses", "Open,In Progress,Review,Done"]);
    assert_eq!(s.ok(&["errors", "retry", "acme", "SAM2-1"]), "[SAM2-1] 3 changes applied");
    assert_eq!(s.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]));
    settle(&m, &s, "acme");
    let sp1 = s.issue("SP2-1");
    assert_eq!((sp1["status"].as_str(), sp1["priority"].as_str()), (Some("Review"), Some("Low")));
    assert_converged(&m, &s);
}

#[test]
fn ignoring_an_error_drops_the_parked_changes() {
    let (m, s) = paired();
    s.ok(&["project", "edit", "SP2", "--statuses", "Open"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "x"]);
    settle(&m, &s, "acme");
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Closed"]);
    settle(&m, &s, "acme");
    assert_eq!(s.ok(&["errors", "ignore", "acme", "SAM2-1"]), "[SAM2-1] 1 change dropped");
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "y"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "y", "the issue is unblocked");
    assert_eq!(s.issue("SP2-1")["status"], "Open");
}

#[test]
fn a_tampered_file_is_quarantined_and_the_sync_goes_on() {
    let (m, s) = paired();
    s.ok(&["sync", "timing", "acme", "--resend-after-secs", "3600", "--gap-after-secs", "3600"]);
    m.ok(&["sync", "timing", "acme", "--resend-after-secs", "0.05", "--gap-after-secs", "3600"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "genuine"]);
    m.cycle();
    let f = m.outgoing("acme").pop().unwrap();
    let mut text = std::fs::read_to_string(&f).unwrap();
    // change one base64 character in the middle of the armored body
    let mid = text.len() / 2;
    let c = text.as_bytes()[mid];
    let repl = if c == b'A' { "B" } else { "A" };
    text.replace_range(mid..mid + 1, repl);
    std::fs::write(s.exchange("acme").join("RECEIVE").join(f.file_name().unwrap()), text).unwrap();
    std::fs::remove_file(&f).unwrap();
    std::fs::write(s.exchange("acme").join("RECEIVE").join("notes.txt"), "not ours").unwrap();
    let r = s.cycle();
    assert_eq!((r.quarantined, r.applied), (1, 0));
    assert!(s.issues("SP2").is_empty(), "nothing applied from a damaged file");
    let q = s.quarantine("acme");
    let reason =
        std::fs::read_to_string(q.join(format!("{}.reason.txt", f.file_name().unwrap().to_str().unwrap()))).unwrap();
    assert!(!reason.trim().is_empty());
    assert_eq!(s.status()["quarantined"], 1);
    assert!(s.exchange("acme").join("RECEIVE/notes.txt").exists(), "foreign files are left alone");
    // The master resends the unacknowledged message; the sync goes on.
    std::thread::sleep(std::time::Duration::from_millis(60));
    settle(&m, &s, "acme");
    assert_eq!(s.issues("SP2").len(), 1);
    assert_converged(&m, &s);
}

#[test]
fn a_message_from_a_stranger_is_quarantined() {
    use postern::crypto::{cert_from_armored, seal};
    use postern::protocol::{Body, Envelope, FORMAT_VERSION};
    let (m, s) = paired();
    let sync = m.status()["id"].as_str().unwrap().to_string();
    let stranger = cert_from_armored(STRANGER_KEY.as_bytes()).unwrap();
    let slave = cert_from_armored(SLAVE_KEY.as_bytes()).unwrap();
    let env = Envelope {
        postern: FORMAT_VERSION,
        sync: sync.clone(),
        from: m.ok(&["key", "show"]),
        to: slave.fingerprint().to_hex(),
        seq: 2,
        ack: 0,
        sent_at: 0,
        body: Body::Changes { changes: vec![], via: vec![] },
    };
    let before = s.status()["incoming_seq"].clone();
    let sealed = seal(&stranger, &slave, &env.to_json()).unwrap();
    let name = postern::protocol::names::message_name(&sync, 2, "feed");
    std::fs::write(s.exchange("acme").join("RECEIVE").join(&name), sealed).unwrap();
    let r = s.cycle();
    assert_eq!(r.quarantined, 1);
    let reason = std::fs::read_to_string(s.quarantine("acme").join(format!("{name}.reason.txt"))).unwrap();
    assert!(reason.contains("not signed by the pinned partner key"), "{reason}");
    assert_eq!(s.status()["incoming_seq"], before, "not applied");
    // Genuine messages still flow.
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "after"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issues("SP2").len(), 1);
}
