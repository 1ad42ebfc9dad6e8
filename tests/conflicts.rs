//! Both sides change the same thing before either hears of the other:
//! the peers must end up equal, and no issue may get stuck on it.

mod common;
use common::*;

fn paired_with_comment() -> (TestPeer, TestPeer, String, String) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "start"]);
    let mine = m.ok(&["comment", "add", "SAM2-1", "--body", "original"]);
    settle(&m, &s, "acme");
    let theirs = s.issue("SP2-1")["comments"][0]["id"].as_str().unwrap().to_string();
    (m, s, mine, theirs)
}

fn bodies(p: &TestPeer, key: &str) -> Vec<String> {
    p.issue(key)["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap().to_string()).collect()
}

fn no_errors(m: &TestPeer, s: &TestPeer) {
    assert_eq!(m.status()["issues_with_errors"], 0, "{}", m.ok(&["errors", "list", "acme"]));
    assert_eq!(s.status()["issues_with_errors"], 0, "{}", s.ok(&["errors", "list", "acme"]));
}

#[test]
fn concurrent_edits_of_one_comment_converge_to_the_later_edit() {
    for later_on_master in [false, true] {
        let (m, s, mine, theirs) = paired_with_comment();
        let first = |p: &TestPeer| {
            if later_on_master {
                s.ok(&["comment", "edit", "SP2-1", &theirs, "--body", "earlier"]);
                std::thread::sleep(std::time::Duration::from_millis(5));
                p.ok(&["comment", "edit", "SAM2-1", &mine, "--body", "later"]);
            } else {
                p.ok(&["comment", "edit", "SAM2-1", &mine, "--body", "earlier"]);
                std::thread::sleep(std::time::Duration::from_millis(5));
                s.ok(&["comment", "edit", "SP2-1", &theirs, "--body", "later"]);
            }
        };
        first(&m);
        settle(&m, &s, "acme");
        assert_eq!(bodies(&m, "SAM2-1"), ["later"], "master, later edit on master: {later_on_master}");
        assert_eq!(bodies(&s, "SP2-1"), ["later"], "slave, later edit on master: {later_on_master}");
        no_errors(&m, &s);
    }
}

#[test]
fn an_edit_crossing_a_delete_leaves_the_comment_deleted_on_both_sides() {
    let (m, s, mine, theirs) = paired_with_comment();
    m.ok(&["comment", "edit", "SAM2-1", &mine, "--body", "edited"]);
    s.ok(&["comment", "delete", "SP2-1", &theirs]);
    settle(&m, &s, "acme");
    assert!(bodies(&m, "SAM2-1").is_empty());
    assert!(bodies(&s, "SP2-1").is_empty());
    no_errors(&m, &s);
}

#[test]
fn both_sides_deleting_the_same_comment_or_attachment_is_not_an_error() {
    let (m, s, mine, theirs) = paired_with_comment();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.txt");
    std::fs::write(&f, "x").unwrap();
    let a = m.ok(&["attachment", "add", "SAM2-1", f.to_str().unwrap()]);
    settle(&m, &s, "acme");
    let b = s.json(&["attachment", "list", "SP2-1", "--json"])[0]["id"].as_str().unwrap().to_string();
    m.ok(&["comment", "delete", "SAM2-1", &mine]);
    s.ok(&["comment", "delete", "SP2-1", &theirs]);
    m.ok(&["attachment", "delete", "SAM2-1", &a]);
    s.ok(&["attachment", "delete", "SP2-1", &b]);
    settle(&m, &s, "acme");
    assert!(bodies(&m, "SAM2-1").is_empty() && bodies(&s, "SP2-1").is_empty());
    no_errors(&m, &s);
    // The issue is not blocked: later changes still cross.
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "still syncing"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "still syncing");
}

#[test]
fn concurrent_edits_of_one_field_converge_to_the_later_edit() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "start"]);
    settle(&m, &s, "acme");
    // Both sides change the same fields before either hears of the other.
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "master's earlier edit", "--priority", "Low"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    s.ok(&["issue", "edit", "SP2-1", "--summary", "slave's later edit"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    m.ok(&["issue", "edit", "SAM2-1", "--description", "master's latest"]);
    settle(&m, &s, "acme");
    for i in [m.issue("SAM2-1"), s.issue("SP2-1")] {
        assert_eq!(i["summary"], "slave's later edit");
        assert_eq!(i["priority"], "Low", "a field only one side changed still crosses");
        assert_eq!(i["description"], "master's latest");
    }
    no_errors(&m, &s);
}

/// Both sides edit before either hears of the other, then messages cross.
fn both_edit(m: &TestPeer, s: &TestPeer, master: &[&str], slave: &[&str]) {
    m.ok(&[&["issue", "edit", "SAM2-1"][..], master].concat());
    std::thread::sleep(std::time::Duration::from_millis(5));
    s.ok(&[&["issue", "edit", "SP2-1"][..], slave].concat());
    settle(m, s, "acme");
}

fn issue_pair() -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "start", "--label", "base"]);
    settle(&m, &s, "acme");
    (m, s)
}

#[test]
fn a_conflict_is_recorded_on_both_sides_and_the_losing_value_can_be_reapplied() {
    let (m, s) = issue_pair();
    both_edit(&m, &s, &["--summary", "master's"], &["--summary", "slave's, later"]);
    for (p, key) in [(&m, "SAM2-1"), (&s, "SP2-1")] {
        assert_eq!(p.issue(key)["summary"], "slave's, later");
    }
    let mc = m.json(&["conflicts", "list", "acme", "--json"]);
    assert_eq!(mc.as_array().unwrap().len(), 1, "{mc}");
    let c = &mc[0];
    assert_eq!(
        (c["local_key"].as_str(), c["remote_key"].as_str(), c["field"].as_str()),
        (Some("SAM2-1"), Some("SP2-1"), Some("summary"))
    );
    assert_eq!((c["local_value"].as_str(), c["partner_value"].as_str()), (Some("master's"), Some("slave's, later")));
    assert_eq!((c["winner"].as_str(), c["policy"].as_str()), (Some("partner"), Some("latest")));
    assert!(c["local_at"].as_i64() < c["partner_at"].as_i64());
    let sc = s.json(&["conflicts", "list", "acme", "--json"]);
    assert_eq!((sc[0]["winner"].as_str(), sc[0]["local_value"].as_str()), (Some("here"), Some("slave's, later")));
    assert_eq!(m.status()["conflicts"], 1);
    let text = m.ok(&["conflicts", "list", "acme"]);
    assert!(
        text.contains("[SAM2-1 / partner's SP2-1] summary: here \"master's\"")
            && text.contains("partner's taken (latest)"),
        "{text}"
    );

    // The master's admin wants its value after all: re-applied, it crosses.
    let id = c["id"].to_string();
    m.ok(&["conflicts", "reapply", "acme", &id]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "master's");
    assert_eq!(m.issue("SAM2-1")["summary"], "master's");
    assert!(m.fail(&["conflicts", "reapply", "acme", &id]).contains("is reapplied already"));
    assert_eq!(m.ok(&["conflicts", "list", "acme"]), "no open conflicts in sync 'acme'");
    assert!(m.ok(&["conflicts", "list", "acme", "--all"]).contains(", reapplied"));
    // The slave dismisses its record.
    let sid = sc[0]["id"].to_string();
    s.ok(&["conflicts", "dismiss", "acme", &sid]);
    assert_eq!(s.status()["conflicts"], 0);
    assert!(s.fail(&["conflicts", "dismiss", "acme", "99"]).contains("has no conflict #99"));
    // An edit made after hearing of the other side is no conflict.
    s.ok(&["issue", "edit", "SP2-1", "--summary", "the slave read it and changed it"]);
    settle(&m, &s, "acme");
    assert_eq!(m.ok(&["conflicts", "list", "acme"]), "no open conflicts in sync 'acme'");
    no_errors(&m, &s);
}

#[test]
fn a_field_the_master_owns_takes_the_masters_value_even_when_earlier() {
    let (m, s) = issue_pair();
    // Set on one side; the partner takes the same with the next cycle.
    let out = m.ok(&["sync", "edit", "acme", "--field-owner", "status=master"]);
    assert!(out.contains("owned fields status=master") && out.contains("The partner takes the same"), "{out}");
    settle(&m, &s, "acme");
    assert_eq!(s.status()["field_owners"]["status"], "master");
    assert!(s.ok(&["status"]).contains("fields          owned fields status=master"));
    assert!(m.fail(&["sync", "edit", "acme", "--field-owner", "colour=master"]).contains("'colour' is not one of"));
    assert!(m
        .fail(&["sync", "edit", "acme", "--field-owner", "status=partner"])
        .contains("not master, slave or latest"));
    both_edit(&m, &s, &["--status", "Done"], &["--status", "In Progress", "--summary", "slave's summary"]);
    for (p, key) in [(&m, "SAM2-1"), (&s, "SP2-1")] {
        let i = p.issue(key);
        assert_eq!(i["status"], "Done", "the owner's value on both sides");
        assert_eq!(i["summary"], "slave's summary", "other fields cross as ever");
    }
    let sc = s.json(&["conflicts", "list", "acme", "--json"]);
    assert_eq!((sc[0]["winner"].as_str(), sc[0]["policy"].as_str()), (Some("partner"), Some("master owns it")), "{sc}");
    // The slave's edits of an owned field stay on its side.
    s.ok(&["issue", "edit", "SP2-1", "--status", "Open"]);
    settle(&m, &s, "acme");
    assert_eq!(m.issue("SAM2-1")["status"], "Done");
    // The slave cannot re-apply its lost value: only the owner's edits cross.
    let id = sc[0]["id"].to_string();
    let err = s.fail(&["conflicts", "reapply", "acme", &id]);
    assert!(err.contains("status is owned by the master side"), "{err}");
    // Back to the default, set from the slave this time: the later edit wins again.
    s.ok(&["sync", "edit", "acme", "--field-owner", "status=latest"]);
    settle(&m, &s, "acme");
    assert!(m.status()["field_owners"].is_null());
    // Both admins change the table at once: both end with the same one.
    s.ok(&["sync", "edit", "acme", "--field-owner", "status=slave"]);
    m.ok(&["sync", "edit", "acme", "--field-owner", "priority=master"]);
    settle(&m, &s, "acme");
    assert_eq!(m.status()["field_owners"], s.status()["field_owners"]);
    s.ok(&["issue", "edit", "SP2-1", "--status", "Review"]);
    settle(&m, &s, "acme");
    assert_eq!(m.issue("SAM2-1")["status"], "Review");
}

#[test]
fn labels_changed_on_both_sides_merge() {
    let (m, s) = issue_pair();
    both_edit(&m, &s, &["--labels", "base,from-master"], &["--labels", "base,from-slave"]);
    for (p, key) in [(&m, "SAM2-1"), (&s, "SP2-1")] {
        let mut labels: Vec<String> =
            p.issue(key)["labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect();
        labels.sort();
        assert_eq!(labels, ["base", "from-master", "from-slave"], "{key}");
    }
    let mc = m.json(&["conflicts", "list", "acme", "--json"]);
    assert_eq!(mc[0]["winner"], "merged", "{mc}");
    no_errors(&m, &s);
}
