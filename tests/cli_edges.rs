//! The CLI where a new admin first tried it: each rough edge they met, as
//! they met it. A home with one sync needs no sync name to list its
//! errors and conflicts; `--home` naming a file says so; merging two
//! downloads needs no home (and a download is Backbone's format, empty
//! attachment lists left out); a project can be renamed; `mail test`
//! pointed at an SMTP port says so in words; `sync create --help` is
//! grouped, with examples.

mod common;

use std::io::Write;

use common::*;

#[test]
fn a_home_with_one_sync_needs_no_sync_name_to_list() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let err = m.fail(&["errors", "list"]);
    assert!(err.contains("this home has no sync yet"), "{err}");
    pair(&m, &s, "acme", "SAM2", "SP2");
    assert_eq!(m.ok(&["errors", "list"]), "no errors in sync 'acme'");
    assert_eq!(m.ok(&["conflicts", "list"]), "no open conflicts in sync 'acme'");
    m.ok(&["project", "create", "SAM3"]);
    s.ok(&["project", "create", "SP3"]);
    pair(&m, &s, "beta", "SAM3", "SP3");
    let err = m.fail(&["conflicts", "list"]);
    assert!(err.contains("this home has 2 syncs (acme, beta): name one"), "{err}");
    assert_eq!(m.ok(&["errors", "list", "beta"]), "no errors in sync 'beta'");
}

#[test]
fn home_naming_a_file_says_it_is_a_file() {
    let p = TestPeer::new(MASTER_KEY, "SAM2");
    let db = p.home().join("postern.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postern"))
        .args(["--home", db.to_str().unwrap(), "status"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("is a file, not a folder"), "{err}");
    assert!(err.contains("the home is the folder that holds it"), "{err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postern"))
        .args(["--home", db.to_str().unwrap(), "project", "create", "X"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a file, not a folder"));
}

#[test]
fn downloads_merge_without_a_home() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "no files"]);
    settle(&m, &s, "acme");
    // As Backbone's own downloads: an empty attachments list is left out,
    // comments are always listed.
    let ours = m.json(&["sync", "export", "acme"]);
    let record = &ours["firstConnector"][0];
    assert_eq!((&record["attachments"], &record["comments"]), (&serde_json::Value::Null, &serde_json::json!([])));
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("ours.json"), dir.path().join("theirs.json"));
    std::fs::write(&a, m.ok(&["sync", "export", "acme"])).unwrap();
    std::fs::write(&b, s.ok(&["sync", "export", "acme"])).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postern"))
        .args(["--home", dir.path().join("nowhere").to_str().unwrap(), "sync", "merge"])
        .args([&a, &b])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("Merged 1 record of") && said.contains("with 1 record of"), "{said}");
    let merged: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(merged["secondConnector"][0]["localIssueKey"], "SP2-1");
    assert!(!dir.path().join("nowhere").exists(), "no home was made");
}

#[test]
fn a_project_is_renamed() {
    let p = TestPeer::new(MASTER_KEY, "SAM2");
    p.ok(&["project", "edit", "SAM2", "--name", "Vendor support"]);
    let list = p.ok(&["project", "list"]);
    assert!(list.contains("Vendor support"), "{list}");
    assert!(p.fail(&["project", "edit", "SAM2", "--name", " "]).contains("must not be empty"));
    assert!(p.fail(&["project", "edit", "NOPE", "--name", "x"]).contains("project NOPE does not exist"));
    assert!(p.fail(&["project", "edit", "SAM2"]).contains("give --name, --statuses"));
}

/// An SMTP server where the IMAP port was meant: its "220 … ESMTP"
/// greeting is said to be no IMAP greeting, not dumped as parser bytes.
#[test]
fn mail_test_at_an_smtp_port_says_it_is_not_imap() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    std::thread::spawn(move || {
        for c in listener.incoming().flatten() {
            let mut c = c;
            let _ = c.write_all(b"220 mail.example.test ESMTP\r\n");
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    });
    let p = TestPeer::new(MASTER_KEY, "SAM2");
    let imap = ["--imap-host", "127.0.0.1", "--imap-port", &port, "--imap-security", "none"];
    let rest = ["--imap-user", "u", "--imap-password", "p", "--smtp-host", "127.0.0.1", "--smtp-port", &port];
    let args: Vec<&str> =
        [&["mail", "test", "--mail-address", "a@example.test"][..], &imap, &rest, &["--smtp-security", "none"]]
            .concat();
    let out = p.cli(&args);
    let said = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(said.contains("does not greet as an IMAP server does (an SMTP or POP3 port?"), "{said}");
    assert!(!said.contains("input: ["), "no parser dump: {said}");
}

/// `sync create --help` is grouped: the sync's own options first, then
/// mail, tracker, Jira, Redmine and existing issues under their headings,
/// the global options last, then examples.
#[test]
fn sync_create_help_is_grouped_with_examples() {
    let p = TestPeer::new(MASTER_KEY, "SAM2");
    let help = p.ok(&["sync", "create", "--help"]);
    let at = |s: &str| help.find(s).unwrap_or_else(|| panic!("{s:?} in {help}"));
    let headings = [
        "Options:",
        "--replaces",
        "Mail (--protocol email):",
        "Tracker:",
        "Jira (--tracker jira):",
        "Redmine (--tracker redmine):",
        "Existing issues (an initial resync):",
        "Global options:",
        "--verbose",
        "Examples:",
    ];
    let places: Vec<usize> = headings.iter().map(|h| at(h)).collect();
    assert!(places.windows(2).all(|w| w[0] < w[1]), "in this order: {headings:?}\n{help}");
}
