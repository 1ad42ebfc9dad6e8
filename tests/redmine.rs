//! Against a real Redmine (`scripts/redmine.sh`; run by the integration
//! script): the conformance suite, and two peers converging through it.

mod common;

use postern::tracker::redmine::Redmine;
use postern::tracker::{Reads, TrackerError, Writes};

/// One behaviour of the conformance suite on a fresh project of the real
/// Redmine, in which an issue was there before the sync (not news).
fn on_redmine(behaviour: fn(&common::conformance::Sides<'_>)) {
    let server = common::redmine::server();
    let home = tempfile::tempdir().unwrap();
    let project = server.new_project("conf");
    let old = format!(r#"{{"issue":{{"project_id":"{project}","subject":"there before the sync"}}}}"#);
    server.alice("POST", "/issues.json", &old);
    let sync = Redmine::open(&server.settings(&project, "SYNC"), home.path(), "conf-sync").unwrap();
    let alice = Redmine::open(&server.settings(&project, "ALICE"), home.path(), "conf-alice").unwrap();
    assert!(sync.has_project(&project).unwrap());
    behaviour(&common::conformance::Sides::redmine(&sync, &alice, &project, "conf-sync"));
}

mod conformance {
    crate::conformance_tests!(super::on_redmine, #[ignore = "needs a Redmine: scripts/integration.sh"]);
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn a_project_the_sync_user_cannot_see_is_not_there() {
    let server = common::redmine::server();
    let home = tempfile::tempdir().unwrap();
    let other = Redmine::open(&server.settings("no-such-project", "SYNC"), home.path(), "x").unwrap();
    assert!(!other.has_project("no-such-project").unwrap());
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn a_server_that_is_down_or_refuses_the_key_is_unavailable_not_a_refusal() {
    let server = common::redmine::server();
    let home = tempfile::tempdir().unwrap();
    let mut s = server.settings("alpha", "SYNC");
    s.url = "http://127.0.0.1:9".into();
    let down = Redmine::open(&s, home.path(), "down").unwrap();
    match down.issue("1") {
        Err(TrackerError::Unavailable { reason, .. }) => assert!(reason.contains("refused"), "{reason}"),
        other => panic!("expected unavailable, got {other:?}"),
    }
    let mut s = server.settings("alpha", "SYNC");
    s.api_key = postern::transport::mail::Password::Value("0000000000000000000000000000000000000000".into());
    let bad_key = Redmine::open(&s, home.path(), "badkey").unwrap();
    match bad_key.issue("1") {
        Err(TrackerError::Unavailable { reason, .. }) => assert!(reason.contains("API key was refused"), "{reason}"),
        other => panic!("expected unavailable, got {other:?}"),
    }
    // A key file is read again when it changes (a key reset needs no restart).
    let key_file = home.path().join("key");
    std::fs::write(&key_file, "0000000000000000000000000000000000000000").unwrap();
    let mut s = server.settings("alpha", "SYNC");
    s.api_key = postern::transport::mail::Password::File(key_file.to_string_lossy().into_owned());
    let from_file = Redmine::open(&s, home.path(), "keyfile").unwrap();
    assert!(matches!(from_file.has_project("alpha"), Err(TrackerError::Unavailable { .. })));
    std::fs::write(&key_file, server.get("REDMINE_SYNC_KEY")).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    std::fs::File::options().write(true).open(&key_file).unwrap().set_modified(later).unwrap();
    assert!(from_file.has_project("alpha").unwrap(), "the new key was read");
    // A wrong base URL and a project nobody may see say so.
    let mut s = server.settings("alpha", "SYNC");
    s.url = format!("{}/redmine", server.url());
    let err = Redmine::open(&s, home.path(), "path").unwrap().check().unwrap_err().to_string();
    assert!(err.contains("does not look like Redmine's address") && err.contains("--redmine-url"), "{err}");
    let err = Redmine::open(&server.settings("no-such", "SYNC"), home.path(), "np").unwrap().check().unwrap_err();
    assert!(err.to_string().contains("does not exist in Redmine at"), "{err}");
}

use common::redmine::Server;
use common::*;

/// An embedded master and a Redmine slave on a fresh project, paired,
/// with status and priority tables.
fn embedded_and_redmine(server: &Server) -> (TestPeer, TestPeer, String) {
    let project = server.new_project("e2e");
    let (m, s) = server.paired(&project, &["--redmine-labels-field", "Labels"]);
    (m, s, project)
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn an_embedded_and_a_redmine_peer_converge_both_ways() {
    let server = common::redmine::server();
    let (m, s, project) = embedded_and_redmine(&server);
    assert_eq!(s.status()["tracker"]["kind"], "redmine");
    assert!(!s.ok(&["status", "--json"]).contains(server.get("REDMINE_SYNC_KEY")), "the key is never shown");

    // Vendor → Redmine: fields through the name tables, a comment, a file.
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
        "--label",
        "urgent",
    ]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "Reproduced on 4.2", "--as", "vera"]);
    let file = m.home().join("crash.log");
    std::fs::write(&file, b"stack trace\n").unwrap();
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap(), "--as", "vera"]);
    settle(&m, &s, "acme");
    let issues = server.issues(&project);
    assert_eq!(issues.len(), 1);
    let i = &issues[0];
    assert_eq!(
        (i["subject"].as_str(), i["status"]["name"].as_str(), i["priority"]["name"].as_str()),
        (Some("Login fails"), Some("New"), Some("Normal"))
    );
    assert_eq!(i["description"].as_str().unwrap().replace("\r\n", "\n"), "one\ntwo");
    assert_eq!(i["custom_fields"][0]["value"], "sso, urgent", "labels in the named custom field");
    assert_eq!(Server::notes(i), ["vera (at the partner) wrote:\n\nReproduced on 4.2"]);
    assert_eq!(i["attachments"][0]["filename"], "crash.log");
    assert_eq!(i["attachments"][0]["filesize"], 12);
    let rid = i["id"].as_u64().unwrap();

    // Redmine → vendor: a person closes it with a note, and files a new one.
    let cf = server.get("REDMINE_LABELS_FIELD_ID");
    let close = format!(
        r#"{{"issue":{{"status_id":5,"notes":"Fixed in 4.3","custom_fields":[{{"id":{cf},"value":"sso"}}]}}}}"#
    );
    server.alice("PUT", &format!("/issues/{rid}.json"), &close);
    let new = format!(r#"{{"issue":{{"project_id":"{project}","subject":"Made in Redmine","priority_id":3}}}}"#);
    server.alice("POST", "/issues.json", &new);
    settle(&m, &s, "acme");
    let one = m.issue("SAM2-1");
    assert_eq!(one["status"], "Done", "Closed maps back to the partner's Done");
    assert_eq!(one["labels"], serde_json::json!(["sso"]));
    let bodies: Vec<&str> = one["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Reproduced on 4.2", "Fixed in 4.3"]);
    let two = m.issue("SAM2-2");
    assert_eq!((two["summary"].as_str(), two["priority"].as_str()), (Some("Made in Redmine"), Some("High")));

    // Nothing echoes: quiet, and each side holds each issue once. The key
    // shows nowhere, not even in a trace.
    let traced = s.cli(&["-vvv", "run", "--once"]);
    let all = format!("{}{}", String::from_utf8_lossy(&traced.stdout), String::from_utf8_lossy(&traced.stderr));
    assert!(all.contains("TRACE") || all.contains("DEBUG"), "a trace was written: {all}");
    assert!(!all.contains(server.get("REDMINE_SYNC_KEY")), "the API key leaked into the log");
    settle(&m, &s, "acme");
    assert_eq!(server.issues(&project).len(), 2);
    assert_eq!(m.issues("SAM2").len(), 2);
    assert_eq!(Server::notes(&server.issues(&project)[0]).len(), 2);

    // A status Redmine lacks is listed as the issue's error, with the fix.
    m.ok(&["issue", "edit", "SAM2-2", "--status", "On hold"]);
    settle(&m, &s, "acme");
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(errors.contains("On hold") && errors.contains("--status-map"), "{errors}");
    // The admin adds the name, retries, and the issue crosses.
    // A name Redmine lacks is refused, and nothing changes.
    let err = s.fail(&["sync", "edit", "acme", "--status-map", "On hold=Feedbak"]);
    assert!(err.contains("'Feedbak', which is not a Redmine status") && err.contains("Feedback"), "{err}");
    // The pair is added; the others stay.
    let out = s.ok(&["sync", "edit", "acme", "--status-map", "On hold=Feedback"]);
    assert!(out.contains("Done=Closed, On hold=Feedback, Open=New"), "{out}");
    let rid = server.issues(&project)[1]["id"].as_u64().unwrap().to_string();
    let remote = m.ok(&["sync", "export", "acme"]);
    assert!(remote.contains(&rid), "{remote}");
    s.ok(&["errors", "retry", "acme", "SAM2-2"]);
    assert_eq!(s.ok(&["errors", "list", "acme"]), "no errors in sync 'acme'");
    assert_eq!(server.issues(&project)[1]["status"]["name"], "Feedback");
    let err = m.fail(&["sync", "edit", "acme", "--status-map", "A=B"]);
    assert!(err.contains("uses the embedded tracker"), "{err}");

    // The key moves into a file from the CLI; a wrong one is refused and
    // nothing changes.
    let key = s.home().join("redmine-key");
    std::fs::write(&key, "0000000000000000000000000000000000000000").unwrap();
    let err = s.fail(&["sync", "edit", "acme", "--redmine-key-file", key.to_str().unwrap()]);
    assert!(err.contains("API key was refused") && err.contains("nothing was saved"), "{err}");
    std::fs::write(&key, server.get("REDMINE_SYNC_KEY")).unwrap();
    s.ok(&["sync", "edit", "acme", "--redmine-key-file", key.to_str().unwrap()]);
    assert_eq!(s.status()["tracker"]["api_key"]["file"], key.to_str().unwrap());
    m.ok(&["comment", "add", "SAM2-1", "--body", "after the key moved"]);
    settle(&m, &s, "acme");
    assert_eq!(Server::notes(&server.issues(&project)[0]).len(), 3);
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn changes_wait_while_redmine_is_down_and_arrive_once() {
    let server = common::redmine::server();
    let (m, s, project) = embedded_and_redmine(&server);
    {
        let _down = server.stopped();
        for n in 1..=3 {
            m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("while down {n}")]);
            m.ok(&["comment", "add", &format!("SAM2-{n}"), "--body", "a note"]);
        }
        m.cycle();
        carry(&m, &s, "acme");
        let out = s.cli(&["run", "--once"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains("the tracker is unavailable"), "{err}");
        let st = s.status();
        assert!(st["failing"][0]["error"].as_str().unwrap().contains("unavailable"), "{st}");
        assert_eq!(s.outgoing("acme").len(), 0, "nothing was acknowledged");
    }
    settle(&m, &s, "acme");
    let issues = server.issues(&project);
    assert_eq!(issues.len(), 3, "each once");
    for i in &issues {
        assert_eq!(Server::notes(i).len(), 1, "{i}");
    }
    assert_eq!(s.status()["failing"], serde_json::json!([]));
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn after_a_redmine_outage_the_sync_moves_within_seconds_of_it_answering() {
    use std::time::{Duration, Instant};
    let server = common::redmine::server();
    let (m, s, project) = embedded_and_redmine(&server);
    let ds = s.daemon(&["--interval", "2", "--tracker-interval", "2"]);
    {
        let _down = server.stopped();
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", "made during the outage"]);
        m.cycle();
        carry(&m, &s, "acme");
        let start = Instant::now();
        while !s.status()["failing"].as_array().unwrap().iter().any(|t| t["what"] == "tracker") {
            assert!(start.elapsed() < Duration::from_secs(20), "the outage never showed: {}", s.status());
            std::thread::sleep(Duration::from_millis(200));
        }
        // Long enough for the back-off to grow past the interval.
        std::thread::sleep(Duration::from_secs(40));
    }
    let up = Instant::now();
    let made = || server.issues(&project).iter().any(|i| i["subject"] == "made during the outage");
    while !made() {
        assert!(up.elapsed() < Duration::from_secs(60), "never arrived");
        std::thread::sleep(Duration::from_millis(100));
    }
    let took = up.elapsed();
    let log = s.stop(ds);
    eprintln!("after the Redmine outage the change arrived in {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}\n{log}");
    assert!(log.contains("the tracker answers again"), "{log}");
    assert_eq!(server.issues(&project).iter().filter(|i| i["subject"] == "made during the outage").count(), 1);
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn two_redmine_projects_sync_through_two_peers() {
    let server = common::redmine::server();
    let (p1, p2) = (server.new_project("left"), server.new_project("right"));
    let (m, s) = (TestPeer::new(MASTER_KEY, "UNUSED"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let flags = server.flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    pair_with(&m, &s, "rr", &p1, &p2, &flags, &flags);
    settle(&m, &s, "rr");
    let new = format!(r#"{{"issue":{{"project_id":"{p1}","subject":"Left to right","description":"d"}}}}"#);
    let made = server.alice("POST", "/issues.json", &new);
    settle(&m, &s, "rr");
    let right = server.issues(&p2);
    assert_eq!(right.len(), 1);
    assert_eq!(right[0]["subject"], "Left to right");
    let rid = right[0]["id"].as_u64().unwrap();
    server.alice(
        "PUT",
        &format!("/issues/{rid}.json"),
        r#"{"issue":{"notes":"answered on the right","priority_id":4}}"#,
    );
    settle(&m, &s, "rr");
    let left = server.issues(&p1);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], made["issue"]["id"]);
    assert_eq!(left[0]["priority"]["name"], "Urgent");
    assert_eq!(Server::notes(&left[0]), ["Alice Example (at the partner) wrote:\n\nanswered on the right"]);
    settle(&m, &s, "rr");
    assert_eq!((server.issues(&p1).len(), server.issues(&p2).len()), (1, 1), "no echo between two Redmines");
}

/// A real `postern run` applying a stream of creates, comments and
/// attachments to Redmine, killed with SIGKILL at random instants: in the
/// end every issue, note and file is there exactly once.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn a_redmine_peer_killed_at_random_writes_everything_exactly_once() {
    use rand::Rng;
    const N: usize = 20;
    let server = common::redmine::server();
    let (m, s, project) = embedded_and_redmine(&server);
    // A write cut by a kill is looked for after this long, when Redmine
    // has surely made it if it ever will.
    s.ok(&["sync", "edit", "acme", "--redmine-timeout-secs", "2"]);
    m.crash_issues(N);
    m.cycle();
    assert!(carry(&m, &s, "acme") >= 1);
    let mut rng = rand::thread_rng();
    let mut mid_message = 0;
    for _ in 0..8 {
        let d = s.daemon(&["--interval", "0.2", "--tracker-interval", "0.5"]);
        std::thread::sleep(std::time::Duration::from_millis(rng.gen_range(300..2500)));
        d.kill();
        let there = server.issues(&project).len();
        if there > 0 && there < N {
            mid_message += 1;
        }
        if there == N && s.outgoing("acme").len() > 1 {
            break;
        }
    }
    assert!(mid_message >= 1, "no kill landed while a message was being applied: the test proved nothing");
    settle_until(&m, &s, "every issue, note and file in Redmine", || {
        let issues = server.issues(&project);
        issues.len() >= N
            && issues.iter().all(|i| Server::notes(i).len() >= 2 && !i["attachments"].as_array().unwrap().is_empty())
    });
    settle(&m, &s, "acme");
    let issues = server.issues(&project);
    assert_eq!(issues.len(), N, "each issue once");
    let mut subjects: Vec<&str> = issues.iter().map(|i| i["subject"].as_str().unwrap()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), N);
    for i in &issues {
        assert_eq!(Server::notes(i).len(), 2, "each note once: {i}");
        assert_eq!(i["attachments"].as_array().unwrap().len(), 1, "each file once: {i}");
    }
    // And nothing came back as an echo.
    assert_eq!(m.issues("SAM2").len(), N);
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn the_redmine_example_accepts_a_sync_by_script() {
    let server = common::redmine::server();
    let project = server.new_project("example");
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    let created = m.json(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "v", "--json"]);
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, created["passphrase"].as_str().unwrap()).unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, server.get("REDMINE_SYNC_KEY")).unwrap();
    let out = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/redmine/accept.sh"))
        .arg(m.home().join(created["handshake_file"].as_str().unwrap()))
        .args([pass.to_str().unwrap(), server.url(), &project, key.to_str().unwrap()])
        .env("POSTERN", env!("CARGO_BIN_EXE_postern"))
        .env("POSTERN_HOME", dir.path().join("customer"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("tracker         redmine {}, project {project}", server.url())), "{stdout}");
    assert!(stdout.contains("redmine example: OK"));
    assert!(!stdout.contains(server.get("REDMINE_SYNC_KEY")));
}

/// A Redmine workflow ignores a transition it does not allow (answering
/// 204): postern reads the issue back and refuses the change, naming it.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn a_status_the_workflow_does_not_allow_is_refused_not_lost() {
    use postern::protocol::FieldChanges;
    use postern::tracker::{Actor, Refusal};
    let server = common::redmine::server();
    let strict = server.get("REDMINE_STRICT_TRACKER_ID");
    let project = server.new_project_with("workflow", &format!("1,2,{strict}"));
    let body = format!(r#"{{"issue":{{"project_id":"{project}","subject":"strict","tracker_id":{strict}}}}}"#);
    let key = server.alice("POST", "/issues.json", &body)["issue"]["id"].as_u64().unwrap().to_string();
    let home = tempfile::tempdir().unwrap();
    let sync = Redmine::open(&server.settings(&project, "SYNC"), home.path(), "wf").unwrap();
    let actor = Actor { user: "syncbot", origin: Some("wf"), via: None };
    let change = FieldChanges { status: Some("Rejected".into()), ..Default::default() };
    match sync.update_issue(&key, &change, actor) {
        Err(TrackerError::Refused(Refusal::Invalid(why))) => {
            assert!(why.contains("did not take status 'Rejected'") && why.contains("workflow"), "{why}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(sync.issue(&key).unwrap().unwrap().fields.status, "New");
    // An allowed one goes through.
    let ok = FieldChanges { status: Some("In Progress".into()), ..Default::default() };
    sync.update_issue(&key, &ok, actor).unwrap();
    assert_eq!(sync.issue(&key).unwrap().unwrap().fields.status, "In Progress");
    // A new issue whose status the workflow refuses: made, and said so
    // with its id (the engine keeps it paired instead of making another).
    let fields = postern::protocol::IssueFields {
        summary: "strict and rejected".into(),
        status: "Rejected".into(),
        priority: "Normal".into(),
        issue_type: Some("Support".into()),
        ..Default::default()
    };
    match sync.create_issue("SYNC", &fields, actor) {
        Err(TrackerError::Refused(Refusal::PartlyMade { id, why })) => {
            assert!(why.contains("did not take status 'Rejected'"), "{why}");
            assert_eq!(sync.issue(&id).unwrap().unwrap().fields.summary, "strict and rejected");
        }
        other => panic!("expected a partly made issue, got {other:?}"),
    }
}

/// Redmine behind TLS with a company CA (socat in front of the test
/// server): refused until the CA is given, in words that say how.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn redmine_over_https_with_a_company_ca() {
    let server = common::redmine::server();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sh = |cmd: &str| {
        let ok = std::process::Command::new("sh").arg("-c").arg(cmd).current_dir(d).output().unwrap();
        assert!(ok.status.success(), "{cmd}: {}", String::from_utf8_lossy(&ok.stderr));
    };
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=Test-CA \
        -addext basicConstraints=critical,CA:TRUE -keyout ca.key -out ca.pem");
    sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 -keyout leaf.key -out leaf.csr");
    sh("printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n' > ext && \
        openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext -out leaf.pem");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let upstream = server.url().trim_start_matches("http://").to_string();
    let mut proxy = std::process::Command::new("socat")
        .arg(format!("OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert=leaf.pem,key=leaf.key,verify=0"))
        .arg(format!("TCP:{upstream}"))
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("socat (the integration script installs it)");
    let start = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "socat did not listen");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let project = server.new_project("tls");
    let mut s = server.settings(&project, "SYNC");
    s.url = format!("https://127.0.0.1:{port}");
    let untrusted = Redmine::open(&s, d, "tls").unwrap().has_project(&project);
    match untrusted {
        Err(TrackerError::Unavailable { reason, .. }) => assert!(reason.contains("--redmine-ca-file"), "{reason}"),
        other => panic!("expected an untrusted certificate, got {other:?}"),
    }
    s.ca_file = Some(d.join("ca.pem").to_string_lossy().into_owned());
    let trusted = Redmine::open(&s, d, "tls2").unwrap();
    assert!(trusted.has_project(&project).unwrap());
    let f = postern::protocol::IssueFields {
        summary: "over TLS".into(),
        status: "New".into(),
        priority: "Normal".into(),
        ..Default::default()
    };
    let key = trusted.create_issue(&project, &f, postern::tracker::Actor::person("x")).unwrap();
    assert_eq!(server.issues(&project)[0]["id"].as_u64().unwrap().to_string(), key);
    let _ = proxy.kill();
    let _ = proxy.wait();
}

/// A file over Redmine's size limit (5 MB by default) is that issue's
/// error, naming the setting; the issue's other changes went through.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn a_file_over_redmines_limit_is_listed_with_the_setting() {
    let server = common::redmine::server();
    let (m, s, project) = embedded_and_redmine(&server);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "big dump"]);
    let file = m.home().join("core.dump");
    std::fs::write(&file, postern::bench::noise(6 * 1024 * 1024, 7)).unwrap();
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap()]);
    settle(&m, &s, "acme");
    assert_eq!(server.issues(&project).len(), 1, "the issue crossed");
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(errors.contains("core.dump") && errors.contains("Administration › Settings › Files"), "{errors}");
}

/// `curl` as alice (a person in Redmine) with a binary body or none.
fn alice_curl(server: &Server, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("curl")
        .args(["-sS", "--fail", "-H"])
        .arg(format!("X-Redmine-API-Key: {}", server.get("REDMINE_ALICE_KEY")))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "curl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn sha256_hex(data: &[u8]) -> String {
    postern::tracker::attachments::sha256_hex(data)
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn large_attachments_stream_to_and_from_redmine() {
    let server = common::redmine::server();
    let (m, s, project) = embedded_and_redmine(&server);
    // Vendor → Redmine: over the inline size, in chunks, uploaded as a stream.
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "big logs"]);
    let out = postern::bench::noise(4 * 1024 * 1024, 21);
    let file = m.home().join("server.log");
    std::fs::write(&file, &out).unwrap();
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap()]);
    settle(&m, &s, "acme");
    let i = &server.issues(&project)[0];
    let a = &i["attachments"][0];
    assert_eq!((a["filename"].as_str(), a["filesize"].as_u64()), (Some("server.log"), Some(out.len() as u64)), "{i}");
    let id = a["id"].as_u64().unwrap();
    let got = alice_curl(&server, &["-L", &format!("{}/attachments/download/{id}", server.url())]);
    assert_eq!(sha256_hex(&got), sha256_hex(&out), "Redmine holds the same bytes");

    // Redmine → vendor: a person attaches a file; it is read as a stream.
    let back = postern::bench::noise(3 * 1024 * 1024, 22);
    let path = s.home().join("trace.bin");
    std::fs::write(&path, &back).unwrap();
    let up = alice_curl(
        &server,
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            &format!("@{}", path.display()),
            &format!("{}/uploads.json?filename=trace.bin", server.url()),
        ],
    );
    let token: serde_json::Value = serde_json::from_slice(&up).unwrap();
    let token = token["upload"]["token"].as_str().unwrap();
    let rid = i["id"].as_u64().unwrap();
    let body = format!(
        r#"{{"issue":{{"uploads":[{{"token":"{token}","filename":"trace.bin","content_type":"application/octet-stream"}}]}}}}"#
    );
    server.alice("PUT", &format!("/issues/{rid}.json"), &body);
    settle(&m, &s, "acme");
    let files = m.json(&["attachment", "list", "SAM2-1", "--json"]);
    let trace = files.as_array().unwrap().iter().find(|a| a["filename"] == "trace.bin").expect("trace.bin crossed");
    assert_eq!(trace["sha256"], sha256_hex(&back).as_str());
    assert_eq!(files.as_array().unwrap().len(), 2, "no echo, no duplicate: {files}");
    assert_eq!(server.issues(&project)[0]["attachments"].as_array().unwrap().len(), 2);
    for p in [&m, &s] {
        assert_eq!(p.status_of("acme")["transfers"], serde_json::json!([]));
        assert_eq!(p.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]));
    }
}

/// Changed in Redmine's database behind postern's back (no journal, no
/// new `updated_on`): nothing would ever cross, and a verify names it on
/// both sides; a repair converges both; the verify's API calls are counted.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn verify_names_what_was_changed_in_redmines_database_and_a_repair_converges() {
    let server = common::redmine::server();
    let (m, s, project) = embedded_and_redmine(&server);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "to be changed behind"]);
    m.ok(&["comment", "add", "SAM2-1", "--body", "hello from the vendor", "--as", "vera"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "left alone"]);
    settle(&m, &s, "acme");
    let id = server.issues(&project).iter().find(|i| i["subject"] == "to be changed behind").unwrap()["id"]
        .as_u64()
        .unwrap();
    let db = rusqlite::Connection::open(server.dir.join("db.sqlite3")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    db.execute("UPDATE issues SET subject = 'changed in the database' WHERE id = ?1", [id]).unwrap();
    let gone =
        db.execute("DELETE FROM journals WHERE journalized_id = ?1 AND notes LIKE '%hello from the vendor%'", [id]);
    assert_eq!(gone.unwrap(), 1);
    drop(db);

    s.ok(&["sync", "verify", "acme", "--wait", "0"]);
    settle(&m, &s, "acme");
    let theirs = s.cli(&["sync", "verify", "acme", "--last", "--json"]);
    assert_eq!(theirs.status.code(), Some(2), "something differs");
    let r: serde_json::Value = serde_json::from_slice(&theirs.stdout).unwrap();
    assert_eq!(r["differing"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["differing"][0]["key"], id.to_string());
    assert_eq!(
        r["differing"][0]["what"],
        serde_json::json!([
            "summary (here \"changed in the database\", partner \"to be changed behind\")",
            "1 comment missing here"
        ])
    );
    assert!(r["api_calls"].as_u64().unwrap() >= 2, "the calls are counted: {r}");
    let r: serde_json::Value =
        serde_json::from_slice(&m.cli(&["sync", "verify", "acme", "--last", "--json"]).stdout).unwrap();
    assert_eq!(r["differing"][0]["key"], "SAM2-1", "{r}");

    m.ok(&["sync", "verify", "acme", "--repair", "--wait", "0"]);
    settle(&m, &s, "acme");
    let i = server.issues(&project).into_iter().find(|i| i["id"] == id).unwrap();
    assert_eq!(i["subject"], "to be changed behind", "the vendor's recorded change wins");
    s.ok(&["sync", "verify", "acme", "--wait", "0"]);
    settle(&m, &s, "acme");
    for p in [&m, &s] {
        let out = p.cli(&["sync", "verify", "acme", "--last", "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    }
}

/// The labels field is chosen later with `sync edit`, checked against the
/// project first; labels cross from then on, and `""` stops them.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn the_labels_field_is_set_and_cleared_with_sync_edit() {
    let server = common::redmine::server();
    let project = server.new_project("lbl");
    let (m, s) = server.paired(&project, &[]);
    let err = s.fail(&["sync", "edit", "acme", "--redmine-labels-field", "No such field"]);
    assert!(err.contains("\"No such field\" is not a custom field of project"), "{err}");
    assert!(s.status()["tracker"]["labels_field"].is_null(), "nothing was saved");
    s.ok(&["sync", "edit", "acme", "--redmine-labels-field", "Labels"]);
    assert_eq!(s.status()["tracker"]["labels_field"], "Labels");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "labelled", "--label", "sso"]);
    settle(&m, &s, "acme");
    assert_eq!(server.issues(&project)[0]["custom_fields"][0]["value"], "sso", "labels cross now");
    s.ok(&["sync", "edit", "acme", "--redmine-labels-field", ""]);
    assert!(s.status()["tracker"]["labels_field"].is_null());
}
