//! The email protocol against real Postfix and Dovecot on loopback.
//! Ignored in plain `cargo test`; `scripts/integration.sh` starts the
//! servers (`scripts/mail-servers.sh`) and runs these with
//! POSTERN_SMTP_PORT and POSTERN_IMAP_PORT set.

mod common;
use common::*;

/// The tests share the three mailboxes: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn ports() -> (String, String) {
    let get = |v: &str| std::env::var(v).unwrap_or_else(|_| panic!("{v} is not set: run scripts/integration.sh"));
    (get("POSTERN_SMTP_PORT"), get("POSTERN_IMAP_PORT"))
}

/// Mail flags for the account `who` (password from a file).
fn mail_flags(p: &TestPeer, who: &str, password: &str) -> Vec<String> {
    let (smtp, imap) = ports();
    let pw = p.home().join("imap-password");
    std::fs::write(&pw, password).unwrap();
    let address = format!("{who}@example.test");
    [
        "--mail-address",
        &address,
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        &imap,
        "--imap-security",
        "none",
        "--imap-user",
        &address,
        "--imap-password-file",
        pw.to_str().unwrap(),
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        &smtp,
        "--smtp-security",
        "none",
        "--same-credentials",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The same account over STARTTLS on both servers, by the name their
/// certificate carries, trusting the test CA.
fn tls_flags(p: &TestPeer, who: &str, password: &str) -> Vec<String> {
    let dir = std::env::var("POSTERN_MAIL_DIR").expect("POSTERN_MAIL_DIR: run scripts/integration.sh");
    let mut v: Vec<String> = mail_flags(p, who, password)
        .into_iter()
        .map(|f| match f.as_str() {
            "127.0.0.1" => "localhost".into(),
            "none" => "starttls".into(),
            _ => f,
        })
        .collect();
    v.extend(["--mail-ca-file".into(), format!("{dir}/tls/ca.pem")]);
    v
}

fn args<'a>(base: &[&'a str], extra: &'a [String]) -> Vec<&'a str> {
    base.iter().copied().chain(extra.iter().map(String::as_str)).collect()
}

fn pair_by_mail(m: &TestPeer, s: &TestPeer, slave_password: &str) {
    pair_by_mail_with(m, s, slave_password, mail_flags, &[]);
}

type Flags = fn(&TestPeer, &str, &str) -> Vec<String>;

fn pair_by_mail_with(m: &TestPeer, s: &TestPeer, slave_password: &str, flags: Flags, create_extra: &[&str]) {
    let mut mf = flags(m, "master", "pw-master");
    mf.extend(create_extra.iter().map(|a| a.to_string()));
    let created = m.json(&args(
        &[
            "sync",
            "create",
            "--name",
            "acme",
            "--project",
            "SAM2",
            "--sync-user",
            "bot",
            "--protocol",
            "email",
            "--json",
        ],
        &mf,
    ));
    let hs = m.home().join("acme.handshake.asc");
    let sf = flags(s, "slave", slave_password);
    let pass = created["passphrase"].as_str().unwrap().to_string();
    s.ok(&args(
        &[
            "sync",
            "accept",
            "--file",
            hs.to_str().unwrap(),
            "--passphrase",
            &pass,
            "--project",
            "SP2",
            "--sync-user",
            "bot",
            "--yes",
        ],
        &sf,
    ));
}

/// Cycles both peers until neither moves anything (mail is delivered
/// within tens of milliseconds on loopback).
fn settle_mail(m: &TestPeer, s: &TestPeer) {
    let mut quiet = 0;
    for _ in 0..100 {
        let (a, b) = (m.cycle(), s.cycle());
        quiet = if a.is_idle() && b.is_idle() { quiet + 1 } else { 0 };
        if quiet == 3 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no quiet over mail");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn handshake_and_two_way_sync_through_real_mailboxes() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    assert_eq!(m.status()["protocol"], "email");
    settle_mail(&m, &s);
    assert_eq!(m.status()["state"], "active");
    assert_eq!(s.status()["state"], "active");

    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "by mail", "--priority", "High"]);
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "and back"]);
    settle_mail(&m, &s);
    s.ok(&["comment", "add", "SP2-2", "--body", "seen over IMAP"]);
    m.ok(&["issue", "edit", "SAM2-2", "--status", "Done"]);
    settle_mail(&m, &s);
    let (mi, si) = (m.issue("SAM2-1"), s.issue("SP2-2"));
    assert_eq!(content(&mi), content(&si));
    assert_eq!(mi["comments"][0]["body"], "seen over IMAP");
    assert_eq!(s.issue("SP2-1")["status"], "Done");
    assert_eq!(m.status()["awaiting_ack"], 0);
    assert_eq!(s.status()["awaiting_ack"], 0);
    // Nothing about issue content leaks into headers: the secret words
    // travel only inside the encrypted part (checked by the MIME codec's
    // fixed Subject), and status shows no password.
    let status = m.ok(&["status", "--json"]);
    assert!(!status.contains("pw-master"));
    let st = m.status();
    assert_eq!(st["mail"]["imap"]["username"], "master@example.test");
    assert_eq!(st["mail"]["partner_address"], "slave@example.test");
    assert!(st["mail"]["imap"]["password"]["file"].is_string(), "the password is shown by source only: {st}");
    let text = m.ok(&["status"]);
    assert!(text.contains("master@example.test -> slave@example.test"), "{text}");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn a_wrong_imap_password_is_reported_in_words() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    // The accept checks the accounts first: nothing is saved.
    let mf = mail_flags(&m, "master", "pw-master");
    let created = m.json(&args(
        &[
            "sync",
            "create",
            "--name",
            "acme",
            "--project",
            "SAM2",
            "--sync-user",
            "bot",
            "--protocol",
            "email",
            "--json",
        ],
        &mf,
    ));
    let hs = m.home().join("acme.handshake.asc");
    let pass = created["passphrase"].as_str().unwrap().to_string();
    let sf = mail_flags(&s, "slave", "not-the-password");
    let accept = ["sync", "accept", "--file", hs.to_str().unwrap(), "--passphrase", &pass, "--project", "SP2"];
    let accept = [&accept[..], &["--sync-user", "bot", "--yes"]].concat();
    let err = s.fail(&args(&accept, &sf));
    assert!(err.contains("IMAP login to 127.0.0.1 as slave@example.test failed"), "{err}");
    assert!(err.contains("nothing was saved"), "{err}");
    assert!(!err.contains("not-the-password"), "the password is not echoed");
    assert_eq!(s.json(&["sync", "list", "--json"]), serde_json::json!([]));

    // Saved unchecked, the daemon reports the same in words.
    let sf = [sf, vec!["--skip-mail-test".to_string()]].concat();
    s.ok(&args(&accept, &sf));
    let err = s.fail(&["run", "--once"]);
    assert!(err.contains("IMAP login to 127.0.0.1 as slave@example.test failed"), "{err}");
    assert!(!err.contains("not-the-password"), "the password is not echoed");
}

/// Sends a raw mail to `to` through the test SMTP server as `other`.
fn deposit(to: &str, raw: &str) {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let (smtp, _) = ports();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(smtp.parse().unwrap())
            .credentials(Credentials::new("other@example.test".into(), "pw-other".into()))
            .build();
        let env =
            lettre::address::Envelope::new(Some("other@example.test".parse().unwrap()), vec![to.parse().unwrap()])
                .unwrap();
        t.send_raw(&env, raw.as_bytes()).await.unwrap();
    });
}

/// Subjects of the mails in a mailbox.
fn subjects(user: &str, password: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let (_, imap) = ports();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", imap.parse::<u16>().unwrap())).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        let mut s = client.login(user, password).await.map_err(|(e, _)| e).unwrap();
        s.select("INBOX").await.unwrap();
        let fetches: Vec<_> =
            s.fetch("1:*", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]").await.unwrap().try_collect().await.unwrap();
        let v = fetches
            .iter()
            .map(|f| String::from_utf8_lossy(f.header().unwrap_or_default()).trim().to_string())
            .collect();
        s.logout().await.unwrap();
        v
    })
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn mail_for_another_sync_is_left_alone_in_a_shared_mailbox() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    // The master's mailbox is shared: other mail arrives there too.
    let before = subjects("master@example.test", "pw-master").len();
    deposit("master@example.test", "Subject: lunch?\r\n\r\nsee you at noon\r\n");
    deposit(
        "master@example.test",
        "Subject: postern message\r\nX-Postern-Sync: 11111111-2222-3333-4444-555555555555\r\nX-Postern-Name: postern-11111111-2222-3333-4444-555555555555-000000000001-ab.pgp\r\n\r\nnot for us\r\n",
    );
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "still works"]);
    settle_mail(&m, &s);
    assert_eq!(s.issues("SP2").len(), 1);
    let left = subjects("master@example.test", "pw-master");
    assert_eq!(left.len(), before + 2, "{left:?}");
    assert!(left.iter().any(|l| l.contains("lunch?")), "{left:?}");
    assert_eq!(m.status()["quarantined"], 0, "another sync's mail is not ours to quarantine");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn mail_test_checks_both_accounts_in_words() {
    let _one = serial();
    let p = TestPeer::new(MASTER_KEY, "SAM2");
    let good = mail_flags(&p, "master", "pw-master");
    let out = p.ok(&args(&["mail", "test"], &good));
    assert!(out.contains("ok      IMAP 127.0.0.1") && out.contains("ok      SMTP 127.0.0.1"), "{out}");
    let bad = mail_flags(&p, "master", "wrong-secret");
    let out = p.cli(&args(&["mail", "test"], &bad));
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("FAILED  IMAP") && text.contains("wrong user name or password"), "{text}");
    assert!(text.contains("FAILED  SMTP"), "{text}");
    assert!(!text.contains("wrong-secret"), "the password is not echoed");

    // The relay lets each login send only as its own address.
    let good = mail_flags(&p, "master", "pw-master");
    assert_eq!(good[0], "--mail-address");
    let foreign: Vec<String> =
        [vec!["--mail-address".into(), "slave@example.test".into()], good[2..].to_vec()].concat();
    let out = p.cli(&args(&["mail", "test"], &foreign));
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("ok      IMAP"), "{text}");
    assert!(
        text.contains("FAILED  SMTP")
            && text.contains("does not let 'master@example.test' send as <slave@example.test>"),
        "{text}"
    );
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn imap_idle_wakes_the_daemon() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    // A full scan once an hour: a change that arrives sooner came through
    // notify (the master's database) and IMAP IDLE (the slave's mailbox).
    let (dm, ds) = (m.daemon(&["--interval", "3600"]), s.daemon(&["--interval", "3600"]));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "woken by IDLE"]);
    let start = std::time::Instant::now();
    while s.issues("SP2").is_empty() {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "IDLE never woke the slave");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    eprintln!("arrived over IMAP IDLE after {:?}", start.elapsed());
    m.stop(dm);
    s.stop(ds);
}

fn servers(cmd: &str) {
    let dir = std::env::var("POSTERN_MAIL_DIR").expect("POSTERN_MAIL_DIR: run scripts/integration.sh");
    let st = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/mail-servers.sh"))
        .args([cmd, &dir])
        // Dovecot must not inherit the test's output (it would hold it open).
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "mail-servers.sh {cmd}");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn a_dovecot_restart_in_the_middle_of_a_sync_loses_nothing() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "before the restart"]);
    m.cycle();
    servers("stop-imap");
    // Postfix still delivers; the slave cannot read; the master keeps sending.
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "while IMAP is down"]);
    let err = m.fail(&["run", "--once"]);
    assert!(err.contains("cannot reach the IMAP server"), "{err}");
    let err = s.fail(&["run", "--once"]);
    assert!(err.contains("cannot reach the IMAP server"), "{err}");
    servers("start-imap");
    settle_mail(&m, &s);
    let mut got: Vec<String> = s.issues("SP2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    got.sort();
    assert_eq!(got, ["before the restart", "while IMAP is down"]);
    assert_eq!(m.status()["awaiting_ack"], 0);
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn starttls_on_both_servers_with_a_private_ca() {
    let _one = serial();
    let p = TestPeer::new(MASTER_KEY, "SAM2");
    let good = tls_flags(&p, "master", "pw-master");
    let out = p.ok(&args(&["mail", "test"], &good));
    assert!(out.contains("ok      IMAP localhost") && out.contains("ok      SMTP localhost"), "{out}");
    // Without the CA file, both checks say the certificate is not trusted.
    let untrusted: Vec<String> = good[..good.len() - 2].to_vec();
    let out = p.cli(&args(&["mail", "test"], &untrusted));
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("FAILED  IMAP") && text.contains("--mail-ca-file"), "{text}");
    assert!(text.contains("FAILED  SMTP") && text.to_lowercase().contains("certificate"), "{text}");
    let err = p.fail(&args(&["mail", "test", "--mail-ca-file", "/nonexistent/ca.pem"], &good[..good.len() - 2]));
    assert!(err.contains("/nonexistent/ca.pem does not exist"), "{err}");

    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail_with(&m, &s, "pw-slave", tls_flags, &[]);
    settle_mail(&m, &s);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "over STARTTLS"]);
    settle_mail(&m, &s);
    assert_eq!(s.issue("SP2-1")["summary"], "over STARTTLS");
    assert_eq!(m.status()["awaiting_ack"], 0);
    assert_eq!(s.status()["mail"]["imap"]["security"], "starttls");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn an_attachment_larger_than_the_mail_size_limit_arrives_whole() {
    let _one = serial();
    // The test Postfix refuses mails over 1 MiB: check it really does.
    let (smtp, _) = ports();
    let too_big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(1_200_000));
    let refused = std::panic::catch_unwind(|| deposit("slave@example.test", &too_big));
    assert!(refused.is_err(), "Postfix on {smtp} should refuse a 1.2 MB mail");

    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail_with(&m, &s, "pw-slave", mail_flags, &["--max-message-size", "1MB"]);
    settle_mail(&m, &s);
    assert_eq!(s.status()["max_message_bytes"], 1_000_000, "the slave adopts the master's smaller limit");

    // 3 MB of incompressible bytes, each way.
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 0x9e3779b97f4a7c15u64;
    let big: Vec<u8> = (0..3_000_000 / 8)
        .flat_map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed.to_le_bytes()
        })
        .collect();
    let file = dir.path().join("dump.bin");
    std::fs::write(&file, &big).unwrap();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "core dump"]);
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap()]);
    settle_mail(&m, &s);
    s.ok(&["attachment", "add", "SP2-1", file.to_str().unwrap(), "--name", "back.bin"]);
    settle_mail(&m, &s);
    for (p, issue, name) in [(&s, "SP2-1", "dump.bin"), (&m, "SAM2-1", "back.bin")] {
        let list = p.json(&["attachment", "list", issue, "--json"]);
        let a = list.as_array().unwrap().iter().find(|a| a["filename"] == name).expect("attachment arrived");
        let out = p.home().join("got.bin");
        let _ = std::fs::remove_file(&out);
        p.ok(&["attachment", "get", issue, a["id"].as_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(std::fs::read(&out).unwrap() == big, "{name} arrived whole");
        assert_eq!(p.status()["parts_pending"], 0);
        assert_eq!(p.status()["awaiting_ack"], 0);
    }
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn the_imap_position_is_kept_and_a_new_uidvalidity_rereads_the_mailbox() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "one"]);
    settle_mail(&m, &s);
    let before = s.status()["imap_position"].clone();
    let last = before["last_uid"].as_u64().expect("position stored");
    assert!(last > 0, "{before}");
    let validity = before["uidvalidity"].as_u64().unwrap();

    // The mailbox gets a new UIDVALIDITY (as after a restore): the slave
    // starts from the beginning and still applies each change once.
    let dir = std::env::var("POSTERN_MAIL_DIR").unwrap();
    let new_validity = (validity + 1000).to_string();
    let st = std::process::Command::new("doveadm")
        .args(["-c", &format!("{dir}/dovecot.conf"), "mailbox", "update", "-u", "slave@example.test"])
        .args(["--uid-validity", &new_validity, "INBOX"])
        .status()
        .unwrap();
    assert!(st.success(), "doveadm mailbox update");
    // As if the old mailbox had reached a high UID before it was recreated:
    // new mails now have lower UIDs, and must not be skipped.
    let db = postern::store::open(&s.home().join("postern.db")).unwrap();
    db.execute("UPDATE imap_position SET last_uid = 1000000", []).unwrap();
    drop(db);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "two"]);
    settle_mail(&m, &s);
    let after = s.status()["imap_position"].clone();
    assert_eq!(after["uidvalidity"].as_u64().unwrap().to_string(), new_validity, "{after}");
    let got: Vec<String> = s.issues("SP2").iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, ["one", "two"], "each change applied exactly once");
    let text = s.ok(&["status"]);
    assert!(text.contains(&format!("(UIDVALIDITY {new_validity})")), "{text}");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn the_email_relay_example_sets_up_a_customer_against_real_servers() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let mf = tls_flags(&m, "master", "pw-master");
    let created = m.json(&args(
        &["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--protocol", "email"],
        &[mf, vec!["--json".into()]].concat(),
    ));
    let passfile = m.home().join("passphrase");
    std::fs::write(&passfile, created["passphrase"].as_str().unwrap()).unwrap();

    // The example's mail.toml, pointed at the test servers (STARTTLS on
    // both, the test CA standing in for the company CA).
    let (smtp, imap) = ports();
    let dir = std::env::var("POSTERN_MAIL_DIR").unwrap();
    let etc = tempfile::tempdir().unwrap();
    std::fs::write(etc.path().join("imap-password"), "pw-slave\n").unwrap();
    std::fs::copy(format!("{dir}/tls/ca.pem"), etc.path().join("company-ca.pem")).unwrap();
    let example = include_str!("../examples/email-relay/mail.toml");
    let config = example
        .replace("postern-sync@customer.example", "slave@example.test")
        .replace("imap.customer.example", "localhost")
        .replace("relay.customer.example", "localhost")
        .replace("port = 993", &format!("port = {imap}"))
        .replace("security = \"tls\"", "security = \"starttls\"")
        .replace("port = 587", &format!("port = {smtp}"));
    assert_ne!(config, example);
    std::fs::write(etc.path().join("mail.toml"), config).unwrap();

    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_postern")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/email-relay/setup-customer.sh"))
        .arg(created["handshake_file"].as_str().map(|f| m.home().join(f)).unwrap())
        .arg(&passfile)
        .arg(etc.path().join("mail.toml"))
        .arg("--yes")
        .env("PATH", path)
        .env("POSTERN_HOME", s.home())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ok      IMAP localhost") && stdout.contains("ok      SMTP localhost"), "{stdout}");
    assert!(stdout.contains("Accepted sync 'acme'"), "{stdout}");

    settle_mail(&m, &s);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "through the relay example"]);
    settle_mail(&m, &s);
    assert_eq!(s.issue("SP2-1")["summary"], "through the relay example");
    let st = s.status();
    assert_eq!(st["mail"]["done_folder"], "postern-done");
    assert_eq!(st["mail"]["smtp"]["security"], "starttls");
    assert_eq!(st["state"], "active");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn a_server_without_idle_is_polled() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    // The slave reads through 127.0.0.2, where Dovecot does not announce IDLE.
    fn no_idle(p: &TestPeer, who: &str, password: &str) -> Vec<String> {
        let mut v = mail_flags(p, who, password);
        let i = v.iter().position(|f| f == "--imap-host").unwrap();
        if who == "slave" {
            v[i + 1] = "127.0.0.2".into();
        }
        v
    }
    pair_by_mail_with(&m, &s, "pw-slave", no_idle, &[]);
    settle_mail(&m, &s);
    let (dm, ds) = (m.daemon(&["--interval", "1"]), s.daemon(&["--interval", "1"]));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "found by polling"]);
    let start = std::time::Instant::now();
    while s.issues("SP2").is_empty() {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "polling never found the mail");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    m.stop(dm);
    let log = s.stop(ds);
    assert!(log.contains("does not offer IDLE"), "{log}");
}
