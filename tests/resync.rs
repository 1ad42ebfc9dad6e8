//! Existing issues at create/accept, and resyncs with their report.

mod common;
use common::*;

fn summaries(p: &TestPeer, project: &str) -> Vec<String> {
    let mut v: Vec<String> = p.issues(project).iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

#[test]
fn existing_issues_cross_at_the_start_when_chosen() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "open one"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "an old comment"]);
    let file = m.home().join("log.txt");
    std::fs::write(&file, "old log").unwrap();
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap()]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "done one"]);
    m.ok(&["issue", "edit", "SAM2-2", "--status", "Done"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "another open one"]);
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "the slave's old one"]);
    let err = m.fail(&[
        "sync",
        "create",
        "--name",
        "x",
        "--project",
        "SAM2",
        "--sync-user",
        "b",
        "--existing-status",
        "Open",
    ]);
    assert!(err.contains("need --existing matching"), "{err}");
    let err =
        m.fail(&["sync", "create", "--name", "x", "--project", "SAM2", "--sync-user", "b", "--existing", "matching"]);
    assert!(err.contains("needs a filter"), "{err}");
    assert!(m.ok(&["sync", "list"]).contains("no syncs"), "nothing created");

    pair_with(
        &m,
        &s,
        "acme",
        "SAM2",
        "SP2",
        &["--existing", "matching", "--existing-status", "Open"],
        &["--existing", "all"],
    );
    settle(&m, &s, "acme");
    assert_eq!(summaries(&s, "SP2"), ["another open one", "open one", "the slave's old one"]);
    assert_eq!(summaries(&m, "SAM2"), ["another open one", "done one", "open one", "the slave's old one"]);
    let copy = s.issues("SP2").into_iter().find(|i| i["summary"] == "open one").unwrap();
    let copy = s.issue(copy["key"].as_str().unwrap());
    assert_eq!(copy["comments"][0]["body"], "an old comment");
    assert_eq!(copy["attachments"].as_array().unwrap().len(), 1);
    let r = &m.status()["last_resync"];
    assert_eq!(
        (r["kind"].as_str(), r["issues"].as_u64(), r["new"].as_u64()),
        (Some("existing issues"), Some(2), Some(2)),
        "{r}"
    );
    assert!(m.ok(&["status"]).contains("last resync     existing issues at"));
    assert!(m.ok(&["status"]).contains("Completed Successfully (2 issues, 2 new)"));
    // Sent once: later cycles send nothing more.
    settle(&m, &s, "acme");
    assert_eq!(s.issues("SP2").len(), 3);
}

#[test]
fn a_resync_restores_a_comment_lost_on_one_side_without_duplicates_or_echo() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "with comments"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "first"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "second"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["comments"].as_array().unwrap().len(), 2);
    // The slave's tracker loses a comment behind postern's back (a restore
    // from an older backup, an admin's SQL).
    let lost = s.issue("SP2-1")["comments"][0]["id"].as_str().unwrap().to_string();
    let conn = postern::store::open(&s.home().join("postern.db")).unwrap();
    conn.execute("DELETE FROM t_comment WHERE id = ?1", [&lost]).unwrap();
    drop(conn);
    assert_eq!(s.issue("SP2-1")["comments"].as_array().unwrap().len(), 1);

    let err = m.fail(&["sync", "resync", "acme", "--keys", "SAM2-1"]);
    assert!(err.contains("sends 1 issue of") && err.contains("--yes"), "{err}");
    let out = m.ok(&["sync", "resync", "acme", "--keys", "SAM2-1", "--yes"]);
    assert!(out.starts_with("Completed Successfully\n1 issue queued in 1 message"), "{out}");
    settle(&m, &s, "acme");
    let bodies: Vec<_> = s.issue("SP2-1")["comments"].as_array().unwrap().iter().map(|c| c["body"].clone()).collect();
    assert_eq!(bodies, ["first", "second"]);
    assert_eq!(m.issue("SAM2-1")["comments"].as_array().unwrap().len(), 2, "no echo");
    assert_eq!((m.issues("SAM2").len(), s.issues("SP2").len()), (1, 1));
    // The re-made comment is paired again: an edit reaches it.
    let first = m.issue("SAM2-1")["comments"][0]["id"].as_str().unwrap().to_string();
    m.ok(&["comment", "edit", "SAM2-1", &first, "--body", "first, edited"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["comments"][0]["body"], "first, edited");
    assert_eq!(s.issue("SP2-1")["comments"].as_array().unwrap().len(), 2);
    // A second resync changes nothing.
    m.ok(&["sync", "resync", "acme", "--yes"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["comments"].as_array().unwrap().len(), 2);
}

#[test]
fn a_resync_of_only_the_summary_leaves_the_other_fields() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "old summary"]);
    settle(&m, &s, "acme");
    s.ok(&["errors", "ignore-issue", "acme", "SP2-1"]);
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "new summary", "--status", "Done"]);
    settle(&m, &s, "acme");
    s.ok(&["errors", "ignore-issue", "acme", "SP2-1", "--undo"]);
    assert_eq!(s.issue("SP2-1")["summary"], "old summary");
    let err = m.fail(&["sync", "resync", "acme", "--fields", "summary,colour", "--yes"]);
    assert!(err.contains("'colour' is not one of summary"), "{err}");
    m.ok(&["sync", "resync", "acme", "--fields", "summary", "--status", "Done", "--yes"]);
    settle(&m, &s, "acme");
    let i = s.issue("SP2-1");
    assert_eq!((i["summary"].as_str(), i["status"].as_str()), (Some("new summary"), Some("Open")));
}

#[test]
fn a_resync_with_a_failing_issue_reports_warnings_in_timetrackers_shape() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    m.ok(&["project", "create", "OTHER"]);
    m.ok(&["issue", "create", "--project", "OTHER", "--summary", "not this sync's"]);
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "fine"]);
    let out = m.ok(&["sync", "resync", "acme", "--keys", "SAM2-1,SAM2-9,OTHER-1", "--yes"]);
    assert_eq!(
        out.lines().take(3).collect::<Vec<_>>(),
        [
            "Completed with warnings",
            "[SAM2-9] failed to sync issue: no such issue",
            "[OTHER-1] failed to sync issue: it is in project OTHER"
        ]
    );
    let r = &m.status()["last_resync"];
    assert_eq!(r["warnings"].as_array().unwrap().len(), 2, "{r}");
    let text = m.ok(&["status"]);
    assert!(text.contains("Completed with warnings (1 issue, 1 new)") && text.contains("[SAM2-9] failed"), "{text}");
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "fine");
    let json = m.json(&["sync", "resync", "acme", "--updated-since", "2000-01-01", "--yes", "--json"]);
    assert_eq!(json["issues"], 1);
    assert!(m.fail(&["sync", "resync", "acme", "--updated-since", "yesterday"]).contains("is not a date"));
}

#[test]
fn a_resync_can_be_asked_of_the_partner_in_either_or_both_directions() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "the slave's"]);
    s.ok(&["comment", "add", "SP2-1", "--body", "one"]);
    s.ok(&["comment", "add", "SP2-1", "--body", "two"]);
    settle(&m, &s, "acme");
    // The master's copy loses a comment behind postern's back.
    let lost = m.issue("SAM2-1")["comments"][1]["id"].as_str().unwrap().to_string();
    let conn = postern::store::open(&m.home().join("postern.db")).unwrap();
    conn.execute("DELETE FROM t_comment WHERE id = ?1", [&lost]).unwrap();
    drop(conn);

    let err = m.fail(&["sync", "resync", "acme", "--direction", "in", "--keys", "SAM2-9"]);
    assert!(err.contains("SAM2-9 is not paired") && err.contains("nothing was asked"), "{err}");
    let err = m.fail(&["sync", "resync", "acme", "--direction", "in", "--keys", "SAM2-1"]);
    assert!(
        err.contains("This asks the partner to send the state of its issues paired with SAM2-1. Confirm with --yes"),
        "{err}"
    );
    let before = m.status()["outgoing_seq"].as_u64().unwrap();
    let err = m.fail(&["sync", "resync", "acme", "--direction", "both"]);
    assert!(err.contains("and asks the partner"), "{err}");
    assert_eq!(m.status()["outgoing_seq"].as_u64().unwrap(), before, "declined: nothing sent or asked");
    let out = m.ok(&["sync", "resync", "acme", "--direction", "in", "--keys", "SAM2-1", "--yes"]);
    assert!(out.starts_with("Asked: the partner sends the state of its issues paired with SAM2-1"), "{out}");
    settle(&m, &s, "acme");
    let bodies: Vec<_> = m.issue("SAM2-1")["comments"].as_array().unwrap().iter().map(|c| c["body"].clone()).collect();
    assert_eq!(bodies, ["one", "two"]);
    let r = &s.status()["last_resync"];
    assert_eq!((r["kind"].as_str(), r["issues"].as_u64()), (Some("resync asked by the partner"), Some(1)), "{r}");
    assert!(s.status()["last_resync"]["warnings"].as_array().unwrap().is_empty());

    // Both ways at once: each side sends its own; nothing doubles.
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "the master's"]);
    settle(&m, &s, "acme");
    m.ok(&["sync", "resync", "acme", "--direction", "both", "--yes"]);
    settle(&m, &s, "acme");
    assert_eq!((m.issues("SAM2").len(), s.issues("SP2").len()), (2, 2));
    assert_eq!(s.issue("SP2-1")["comments"].as_array().unwrap().len(), 2);
    assert_eq!(m.status()["last_resync"]["kind"], "resync");
    assert_eq!(s.status()["last_resync"]["kind"], "resync asked by the partner");
}
