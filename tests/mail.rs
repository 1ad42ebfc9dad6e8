//! The email protocol against real Postfix and Dovecot on loopback.
//! Ignored in plain `cargo test`; `scripts/integration.sh` starts the
//! servers (`scripts/mail-servers.sh`) and runs these with
//! POSTERN_SMTP_PORT, POSTERN_IMAP_PORT and POSTERN_MAIL_DIR set.
//! Failures (servers down, kills, large changes): `mail_faults.rs`.

mod common;
use common::mail::*;
use common::*;

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
    let (hs, pass) = create_by_mail(&m, mail_flags, &[]);
    let sf = mail_flags(&s, "slave", "not-the-password");
    let accept = accept_args(&hs, &pass);
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
    // One change after another, each waited for: a mail that arrives
    // while the watcher leaves and re-enters IDLE must wake it too.
    for i in 1..=6 {
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("woken by IDLE {i}")]);
        let start = std::time::Instant::now();
        while s.issues("SP2").len() < i {
            assert!(start.elapsed() < std::time::Duration::from_secs(30), "IDLE never woke the slave for {i}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        eprintln!("{i} arrived over IMAP IDLE after {:?}", start.elapsed());
    }
    m.stop(dm);
    s.stop(ds);
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn tls_and_starttls_on_both_servers_with_a_private_ca() {
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
    // Implicit TLS (993/465 style) on the next ports.
    let (smtp, imap) = ports();
    let (smtps, imaps) =
        ((smtp.parse::<u16>().unwrap() + 1).to_string(), (imap.parse::<u16>().unwrap() + 1).to_string());
    let implicit: Vec<String> = good
        .iter()
        .map(|f| match f.as_str() {
            "starttls" => "tls".to_string(),
            p if p == smtp => smtps.clone(),
            p if p == imap => imaps.clone(),
            _ => f.clone(),
        })
        .collect();
    let out = p.ok(&args(&["mail", "test"], &implicit));
    assert!(out.contains(&format!("ok      IMAP localhost:{imaps}")), "{out}");
    assert!(out.contains(&format!("ok      SMTP localhost:{smtps}")), "{out}");
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
fn the_email_relay_example_sets_up_a_customer_against_real_servers() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let (hs, pass) = create_by_mail(&m, tls_flags, &[]);
    let passfile = m.home().join("passphrase");
    std::fs::write(&passfile, pass).unwrap();

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
        .arg(&hs)
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

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn a_forged_mail_for_our_sync_moves_to_the_quarantine_folder() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    // Someone else writes a mail that claims to be for this sync.
    let id = m.status()["id"].as_str().unwrap().to_string();
    let forged = format!(
        "Subject: postern forged\r\nX-Postern-Sync: {id}\r\nX-Postern-Name: postern-{id}-000000000007-ff.pgp\r\n\r\n\
         -----BEGIN PGP MESSAGE-----\r\n\r\nbm90IHJlYWxseQ==\r\n-----END PGP MESSAGE-----\r\n"
    );
    deposit("master@example.test", &forged);
    std::thread::sleep(std::time::Duration::from_millis(300));
    m.cycle();
    assert_eq!(m.status()["quarantined"], 1);
    assert!(!subjects("master@example.test", "pw-master").iter().any(|l| l.contains("forged")));
    let aside = subjects_in("master@example.test", "pw-master", "postern-quarantine");
    assert!(aside.iter().any(|l| l.contains("postern forged")), "{aside:?}");
    // The sync goes on.
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "after the forgery"]);
    settle_mail(&m, &s);
    assert_eq!(s.issue("SP2-1")["summary"], "after the forgery");
}
