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
    std::fs::write(keys.join("master.pub"), m.ok(&["key", "export"])).unwrap();
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
