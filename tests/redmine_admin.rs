//! The admin tools through the tracker seam, with a Redmine on one side:
//! existing issues at accept, a resync, the records, pause and delete.
//! Ignored in plain `cargo test`; `scripts/integration.sh` runs them.

mod common;
use common::redmine::Server;
use common::*;

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn a_redmine_sides_existing_issues_resync_records_and_life_cycle() {
    let server = common::redmine::server();
    let project = server.new_project("adm");
    // Issues made in Redmine before there is any sync.
    for subject in ["old one", "old two"] {
        let body = format!(r#"{{"issue":{{"project_id":"{project}","subject":"{subject}","priority_id":2}}}}"#);
        server.alice("POST", "/issues.json", &body);
    }
    let first = server.issues(&project)[0]["id"].as_u64().unwrap();
    server.alice("PUT", &format!("/issues/{first}.json"), r#"{"issue":{"notes":"an old note"}}"#);

    let (m, s) = server.paired(&project, &["--existing", "all"]);
    let mut summaries: Vec<String> =
        m.issues("SAM2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    summaries.sort();
    assert_eq!(summaries, ["old one", "old two"], "the Redmine's existing issues crossed");
    let one = m.issues("SAM2").into_iter().find(|i| i["summary"] == "old one").unwrap();
    let one = m.issue(one["key"].as_str().unwrap());
    assert_eq!(one["comments"][0]["body"], "an old note");
    let r = &s.status()["last_resync"];
    assert_eq!((r["kind"].as_str(), r["issues"].as_u64()), (Some("existing issues"), Some(2)), "{r}");

    // A resync from the Redmine side converges without copies or echo.
    let out = s.ok(&["sync", "resync", "acme", "--yes"]);
    assert!(out.starts_with("Completed Successfully"), "{out}");
    settle(&m, &s, "acme");
    assert_eq!(m.issues("SAM2").len(), 2);
    assert_eq!(m.issue(one["key"].as_str().unwrap())["comments"].as_array().unwrap().len(), 1);
    assert_eq!(server.issues(&project).len(), 2);
    assert_eq!(Server::notes(&server.issues(&project)[0]).len(), 1, "nothing written back to Redmine");

    // The records name Redmine's issue ids.
    let export = s.json(&["sync", "export", "acme"]);
    let keys: Vec<&str> =
        export["firstConnector"].as_array().unwrap().iter().map(|r| r["localIssueKey"].as_str().unwrap()).collect();
    assert!(keys.contains(&first.to_string().as_str()), "{export}");

    // A mass change in Redmine is held, found again each cycle (nothing
    // read and not stored hides it), and crosses once allowed.
    s.ok(&["sync", "edit", "acme", "--mass-change-threshold", "1"]);
    for i in server.issues(&project) {
        let body = format!(r#"{{"issue":{{"subject":"bulk {}"}}}}"#, i["id"]);
        server.alice("PUT", &format!("/issues/{}.json", i["id"]), &body);
    }
    settle(&m, &s, "acme");
    settle(&m, &s, "acme");
    assert_eq!(s.status()["mass_change_held"]["issues"], 2, "{}", s.ok(&["status"]));
    assert!(m.issues("SAM2").iter().all(|i| !i["summary"].as_str().unwrap().starts_with("bulk")));
    assert!(s.ok(&["sync", "pending", "acme"]).contains("would send 2 changes of 2 issues"));
    s.ok(&["sync", "allow-mass-change", "acme"]);
    settle(&m, &s, "acme");
    assert!(
        m.issues("SAM2").iter().all(|i| i["summary"].as_str().unwrap().starts_with("bulk")),
        "{:?}",
        m.issues("SAM2")
    );
    s.ok(&["sync", "edit", "acme", "--mass-change-threshold", "100"]);

    // Paused, a Redmine edit waits; resumed, it crosses.
    s.ok(&["sync", "pause", "acme"]);
    server.alice("PUT", &format!("/issues/{first}.json"), r#"{"issue":{"subject":"edited while paused"}}"#);
    settle(&m, &s, "acme");
    assert!(m.issue(one["key"].as_str().unwrap())["summary"].as_str().unwrap().starts_with("bulk"));
    s.ok(&["sync", "resume", "acme"]);
    settle(&m, &s, "acme");
    assert_eq!(m.issue(one["key"].as_str().unwrap())["summary"], "edited while paused");

    // Deleting forgets the change detection's state too, never an issue.
    let id = s.status()["id"].as_str().unwrap().to_string();
    let state = s.home().join("trackers").join(format!("redmine-{id}.db"));
    assert!(state.exists());
    s.ok(&["sync", "delete", "acme"]);
    assert!(!state.exists());
    assert_eq!(server.issues(&project).len(), 2);
}
