//! The tracker conformance suite against the embedded tracker (Redmine
//! runs the same suite in tests/redmine.rs, against a real server).

mod common;

use postern::tracker::{Embedded, Tracker};

#[test]
fn the_embedded_tracker_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let conn = postern::store::open(&dir.path().join("postern.db")).unwrap();
    let statuses = ["Open".to_string(), "In Progress".to_string(), "Done".to_string()];
    Embedded::new(&conn).create_project("CONF", "conformance", Some(&statuses)).unwrap();
    let t = Embedded::new(&conn);
    t.set_allowed("CONF", "types", Some(&["Bug".to_string(), "Feature".to_string()])).unwrap();
    // With a user directory, only its users are assignees and worklog users.
    t.set_user("alice", Some("alice@example.test")).unwrap();
    t.set_user("sync-user", None).unwrap();
    assert!(t.has_project("CONF").unwrap());
    assert!(!t.has_project("NOPE").unwrap());
    common::conformance::run(&common::conformance::Sides {
        sync: &t,
        person: &t,
        project: "CONF",
        sync_id: "sync-1",
        statuses: ["Open", "In Progress"],
        priorities: ["Medium", "High"],
        types: ["Bug", "Feature"],
        custom_field: "Ticket ref",
        user: "alice",
        transactional: true,
        binary: true,
    });
}
