//! A home as an admin meets it: made owner-only, never made by a command
//! that only reads, refused when others can read its database, and tidied
//! of what a killed writer left.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_new_home_and_its_database_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_postern"))
        .args(["--home", home.to_str().unwrap(), "project", "create", "SAM2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&home.join("postern.db")), 0o600);
}

#[test]
fn a_database_others_can_read_is_refused() {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    let db = m.home().join("postern.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = m.fail(&["status"]);
    assert!(err.contains("can be read by others") && err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
    m.ok(&["status"]);
}

#[test]
fn commands_that_only_read_make_no_home() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("hmoe");
    for args in [&["status"][..], &["sync", "list"], &["run", "--once"], &["issue", "list", "--project", "X"]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_postern"))
            .arg("--home")
            .arg(&typo)
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains("there is no postern home at"), "{args:?}: {err}");
        assert!(!typo.exists(), "{args:?} made a home");
    }
}

#[test]
fn temporary_files_a_killed_writer_left_are_removed_at_start() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "acme", "SAM2", "SP2");
    let send = m.exchange("acme").join("SEND");
    let (old, fresh, foreign) = (
        send.join(".postern-tmp-0123456789abcdef"),
        send.join(".postern-tmp-fedcba9876543210"),
        send.join("notes.txt"),
    );
    for f in [&old, &fresh, &foreign] {
        std::fs::write(f, b"half a message").unwrap();
    }
    for f in [&old, &foreign] {
        let st = std::process::Command::new("touch").args(["-d", "2 hours ago"]).arg(f).status().unwrap();
        assert!(st.success());
    }
    m.ok(&["run", "--once"]);
    assert!(!old.exists(), "an old temporary file of ours is removed");
    assert!(fresh.exists(), "one being written now is left");
    assert!(foreign.exists(), "what is not ours is left");
}
