//! The Jira backend against the fake Jira of `common::jira_fake` (no Jira
//! can run here): what it checks before a sync is saved, in both flavours,
//! with the failures an admin meets.

#[path = "common/jira_fake.rs"]
mod jira_fake;

use jira_fake::Fake;
use postern::tracker::jira::{Flavour, Jira, JiraAuth, JiraSettings};
use postern::tracker::TrackerError;
use postern::transport::mail::Password;

fn settings(url: &str, flavour: Flavour, auth: JiraAuth) -> JiraSettings {
    JiraSettings {
        url: url.into(),
        project: "SUP".into(),
        flavour,
        auth,
        ca_file: None,
        statuses: Default::default(),
        priorities: Default::default(),
        rescan_secs: 3600,
    }
}

fn cloud_auth(token: &str) -> JiraAuth {
    JiraAuth::Basic { user: "sync@example.com".into(), secret: Password::Value(token.into()) }
}

/// `Basic base64(sync@example.com:t0ken)`.
const CLOUD_HEADER: &str = "Basic c3luY0BleGFtcGxlLmNvbTp0MGtlbg==";

#[test]
fn the_check_names_the_flavour_project_and_user_of_a_good_setup() {
    let cloud = jira_fake::start(Fake::new(true, CLOUD_HEADER, "SUP"));
    let j = Jira::open(&settings(&cloud.url, Flavour::Cloud, cloud_auth("t0ken"))).unwrap();
    assert_eq!(j.detect_flavour().unwrap(), Flavour::Cloud);
    let said = j.check().unwrap();
    assert!(said.contains("(Cloud, REST v3): project SUP (id 10000), sync user Sync User"), "{said}");
    assert!(said.contains("time zone Europe/Berlin") && said.contains("2 issue types"), "{said}");

    let dc = jira_fake::start(Fake::new(false, "Bearer p4t", "SUP"));
    let auth = JiraAuth::Bearer { token: Password::Value("p4t".into()) };
    let j = Jira::open(&settings(&dc.url, Flavour::DataCenter, auth)).unwrap();
    assert_eq!(j.detect_flavour().unwrap(), Flavour::DataCenter);
    let said = j.check().unwrap();
    assert!(said.contains("(Data Center, REST v2): project SUP (id 10000), sync user sync-user"), "{said}");
}

#[test]
fn each_failure_of_the_check_says_what_to_do_and_never_shows_the_secret() {
    let fake = jira_fake::start(Fake::new(true, CLOUD_HEADER, "SUP"));
    // A wrong token: "later" (it may be rotated), naming what to check.
    let j = Jira::open(&settings(&fake.url, Flavour::Cloud, cloud_auth("wrong-secret"))).unwrap();
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
    let why = Jira::open(&s).unwrap().check().unwrap_err().to_string();
    assert!(why.contains("project NOPE does not exist in Jira") && why.contains("cannot browse it"), "{why}");
    // Missing permissions, each with what it is for.
    fake.state.lock().unwrap().lacking = vec!["TRANSITION_ISSUES".into(), "WORK_ON_ISSUES".into()];
    let why = Jira::open(&settings(&fake.url, Flavour::Cloud, cloud_auth("t0ken"))).unwrap().check().unwrap_err();
    let why = why.to_string();
    assert!(why.contains("TRANSITION_ISSUES (to change an issue's status), WORK_ON_ISSUES (to log work)"), "{why}");
    // Nothing listens: unavailable, the address named.
    let j = Jira::open(&settings("http://127.0.0.1:9", Flavour::Cloud, cloud_auth("t0ken"))).unwrap();
    assert!(matches!(j.check(), Err(TrackerError::Unavailable { .. })));
    assert!(Jira::open(&settings("ftp://jira", Flavour::Cloud, cloud_auth("t0ken"))).is_err());
}

#[test]
fn throttling_is_a_wait_as_told_not_an_error() {
    let mut fake = Fake::new(true, CLOUD_HEADER, "SUP");
    fake.throttle_every = 3;
    let fake = jira_fake::start(fake);
    let j = Jira::open(&settings(&fake.url, Flavour::Cloud, cloud_auth("t0ken"))).unwrap();
    match j.check() {
        Err(TrackerError::Unavailable { reason, retry_after: Some(wait) }) => {
            assert!(reason.contains("throttles the sync user (429)"), "{reason}");
            assert!(wait >= std::time::Duration::from_secs(1) && wait < std::time::Duration::from_secs(2), "{wait:?}");
        }
        other => panic!("expected a wait: {other:?}"),
    }
    assert_eq!(fake.state.lock().unwrap().throttled, 1);
}
