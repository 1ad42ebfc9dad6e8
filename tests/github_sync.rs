//! Two peers through GitHub (the fake of `common/github_fake`: no GitHub
//! runs here): an embedded vendor and a customer on GitHub converge both
//! ways through the CLI's `--tracker github`, nothing echoes back, what
//! GitHub cannot hold (files, logged time) is listed on the issue and
//! blocks nothing, and a verify finds both sides equal.

mod common;
#[path = "common/github_fake/mod.rs"]
mod github_fake;

use common::*;
use github_fake::{Fake, Running, ALICE_TOKEN, SYNC_TOKEN};
use postern::protocol::FieldChanges;
use postern::tracker::github::GitHub;
use postern::tracker::{Actor, Reads, Writes};

/// `sync accept` flags for the fake GitHub, the token in a file of `s`'s home.
fn github_flags(fake: &Running, s: &TestPeer) -> Vec<String> {
    let token = s.home().join("github-token");
    std::fs::write(&token, format!("{SYNC_TOKEN}\n")).unwrap();
    ["--tracker", "github", "--github-url", &fake.url, "--github-token-file", token.to_str().unwrap()]
        .map(String::from)
        .into()
}

/// An embedded vendor (master) and a GitHub customer (slave), paired.
fn paired(fake: &Running) -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let accept = github_flags(fake, &s);
    let accept: Vec<&str> = accept.iter().map(String::as_str).collect();
    pair_with(&m, &s, "acme", "SAM2", "example/support", &[], &accept);
    settle(&m, &s, "acme");
    (m, s)
}

fn alice(fake: &Running) -> GitHub {
    GitHub::open(&github_fake::settings(&fake.url, ALICE_TOKEN), &tempfile::tempdir().unwrap().keep(), "alice").unwrap()
}

fn person() -> Actor<'static> {
    Actor::person("alice")
}

#[test]
fn an_embedded_vendor_and_a_github_customer_converge_both_ways() {
    let fake = github_fake::start(Fake::new());
    let (m, s) = paired(&fake);
    let status = s.ok(&["status", "--json"]);
    assert!(status.contains("\"kind\": \"github\"") && !status.contains(SYNC_TOKEN), "{status}");

    // Vendor → GitHub: fields, Markdown, a comment; a file and logged time
    // GitHub cannot hold.
    let text = "Steps:\n\n- open `app`\n- **twice**";
    m.ok(&[
        "issue",
        "create",
        "--project",
        "SAM2",
        "--summary",
        "Login fails",
        "--description",
        text,
        "--label",
        "sso",
    ]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "Reproduced on 4.2", "--as", "vera"]);
    let file = m.home().join("crash.log");
    std::fs::write(&file, b"stack trace\n").unwrap();
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap(), "--as", "vera"]);
    m.ok(&["worklog", "add", "SAM2-1", "--minutes", "45", "--on", "2026-12-01", "--as", "vera"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "After the file", "--as", "vera"]);
    settle(&m, &s, "acme");
    {
        let f = fake.state.lock().unwrap();
        assert_eq!(f.issues.len(), 1);
        let i = &f.issues[0];
        assert_eq!((i.title.as_str(), i.labels.clone()), ("Login fails", vec!["sso".to_string()]));
        assert_eq!(i.body.as_deref().map(|b| b.starts_with(text)), Some(true), "Markdown as it is: {:?}", i.body);
        let bodies: Vec<&str> = f.comments.iter().map(|c| c.body.as_str()).collect();
        assert_eq!(bodies.len(), 2, "both comments, the one after the file too: {bodies:?}");
        assert!(bodies[0].starts_with("**vera** (at the partner) wrote:\n\nReproduced on 4.2"), "{bodies:?}");
    }
    // Listed on the issue, not dropped; nothing blocked.
    let st = s.status_of("acme");
    assert_eq!(st["issues_blocked"], 0, "{}", s.ok(&["errors", "list", "acme"]));
    let crossed = st["attachments_not_crossed"].as_array().unwrap();
    assert!(
        crossed.len() == 1 && crossed[0]["reason"].as_str().unwrap().contains("GitHub issues hold no files"),
        "{st}"
    );
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(errors.contains("not carried") && errors.contains("logged time (45 min on 2026-12-01"), "{errors}");
    assert!(errors.contains("attachment crash.log (12 bytes)"), "{errors}");

    // GitHub → vendor: a person's comment, a label, the issue closed as
    // not planned.
    let gh = alice(&fake);
    gh.add_comment("1", "Seen here too", None, person()).unwrap();
    let change = FieldChanges {
        status: Some("Not planned".into()),
        labels: Some(vec!["customer".into(), "sso".into()]),
        ..Default::default()
    };
    gh.update_issue("1", &change, person()).unwrap();
    settle(&m, &s, "acme");
    let v = m.issue("SAM2-1");
    assert_eq!(v["status"], "Not planned", "{v}");
    assert_eq!(v["labels"], serde_json::json!(["customer", "sso"]), "{v}");
    let comments: Vec<&str> = v["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(comments, ["Reproduced on 4.2", "After the file", "Seen here too"]);
    assert_eq!(v["description"], text, "no echo changed the vendor's text");
    // No echo: settled, GitHub holds one issue, two comments of postern's
    // and alice's one.
    settle(&m, &s, "acme");
    assert_eq!(fake.state.lock().unwrap().comments.len(), 3);

    // Both trackers agree, as far as GitHub carries.
    verify_settled(&s, &m, &s);
}

#[test]
fn github_settings_change_from_the_cli_checked_first() {
    let fake = github_fake::start(Fake::new());
    let (_m, s) = paired(&fake);
    let moved = s.home().join("github-token-2");
    std::fs::write(&moved, SYNC_TOKEN).unwrap();
    let out = s.ok(&[
        "sync",
        "edit",
        "acme",
        "--github-token-file",
        moved.to_str().unwrap(),
        "--status-map",
        "Done=Closed",
        "--github-rescan-secs",
        "600",
    ]);
    assert!(out.contains("statuses   Done=Closed"), "{out}");
    let t = &s.status_of("acme")["tracker"];
    assert_eq!((t["rescan_secs"].as_u64(), t["statuses"]["Done"].as_str()), (Some(600), Some("Closed")), "{t}");
    let bad = s.home().join("github-token-3");
    std::fs::write(&bad, "ghp_wrongWRONG").unwrap();
    let err = s.fail(&["sync", "edit", "acme", "--github-token-file", bad.to_str().unwrap()]);
    assert!(err.contains("credentials were refused (401)") && !err.contains("ghp_wrong"), "{err}");
    assert!(s.fail(&["sync", "edit", "acme", "--jira-url", "http://x.test"]).contains("uses GitHub"));
    assert!(s.fail(&["sync", "edit", "acme", "--priority-map", "a=b"]).contains("no priority"));
    // A repository written wrong is refused before anything is asked.
    let m2 = TestPeer::new(MASTER_KEY, "SAM3");
    let created = m2.json(&["sync", "create", "--name", "b", "--project", "SAM3", "--sync-user", "x", "--json"]);
    let file = m2.home().join(created["handshake_file"].as_str().unwrap());
    let pass = created["passphrase"].as_str().unwrap();
    let flags = github_flags(&fake, &s);
    let base = [
        "sync",
        "accept",
        "--file",
        file.to_str().unwrap(),
        "--passphrase",
        pass,
        "--project",
        "support",
        "--sync-user",
        "x",
    ];
    let flags: Vec<&str> = base.iter().copied().chain(flags.iter().map(String::as_str)).chain(["--yes"]).collect();
    let err = s.fail(&flags);
    assert!(err.contains("owner/name"), "{err}");
}

#[path = "common/jira_fake/mod.rs"]
mod jira_fake;

/// Both sides remote: a vendor on GitHub and a customer on Jira Cloud,
/// each a fake, converge both ways from the CLI; what one cannot hold
/// (GitHub: priority) is left out, nothing echoes.
#[test]
fn a_github_vendor_and_a_jira_customer_converge_both_ways() {
    let (gh, jira) = (github_fake::start(Fake::new()), jira_fake::start(jira_fake::Fake::new(true, "SUP")));
    let (m, s) = (TestPeer::new(MASTER_KEY, "UNUSED"), TestPeer::new(SLAVE_KEY, "UNUSED2"));
    // The names differ: one table, on the Jira side, says how (the wire
    // carries GitHub's).
    let create = github_flags(&gh, &m);
    let create: Vec<&str> = create.iter().map(String::as_str).collect();
    let token = s.home().join("jira-token");
    std::fs::write(&token, "t0ken\n").unwrap();
    let accept = [
        "--tracker",
        "jira",
        "--jira-url",
        &jira.url,
        "--jira-user",
        "sync@example.com",
        "--jira-token-file",
        token.to_str().unwrap(),
        "--status-map",
        "Open=To Do,Closed=Done",
    ];
    pair_with(&m, &s, "acme", "example/support", "SUP", &create, &accept);
    settle(&m, &s, "acme");

    // GitHub → Jira.
    let vendor = alice(&gh);
    let made = postern::protocol::IssueFields {
        summary: "Export hangs".into(),
        description: "With **many** rows".into(),
        status: "Open".into(),
        labels: vec!["export".into()],
        ..Default::default()
    };
    let key = vendor.create_issue("example/support", &made, person()).unwrap();
    vendor.add_comment(&key, "Seen on 4.2", None, person()).unwrap();
    settle(&m, &s, "acme");
    let jira_user = jira_fake_as(&jira, "alice@example.com", "al1ce");
    let i = jira_user.issue("SUP-1").unwrap().unwrap_or_else(|| {
        panic!("the issue in Jira: {}\n{}", m.ok(&["errors", "list", "acme"]), s.ok(&["errors", "list", "acme"]))
    });
    assert_eq!((i.fields.summary.as_str(), i.fields.status.as_str()), ("Export hangs", "To Do"));
    assert_eq!(i.fields.labels, ["export"]);
    assert_eq!(i.comments.iter().map(|c| c.body.as_str()).collect::<Vec<_>>(), ["Seen on 4.2"]);

    // Jira → GitHub: a comment and the issue done.
    jira_user.add_comment("SUP-1", "Fixed in 4.3", None, person()).unwrap();
    let done = FieldChanges { status: Some("Done".into()), ..Default::default() };
    jira_user.update_issue("SUP-1", &done, person()).unwrap();
    settle(&m, &s, "acme");
    let home = tempfile::tempdir().unwrap();
    let as_sync = GitHub::open(&github_fake::settings(&gh.url, SYNC_TOKEN), home.path(), "read").unwrap();
    let back = as_sync.issue(&key).unwrap().unwrap();
    assert_eq!(back.fields.status, "Closed");
    let bodies: Vec<(&str, Option<&str>)> =
        back.comments.iter().map(|c| (c.body.as_str(), c.on_behalf_of.as_deref())).collect();
    assert_eq!(bodies, [("Seen on 4.2", None), ("Fixed in 4.3", Some("Alice Admin"))], "once each, nothing echoed");
    settle(&m, &s, "acme");
    assert_eq!(gh.state.lock().unwrap().comments.len(), 2);
    assert_eq!(jira.state.lock().unwrap().issues[0].comments.len(), 2);
    verify_settled(&m, &m, &s);
    // A table on the GitHub side too: each side now reads the statuses in
    // its own terms, and a verify compares them as they would arrive.
    m.ok(&["sync", "edit", "acme", "--status-map", "To Do=Open,Done=Closed"]);
    verify_settled(&m, &m, &s);
    verify_settled(&s, &m, &s);
}

fn jira_fake_as(fake: &jira_fake::Running, user: &str, token: &str) -> postern::tracker::jira::Jira {
    use postern::tracker::jira::{Flavour, Jira, JiraAuth};
    let auth = JiraAuth::Basic { user: user.into(), secret: postern::transport::mail::Password::Value(token.into()) };
    let home = tempfile::tempdir().unwrap().keep();
    Jira::open(&jira_fake::settings(&fake.url, Flavour::Cloud, auth), &home, "person").unwrap()
}
