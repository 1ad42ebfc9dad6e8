//! Sync settings after creation: mail settings from a config file, edits
//! of the exchange folder and mail accounts, and a protocol that cannot
//! change. No server is contacted here.

mod common;
use common::*;

fn mail_config(dir: &std::path::Path, host: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("imap-password"), "s3cret-imap\n").unwrap();
    let p = dir.join("mail.toml");
    std::fs::write(
        &p,
        format!(
            r#"address = "vendor-sync@vendor.example"
done_folder = "postern-done"
same_credentials = true

[imap]
host = "{host}"
port = 1
username = "vendor-sync"
password_file = "imap-password"

[smtp]
host = "{host}"
port = 1
security = "starttls"
"#
        ),
    )
    .unwrap();
    p
}

#[test]
fn an_email_sync_from_a_config_file_and_its_settings_edited() {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    let dir = tempfile::tempdir().unwrap();
    let cfg = mail_config(dir.path(), "127.0.0.1");
    let base = ["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot"];
    let mut args = base.to_vec();
    args.extend(["--protocol", "email", "--mail-config", cfg.to_str().unwrap()]);
    // The accounts are checked before anything is saved.
    let err = m.fail(&args);
    assert!(err.contains("FAILED") || err.contains("mail checks failed"), "{err}");
    assert!(err.contains("nothing was saved"), "{err}");
    assert_eq!(m.json(&["sync", "list", "--json"]), serde_json::json!([]));
    args.push("--skip-mail-test");
    m.ok(&args);
    let st = m.status();
    assert_eq!(st["mail"]["imap"]["host"], "127.0.0.1");
    assert_eq!(st["mail"]["smtp"]["security"], "starttls");
    assert_eq!(st["mail"]["smtp"]["username"], "vendor-sync");
    assert_eq!(st["mail"]["done_folder"], "postern-done");
    let pw_file = st["mail"]["imap"]["password"]["file"].as_str().unwrap().to_string();
    assert!(pw_file.starts_with('/'), "stored absolute: {pw_file}");
    assert!(!m.ok(&["status", "--json"]).contains("s3cret-imap"));

    // Flags and a config file together are ambiguous.
    let err = m.fail(&["sync", "edit", "acme", "--mail-config", cfg.to_str().unwrap(), "--imap-port", "143"]);
    assert!(err.contains("either in --mail-config or as flags"), "{err}");
    // The mail accounts can move; the protocol cannot change.
    let cfg2 = mail_config(dir.path(), "localhost");
    let err = m.fail(&["sync", "edit", "acme", "--mail-config", cfg2.to_str().unwrap()]);
    assert!(err.contains("nothing was saved"), "{err}");
    assert_eq!(m.status()["mail"]["imap"]["host"], "127.0.0.1");
    m.ok(&["sync", "edit", "acme", "--mail-config", cfg2.to_str().unwrap(), "--skip-mail-test"]);
    assert_eq!(m.status()["mail"]["imap"]["host"], "localhost");
    let err = m.fail(&["sync", "edit", "acme", "--protocol", "file"]);
    assert!(err.contains("cannot be changed after creation"), "{err}");
    let err = m.fail(&["sync", "edit", "acme", "--exchange", "/tmp/x"]);
    assert!(err.contains("has no exchange folder"), "{err}");
    let err = m.fail(&["sync", "edit", "acme"]);
    assert!(err.contains("nothing to change"), "{err}");
    assert_eq!(m.status()["protocol"], "email");
}

#[test]
fn a_file_sync_moves_its_exchange_folder_but_keeps_its_protocol() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    let dir = tempfile::tempdir().unwrap();
    let cfg = mail_config(dir.path(), "127.0.0.1");
    let err = m.fail(&["sync", "edit", "acme", "--protocol", "email", "--mail-config", cfg.to_str().unwrap()]);
    assert!(err.contains("uses the file protocol, which cannot be changed after creation"), "{err}");
    let err = m.fail(&["sync", "edit", "acme", "--mail-config", cfg.to_str().unwrap()]);
    assert!(err.contains("mail settings do not apply"), "{err}");
    let err = m.fail(&["sync", "create", "--name", "x", "--project", "SAM2", "--sync-user", "u", "--imap-host", "h"]);
    assert!(err.contains("add --protocol email"), "{err}");

    // Move the master's exchange folder; syncing goes on through the new one.
    let new = dir.path().join("share");
    m.ok(&["sync", "edit", "acme", "--exchange", new.to_str().unwrap()]);
    assert_eq!(m.status()["exchange"], new.to_str().unwrap());
    assert!(new.join("SEND").is_dir() && new.join("RECEIVE").is_dir());
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "after the move"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "after the move");
}

#[test]
fn a_relative_home_stores_absolute_exchange_folders() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_postern"))
            .args(["--home", "m"])
            .args(args)
            .current_dir(dir.path())
            .env_remove("POSTERN_HOME")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["project", "create", "SAM2"]);
    let out = run(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot"]);
    let expected = dir.path().join("m/exchange/acme");
    assert!(out.contains(&format!("Exchange folder:  {}", expected.display())), "{out}");
    let status: serde_json::Value = serde_json::from_str(&run(&["status", "--json"])).unwrap();
    assert_eq!(status[0]["exchange"], expected.to_str().unwrap(), "a daemon started elsewhere finds it");
}

#[test]
fn timing_values_change_one_at_a_time_and_bad_values_are_refused() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    let out = m.ok(&["sync", "timing", "acme", "--gap-after-secs", "2.5"]);
    assert!(out.contains("resend after 60.000 s, ask for a gap after 2.500 s"), "{out}");
    let out = m.ok(&["sync", "timing", "acme", "--resend-after-secs", "30"]);
    assert!(out.contains("resend after 30.000 s, ask for a gap after 2.500 s"), "{out}");
    let err = m.fail(&["sync", "timing", "acme"]);
    assert!(err.contains("nothing to change"), "{err}");
    let err = m.fail(&["sync", "timing", "acme", "--gap-after-secs", "0"]);
    assert!(err.contains("--gap-after-secs must be a positive number"), "{err}");
    let err =
        m.fail(&["sync", "create", "--name", "x", "--project", "SAM2", "--sync-user", "b", "--expires-days", "0"]);
    assert!(err.contains("--expires-days must be at least 1"), "{err}");
    let status = m.ok(&["status"]);
    assert!(status.contains("0 issues with errors, 0 messages quarantined"), "{status}");
}

#[test]
fn messages_waiting_in_the_old_exchange_folder_move_along() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "waiting in SEND"]);
    m.cycle();
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "waiting in RECEIVE"]);
    s.cycle();
    assert_eq!(carry(&s, &m, "acme"), 1);
    let old = m.exchange("acme");
    assert_eq!(m.outgoing("acme").len(), 1);

    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("share");
    let out = m.ok(&["sync", "edit", "acme", "--exchange", new.to_str().unwrap()]);
    assert!(out.contains("1 message waiting in SEND, 1 message waiting in RECEIVE"), "{out}");
    assert_eq!(common::list_messages(&old.join("SEND")).len(), 0);
    assert_eq!(common::list_messages(&old.join("RECEIVE")).len(), 0);
    assert_eq!(m.outgoing("acme").len(), 1, "the waiting message is in the new SEND");
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-2")["summary"], "waiting in SEND");
    assert_eq!(m.issue("SAM2-2")["summary"], "waiting in RECEIVE");

    // The same folder again is refused; an old folder that is gone (an
    // unmounted share) does not stop a move away from it.
    let err = m.fail(&["sync", "edit", "acme", "--exchange", new.to_str().unwrap()]);
    assert!(err.contains("already uses"), "{err}");
    std::fs::remove_dir_all(&new).unwrap();
    let third = dir.path().join("third");
    let out = m.ok(&["sync", "edit", "acme", "--exchange", third.to_str().unwrap()]);
    assert!(out.contains("is not reachable: messages waiting there were not moved"), "{out}");
    assert_eq!(m.status()["exchange"], third.to_str().unwrap());
}
