//! The console's test scene: a master home with two real folder syncs
//! ("acme" active with paired issues, "beta" failing: its exchange folder
//! is gone), a daemon serving the console, and a raw HTTP/1.1 client (so
//! tests set the Host header, cookies and forms themselves and see every
//! redirect).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::*;

pub struct Scene {
    pub m: TestPeer,
    pub s1: TestPeer,
    pub s2: TestPeer,
    /// The local keys of the issues paired in "acme".
    pub issues: Vec<String>,
}

/// Sets up the two syncs; "acme" has `n` paired issues; beta's folder is
/// gone.
pub fn scene(n: usize) -> Scene {
    let sc = healthy_scene(n);
    // beta's folder disappears (a share that is no longer mounted).
    let ex = sc.m.exchange("beta");
    std::fs::remove_dir_all(&ex).unwrap();
    std::fs::write(&ex, "not a folder").unwrap();
    sc
}

/// The two syncs, both working.
pub fn healthy_scene(n: usize) -> Scene {
    let (m, s1, s2) =
        (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"), TestPeer::new(SLAVE_KEY, "SP3"));
    m.ok(&["project", "create", "SAM3"]);
    pair(&m, &s1, "acme", "SAM2", "SP2");
    settle(&m, &s1, "acme");
    let mut issues = Vec::new();
    for i in 0..n {
        issues.push(m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("Printer {i} jams")]));
    }
    settle(&m, &s1, "acme");
    pair(&m, &s2, "beta", "SAM3", "SP3");
    settle(&m, &s2, "beta");
    Scene { m, s1, s2, issues }
}

/// Starts the daemon with the console (`args` after `run`), waits until it
/// serves, and returns it with its address ("127.0.0.1:port").
pub fn serve(p: &TestPeer, args: &[&str]) -> (Daemon, String) {
    let d = p.daemon(args);
    let log = p.home().join("daemon.log");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(rest) = text.split("console on http://").nth(1) {
            return (d, rest.split('/').next().unwrap().to_string());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the console did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
}

/// An answer: status, headers (lower-case names), body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The session cookie a login set (`postern_session=…`).
    pub fn cookie(&self) -> Option<String> {
        self.header("set-cookie").map(|c| c.split(';').next().unwrap().to_string())
    }
}

/// One request. `headers` are added as given; Host is `127.0.0.1` unless given.
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req += &format!("Host: {addr}\r\n");
    }
    if method == "POST" && !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type")) {
        req += "Content-Type: application/x-www-form-urlencoded\r\n";
    }
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    req += "\r\n";
    req += body;
    s.write_all(req.as_bytes()).unwrap();
    let raw = String::from_utf8(read_answer(&mut s)).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let body = if headers.iter().any(|(k, v)| k == "transfer-encoding" && v == "chunked") {
        unchunk(body)
    } else {
        body.to_string()
    };
    Answer { status, headers, body }
}

/// Reads one answer: to its Content-Length, its last chunk, or the end
/// (a server may keep the connection open despite `Connection: close`).
fn read_answer(s: &mut TcpStream) -> Vec<u8> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = &text[..end];
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse::<usize>().unwrap());
            match length {
                Some(n) if raw.len() >= end + 4 + n => return raw,
                None if head.contains("transfer-encoding: chunked") && text.ends_with("\r\n0\r\n\r\n") => return raw,
                _ => {}
            }
        }
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            return raw;
        }
        raw.extend_from_slice(&buf[..n]);
    }
}

fn unchunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out += &rest[..n];
        s = &rest[n + 2..];
    }
    out
}

pub fn get(addr: &str, path: &str) -> Answer {
    http(addr, "GET", path, &[], "")
}

/// The CSRF token in a page's forms.
pub fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .expect("a form with a CSRF token")
        .split('"')
        .next()
        .unwrap()
        .to_string()
}
