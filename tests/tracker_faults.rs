//! Remote trackers under the faults real servers make, through a
//! fault-injecting proxy (`common/fault_proxy.rs`): a write whose answer
//! is lost after the server acted, answers cut short, 503s. After the
//! faults stop, every issue, comment and worklog is there exactly once on
//! each side, nothing came back to where it was made, and both trackers
//! hold the same. Here against the fake Jira and the fake GitHub (`cargo
//! test`; the fake Redmine's are in `redmine_fake.rs`); the integration
//! script runs the real Redmine ones.

mod common;
#[path = "common/github_fake/mod.rs"]
mod github_fake;
#[path = "common/jira_fake/mod.rs"]
mod jira_fake;

use common::fault_proxy::{self, Fault};
use common::faults::{churn, drain, redmine_customer_gets_everything_once, verified_equal};
use common::*;
use jira_fake::Fake;
use postern::tracker::Writes;

/// An embedded vendor and a Jira Cloud customer whose Jira is at `url`,
/// paired (vera's worklogs logged for Alice).
fn paired(url: &str) -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let token = s.home().join("jira-token");
    std::fs::write(&token, "t0ken\n").unwrap();
    let mapping = s.home().join("mapping.toml");
    std::fs::write(&mapping, "[users.table]\nvera = \"Alice Admin\"\n").unwrap();
    let accept = [
        "--tracker",
        "jira",
        "--jira-url",
        url,
        "--jira-user",
        "sync@example.com",
        "--jira-token-file",
        token.to_str().unwrap(),
        "--status-map",
        "Open=To Do",
        // An answer held longer than this is one the proxy made slow.
        "--jira-timeout-secs",
        "1",
        "--mapping",
        mapping.to_str().unwrap(),
    ];
    pair_with(&m, &s, "acme", "SAM2", "SUP", &[], &accept);
    settle(&m, &s, "acme");
    (m, s)
}

#[test]
fn a_jira_customer_behind_lost_and_cut_answers_gets_everything_once_tracker_faults() {
    // Each seed is another sequence of faults (repeatable).
    for seed in [7, 2, 9] {
        jira_under_faults(seed);
    }
}

fn jira_under_faults(seed: u64) {
    if std::env::var_os("POSTERN_TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_env_filter("postern=debug").with_writer(std::io::stderr).try_init();
    }
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let proxy = fault_proxy::start(fake.url.trim_start_matches("http://"), seed);
    let (m, s) = paired(&proxy.url);

    {
        let mut plan = proxy.plan.lock().unwrap();
        plan.writes_pct = 45;
        plan.reads_pct = 15;
        plan.slow_ms = 1200;
    }
    let issues = 6;
    let files = tempfile::tempdir().unwrap();
    for n in 1..=issues {
        let key = format!("SAM2-{n}");
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("Fault {n}")]);
        m.ok(&["comment", "add", &key, "--body", &format!("first note {n}"), "--as", "vera"]);
        m.ok(&["worklog", "add", &key, "--minutes", &format!("{}", 10 * n), "--on", "2026-11-20", "--as", "vera"]);
        m.ok(&["worklog", "add", &key, "--minutes", "5", "--on", "2026-11-21", "--as", "vera"]);
        m.ok(&["comment", "add", &key, "--body", &format!("second note {n}"), "--as", "vera"]);
        let file = files.path().join(format!("trace-{n}.log"));
        std::fs::write(&file, format!("trace {n}\n").repeat(100 * n)).unwrap();
        m.ok(&["attachment", "add", &key, file.to_str().unwrap(), "--as", "vera"]);
    }
    churn(&m, &s, 20);
    for _ in 0..20 {
        if fake.state.lock().unwrap().issues.len() >= 2 {
            break;
        }
        churn(&m, &s, 5);
    }
    // Meanwhile a person works on the issues that arrived in Jira (past
    // the proxy: her answers are not the sync's faults).
    let arrived: Vec<String> = fake.state.lock().unwrap().issues.iter().map(|i| i.key.clone()).collect();
    assert!(arrived.len() >= 2, "issues arrived in Jira under the faults");
    let alice = postern::tracker::jira::Jira::open(
        &jira_fake::settings(
            &fake.url,
            postern::tracker::jira::Flavour::Cloud,
            postern::tracker::jira::JiraAuth::Basic {
                user: "alice@example.com".into(),
                secret: postern::transport::mail::Password::Value("al1ce".into()),
            },
        ),
        files.path(),
        "alice",
    )
    .unwrap();
    for key in arrived.iter().take(2) {
        let person = postern::tracker::Actor::person("alice");
        alice.add_comment(key, "Alice's note meanwhile", None, person).unwrap();
        let edit =
            postern::protocol::FieldChanges { summary: Some(format!("{key} retitled by Alice")), ..Default::default() };
        alice.update_issue(key, &edit, person).unwrap();
    }
    churn(&m, &s, 20);
    proxy.plan.lock().unwrap().writes_pct = 0;
    proxy.plan.lock().unwrap().reads_pct = 0;
    let said = proxy.plan.lock().unwrap().said();
    eprintln!("seed {seed}, faults made: {said}; the fake answered {} calls", fake.state.lock().unwrap().calls);
    // Without faults the queue drains and the errors they caused clear.
    s.ok(&["errors", "retry", "acme", "--all"]);
    drain(&m, &s);

    let counts = proxy.plan.lock().unwrap().counts.clone();
    for kind in [Fault::AnswerLost, Fault::Truncated, Fault::Unavailable, Fault::Throttled, Fault::Slow] {
        assert!(counts.get(&kind).copied().unwrap_or(0) > 0, "no {kind:?} was made: {said}");
    }
    let retitled = |key: &str| arrived.iter().take(2).any(|k| k == key);
    let f = fake.state.lock().unwrap();
    assert_eq!(f.issues.len(), issues, "each issue once in Jira ({said})");
    for i in &f.issues {
        let extra = usize::from(retitled(&i.key));
        assert_eq!(i.comments.len(), 2 + extra, "{}: each comment once ({said})", i.key);
        assert_eq!(i.worklogs.len(), 2, "{}: each worklog once ({said})", i.key);
        assert_eq!(i.attachments.len(), 1, "{}: each attachment once ({said})", i.key);
    }
    let mut summaries: Vec<String> =
        f.issues.iter().map(|i| i.fields["summary"].as_str().unwrap().to_string()).collect();
    drop(f);
    summaries.retain(|t| !t.ends_with("retitled by Alice"));
    summaries.sort();
    let want: Vec<String> = (1..=issues).map(|n| format!("Fault {n}")).filter(|t| summaries.contains(t)).collect();
    assert_eq!((summaries.len(), &summaries), (issues - 2, &want), "({said})");
    let mut alices = 0;
    for n in 1..=issues {
        let issue = m.issue(&format!("SAM2-{n}"));
        let comments = issue["comments"].as_array().unwrap();
        let by_alice = comments.iter().filter(|c| c["body"] == "Alice's note meanwhile").count();
        alices += by_alice;
        assert_eq!(comments.len(), 2 + by_alice, "SAM2-{n}: no comment came back ({said})");
        assert_eq!(issue["attachments"].as_array().unwrap().len(), 1, "SAM2-{n}: no attachment came back ({said})");
        let logged = m.ok(&["issue", "show", &format!("SAM2-{n}")]);
        assert_eq!(logged.matches("worklog ").count(), 2, "SAM2-{n}: no worklog came back ({said}):\n{logged}");
    }
    assert_eq!(alices, 2, "Alice's notes reached the vendor once each ({said})");
    let retitled_here =
        m.issues("SAM2").iter().filter(|i| i["summary"].as_str().unwrap().ends_with("retitled by Alice")).count();
    assert_eq!(retitled_here, 2, "Alice's titles reached the vendor ({said})");
    assert_eq!(s.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]), "nothing left parked");
    verified_equal(&m, &s);
}

#[test]
fn a_refused_upload_blocks_its_issue_not_the_sync_tracker_faults() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let proxy = fault_proxy::start(fake.url.trim_start_matches("http://"), 1);
    let (m, s) = paired(&proxy.url);
    // A filter before Jira refuses uploads with a status Jira itself does
    // not use for them.
    proxy.plan.lock().unwrap().refuse = Some(("/attachments".into(), 422));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "With a file"]);
    let file = m.home().join("big.log");
    std::fs::write(&file, b"not for the filter\n").unwrap();
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap(), "--as", "vera"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Without"]);
    m.ok(&["comment", "add", "SAM2-2", "--body", "goes through", "--as", "vera"]);
    churn(&m, &s, 4);
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(errors.contains("[SAM2-1]") && errors.contains("refused POST") && errors.contains("(422)"), "{errors}");
    assert!(!errors.contains("[SAM2-2]"), "{errors}");
    let f = fake.state.lock().unwrap();
    let without = f.issues.iter().find(|i| i.fields["summary"] == "Without").expect("the other issue crossed");
    assert_eq!(without.comments.len(), 1);
    drop(f);
    let st = s.status();
    assert_eq!(st["failing"], serde_json::json!([]), "the sync itself is not failing: {st}");
}

#[test]
fn a_status_refused_after_the_issue_was_made_leaves_no_orphan_and_a_retry_no_copy_tracker_faults() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let (m, s) = paired(&fake.url);
    // The workflow has no way to Done for the sync user, yet.
    fake.state.lock().unwrap().no_transition_to = vec!["Done".into()];
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Closed at once", "--status", "Done"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "why it is closed", "--as", "vera"]);
    m.ok(&["worklog", "add", "SAM2-1", "--minutes", "30", "--on", "2026-11-20", "--as", "vera"]);
    churn(&m, &s, 3);
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(errors.contains("[SAM2-1]") && errors.contains("local SUP-1"), "paired, and listed: {errors}");
    assert_eq!(fake.state.lock().unwrap().issues.len(), 1, "the issue Jira made is the one kept");
    // The admin fixes the workflow and retries: the same issue is brought
    // up to date, with its comment and worklog, once.
    fake.state.lock().unwrap().no_transition_to.clear();
    s.ok(&["errors", "retry", "acme", "--all"]);
    churn(&m, &s, 3);
    assert_eq!(s.ok(&["errors", "list", "acme"]), "no errors in sync 'acme'");
    let f = fake.state.lock().unwrap();
    assert_eq!(f.issues.len(), 1, "no second copy");
    let i = &f.issues[0];
    assert_eq!(i.fields["status"], "Done", "{:?}", i.fields);
    assert_eq!((i.comments.len(), i.worklogs.len()), (1, 1));
    drop(f);
    // Nothing came back to the vendor.
    assert_eq!(m.issues("SAM2").len(), 1);
    assert_eq!(m.issue("SAM2-1")["comments"].as_array().unwrap().len(), 1);
}

/// An embedded vendor paired with a fresh project of the real Redmine,
/// reached through a fault proxy (no faults yet) seeded with `seed`.
fn behind_a_proxy(
    prefix: &str,
    seed: u64,
) -> (common::redmine::Server, String, fault_proxy::Proxy, TestPeer, TestPeer) {
    let server = common::redmine::server();
    let project = server.new_project(prefix);
    let proxy = fault_proxy::start(server.url().trim_start_matches("http://"), seed);
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let mut accept = server.mapped_flags();
    let at = accept.iter().position(|f| f == "--redmine-url").unwrap() + 1;
    accept[at] = proxy.url.clone();
    let accept: Vec<&str> = accept.iter().map(String::as_str).collect();
    pair_with(&m, &s, "acme", "SAM2", &project, &[], &accept);
    (server, project, proxy, m, s)
}

/// The same faults in front of a real Redmine (the integration script
/// starts one): every issue and comment there once, nothing sent back.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn a_redmine_behind_lost_and_cut_answers_gets_everything_once_tracker_faults() {
    let (server, project, proxy, m, s) = behind_a_proxy("faults", 5);
    // A write with no answer waits this long before it is made again.
    s.ok(&["sync", "edit", "acme", "--redmine-timeout-secs", "3"]);
    settle(&m, &s, "acme");
    {
        let mut plan = proxy.plan.lock().unwrap();
        plan.writes_pct = 40;
        plan.reads_pct = 10;
    }
    let home = tempfile::tempdir().unwrap();
    let alice = postern::tracker::redmine::Redmine::open(&server.settings(&project, "ALICE"), home.path(), "alice");
    let said = redmine_customer_gets_everything_once((&m, &s), &proxy, &alice.unwrap(), (&project, 5));
    eprintln!("faults made: {said}");
}

/// An issue a person updates while postern reads the pages of what moved
/// goes to the end of Redmine's order. The issue that slid onto the page
/// already read is listed all the same: the cursor never passes a change
/// it has not listed (new issues, which no rescan would find, all cross).
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn an_issue_moved_while_redmine_is_listed_does_not_hide_another_tracker_faults() {
    let (server, project, proxy, m, s) = behind_a_proxy("pages", 1);
    for p in [&m, &s] {
        p.ok(&["sync", "edit", "acme", "--mass-change-threshold", "0"]);
    }
    settle(&m, &s, "acme");
    let mut ids = Vec::new();
    for n in 1..=120 {
        let body = serde_json::json!({"issue": {"project_id": project, "subject": format!("person's {n}")}});
        ids.push(server.alice("POST", "/issues.json", &body.to_string())["issue"]["id"].as_u64().unwrap());
    }
    // Before the second page is read, the first issue listed moves (a
    // person's note, seconds after the issues were made).
    let (url, first) = (server.url().to_string(), ids[0]);
    let alice = server.get("REDMINE_ALICE_KEY").to_string();
    proxy.plan.lock().unwrap().before = Some(fault_proxy::Hook {
        matches: "GET /issues.json?project_id".into(),
        nth: 2,
        run: Box::new(move || {
            // Later than the seconds the cursor reads again.
            std::thread::sleep(std::time::Duration::from_secs(5));
            let out = std::process::Command::new("curl")
                .args(["-sf", "-X", "PUT", "-H", "Content-Type: application/json", "-H"])
                .arg(format!("X-Redmine-API-Key: {alice}"))
                .args(["-d", r#"{"issue": {"notes": "moved meanwhile"}}"#])
                .arg(format!("{url}/issues/{first}.json"))
                .status()
                .unwrap();
            assert!(out.success());
        }),
    });
    settle(&m, &s, "acme");
    assert!(proxy.plan.lock().unwrap().before.is_none(), "the second page was read");
    let mut got: Vec<String> = m.issues("SAM2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    got.sort();
    let mut want: Vec<String> = (1..=120).map(|n| format!("person's {n}")).collect();
    want.sort();
    assert_eq!(got, want, "every new issue crossed: {}", s.ok(&["status"]));
    verified_equal(&m, &s);
}

/// An issue made while postern reads another it listed, and that other
/// updated again seconds later: the read's newer time does not move the
/// cursor past the issue made meanwhile (never listed, no rescan finds it).
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn an_issue_made_while_another_is_read_is_listed_next_time_tracker_faults() {
    let (server, project, proxy, m, s) = behind_a_proxy("reread", 1);
    let body = serde_json::json!({"issue": {"project_id": project, "subject": "read again"}});
    let read = server.alice("POST", "/issues.json", &body.to_string())["issue"]["id"].as_u64().unwrap();
    settle(&m, &s, "acme");
    server.alice("PUT", &format!("/issues/{read}.json"), r#"{"issue": {"notes": "listed"}}"#);
    let (url, project_name) = (server.url().to_string(), project.clone());
    let alice = server.get("REDMINE_ALICE_KEY").to_string();
    proxy.plan.lock().unwrap().before = Some(fault_proxy::Hook {
        matches: format!("GET /issues/{read}.json"),
        nth: 1,
        run: Box::new(move || {
            let curl = |method: &str, path: &str, body: String| {
                let ok = std::process::Command::new("curl")
                    .args(["-sf", "-o", "/dev/null", "-X", method, "-H", "Content-Type: application/json", "-H"])
                    .arg(format!("X-Redmine-API-Key: {alice}"))
                    .args(["-d", &body])
                    .arg(format!("{url}{path}"))
                    .status()
                    .unwrap();
                assert!(ok.success());
            };
            let made = serde_json::json!({"issue": {"project_id": project_name, "subject": "made meanwhile"}});
            curl("POST", "/issues.json", made.to_string());
            std::thread::sleep(std::time::Duration::from_secs(5));
            curl("PUT", &format!("/issues/{read}.json"), r#"{"issue": {"notes": "again"}}"#.into());
        }),
    });
    settle(&m, &s, "acme");
    assert!(proxy.plan.lock().unwrap().before.is_none(), "the issue was read");
    let mut got: Vec<String> = m.issues("SAM2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    got.sort();
    assert_eq!(got, ["made meanwhile", "read again"], "{}", s.ok(&["status"]));
    let notes = m.issue("SAM2-1")["comments"].as_array().unwrap().len();
    assert_eq!(notes, 2, "both notes crossed");
    verified_equal(&m, &s);
}

/// A creation that never reached Redmine (a 503 from a proxy in front of
/// it) is looked for on the retry: an older issue of the same summary,
/// already paired by an earlier message, is not taken for it.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn a_write_that_never_reached_redmine_is_not_taken_for_an_older_twin_tracker_faults() {
    let (server, project, proxy, m, s) = behind_a_proxy("twins", 1);
    s.ok(&["sync", "edit", "acme", "--redmine-timeout-secs", "3"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Same title"]);
    settle(&m, &s, "acme");
    assert_eq!(server.issues(&project).len(), 1);
    proxy.plan.lock().unwrap().refuse = Some(("POST /issues.json".into(), 503));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Same title"]);
    churn(&m, &s, 4);
    assert!(proxy.plan.lock().unwrap().counts.get(&Fault::Refused).copied().unwrap_or(0) > 0, "the write was cut");
    proxy.plan.lock().unwrap().refuse = None;
    drain(&m, &s);
    let made = server.issues(&project);
    assert_eq!(made.len(), 2, "the second issue was made, not taken for the first: {made:?}");
    let export = m.json(&["sync", "export", "acme"]);
    let remote: std::collections::BTreeSet<&str> =
        export["firstConnector"].as_array().unwrap().iter().map(|p| p["remoteIssueKey"].as_str().unwrap()).collect();
    assert_eq!(remote.len(), 2, "each paired with its own: {export}");
}

/// A tracker that makes an issue after postern stopped waiting for the
/// answer, later than postern's first look for it, has it once: postern
/// looks again and waits one answer's time before writing it a second
/// time, and `status` says what it waits for meanwhile. (Written again at
/// the first look, Jira would end with two copies, one of them unpaired
/// and, being the sync user's, never sent: a silent difference.)
#[test]
fn an_issue_jira_makes_after_postern_gave_up_on_it_is_there_once_tracker_faults() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let proxy = fault_proxy::start(fake.url.trim_start_matches("http://"), 3);
    let (m, s) = paired(&proxy.url);
    // Held 1.6 s: postern gives up after 1 s, Jira makes it 0.6 s later.
    proxy.plan.lock().unwrap().late = Some(("POST /rest/api/3/issue".into(), 1600));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Made late"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "a note after it", "--as", "vera"]);
    let (mut pm, mut ps) = (m.peer(), s.peer());
    let _ = pm.cycle();
    carry(&m, &s, "acme");
    let sent = std::time::Instant::now();
    assert!(ps.cycle().is_err(), "no answer in time");
    // Looked for at once: not there yet, and not written again.
    let _ = ps.cycle();
    assert!(sent.elapsed().as_millis() < 1600, "looked before Jira made it");
    assert_eq!(fake.state.lock().unwrap().issues.len(), 0, "not written a second time");
    let failing = s.status()["failing"].to_string();
    assert!(failing.contains("got no answer") && failing.contains("Made late"), "{failing}");
    // Jira makes it; the next look finds it and goes on from there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        let (_, _) = (ps.cycle(), carry(&s, &m, "acme"));
        let done = fake.state.lock().unwrap().issues.first().is_some_and(|i| i.comments.len() == 1);
        if done && s.status()["failing"] == serde_json::json!([]) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(proxy.plan.lock().unwrap().counts.get(&Fault::Late), Some(&1), "the create was held");
    let f = fake.state.lock().unwrap();
    assert_eq!(f.issues.len(), 1, "once in Jira");
    assert_eq!(f.issues[0].comments.len(), 1, "its note once");
    drop(f);
    assert_eq!(s.status()["failing"], serde_json::json!([]), "nothing left failing");
    drop((pm, ps));
    settle(&m, &s, "acme");
    assert_eq!(m.issues("SAM2").len(), 1, "nothing came back");
    verified_equal(&m, &s);
}

/// A copy the tracker makes later still (after postern waited its time and
/// wrote the issue again) is not silent: the next poll finds an issue the
/// sync user made that no pairing holds, and `status` shows it as
/// diverged, with what to do, until it is gone.
#[test]
fn a_copy_jira_makes_even_later_shows_as_diverged_until_it_is_gone_tracker_faults() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let proxy = fault_proxy::start(fake.url.trim_start_matches("http://"), 4);
    let (m, s) = paired(&proxy.url);
    // Held 4 s: postern gives up after 1 s, waits 1 s more, looks, finds
    // nothing and writes it again; Jira makes the first one after that.
    proxy.plan.lock().unwrap().late = Some(("POST /rest/api/3/issue".into(), 4000));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Made twice"]);
    let (mut pm, mut ps) = (m.peer(), s.peer());
    let _ = pm.cycle();
    carry(&m, &s, "acme");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let copies = || fake.state.lock().unwrap().issues.len();
    while copies() < 2 {
        assert!(std::time::Instant::now() < deadline, "the late copy never landed");
        let _ = ps.cycle();
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let late = fake.state.lock().unwrap().issues[1].key.clone();
    // One poll later the copy is shown, by its key.
    let _ = ps.cycle();
    let st = s.status();
    let diverged = st["diverged"].as_array().unwrap();
    assert_eq!(diverged.len(), 1, "{st}");
    assert_eq!(diverged[0]["issue"], late.as_str(), "{st}");
    assert!(diverged[0]["what"].as_str().unwrap().contains("made by the sync user"), "{st}");
    let text = s.ok(&["status"]);
    assert!(text.contains("DIVERGED") && text.contains("1 is made by the sync user and paired with none"), "{text}");
    // A verify compares pairs: it leaves what it cannot see.
    drop((pm, ps));
    verified_equal(&m, &s);
    assert_eq!(s.status()["diverged"].as_array().unwrap().len(), 1, "still shown after a verify");
    // The admin deletes the copy in Jira: the next poll clears it.
    fake.state.lock().unwrap().issues.retain(|i| i.key != late);
    settle(&m, &s, "acme");
    assert_eq!(s.status()["diverged"], serde_json::json!([]), "gone with the copy");
    assert_eq!(m.issues("SAM2").len(), 1, "nothing came back");
}

/// An embedded vendor and a GitHub customer whose GitHub is at `url`,
/// paired, rescanning at every poll (a deleted comment is found at once).
fn paired_on_github(url: &str) -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let token = s.home().join("github-token");
    std::fs::write(&token, format!("{}\n", github_fake::SYNC_TOKEN)).unwrap();
    let accept = [
        "--tracker",
        "github",
        "--github-url",
        url,
        "--github-token-file",
        token.to_str().unwrap(),
        // An answer held longer than this is one the proxy made slow.
        "--github-timeout-secs",
        "1",
    ];
    pair_with(&m, &s, "acme", "SAM2", "example/support", &[], &accept);
    settle(&m, &s, "acme");
    (m, s)
}

#[test]
fn a_github_customer_behind_lost_and_cut_answers_gets_everything_once_tracker_faults() {
    for seed in [5, 11] {
        github_under_faults(seed);
    }
}

fn github_under_faults(seed: u64) {
    let fake = github_fake::start(github_fake::Fake::new());
    let proxy = fault_proxy::start(fake.url.trim_start_matches("http://"), seed);
    let (m, s) = paired_on_github(&proxy.url);
    {
        let mut plan = proxy.plan.lock().unwrap();
        plan.writes_pct = 45;
        plan.reads_pct = 15;
        plan.slow_ms = 1200;
    }
    let issues = 6;
    for n in 1..=issues {
        let key = format!("SAM2-{n}");
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("Fault {n}")]);
        m.ok(&["comment", "add", &key, "--body", &format!("first note {n}"), "--as", "vera"]);
        m.ok(&["comment", "add", &key, "--body", &format!("second note {n}"), "--as", "vera"]);
    }
    churn(&m, &s, 20);
    for _ in 0..20 {
        if fake.state.lock().unwrap().issues.len() >= 2 {
            break;
        }
        churn(&m, &s, 5);
    }
    // Meanwhile a person works on the issues that arrived in GitHub (past
    // the proxy: her answers are not the sync's faults).
    let arrived: Vec<String> = fake.state.lock().unwrap().issues.iter().map(|i| i.number.to_string()).collect();
    assert!(arrived.len() >= 2, "issues arrived in GitHub under the faults");
    let home = tempfile::tempdir().unwrap();
    let alice = postern::tracker::github::GitHub::open(
        &github_fake::settings(&fake.url, github_fake::ALICE_TOKEN),
        home.path(),
        "alice",
    )
    .unwrap();
    let person = postern::tracker::Actor::person("alice");
    for key in arrived.iter().take(2) {
        alice.add_comment(key, "Alice's note meanwhile", None, person).unwrap();
        let edit = postern::protocol::FieldChanges {
            summary: Some(format!("#{key} retitled by Alice")),
            ..Default::default()
        };
        alice.update_issue(key, &edit, person).unwrap();
    }
    churn(&m, &s, 20);
    proxy.plan.lock().unwrap().writes_pct = 0;
    proxy.plan.lock().unwrap().reads_pct = 0;
    let said = proxy.plan.lock().unwrap().said();
    eprintln!("seed {seed}, faults made: {said}; the fake answered {} calls", fake.state.lock().unwrap().calls);
    s.ok(&["errors", "retry", "acme", "--all"]);
    drain(&m, &s);

    let counts = proxy.plan.lock().unwrap().counts.clone();
    for kind in [Fault::AnswerLost, Fault::Truncated, Fault::Unavailable] {
        assert!(counts.get(&kind).copied().unwrap_or(0) > 0, "no {kind:?} was made: {said}");
    }
    let f = fake.state.lock().unwrap().clone();
    assert_eq!(f.issues.len(), issues, "each issue once in GitHub ({said})");
    for i in &f.issues {
        let extra = usize::from(arrived.iter().take(2).any(|k| *k == i.number.to_string()));
        let comments = f.comments.iter().filter(|c| c.issue == i.number).count();
        assert_eq!(comments, 2 + extra, "#{}: each comment once ({said})", i.number);
    }
    let mut alices = 0;
    for n in 1..=issues {
        let issue = m.issue(&format!("SAM2-{n}"));
        let comments = issue["comments"].as_array().unwrap();
        let by_alice = comments.iter().filter(|c| c["body"] == "Alice's note meanwhile").count();
        alices += by_alice;
        assert_eq!(comments.len(), 2 + by_alice, "SAM2-{n}: no comment came back ({said})");
    }
    assert_eq!(alices, 2, "Alice's notes reached the vendor once each ({said})");
    let retitled =
        m.issues("SAM2").iter().filter(|i| i["summary"].as_str().unwrap().ends_with("retitled by Alice")).count();
    assert_eq!(retitled, 2, "Alice's titles reached the vendor ({said})");
    assert_eq!(s.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]), "nothing left parked");
    verified_equal(&m, &s);
}
