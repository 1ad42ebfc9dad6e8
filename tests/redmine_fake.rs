//! The Redmine backend's logic in `cargo test`, against the small Redmine
//! of `common/redmine_fake` (as 5.0.4 answers, and as 6.x): the
//! conformance suite every backend passes, and what the check before
//! saving says. The same suite runs against a real Redmine in the
//! integration script (`tests/redmine.rs`), which stays the judge of
//! Redmine's behaviour; this one runs on every machine.

mod common;

#[path = "common/redmine_fake/mod.rs"]
mod redmine_fake;

use postern::tracker::redmine::Redmine;
use postern::tracker::{Reads, TrackerError};
use redmine_fake::{settings, Fake, ALICE_KEY, SYNC_KEY};

fn with(v6: bool, behaviour: fn(&common::conformance::Sides<'_>)) {
    let fake = redmine_fake::start(Fake::new(v6));
    let home = tempfile::tempdir().unwrap();
    let sync = Redmine::open(&settings(&fake.url, SYNC_KEY), home.path(), "conf-sync").unwrap();
    let alice = Redmine::open(&settings(&fake.url, ALICE_KEY), home.path(), "conf-alice").unwrap();
    assert!(sync.has_project(redmine_fake::PROJECT).unwrap());
    behaviour(&common::conformance::Sides::redmine(&sync, &alice, redmine_fake::PROJECT, "conf-sync"));
}

fn redmine_5(behaviour: fn(&common::conformance::Sides<'_>)) {
    with(false, behaviour)
}

fn redmine_6(behaviour: fn(&common::conformance::Sides<'_>)) {
    with(true, behaviour)
}

mod conformance_5 {
    crate::conformance_tests!(super::redmine_5);
}

mod conformance_6 {
    crate::conformance_tests!(super::redmine_6);
}

#[test]
fn the_check_names_the_project_the_user_and_what_is_not_known() {
    let fake = redmine_fake::start(Fake::new(false));
    let home = tempfile::tempdir().unwrap();
    let r = Redmine::open(&settings(&fake.url, SYNC_KEY), home.path(), "s").unwrap();
    let said = r.check().unwrap();
    for part in ["project conf (id 3)", "sync user Sync Bot (id 5)", "4 statuses", "3 priorities", "2 members"] {
        assert!(said.contains(part), "{part}: {said}");
    }
    // Only an admin reads the fields' formats: the check says what follows.
    assert!(said.contains("custom fields' formats are not known"), "{said}");
    let admin = Redmine::open(&settings(&fake.url, redmine_fake::ADMIN_KEY), home.path(), "a").unwrap();
    assert!(!admin.check().unwrap().contains("formats are not known"));
}

#[test]
fn a_refused_key_is_unavailable_and_a_stranger_may_not_see_the_project() {
    let fake = redmine_fake::start(Fake::new(false));
    let home = tempfile::tempdir().unwrap();
    let bad = Redmine::open(&settings(&fake.url, "9999"), home.path(), "bad").unwrap();
    match bad.issue("1") {
        Err(TrackerError::Unavailable { reason, .. }) => assert!(reason.contains("API key was refused"), "{reason}"),
        other => panic!("expected unavailable, got {other:?}"),
    }
    fake.state.lock().unwrap().users.iter_mut().find(|u| u.login == "alice").unwrap().member = false;
    let stranger = Redmine::open(&settings(&fake.url, ALICE_KEY), home.path(), "stranger").unwrap();
    let why = stranger.check().unwrap_err().to_string();
    assert!(why.contains("may not see project 'conf' (403)"), "{why}");
}

/// Editing a note moves no issue's `updated_on`: the periodic full read
/// finds it (`--redmine-rescan-secs`), a poll in between does not.
#[test]
fn a_note_edited_later_is_found_by_the_full_read() {
    use postern::tracker::{Actor, ChangeKind, Writes};
    let fake = redmine_fake::start(Fake::new(false));
    let home = tempfile::tempdir().unwrap();
    let hourly = postern::tracker::redmine::RedmineSettings { rescan_secs: 3600, ..settings(&fake.url, SYNC_KEY) };
    let sync = Redmine::open(&hourly, home.path(), "s").unwrap();
    let alice = Redmine::open(&settings(&fake.url, ALICE_KEY), home.path(), "alice").unwrap();
    let read = |r: &Redmine, cursor: &str| {
        let page = r.changes_since("conf", cursor, 100).unwrap();
        r.collected(&page.next).unwrap();
        (page.changes.into_iter().map(|c| c.kind).collect::<Vec<_>>(), page.next)
    };
    let (_, cursor) = read(&sync, &sync.start_cursor("conf").unwrap());
    let fields =
        postern::protocol::IssueFields { summary: "edited later".into(), status: "New".into(), ..Default::default() };
    let key = alice.create_issue("conf", &fields, Actor::person("alice")).unwrap();
    let note = alice.add_comment(&key, "first words", None, Actor::person("alice")).unwrap();
    let (news, cursor) = read(&sync, &cursor);
    assert_eq!(news, [ChangeKind::IssueCreated], "made, with its note");
    // Read again once its second is over: from now on it is known as is.
    fake.state.lock().unwrap().clock_offset_ms += 5000;
    let (news, cursor) = read(&sync, &cursor);
    assert!(news.is_empty(), "{news:?}");
    alice.edit_comment(&key, &note, "second thoughts", Actor::person("alice")).unwrap();
    let (news, cursor) = read(&sync, &cursor);
    assert!(news.is_empty(), "the issue did not move: found at the full read, not now: {news:?}");
    let full = Redmine::open(&settings(&fake.url, SYNC_KEY), home.path(), "s").unwrap();
    let (news, _) = read(&full, &cursor);
    assert_eq!(news, [ChangeKind::CommentEdited { comment: note, body: "second thoughts".into() }]);
}

/// An embedded vendor and a customer on the fake Redmine behind a proxy
/// that loses answers after Redmine acted, cuts them, answers 503 and is
/// slow: each issue, note and file once on each side, a person's
/// note meanwhile reaches the vendor once, nothing parked, a verify finds
/// both equal. (The integration script runs the same against a real
/// Redmine: `tracker_faults`.)
#[test]
fn a_redmine_customer_behind_lost_and_cut_answers_gets_everything_once() {
    for seed in [5, 11] {
        under_faults(seed);
    }
}

fn under_faults(seed: u64) {
    use common::fault_proxy::{self, Fault};
    use common::faults::redmine_customer_gets_everything_once;
    use common::{pair_with, settle, TestPeer, MASTER_KEY, SLAVE_KEY};
    let fake = redmine_fake::start(Fake::new(false));
    let proxy = fault_proxy::start(fake.url.trim_start_matches("http://"), seed);
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let accept = [
        "--tracker",
        "redmine",
        "--redmine-url",
        &proxy.url,
        "--redmine-key",
        SYNC_KEY,
        "--status-map",
        "Open=New,Done=Closed",
        "--priority-map",
        "Medium=Normal",
        // An answer held longer than this is one the proxy made slow.
        "--redmine-timeout-secs",
        "1",
    ];
    pair_with(&m, &s, "acme", "SAM2", redmine_fake::PROJECT, &[], &accept);
    settle(&m, &s, "acme");
    {
        let mut plan = proxy.plan.lock().unwrap();
        plan.writes_pct = 40;
        plan.reads_pct = 10;
        plan.slow_ms = 1200;
    }
    let home = tempfile::tempdir().unwrap();
    let alice = Redmine::open(&settings(&fake.url, ALICE_KEY), home.path(), "alice").unwrap();
    let said = redmine_customer_gets_everything_once((&m, &s), &proxy, &alice, (redmine_fake::PROJECT, 5));
    eprintln!("seed {seed}, faults made: {said}; the fake answered {} calls", fake.state.lock().unwrap().calls);
    let counts = proxy.plan.lock().unwrap().counts.clone();
    for kind in [Fault::AnswerLost, Fault::Truncated, Fault::Unavailable] {
        assert!(counts.get(&kind).copied().unwrap_or(0) > 0, "no {kind:?} was made: {said}");
    }
}
