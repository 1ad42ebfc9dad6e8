//! Helpers for the tests against real Postfix and Dovecot: accounts,
//! pairing by mail, settling, raw mail in and out, server control.

use super::*;

/// The tests share the three mailboxes: one at a time.
pub static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn ports() -> (String, String) {
    let get = |v: &str| std::env::var(v).unwrap_or_else(|_| panic!("{v} is not set: run scripts/integration.sh"));
    (get("POSTERN_SMTP_PORT"), get("POSTERN_IMAP_PORT"))
}

/// Mail flags for the account `who` (password from a file).
pub fn mail_flags(p: &TestPeer, who: &str, password: &str) -> Vec<String> {
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
pub fn tls_flags(p: &TestPeer, who: &str, password: &str) -> Vec<String> {
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

pub fn args<'a>(base: &[&'a str], extra: &'a [String]) -> Vec<&'a str> {
    base.iter().copied().chain(extra.iter().map(String::as_str)).collect()
}

pub fn pair_by_mail(m: &TestPeer, s: &TestPeer, slave_password: &str) {
    pair_by_mail_with(m, s, slave_password, mail_flags, &[]);
}

pub type Flags = fn(&TestPeer, &str, &str) -> Vec<String>;

/// The master creates email sync "acme" with `flags(master)` plus `extra`.
/// Returns the handshake file and the passphrase.
pub fn create_by_mail(m: &TestPeer, flags: Flags, extra: &[&str]) -> (PathBuf, String) {
    let mut mf = flags(m, "master", "pw-master");
    mf.extend(extra.iter().map(|a| a.to_string()));
    let base = ["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot"];
    let created = m.json(&args(&[&base[..], &["--protocol", "email", "--json"]].concat(), &mf));
    (m.home().join("acme.handshake.asc"), created["passphrase"].as_str().unwrap().to_string())
}

/// The `sync accept` arguments for a handshake file, mail flags to add.
pub fn accept_args<'a>(hs: &'a Path, pass: &'a str) -> Vec<&'a str> {
    let base = ["sync", "accept", "--file", hs.to_str().unwrap(), "--passphrase", pass, "--project", "SP2"];
    [&base[..], &["--sync-user", "bot", "--yes"]].concat()
}

pub fn pair_by_mail_with(m: &TestPeer, s: &TestPeer, slave_password: &str, flags: Flags, create_extra: &[&str]) {
    let (hs, pass) = create_by_mail(m, flags, create_extra);
    s.ok(&args(&accept_args(&hs, &pass), &flags(s, "slave", slave_password)));
}

/// Cycles both peers until neither moves anything (mail is delivered
/// within tens of milliseconds on loopback).
pub fn settle_mail(m: &TestPeer, s: &TestPeer) {
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

/// Sends a raw mail to `to` through the test SMTP server as `other`.
pub fn deposit(to: &str, raw: &str) {
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
pub fn subjects(user: &str, password: &str) -> Vec<String> {
    subjects_in(user, password, "INBOX")
}

/// How many mails of sync `sync` wait in a mailbox's INBOX (other tests'
/// syncs may leave theirs in the shared mailboxes).
pub fn mails_of_sync(user: &str, password: &str, sync: &str) -> usize {
    headers_in(user, password, "INBOX", "X-POSTERN-SYNC").iter().filter(|h| h.contains(sync)).count()
}

/// The whole mails of sync `sync` in a mailbox's INBOX, as delivered.
pub fn raw_mails_of_sync(user: &str, password: &str, sync: &str) -> Vec<Vec<u8>> {
    use futures::TryStreamExt;
    let (_, imap) = ports();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", imap.parse::<u16>().unwrap())).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        let mut s = client.login(user, password).await.map_err(|(e, _)| e).unwrap();
        s.select("INBOX").await.unwrap();
        let found = s.search(format!("HEADER X-Postern-Sync \"{sync}\"")).await.unwrap();
        let mut ids: Vec<u32> = found.into_iter().collect();
        ids.sort();
        let mut mails = Vec::new();
        for id in ids {
            let f: Vec<_> = s.fetch(id.to_string(), "BODY.PEEK[]").await.unwrap().try_collect().await.unwrap();
            mails.extend(f.iter().filter_map(|f| f.body().map(<[u8]>::to_vec)));
        }
        s.logout().await.unwrap();
        mails
    })
}

/// Subjects of the mails in a folder of a mailbox.
pub fn subjects_in(user: &str, password: &str, folder: &str) -> Vec<String> {
    headers_in(user, password, folder, "SUBJECT")
}

/// One header field of each mail in a folder of a mailbox.
fn headers_in(user: &str, password: &str, folder: &str, field: &str) -> Vec<String> {
    use futures::TryStreamExt;
    let (_, imap) = ports();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", imap.parse::<u16>().unwrap())).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        let mut s = client.login(user, password).await.map_err(|(e, _)| e).unwrap();
        if s.select(folder).await.unwrap().exists == 0 {
            s.logout().await.unwrap();
            return Vec::new();
        }
        let fetches: Vec<_> =
            s.fetch("1:*", format!("BODY.PEEK[HEADER.FIELDS ({field})]")).await.unwrap().try_collect().await.unwrap();
        let v = fetches
            .iter()
            .map(|f| String::from_utf8_lossy(f.header().unwrap_or_default()).trim().to_string())
            .collect();
        s.logout().await.unwrap();
        v
    })
}

/// Stops a server for a test and starts it again when dropped, even if
/// the test fails half-way (a server left down would fail every later test).
pub struct Stopped(&'static str);

pub fn stopped(server: &'static str) -> Stopped {
    servers(&format!("stop-{server}"));
    Stopped(server)
}

impl Drop for Stopped {
    fn drop(&mut self) {
        servers(&format!("start-{}", self.0));
    }
}

pub fn servers(cmd: &str) {
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
