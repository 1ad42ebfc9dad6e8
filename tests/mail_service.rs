//! Email as a company mail server sees it, against real Postfix and
//! Dovecot (see `mail.rs`): an idle pair of peers stays idle (one IDLE
//! login each, no polling), no log level shows a password, and a
//! self-signed `CA:TRUE` server certificate is trusted once pinned.

mod common;
use common::mail::*;
use common::*;
use std::time::{Duration, Instant};

fn mail_dir() -> String {
    std::env::var("POSTERN_MAIL_DIR").expect("POSTERN_MAIL_DIR: run scripts/integration.sh")
}

/// Dovecot's logins so far for `who`.
fn logins(who: &str) -> usize {
    let log = std::fs::read_to_string(format!("{}/dovecot.log", mail_dir())).unwrap();
    log.lines().filter(|l| l.contains("Login: user=<") && l.contains(&format!("<{who}@example.test>"))).count()
}

/// CPU seconds a process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let f: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    (f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()) as f64 / 100.0
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn an_idle_pair_stays_idle_on_one_idle_connection_each() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    // The default polling interval: a peer that polled would log in every 2 s.
    let (dm, ds) = (m.daemon(&[]), s.daemon(&[]));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "before idling"]);
    let start = Instant::now();
    while s.issues("SP2").is_empty() || m.status()["awaiting_ack"] != 0 || s.status()["awaiting_ack"] != 0 {
        assert!(start.elapsed() < Duration::from_secs(60), "did not settle");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3));
    let before = (logins("master"), logins("slave"), cpu_seconds(dm.id()), cpu_seconds(ds.id()));
    let log_from = [m.home(), s.home()].map(|h| std::fs::read_to_string(h.join("daemon.log")).unwrap().len());
    let window = Duration::from_secs(30);
    std::thread::sleep(window);
    let after = (logins("master"), logins("slave"), cpu_seconds(dm.id()), cpu_seconds(ds.id()));
    let cpu = [(after.2 - before.2), (after.3 - before.3)].map(|c| c / window.as_secs_f64() * 100.0);
    eprintln!(
        "idle for {window:?}: logins master {} slave {}, CPU master {:.2} % slave {:.2} %",
        after.0 - before.0,
        after.1 - before.1,
        cpu[0],
        cpu[1]
    );
    let logs = [m.stop(dm), s.stop(ds)];
    assert_eq!((after.0 - before.0, after.1 - before.1), (0, 0), "an idle peer logs in to IMAP");
    for (log, from) in logs.iter().zip(log_from) {
        let idle = &log[from..];
        assert_eq!(idle.matches("cycle finished").count(), 0, "idle daemons ran cycles:\n{idle}");
    }
    assert!(cpu.iter().all(|c| *c < 1.0), "idle CPU {cpu:?} %");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn an_incoming_mail_costs_one_imap_login() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    let (dm, ds) = (m.daemon(&["--interval", "3600"]), s.daemon(&["--interval", "3600"]));
    let settled = || m.status()["awaiting_ack"] == 0 && s.status()["awaiting_ack"] == 0;
    let start = Instant::now();
    // Each daemon's IDLE login and its first look.
    std::thread::sleep(Duration::from_secs(3));
    let before = (logins("master"), logins("slave"));
    let issues = 3;
    for i in 0..issues {
        m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("counted {i}")]);
        while s.issues("SP2").len() <= i || !settled() {
            assert!(start.elapsed() < Duration::from_secs(60), "did not settle");
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let after = (logins("master"), logins("slave"));
    m.stop(dm);
    let slog = s.stop(ds);
    if std::env::var_os("POSTERN_SHOW_LOG").is_some() {
        eprintln!("{slog}");
    }
    // Per issue: the change reaches the slave, the pairing comes back, an
    // acknowledgement may follow. Each mail read costs at most one login.
    let (master, slave) = (after.0 - before.0, after.1 - before.1);
    eprintln!("{issues} issues: IMAP logins master {master}, slave {slave}");
    assert!(slave <= 2 * issues, "slave logged in {slave} times for {issues} issues");
    assert!(master <= 2 * issues, "master logged in {master} times for {issues} issues");
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn no_log_level_shows_the_mail_password() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let env = [("POSTERN_LOG", "trace")];
    for flags in [mail_flags(&m, "master", "pw-master"), tls_flags(&m, "master", "pw-master")] {
        let out = m.cli_env(&args(&["mail", "test", "-vvv"], &flags), &env);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("TRACE"), "trace level is on: {text}");
        assert!(!text.contains("pw-master"), "the password shows at trace level:\n{text}");
    }
    pair_by_mail(&m, &s, "pw-slave");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "traced"]);
    for p in [&m, &s, &m] {
        std::thread::sleep(Duration::from_millis(300));
        let out = p.cli_env(&["run", "--once", "-vvv"], &env);
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        assert!(!text.contains("pw-master") && !text.contains("pw-slave"), "{text}");
    }
}

/// The account `who` through 127.0.0.3, where both servers present a
/// self-signed CA:TRUE certificate, over STARTTLS.
fn self_signed(p: &TestPeer, who: &str, password: &str) -> Vec<String> {
    mail_flags(p, who, password)
        .into_iter()
        .map(|f| match f.as_str() {
            "127.0.0.1" => "127.0.0.3".into(),
            "none" => "starttls".into(),
            _ => f,
        })
        .collect()
}

fn self_signed_pinned(p: &TestPeer, who: &str, password: &str) -> Vec<String> {
    let mut v = self_signed(p, who, password);
    v.extend(["--mail-ca-file".into(), format!("{}/tls/selfsigned.pem", mail_dir())]);
    v
}

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn a_self_signed_ca_certificate_is_trusted_once_pinned() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let plain = self_signed(&m, "master", "pw-master");
    let out = m.cli(&args(&["mail", "test"], &plain));
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("FAILED  IMAP") && text.contains("FAILED  SMTP"), "{text}");
    assert!(text.contains("CA certificate (CA:TRUE"), "the hint says what is wrong: {text}");
    assert!(!text.contains("Some(") && !text.contains("OtherError"), "words, not debug output: {text}");
    // Pinned by the file...
    let out = m.ok(&args(&["mail", "test"], &self_signed_pinned(&m, "master", "pw-master")));
    assert!(out.contains("ok      IMAP 127.0.0.3") && out.contains("ok      SMTP 127.0.0.3"), "{out}");
    // ... or by its SHA-256, as openssl prints it.
    let fp = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in", &format!("{}/tls/selfsigned.pem", mail_dir())])
        .output()
        .unwrap();
    let fp = String::from_utf8(fp.stdout).unwrap().trim().rsplit('=').next().unwrap().to_string();
    let mut pinned = plain.clone();
    pinned.extend(["--mail-cert-sha256".into(), fp.clone()]);
    m.ok(&args(&["mail", "test"], &pinned));
    // A wrong pin is refused.
    let mut wrong = plain.clone();
    wrong.extend(["--mail-cert-sha256".into(), "00".repeat(32)]);
    let err = m.fail(&args(&["mail", "test"], &wrong));
    assert!(err.contains("failed"), "{err}");
    // And mail crosses both ways through it.
    pair_by_mail_with(&m, &s, "pw-slave", self_signed_pinned, &[]);
    settle_mail(&m, &s);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "through a self-signed server"]);
    settle_mail(&m, &s);
    assert_eq!(s.issue("SP2-1")["summary"], "through a self-signed server");
}
