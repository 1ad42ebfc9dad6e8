//! Moving a sync from folders to email keeps every pairing: the user guide's
//! migration steps, end to end against real Postfix and Dovecot. Ignored in
//! plain `cargo test`; run by `scripts/integration.sh`.

mod common;
use common::mail::*;
use common::*;

#[test]
#[ignore = "needs Postfix and Dovecot: run by scripts/integration.sh"]
fn a_folder_sync_moved_to_email_keeps_every_pairing() {
    let _one = serial();
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "files", "SAM2", "SP2");
    settle(&m, &s, "files");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "made on the master"]);
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "made on the slave"]);
    settle(&m, &s, "files");
    m.ok(&["comment", "add", "SAM2-1", "--body", "before the move"]);
    settle(&m, &s, "files");
    let before = s.json(&["sync", "export", "files"]);

    let flags = mail_flags(&m, "master", "pw-master");
    let base = ["sync", "create", "--name", "mail", "--project", "SAM2", "--sync-user", "bot"];
    let created =
        m.json(&args(&[&base[..], &["--protocol", "email", "--replaces", "files", "--json"]].concat(), &flags));
    let hs = m.home().join(created["handshake_file"].as_str().unwrap());
    let pass = created["passphrase"].as_str().unwrap();
    let accept = ["sync", "accept", "--file", hs.to_str().unwrap(), "--passphrase", pass, "--project", "SP2"];
    let accept = [&accept[..], &["--sync-user", "bot", "--yes", "--replaces", "files"]].concat();
    s.ok(&args(&accept, &mail_flags(&s, "slave", "pw-slave")));
    settle_mail(&m, &s);
    assert_eq!(
        (m.status_of("mail")["state"].as_str(), s.status_of("mail")["state"].as_str()),
        (Some("active"), Some("active"))
    );
    assert_eq!(s.json(&["sync", "export", "mail"])["firstConnector"].as_array().unwrap().len(), 2);
    let pairs = |e: serde_json::Value| {
        let mut v: Vec<String> = e["firstConnector"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{} {} {}", r["localIssueKey"], r["remoteIssueKey"], r["comments"]))
            .collect();
        v.sort();
        v
    };
    assert_eq!(pairs(before), pairs(s.json(&["sync", "export", "mail"])));

    // Edits of issues paired over folders now cross by mail, to the same issues.
    let comment = m.issue("SAM2-1")["comments"][0]["id"].as_str().unwrap().to_string();
    m.ok(&["comment", "edit", "SAM2-1", &comment, "--body", "edited after the move"]);
    s.ok(&["issue", "edit", "SP2-1", "--status", "Done"]);
    settle_mail(&m, &s);
    assert!(m.outgoing("files").is_empty() && s.outgoing("files").is_empty(), "the folder sync sends nothing");
    assert_eq!((m.issues("SAM2").len(), s.issues("SP2").len()), (2, 2), "no copies");
    let copy = s.issue("SP2-2");
    assert_eq!(copy["comments"][0]["body"], "edited after the move");
    assert_eq!(copy["comments"].as_array().unwrap().len(), 1);
    let slaves = m.issues("SAM2").into_iter().find(|i| i["summary"] == "made on the slave").unwrap();
    assert_eq!(slaves["status"], "Done");
    assert!(m.status_of("mail")["outgoing_seq"].as_u64() > Some(0));
}
