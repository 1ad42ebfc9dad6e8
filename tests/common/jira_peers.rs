//! Peers around the fake Jira: an embedded vendor paired with a Jira
//! Cloud customer, and people working in that Jira.
#![allow(dead_code)] // not every test file uses every helper

use crate::common::*;
use crate::jira_fake::{self, Running};
use postern::tracker::jira::{Flavour, Jira, JiraAuth};
use postern::tracker::Actor;
use postern::transport::mail::Password;

/// An embedded vendor (master) and a Jira Cloud customer (slave), paired.
pub fn paired(fake: &Running) -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let accept = jira_flags(fake, &s, &["--status-map", "Open=To Do"]);
    let accept: Vec<&str> = accept.iter().map(String::as_str).collect();
    pair_with(&m, &s, "acme", "SAM2", "SUP", &[], &accept);
    settle(&m, &s, "acme");
    (m, s)
}

/// `sync accept` flags for the fake Jira, the sync user's token in a file
/// of `s`'s home, and `maps`.
pub fn jira_flags(fake: &Running, s: &TestPeer, maps: &[&str]) -> Vec<String> {
    let token = s.home().join("jira-token");
    std::fs::write(&token, "t0ken\n").unwrap();
    let flags = ["--tracker", "jira", "--jira-url", &fake.url, "--jira-user", "sync@example.com", "--jira-token-file"];
    let token = token.to_str().unwrap();
    flags.iter().chain(&[token]).chain(maps).map(|f| f.to_string()).collect()
}

/// Alice, working in the Jira.
pub fn alice(fake: &Running) -> Jira {
    signed_in(fake, "alice@example.com", "al1ce")
}

/// Jira as the sync user sees it (whose behalf its comments were written on).
pub fn as_sync_user(fake: &Running) -> Jira {
    signed_in(fake, "sync@example.com", "t0ken")
}

pub fn signed_in(fake: &Running, user: &str, token: &str) -> Jira {
    let flavour = if fake.state.lock().unwrap().cloud { Flavour::Cloud } else { Flavour::DataCenter };
    let auth = JiraAuth::Basic { user: user.into(), secret: Password::Value(token.into()) };
    Jira::open(&jira_fake::settings(&fake.url, flavour, auth), &tempfile::tempdir().unwrap().keep(), "alice").unwrap()
}

pub fn person() -> Actor<'static> {
    Actor::person("alice")
}
