//! Interop: GnuPG (an auditor's tool) decrypts and verifies what postern
//! writes, given the recipient's exported secret key.

mod common;
use common::*;
use std::process::Command;

fn gpg(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new("gpg")
        .env("GNUPGHOME", home)
        .args([
            "--batch",
            "--yes",
            "--no-tty",
            "--pinentry-mode",
            "loopback",
            "--trust-model",
            "always",
            "--status-fd",
            "2",
        ])
        .args(args)
        .output()
        .expect("gpg (GnuPG 2.2) must be installed for this test")
}

struct GpgHome(tempfile::TempDir);
impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").args(["--homedir"]).arg(self.0.path()).args(["--kill", "gpg-agent"]).status();
    }
}

/// A VALIDSIG status line whose primary-key fingerprint (last field) is `fpr`.
fn signed_by(status: &str, fpr: &str) -> bool {
    status.lines().any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.trim_end().ends_with(fpr))
}

#[test]
fn gnupg_decrypts_and_verifies_a_message_and_the_handshake_file() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let (created, hs, msg) = one_message(&m, &s, "Audit me");
    let pass = created["passphrase"].as_str().unwrap();

    let g = GpgHome(tempfile::tempdir().unwrap());
    let keys = g.0.path().join("k");
    std::fs::create_dir(&keys).unwrap();
    std::fs::write(keys.join("slave.sec"), s.ok(&["key", "export", "--secret"])).unwrap();
    // What the slave's auditor has: the master's certificate as pinned.
    std::fs::write(keys.join("master.pub"), s.ok(&["key", "export", "--partner", "acme"])).unwrap();
    for k in ["slave.sec", "master.pub"] {
        let out = gpg(g.0.path(), &["--passphrase", "", "--import", keys.join(k).to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let master_fpr = m.ok(&["key", "show"]);

    let out = gpg(g.0.path(), &["--passphrase", "", "--decrypt", msg.to_str().unwrap()]);
    let status = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{status}");
    assert!(status.contains("DECRYPTION_OKAY"), "{status}");
    assert!(status.contains("GOODSIG"), "{status}");
    assert!(signed_by(&status, &master_fpr), "{status}");
    assert!(status.contains(" postern peer (acme, master)\n"), "the signer is named: {status}");
    let env: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(env["sync"], created["sync_id"]);
    assert_eq!(env["body"]["changes"][0]["fields"]["summary"], "Audit me");

    let out = gpg(g.0.path(), &["--passphrase", pass, "--decrypt", hs.to_str().unwrap()]);
    let status = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{status}");
    assert!(signed_by(&status, &master_fpr), "{status}");
    let file: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(file["master_fingerprint"], master_fpr.as_str());
}

fn user_ids(g: &GpgHome, armored: &str) -> Vec<String> {
    let file = g.0.path().join("cert.asc");
    std::fs::write(&file, armored).unwrap();
    let out = gpg(g.0.path(), &["--with-colons", "--show-keys", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().filter(|l| l.starts_with("uid:")).map(|l| l.split(':').nth(9).unwrap().to_string()).collect()
}

#[test]
fn each_partner_sees_its_own_sync_in_the_key_user_id_and_no_other() {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    let (s1, s2) = (TestPeer::new(SLAVE_KEY, "SP2"), TestPeer::new(SLAVE_KEY, "SP3"));
    pair(&m, &s1, "acme", "SAM2", "SP2");
    settle(&m, &s1, "acme");
    m.ok(&["project", "create", "SAM3"]);
    pair(&m, &s2, "globex", "SAM3", "SP3");
    let g = GpgHome(tempfile::tempdir().unwrap());
    assert_eq!(user_ids(&g, &s1.ok(&["key", "export", "--partner", "acme"])), ["postern peer (acme, master)"]);
    assert_eq!(user_ids(&g, &s2.ok(&["key", "export", "--partner", "globex"])), ["postern peer (globex, master)"]);
    assert_eq!(user_ids(&g, &m.ok(&["key", "export", "--sync", "globex"])), ["postern peer (globex, master)"]);
    assert_eq!(user_ids(&g, &m.ok(&["key", "export", "--partner", "acme"])), ["postern peer (acme, slave)"]);
    // The partner's pinned certificate is the same key, whatever its name.
    let fpr = m.ok(&["key", "show"]);
    let out = s1.ok(&["key", "export", "--partner", "acme"]);
    std::fs::write(g.0.path().join("p.asc"), &out).unwrap();
    let listed = gpg(g.0.path(), &["--with-colons", "--show-keys", g.0.path().join("p.asc").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(fpr.trim()));
    // The auditor compares it with `postern status` on both sides.
    assert!(s1.ok(&["status"]).contains(&format!("partner         {fpr}")));
    assert!(m.ok(&["status"]).contains(&format!("own key         {fpr}")));
    let err = s1.fail(&["key", "export", "--partner", "nope"]);
    assert!(err.contains("no sync named 'nope'"), "{err}");
}

/// An auditor takes a mail from the slave's mailbox as delivered, decrypts
/// it with GnuPG and opens the result the way a mail client does.
#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn a_delivered_mail_decrypts_to_a_summary_and_the_json_for_a_mail_client() {
    use common::mail::*;
    use mail_parser::{MessageParser, MimeHeaders};
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_by_mail(&m, &s, "pw-slave");
    settle_mail(&m, &s);
    let sync = m.status()["id"].as_str().unwrap().to_string();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Audit by mail"]);
    m.cycle();
    let mut mails = Vec::new();
    for _ in 0..100 {
        mails = raw_mails_of_sync("slave@example.test", "pw-slave", &sync);
        if !mails.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let raw = mails.pop().expect("the master's mail in the slave's INBOX");
    let outer = MessageParser::default().parse(&raw).unwrap();
    let ctype = outer.content_type().unwrap();
    assert_eq!((ctype.ctype(), ctype.subtype()), ("multipart", Some("encrypted")));
    let armored = outer
        .attachments()
        .find(|a| a.content_type().is_some_and(|t| t.subtype() == Some("octet-stream")))
        .expect("the encrypted part")
        .contents()
        .to_vec();

    let g = GpgHome(tempfile::tempdir().unwrap());
    std::fs::write(g.0.path().join("slave.sec"), s.ok(&["key", "export", "--secret"])).unwrap();
    std::fs::write(g.0.path().join("master.pub"), s.ok(&["key", "export", "--partner", "acme"])).unwrap();
    for k in ["slave.sec", "master.pub"] {
        let out = gpg(g.0.path(), &["--passphrase", "", "--import", g.0.path().join(k).to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    std::fs::write(g.0.path().join("mail.asc"), &armored).unwrap();
    let out = gpg(g.0.path(), &["--passphrase", "", "--decrypt", g.0.path().join("mail.asc").to_str().unwrap()]);
    let status = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && status.contains("GOODSIG"), "{status}");
    assert!(status.contains("postern peer (acme, master) <master@example.test>"), "{status}");

    let inner = MessageParser::default().parse(&out.stdout).expect("the decrypted data is a MIME entity");
    let summary = inner.body_text(0).expect("a summary a client shows");
    assert!(summary.contains("sync \"acme\""), "{summary}");
    assert!(summary.contains("From: the master peer <master@example.test>"), "{summary}");
    assert!(summary.contains("Content: 1 change (1 issue_created)"), "{summary}");
    assert!(!summary.contains("Audit by mail"), "issue content stays in the JSON: {summary}");
    let json = inner.attachment(0).expect("the JSON offered as an attachment");
    assert!(json.attachment_name().is_some_and(|n| n.ends_with(".json")), "{:?}", json.attachment_name());
    let env: serde_json::Value = serde_json::from_slice(json.contents()).unwrap();
    assert_eq!(env["sync"], sync.as_str());
    assert_eq!(env["body"]["changes"][0]["fields"]["summary"], "Audit by mail");
    // The slave still reads it (and the master's accept before it).
    settle_mail(&m, &s);
    assert_eq!(s.issue("SP2-1")["summary"], "Audit by mail");
}

#[test]
fn an_auditor_rebuilds_a_large_attachment_from_its_chunks_with_gnupg() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_with(&m, &s, "acme", "SAM2", "SP2", &["--max-message-size", "256KiB"], &[]);
    settle(&m, &s, "acme");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Core dump"]);
    settle(&m, &s, "acme");
    let data = postern::bench::noise(1_500_000, 77);
    let file = m.home().join("core.bin");
    std::fs::write(&file, &data).unwrap();
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap()]);
    m.cycle();
    let chunks = m.outgoing("acme");
    assert!(chunks.len() > 2, "several chunks: {}", chunks.len());

    let g = GpgHome(tempfile::tempdir().unwrap());
    let sec = g.0.path().join("slave.sec");
    std::fs::write(&sec, s.ok(&["key", "export", "--secret"])).unwrap();
    let out = gpg(g.0.path(), &["--passphrase", "", "--import", sec.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // What docs/email.md says: the first line is the chunk's JSON, the rest
    // its bytes (`gpg --decrypt F | tail -n +2`).
    let shell = |f: &std::path::Path, filter: &str| -> Vec<u8> {
        let script =
            format!("gpg --batch --quiet --pinentry-mode loopback --passphrase '' --decrypt \"$1\" | {filter}");
        let out = Command::new("sh").env("GNUPGHOME", g.0.path()).args(["-c", &script, "sh"]).arg(f).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let mut pieces = Vec::new();
    for f in &chunks {
        let head: serde_json::Value = serde_json::from_slice(&shell(f, "head -n 1")).unwrap();
        assert_eq!(head["body"]["kind"], "chunk", "{head}");
        assert_eq!(head["body"]["attachment"]["filename"], "core.bin");
        let bytes = shell(f, "tail -n +2");
        assert_eq!(bytes.len() as u64, head["body"]["len"].as_u64().unwrap());
        pieces.push((head["body"]["index"].as_u64().unwrap(), head["body"]["total"].as_u64().unwrap(), bytes));
    }
    // Nine chunks fit in one window: all of them are here.
    pieces.sort_by_key(|p| p.0);
    assert_eq!(pieces.len() as u64, pieces[0].1, "every chunk of the file");
    let mut rebuilt = Vec::new();
    for (i, (index, _, bytes)) in pieces.iter().enumerate() {
        assert_eq!(*index, i as u64, "chunks from 0, none missing");
        rebuilt.extend_from_slice(bytes);
    }
    assert_eq!(rebuilt, data, "the chunks in order of index are the file");
}
