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
    assert!(t.has_project("CONF").unwrap());
    assert!(!t.has_project("NOPE").unwrap());
    common::conformance::run(&common::conformance::Sides {
        sync: &t,
        person: &t,
        project: "CONF",
        sync_id: "sync-1",
        statuses: ["Open", "In Progress"],
        priorities: ["Medium", "High"],
        transactional: true,
    });
}
