//! Jira workflows as customers have them, through the fake Jira: paths of
//! several transitions, screens that require fields, conditions that hide
//! a transition from the sync user, and validators that refuse one. A
//! status the sync user cannot reach is always that issue's error, with
//! what would fix it; never a silent difference.

mod common;
#[path = "common/jira_fake/mod.rs"]
mod jira_fake;
#[path = "common/jira_peers.rs"]
mod jira_peers;

use common::*;
use jira_fake::{Fake, Running};
use jira_peers::*;

/// A fake Jira Cloud whose workflow is a customer's: To Do → In Progress
/// → Done, and Done → To Do.
fn customers_workflow() -> Running {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let edge = |a: &str, b: &str| (a.to_string(), b.to_string());
    fake.state.lock().unwrap().workflow =
        vec![edge("To Do", "In Progress"), edge("In Progress", "Done"), edge("Done", "To Do")];
    fake
}

/// A workflow as customers have one: To Do → In Progress → Done, Done →
/// To Do, and a screen on the way to Done that asks for a resolution. The
/// vendor's Open → Done takes two transitions with the resolution filled;
/// Done → In Progress goes back through To Do.
#[test]
fn a_status_several_transitions_away_is_reached_through_the_workflow() {
    let fake = customers_workflow();
    fake.state.lock().unwrap().resolution_on = Some("Done".into());
    let (m, s) = paired(&fake);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "walked"]);
    settle(&m, &s, "acme");
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Done"]);
    settle(&m, &s, "acme");
    assert_eq!(s.status()["issues_with_errors"], 0, "{}", s.ok(&["errors", "list", "acme"]));
    let raw = |fake: &Running| fake.state.lock().unwrap().issues[0].fields.clone();
    assert_eq!(raw(&fake)["status"], "Done");
    assert_eq!(raw(&fake)["resolution"]["name"], "Done", "the screen's resolution was filled");
    // The mapping file names the resolution: it is the one taken, and one
    // the screen does not offer is that issue's error naming those it does.
    let file = s.home().join("mapping.toml");
    std::fs::write(&file, "[screens]\nResolution = \"Won't Do\"\n").unwrap();
    s.ok(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Open"]);
    settle(&m, &s, "acme");
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Done"]);
    settle(&m, &s, "acme");
    assert_eq!((&raw(&fake)["status"], &raw(&fake)["resolution"]["name"]), (&"Done".into(), &"Won't Do".into()));
    std::fs::write(&file, "[screens]\nResolution = \"Duplicate\"\n").unwrap();
    s.ok(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Open"]);
    settle(&m, &s, "acme");
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Done"]);
    settle(&m, &s, "acme");
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(
        errors.contains("gives 'Duplicate' for 'Resolution'") && errors.contains("it offers: Done, Won't Do"),
        "{errors}"
    );
    s.ok(&["errors", "ignore", "acme", "SAM2-1"]);
    std::fs::remove_file(&file).unwrap();
    s.ok(&["sync", "edit", "acme", "--no-mapping"]);
    m.ok(&["issue", "edit", "SAM2-1", "--status", "In Progress"]);
    settle(&m, &s, "acme");
    assert_eq!(raw(&fake)["status"], "In Progress");
    // The walk is the sync user's own: nothing comes back to the vendor.
    settle(&m, &s, "acme");
    assert_eq!(m.issue("SAM2-1")["status"], "In Progress");
    assert_eq!(s.status()["issues_with_errors"], 0, "{}", s.ok(&["errors", "list", "acme"]));
}

/// Jira's "only the assignee" condition hides the way to Done from the
/// sync user while the issue is someone else's (or no one's): the issue's
/// error says the transition may be hidden by a condition and where the
/// walk left the issue; once Jira's admin assigns the issue to the sync
/// user, a retry goes through. A validator's refusal is the issue's error
/// in Jira's words; once the validator is satisfied, a retry applies it.
#[test]
fn a_transition_hidden_by_a_condition_or_refused_by_a_validator_is_the_issues_error() {
    let fake = customers_workflow();
    fake.state.lock().unwrap().assignee_only_to = vec!["Done".into()];
    let (m, s) = paired(&fake);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "guarded"]);
    settle(&m, &s, "acme");
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Done"]);
    settle(&m, &s, "acme");
    let raw = |fake: &Running| fake.state.lock().unwrap().issues[0].fields.clone();
    // The walk went one step and this workflow has no way back: said.
    assert_eq!(raw(&fake)["status"], "In Progress");
    assert_eq!(s.status()["issues_with_errors"], 1, "the difference shows");
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(errors.contains("no transition of SUP-1 leads from 'To Do' to 'Done'"), "{errors}");
    assert!(errors.contains("could not go back: it stays at 'In Progress'"), "{errors}");
    assert!(errors.contains("a condition may hide it from the sync user"), "{errors}");

    // Jira's admin assigns the issue to the sync user; a retry takes the
    // way the condition now shows.
    fake.state.lock().unwrap().issues[0].fields.insert("assignee".into(), serde_json::json!(0));
    s.ok(&["errors", "retry", "acme", "SAM2-1"]);
    settle(&m, &s, "acme");
    assert_eq!(raw(&fake)["status"], "Done", "{}", s.ok(&["errors", "list", "acme"]));
    assert_eq!(s.status()["issues_with_errors"], 0, "{}", s.ok(&["errors", "list", "acme"]));

    // A validator on the way back to To Do: refused in Jira's words.
    fake.state.lock().unwrap().labels_required_to =
        Some(("To Do".into(), "An issue reopened needs a label saying why.".into()));
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Open"]);
    settle(&m, &s, "acme");
    assert_eq!(raw(&fake)["status"], "Done");
    let errors = s.ok(&["errors", "list", "acme"]);
    assert!(errors.contains("An issue reopened needs a label saying why."), "{errors}");
    // A person labels it in Jira; the retry goes through, and the label
    // reaches the vendor.
    fake.state.lock().unwrap().issues[0].fields.insert("labels".into(), serde_json::json!(["regression"]));
    s.ok(&["errors", "retry", "acme", "SAM2-1"]);
    settle(&m, &s, "acme");
    assert_eq!(raw(&fake)["status"], "To Do", "{}", s.ok(&["errors", "list", "acme"]));
    assert_eq!(s.status()["issues_with_errors"], 0, "{}", s.ok(&["errors", "list", "acme"]));
    assert_eq!(m.issue("SAM2-1")["status"], "Open");
}
