//! Driving two peers through a tracker's faults: cycles whatever fails,
//! cycles until all is quiet, and a verify that finds nothing differing.

use super::{carry, TestPeer};

/// Cycles both peers and carries files `rounds` times, whatever fails.
pub fn churn(m: &TestPeer, s: &TestPeer, rounds: usize) {
    let (mut pm, mut ps) = (m.peer(), s.peer());
    for _ in 0..rounds {
        let _ = pm.cycle();
        carry(m, s, "acme");
        let _ = ps.cycle();
        carry(s, m, "acme");
    }
}

/// Cycles both peers and carries files until neither side has anything
/// failing and two rounds in a row moved nothing (a write that got no
/// answer waits its time before it is made again), at most a minute.
pub fn drain(m: &TestPeer, s: &TestPeer) {
    let (mut pm, mut ps) = (m.peer(), s.peer());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut quiet = 0;
    while quiet < 2 {
        assert!(std::time::Instant::now() < deadline, "still failing after a minute: {}", s.status()["failing"]);
        let (a, ca) = (pm.cycle(), carry(m, s, "acme"));
        let (b, cb) = (ps.cycle(), carry(s, m, "acme"));
        let idle = |r: &anyhow::Result<postern::engine::CycleReport>| r.as_ref().is_ok_and(|r| r.is_idle());
        quiet = if idle(&a) && idle(&b) && ca + cb == 0 { quiet + 1 } else { 0 };
        if quiet == 0 {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// A verify started on the tracker's side finds nothing that differs, on
/// either side.
pub fn verified_equal(m: &TestPeer, s: &TestPeer) {
    s.ok(&["sync", "verify", "acme", "--wait", "0"]);
    churn(m, s, 6);
    for p in [m, s] {
        let out = p.cli(&["sync", "verify", "acme", "--last", "--json"]);
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a verify report");
        assert_eq!(r["differing"], serde_json::json!([]), "{r}");
        assert!(r["pairs"].as_u64().unwrap() > 0, "{r}");
    }
}

/// An embedded vendor `m` and a Redmine customer `s` on `project`, paired
/// as `acme` through `proxy`, whose faults the caller has planned: the
/// vendor makes `issues` issues with two notes and a file each; Alice
/// (`alice`: Redmine reached past the proxy) notes one that arrived. Once
/// the faults stop: each issue, note and file is in Redmine once, Alice's
/// note reached the vendor once, nothing came back, nothing is parked and
/// a verify finds both equal. Returns the faults made, in words.
pub fn redmine_customer_gets_everything_once(
    (m, s): (&TestPeer, &TestPeer),
    proxy: &super::fault_proxy::Proxy,
    alice: &postern::tracker::redmine::Redmine,
    (project, issues): (&str, usize),
) -> String {
    use postern::tracker::{Actor, Reads, Writes};
    let files = tempfile::tempdir().unwrap();
    for n in 1..=issues {
        let key = format!("SAM2-{n}");
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("Redmine fault {n}")]);
        m.ok(&["comment", "add", &key, "--body", &format!("first note {n}")]);
        m.ok(&["comment", "add", &key, "--body", &format!("second note {n}")]);
        let file = files.path().join(format!("trace-{n}.log"));
        std::fs::write(&file, format!("trace {n}\n").repeat(100 * n)).unwrap();
        m.ok(&["attachment", "add", &key, file.to_str().unwrap()]);
    }
    // The vendor's issues as Redmine holds them (not one there before).
    let held = || {
        let keys = alice.issue_keys(project).unwrap();
        let all = alice.issues(&keys).unwrap().into_iter().flatten();
        all.filter(|i| i.fields.summary.starts_with("Redmine fault")).collect::<Vec<_>>()
    };
    churn(m, s, 20);
    for _ in 0..20 {
        if !held().is_empty() {
            break;
        }
        churn(m, s, 5);
    }
    // Meanwhile a person adds a note to an issue that arrived (past the
    // proxy: her answers are not the sync's faults).
    let first = held().first().expect("an issue arrived under the faults").key.clone();
    alice.add_comment(&first, "Alice's note meanwhile", None, Actor::person("alice")).unwrap();
    churn(m, s, 20);
    proxy.plan.lock().unwrap().writes_pct = 0;
    proxy.plan.lock().unwrap().reads_pct = 0;
    let said = proxy.plan.lock().unwrap().said();
    s.ok(&["errors", "retry", "acme", "--all"]);
    drain(m, s);
    let made = held();
    let mut subjects: Vec<&str> = made.iter().map(|i| i.fields.summary.as_str()).collect();
    subjects.sort();
    let want: Vec<String> = (1..=issues).map(|n| format!("Redmine fault {n}")).collect();
    assert_eq!(subjects, want, "each issue once in Redmine ({said})");
    for i in &made {
        let alices = usize::from(i.key == first);
        assert_eq!(i.comments.len(), 2 + alices, "each note once: {i:?} ({said})");
        assert_eq!(i.attachments.len(), 1, "each file once: {i:?} ({said})");
    }
    let mut alices = 0;
    for n in 1..=issues {
        let comments = m.issue(&format!("SAM2-{n}"))["comments"].as_array().unwrap().clone();
        let by_alice = comments.iter().filter(|c| c["body"] == "Alice's note meanwhile").count();
        alices += by_alice;
        assert_eq!(comments.len(), 2 + by_alice, "SAM2-{n}: nothing came back ({said})");
    }
    assert_eq!(alices, 1, "Alice's note reached the vendor once ({said})");
    assert_eq!(m.issues("SAM2").len(), issues, "no issue came back ({said})");
    assert_eq!(s.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]), "nothing left parked");
    verified_equal(m, s);
    said
}
