//! Against a real Redmine (`scripts/redmine.sh`; run by the integration
//! script): an embedded peer and a Redmine peer with a mapping file that
//! renames statuses (a workflow with a status Redmine lacks), priorities
//! and issue types, maps a custom field by name and users by a table, by
//! address and to a fallback user; worklogs added, edited and deleted on
//! each side; an unmapped value listed with the mapping that fixes it.

mod common;

use common::redmine::Server;
use common::*;

/// The Redmine side's mapping: the embedded side's names → Redmine's.
const MAPPING: &str = r#"
[status]
Open = "New"
"In Review" = "In Progress"
"In Progress" = "In Progress"
Done = "Closed"
[send.status]
"In Progress" = "In Progress"
[priority]
Medium = "Normal"
[type]
Defect = "Bug"
Task = "Feature"
[fields]
"Customer ref" = "Ticket ref"
[users]
fallback = "Sync Bot"
[users.table]
"mona@vendor.example" = "Alice Example"
"#;

fn peers(server: &Server) -> (TestPeer, TestPeer, String) {
    let project = server.new_project("map");
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    m.ok(&[
        "project",
        "edit",
        "SAM2",
        "--statuses",
        "Open,In Review,In Progress,Done,Waiting",
        "--types",
        "Defect,Task",
    ]);
    m.ok(&["user", "add", "mona", "--email", "mona@vendor.example"]);
    m.ok(&["user", "add", "Alice at the vendor", "--email", "alice@example.test"]);
    m.ok(&["user", "add", "stranger"]);
    let file = s.home().join("mapping.toml");
    std::fs::write(&file, MAPPING).unwrap();
    let mut accept = server.flags();
    accept.extend(["--mapping".to_string(), file.to_string_lossy().into_owned()]);
    let accept: Vec<&str> = accept.iter().map(String::as_str).collect();
    pair_with(&m, &s, "acme", "SAM2", &project, &[], &accept);
    settle(&m, &s, "acme");
    (m, s, project)
}

/// Redmine's time entries of issue `id`: (hours, user, comments).
fn entries(server: &Server, id: u64) -> Vec<(f64, String, String)> {
    let v = server.admin("GET", &format!("/time_entries.json?issue_id={id}"), None);
    let mut l: Vec<(f64, String, String)> = v["time_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let user = e["user"]["name"].as_str().unwrap().to_string();
            (e["hours"].as_f64().unwrap(), user, e["comments"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    l.sort_by(|a, b| a.0.total_cmp(&b.0));
    l
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn embedded_and_redmine_sync_through_a_mapping_file_with_worklogs() {
    let server = common::redmine::server();
    let (m, s, project) = peers(&server);
    let status = s.ok(&["status"]);
    assert!(
        status.contains("mapping         statuses Done=Closed, In Progress=In Progress, In Review=In Progress, Open=New; priorities Medium=Normal; types Defect=Bug, Task=Feature; custom fields Customer ref=Ticket ref; users "),
        "the tables themselves: {status}"
    );

    // Vendor → Redmine: every name through the mapping.
    let args = [
        "issue",
        "create",
        "--project",
        "SAM2",
        "--summary",
        "Export slow",
        "--status",
        "In Review",
        "--type",
        "Task",
        "--due",
        "2026-12-24",
        "--field",
        "Customer ref=CR-7",
        "--assignee",
        "mona",
    ];
    let key = m.ok(&args);
    let w = m.ok(&[
        "worklog",
        "add",
        &key,
        "--minutes",
        "90",
        "--on",
        "2026-11-20",
        "--comment",
        "Profiling",
        "--as",
        "mona",
    ]);
    settle(&m, &s, "acme");
    let issues = server.issues(&project);
    assert_eq!(issues.len(), 1);
    let i = &issues[0];
    let rid = i["id"].as_u64().unwrap();
    assert_eq!(i["status"]["name"], "In Progress", "In Review is In Progress in Redmine");
    assert_eq!((i["priority"]["name"].as_str(), i["tracker"]["name"].as_str()), (Some("Normal"), Some("Feature")));
    assert_eq!(i["due_date"], "2026-12-24");
    let cf = i["custom_fields"].as_array().unwrap().iter().find(|f| f["name"] == "Ticket ref").unwrap().clone();
    assert_eq!(cf["value"], "CR-7");
    assert_eq!(i["assigned_to"]["name"], "Alice Example", "by the table");
    assert_eq!(entries(&server, rid), [(1.5, "Alice Example".into(), "mona (at the partner): Profiling".into())]);

    // By address: the vendor's Alice is Redmine's Alice Example; a user
    // Redmine lacks gets the fallback.
    m.ok(&["issue", "edit", &key, "--assignee", "Alice at the vendor"]);
    settle(&m, &s, "acme");
    assert_eq!(server.issues(&project)[0]["assigned_to"]["name"], "Alice Example");
    m.ok(&["issue", "edit", &key, "--assignee", "stranger"]);
    settle(&m, &s, "acme");
    assert_eq!(server.issues(&project)[0]["assigned_to"]["name"], "Sync Bot", "the fallback user");

    // Worklogs edited and deleted on the vendor's side.
    m.ok(&["worklog", "edit", &key, &w, "--minutes", "120", "--on", "2026-11-20", "--comment", "Profiling, more"]);
    settle(&m, &s, "acme");
    assert_eq!(entries(&server, rid), [(2.0, "Alice Example".into(), "mona (at the partner): Profiling, more".into())]);
    m.ok(&["worklog", "delete", &key, &w]);
    settle(&m, &s, "acme");
    assert!(entries(&server, rid).is_empty());

    // Redmine → vendor: a person changes fields and logs, edits and
    // deletes time.
    let body = r#"{"issue":{"status_id":5,"tracker_id":1,"due_date":null,"custom_fields":[{"id":CF,"value":"CR-8"}]}}"#
        .replace("CF", &cf["id"].to_string());
    server.alice("PUT", &format!("/issues/{rid}.json"), &body);
    let logged = server.alice(
        "POST",
        "/time_entries.json",
        &format!(r#"{{"time_entry":{{"issue_id":{rid},"hours":0.25,"spent_on":"2026-11-21","comments":"call","activity_id":9}}}}"#),
    );
    let entry = logged["time_entry"]["id"].as_u64().expect("a time entry");
    settle(&m, &s, "acme");
    let i = m.issue(&key);
    assert_eq!((i["status"].as_str(), i["issue_type"].as_str()), (Some("Done"), Some("Defect")));
    assert_eq!(i["custom"]["Customer ref"], "CR-8");
    assert!(i["due_date"].is_null(), "{i}");
    let logs = i["worklogs"].as_array().unwrap();
    assert_eq!(logs.len(), 1, "{i}");
    assert_eq!((logs[0]["minutes"].as_u64(), logs[0]["on_behalf_of"].as_str()), (Some(15), Some("Alice Example")));
    server.alice("PUT", &format!("/time_entries/{entry}.json"), r#"{"time_entry":{"hours":0.5}}"#);
    settle(&m, &s, "acme");
    assert_eq!(m.issue(&key)["worklogs"][0]["minutes"], 30);
    server.alice("DELETE", &format!("/time_entries/{entry}.json"), "");
    settle(&m, &s, "acme");
    assert!(m.issue(&key)["worklogs"].as_array().is_none_or(|l| l.is_empty()), "{}", m.issue(&key));
    // Redmine's In Progress goes back as the vendor's In Progress ([send.status]).
    server.alice("PUT", &format!("/issues/{rid}.json"), r#"{"issue":{"status_id":2}}"#);
    settle(&m, &s, "acme");
    assert_eq!(m.issue(&key)["status"], "In Progress");
    assert_eq!(s.ok(&["errors", "list", "acme"]), "no errors in sync 'acme'");
    // Nothing echoed: one issue, no time entries, on each side.
    assert_eq!(server.issues(&project).len(), 1);
    assert!(entries(&server, rid).is_empty());

    // Logged and changed before Redmine had it: the change still applies
    // (the entry is as postern wrote it, not changed in Redmine).
    let w = m.ok(&["worklog", "add", &key, "--minutes", "10", "--on", "2026-11-22", "--as", "mona"]);
    m.ok(&["worklog", "edit", &key, &w, "--minutes", "20"]);
    settle(&m, &s, "acme");
    let e = server.admin("GET", &format!("/time_entries.json?issue_id={rid}"), None)["time_entries"][0].clone();
    // Redmine keeps hours to two decimals: 0.33 h, read back as 20 minutes.
    assert_eq!((e["hours"].as_f64().unwrap() * 60.0).round(), 20.0, "{e}");
    // Changed on both sides before either heard of the other: the later
    // change (Alice's in Redmine) on both.
    m.ok(&["worklog", "edit", &key, &w, "--minutes", "50"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    server.alice("PUT", &format!("/time_entries/{}.json", e["id"]), r#"{"time_entry":{"hours":1.5}}"#);
    settle(&m, &s, "acme");
    assert_eq!(entries(&server, rid)[0].0, 1.5);
    assert_eq!(m.issue(&key)["worklogs"][0]["minutes"], 90);

    // A status with no counterpart: listed with the mapping that fixes it;
    // once added, the change crosses.
    m.ok(&["issue", "edit", &key, "--status", "Waiting"]);
    settle(&m, &s, "acme");
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(errors.contains("Waiting"), "{errors}");
    let file = s.home().join("mapping.toml");
    std::fs::write(&file, MAPPING.replace("Done = \"Closed\"", "Done = \"Closed\"\nWaiting = \"Feedback\"")).unwrap();
    s.ok(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    s.ok(&["errors", "retry", "acme", &key]);
    assert_eq!(server.issues(&project)[0]["status"]["name"], "Feedback");
    // A mapping naming what Redmine lacks is refused with line and column.
    std::fs::write(&file, MAPPING.replace("\"Ticket ref\"", "\"Tiket ref\"")).unwrap();
    let err = s.fail(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    assert!(err.contains("line 15, column 18") && err.contains("\"Tiket ref\"") && err.contains("Ticket ref"), "{err}");
}
