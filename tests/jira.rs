//! The Jira backend against the fake Jira of `common/jira_fake` (no Jira
//! can run here): the conformance suite every backend passes, in both
//! flavours; what it checks before a sync is saved, with the failures an
//! admin meets; throttling.

mod common;

#[path = "common/jira_fake/mod.rs"]
mod jira_fake;

use common::prism::Prism;
use jira_fake::{settings, Fake, ALICE_AUTH, SYNC_AUTH};
use postern::tracker::jira::{Flavour, Jira, JiraAuth, JiraSettings};
use postern::tracker::TrackerError;
use postern::transport::mail::Password;

fn cloud_auth(token: &str) -> JiraAuth {
    JiraAuth::Basic { user: "sync@example.com".into(), secret: Password::Value(token.into()) }
}

/// The backend, its own state in a fresh folder.
fn open(s: &JiraSettings) -> anyhow::Result<Jira> {
    let home = tempfile::tempdir().unwrap().keep();
    Jira::open(s, &home, "sync-1")
}

/// Both fakes take these.
const _: (&str, &str) = (SYNC_AUTH, ALICE_AUTH);

#[test]
fn the_check_names_the_flavour_project_and_user_of_a_good_setup() {
    let cloud = jira_fake::start(Fake::new(true, "SUP"));
    let j = open(&settings(&cloud.url, Flavour::Cloud, cloud_auth("t0ken"))).unwrap();
    assert_eq!(j.detect_flavour().unwrap(), Flavour::Cloud);
    let said = j.check().unwrap();
    assert!(said.contains("(Cloud, REST v3): project SUP (id 10000), sync user Sync User"), "{said}");
    assert!(said.contains("time zone Europe/Berlin") && said.contains("2 issue types"), "{said}");

    let dc = jira_fake::start(Fake::new(false, "SUP"));
    let auth = JiraAuth::Bearer { token: Password::Value("p4t".into()) };
    let j = open(&settings(&dc.url, Flavour::DataCenter, auth)).unwrap();
    assert_eq!(j.detect_flavour().unwrap(), Flavour::DataCenter);
    let said = j.check().unwrap();
    assert!(said.contains("(Data Center, REST v2): project SUP (id 10000), sync user sync-user"), "{said}");
}

#[test]
fn each_failure_of_the_check_says_what_to_do_and_never_shows_the_secret() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    // A wrong token: "later" (it may be rotated), naming what to check.
    let j = open(&settings(&fake.url, Flavour::Cloud, cloud_auth("wrong-secret"))).unwrap();
    match j.check() {
        Err(TrackerError::Unavailable { reason, retry_after: None }) => {
            assert!(reason.contains("credentials were refused (401)") && reason.contains("API token"), "{reason}");
            assert!(!reason.contains("wrong-secret"), "{reason}");
        }
        other => panic!("expected unavailable: {other:?}"),
    }
    // A project the user cannot see.
    let mut s = settings(&fake.url, Flavour::Cloud, cloud_auth("t0ken"));
    s.project = "NOPE".into();
    let why = open(&s).unwrap().check().unwrap_err().to_string();
    assert!(why.contains("project NOPE does not exist in Jira") && why.contains("cannot browse it"), "{why}");
    // Missing permissions, each with what it is for.
    fake.state.lock().unwrap().lacking = vec!["TRANSITION_ISSUES".into(), "WORK_ON_ISSUES".into()];
    let why = open(&settings(&fake.url, Flavour::Cloud, cloud_auth("t0ken"))).unwrap().check().unwrap_err();
    let why = why.to_string();
    assert!(why.contains("TRANSITION_ISSUES (to change an issue's status), WORK_ON_ISSUES (to log work)"), "{why}");
    // Permissions a sync works without: named with what happens then.
    fake.state.lock().unwrap().lacking = vec!["EDIT_ALL_COMMENTS".into()];
    let found = open(&settings(&fake.url, Flavour::Cloud, cloud_auth("t0ken"))).unwrap().check().unwrap();
    assert!(
        found.contains(
            "without EDIT_ALL_COMMENTS (not granted): a partner's edit of a comment a Jira user wrote is refused"
        ),
        "{found}"
    );
    fake.state.lock().unwrap().lacking.clear();
    // Nothing listens: unavailable, the address named.
    let j = open(&settings("http://127.0.0.1:9", Flavour::Cloud, cloud_auth("t0ken"))).unwrap();
    assert!(matches!(j.check(), Err(TrackerError::Unavailable { .. })));
    assert!(open(&settings("ftp://jira", Flavour::Cloud, cloud_auth("t0ken"))).is_err());
}

#[test]
fn throttling_is_a_wait_as_told_not_an_error() {
    let mut fake = Fake::new(true, "SUP");
    fake.throttle_every = 3;
    let fake = jira_fake::start(fake);
    // A short Retry-After is waited out in place: the check gets through.
    let j = open(&settings(&fake.url, Flavour::Cloud, cloud_auth("t0ken"))).unwrap();
    let started = std::time::Instant::now();
    j.check().unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_secs(1), "it waited as told");
    assert!(fake.state.lock().unwrap().throttled >= 1);
    // A long one goes back to the engine as "later", with the wait.
    let mut f = fake.state.lock().unwrap();
    f.throttle_every = 1;
    f.retry_after_secs = 120;
    drop(f);
    let j = open(&settings(&fake.url, Flavour::Cloud, cloud_auth("t0ken"))).unwrap();
    match j.check() {
        Err(TrackerError::Unavailable { reason, retry_after: Some(wait) }) => {
            assert!(reason.contains("throttles the sync user (429)"), "{reason}");
            assert!(
                wait >= std::time::Duration::from_secs(120) && wait < std::time::Duration::from_secs(145),
                "{wait:?}"
            );
        }
        other => panic!("expected a wait: {other:?}"),
    }
}

/// The conformance suite, seen by the sync user and by Alice (another
/// account, in another time zone: New York against the sync user's Berlin).
fn conformance(cloud: bool, prism: bool) {
    conformance_with(cloud, prism, common::conformance::run, true);
}

/// One behaviour of the suite on Jira Cloud (the fake, no Prism).
fn on_cloud(behaviour: fn(&common::conformance::Sides<'_>)) {
    conformance_with(true, false, behaviour, false);
}

/// One behaviour of the suite on Jira Data Center (the fake, no Prism).
fn on_data_center(behaviour: fn(&common::conformance::Sides<'_>)) {
    conformance_with(false, false, behaviour, false);
}

mod cloud {
    crate::conformance_tests!(super::on_cloud);
}

mod data_center {
    crate::conformance_tests!(super::on_data_center);
}

/// `behaviour` against a fresh fake Jira (behind Prism when `prism`);
/// `whole`: the whole suite ran, so the media host was read.
fn conformance_with(cloud: bool, prism: bool, behaviour: fn(&common::conformance::Sides<'_>), whole: bool) {
    let mut fake = Fake::new(cloud, "SUP");
    if !cloud {
        // JQL minutes in a zone behind UTC: a window written in UTC would
        // start hours late there and miss changes.
        fake.users[0].time_zone = "America/New_York".into();
        fake.users[1].time_zone = "Asia/Kolkata".into();
    }
    let fake = jira_fake::start(fake);
    let (flavour, sync_auth, alice_auth, alice) = if cloud {
        (Flavour::Cloud, cloud_auth("t0ken"), cloud_auth_of("alice@example.com", "al1ce"), "Alice Admin")
    } else {
        let basic = |u: &str, p: &str| JiraAuth::Basic { user: u.into(), secret: Password::Value(p.into()) };
        (
            Flavour::DataCenter,
            JiraAuth::Bearer { token: Password::Value("p4t".into()) },
            basic("alice@example.com", "al1ce"),
            "alice",
        )
    };
    // Through Prism: every request and answer checked against Atlassian's
    // published specification.
    let proxy = prism
        .then(|| Prism::start("POSTERN_JIRA_CONTRACT", if cloud { "jira-v3.json" } else { "jira-v2.json" }, &fake.url));
    let url = proxy.as_ref().map_or(fake.url.clone(), |p| p.url.clone());
    let sync = open(&settings(&url, flavour, sync_auth)).unwrap();
    let person = open(&settings(&url, flavour, alice_auth)).unwrap();
    behaviour(&common::conformance::Sides {
        sync: &sync,
        person: &person,
        project: "SUP",
        sync_id: "sync-1",
        statuses: ["To Do", "In Progress"],
        priorities: ["Medium", "High"],
        types: ["Bug", "Task"],
        custom_field: "Ticket ref",
        user: alice,
        transactional: false,
        binary: !prism,
        lacks: &[],
    });
    // Cloud's attachment content came from the media host, without the
    // credentials (behind Prism, Prism follows the redirect itself).
    let f = fake.state.lock().unwrap();
    if cloud && whole {
        assert!(f.media_reads > 0, "the content came through the media host");
    }
    if cloud && !prism {
        assert_eq!(f.media_reads_with_credentials, 0, "credentials went along to the media host");
    }
}

fn cloud_auth_of(user: &str, token: &str) -> JiraAuth {
    JiraAuth::Basic { user: user.into(), secret: Password::Value(token.into()) }
}

#[test]
fn jira_cloud_passes_the_conformance_suite() {
    conformance(true, false);
}

#[test]
fn jira_data_center_passes_the_conformance_suite() {
    conformance(false, false);
}

#[test]
#[ignore = "needs Prism and Atlassian's specifications: scripts/integration.sh"]
fn jira_cloud_passes_the_conformance_suite_through_the_specification() {
    conformance(true, true);
}

#[test]
#[ignore = "needs Prism and Atlassian's specifications: scripts/integration.sh"]
fn jira_data_center_passes_the_conformance_suite_through_the_specification() {
    conformance(false, true);
}

use postern::protocol::{FieldChanges, IssueFields};
use postern::tracker::{Actor, ChangeKind, Reads, Writes};

/// Everything the sync user's backend reports after `cursor`.
fn read(j: &Jira, cursor: &mut String) -> Vec<ChangeKind> {
    let page = j.changes_since("SUP", cursor, 100).unwrap();
    j.collected(&page.next).unwrap();
    *cursor = page.next;
    page.changes.into_iter().map(|c| c.kind).collect()
}

#[test]
fn a_lagging_search_loses_nothing_and_a_long_history_is_read_to_its_end() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let sync = open(&settings(&fake.url, Flavour::Cloud, cloud_auth("t0ken"))).unwrap();
    let alice = open(&settings(&fake.url, Flavour::Cloud, cloud_auth_of("alice@example.com", "al1ce"))).unwrap();
    let person = Actor::person("alice");
    let mut cursor = String::new();
    assert!(read(&sync, &mut cursor).is_empty());
    let fields = IssueFields {
        summary: "Lagging".into(),
        status: "To Do".into(),
        priority: "Medium".into(),
        ..Default::default()
    };
    let key = alice.create_issue("SUP", &fields, person).unwrap();
    assert_eq!(read(&sync, &mut cursor), [ChangeKind::IssueCreated]);

    // Cloud's search lags behind writes: an edit not yet searchable is
    // found once it is, not lost and not reported twice.
    fake.state.lock().unwrap().search_lag_ms = 20_000;
    let edit = FieldChanges { summary: Some("Lagging, edited".into()), ..Default::default() };
    alice.update_issue(&key, &edit, person).unwrap();
    assert!(read(&sync, &mut cursor).is_empty(), "not searchable yet");
    // postern's own write is reconciled (searchable at once), and is no news.
    let mine = FieldChanges { priority: Some("High".into()), ..Default::default() };
    sync.update_issue(&key, &mine, Actor { user: "sync-user", origin: Some("sync-1"), via: None }).unwrap();
    let news = read(&sync, &mut cursor);
    let id = fake.state.lock().unwrap().issues[0].id.to_string();
    assert!(fake.state.lock().unwrap().reconciled.contains(&id), "the written issue was reconciled");
    assert_eq!(news, [ChangeKind::IssueUpdated { fields: edit.clone() }], "read with the written issue");
    fake.state.lock().unwrap().clock_offset_ms += 25_000;
    assert!(read(&sync, &mut cursor).is_empty(), "searchable now, and already read: {cursor}");

    // More than 40 histories: who set a field last is read from every page.
    fake.state.lock().unwrap().search_lag_ms = 0;
    for n in 0..45 {
        let e = FieldChanges { description: Some(format!("take {n}")), ..Default::default() };
        alice.update_issue(&key, &e, person).unwrap();
    }
    let last = FieldChanges { description: Some("from the partner".into()), ..Default::default() };
    sync.update_issue(&key, &last, Actor { user: "sync-user", origin: Some("sync-1"), via: None }).unwrap();
    assert!(fake.state.lock().unwrap().issues[0].histories.len() > 45);
    assert!(read(&sync, &mut cursor).is_empty(), "the sync user set the description last: no echo");
    // Alice's last edit of the description is on the second page.
    let alices_last = {
        let f = fake.state.lock().unwrap();
        let h = &f.issues[0].histories;
        h.iter().rev().find(|(_, who, _, _)| *who == 1).map(|(_, _, at, _)| *at)
    };
    assert_eq!(sync.local_field_time(&key, "description", "sync-1").unwrap(), alices_last);
}

/// From the CLI, with the flavour left to detect: an unreachable Jira or an
/// unset token variable is a failed check that says so and saves nothing.
#[test]
fn a_failed_accept_says_what_failed_and_saves_nothing() {
    use common::{TestPeer, MASTER_KEY, SLAVE_KEY};
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let created = m.json(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"]);
    let pass = created["passphrase"].as_str().unwrap().to_string();
    let hs = m.home().join("acme.handshake.asc");
    let base = ["sync", "accept", "--file", hs.to_str().unwrap(), "--passphrase", &pass, "--project", "SUP"];
    let jira = ["--sync-user", "b", "--yes", "--tracker", "jira", "--jira-user", "sync@example.com"];
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    for (extra, says) in [
        (&["--jira-url", "http://127.0.0.1:1", "--jira-token", "t0ken"][..], "Connection refused"),
        (&["--jira-url", &fake.url, "--jira-token-env", "POSTERN_TEST_UNSET_TOKEN"][..], "POSTERN_TEST_UNSET_TOKEN"),
    ] {
        let out = s.cli(&[&base[..], &jira[..], extra].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains("checking Jira; nothing was saved") && err.contains(says), "{err}");
        assert!(err.contains("--jira-flavour"), "says how to save it unchecked: {err}");
        assert_eq!(s.json(&["sync", "list", "--json"]).as_array().map(Vec::len), Some(0), "nothing saved");
    }
}

/// A creation whose answer was lost, looked for while Cloud's search lags
/// behind it: found by reading the keys after the newest known, by its
/// tag (an older issue of the same summary is not it).
#[test]
fn a_lost_creation_is_found_while_the_search_lags_behind_it() {
    use postern::tracker::{Actor, Reads, Writes, WrittenBefore};
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let proxy = common::fault_proxy::start(fake.url.trim_start_matches("http://"), 1);
    let sync = open(&settings(&proxy.url, Flavour::Cloud, cloud_auth("t0ken"))).unwrap();
    let me = Actor { user: "sync-user", origin: Some("sync-1"), via: None };
    let fields = postern::protocol::IssueFields {
        summary: "Twice the same".into(),
        status: "To Do".into(),
        priority: "Medium".into(),
        ..Default::default()
    };
    sync.tag_next_write("tag-twin");
    let twin = sync.create_issue("SUP", &fields, me).unwrap();
    fake.state.lock().unwrap().clock_offset_ms += 30_000;
    fake.state.lock().unwrap().search_lag_ms = 20_000;
    let since = postern::store::now_ms();
    proxy.plan.lock().unwrap().lose = Some("POST /rest/api/3/issue".into());
    sync.tag_next_write("tag-lost");
    let lost = sync.create_issue("SUP", &fields, me);
    assert!(matches!(lost, Err(TrackerError::Unavailable { .. })), "{lost:?}");
    let made: Vec<String> = fake.state.lock().unwrap().issues.iter().map(|i| i.key.clone()).collect();
    assert_eq!(made, [twin.as_str(), "SUP-2"], "made, its answer lost");
    let w = WrittenBefore::Issue { summary: "Twice the same" };
    assert_eq!(sync.find_write(&w, "tag-lost", since).unwrap().as_deref(), Some("SUP-2"));
    assert_eq!(sync.find_write(&w, "tag-never-written", since).unwrap(), None, "neither the twin nor the other");
}
