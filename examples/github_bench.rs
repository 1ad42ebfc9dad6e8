//! The GitHub benchmark against the fake GitHub of the tests (no GitHub
//! runs here; see the README): `cargo run --release --example
//! github_bench -- --bench [--issues N] [--comments N]`: an initial sync
//! each way and a steady stream, with the HTTP calls per synced change,
//! then what an idle sync costs GitHub: requests per poll and per hour at
//! the default tracker interval, and the rate limit they use. Without
//! `--bench` it runs a small round and checks it converged.

#[path = "../tests/common/github_fake/mod.rs"]
#[allow(dead_code)]
mod github_fake;

use postern::tracker::github::GitHub;
use postern::tracker::{Reads, TrackerSettings};

/// `postern run`'s default `--tracker-interval` (seconds).
const TRACKER_INTERVAL: u64 = 10;

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
    let (issues, comments) = if bench { (value("--issues", 200), value("--comments", 5)) } else { (5, 2) };
    let fake = github_fake::start(github_fake::Fake::new());
    let later = || fake.state.lock().unwrap().clock_offset_ms += 5 * 60_000;
    let home = tempfile::tempdir()?;
    let person = GitHub::open(&github_fake::settings(&fake.url, github_fake::ALICE_TOKEN), home.path(), "person")?;
    let sync = github_fake::settings(&fake.url, github_fake::SYNC_TOKEN);
    let remote = postern::bench::remote::Remote {
        name: "GitHub",
        settings: TrackerSettings::GitHub(sync.clone()),
        project: "example/support",
        person: &person,
        fields: postern::protocol::IssueFields { status: "Open".into(), ..Default::default() },
    };
    let f = postern::bench::remote::run(&remote, (issues, comments), &later)?;
    postern::bench::remote::print_table(&f);
    println!("\n{}", serde_json::to_string_pretty(&f)?);
    let made = fake.state.lock().unwrap().issues.len();
    anyhow::ensure!(made == 2 * issues, "{made} issues in the fake GitHub, {} expected", 2 * issues);

    // Idle: a sync that knows every issue, polled with nothing new.
    let g = GitHub::open(&sync, home.path(), "idle")?;
    let mut cursor = g.start_cursor("example/support")?;
    let page = g.changes_since("example/support", &cursor, 100)?;
    g.collected(&page.next)?;
    cursor = page.next;
    let polls = 30;
    let (calls, not_modified, left) = g.calls();
    for _ in 0..polls {
        let page = g.changes_since("example/support", &cursor, 100)?;
        anyhow::ensure!(page.changes.is_empty(), "an idle poll found {} changes", page.changes.len());
        cursor = page.next;
    }
    let (calls_after, not_modified_after, left_after) = g.calls();
    let per_poll = (calls_after - calls) as f64 / polls as f64;
    let free = (not_modified_after - not_modified) as f64 / (calls_after - calls).max(1) as f64;
    let per_hour = per_poll * (3600 / TRACKER_INTERVAL) as f64;
    println!(
        "idle: {per_poll:.1} requests per poll, {:.0}% answered 304; {per_hour:.0} requests per hour at \
         --tracker-interval {TRACKER_INTERVAL}, {} rate-limit points used by {polls} polls (GitHub allows 5,000 \
         an hour)",
        free * 100.0,
        left - left_after
    );
    Ok(())
}
