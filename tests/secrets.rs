//! Secrets (passphrase, pairing secret, secret keys) never reach logs at
//! any level, errors, status or exports.

mod common;
use common::*;

use postern::engine::handshake::read_handshake;

/// Lines of the armored secret key that are not in the public certificate.
fn secret_lines(p: &TestPeer) -> Vec<String> {
    let public = p.ok(&["key", "export"]);
    let secret = p.ok(&["key", "export", "--secret"]);
    secret.lines().filter(|l| l.len() > 20 && !l.contains(':') && !public.contains(*l)).map(String::from).collect()
}

#[test]
fn a_full_sync_at_trace_level_logs_no_secret() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let mut said = String::new();
    let mut run = |p: &TestPeer, args: &[&str], keep_stdout: bool| {
        let mut full = vec!["-vvv"];
        full.extend_from_slice(args);
        let out = p.cli(&full);
        said += &String::from_utf8_lossy(&out.stderr);
        if keep_stdout {
            said += &String::from_utf8_lossy(&out.stdout);
        }
        out
    };
    // The passphrase is printed once on stdout of `sync create`, by design;
    // everything else is checked.
    let created =
        run(&m, &["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"], false);
    let created: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let pass = created["passphrase"].as_str().unwrap().to_string();
    let hs = m.home().join("acme.handshake.asc");
    let pairing = read_handshake(&std::fs::read(&hs).unwrap(), &pass).unwrap().pairing_secret;
    let hs = hs.to_str().unwrap();
    // A wrong passphrase first: the error must not echo what was typed.
    run(
        &s,
        &[
            "sync",
            "accept",
            "--file",
            hs,
            "--passphrase",
            "typed-secret-guess",
            "--project",
            "SP2",
            "--sync-user",
            "b",
            "--yes",
        ],
        true,
    );
    run(
        &s,
        &["sync", "accept", "--file", hs, "--passphrase", &pass, "--project", "SP2", "--sync-user", "b", "--yes"],
        true,
    );
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "hello"]);
    for _ in 0..4 {
        run(&s, &["run", "--once"], true);
        carry(&s, &m, "acme");
        run(&m, &["run", "--once"], true);
        carry(&m, &s, "acme");
    }
    for p in [&m, &s] {
        for args in [
            &["status"][..],
            &["status", "--json"],
            &["sync", "export", "acme"],
            &["sync", "list", "--json"],
            &["errors", "list", "acme"],
        ] {
            run(p, args, true);
        }
    }
    assert!(s.status()["state"] == "active" && m.status()["state"] == "active");
    assert!(said.contains("TRACE") || said.contains("DEBUG"), "logging was on");

    assert!(!said.contains(&pass), "passphrase leaked");
    assert!(!said.contains("typed-secret-guess"), "a typed passphrase leaked");
    assert!(!said.contains(&pairing), "pairing secret leaked");
    assert!(!said.contains("PRIVATE KEY"), "secret key leaked");
    for p in [&m, &s] {
        for line in secret_lines(p) {
            assert!(!said.contains(&line), "secret key material leaked");
        }
    }
}

#[test]
fn debug_output_redacts_secrets() {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    let created = m.json(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"]);
    let pass = created["passphrase"].as_str().unwrap();
    let file = read_handshake(&std::fs::read(m.home().join("acme.handshake.asc")).unwrap(), pass).unwrap();
    let shown = format!("{file:?}");
    assert!(!shown.contains(&file.pairing_secret) && shown.contains("redacted"), "{shown}");
    let peer = m.peer();
    let sync = postern::store::syncs::list(&peer.conn).unwrap().remove(0);
    let secret = sync.pairing_secret.clone().unwrap();
    assert!(!format!("{sync:?}").contains(&secret));
    let key = format!("{:?}", peer.key);
    assert!(key.contains("redacted") && !key.contains("PRIVATE"), "{key}");
}

#[test]
fn a_key_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    m.ok(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot"]);
    let key = m.home().join("keys/own.key.asc");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = m.fail(&["run", "--once"]);
    assert!(err.contains("readable by other users") && err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    m.ok(&["run", "--once"]);
}

#[test]
fn a_literal_mail_password_shows_nowhere() {
    let p = TestPeer::new(MASTER_KEY, "SAM2");
    let pw = "hunter2-mail-secret";
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
    ];
    let base = ["-vvv", "sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"];
    // The failed check (nothing listens on port 1) at trace level...
    let out = p.cli(&[&base[..], &mail[..]].concat());
    assert!(!out.status.success());
    let mut said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("nothing was saved"), "{said}");
    // ...then saved unchecked, run, shown, edited, exported.
    let out = p.cli(&[&base[..], &mail[..], &["--skip-mail-test"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    said += &String::from_utf8_lossy(&out.stdout);
    said += &String::from_utf8_lossy(&out.stderr);
    for args in [
        &["-vvv", "run", "--once"][..],
        &["status"],
        &["status", "--json"],
        &["sync", "list", "--json"],
        &["sync", "export", "acme"],
        &["sync", "edit", "acme", "--protocol", "file"],
    ] {
        let out = p.cli(args);
        said += &String::from_utf8_lossy(&out.stdout);
        said += &String::from_utf8_lossy(&out.stderr);
    }
    assert!(said.contains("cannot reach the IMAP server 127.0.0.1:1"), "the run was logged: {said}");
    assert!(said.contains("<redacted>"), "status shows the password only as redacted");
    assert!(!said.contains(pw), "the mail password leaked: {said}");
}

/// The one-time pairing secret is in the master's database only until the
/// accept arrives (and never in the slave's).
#[test]
fn the_pairing_secret_is_wiped_once_paired() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let created = m.json(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"]);
    let pass = created["passphrase"].as_str().unwrap().to_string();
    let hs = m.home().join("acme.handshake.asc");
    let pairing = read_handshake(&std::fs::read(&hs).unwrap(), &pass).unwrap().pairing_secret;
    let db_holds = |p: &TestPeer| {
        let conn = postern::store::open(&p.home().join("postern.db")).unwrap();
        conn.query_row("SELECT count(*) FROM sync WHERE pairing_secret = ?1", [&pairing], |r| r.get::<_, i64>(0))
            .unwrap()
            > 0
    };
    assert!(db_holds(&m), "the master needs it until the accept");
    s.ok(&[
        "sync",
        "accept",
        "--file",
        hs.to_str().unwrap(),
        "--passphrase",
        &pass,
        "--project",
        "SP2",
        "--sync-user",
        "c",
        "--yes",
    ]);
    assert!(!db_holds(&s));
    settle(&m, &s, "acme");
    assert_eq!(m.status()["state"], "active");
    assert!(!db_holds(&m), "wiped once the pairing is done");
}

/// A tracker's credentials stay out of trace output: the HTTP client's
/// request dumps (headers and all) are dropped. Jira here: a server that
/// refuses every request, so the check fails after sending the token.
#[test]
fn a_jira_token_never_reaches_trace_output() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    let token = "S3CRET-TOKEN-123";
    // What the HTTP client would dump: the Authorization header's value.
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("sync@example.com:{token}"))
    };
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "UNUSED"));
    let created = m.json(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"]);
    let pass = created["passphrase"].as_str().unwrap().to_string();
    let hs = m.home().join("acme.handshake.asc");
    let jira = ["--tracker", "jira", "--jira-url", &url, "--jira-flavour", "cloud", "--jira-user", "sync@example.com"];
    let accept = ["-vvv", "sync", "accept", "--file", hs.to_str().unwrap(), "--passphrase", &pass, "--project", "SUP"];
    let accept = [&accept[..], &["--sync-user", "b", "--yes", "--jira-token", token], &jira[..]].concat();
    let mut said = String::new();
    let mut keep = |out: std::process::Output| {
        said += &String::from_utf8_lossy(&out.stdout);
        said += &String::from_utf8_lossy(&out.stderr);
        out.status.success()
    };
    assert!(!keep(s.cli(&accept)), "the check fails: Jira refuses the token");
    assert!(keep(s.cli(&[&accept[..], &["--skip-tracker-check"]].concat())));
    keep(s.cli(&["-vvv", "run", "--once"]));
    keep(s.cli(&["status", "--json"]));
    assert!(said.contains("DEBUG") && said.contains("credentials were refused (401)"), "{said}");
    assert!(!said.contains(token) && !said.contains(&basic), "the Jira token leaked: {said}");
    // A request dump splits it over lines: no header may be dumped at all.
    assert!(!said.to_lowercase().contains("authorization"), "a request's headers were dumped: {said}");
}
