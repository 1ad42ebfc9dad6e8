//! The Jira benchmark against the fake Jira of the tests (no Jira runs
//! here; see the README): `cargo run --release --example jira_bench --
//! --bench [--issues N] [--comments N] [--datacenter]`. Without `--bench`
//! it runs a small round and checks it converged (the test suite builds
//! and runs examples).

#[path = "../tests/common/jira_fake/mod.rs"]
#[allow(dead_code)]
mod jira_fake;

use postern::tracker::jira::{Flavour, JiraAuth};
use postern::transport::mail::Password;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let bench = args.iter().any(|a| a == "--bench");
    let cloud = !args.iter().any(|a| a == "--datacenter");
    let (issues, comments) = if bench { (value("--issues", 1000), value("--comments", 5)) } else { (5, 2) };
    let fake = jira_fake::start(jira_fake::Fake::new(cloud, "SUP"));
    let settings = |user: &str, token: &str| {
        let flavour = if cloud { Flavour::Cloud } else { Flavour::DataCenter };
        let auth = JiraAuth::Basic { user: user.into(), secret: Password::Value(token.into()) };
        let mut s = jira_fake::settings(&fake.url, flavour, auth);
        s.statuses = [("Open".to_string(), "To Do".to_string())].into();
        s
    };
    // Before the steady stream: five minutes later, for the fake Jira.
    let later = || fake.state.lock().unwrap().clock_offset_ms += 5 * 60_000;
    let (sync, person) = (settings("sync@example.com", "t0ken"), settings("alice@example.com", "al1ce"));
    let home = tempfile::tempdir()?;
    let person = postern::tracker::jira::Jira::open(&person, home.path(), "bench-person")?;
    let remote = postern::bench::remote::Remote {
        name: "Jira",
        settings: postern::tracker::TrackerSettings::Jira(sync),
        project: "SUP",
        person: &person,
        fields: postern::protocol::IssueFields {
            status: "To Do".into(),
            priority: "Medium".into(),
            ..Default::default()
        },
    };
    let f = postern::bench::remote::run(&remote, (issues, comments), &later)?;
    postern::bench::remote::print_table(&f);
    println!("\n{}", serde_json::to_string_pretty(&f)?);
    let made = fake.state.lock().unwrap().issues.len();
    anyhow::ensure!(made == 2 * issues, "{made} issues in the fake Jira, {} expected", 2 * issues);
    Ok(())
}
