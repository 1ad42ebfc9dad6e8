//! The daemon's web console, `/metrics` and `/health` over real HTTP
//! (hermetic; the same pages in a real Chromium: `console_browser.rs`).

mod common;
use std::time::{Duration, Instant};

use common::console::*;
use common::*;

/// Waits until beta's broken folder shows as failing.
fn until_failing(addr: &str) -> Answer {
    let start = Instant::now();
    loop {
        let a = get(addr, "/");
        assert_eq!(a.status, 200, "{}", a.body);
        if a.body.contains("data-state=\"failing\"") {
            return a;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "beta never showed as failing: {}", a.body);
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What must never be shown: the pairing secrets and the secret key.
fn secrets(p: &TestPeer) -> Vec<String> {
    let conn = postern::store::open(&p.home().join("postern.db")).unwrap();
    let mut out: Vec<String> =
        postern::store::syncs::list(&conn).unwrap().into_iter().filter_map(|s| s.pairing_secret).collect();
    let public = p.ok(&["key", "export"]);
    let secret = p.ok(&["key", "export", "--secret"]);
    out.extend(secret.lines().filter(|l| l.len() > 20 && !l.contains(':') && !public.contains(*l)).map(String::from));
    assert!(out.len() > 3, "secrets to look for");
    out
}

#[test]
fn overview_sync_page_metrics_and_health() {
    let sc = scene(55);
    let (_d, addr) = serve(&sc.m, &["--http", "127.0.0.1:0"]);
    let overview = until_failing(&addr);
    let row = |name: &str| {
        overview.body.split(&format!("data-sync=\"{name}\"")).nth(1).unwrap().split("</tr>").next().unwrap().to_string()
    };
    assert!(row("acme").contains("data-state=\"active\""), "{}", row("acme"));
    assert!(row("beta").contains("data-state=\"failing\""));
    assert!(row("beta").contains("Not a directory"), "the error and what to do: {}", row("beta"));
    let csp = overview.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");

    // The sync page: pairs, newest first, 50 a page, searchable.
    let page = get(&addr, "/sync/acme");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("55 pairs, 1–50 shown"), "{}", page.body);
    assert!(
        page.body.contains(&format!("<td>{}</td>", sc.issues[54]))
            && !page.body.contains(&format!("<td>{}</td>", sc.issues[0]))
    );
    assert!(page.body.contains("id=\"next\""));
    let second = get(&addr, "/sync/acme?page=1");
    assert!(
        second.body.contains("55 pairs, 51–55 shown") && second.body.contains(&format!("<td>{}</td>", sc.issues[0]))
    );
    assert!(second.body.contains("id=\"prev\"") && !second.body.contains("id=\"next\""));
    let key = &sc.issues[7];
    let found = get(&addr, &format!("/sync/acme?q={key}"));
    assert!(found.body.contains(&format!("1 pair matching “{key}”")), "{}", found.body);
    assert!(get(&addr, "/sync/acme?q=%25").body.contains("0 pairs"), "a % is searched for, not a wildcard");
    assert!(page.body.contains("Last 24 hours: 1 message out (55 changes)"), "the traffic chart: {}", page.body);
    assert_eq!(get(&addr, "/sync/nothing").status, 404);
    let fragment = get(&addr, "/sync/acme?fragment=1");
    assert!(fragment.body.starts_with("<div class=\"scroll\"><table id=\"facts\"") && !fragment.body.contains("<html"));

    // JSON for scripts.
    let status: serde_json::Value = serde_json::from_str(&get(&addr, "/api/status").body).unwrap();
    assert_eq!(status.as_array().unwrap().len(), 2);
    let acme: serde_json::Value = serde_json::from_str(&get(&addr, "/api/sync/acme").body).unwrap();
    assert_eq!(acme["pairs_total"], 55);
    assert_eq!(acme["health"], "active");

    // Metrics, parsed by a Prometheus text-format parser.
    let metrics = get(&addr, "/metrics");
    assert!(metrics.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    let scrape = prometheus_parse::Scrape::parse(metrics.body.lines().map(|l| Ok(l.to_string()))).unwrap();
    let value = |name: &str, sync: &str| {
        let s = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && s.labels.get("sync") == Some(sync))
            .unwrap_or_else(|| panic!("{name}{{sync={sync}}} in {}", metrics.body));
        match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => panic!("{name} is a plain value"),
        }
    };
    let st = sc.m.status_of("acme");
    assert_eq!(value("postern_pairs", "acme"), 55.0);
    assert_eq!(value("postern_messages_sent_total", "acme"), st["outgoing_seq"].as_f64().unwrap());
    assert_eq!(value("postern_messages_received_total", "acme"), st["incoming_seq"].as_f64().unwrap());
    assert_eq!(value("postern_changes_sent_total", "acme"), 55.0);
    assert_eq!(value("postern_sync_failing", "beta"), 1.0);
    assert_eq!(value("postern_sync_failing", "acme"), 0.0);
    assert_eq!(value("postern_outbox_messages", "acme"), 0.0);
    assert!(value("postern_lag_seconds", "acme") >= 0.0);
    assert!(scrape.docs.contains_key("postern_lag_seconds"));
    // Every metric is documented in the user guide.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/console.md")).unwrap();
    for name in scrape.samples.iter().map(|s| s.metric.as_str()) {
        assert!(readme.contains(&format!("`{name}`")), "{name} is documented in docs/console.md");
    }

    let health = get(&addr, "/health");
    assert_eq!((health.status, health.body.as_str()), (200, "ok: 2 syncs, 1 failing, 0 stalled, 0 diverged\n"));

    // A page of another site renamed to our address is refused (DNS rebinding).
    let rebound = http(&addr, "GET", "/api/status", &[("Host", "evil.example:8470")], "");
    assert_eq!(rebound.status, 421);
    assert!(!rebound.body.contains("acme"));

    // No secret anywhere.
    let shown: String =
        ["/", "/sync/acme", "/sync/beta", "/api/status", "/api/sync/acme", "/metrics", "/health", "/login"]
            .iter()
            .map(|p| get(&addr, p).body)
            .collect();
    for secret in secrets(&sc.m) {
        assert!(!shown.contains(&secret), "a secret is shown");
    }
}

#[test]
fn actions_need_the_token_and_a_csrf_token() {
    let sc = scene(2);
    let token_file = sc.m.home().join("console.token");
    let token = "c0ffee-for-the-console-0123456789";
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let (_d, addr) =
        serve(&sc.m, &["--http", "127.0.0.1:0", "--http-admin", "--http-token-file", token_file.to_str().unwrap()]);
    let state = || sc.m.status_of("acme")["state"].as_str().unwrap().to_string();

    // Reading needs no token on loopback; the page shows no action buttons.
    let page = get(&addr, "/sync/acme");
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("id=\"pause\""));
    // Acting does.
    assert_eq!(http(&addr, "POST", "/sync/acme/pause", &[], "").status, 401);
    assert_eq!(
        http(&addr, "POST", "/sync/acme/pause", &[("Authorization", "Bearer wrong-token-wrong-token")], "").status,
        401
    );
    assert_eq!(state(), "active");
    let bearer = format!("Bearer {token}");
    let paused = http(&addr, "POST", "/sync/acme/pause", &[("Authorization", &bearer)], "");
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert!(paused.body.starts_with("Paused sync 'acme'"));
    assert_eq!(state(), "paused");
    let again = http(&addr, "POST", "/sync/acme/pause", &[("Authorization", &bearer)], "");
    assert_eq!((again.status, again.body.as_str()), (409, "sync 'acme' is already paused\n"));

    // A browser logs in and gets a session cookie.
    let wrong = http(&addr, "POST", "/login", &[], "token=guess&next=%2F");
    assert_eq!(wrong.status, 401);
    assert!(wrong.cookie().is_none());
    let login = http(&addr, "POST", "/login", &[], &format!("token={token}&next=%2Fsync%2Facme"));
    assert_eq!((login.status, login.header("location")), (303, Some("/sync/acme")));
    let cookie = login.cookie().unwrap();
    assert!(login.header("set-cookie").unwrap().contains("HttpOnly; SameSite=Strict"));
    let page = http(&addr, "GET", "/sync/acme", &[("Cookie", &cookie)], "");
    assert!(page.body.contains("id=\"resume\""), "the admin sees the actions");
    let csrf = csrf_of(&page.body);
    // A form posted without the session's CSRF token (another site's) is refused.
    assert_eq!(http(&addr, "POST", "/sync/acme/resume", &[("Cookie", &cookie)], "").status, 403);
    assert_eq!(http(&addr, "POST", "/sync/acme/resume", &[("Cookie", &cookie)], "csrf=0123456789abcdef").status, 403);
    assert_eq!(state(), "paused");
    let resumed = http(&addr, "POST", "/sync/acme/resume", &[("Cookie", &cookie)], &format!("csrf={csrf}"));
    assert_eq!((resumed.status, resumed.header("location")), (303, Some("/sync/acme")));
    assert_eq!(state(), "active");
    let page = http(&addr, "GET", "/sync/acme", &[("Cookie", &cookie)], "");
    assert!(page.body.contains("Resumed sync &#39;acme&#39;"), "the outcome is shown once: {}", page.body);
    assert!(!http(&addr, "GET", "/sync/acme", &[("Cookie", &cookie)], "").body.contains("Resumed sync"));
    // Logging out ends the session.
    assert_eq!(http(&addr, "POST", "/logout", &[("Cookie", &cookie)], &format!("csrf={csrf}")).status, 303);
    assert_eq!(http(&addr, "POST", "/sync/acme/pause", &[("Cookie", &cookie)], &format!("csrf={csrf}")).status, 401);

    let log = std::fs::read_to_string(sc.m.home().join("daemon.log")).unwrap();
    assert!(!log.contains(token), "the token never reaches the log");
    assert!(log.contains("console action pause"), "actions are logged");
}

#[test]
fn read_only_console_refuses_actions_and_a_public_address_needs_the_token() {
    let sc = scene(1);
    let (d, addr) = serve(&sc.m, &["--http", "127.0.0.1:0"]);
    let refused = http(&addr, "POST", "/sync/acme/pause", &[], "");
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("--http-admin"));
    assert_eq!(sc.m.status_of("acme")["state"], "active");
    let page = get(&addr, "/");
    assert!(page.status == 200 && !page.body.contains("login-link"), "no token, no log-in link: {}", page.body);
    sc.m.stop(d);

    // Any address but loopback: the token is needed even for reading.
    let (_d, addr) = serve(&sc.m, &["--http", "0.0.0.0:0"]);
    let log = std::fs::read_to_string(sc.m.home().join("daemon.log")).unwrap();
    let token = log.split("console token (shown only now; give --http-token-file to keep one): ").nth(1).unwrap();
    let token = token.lines().next().unwrap().trim().to_string();
    assert_eq!(log.matches(&token).count(), 1, "the token is shown once");
    let page = get(&addr, "/sync/acme");
    assert_eq!((page.status, page.header("location")), (303, Some("/login?next=/sync/acme")));
    assert!(get(&addr, "/login").body.contains("id=\"login\""), "a token to log in with");
    assert_eq!(get(&addr, "/metrics").status, 401);
    assert_eq!(get(&addr, "/api/status").status, 401);
    assert_eq!(get(&addr, "/health").status, 200, "a load balancer needs no token");
    let bearer = format!("Bearer {token}");
    let metrics = http(&addr, "GET", "/metrics", &[("Authorization", &bearer)], "");
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains("postern_pairs{sync=\"acme\"} 1"));
    // Still read-only: the token lets one read, not act.
    assert_eq!(http(&addr, "POST", "/sync/acme/pause", &[("Authorization", &bearer)], "").status, 403);
}

#[test]
fn silent_clients_cannot_hold_the_console() {
    use std::io::Read;
    let sc = scene(0);
    let (_d, addr) = serve(&sc.m, &["--http", "127.0.0.1:0"]);
    // Connections that never send a request fill every slot...
    let silent: Vec<_> = (0..64).map(|_| std::net::TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = std::net::TcpStream::connect(&addr).unwrap();
    extra.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    // Closed (end of file, or reset), not left waiting: a read that times
    // out is a connection queued, and fails here.
    let read = extra.read(&mut buf);
    let closed = matches!(read, Ok(0))
        || matches!(&read, Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe));
    assert!(closed, "one more is closed at once, not queued: {read:?}");
    // ...and are closed by the console when their headers do not come.
    for mut s in silent {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    }
    assert_eq!(get(&addr, "/health").status, 200, "the console answers again");
}

#[test]
fn errors_and_conflicts_are_shown_and_can_be_retried_reapplied_and_dismissed() {
    let sc = healthy_scene(3);
    let (m, s) = (&sc.m, &sc.s1);
    // An error on the slave: a status its project does not have.
    s.ok(&["project", "edit", "SP2", "--statuses", "Open,Done"]);
    m.ok(&["issue", "edit", "SAM2-1", "--status", "Review"]);
    // Two conflicts: both sides edit the same field; the slave's edit is later.
    for (mk, sk) in [("SAM2-2", "SP2-2"), ("SAM2-3", "SP2-3")] {
        m.ok(&["issue", "edit", mk, "--summary", "master's"]);
        std::thread::sleep(Duration::from_millis(5));
        s.ok(&["issue", "edit", sk, "--summary", "slave's, later"]);
    }
    settle(m, s, "acme");
    let conflicts = s.json(&["conflicts", "list", "acme", "--json"]);
    let ids: Vec<String> = conflicts.as_array().unwrap().iter().map(|c| c["id"].to_string()).collect();
    assert_eq!(ids.len(), 2);

    let token = "token-of-the-slave-console-000";
    let token_file = s.home().join("console.token");
    std::fs::write(&token_file, token).unwrap();
    let (_d, addr) =
        serve(s, &["--http", "[::1]:0", "--http-admin", "--http-token-file", token_file.to_str().unwrap()]);
    let page = get(&addr, "/sync/acme");
    assert_eq!(page.status, 200, "an IPv6 loopback address and its [::1] host name: {}", page.body);
    let errors = page.body.split("id=\"errors\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(errors.contains("SAM2-1") && errors.contains("Review"), "the error and its reason: {errors}");
    let shown = page.body.split("id=\"conflicts\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(shown.contains("slave&#39;s, later") && shown.contains("master&#39;s"), "{shown}");
    let overview = get(&addr, "/");
    assert!(
        overview.body.contains("1 issue with errors: its later changes wait")
            && overview.body.contains("2 open conflicts")
    );
    // Active, but not well: the badge says so.
    assert!(
        overview.body.contains("<span class=\"badge warn\" data-state=\"attention\">attention</span>"),
        "{}",
        overview.body
    );

    let bearer = format!("Bearer {token}");
    let post = |path: &str| http(&addr, "POST", path, &[("Authorization", &bearer)], "");
    let still = post("/sync/acme/errors/SAM2-1/retry");
    assert_eq!(still.status, 409);
    assert!(still.body.contains("[SAM2-1] still failing"), "{}", still.body);
    s.ok(&["project", "edit", "SP2", "--statuses", "Open,Review,Done"]);
    let retried = post("/sync/acme/errors/SP2-1/retry");
    assert_eq!((retried.status, retried.body.as_str()), (200, "[SAM2-1] 1 change applied\n"), "by the local key too");
    assert_eq!(s.issue("SP2-1")["status"], "Review");
    assert_eq!(post("/sync/acme/errors/SP2-1/retry").status, 409, "no error left");

    let reapplied = post(&format!("/sync/acme/conflicts/{}/reapply", ids[0]));
    assert_eq!(reapplied.status, 200, "{}", reapplied.body);
    let key = conflicts[0]["local_key"].as_str().unwrap();
    assert_eq!(s.issue(key)["summary"], "master's", "the losing value set again");
    let dismissed = post(&format!("/sync/acme/conflicts/{}/dismiss", ids[1]));
    assert_eq!(dismissed.status, 200, "{}", dismissed.body);
    assert_eq!(post(&format!("/sync/acme/conflicts/{}/dismiss", ids[1])).status, 409);
    assert_eq!(post("/sync/acme/conflicts/9999/dismiss").status, 409);
    assert_eq!(post("/sync/nothing/pause").status, 409);
    let page = get(&addr, "/sync/acme");
    assert!(page.body.contains("No issue has an error.") && page.body.contains("No open conflicts."));
}

#[test]
fn ten_thousand_pairs_are_paged_and_searchable() {
    let sc = healthy_scene(0);
    {
        let mut conn = postern::store::open(&sc.m.home().join("postern.db")).unwrap();
        let id = postern::store::syncs::get_by_name(&conn, "acme").unwrap().unwrap().id;
        let tx = conn.transaction().unwrap();
        for n in 1..=10_000 {
            postern::store::links::insert(&tx, &id, &format!("K-{n}"), Some(&format!("P-{n}")), 1_000).unwrap();
        }
        tx.commit().unwrap();
    }
    let (_d, addr) = serve(&sc.m, &["--http", "127.0.0.1:0"]);
    let first = get(&addr, "/sync/acme");
    assert!(first.body.contains("10000 pairs, 1–50 shown") && first.body.contains("<td>K-10000</td>"));
    let last = get(&addr, "/sync/acme?page=199");
    assert!(last.body.contains("10000 pairs, 9951–10000 shown"), "{}", last.body);
    assert!(last.body.contains("<td>K-1</td>") && !last.body.contains("id=\"next\""));
    let found = get(&addr, "/sync/acme?q=p-5000");
    assert!(
        found.body.contains("1 pair matching “p-5000”") && found.body.contains("<td>K-5000</td>"),
        "by the partner's key, any case"
    );
    let some = get(&addr, "/sync/acme?q=K-99");
    assert!(some.body.contains("111 pairs matching"), "K-99, K-990…K-999, K-9900…K-9999");
    let past = get(&addr, "/sync/acme?page=5000");
    assert_eq!(past.status, 200);
    assert!(past.body.contains("id=\"prev\""), "a page past the end still leads back");
}

#[test]
fn a_mail_password_shows_nowhere_in_the_console() {
    let p = TestPeer::new(MASTER_KEY, "SAM2");
    let pw = "hunter2-console-mail-secret";
    let mail = [
        "--protocol",
        "email",
        "--mail-address",
        "sync@vendor.example",
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        "1",
        "--imap-security",
        "none",
        "--imap-user",
        "sync",
        "--imap-password",
        pw,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        "1",
        "--smtp-security",
        "none",
        "--same-credentials",
        "--skip-mail-test",
    ];
    let base = ["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"];
    p.ok(&[&base[..], &mail[..]].concat());
    let (d, addr) = serve(&p, &["--http", "127.0.0.1:0"]);
    let mut shown: String =
        ["/", "/sync/acme", "/api/status", "/api/sync/acme", "/metrics"].iter().map(|u| get(&addr, u).body).collect();
    assert!(shown.contains("<redacted>"), "the mail settings are shown, their password redacted");
    shown += &p.stop(d);
    assert!(!shown.contains(pw), "the mail password leaked");
}

#[test]
fn console_settings_are_checked_before_anything_starts() {
    let p = TestPeer::new(MASTER_KEY, "SAM2");
    let fails = |args: &[&str]| {
        let out = p.cli(&[&["run"][..], args].concat());
        assert!(!out.status.success(), "{args:?} must fail");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(fails(&["--http", "example.com:80"]).contains("give ADDR:PORT"));
    assert!(fails(&["--http-admin"]).contains("need --http ADDR"));
    let short = p.home().join("short.token");
    std::fs::write(&short, "abc").unwrap();
    let e = fails(&["--http", "127.0.0.1:0", "--http-admin", "--http-token-file", short.to_str().unwrap()]);
    assert!(e.contains("too short (3 characters"), "{e}");
    assert!(fails(&["--http", "127.0.0.1:0", "--http-token-file", "/nonexistent/token"])
        .contains("cannot read the console token file"));
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    let e = fails(&["--http", &busy_addr]);
    assert!(e.contains(&format!("cannot serve the console on {busy_addr}")), "{e}");
    let config = p.home().join("postern.toml");
    std::fs::write(&config, "[http]\nlisten = \"127.0.0.1:0\"\nadmn = true\n").unwrap();
    let e = fails(&["--config", config.to_str().unwrap()]);
    assert!(e.contains("postern.toml") && e.contains("unknown field `admn`"), "{e}");

    // A config file with a token file next to it.
    std::fs::write(p.home().join("console.token"), "token-from-the-config-file\n").unwrap();
    std::fs::write(&config, "[http]\nlisten = \"127.0.0.1:0\"\nadmin = true\ntoken_file = \"console.token\"\n")
        .unwrap();
    let (_d, addr) = serve(&p, &["--config", config.to_str().unwrap()]);
    let answer =
        http(&addr, "POST", "/sync/nothing/pause", &[("Authorization", "Bearer token-from-the-config-file")], "");
    assert_eq!(answer.status, 409, "the token of the file works, admin is on: {}", answer.body);
}

/// Issues a verify found different show on the overview, the sync page,
/// `/metrics` and `/health`.
#[test]
fn issues_that_differ_from_the_partner_show_everywhere() {
    let sc = healthy_scene(3);
    let db = rusqlite::Connection::open(sc.s1.home().join("postern.db")).unwrap();
    db.execute("UPDATE t_issue SET status = 'Done' WHERE key = 'SP2-2'", []).unwrap();
    drop(db);
    sc.m.ok(&["sync", "verify", "acme", "--wait", "0"]);
    settle(&sc.m, &sc.s1, "acme");
    let (_d, addr) = serve(&sc.m, &["--http", "127.0.0.1:0"]);
    let overview = get(&addr, "/");
    let row = overview.body.split("data-sync=\"acme\"").nth(1).unwrap().split("</tr>").next().unwrap().to_string();
    assert!(row.contains("data-state=\"diverged\""), "{row}");
    assert!(row.contains("<code>postern sync verify acme --last</code>") && !row.contains('`'), "{row}");
    assert!(
        row.contains("1 issue differs from the partner&#39;s (SAM2-2)")
            || row.contains("1 issue differs from the partner's (SAM2-2)"),
        "{row}"
    );
    let page = get(&addr, "/sync/acme");
    let table = page.body.split("id=\"diverged\"").nth(1).expect("the diverged table").to_string();
    assert!(table.contains("<td>SAM2-2</td><td>status (here Open, partner Done)</td>"), "{table}");
    assert!(page.body.contains("id=\"verify\">Last verify: 20"), "{}", page.body);
    let metrics = get(&addr, "/metrics").body;
    assert!(metrics.contains("postern_divergent_issues{sync=\"acme\"} 1\n"), "{metrics}");
    assert!(metrics.contains("postern_last_verify_timestamp_seconds{sync=\"acme\"}"), "{metrics}");
    assert_eq!(get(&addr, "/health").body, "ok: 2 syncs, 0 failing, 0 stalled, 1 diverged\n");
    assert!(page.body.contains("<td>SAM2-2 <span class=\"badge bad\">differs</span></td>"), "{}", page.body);
}

/// An admin verifies from the console; the repair converges.
#[test]
fn an_admin_verifies_and_repairs_from_the_console() {
    let sc = healthy_scene(2);
    let db = rusqlite::Connection::open(sc.s1.home().join("postern.db")).unwrap();
    db.execute("UPDATE t_issue SET summary = 'behind the back' WHERE key = 'SP2-1'", []).unwrap();
    drop(db);
    let token_file = sc.m.home().join("console.token");
    let token = "c0ffee-for-the-console-0123456789";
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let (d, addr) =
        serve(&sc.m, &["--http", "127.0.0.1:0", "--http-admin", "--http-token-file", token_file.to_str().unwrap()]);
    assert_eq!(http(&addr, "POST", "/sync/acme/repair", &[], "").status, 401);
    let bearer = format!("Bearer {token}");
    let sent = http(&addr, "POST", "/sync/acme/repair", &[("Authorization", &bearer)], "");
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.starts_with("Verify and repair of sync 'acme' sent to the partner"), "{}", sent.body);
    sc.m.stop(d);
    settle(&sc.m, &sc.s1, "acme");
    assert_eq!(sc.s1.issue("SP2-1")["summary"], "Printer 0 jams", "repaired from the master");
}
