//! The GitHub backend against the fake GitHub of `common/github_fake` (no
//! GitHub runs here): the conformance suite every backend passes; what it
//! checks before a sync is saved; GitHub's limits (conditional reads that
//! cost no rate limit, a secondary limit waited out); signing in as an App.

mod common;

#[path = "common/github_fake/mod.rs"]
mod github_fake;

use github_fake::{settings, Fake, ALICE_TOKEN, SYNC_TOKEN};
use postern::protocol::{FieldChanges, IssueFields};
use postern::tracker::github::{GitHub, GitHubAuth, GitHubSettings};
use postern::tracker::{Actor, ChangeKind, Reads, TrackerError, Writes};
use postern::transport::mail::Password;

fn open(s: &GitHubSettings) -> GitHub {
    let home = tempfile::tempdir().unwrap().keep();
    GitHub::open(s, &home, "sync-1").unwrap()
}

/// `behaviour` against a fresh fake GitHub; detection reads all synced
/// issues at every poll (`rescan_secs` 0), which finds a deleted comment
/// at once (GitHub moves no time for it).
fn with(behaviour: fn(&common::conformance::Sides<'_>)) {
    through(None, behaviour)
}

/// [`with`], behind Prism checking every request and answer against
/// `spec` (GitHub's description, of scripts/github-contract.sh) when given.
fn through(spec: Option<&str>, behaviour: fn(&common::conformance::Sides<'_>)) {
    // Enterprise Server (3.19) has no issue types: a user's repository,
    // as on it.
    let ghes = spec == Some("ghes.json");
    let fake = github_fake::start(Fake { org: !ghes, ..Fake::new() });
    let proxy = spec.map(|spec| common::prism::Prism::start("POSTERN_GITHUB_CONTRACT", spec, &fake.url));
    let url = proxy.as_ref().map_or(fake.url.clone(), |p| p.url.clone());
    let mut s = settings(&url, SYNC_TOKEN);
    s.rescan_secs = 0;
    let sync = open(&s);
    let person = open(&settings(&url, ALICE_TOKEN));
    behaviour(&common::conformance::Sides {
        sync: &sync,
        person: &person,
        project: "example/support",
        sync_id: "sync-1",
        statuses: ["Open", "Closed"],
        priorities: ["", ""],
        types: ["Bug", "Task"],
        custom_field: "milestone",
        user: "alice",
        transactional: false,
        binary: true,
        lacks: if ghes {
            &["priority", "due_date", "attachments", "worklogs", "type"]
        } else {
            &["priority", "due_date", "attachments", "worklogs"]
        },
    });
}

mod conformance {
    crate::conformance_tests!(super::with);
}

#[test]
#[ignore = "needs Prism and GitHub's OpenAPI description: scripts/integration.sh"]
fn github_com_passes_the_conformance_suite_through_its_description() {
    through(Some("api.github.com.json"), common::conformance::run);
}

#[test]
#[ignore = "needs Prism and GitHub's OpenAPI description: scripts/integration.sh"]
fn github_enterprise_server_passes_the_conformance_suite_through_its_description() {
    through(Some("ghes.json"), common::conformance::run);
}

fn fields(summary: &str) -> IssueFields {
    IssueFields { summary: summary.into(), status: "Open".into(), ..Default::default() }
}

#[test]
fn the_check_names_the_repository_and_what_is_not_carried() {
    let fake = github_fake::start(Fake::new());
    let found = open(&settings(&fake.url, SYNC_TOKEN)).check().unwrap();
    for part in ["repository example/support", "sync user postern-sync", "3 issue types", "2 milestones", "attachments"]
    {
        assert!(found.contains(part), "{part}: {found}");
    }
    assert!(fake.state.lock().unwrap().issues.is_empty(), "the check made nothing");
}

#[test]
fn each_failure_of_the_check_says_what_to_do_and_never_shows_the_secret() {
    let fake = github_fake::start(Fake::new());
    let err = |s: &GitHubSettings| open(s).check().unwrap_err().to_string();
    let wrong = settings(&fake.url, "ghp_wrongWRONG");
    let e = err(&wrong);
    assert!(e.contains("credentials were refused (401)") && !e.contains("ghp_wrong"), "{e}");
    let mut elsewhere = settings(&fake.url, SYNC_TOKEN);
    elsewhere.repo = "example/nothing".into();
    let e = err(&elsewhere);
    assert!(e.contains("does not exist") && e.contains("Repository access"), "{e}");
    fake.state.lock().unwrap().read_only = true;
    let e = err(&settings(&fake.url, SYNC_TOKEN));
    assert!(e.contains("Issues: Read and write") && !e.contains(SYNC_TOKEN), "{e}");
    let mut f = fake.state.lock().unwrap();
    f.read_only = false;
    f.has_issues = false;
    drop(f);
    assert!(err(&settings(&fake.url, SYNC_TOKEN)).contains("issues turned off"));
}

#[test]
fn an_idle_poll_costs_no_rate_limit_and_pull_requests_stay_out() {
    let fake = github_fake::start(Fake::new());
    let g = open(&settings(&fake.url, SYNC_TOKEN));
    let mut cursor = g.start_cursor("example/support").unwrap();
    let person = open(&settings(&fake.url, ALICE_TOKEN));
    let a = person.create_issue("example/support", &fields("Login fails"), Actor::person("alice")).unwrap();
    // A pull request, which the issues list carries too.
    fake.state.lock().unwrap().issues.push(github_fake::Issue {
        number: 99,
        title: "Fix login".into(),
        state: "open".into(),
        user: 1,
        created: postern::store::now_ms(),
        updated: postern::store::now_ms(),
        pull_request: true,
        ..Default::default()
    });
    let page = g.changes_since("example/support", &cursor, 100).unwrap();
    let keys: Vec<&str> = page.changes.iter().map(|c| c.issue_key.as_str()).collect();
    assert_eq!(keys, [a.as_str()], "{page:?}");
    assert_eq!(page.changes[0].kind, ChangeKind::IssueCreated);
    g.collected(&page.next).unwrap();
    cursor = page.next;
    assert_eq!(g.issue("99").unwrap(), None, "a pull request is no issue");
    // Idle: the same two lists, answered 304, which use no rate limit.
    let (calls, _, left) = g.calls();
    for _ in 0..5 {
        let page = g.changes_since("example/support", &cursor, 100).unwrap();
        assert!(page.changes.is_empty(), "{page:?}");
        cursor = page.next;
    }
    let (calls_after, not_modified, left_after) = g.calls();
    assert_eq!(calls_after - calls, 10, "two lists per poll");
    assert!(not_modified >= 10, "every idle read was conditional: {not_modified}");
    assert_eq!(left_after, left, "no rate limit used while idle");
}

#[test]
fn a_secondary_limit_is_waited_out_as_told() {
    let fake = github_fake::start(Fake::new());
    let g = open(&settings(&fake.url, SYNC_TOKEN));
    g.check().unwrap();
    fake.state.lock().unwrap().limit_every = 3;
    let mut keys = Vec::new();
    for n in 0..4 {
        keys.push(g.create_issue("example/support", &fields(&format!("Issue {n}")), Actor::person("x")).unwrap());
    }
    assert_eq!(keys, ["1", "2", "3", "4"], "each made once");
    let f = fake.state.lock().unwrap();
    assert!(f.limited >= 1, "the fake limited");
    assert_eq!(f.issues.len(), 4);
    drop(f);
    assert!(g.take_throttled() >= 1);
}

#[test]
fn an_app_signs_in_with_its_key_and_writes_as_its_bot() {
    let fake = github_fake::start(Fake::new());
    let mut s = settings(&fake.url, SYNC_TOKEN);
    s.auth = GitHubAuth::App { app_id: github_fake::APP_ID.into(), key: Password::File(github_fake::APP_KEY.into()) };
    let g = open(&s);
    let found = g.check().unwrap();
    assert!(found.contains("sync user postern-app[bot]"), "{found}");
    let key = g.create_issue("example/support", &fields("From the App"), Actor::person("x")).unwrap();
    let f = fake.state.lock().unwrap();
    assert_eq!(f.logins[f.issues[0].user], "postern-app[bot]");
    assert_eq!(f.app_tokens, 1, "one installation token, reused until it nears its end");
    drop(f);
    // The App's own issue is no news; a person's comment on it is.
    let cursor = g.start_cursor("example/support").unwrap();
    let person = open(&settings(&fake.url, ALICE_TOKEN));
    person.add_comment(&key, "Seen here too", None, Actor::person("alice")).unwrap();
    let page = g.changes_since("example/support", &cursor, 100).unwrap();
    assert!(
        matches!(&page.changes[..], [c] if matches!(&c.kind, ChangeKind::CommentAdded { body, .. } if body == "Seen here too")),
        "{page:?}"
    );
    // A token near its end (GitHub's last an hour) is renewed before it
    // is used: here each lives 4 minutes, inside the 5 postern keeps.
    fake.state.lock().unwrap().app_token_secs = 240;
    let renewing = open(&s);
    renewing.issue(&key).unwrap().expect("read as the App");
    let made = fake.state.lock().unwrap().app_tokens;
    renewing.issue(&key).unwrap().expect("read again");
    assert!(fake.state.lock().unwrap().app_tokens > made, "renewed before it expired");
    let mut bad = s.clone();
    bad.auth = GitHubAuth::App { app_id: "4243".into(), key: Password::File(github_fake::APP_KEY.into()) };
    let e = open(&bad).check().unwrap_err().to_string();
    assert!(e.contains("App 4243") && e.contains("id and private key"), "{e}");
}

#[test]
fn a_status_reason_and_a_table_of_names_cross_both_ways() {
    let fake = github_fake::start(Fake::new());
    let mut s = settings(&fake.url, SYNC_TOKEN);
    s.statuses =
        [("Done".to_string(), "Closed".to_string()), ("Won't fix".to_string(), "Not planned".to_string())].into();
    let g = open(&s);
    let made = IssueFields { status: "Won't fix".into(), ..fields("Not for us") };
    let key = g.create_issue("example/support", &made, Actor::person("x")).unwrap();
    let f = fake.state.lock().unwrap();
    assert_eq!((f.issues[0].state.as_str(), f.issues[0].state_reason.as_deref()), ("closed", Some("not_planned")));
    drop(f);
    assert_eq!(g.issue(&key).unwrap().unwrap().fields.status, "Won't fix", "read back in the partner's name");
    g.update_issue(&key, &FieldChanges { status: Some("Open".into()), ..Default::default() }, Actor::person("x"))
        .unwrap();
    let f = fake.state.lock().unwrap();
    assert_eq!((f.issues[0].state.as_str(), f.issues[0].state_reason.as_deref()), ("open", Some("reopened")));
    drop(f);
    // A partner's issue without a status is made open.
    let none = IssueFields { status: String::new(), ..fields("No status") };
    let key2 = g.create_issue("example/support", &none, Actor::person("x")).unwrap();
    assert_eq!(g.issue(&key2).unwrap().unwrap().fields.status, "Open");
    let bad = FieldChanges { status: Some("Resolved".into()), ..Default::default() };
    match g.update_issue(&key, &bad, Actor::person("x")) {
        Err(TrackerError::Refused(r)) => assert!(r.to_string().contains("Not planned"), "{r}"),
        other => panic!("{other:?}"),
    }
}
