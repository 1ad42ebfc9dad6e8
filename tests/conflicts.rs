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
