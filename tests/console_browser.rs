//! The console in a real headless Chromium, driven through ChromeDriver's
//! WebDriver protocol: the overview shows both syncs with their states, a
//! failing sync its error, the sync page its pairs; the page refreshes
//! itself under the console's content security policy; an action without
//! the token is refused, one after logging in works; at 1280 and 800 px
//! no page is wider than the window, even with a long path in an error.
//! Screenshots are written to `target/tmp/console/`. Needs Debian's `chromium` and
//! `chromium-driver` (the integration script installs them as root).

mod common;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::console::*;
use serde_json::{json, Value};

// The W3C WebDriver element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Browser {
    driver: Child,
    addr: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(&self.addr, "DELETE", &format!("/session/{}", self.session), &[], "");
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn call(addr: &str, method: &str, path: &str, body: Value) -> Value {
    let body = if method == "GET" { String::new() } else { body.to_string() };
    let a = http(addr, method, path, &[("Content-Type", "application/json")], &body);
    let v: Value = serde_json::from_str(&a.body).unwrap_or_else(|_| panic!("{method} {path}: {}", a.body));
    assert_eq!(a.status, 200, "{method} {path}: {v}");
    v["value"].clone()
}

impl Browser {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver) is installed");
        let addr = format!("127.0.0.1:{port}");
        let start = Instant::now();
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(start.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1000",
        ];
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}});
        let session = call(&addr, "POST", "/session", caps)["sessionId"].as_str().unwrap().to_string();
        Browser { driver, addr, session, _profile: profile }
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        call(&self.addr, method, &format!("/session/{}{path}", self.session), body)
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    fn find_all(&self, css: &str) -> Vec<String> {
        let found = self.cmd("POST", "/elements", json!({"using": "css selector", "value": css}));
        found
            .as_array()
            .unwrap_or_else(|| panic!("elements {css}: {found}"))
            .iter()
            .map(|e| e[ELEMENT].as_str().unwrap_or_else(|| panic!("an element reference: {e}")).to_string())
            .collect()
    }

    fn find(&self, css: &str) -> String {
        self.find_all(css).pop().unwrap_or_else(|| panic!("no {css} on the page"))
    }

    fn text(&self, css: &str) -> String {
        let v = self.cmd("GET", &format!("/element/{}/text", self.find(css)), Value::Null);
        v.as_str().unwrap_or_else(|| panic!("text of {css}: {v}")).to_string()
    }

    fn click(&self, css: &str) {
        self.cmd("POST", &format!("/element/{}/click", self.find(css)), json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        self.cmd("POST", &format!("/element/{}/value", self.find(css)), json!({ "text": text }));
    }

    fn script(&self, script: &str) -> Value {
        self.cmd("POST", "/execute/sync", json!({"script": script, "args": []}))
    }

    /// Waits until `script` returns true (the page refreshes itself).
    fn until(&self, what: &str, script: &str) {
        let start = Instant::now();
        while self.script(&format!("return ({script});")) != json!(true) {
            if start.elapsed() > Duration::from_secs(30) {
                panic!("{what} did not happen: {}", self.script("return document.documentElement.outerHTML"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The page's width beyond the window's, at `width` px wide (0: it fits).
    fn overflow_at(&self, width: u32) -> i64 {
        self.cmd("POST", "/window/rect", json!({"width": width, "height": 900}));
        let v = self.script("return document.documentElement.scrollWidth - document.documentElement.clientWidth");
        v.as_i64().unwrap_or_else(|| panic!("a width: {v}"))
    }

    fn screenshot(&self, name: &str) {
        use base64::Engine;
        let png = self.cmd("GET", "/screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("console");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }
}

#[test]
#[ignore = "needs Debian's chromium and chromium-driver (scripts/integration.sh)"]
fn the_console_in_chromium() {
    let sc = scene(3);
    // beta's folder deep in a share with long names: its error names the
    // whole path, which must wrap, not push the page sideways.
    let deep = (0..6).fold(sc.m.home().join("shares"), |p, i| p.join(format!("customer-exchange-mount-level-{i}")));
    std::fs::create_dir_all(&deep).unwrap();
    sc.m.ok(&["sync", "edit", "beta", "--exchange", deep.to_str().unwrap()]);
    std::fs::remove_dir_all(&deep).unwrap();
    std::fs::write(&deep, "not a folder").unwrap();
    let token = "console-token-for-the-browser-test";
    let token_file = sc.m.home().join("console.token");
    std::fs::write(&token_file, token).unwrap();
    let (_d, addr) =
        serve(&sc.m, &["--http", "127.0.0.1:0", "--http-admin", "--http-token-file", token_file.to_str().unwrap()]);
    let b = Browser::start();
    let base = format!("http://{addr}");

    b.goto(&format!("{base}/"));
    let badge = |sync: &str| format!("document.querySelector('tr[data-sync=\"{sync}\"] .badge')");
    b.until("beta showing as failing", &format!("{}.dataset.state === 'failing'", badge("beta")));
    assert_eq!(b.text("tr[data-sync=\"acme\"] .badge"), "active");
    assert!(b.text("tr[data-sync=\"beta\"] td.todo").contains("Not a directory"), "the failing sync's error");
    // The page refreshes itself (the script runs under the console's CSP).
    b.until("a refresh", "document.getElementById('live').hasAttribute('data-refreshed')");
    assert_eq!(b.find_all("tr.sync").len(), 2, "both syncs, still, after the refresh");
    assert!(b.text("tr[data-sync=\"beta\"] td.todo").contains("customer-exchange-mount-level-5"));
    for width in [1280, 800] {
        assert_eq!(b.overflow_at(width), 0, "the overview fits {width} px");
        b.screenshot(&format!("overview-{width}.png"));
    }

    b.goto(&format!("{base}/sync/acme"));
    let pairs = b.text("#pairs");
    for key in &sc.issues {
        assert!(pairs.contains(key.as_str()), "{key} in {pairs}");
    }
    assert!(b.text("#pair-count").starts_with("3 pairs"));
    assert!(b.find_all("#pause").is_empty(), "no actions before logging in");
    for width in [1280, 800] {
        assert_eq!(b.overflow_at(width), 0, "the sync page fits {width} px");
        b.screenshot(&format!("sync-{width}.png"));
    }
    b.goto(&format!("{base}/sync/beta"));
    for width in [1280, 800] {
        assert_eq!(b.overflow_at(width), 0, "the failing sync's page fits {width} px");
        b.screenshot(&format!("failing-{width}.png"));
    }
    // An action without the token is refused, even from the console's own page.
    let refused = b.script("return fetch('/sync/acme/pause', {method: 'POST'}).then(r => r.status)");
    assert_eq!(refused, json!(401));
    assert_eq!(sc.m.status_of("acme")["state"], "active");

    b.goto(&format!("{base}/login?next=/sync/acme"));
    b.type_into("#token", token);
    // A click that submits a form returns before the next page is there.
    b.click("#login");
    b.until("the sync page with its actions after logging in", "document.getElementById('pause') !== null");
    b.click("#pause");
    b.until("the flash after pausing", "document.getElementById('flash') !== null");
    assert!(b.text("#flash").starts_with("Paused sync 'acme'"), "{}", b.text("#flash"));
    assert_eq!(sc.m.status_of("acme")["state"], "paused");
    assert_eq!(b.text("h1 .badge"), "paused");
    b.screenshot("paused.png");
    // A page's own fetch without the form's CSRF token is refused even when logged in.
    let forged = b.script("return fetch('/sync/acme/resume', {method: 'POST'}).then(r => r.status)");
    assert_eq!(forged, json!(403));
    b.click("#resume");
    b.until("the flash after resuming", "(document.getElementById('flash') || {}).textContent?.startsWith('Resumed')");
    assert_eq!(sc.m.status_of("acme")["state"], "active");
}
