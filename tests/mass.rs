//! Damage control: a cycle over the mass-change threshold sends or applies
//! nothing until the admin allows it once or raises the threshold.

mod common;
use common::*;

fn paired() -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    (m, s)
}

fn create(p: &TestPeer, n: usize) {
    for i in 0..n {
        p.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("bulk {i}")]);
    }
}

#[test]
fn a_mass_change_is_held_on_the_sending_side_until_allowed() {
    let (m, s) = paired();
    assert_eq!(m.status()["mass_change_threshold"], 100, "the default");
    assert!(m.ok(&["sync", "edit", "acme", "--mass-change-threshold", "3"]).contains("more than 3 issues"));
    create(&m, 5);
    let pending = m.ok(&["sync", "pending", "acme"]);
    assert!(
        pending.starts_with("Sync 'acme': the next cycle would send 5 changes of 5 issues (threshold 3: over it"),
        "{pending}"
    );
    assert!(pending.contains("SAM2-1       new issue, with 0 comments"), "{pending}");
    m.cycle();
    assert!(m.outgoing("acme").is_empty(), "nothing sent");
    let held = &m.status()["mass_change_held"];
    assert_eq!(
        (held["side"].as_str(), held["issues"].as_u64(), held["threshold"].as_u64()),
        (Some("send"), Some(5), Some(3))
    );
    assert!(m.ok(&["status"]).contains("HELD            sending 5 issues in one cycle, over the threshold of 3"));
    // An allowance on the other side does not let this side's hold through.
    assert!(s.fail(&["sync", "allow-mass-change", "acme"]).contains("holds nothing back"));
    // The dry run moved nothing either.
    assert_eq!(m.ok(&["sync", "pending", "acme", "--json"]).matches("issue_created").count(), 5);

    // Allowed for the 5 held; 2 more made since make it 7: held again.
    m.ok(&["sync", "allow-mass-change", "acme"]);
    create(&m, 2);
    m.cycle();
    assert!(m.outgoing("acme").is_empty(), "more than was allowed");
    assert_eq!(m.status()["mass_change_held"]["issues"], 7);
    m.ok(&["sync", "allow-mass-change", "acme"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issues("SP2").len(), 7);
    // Nothing held: there is nothing to allow, and no permission lies in wait.
    assert!(m.fail(&["sync", "allow-mass-change", "acme"]).contains("holds nothing back"));
    assert!(m.status()["mass_change_held"].is_null());
    // Allowed once: the next mass change is held again.
    create(&m, 4);
    m.cycle();
    assert_eq!(m.status()["mass_change_held"]["issues"], 4);
    // A raised threshold lets it through.
    m.ok(&["sync", "edit", "acme", "--mass-change-threshold", "10"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issues("SP2").len(), 11);
    assert!(m.status()["mass_change_held"].is_null());
    // A small change is never held.
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "one edit"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "one edit");
}

#[test]
fn a_mass_change_is_held_on_the_receiving_side_until_allowed() {
    let (m, s) = paired();
    s.ok(&["sync", "edit", "acme", "--mass-change-threshold", "2"]);
    create(&m, 3);
    m.cycle();
    carry(&m, &s, "acme");
    s.cycle();
    assert!(s.issues("SP2").is_empty(), "nothing applied");
    assert_eq!(list_messages(&s.exchange("acme").join("RECEIVE")).len(), 1, "the message waits");
    let held = &s.status()["mass_change_held"];
    assert_eq!((held["side"].as_str(), held["issues"].as_u64()), (Some("receive"), Some(3)));
    assert!(s.ok(&["status"]).contains("HELD            applying the partner's 3 issues"));
    assert!(s.ok(&["sync", "pending", "acme"]).contains("Held on receiving: the partner's messages (3 issues"));
    // Allowed for those 3; a second message with 3 more arrives meanwhile.
    s.ok(&["sync", "allow-mass-change", "acme"]);
    m.ok(&["sync", "edit", "acme", "--mass-change-threshold", "0"]);
    create(&m, 3);
    m.cycle();
    carry(&m, &s, "acme");
    s.cycle();
    assert_eq!(s.issues("SP2").len(), 3, "the allowed 3, not the 3 after them");
    assert_eq!(s.status()["mass_change_held"]["issues"], 3);
    s.ok(&["sync", "allow-mass-change", "acme"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issues("SP2").len(), 6);
    assert!(s.status()["mass_change_held"].is_null());
    assert_eq!(s.status()["issues_with_errors"], 0);
}

#[test]
fn many_messages_about_few_issues_are_no_mass_change() {
    let (m, s) = paired();
    s.ok(&["sync", "edit", "acme", "--mass-change-threshold", "5"]);
    create(&m, 3);
    settle(&m, &s, "acme");
    // 3 issues, each edited 4 times, each edit in a message of its own:
    // 12 messages in one cycle of the slave, about 3 issues.
    let mut pm = m.peer();
    for round in 0..4 {
        for i in 1..=3 {
            m.ok(&["issue", "edit", &format!("SAM2-{i}"), "--summary", &format!("edit {round}")]);
            pm.cycle().unwrap();
        }
    }
    drop(pm);
    assert!(carry(&m, &s, "acme") >= 12, "one message per edit");
    s.cycle();
    assert!(s.status()["mass_change_held"].is_null(), "{}", s.status());
    let summaries: Vec<String> = s.issues("SP2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    assert_eq!(summaries, ["edit 3", "edit 3", "edit 3"]);
}
