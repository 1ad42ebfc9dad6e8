//! `postern bench --redmine ENV`: an embedded peer and a peer on a real
//! Redmine (the env file of `scripts/redmine.sh start`), measured both
//! ways against the bare REST calls the same work needs, made directly in
//! the same run; and change → applied latency through running daemons.

use crate::tracker::remote::rest::Rest;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::json;

use super::setup::{wait_until, Pair};
use crate::tracker::redmine::api::Api;
use crate::tracker::redmine::RedmineSettings;
use crate::tracker::{Embedded, Reads, TrackerSettings};
use crate::transport::mail::Password;

#[derive(Debug, Serialize)]
pub struct RedmineFigures {
    pub issues: usize,
    pub journals_per_issue: usize,
    /// Redmine → embedded: issues made in Redmine, found and applied.
    pub in_secs: f64,
    pub in_issues_per_sec: f64,
    /// The GETs the same reading needs (pages of the list, each issue with
    /// its journals), made directly.
    pub in_bare_secs: f64,
    pub in_ratio: f64,
    /// Embedded → Redmine: issues and comments written into Redmine.
    pub out_secs: f64,
    pub out_issues_per_sec: f64,
    /// The same writes made directly (POST the issue, PUT each note) and
    /// the read of each that learns the new ids.
    pub out_bare_secs: f64,
    pub out_ratio: f64,
    /// A change in Redmine → applied on the embedded side, through
    /// daemons polling Redmine every `tracker_interval_secs`.
    pub latency_ms: Vec<u64>,
    pub tracker_interval_secs: f64,
    /// HTTP calls to Redmine per synced change (an issue or a comment),
    /// reading and writing.
    pub in_calls_per_change: f64,
    pub out_calls_per_change: f64,
    /// `sync verify` started on the Redmine side, both sides agreeing:
    /// seconds, and HTTP calls to Redmine per pair.
    pub verify_pairs: usize,
    pub verify_secs: f64,
    pub verify_calls_per_pair: f64,
}

fn read_env(path: &Path) -> Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('\'').to_string()))
        .collect())
}

fn api(url: &str, key: &str, project: &str) -> Result<Api> {
    Api::new(&RedmineSettings {
        url: url.into(),
        project: project.into(),
        api_key: Password::Value(key.into()),
        ca_file: None,
        labels_field: None,
        statuses: [("Open".to_string(), "New".to_string())].into(),
        priorities: [("Medium".to_string(), "Normal".to_string())].into(),
        rescan_secs: 3600,
        timeout_secs: crate::tracker::remote::http::default_timeout(),
    })
}

/// A fresh project with the sync user and the person as developers.
fn project(admin: &Api, env: &HashMap<String, String>, prefix: &str) -> Result<String> {
    let id = format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let p = json!({"project": {"name": id, "identifier": id, "enabled_module_names": ["issue_tracking", "time_tracking"], "tracker_ids": [1, 2]}});
    admin.post("/projects.json", &p)?;
    let roles = admin.get("/roles.json")?;
    let dev = roles["roles"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "Developer"))
        .context("no Developer role")?;
    for who in ["REDMINE_SYNC_USER_ID", "REDMINE_ALICE_USER_ID"] {
        let user: u64 = env.get(who).context("env file")?.parse()?;
        let m = json!({"membership": {"user_id": user, "role_ids": [dev["id"]]}});
        admin.post(&format!("/projects/{id}/memberships.json"), &m)?;
    }
    Ok(id)
}

fn total(api: &Api, project: &str) -> Result<u64> {
    Ok(api.get(&format!("/issues.json?project_id={project}&status_id=*&limit=1"))?["total_count"].as_u64().unwrap_or(0))
}

pub fn run(env_file: &Path, issues: usize, journals: usize, samples: usize) -> Result<RedmineFigures> {
    let env = read_env(env_file)?;
    let get = |k: &str| env.get(k).cloned().with_context(|| format!("{k} in {}", env_file.display()));
    let url = get("REDMINE_URL")?;
    let admin = api(&url, &get("REDMINE_ADMIN_KEY")?, "")?;
    let (synced, bare) = (project(&admin, &env, "bench")?, project(&admin, &env, "bare")?);
    let person = api(&url, &get("REDMINE_ALICE_KEY")?, &synced)?;
    let sync_user = api(&url, &get("REDMINE_SYNC_KEY")?, &bare)?;
    let tmp = tempfile::tempdir()?;
    let settings = RedmineSettings {
        url: url.clone(),
        project: synced.clone(),
        api_key: Password::Value(get("REDMINE_SYNC_KEY")?),
        ca_file: None,
        labels_field: None,
        statuses: [("Open".to_string(), "New".to_string())].into(),
        priorities: [("Medium".to_string(), "Normal".to_string())].into(),
        rescan_secs: 3600,
        timeout_secs: crate::tracker::remote::http::default_timeout(),
    };
    settings.check()?;
    let pair = Pair::with_slave_tracker(tmp.path(), &synced, TrackerSettings::Redmine(settings))?;

    // Redmine → embedded. The person's issues (not measured), then postern.
    for i in 0..issues {
        let made =
            person.post("/issues.json", &json!({"issue": {"project_id": synced, "subject": format!("bench {i}")}}))?;
        let id = made["issue"]["id"].as_u64().context("issue id")?;
        for j in 0..journals {
            person.put(&format!("/issues/{id}.json"), &json!({"issue": {"notes": format!("note {j} on {i}")}}))?;
        }
    }
    let (mut m, mut s) =
        (crate::engine::Peer::open(pair.master.clone())?, crate::engine::Peer::open(pair.slave.clone())?);
    let t = Instant::now();
    let calls = crate::tracker::remote::calls();
    crate::engine::run_until_quiet(&mut s, &mut m)?;
    let in_secs = t.elapsed().as_secs_f64();
    let changes = (issues * (1 + journals)) as f64;
    let in_calls_per_change = (crate::tracker::remote::calls() - calls) as f64 / changes;
    let arrived = Embedded::new(&m.conn).issue_keys("SAM2")?.len();
    anyhow::ensure!(arrived == issues, "{arrived} of {issues} issues arrived");
    let t = Instant::now();
    let mut offset = 0;
    loop {
        let page = person.get(&format!(
            "/issues.json?project_id={synced}&status_id=*&sort=updated_on,id&limit=100&offset={offset}"
        ))?;
        let list = page["issues"].as_array().cloned().unwrap_or_default();
        for i in &list {
            person.get(&format!("/issues/{}.json?include=journals,attachments", i["id"]))?;
        }
        offset += list.len();
        if list.is_empty() {
            break;
        }
    }
    let in_bare_secs = t.elapsed().as_secs_f64();

    // Embedded → Redmine: postern, then the same writes made directly.
    super::vendor_issues(&mut m.conn, issues, journals)?;
    let t = Instant::now();
    let calls = crate::tracker::remote::calls();
    crate::engine::run_until_quiet(&mut m, &mut s)?;
    let out_secs = t.elapsed().as_secs_f64();
    let out_calls_per_change = (crate::tracker::remote::calls() - calls) as f64 / changes;
    let written = total(&person, &synced)?;
    anyhow::ensure!(written == 2 * issues as u64, "{written} issues in Redmine, {} expected", 2 * issues);
    let t = Instant::now();
    for i in 0..issues {
        let made =
            sync_user.post("/issues.json", &json!({"issue": {"project_id": bare, "subject": format!("bare {i}")}}))?;
        let id = made["issue"]["id"].as_u64().context("issue id")?;
        for j in 0..journals {
            sync_user.put(&format!("/issues/{id}.json"), &json!({"issue": {"notes": format!("bare note {j}")}}))?;
            sync_user.get(&format!("/issues/{id}.json?include=journals,attachments"))?;
        }
    }
    let out_bare_secs = t.elapsed().as_secs_f64();
    let (verify_secs, verify_calls) = verify(&mut s, &mut m)?;
    drop((m, s));

    // Latency through daemons: a person's edit in Redmine → the vendor.
    let interval = 10.0;
    let daemons = pair.start(&["--tracker-interval", &interval.to_string()])?;
    let first = person.get(&format!("/issues.json?project_id={synced}&status_id=*&sort=id&limit=1"))?["issues"][0]
        ["id"]
        .as_u64()
        .context("an issue")?;
    let mut latency_ms = Vec::new();
    for n in 0..samples {
        // Quiet first (no acknowledgements still waking the peers), and
        // the edit lands anywhere in the polling interval.
        std::thread::sleep(Duration::from_secs_f64(interval * 1.3 + rand::random::<f64>() * interval));
        let subject = format!("latency {n}");
        person.put(&format!("/issues/{first}.json"), &json!({"issue": {"subject": subject}}))?;
        let t = Instant::now();
        wait_until(Duration::from_secs(120), Duration::from_millis(20), || {
            let db = pair.master_db()?;
            let hit: i64 = db.query_row("SELECT count(*) FROM t_issue WHERE summary = ?1", [&subject], |r| r.get(0))?;
            Ok(hit > 0)
        })?;
        latency_ms.push(t.elapsed().as_millis() as u64);
    }
    drop(daemons);
    let rate = |secs: f64| issues as f64 / secs.max(1e-9);
    Ok(RedmineFigures {
        issues,
        journals_per_issue: journals,
        in_secs,
        in_issues_per_sec: rate(in_secs),
        in_bare_secs,
        in_ratio: in_secs / in_bare_secs.max(1e-9),
        out_secs,
        out_issues_per_sec: rate(out_secs),
        out_bare_secs,
        out_ratio: out_secs / out_bare_secs.max(1e-9),
        latency_ms,
        tracker_interval_secs: interval,
        in_calls_per_change,
        out_calls_per_change,
        verify_pairs: 2 * issues,
        verify_secs,
        verify_calls_per_pair: verify_calls as f64 / (2 * issues) as f64,
    })
}

/// A verify started by `here` (the Redmine side), cycled until its report
/// is kept: (seconds, calls to Redmine it counted).
fn verify(here: &mut crate::engine::Peer, there: &mut crate::engine::Peer) -> Result<(f64, u64)> {
    let sync = crate::store::syncs::find(&here.conn, "bench")?;
    let t = Instant::now();
    let round = crate::engine::verify::start(&mut here.conn, &sync, false)?;
    for _ in 0..100 {
        here.cycle()?;
        there.cycle()?;
        if let Some(r) = crate::store::verify::get(&here.conn, &sync.id, &round)?.and_then(|r| r.report) {
            anyhow::ensure!(r.differing.is_empty(), "the verify found differences: {}", r.text());
            return Ok((t.elapsed().as_secs_f64(), r.api_calls));
        }
    }
    anyhow::bail!("the verify did not finish in 100 cycles")
}

pub fn print_table(f: &RedmineFigures) {
    println!("Redmine: {} issues with {} journals each", f.issues, f.journals_per_issue);
    println!(
        "  Redmine -> embedded   {:>8.2} s  {:>7.1} issues/s   bare GETs {:>7.2} s   ratio {:.2}",
        f.in_secs, f.in_issues_per_sec, f.in_bare_secs, f.in_ratio
    );
    println!(
        "  embedded -> Redmine   {:>8.2} s  {:>7.1} issues/s   bare writes {:>5.2} s   ratio {:.2}",
        f.out_secs, f.out_issues_per_sec, f.out_bare_secs, f.out_ratio
    );
    println!("  change in Redmine -> applied (polling every {} s): {:?} ms", f.tracker_interval_secs, f.latency_ms);
    println!(
        "  HTTP calls per synced change: Redmine -> embedded {:.2}, embedded -> Redmine {:.2}",
        f.in_calls_per_change, f.out_calls_per_change
    );
    println!(
        "  verify of {} pairs (both agree): {:.2} s, {:.2} HTTP calls per pair",
        f.verify_pairs, f.verify_secs, f.verify_calls_per_pair
    );
}
