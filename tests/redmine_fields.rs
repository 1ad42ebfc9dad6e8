//! Against a real Redmine (`scripts/redmine.sh`; run by the integration
//! script), configured as customers configure it: labels in a list custom
//! field with several values ("Tags": customer, backend, sso), a non-admin
//! sync user, and a role that gives it less than everything. Several
//! labels cross as several values both ways; a label outside the list is
//! listed on its issue, which is made all the same, and nothing of the
//! issue waits behind it; the permissions are checked at setup and a
//! refusal for a missing one names it.

mod common;

use common::redmine::Server;
use common::*;

fn tags(server: &Server, issue: &serde_json::Value) -> serde_json::Value {
    let id = server.get("REDMINE_TAGS_FIELD_ID").parse::<u64>().unwrap();
    let f = issue["custom_fields"].as_array().unwrap().iter().find(|f| f["id"] == id).cloned();
    f.map(|f| f["value"].clone()).unwrap_or_default()
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn labels_in_a_list_with_several_values_cross_and_one_outside_it_holds_nothing_back() {
    let server = common::redmine::server();
    let project = server.new_project("tags");
    let (m, s) = server.paired(&project, &["--redmine-labels-field", "Tags"]);

    // Two labels of the list: an array of two values, not "a, b".
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "listed", "--label", "customer", "--label", "sso"]);
    settle(&m, &s, "acme");
    let listed = server.issues(&project).into_iter().find(|i| i["subject"] == "listed").unwrap();
    assert_eq!(tags(&server, &listed), serde_json::json!(["customer", "sso"]));
    assert_eq!(s.status()["issues_with_errors"], 0, "{}", s.ok(&["errors", "list", "acme"]));

    // A label outside the list: the issue is made without it, its comment
    // follows, and the issue lists what was not set and why.
    let two = ["--label", "customer", "--label", "security"];
    m.ok(&[&["issue", "create", "--project", "SAM2", "--summary", "unlisted"][..], &two].concat());
    m.ok(&["comment", "add", "SAM2-2", "--body", "after the create"]);
    settle(&m, &s, "acme");
    let unlisted = server.issues(&project).into_iter().find(|i| i["subject"] == "unlisted").expect("made");
    assert_eq!(tags(&server, &unlisted), serde_json::json!([]));
    assert_eq!(Server::notes(&unlisted).len(), 1, "the comment did not wait behind the label");
    let errors = s.json(&["errors", "list", "acme", "--json"]);
    let e = &errors[0];
    assert_eq!(e["remote_issue"], "SAM2-2", "{errors}");
    assert_eq!(e["blocks"], false, "{errors}");
    let status = s.status();
    assert_eq!((&status["issues_with_errors"], &status["issues_blocked"]), (&1.into(), &0.into()), "{status}");
    assert!(s.ok(&["status"]).contains("1 issue with errors (values this tracker does not hold; they block nothing)"));
    let reason = e["reason"].as_str().unwrap();
    assert!(reason.contains("Redmine's Tags does not hold 'customer', 'security'"), "{reason}");
    assert!(reason.contains("is not included in the list"), "{reason}");
    assert!(reason.contains("Administration › Custom fields › Tags"), "{reason}");

    // A retry while the list still lacks the value: listed again, still
    // holding nothing back.
    let err = s.fail(&["errors", "retry", "acme", "SAM2-2"]);
    assert!(err.contains("still failing") && err.contains("'security'"), "{err}");
    let e = &s.json(&["errors", "list", "acme", "--json"])[0];
    assert_eq!((&e["blocks"], &e["tries"], &e["parked"]), (&false.into(), &2.into(), &1.into()), "{e}");
    // Later labels that fit cross, and supersede the ones not held: the
    // listing goes, and nothing puts the older labels back.
    m.ok(&["issue", "edit", "SAM2-2", "--labels", "backend"]);
    settle(&m, &s, "acme");
    let unlisted = server.issues(&project).into_iter().find(|i| i["subject"] == "unlisted").unwrap();
    assert_eq!(tags(&server, &unlisted), serde_json::json!(["backend"]));
    assert_eq!(s.status()["issues_with_errors"], 0, "{}", s.ok(&["errors", "list", "acme"]));

    // Redmine → vendor: a person's two values arrive as two labels.
    let rid = listed["id"].as_u64().unwrap();
    let cf = server.get("REDMINE_TAGS_FIELD_ID");
    let body = format!(r#"{{"issue":{{"custom_fields":[{{"id":{cf},"value":["backend","customer"]}}]}}}}"#);
    server.alice("PUT", &format!("/issues/{rid}.json"), &body);
    settle(&m, &s, "acme");
    let mut labels: Vec<String> =
        m.issue("SAM2-1")["labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect();
    labels.sort();
    assert_eq!(labels, ["backend", "customer"]);
    // All labels removed on the vendor's side: the field is emptied.
    m.ok(&["issue", "edit", "SAM2-1", "--labels", ""]);
    settle(&m, &s, "acme");
    let listed = server.issues(&project).into_iter().find(|i| i["subject"] == "listed").unwrap();
    assert_eq!(tags(&server, &listed), serde_json::json!([]));
}

#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn permissions_the_role_lacks_are_named_at_setup_and_in_the_refusal() {
    use postern::tracker::{Actor, NewWorklog, Writes};
    let server = common::redmine::server();
    let home = tempfile::tempdir().unwrap();
    // A role without edit_issues: the setup stops, naming it.
    let reporter = server.new_project_as("perm", "1,2", "Reporter");
    let r = postern::tracker::redmine::Redmine::open(&server.settings(&reporter, "SYNC"), home.path(), "r").unwrap();
    let err = r.check().unwrap_err().to_string();
    assert!(
        err.contains("lacks permissions in project") && err.contains("edit_issues (to carry field changes and files)"),
        "{err}"
    );
    // The careful customer's role: the setup goes on, naming what the sync
    // cannot do without the rest.
    let project = server.new_project_as("perm", "1,2", "Sync");
    let sync = postern::tracker::redmine::Redmine::open(&server.settings(&project, "SYNC"), home.path(), "p").unwrap();
    let found = sync.check().unwrap();
    assert!(found.contains("without log_time_for_other_users (not granted): a worklog the mapping gives"), "{found}");
    assert!(found.contains("without edit_issue_notes (not granted)"), "{found}");
    assert!(!found.contains("without log_time "), "{found}");
    // And a worklog for Alice says which permission it lacks.
    let key = sync
        .create_issue(
            &project,
            &postern::protocol::IssueFields {
                summary: "time".into(),
                status: "New".into(),
                priority: "Normal".into(),
                ..Default::default()
            },
            Actor::person("x"),
        )
        .unwrap();
    let w = NewWorklog { minutes: 30, spent_on: "2026-12-01", comment: "work", user: Some("Alice Example") };
    let err = sync.add_worklog(&key, &w, None, Actor::person("x")).unwrap_err().to_string();
    assert!(err.contains("User is invalid") && err.contains("log_time_for_other_users"), "{err}");
}

/// Custom fields whose values are ids in Redmine (a user, a version, a
/// key/value list) cross as names where Redmine tells their format (an
/// admin's key); a non-admin's setup says they cross as ids.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn user_version_and_key_value_fields_cross_as_names_where_their_format_is_known() {
    use postern::tracker::{Actor, Reads, Writes};
    let server = common::redmine::server();
    let home = tempfile::tempdir().unwrap();
    let project = server.new_project("ids");
    let made =
        server.admin("POST", &format!("/projects/{project}/versions.json"), Some(r#"{"version":{"name":"4.2"}}"#));
    let version = made["version"]["id"].as_u64().unwrap();
    let sync = postern::tracker::redmine::Redmine::open(&server.settings(&project, "SYNC"), home.path(), "s").unwrap();
    let found = sync.check().unwrap();
    assert!(found.contains("a user, version or key/value list field crosses as Redmine's ids"), "{found}");
    let admin =
        postern::tracker::redmine::Redmine::open(&server.settings(&project, "ADMIN"), home.path(), "a").unwrap();
    assert!(!admin.check().unwrap().contains("formats are not known"));
    let custom: std::collections::BTreeMap<String, String> =
        [("Contact", "Alice Example"), ("Target", "4.2"), ("Severity", "High")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let fields = postern::protocol::IssueFields {
        summary: "ids".into(),
        status: "New".into(),
        priority: "Normal".into(),
        custom: custom.clone(),
        ..Default::default()
    };
    let key = admin.create_issue(&project, &fields, Actor::person("x")).unwrap();
    let raw = server.issues(&project).into_iter().find(|i| i["id"].as_u64() == key.parse().ok()).unwrap();
    let value = |name: &str| {
        raw["custom_fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap()["value"].clone()
    };
    assert_eq!(value("Contact"), server.get("REDMINE_ALICE_USER_ID"), "{raw}");
    assert_eq!(value("Target"), version.to_string(), "{raw}");
    assert_ne!(value("Severity"), "High", "a key, not the label: {raw}");
    let read = admin.issue(&key).unwrap().unwrap();
    for (k, v) in &custom {
        assert_eq!(read.fields.custom.get(k), Some(v), "{:?}", read.fields.custom);
    }
}

/// Labels in the issue category (one per issue): the vendor's label is
/// the category, a second one is listed as not held (nothing waits), and
/// a category set in Redmine is the vendor's label.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn labels_in_the_issue_category_cross_one_per_issue() {
    let server = common::redmine::server();
    let project = server.new_project("cat");
    for name in ["customer", "backend"] {
        let body = format!(r#"{{"issue_category":{{"name":"{name}"}}}}"#);
        server.admin("POST", &format!("/projects/{project}/issue_categories.json"), Some(&body));
    }
    let (m, s) = server.paired(&project, &["--redmine-labels-field", "(category)"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "one", "--label", "customer"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "two", "--label", "backend", "--label", "security"]);
    settle(&m, &s, "acme");
    let issues = server.issues(&project);
    let category = |subject: &str| issues.iter().find(|i| i["subject"] == subject).unwrap()["category"]["name"].clone();
    assert_eq!((category("one"), category("two")), ("customer".into(), "backend".into()));
    let errors = s.json(&["errors", "list", "acme", "--json"]);
    assert_eq!(errors.as_array().unwrap().len(), 1, "{errors}");
    assert_eq!(errors[0]["blocks"], false);
    assert!(
        errors[0]["reason"].as_str().unwrap().contains("holds one label: 'backend' set, 'security' not"),
        "{errors}"
    );
    // A person sets another category in Redmine: the vendor's label follows.
    let rid = issues.iter().find(|i| i["subject"] == "one").unwrap()["id"].as_u64().unwrap();
    let backend = server.admin("GET", &format!("/projects/{project}/issue_categories.json"), None)["issue_categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "backend")
        .unwrap()["id"]
        .clone();
    server.alice("PUT", &format!("/issues/{rid}.json"), &format!(r#"{{"issue":{{"category_id":{backend}}}}}"#));
    settle(&m, &s, "acme");
    assert_eq!(m.issue("SAM2-1")["labels"], serde_json::json!(["backend"]));
}

/// A customer's own statuses (Triage, Waiting for customer) and the Sync
/// role's workflow through them: the vendor's statuses map onto them one
/// step at a time, a person's move in Redmine crosses back by the same
/// table, and a move the workflow does not allow (In Progress → Closed
/// for this role) is the issue's error naming the workflow, never a
/// silent difference.
#[test]
#[ignore = "needs a Redmine: scripts/integration.sh"]
fn a_customers_own_statuses_and_workflow_carry_each_step_and_name_a_step_it_forbids() {
    let server = common::redmine::server();
    let project = server.new_project_as("flow", "1,2", "Sync");
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    m.ok(&["project", "edit", "SAM2", "--statuses", "Open,Triage,Working,Needs info,Done"]);
    let file = s.home().join("mapping.toml");
    let table = "Open = \"New\"\nTriage = \"Triage\"\nWorking = \"In Progress\"\n\"Needs info\" = \"Waiting for customer\"\nDone = \"Closed\"\n";
    std::fs::write(&file, format!("[status]\n{table}[priority]\nMedium = \"Normal\"\n")).unwrap();
    let mut accept = server.flags();
    accept.extend(["--mapping".to_string(), file.to_string_lossy().into_owned()]);
    let accept: Vec<&str> = accept.iter().map(String::as_str).collect();
    pair_with(&m, &s, "acme", "SAM2", &project, &[], &accept);
    settle(&m, &s, "acme");

    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "flow"]);
    settle(&m, &s, "acme");
    let status = || server.issues(&project)[0]["status"]["name"].as_str().unwrap().to_string();
    assert_eq!(status(), "New");
    for (ours, theirs) in [("Triage", "Triage"), ("Working", "In Progress"), ("Needs info", "Waiting for customer")] {
        m.ok(&["issue", "edit", "SAM2-1", "--status", ours]);
        settle(&m, &s, "acme");
        assert_eq!(status(), theirs, "{}", s.ok(&["errors", "list", "acme"]));
    }
    assert_eq!(s.status()["issues_with_errors"], 0, "{}", s.ok(&["errors", "list", "acme"]));

    // Alice answers the question in Redmine: back to In Progress, which
    // the vendor sees as Working.
    let rid = server.issues(&project)[0]["id"].as_u64().unwrap();
    let statuses = server.admin("GET", "/issue_statuses.json", None);
    let id_of =
        |n: &str| statuses["issue_statuses"].as_array().unwrap().iter().find(|s| s["name"] == n).unwrap()["id"].clone();
    server.alice(
        "PUT",
        &format!("/issues/{rid}.json"),
        &format!(r#"{{"issue":{{"status_id":{}}}}}"#, id_of("In Progress")),
    );
    settle(&m, &s, "acme");
    assert_eq!(m.issue("SAM2-1")["status"], "Working");

    // Done from In Progress: the role's workflow has no such step.
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Done"]);
    settle(&m, &s, "acme");
    assert_eq!(status(), "In Progress", "Redmine kept its status");
    assert_eq!(s.status()["issues_with_errors"], 1, "the difference shows");
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(errors.contains("did not take status 'Closed'") && errors.contains("workflow"), "{errors}");
}
