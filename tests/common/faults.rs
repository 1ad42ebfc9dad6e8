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
