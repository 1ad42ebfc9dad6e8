//! `sync verify`: both trackers compared through digests; what differs is
//! named per issue, shown in `status`, and repaired on request.

mod common;
use common::*;

/// The last verify's report (the command exits 2 when something differs).
fn last(p: &TestPeer, sync: &str) -> serde_json::Value {
    let out = p.cli(&["sync", "verify", sync, "--last", "--json"]);
    let code = out.status.code();
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let differs = !report["differing"].as_array().unwrap().is_empty();
    assert_eq!(code, Some(if differs { 2 } else { 0 }), "{report}");
    report
}

fn verify(p: &TestPeer, other: &TestPeer, sync: &str, extra: &[&str]) {
    p.ok(&[&["sync", "verify", sync, "--wait", "0"][..], extra].concat());
    settle(p, other, sync);
}

fn key_of(p: &TestPeer, project: &str, summary: &str) -> String {
    let issue = p.issues(project).into_iter().find(|i| i["summary"] == summary).expect("the issue");
    issue["key"].as_str().unwrap().to_string()
}

#[test]
fn verify_names_what_was_changed_behind_postern_and_a_repair_converges() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "v", "SAM2", "SP2");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "first"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "hello"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "second", "--label", "b", "--label", "a"]);
    m.ok(&["worklog", "add", "SAM2-2", "--minutes", "30", "--on", "2026-11-21"]);
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "from the slave"]);
    s.ok(&["comment", "add", "SP2-1", "--body", "slave's note\r\n"]);
    settle(&m, &s, "v");

    // Clean: both sides say so, each with the other's count of pairs.
    verify(&m, &s, "v", &[]);
    for p in [&m, &s] {
        let r = last(p, "v");
        assert_eq!((r["pairs"].as_u64(), r["partner_pairs"].as_u64()), (Some(3), Some(3)), "{r}");
        assert!(r["differing"].as_array().unwrap().is_empty(), "{r}");
        assert!(p.ok(&["sync", "verify", "v", "--last"]).starts_with("Completed Successfully"));
    }

    // Behind postern's back, in the slave's tracker: a status, a comment
    // gone and a worklog changed.
    let first = key_of(&s, "SP2", "first");
    let second = key_of(&s, "SP2", "second");
    let db = rusqlite::Connection::open(s.home().join("postern.db")).unwrap();
    db.execute("UPDATE t_issue SET status = 'Done' WHERE key = ?1", [&first]).unwrap();
    db.execute("UPDATE t_comment SET deleted = 1 WHERE body = 'hello'", []).unwrap();
    db.execute("UPDATE t_worklog SET minutes = 45", []).unwrap();
    drop(db);
    let open = m.issue("SAM2-1")["status"].as_str().unwrap().to_string();
    assert_ne!(open, "Done");

    verify(&m, &s, "v", &[]);
    let r = last(&m, "v");
    let lines: Vec<String> = r["differing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "[{}] {}",
                d["key"].as_str().unwrap(),
                d["what"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect::<Vec<_>>().join("; ")
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            format!("[SAM2-1] status (here {open}, partner Done); 1 comment missing at the partner"),
            "[SAM2-2] 1 worklog differs".to_string(),
        ],
        "{r}"
    );
    let text = m.cli(&["sync", "verify", "v", "--last"]);
    assert_eq!(text.status.code(), Some(2));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with("Completed with warnings\n[SAM2-1] differs: status"), "{text}");
    // The partner reached the same conclusion, in its own keys and words.
    let r = last(&s, "v");
    let keys: Vec<&str> = r["differing"].as_array().unwrap().iter().map(|d| d["key"].as_str().unwrap()).collect();
    assert_eq!(keys, [first.as_str(), second.as_str()], "{r}");
    assert_eq!(r["differing"][0]["what"][0], format!("status (here Done, partner {open})"));
    assert_eq!(r["differing"][0]["what"][1], "1 comment missing here");
    // Shown where admins look.
    for p in [&m, &s] {
        let st = p.status_of("v");
        assert_eq!(st["diverged"].as_array().map(|a| a.len()), Some(2), "{st}");
        assert!(p.ok(&["status"]).contains("DIVERGED"), "{}", p.ok(&["status"]));
    }

    // A repair started on the slave: the master's values were set later
    // (the edit behind postern's back left no trace), so the master sends.
    verify(&s, &m, "v", &["--repair"]);
    let r = last(&s, "v");
    assert_eq!(r["repaired"].as_array().unwrap().len(), 2, "{r}");
    settle(&m, &s, "v");
    assert_eq!(s.issue(&first)["status"], open.as_str());
    assert_eq!(content(&s.issue(&first))["comments"], content(&m.issue("SAM2-1"))["comments"]);
    verify(&m, &s, "v", &[]);
    for p in [&m, &s] {
        let r = last(p, "v");
        assert!(r["differing"].as_array().unwrap().is_empty(), "{r}");
        assert!(p.status_of("v")["diverged"].as_array().unwrap().is_empty());
        assert!(!p.ok(&["status"]).contains("DIVERGED"));
    }
}

#[test]
fn changes_on_their_way_are_not_reported_as_differences() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "v", "SAM2", "SP2");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "one"]);
    settle(&m, &s, "v");
    // Edits on both sides, verify started before either crossed.
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "renamed on the master"]);
    s.ok(&["comment", "add", "SP2-1", "--body", "said on the slave"]);
    m.cycle();
    s.cycle();
    verify(&m, &s, "v", &[]);
    for p in [&m, &s] {
        let r = last(p, "v");
        assert!(r["differing"].as_array().unwrap().is_empty(), "{r}");
    }
    assert_eq!(content(&m.issue("SAM2-1")), content(&s.issue("SP2-1")));
}

#[test]
fn a_resync_that_left_attachments_behind_says_so_and_is_followed_by_a_verify() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "v", "SAM2", "SP2");
    for summary in ["one", "two", "three"] {
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", summary]);
    }
    settle(&m, &s, "v");
    m.ok(&["sync", "edit", "v", "--max-attachment-mb", "1"]);
    for name in ["a.bin", "b.bin"] {
        let file = m.home().join(name);
        std::fs::write(&file, vec![7u8; 1_200_000]).unwrap();
        m.ok(&["attachment", "add", "SAM2-2", file.to_str().unwrap()]);
    }
    settle(&m, &s, "v");
    let report = m.json(&["sync", "resync", "v", "--yes", "--json"]);
    assert_eq!(
        report["warnings"],
        serde_json::json!(["[SAM2-2] failed to sync attachments: total: 2, synchronized: 0"])
    );
    let text = m.ok(&["sync", "resync", "v", "--yes"]);
    assert!(text.starts_with("Completed with warnings\n[SAM2-2] failed to sync attachments"), "{text}");
    // The verify that followed names the same issue.
    settle(&m, &s, "v");
    let r = last(&m, "v");
    assert_eq!(r["differing"][0]["key"], "SAM2-2", "{r}");
    assert_eq!(r["differing"][0]["what"], serde_json::json!(["2 attachments missing at the partner"]));
}

#[test]
fn a_verify_runs_on_its_schedule_and_repairs_under_the_repair_policy() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "v", "SAM2", "SP2");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "one"]);
    settle(&m, &s, "v");
    assert!(m.fail(&["sync", "edit", "v", "--verify-every", "5s"]).contains("at least a minute"));
    let out = s.ok(&["sync", "edit", "v", "--verify-every", "1m", "--verify-policy", "repair"]);
    assert_eq!(out, "Sync 'v' is verified every minute and what differs is repaired");
    let st = s.status_of("v");
    assert_eq!((st["verify"]["every_ms"].as_i64(), st["verify"]["policy"].as_str()), (Some(60_000), Some("repair")));
    let db = rusqlite::Connection::open(m.home().join("postern.db")).unwrap();
    db.execute("UPDATE t_issue SET summary = 'changed behind the back' WHERE key = 'SAM2-1'", []).unwrap();
    // The sync is older than a minute, as far as the schedule can tell.
    let db = rusqlite::Connection::open(s.home().join("postern.db")).unwrap();
    db.execute("UPDATE sync SET created_at = created_at - 120000", []).unwrap();
    drop(db);
    settle(&m, &s, "v");
    let r = last(&s, "v");
    assert_eq!(r["repaired"], serde_json::json!(["SP2-1"]), "{r}");
    settle(&m, &s, "v");
    // The master's summary carries the later change it knows of (its
    // creation; the edit behind its back left no trace): it wins.
    assert_eq!(s.issue("SP2-1")["summary"], "changed behind the back");
    // Not again before a minute has passed.
    s.cycle();
    assert!(s.outgoing("v").is_empty());
}

#[test]
fn sync_verify_waits_for_the_partners_daemon_and_prints_the_report() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "v", "SAM2", "SP2");
    for n in 0..5 {
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("issue {n}")]);
    }
    settle(&m, &s, "v");
    wire(&m, &s, "v");
    let d = s.daemon(&["--interval", "0.2"]);
    // No daemon on this side: the command sends and reads itself.
    let text = m.ok(&["sync", "verify", "v", "--wait", "60"]);
    assert_eq!(text, "Completed Successfully\n5 pairs here, 5 at the partner; 0 differ");
    let db = rusqlite::Connection::open(s.home().join("postern.db")).unwrap();
    db.execute("UPDATE t_issue SET priority = 'High' WHERE key = 'SP2-3'", []).unwrap();
    drop(db);
    let out = m.cli(&["sync", "verify", "v", "--wait", "60"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("[SAM2-3] differs: priority (here Medium, partner High)"), "{text}");
    s.stop(d);
    // Nobody answers: said, with where the report will show.
    let err = m.fail(&["sync", "verify", "v", "--wait", "1"]);
    assert!(err.contains("has not answered the verify within 1s") && err.contains("--last"), "{err}");
}

#[test]
fn an_issue_one_side_ignores_is_not_reported_as_a_difference() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "v", "SAM2", "SP2");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "one"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "two"]);
    settle(&m, &s, "v");
    s.ok(&["errors", "ignore-issue", "v", "SP2-1"]);
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "not taken there"]);
    settle(&m, &s, "v");
    verify(&m, &s, "v", &[]);
    let r = last(&m, "v");
    assert_eq!((r["differing"].clone(), r["ignored"].clone()), (serde_json::json!([]), serde_json::json!(["SAM2-1"])));
    let text = m.ok(&["sync", "verify", "v", "--last"]);
    assert!(text.ends_with("0 differ; 1 ignored on one side (`errors ignore-issue`), not compared (SAM2-1)"), "{text}");
    assert_eq!(last(&s, "v")["ignored"], serde_json::json!(["SP2-1"]));
}

#[test]
fn a_verify_follows_a_recovered_outage() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "v", "SAM2", "SP2");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "one"]);
    settle(&m, &s, "v");
    let (rx, away) = (m.exchange("v").join("RECEIVE"), m.home().join("away"));
    std::fs::rename(&rx, &away).unwrap();
    std::fs::write(&rx, "not a folder").unwrap();
    assert!(m.peer().cycle().is_err(), "receiving fails");
    assert_eq!(m.status_of("v")["failing"][0]["what"], "receive");
    assert!(m.fail(&["sync", "verify", "v", "--last"]).contains("was never verified"));
    std::fs::remove_file(&rx).unwrap();
    std::fs::rename(&away, &rx).unwrap();
    settle(&m, &s, "v");
    let r = last(&m, "v");
    assert_eq!((r["pairs"].as_u64(), r["differing"].as_array().map(Vec::len)), (Some(1), Some(0)), "{r}");
}

#[test]
fn a_verify_needs_the_handshake_done_and_the_sync_running() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "v", "SAM2", "SP2");
    // The slave knows the master's key, but its accept was not taken yet.
    let err = s.fail(&["sync", "verify", "v", "--wait", "0"]);
    assert!(err.contains("is still in its handshake"), "{err}");
    settle(&m, &s, "v");
    m.ok(&["sync", "pause", "v"]);
    let err = m.fail(&["sync", "verify", "v", "--wait", "0"]);
    assert!(err.contains("is paused: resume it (`postern sync resume v`)"), "{err}");
    assert!(m.fail(&["sync", "verify", "nope"]).contains("nope"));
}

#[test]
fn an_issue_whose_changes_wait_behind_an_error_is_changing_not_a_difference() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "v", "SAM2", "SP2");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "one"]);
    settle(&m, &s, "v");
    s.ok(&["project", "edit", "SP2", "--statuses", "Open,Done"]);
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Review"]);
    settle(&m, &s, "v");
    assert_eq!(s.json(&["errors", "list", "v", "--json"]).as_array().map(Vec::len), Some(1));
    verify(&m, &s, "v", &[]);
    // The status differs, but the error already says why: not reported
    // twice, and not repaired over the admin's head.
    let r = last(&m, "v");
    assert_eq!((r["differing"].clone(), r["changing"].clone()), (serde_json::json!([]), serde_json::json!(["SAM2-1"])));
    assert_eq!(last(&s, "v")["changing"], serde_json::json!(["SP2-1"]));
}
