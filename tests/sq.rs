//! Interop with `sq` (Sequoia's command line, Debian package `sq`): it
//! decrypts and verifies a message and the handshake file postern wrote.
//! Ignored in plain `cargo test` (sq is not on every machine);
//! `scripts/integration.sh` installs sq and runs it.

mod common;
use common::*;
use std::process::Command;

#[test]
#[ignore = "needs sq (Debian package sq); run by scripts/integration.sh"]
fn sq_decrypts_and_verifies_a_message_and_the_handshake_file() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let (created, hs, msg) = one_message(&m, &s, "Audit me with sq");
    let pass = created["passphrase"].as_str().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (sec, cert) = (dir.path().join("slave.sec"), dir.path().join("master.pub"));
    std::fs::write(&sec, s.ok(&["key", "export", "--secret"])).unwrap();
    std::fs::write(&cert, m.ok(&["key", "export"])).unwrap();
    let sq = |args: &[&str]| {
        let out = Command::new("sq").args(args).output().expect("sq is installed");
        assert!(out.status.success(), "sq {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    };
    let out = sq(&[
        "decrypt",
        "--recipient-key",
        sec.to_str().unwrap(),
        "--signer-cert",
        cert.to_str().unwrap(),
        msg.to_str().unwrap(),
    ]);
    let env: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(env["body"]["changes"][0]["fields"]["summary"], "Audit me with sq");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Good signature"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The handshake file: password-encrypted, signed by the master. sq
    // reads passwords from a terminal only, so give it one with script(1).
    let cmd = format!("sq decrypt --signer-cert {} {}", cert.display(), hs.display());
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(format!("{pass}\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 good signature"), "{text}");
    let json = &text[text.find("{\"postern_handshake\"").expect("decrypted contents")..=text.rfind('}').unwrap()];
    let file: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(file["master_fingerprint"], m.ok(&["key", "show"]).as_str());
}
