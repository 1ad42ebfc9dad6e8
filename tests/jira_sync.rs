//! Two peers through a Jira (the fake of `common/jira_fake`: no Jira can
//! run here): an embedded vendor and a customer on Jira Cloud converge both
//! ways through the CLI's `--tracker jira`, nothing echoes back, a status no
//! transition reaches is that issue's error listing the transitions, a
//! storm of throttling (every third call 429) loses and doubles nothing,
//! and a `postern run` killed with SIGKILL while it writes into Jira
//! leaves every issue, comment and file there exactly once.

mod common;
#[path = "common/jira_fake/mod.rs"]
mod jira_fake;

#[path = "common/jira_peers.rs"]
mod jira_peers;

use common::*;
use jira_fake::Fake;
use jira_peers::*;
use postern::protocol::FieldChanges;
use postern::tracker::{Reads, Writes};

/// Data Center from the CLI: the vendor's text is Jira's wiki markup there,
/// escaped where markup would take effect, and a person's comment comes
/// back as the text it says.
#[test]
fn a_jira_data_center_customer_gets_wiki_markup_both_ways() {
    let fake = jira_fake::start(Fake::new(false, "SUP"));
    let (m, s) = paired(&fake);
    assert_eq!(s.status()["tracker"]["flavour"], "datacenter", "found from serverInfo");
    let rich = "Steps:\n\n- open `app`\n- 2 * 3 {x}";
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Wiki", "--description", rich]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "**Note**: a_b", "--as", "vera"]);
    settle(&m, &s, "acme");
    {
        let f = fake.state.lock().unwrap();
        let i = &f.issues[0];
        assert_eq!(i.fields["description"], "Steps:\n\n* open {{app}}\n* 2 * 3 &#123;x&#125;");
        assert_eq!(i.comments[0].body, "*Note*: a_b");
    }
    alice(&fake).add_comment("SUP-1", "Seen *here* too", None, person()).unwrap();
    settle(&m, &s, "acme");
    assert_eq!(fake.state.lock().unwrap().issues[0].comments[1].body, "Seen _here_ too", "wiki in Jira");
    let bodies = m.issue("SAM2-1")["comments"].clone();
    assert_eq!(bodies[1]["body"], "Seen *here* too", "{bodies}");
    assert_eq!(m.issue("SAM2-1")["description"], rich, "no echo changed the vendor's text");
}

#[test]
fn an_embedded_vendor_and_a_jira_customer_converge_both_ways() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let (m, s) = paired(&fake);
    let status = s.status();
    assert_eq!(status["tracker"]["kind"], "jira");
    assert_eq!(status["tracker"]["flavour"], "cloud", "found from serverInfo");
    assert!(!s.ok(&["status", "--json"]).contains("t0ken"), "the token is never shown");

    // Jira settings change from the CLI, checked against Jira first.
    let moved = s.home().join("jira-token-2");
    std::fs::write(&moved, "t0ken").unwrap();
    let out = s.ok(&[
        "sync",
        "edit",
        "acme",
        "--jira-token-file",
        moved.to_str().unwrap(),
        "--status-map",
        "Resolved=Done",
        "--jira-rescan-secs",
        "600",
        "--jira-timeout-secs",
        "90",
    ]);
    assert!(out.contains("statuses   Open=To Do, Resolved=Done"), "{out}");
    let t = &s.status()["tracker"];
    assert_eq!((t["rescan_secs"].as_u64(), t["statuses"]["Resolved"].as_str()), (Some(600), Some("Done")), "{t}");
    assert_eq!(t["timeout_secs"].as_u64(), Some(90), "{t}");
    std::fs::write(&moved, "wrong").unwrap();
    let bad = s.home().join("jira-token-3");
    std::fs::write(&bad, "wrong").unwrap();
    let err = s.fail(&["sync", "edit", "acme", "--jira-token-file", bad.to_str().unwrap()]);
    assert!(err.contains("credentials were refused (401)") && !err.contains("wrong"), "{err}");
    std::fs::write(&moved, "t0ken").unwrap();
    assert!(s.fail(&["sync", "edit", "acme", "--redmine-url", "http://x.test"]).contains("uses Jira"));

    // Vendor → Jira: fields, a two-line description, a comment, a file.
    m.ok(&[
        "issue",
        "create",
        "--project",
        "SAM2",
        "--summary",
        "Login fails",
        "--description",
        "one\ntwo",
        "--label",
        "sso",
    ]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "Reproduced on 4.2", "--as", "vera"]);
    let file = m.home().join("crash.log");
    std::fs::write(&file, b"stack trace\n").unwrap();
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap(), "--as", "vera"]);
    settle(&m, &s, "acme");
    let jira = alice(&fake);
    let i = as_sync_user(&fake).issue("SUP-1").unwrap().expect("the issue in Jira");
    assert_eq!((i.fields.summary.as_str(), i.fields.description.as_str()), ("Login fails", "one\ntwo"));
    assert_eq!((i.fields.status.as_str(), i.fields.labels.clone()), ("To Do", vec!["sso".to_string()]));
    assert_eq!(i.comments.len(), 1);
    assert_eq!(
        (i.comments[0].body.as_str(), i.comments[0].on_behalf_of.as_deref()),
        ("Reproduced on 4.2", Some("vera"))
    );
    assert_eq!(i.attachments.len(), 1);
    assert_eq!(jira.attachment("SUP-1", &i.attachments[0].id).unwrap().unwrap().data, b"stack trace\n");
    {
        let f = fake.state.lock().unwrap();
        let desc = &f.issues[0].fields["description"];
        assert_eq!(desc["type"], "doc", "Cloud gets Atlassian Document Format: {desc}");
    }

    // Formatting crosses as Jira's own: a list, code and a link.
    let rich = "Steps:\n\n- open `app`\n- see [the log](https://example.com/log)";
    m.ok(&["issue", "edit", "SAM2-1", "--description", rich]);
    settle(&m, &s, "acme");
    {
        let f = fake.state.lock().unwrap();
        let desc = &f.issues[0].fields["description"];
        assert_eq!(desc["content"][1]["type"], "bulletList", "{desc}");
        assert_eq!(desc["content"][1]["content"][1]["content"][0]["content"][1]["marks"][0]["type"], "link", "{desc}");
    }
    assert_eq!(as_sync_user(&fake).issue("SUP-1").unwrap().unwrap().fields.description, rich);

    // Jira → vendor: Alice comments and moves the issue on.
    jira.add_comment("SUP-1", "Customer sees it too", None, person()).unwrap();
    let moved =
        FieldChanges { status: Some("In Progress".into()), priority: Some("High".into()), ..Default::default() };
    jira.update_issue("SUP-1", &moved, person()).unwrap();
    settle(&m, &s, "acme");
    let v = m.issue("SAM2-1");
    assert_eq!((v["status"].as_str(), v["priority"].as_str()), (Some("In Progress"), Some("High")), "{v}");
    let comments = v["comments"].clone();
    assert_eq!(comments.as_array().unwrap().len(), 2, "{comments}");

    // Nothing echoes: a few more rounds change nothing on either side.
    let before = (fake.state.lock().unwrap().issues[0].comments.len(), comments);
    settle(&m, &s, "acme");
    let after = (fake.state.lock().unwrap().issues[0].comments.len(), m.issue("SAM2-1")["comments"].clone());
    assert_eq!(before, after);
    assert_eq!(fake.state.lock().unwrap().issues.len(), 1, "no issue made twice");
    assert_eq!(m.issues("SAM2").len(), 1);

    // A status no transition leads to: that issue's error, naming the
    // transitions there are; later changes of other issues go on.
    fake.state.lock().unwrap().no_transition_to = vec!["Done".into()];
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Done"]);
    settle(&m, &s, "acme");
    let errs = s.json(&["errors", "list", "acme", "--json"]);
    let reason = errs[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("no transition of SUP-1 leads from 'In Progress' to 'Done'"), "{errs}");
    assert!(reason.contains("Move to To Do → To Do"), "the transitions there are: {reason}");
    // The admin adds the transition to the workflow and retries.
    fake.state.lock().unwrap().no_transition_to.clear();
    s.ok(&["errors", "retry", "acme", "SAM2-1"]);
    assert_eq!(jira.issue("SUP-1").unwrap().unwrap().fields.status, "Done");
}

#[test]
fn a_throttling_storm_loses_and_doubles_nothing() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let (m, s) = paired(&fake);
    fake.state.lock().unwrap().throttle_every = 3;
    for n in 1..=2 {
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("Storm {n}")]);
        m.ok(&["comment", "add", &format!("SAM2-{n}"), "--body", &format!("note {n}")]);
    }
    let jira = alice(&fake);
    settle_until(&m, &s, "two issues with a comment each in Jira", || {
        let f = fake.state.lock().unwrap();
        f.issues.len() == 2 && f.issues.iter().all(|i| i.comments.len() == 1)
    });
    fake.state.lock().unwrap().throttle_every = 0;
    jira.add_comment("SUP-2", "answer from Jira", None, person()).unwrap();
    fake.state.lock().unwrap().throttle_every = 3;
    settle_until(&m, &s, "the answer at the vendor", || m.issue("SAM2-2")["comments"].as_array().unwrap().len() == 2);
    let f = fake.state.lock().unwrap();
    assert!(f.throttled > 3, "Jira throttled: {}", f.throttled);
    let summaries: Vec<String> = f.issues.iter().map(|i| i.fields["summary"].as_str().unwrap().to_string()).collect();
    assert_eq!(summaries, ["Storm 1", "Storm 2"], "each once");
    assert!(f.issues.iter().all(|i| i.comments.len() == 1 || i.key == "SUP-2"));
    drop(f);
    assert_eq!(m.issues("SAM2").len(), 2);
    assert_eq!(s.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]), "nothing parked");
    // status says Jira throttled (waited out: not a failure).
    let st = s.status_of("acme");
    let said = st["throttled"]["error"].as_str().unwrap_or_default();
    assert!(said.contains("asked") && said.contains("to slow down (429/503)"), "{st}");
    assert!(s.ok(&["status"]).contains("throttled       last"));
}

#[test]
fn a_jira_peer_killed_at_random_writes_everything_exactly_once() {
    use rand::Rng;
    const N: usize = 12;
    let mut fake = Fake::new(true, "SUP");
    // A Jira that takes its time: a message of N issues takes seconds.
    fake.delay_ms = 15;
    let fake = jira_fake::start(fake);
    let (m, s) = paired(&fake);
    // A write cut by a kill is looked for after this long, when Jira has
    // surely made it if it ever will.
    s.ok(&["sync", "edit", "acme", "--jira-timeout-secs", "2"]);
    m.crash_issues(N);
    m.cycle();
    assert!(carry(&m, &s, "acme") >= 1);
    let mut rng = rand::thread_rng();
    let mut mid_message = 0;
    // Issues, comments and files written so far (of 4 N).
    let written = || {
        let f = fake.state.lock().unwrap();
        f.issues.iter().map(|i| 1 + i.comments.len() + i.attachments.len()).sum::<usize>()
    };
    for _ in 0..8 {
        let before = written();
        let d = s.daemon(&["--interval", "0.2", "--tracker-interval", "0.5"]);
        // Killed once it has begun writing (a moment later, at random).
        let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while written() == before && before < 4 * N && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::thread::sleep(std::time::Duration::from_millis(rng.gen_range(0..300)));
        d.kill();
        let now = written();
        if now > 0 && now < 4 * N {
            mid_message += 1;
        }
        if now == 4 * N && s.outgoing("acme").len() > 1 {
            break;
        }
    }
    assert!(mid_message >= 1, "no kill landed while a message was being applied: the test proved nothing");
    fake.state.lock().unwrap().delay_ms = 0;
    settle_until(&m, &s, "every issue, comment and file written", || written() >= 4 * N);
    settle(&m, &s, "acme");
    let f = fake.state.lock().unwrap();
    assert_eq!(f.issues.len(), N, "each issue once");
    let mut summaries: Vec<&str> = f.issues.iter().map(|i| i.fields["summary"].as_str().unwrap()).collect();
    summaries.sort();
    summaries.dedup();
    assert_eq!(summaries.len(), N);
    for i in &f.issues {
        assert_eq!(i.comments.len(), 2, "each comment once: {}", i.key);
        assert_eq!(i.attachments.len(), 1, "each file once: {}", i.key);
    }
    drop(f);
    assert_eq!(m.issues("SAM2").len(), N, "nothing came back as an echo");
}

/// A Redmine vendor (real, `scripts/redmine.sh`) and a Jira customer (the
/// fake): each side's edits arrive on the other, through both name tables,
/// and nothing echoes.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn a_redmine_vendor_and_a_jira_customer_converge_both_ways() {
    let server = common::redmine::server();
    let project = server.new_project("rj");
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let (m, s) = (TestPeer::new(MASTER_KEY, "UNUSED"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let create = server.flags();
    let create: Vec<&str> = create.iter().map(String::as_str).collect();
    let maps = ["--status-map", "New=To Do,Closed=Done", "--priority-map", "Normal=Medium"];
    let accept = jira_flags(&fake, &s, &maps);
    let accept: Vec<&str> = accept.iter().map(String::as_str).collect();
    pair_with(&m, &s, "rj", &project, "SUP", &create, &accept);
    settle(&m, &s, "rj");

    // Redmine → Jira.
    let body =
        format!(r#"{{"issue":{{"project_id":"{project}","subject":"Printer on fire","description":"since noon"}}}}"#);
    let made = server.alice("POST", "/issues.json", &body);
    let rid = made["issue"]["id"].as_u64().unwrap();
    server.alice("PUT", &format!("/issues/{rid}.json"), r#"{"issue":{"notes":"smoke everywhere"}}"#);
    settle(&m, &s, "rj");
    let jira = as_sync_user(&fake);
    let i = jira.issue("SUP-1").unwrap().expect("in Jira");
    assert_eq!((i.fields.summary.as_str(), i.fields.description.as_str()), ("Printer on fire", "since noon"));
    // Redmine's New and Normal through the tables: Jira's own names.
    assert_eq!((i.fields.status.as_str(), i.fields.priority.as_str()), ("To Do", "Medium"));
    assert_eq!(i.comments.len(), 1);

    // Jira → Redmine.
    alice(&fake).add_comment("SUP-1", "Fire brigade called", None, person()).unwrap();
    let done = FieldChanges { status: Some("Done".into()), ..Default::default() };
    alice(&fake).update_issue("SUP-1", &done, person()).unwrap();
    settle(&m, &s, "rj");
    let r = &server.issues(&project)[0];
    assert_eq!(r["status"]["name"], "Closed");
    let notes = common::redmine::Server::notes(r);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[1].contains("Fire brigade called"), "{notes:?}");

    // No echo either way.
    settle(&m, &s, "rj");
    assert_eq!(server.issues(&project).len(), 1);
    assert_eq!(fake.state.lock().unwrap().issues.len(), 1);
    assert_eq!(fake.state.lock().unwrap().issues[0].comments.len(), 2);
}

/// A worklog logged and then edited while its issue waits behind an error
/// arrives edited once the error is retried: the worklog the sync user
/// logs on the retry is no "later edit" of Jira's own. A verify then finds
/// both sides equal.
fn worklog_edited_behind_an_error(cloud: bool) {
    let fake = jira_fake::start(Fake::new(cloud, "SUP"));
    let (m, s) = paired(&fake);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "waits", "--status", "Waiting"]);
    let user = if cloud { "Alice Admin" } else { "alice" };
    let id = m.ok(&["worklog", "add", "SAM2-1", "--minutes", "30", "--on", "2026-11-21", "--as", user]);
    // Each in its own message: the issue (refused there), the worklog,
    // and later its edit, all parked behind the error.
    settle(&m, &s, "acme");
    std::thread::sleep(std::time::Duration::from_millis(20));
    m.ok(&["worklog", "edit", "SAM2-1", &id, "--minutes", "77"]);
    settle(&m, &s, "acme");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let errs = s.json(&["errors", "list", "acme", "--json"]);
    assert_eq!(errs.as_array().map(Vec::len), Some(1), "{errs}");
    s.ok(&["sync", "edit", "acme", "--status-map", "Waiting=In Progress"]);
    s.ok(&["errors", "retry", "acme", "--all"]);
    settle(&m, &s, "acme");
    let i = as_sync_user(&fake).issue("SUP-1").unwrap().expect("the issue in Jira");
    let minutes: Vec<u32> = i.worklogs.iter().map(|w| w.minutes).collect();
    assert_eq!(minutes, [77], "the edit arrived");
    verify_settled(&s, &m, &s);
}

#[test]
fn a_worklog_edited_while_its_issue_waits_behind_an_error_arrives_edited_on_jira_cloud() {
    worklog_edited_behind_an_error(true);
}

#[test]
fn a_worklog_edited_while_its_issue_waits_behind_an_error_arrives_edited_on_jira_data_center() {
    worklog_edited_behind_an_error(false);
}

/// A person in Jira corrects a comment the sync user wrote there (the
/// vendor's, copied): the vendor's comment takes the correction, and
/// nothing comes back.
#[test]
fn a_person_editing_a_comment_the_sync_user_wrote_reaches_the_partner() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let (m, s) = paired(&fake);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "corrected there"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "the vendor's words", "--as", "vera"]);
    settle(&m, &s, "acme");
    let copy = as_sync_user(&fake).issue("SUP-1").unwrap().unwrap().comments[0].id.clone();
    alice(&fake).edit_comment("SUP-1", &copy, "the vendor's words, corrected by Alice", person()).unwrap();
    settle(&m, &s, "acme");
    let comments = m.issue("SAM2-1")["comments"].clone();
    assert_eq!(comments[0]["body"], "the vendor's words, corrected by Alice", "{comments}");
    settle(&m, &s, "acme");
    let i = as_sync_user(&fake).issue("SUP-1").unwrap().unwrap();
    assert_eq!(i.comments.len(), 1, "nothing came back");
    assert_eq!(i.comments[0].body, "the vendor's words, corrected by Alice");
}

/// Jira's ownership rule: without EDIT_ALL_COMMENTS the sync user may not
/// edit a comment Alice wrote, so the vendor's edit of its copy is that
/// issue's error naming the permission; granted, a retry carries it.
#[test]
fn an_edit_of_a_jira_users_comment_without_edit_all_comments_names_the_permission() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    fake.state.lock().unwrap().lacking = vec!["EDIT_ALL_COMMENTS".into()];
    let (m, s) = paired(&fake);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Alice's words"]);
    settle(&m, &s, "acme");
    alice(&fake).add_comment("SUP-1", "written by Alice", None, person()).unwrap();
    settle(&m, &s, "acme");
    let copy = m.issue("SAM2-1")["comments"][0]["id"].as_str().unwrap().to_string();
    m.ok(&["comment", "edit", "SAM2-1", &copy, "--body", "corrected at the vendor"]);
    settle(&m, &s, "acme");
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(
        errors.contains("403 Forbidden") && errors.contains("EDIT_ALL_COMMENTS (to edit a comment a Jira user wrote)"),
        "{errors}"
    );
    fake.state.lock().unwrap().lacking.clear();
    s.ok(&["errors", "retry", "acme", "--all"]);
    let i = as_sync_user(&fake).issue("SUP-1").unwrap().unwrap();
    assert_eq!(i.comments[0].body, "corrected at the vendor");
}

/// Statuses are named in one place: a mapping file with a `[status]`
/// table beside `--status-map` is refused (a name in both was mapped
/// twice), and nothing is saved.
#[test]
fn statuses_named_both_by_the_map_and_the_mapping_file_are_refused() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let (_m, s) = paired(&fake);
    let file = s.home().join("mapping.toml");
    std::fs::write(&file, "[status]\n\"Done\" = \"Done\"\n").unwrap();
    let err = s.fail(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    assert!(err.contains("statuses are named both by --status-map and by the mapping file's table"), "{err}");
    assert!(s.status()["mapping"].is_null(), "nothing was saved: {}", s.status());
    // A mapping file without a status table goes beside the map, and the
    // map cannot gain a table the file has.
    std::fs::write(&file, "[priority]\n\"Medium\" = \"Medium\"\n").unwrap();
    s.ok(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    let err = s.fail(&["sync", "edit", "acme", "--priority-map", "Medium=High"]);
    assert!(err.contains("priorities are named both by --priority-map"), "{err}");
    assert!(s.status()["tracker"]["priorities"].as_object().is_none_or(|p| p.is_empty()), "{}", s.status());
    // Jira Cloud hiding users' addresses: matching by e-mail is said to
    // find only those who show theirs.
    fake.state.lock().unwrap().hidden_emails = true;
    let out = s.cli(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && said.contains("note: 2 of 3 users of the tracker show no e-mail address"),
        "{said}"
    );
}

/// Jira Cloud's display names are not unique (and its addresses mostly
/// hidden): the users table names a user by account id, as Jira's own
/// mentions do. The partner's vera lands on that account, not on the
/// other user of the same name, and reads back as vera; the other user
/// reads as their display name. An account id Jira does not have is
/// refused when the mapping is saved.
#[test]
fn a_users_table_names_jira_cloud_users_by_account_id() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let twin = "5b10aa11bb22cc33dd44ee55";
    {
        let mut f = fake.state.lock().unwrap();
        let mut u = f.users[2].clone();
        (u.account_id, u.name, u.email) = (twin.into(), "bob2".into(), "bob2@example.com".into());
        f.users.push(u);
    }
    let (m, s) = paired(&fake);
    let file = s.home().join("mapping.toml");
    std::fs::write(&file, "[users.table]\nvera = \"accountid:0000\"\n").unwrap();
    let err = s.fail(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    assert!(err.contains("user \"accountid:0000\" is not a user of this tracker"), "{err}");
    std::fs::write(&file, format!("[users.table]\nvera = \"accountid:{twin}\"\n")).unwrap();
    s.ok(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);

    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Twins", "--assignee", "vera"]);
    settle(&m, &s, "acme");
    let assigned = || fake.state.lock().unwrap().issues[0].fields["assignee"].clone();
    assert_eq!(assigned(), serde_json::json!(3), "the account named, not the first Bob Builder");
    // A Jira edit elsewhere on the issue leaves vera assigned on the vendor's side.
    alice(&fake)
        .update_issue("SUP-1", &FieldChanges { summary: Some("Twins again".into()), ..Default::default() }, person())
        .unwrap();
    settle(&m, &s, "acme");
    let vendor = m.ok(&["issue", "show", "SAM2-1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&vendor).unwrap();
    assert_eq!((v["summary"].as_str(), v["assignee"].as_str()), (Some("Twins again"), Some("vera")), "{v}");
    // The other Bob Builder crosses by display name.
    fake.state.lock().unwrap().issues[0].fields.insert("assignee".into(), serde_json::json!(2));
    alice(&fake)
        .update_issue("SUP-1", &FieldChanges { summary: Some("Other Bob".into()), ..Default::default() }, person())
        .unwrap();
    settle(&m, &s, "acme");
    let v: serde_json::Value = serde_json::from_str(&m.ok(&["issue", "show", "SAM2-1", "--json"])).unwrap();
    assert_eq!(v["assignee"].as_str(), Some("Bob Builder"), "{v}");
}

/// A secret as a systemd credential (the packaged unit's
/// `LoadCredential=NAME`): `--jira-token-file credential:NAME` is read
/// from `$CREDENTIALS_DIRECTORY` under a unit; status shows the name,
/// never the token; a daemon without the credential says which one it
/// lacks and where it looked, and one with it carries the vendor's issue.
#[test]
fn a_token_as_a_systemd_credential_is_read_from_the_units_credentials() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let (m, s) = paired(&fake);
    let creds = tempfile::tempdir().unwrap();
    std::fs::write(creds.path().join("jira-token"), "t0ken\n").unwrap();
    let dir = creds.path().to_str().unwrap();
    let edit = ["sync", "edit", "acme", "--jira-token-file", "credential:jira-token"];
    let out = s.cli_env(&edit, &[("CREDENTIALS_DIRECTORY", dir)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status = s.ok(&["status", "--json"]);
    assert!(status.contains("\"credential\": \"jira-token\"") && !status.contains("t0ken"), "{status}");
    // Outside a unit, and not in a credstore: said, naming both places.
    let out = s.cli_env(&["sync", "edit", "acme", "--jira-token-file", "credential:other"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("systemd credential 'other' cannot be found"), "{err}");
    assert!(err.contains("/etc/credstore/other"), "{err}");
    let out = s.cli_env(&["sync", "edit", "acme", "--jira-token-file", "credential:../x"], &[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not name a credential"));

    // The daemon under a unit whose credentials lack it: the sync fails,
    // naming the credential and the unit setting.
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "by credential"]);
    m.ok(&["run", "--once"]);
    carry(&m, &s, "acme");
    let empty = tempfile::tempdir().unwrap();
    let out = s.cli_env(&["run", "--once"], &[("CREDENTIALS_DIRECTORY", empty.path().to_str().unwrap())]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("LoadCredential=jira-token"), "{said}");
    assert!(fake.state.lock().unwrap().issues.iter().all(|i| i.fields["summary"] != "by credential"));
    let out = s.cli_env(&["run", "--once"], &[("CREDENTIALS_DIRECTORY", dir)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(fake.state.lock().unwrap().issues.iter().any(|i| i.fields["summary"] == "by credential"));
}

/// A sync starts when it is made, not when its peer first runs: an issue
/// filed in Jira after the accept, before the customer's daemon first
/// looked (it waited for the vendor's side, or ran days later), crosses;
/// one there before the accept does not (the existing issues are the
/// admin's choice, `--existing`).
#[test]
fn an_issue_filed_between_the_accept_and_the_first_poll_crosses() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let jira = alice(&fake);
    file(&jira, "Filed before the sync");
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let accept = jira_flags(&fake, &s, &["--status-map", "Open=To Do"]);
    let accept: Vec<&str> = accept.iter().map(String::as_str).collect();
    pair_with(&m, &s, "acme", "SAM2", "SUP", &[], &accept);
    // Jira's search works in minutes: the new one is a minute later.
    fake.state.lock().unwrap().clock_offset_ms += 61_000;
    file(&jira, "Filed meanwhile");
    settle(&m, &s, "acme");
    let got: Vec<String> = m.issues("SAM2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, ["Filed meanwhile"], "{}", s.ok(&["status"]));
}

/// The same when Jira is away as the sync is accepted (saved all the
/// same): the sync starts at the accept, made good at the first poll.
#[test]
fn an_issue_filed_after_an_accept_while_jira_was_away_crosses() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let proxy = common::fault_proxy::start(fake.url.trim_start_matches("http://"), 1);
    let jira = alice(&fake);
    file(&jira, "Filed before the sync");
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let mut accept = jira_flags(&fake, &s, &["--status-map", "Open=To Do"]);
    let at = accept.iter().position(|f| f == "--jira-url").unwrap() + 1;
    accept[at] = proxy.url.clone();
    let accept: Vec<&str> = accept.iter().map(String::as_str).collect();
    // Every search answered 503 as the sync is accepted.
    proxy.plan.lock().unwrap().refuse = Some(("/search".into(), 503));
    pair_with(&m, &s, "acme", "SAM2", "SUP", &[], &accept);
    assert!(proxy.plan.lock().unwrap().counts.contains_key(&common::fault_proxy::Fault::Refused), "Jira was away");
    proxy.plan.lock().unwrap().refuse = None;
    std::thread::sleep(std::time::Duration::from_millis(20));
    file(&jira, "Filed meanwhile");
    settle(&m, &s, "acme");
    let got: Vec<String> = m.issues("SAM2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, ["Filed meanwhile"], "{}", s.ok(&["status"]));
}

/// A person files an issue in Jira's project SUP.
fn file(jira: &postern::tracker::jira::Jira, summary: &str) {
    let fields = postern::protocol::IssueFields {
        summary: summary.into(),
        status: "To Do".into(),
        priority: "Medium".into(),
        ..Default::default()
    };
    jira.create_issue("SUP", &fields, person()).unwrap();
}
