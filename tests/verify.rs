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
