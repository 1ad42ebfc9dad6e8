//! The handshake from the CLI: create, upload, connection test, and every
//! way a handshake can go wrong.

mod common;
use common::*;

#[test]
fn full_handshake_reaches_active_on_both_sides() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let created = m.json(&[
        "sync",
        "create",
        "--name",
        "acme",
        "--description",
        "vendor and customer",
        "--project",
        "SAM2",
        "--sync-user",
        "bot",
        "--json",
    ]);
    let passphrase = created["passphrase"].as_str().unwrap();
    assert_eq!(passphrase.len(), 35);
    assert_eq!(created["fingerprint"], m.ok(&["key", "show"]));
    assert_eq!(m.status()["state"], "handshake");
    assert!(m.exchange("acme").join("SEND").is_dir() && m.exchange("acme").join("RECEIVE").is_dir());

    let file = m.home().join("acme.handshake.asc");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("-----BEGIN PGP MESSAGE-----"));
    assert!(!text.contains("acme"), "the handshake file must be encrypted");

    let shown = s.ok(&[
        "sync",
        "accept",
        "--file",
        file.to_str().unwrap(),
        "--passphrase",
        passphrase,
        "--project",
        "SP2",
        "--sync-user",
        "bot2",
        "--yes",
    ]);
    assert!(shown.contains("vendor and customer"), "{shown}");
    let grouped: String = created["fingerprint"].as_str().unwrap().chars().take(4).collect();
    assert!(shown.contains(&grouped), "{shown}");
    assert_eq!(s.status()["state"], "handshake");
    assert_eq!(s.status()["partner_fingerprint"], created["fingerprint"]);

    // slave -> master: the accept
    s.cycle();
    assert_eq!(carry(&s, &m, "acme"), 1);
    m.cycle();
    let ms = m.status();
    assert_eq!(ms["state"], "active");
    assert_eq!(ms["partner_fingerprint"], s.ok(&["key", "show"]));
    assert_eq!(ms["incoming_seq"], 1);
    // master -> slave: the acknowledgement completes the connection test
    assert_eq!(s.status()["state"], "handshake");
    assert_eq!(carry(&m, &s, "acme"), 1);
    s.cycle();
    let ss = s.status();
    assert_eq!(ss["state"], "active");
    assert_eq!(ss["awaiting_ack"], 0, "the accept was acknowledged");
}

fn handshake(m: &TestPeer) -> (std::path::PathBuf, String) {
    let created = m.json(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"]);
    (m.home().join("acme.handshake.asc"), created["passphrase"].as_str().unwrap().to_string())
}

fn accept(s: &TestPeer, file: &std::path::Path, pass: &str) -> std::process::Output {
    s.accept(file, pass, "SP2", true)
}

/// The accept failed with `why` in its error, and created nothing.
fn assert_refused(s: &TestPeer, out: std::process::Output, why: &str) {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(why), "{err}");
    assert_nothing_created(s);
}

fn assert_nothing_created(s: &TestPeer) {
    assert_eq!(s.json(&["sync", "list", "--json"]), serde_json::json!([]));
}

#[test]
fn wrong_passphrase_is_its_own_error_and_creates_nothing() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let (file, _) = handshake(&m);
    assert_refused(&s, accept(&s, &file, "aaaaa-bbbbb-ccccc-ddddd-eeeee-fffff"), "wrong passphrase");
}

#[test]
fn tampered_handshake_is_refused() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let (file, pass) = handshake(&m);
    // Flip one bit in the encrypted body (binary form, re-armored).
    let armored = std::fs::read(&file).unwrap();
    let mut bin = Vec::new();
    std::io::copy(
        &mut sequoia_openpgp::armor::Reader::from_bytes(&armored, sequoia_openpgp::armor::ReaderMode::Tolerant(None)),
        &mut bin,
    )
    .unwrap();
    let at = bin.len() - 40;
    bin[at] ^= 0x04;
    let bad = m.home().join("bad.asc");
    std::fs::write(&bad, &bin).unwrap();
    assert_refused(&s, accept(&s, &bad, &pass), "damaged or was altered");
}

#[test]
fn expired_handshake_is_refused() {
    // The CLI refuses --expires-days 0: make one that expires at once
    // through the library.
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let home = postern::home::Home::create(m.home()).unwrap();
    let key = home.own_key().unwrap().unwrap();
    let settings = embedded_settings(&home);
    let created = postern::engine::handshake::create_master(&mut home.open_db().unwrap(), &key, &settings, 1).unwrap();
    let file = m.home().join("acme.handshake.asc");
    std::fs::write(&file, &created.handshake).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_refused(&s, accept(&s, &file, &created.passphrase), "expired");
}

/// A sync is made whole or not at all: when its handshake file cannot be
/// written, no sync is left behind (the name is free, status shows none);
/// when it can, the mapping and attachment limit it started with are
/// there with it.
#[test]
fn a_sync_is_created_whole_or_not_at_all() {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    let home = postern::home::Home::create(m.home()).unwrap();
    let key = home.own_key().unwrap().unwrap();
    let settings = postern::engine::handshake::SyncSettings {
        start: postern::engine::handshake::SyncStart {
            mapping: Some("[statuses]\nOpen = \"New\"\n".into()),
            initial_resync: None,
            max_attachment_bytes: Some(5 << 20),
        },
        ..embedded_settings(&home)
    };
    let mut db = home.open_db().unwrap();
    let failed = postern::engine::handshake::create_master_then(&mut db, &key, &settings, 86_400_000, |_| {
        anyhow::bail!("the disk is full")
    });
    assert!(failed.err().expect("refused").to_string().contains("the disk is full"));
    assert_eq!(m.json(&["status", "--json"]), serde_json::json!([]), "no sync left behind");
    postern::engine::handshake::create_master(&mut db, &key, &settings, 86_400_000).unwrap();
    let st = m.status();
    assert_eq!(st["name"], "acme", "the name was free: {st}");
    assert_eq!(st["max_attachment_bytes"], 5 << 20, "{st}");
    assert!(st["mapping"].as_str().unwrap_or_default().contains("status"), "{st}");
}

#[test]
fn handshake_signed_by_another_key_is_refused() {
    use postern::crypto::cert_from_armored;
    use postern::crypto::message::{open_unverified, seal_with_password, Secret};
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let (file, pass) = handshake(&m);
    let (plain, _) = open_unverified(Secret::Password(&pass), &std::fs::read(&file).unwrap(), 1 << 20).unwrap();
    // Same contents (the master's certificate inside), re-signed by a stranger.
    let stranger = cert_from_armored(STRANGER_KEY.as_bytes()).unwrap();
    let forged = seal_with_password(&stranger, &pass, &plain).unwrap();
    let bad = m.home().join("forged.asc");
    std::fs::write(&bad, forged).unwrap();
    assert_refused(&s, accept(&s, &bad, &pass), "not signed by the master key it contains");
}

#[test]
fn second_accept_is_refused_by_the_master() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let intruder = TestPeer::new(STRANGER_KEY, "SP2");
    let (file, pass) = handshake(&m);
    assert!(accept(&s, &file, &pass).status.success());
    s.cycle();
    carry(&s, &m, "acme");
    m.cycle();
    assert_eq!(m.status()["state"], "active");

    // Someone else who got hold of the file and passphrase answers too.
    assert!(accept(&intruder, &file, &pass).status.success());
    intruder.cycle();
    assert_eq!(carry(&intruder, &m, "acme"), 1);
    m.cycle();
    let st = m.status();
    assert_eq!(st["partner_fingerprint"], s.ok(&["key", "show"]), "the pinned partner is unchanged");
    assert_eq!(st["quarantined"], 1);
    let reasons: Vec<String> = std::fs::read_dir(m.quarantine("acme"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().ends_with(".reason.txt"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert_eq!(reasons.len(), 1);
    assert!(reasons[0].contains("second accept"), "{reasons:?}");

    // The same home uploading the same file again is refused up front.
    let again = accept(&s, &file, &pass);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has the sync"));
}

#[test]
fn accept_needs_confirmation_when_not_interactive() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let (file, pass) = handshake(&m);
    assert_refused(&s, s.accept(&file, &pass, "SP2", false), "--yes");
}

#[test]
fn accept_into_a_missing_project_creates_nothing() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let (file, pass) = handshake(&m);
    assert_refused(&s, s.accept(&file, &pass, "NOPE", true), "project NOPE does not exist");
}

#[test]
fn a_change_that_overtakes_the_accept_is_set_aside_as_early_not_as_forged() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let (file, pass) = handshake(&m);
    assert!(accept(&s, &file, &pass).status.success());
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "made right after accepting"]);
    s.cycle();
    // The accept (message 1) is held back on the way; message 2 arrives.
    let sent = s.outgoing("acme");
    assert_eq!(sent.len(), 2, "{sent:?}");
    let accept_file = m.home().join("accept-held-back");
    std::fs::rename(&sent[0], &accept_file).unwrap();
    carry(&s, &m, "acme");
    m.cycle();
    let st = m.status();
    assert_eq!((st["quarantined"].as_u64(), st["early"].as_u64()), (Some(0), Some(1)), "{st}");
    assert!(m.ok(&["status"]).contains("early           1 message set aside"));
    // The accept comes after all; the change is sent again and applied.
    std::fs::rename(&accept_file, m.exchange("acme").join("RECEIVE").join(sent[0].file_name().unwrap())).unwrap();
    s.ok(&["sync", "timing", "acme", "--resend-after-secs", "0.01"]);
    std::thread::sleep(std::time::Duration::from_millis(50));
    settle(&m, &s, "acme");
    assert_eq!(m.issues("SAM2").len(), 1);
    assert_eq!(m.status()["quarantined"], 0, "nothing forged was seen");
}

/// Settings of a sync `acme` of project SAM2 on the embedded tracker.
fn embedded_settings(home: &postern::home::Home) -> postern::engine::handshake::SyncSettings {
    postern::engine::handshake::SyncSettings {
        name: "acme".into(),
        description: String::new(),
        project: "SAM2".into(),
        sync_user: "bot".into(),
        exchange_dir: home.default_exchange("acme"),
        mail: None,
        max_message_bytes: postern::engine::handshake::DEFAULT_MESSAGE_LIMIT,
        forward: false,
        replaces: None,
        tracker: postern::tracker::TrackerSettings::Embedded,
        start: Default::default(),
    }
}
