//! GitHub's webhooks as a wake-up, against two real daemons: with a hook,
//! a change made in GitHub reaches the vendor long before the next poll;
//! an unsigned or wrongly signed hook is refused and counted and wakes
//! nothing; without any hook the change still crosses at the poll.

mod common;
#[path = "common/github_fake/mod.rs"]
mod github_fake;

use std::time::{Duration, Instant};

use common::console::{http, serve};
use common::*;
use github_fake::{Fake, Running, ALICE_TOKEN, SYNC_TOKEN};
use postern::tracker::github::GitHub;
use postern::tracker::{Actor, Writes};

const SECRET: &str = "It's a Secret to Everybody";

/// An embedded vendor and a GitHub customer whose webhooks are signed
/// with [`SECRET`], paired, their folders wired for daemons.
fn paired(fake: &Running) -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let (token, secret) = (s.home().join("github-token"), s.home().join("hook-secret"));
    std::fs::write(&token, SYNC_TOKEN).unwrap();
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let accept = [
        "--tracker",
        "github",
        "--github-url",
        &fake.url,
        "--github-token-file",
        token.to_str().unwrap(),
        "--github-webhook-secret-file",
        secret.to_str().unwrap(),
    ];
    pair_with(&m, &s, "acme", "SAM2", "example/support", &[], &accept);
    settle(&m, &s, "acme");
    wire(&m, &s, "acme");
    (m, s)
}

/// A webhook as GitHub sends it, signed with `secret` (`None`: unsigned).
fn hook(addr: &str, event: &str, body: &str, secret: Option<&str>) -> common::console::Answer {
    let sig = secret.map(|k| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(k.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    });
    let mut headers = vec![("X-GitHub-Event", event), ("Content-Type", "application/json")];
    if let Some(s) = &sig {
        headers.push(("X-Hub-Signature-256", s));
    }
    // GitHub reaches the console through a proxy: another Host.
    headers.push(("Host", "hooks.example.com"));
    http(addr, "POST", "/hooks/github", &headers, body)
}

fn payload(number: &str) -> String {
    format!(r#"{{"action":"edited","issue":{{"number":{number}}},"repository":{{"full_name":"example/support"}}}}"#)
}

fn alice(fake: &Running) -> GitHub {
    let home = tempfile::tempdir().unwrap().keep();
    GitHub::open(&github_fake::settings(&fake.url, ALICE_TOKEN), &home, "alice").unwrap()
}

/// How long until the vendor's issue shows `comment` (at most `limit`).
fn until_comment(m: &TestPeer, comment: &str, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        let v = m.issue("SAM2-1");
        if v["comments"].as_array().is_some_and(|c| c.iter().any(|c| c["body"] == comment)) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn a_signed_webhook_wakes_the_sync_and_a_forged_one_changes_nothing() {
    let fake = github_fake::start(Fake::new());
    let (m, s) = paired(&fake);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Login fails"]);
    let _vendor = m.daemon(&["--interval", "1"]);
    // The customer polls GitHub once a minute: only a hook is faster.
    let (_customer, addr) = serve(&s, &["--interval", "1", "--tracker-interval", "60", "--http", "127.0.0.1:0"]);
    m.wait_running();
    assert!(until_any_issue(&fake, Duration::from_secs(30)), "the vendor's issue reached GitHub");
    quiet(&m, &s);
    let gh = alice(&fake);

    // Forged: unsigned, signed with another secret, for another repository.
    gh.add_comment("1", "Forged wake", None, Actor::person("alice")).unwrap();
    assert_eq!(hook(&addr, "issue_comment", &payload("1"), None).status, 401);
    assert_eq!(hook(&addr, "issue_comment", &payload("1"), Some("guessed")).status, 401);
    let other = payload("1").replace("example/support", "example/other");
    assert_eq!(hook(&addr, "issue_comment", &other, Some(SECRET)).status, 401);
    assert_eq!(until_comment(&m, "Forged wake", Duration::from_secs(4)), None, "a forged hook woke nothing");
    let metrics = http(&addr, "GET", "/metrics", &[], "").body;
    assert!(metrics.contains("postern_webhooks_total{result=\"refused\"} 3"), "{metrics}");
    // Anyone may send one: a body no issue's hook comes near is not read.
    assert_eq!(hook(&addr, "issues", &"x".repeat(3 << 20), Some(SECRET)).status, 413);

    // Signed: the waiting comment and a new one cross at once.
    let taken = hook(&addr, "issue_comment", &payload("1"), Some(SECRET));
    assert_eq!(taken.status, 202, "{taken:?}");
    let first = until_comment(&m, "Forged wake", Duration::from_secs(10));
    assert!(first.is_some(), "a signed hook wakes the sync");
    let mut took = Vec::new();
    for n in 0..3 {
        let text = format!("Hooked {n}");
        gh.add_comment("1", &text, None, Actor::person("alice")).unwrap();
        assert_eq!(hook(&addr, "issue_comment", &payload("1"), Some(SECRET)).status, 202);
        took.push(until_comment(&m, &text, Duration::from_secs(10)).expect("crossed after its hook"));
    }
    took.sort();
    eprintln!("GitHub change → on the vendor with a hook: {took:?} (p50 {:?})", took[1]);
    // A comment deleted: GitHub moves no time for it, its hook names the
    // issue, which is read whole at once (without, the hourly full read).
    // Five minutes on, the issue has left the window the polls list.
    fake.state.lock().unwrap().clock_offset_ms += 5 * 60_000;
    for _ in 0..2 {
        assert_eq!(hook(&addr, "issues", &payload("99"), Some(SECRET)).status, 202);
        std::thread::sleep(Duration::from_millis(1500));
    }
    let gone = fake.state.lock().unwrap().comments.iter().find(|c| c.body == "Hooked 0").map(|c| c.id).unwrap();
    gh.delete_comment("1", &gone.to_string(), Actor::person("alice")).unwrap();
    let deleted = payload("1").replace("edited", "deleted");
    assert_eq!(hook(&addr, "issue_comment", &deleted, Some(SECRET)).status, 202);
    let start = Instant::now();
    while m.issue("SAM2-1")["comments"].as_array().unwrap().iter().any(|c| c["body"] == "Hooked 0") {
        assert!(start.elapsed() < Duration::from_secs(10), "the deleted comment went on the vendor's side");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A ping (sent when the hook is made) is taken, wakes nothing.
    assert_eq!(hook(&addr, "ping", &payload("1"), Some(SECRET)).status, 202);
    let metrics = http(&addr, "GET", "/metrics", &[], "").body;
    assert!(metrics.contains("postern_webhooks_total{result=\"taken\"} 8"), "{metrics}");
    let log = std::fs::read_to_string(s.home().join("daemon.log")).unwrap();
    assert!(!log.contains(SECRET) && !log.contains(SYNC_TOKEN), "no secret in the log");
}

/// Until neither side waits for an acknowledgement, and a while more:
/// nothing of the pairing's own makes the customer read GitHub after it.
fn quiet(m: &TestPeer, s: &TestPeer) {
    let start = Instant::now();
    while [m, s].iter().any(|p| p.status_of("acme")["awaiting_ack"] != 0) {
        assert!(start.elapsed() < Duration::from_secs(30), "the pairing did not settle");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
}

fn until_any_issue(fake: &Running, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if !fake.state.lock().unwrap().issues.is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn without_a_hook_a_change_crosses_at_the_poll() {
    let fake = github_fake::start(Fake::new());
    let (m, s) = paired(&fake);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Login fails"]);
    let _vendor = m.daemon(&["--interval", "1"]);
    let _customer = s.daemon(&["--interval", "1", "--tracker-interval", "2"]);
    assert!(until_any_issue(&fake, Duration::from_secs(30)));
    alice(&fake).add_comment("1", "Polled", None, Actor::person("alice")).unwrap();
    assert!(until_comment(&m, "Polled", Duration::from_secs(20)).is_some(), "the poll is the truth");
}

#[path = "common/jira_fake/mod.rs"]
mod jira_fake;

/// Jira Data Center's webhooks wake its sync the same way, signed with
/// `X-Hub-Signature`.
#[test]
fn a_signed_jira_data_center_webhook_wakes_its_sync() {
    let fake = jira_fake::start(jira_fake::Fake::new(false, "SUP"));
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let (token, secret) = (s.home().join("jira-token"), s.home().join("hook-secret"));
    std::fs::write(&token, "p4t").unwrap();
    std::fs::write(&secret, SECRET).unwrap();
    let accept = [
        "--tracker",
        "jira",
        "--jira-url",
        &fake.url,
        "--jira-token-file",
        token.to_str().unwrap(),
        "--jira-webhook-secret-file",
        secret.to_str().unwrap(),
        "--status-map",
        "Open=To Do",
    ];
    pair_with(&m, &s, "acme", "SAM2", "SUP", &[], &accept);
    settle(&m, &s, "acme");
    wire(&m, &s, "acme");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Login fails"]);
    let _vendor = m.daemon(&["--interval", "1"]);
    let (_customer, addr) = serve(&s, &["--interval", "1", "--tracker-interval", "60", "--http", "127.0.0.1:0"]);
    let start = Instant::now();
    while fake.state.lock().unwrap().issues.is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "the vendor's issue reached Jira");
        std::thread::sleep(Duration::from_millis(50));
    }
    quiet(&m, &s);
    let auth = postern::tracker::jira::JiraAuth::Basic {
        user: "alice@example.com".into(),
        secret: postern::transport::mail::Password::Value("al1ce".into()),
    };
    let home = tempfile::tempdir().unwrap();
    let alice = postern::tracker::jira::Jira::open(
        &jira_fake::settings(&fake.url, postern::tracker::jira::Flavour::DataCenter, auth),
        home.path(),
        "alice",
    )
    .unwrap();
    alice.add_comment("SUP-1", "From Jira", None, Actor::person("alice")).unwrap();
    let body = r#"{"webhookEvent":"comment_created","issue":{"key":"SUP-1","fields":{"project":{"key":"SUP"}}}}"#;
    let sign = |key: &str| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let post = |sig: &str| {
        let headers = [("X-Hub-Signature", sig), ("Content-Type", "application/json")];
        http(&addr, "POST", "/hooks/jira", &headers, body).status
    };
    assert_eq!(post(&sign("guessed")), 401);
    assert_eq!(until_comment(&m, "From Jira", Duration::from_secs(3)), None, "a forged hook woke nothing");
    assert_eq!(post(&sign(SECRET)), 202);
    assert!(until_comment(&m, "From Jira", Duration::from_secs(10)).is_some(), "the signed hook woke the sync");
}
