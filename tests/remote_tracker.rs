//! A remote tracker's outages, without a real server: a local HTTP server
//! that answers every request with an error.

mod common;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;

/// Answers every request with `answer`; counts them.
fn http_server(answer: &'static str) -> (u16, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (port, count)
}

fn redmine_slave(port: u16) -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let url = format!("http://127.0.0.1:{port}");
    let accept = ["--tracker", "redmine", "--redmine-url", &url, "--redmine-key", "k", "--skip-tracker-check"];
    pair_with(&m, &s, "acme", "SAM2", "support", &[], &accept);
    (m, s)
}

#[test]
fn a_tracker_that_says_retry_after_is_not_asked_again_before() {
    let (port, count) = http_server(
        "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    let (_m, s) = redmine_slave(port);
    // Saved while its tracker is away: asked once where the sync starts.
    let at_save = count.load(Ordering::SeqCst);
    assert!(at_save <= 1, "{at_save} questions to save a sync");
    let d = s.daemon(&["--interval", "0.1", "--tracker-interval", "0.1"]);
    // The first question, whenever the daemon gets to it...
    let start = std::time::Instant::now();
    while count.load(Ordering::SeqCst) == at_save {
        assert!(start.elapsed() < Duration::from_secs(30), "the daemon never asked the tracker");
        std::thread::sleep(Duration::from_millis(10));
    }
    // ...then none for the next 3 s (30 intervals): without Retry-After
    // the daemon would have asked about 5 more times, backing off from
    // 0.1 s.
    std::thread::sleep(Duration::from_secs(3));
    let log = s.stop(d);
    assert_eq!(count.load(Ordering::SeqCst), at_save + 1, "{log}");
    assert!(log.contains("too many requests (429)"), "{log}");
    assert!(log.contains("not asked again for"), "{log}");
    let st = s.status();
    assert!(st["failing"][0]["error"].as_str().unwrap().contains("unavailable"), "{st}");
}

#[test]
fn a_failing_server_is_unreachable_and_parks_nothing() {
    let (port, count) =
        http_server("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let (m, s) = redmine_slave(port);
    // The tracker being away does not keep the slave from sending its
    // accept (nor acknowledgements).
    assert!(!s.cli(&["run", "--once"]).status.success());
    assert_eq!(carry(&s, &m, "acme"), 1, "the accept went out");
    m.cycle();
    assert_eq!(m.status()["state"], "active");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "waits"]);
    m.cycle();
    let carried = carry(&m, &s, "acme");
    let out = s.cli(&["run", "--once"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("the server answered 503"), "{err}");
    assert!(count.load(Ordering::SeqCst) >= 1);
    assert_eq!(s.ok(&["errors", "list", "acme"]), "no errors in sync 'acme'", "nothing parked");
    let waiting = list_messages(&s.exchange("acme").join("RECEIVE")).len();
    assert!(waiting >= 1 && waiting <= carried, "the change waits ({waiting} of {carried} files)");
    let status = s.ok(&["status"]);
    assert!(status.contains("FAILING         tracker since"), "{status}");
    assert!(!status.contains("FAILING         receiving"), "the folder is fine: {status}");
}
