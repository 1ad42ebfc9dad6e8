//! The tracker conformance suite against the embedded tracker, one test
//! per behaviour (the fake Jira runs it in tests/jira.rs, a real Redmine in
//! tests/redmine.rs).

mod common;

use common::conformance::Sides;
use postern::tracker::{Embedded, Reads};

/// Runs `behaviour` against a fresh embedded tracker with project CONF.
fn embedded(behaviour: fn(&Sides<'_>)) {
    let dir = tempfile::tempdir().unwrap();
    let conn = postern::store::open(&dir.path().join("postern.db")).unwrap();
    let statuses = ["Open".to_string(), "In Progress".to_string(), "Done".to_string()];
    Embedded::new(&conn).create_project("CONF", "conformance", Some(&statuses)).unwrap();
    let t = Embedded::new(&conn);
    t.set_allowed("CONF", "types", Some(&["Bug".to_string(), "Feature".to_string()])).unwrap();
    // With a user directory, only its users are assignees and worklog users.
    t.set_user("alice", Some("alice@example.test")).unwrap();
    t.set_user("sync-user", None).unwrap();
    behaviour(&Sides {
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
        lacks: &[],
    });
}

conformance_tests!(embedded);

#[test]
fn a_project_is_there_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let conn = postern::store::open(&dir.path().join("postern.db")).unwrap();
    Embedded::new(&conn).create_project("CONF", "conformance", None).unwrap();
    let t = Embedded::new(&conn);
    assert!(t.has_project("CONF").unwrap());
    assert!(!t.has_project("NOPE").unwrap());
}

#[test]
fn the_suite_in_one_story_passes_too() {
    embedded(common::conformance::run);
}
