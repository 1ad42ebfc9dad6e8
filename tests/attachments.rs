//! Attachments over folders: they cross both ways byte for byte, deletions
//! follow, and a file larger than the message size limit is split across
//! messages that each stay under the limit and is put back together whole.

mod common;
use common::*;

use std::path::Path;

use postern::bench::noise;

/// Master and slave paired with the given extra `sync create` / `sync
/// accept` arguments.
fn paired_with(create: &[&str], accept: &[&str]) -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_with(&m, &s, "acme", "SAM2", "SP2", create, accept);
    settle(&m, &s, "acme");
    (m, s)
}

fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.to_string_lossy().into_owned()
}

fn attachments(p: &TestPeer, issue: &str) -> Vec<serde_json::Value> {
    p.json(&["attachment", "list", issue, "--json"]).as_array().unwrap().clone()
}

fn content_of(p: &TestPeer, issue: &str, id: &str) -> Vec<u8> {
    let out = p.home().join(format!("got-{issue}-{id}"));
    let _ = std::fs::remove_file(&out);
    p.ok(&["attachment", "get", issue, id, "--out", out.to_str().unwrap()]);
    std::fs::read(out).unwrap()
}

#[test]
fn attachments_cross_both_ways_and_deletions_follow() {
    let (m, s) = paired_with(&[], &[]);
    let dir = tempfile::tempdir().unwrap();
    // An issue with an attachment before it first crosses: the snapshot carries it.
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Crash on start"]);
    let log = noise(5000, 7);
    let a1 = m.ok(&["attachment", "add", "SAM2-1", &write(dir.path(), "crash.log", &log), "--as", "vera"]);
    settle(&m, &s, "acme");
    let got = attachments(&s, "SP2-1");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["filename"], "crash.log");
    assert_eq!(got[0]["media_type"], "text/plain");
    assert_eq!(got[0]["on_behalf_of"], "vera");
    assert_eq!(got[0]["author"], "sync-slave");
    assert_eq!(content_of(&s, "SP2-1", got[0]["id"].as_str().unwrap()), log);

    // The slave answers with a file of its own, to an issue already linked.
    let shot = noise(70_000, 9);
    let b1 = s.ok(&["attachment", "add", "SP2-1", &write(dir.path(), "screen.png", &shot), "--as", "carl"]);
    settle(&m, &s, "acme");
    let on_master = attachments(&m, "SAM2-1");
    assert_eq!(on_master.len(), 2);
    let copy = on_master.iter().find(|a| a["filename"] == "screen.png").unwrap();
    assert_eq!(copy["sha256"], postern::tracker::attachments::sha256_hex(&shot));
    assert_eq!(content_of(&m, "SAM2-1", copy["id"].as_str().unwrap()), shot);

    // Each side deletes the other's file: both deletions cross.
    m.ok(&["attachment", "delete", "SAM2-1", copy["id"].as_str().unwrap()]);
    let slave_copy = got[0]["id"].as_str().unwrap().to_string();
    s.ok(&["attachment", "delete", "SP2-1", &slave_copy]);
    settle(&m, &s, "acme");
    assert!(attachments(&m, "SAM2-1").is_empty(), "{a1} deleted on the slave");
    assert!(attachments(&s, "SP2-1").is_empty(), "{b1} deleted on the master");
    assert_eq!(m.status()["issues_with_errors"], 0);
    assert_eq!(s.status()["issues_with_errors"], 0);

    // Added and deleted before it ever crossed: nothing arrives, nothing fails.
    m.ok(&["attachment", "add", "SAM2-1", &write(dir.path(), "oops.txt", b"wrong file")]);
    m.ok(&["attachment", "delete", "SAM2-1", "3"]);
    settle(&m, &s, "acme");
    assert!(attachments(&s, "SP2-1").is_empty());
    assert_eq!(s.status()["issues_with_errors"], 0);
}

#[test]
fn a_file_larger_than_the_message_limit_arrives_whole_in_parts() {
    let limit = 64 * 1024;
    // The master asks for small messages; the slave adopts the smaller limit.
    let (m, s) = paired_with(&["--max-message-size", "64KiB"], &[]);
    assert_eq!(m.status()["max_message_bytes"], limit);
    assert_eq!(s.status()["max_message_bytes"], limit);

    let dir = tempfile::tempdir().unwrap();
    let big = noise(300_000, 42);
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "Core dump attached"]);
    s.ok(&["attachment", "add", "SP2-1", &write(dir.path(), "core.bin", &big)]);
    s.ok(&["comment", "add", "SP2-1", "--body", "after the file"]);
    s.cycle();
    let files = s.outgoing("acme");
    assert!(files.len() >= 6, "300 kB in 64 KiB messages needs several: {}", files.len());
    for f in &files {
        let size = std::fs::metadata(f).unwrap().len();
        assert!(size <= limit, "{} is {size} bytes, over the {limit} limit", f.display());
    }

    // Deliver all but the last message: the master has pieces, no attachment yet.
    let (last, first) = files.split_last().unwrap();
    let _ = last;
    for f in first {
        std::fs::rename(f, m.exchange("acme").join("RECEIVE").join(f.file_name().unwrap())).unwrap();
    }
    m.cycle();
    let partial = m.status();
    assert!(partial["parts_pending"].as_u64().unwrap() > 0, "{partial}");
    settle(&m, &s, "acme");
    assert_eq!(m.status()["parts_pending"], 0);
    let got = attachments(&m, "SAM2-1");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["size"], big.len());
    assert_eq!(content_of(&m, "SAM2-1", got[0]["id"].as_str().unwrap()), big);
    let issue = m.issue("SAM2-1");
    assert_eq!(issue["comments"][0]["body"], "after the file", "changes after the parts still apply in order");
}

#[test]
fn bad_attachment_input_gets_a_clear_error() {
    let p = TestPeer::new(MASTER_KEY, "SAM2");
    p.ok(&["issue", "create", "--project", "SAM2", "--summary", "x"]);
    let err = p.fail(&["attachment", "add", "SAM2-1", "/nonexistent/file.txt"]);
    assert!(err.contains("cannot read /nonexistent/file.txt"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.txt", b"x");
    let err = p.fail(&["attachment", "add", "SAM2-1", &f, "--name", "../etc/passwd"]);
    assert!(err.contains("not a plain file name"), "{err}");
    let err = p.fail(&["attachment", "add", "SAM2-9", &f]);
    assert!(err.contains("issue SAM2-9 does not exist"), "{err}");
    let err = p.fail(&["attachment", "get", "SAM2-1", "5", "--out", "-"]);
    assert!(err.contains("attachment 5 does not exist on issue SAM2-1"), "{err}");
    let create = ["sync", "create", "--name", "x", "--project", "SAM2", "--sync-user", "u", "--max-message-size"];
    for (size, why) in [("1KB", "out of range"), ("10 parsecs", "not known"), ("40MiB", "out of range")] {
        let err = p.fail(&[&create[..], &[size]].concat());
        assert!(err.contains(why), "{size}: {err}");
    }
}

#[test]
fn the_slaves_smaller_limit_holds_for_changes_made_before_its_accept() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    let created = m.json(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"]);
    // Made while the master waits for the accept (its own limit is 10 MB).
    let dir = tempfile::tempdir().unwrap();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "early"]);
    m.ok(&["attachment", "add", "SAM2-1", &write(dir.path(), "early.bin", &noise(200_000, 3))]);
    m.cycle();
    let file = m.home().join(created["handshake_file"].as_str().unwrap());
    let pass = created["passphrase"].as_str().unwrap();
    let accept = ["sync", "accept", "--file", file.to_str().unwrap(), "--passphrase", pass, "--project", "SP2"];
    s.ok(&[&accept[..], &["--sync-user", "bot", "--yes", "--max-message-size", "64KiB"]].concat());
    let limit = 64 * 1024;
    for _ in 0..30 {
        m.cycle();
        for f in m.outgoing("acme") {
            let size = std::fs::metadata(&f).unwrap().len();
            assert!(size <= limit, "{} is {size} bytes, over the slave's {limit}", f.display());
        }
        carry(&m, &s, "acme");
        s.cycle();
        carry(&s, &m, "acme");
    }
    assert_eq!(m.status()["max_message_bytes"], limit);
    let got = attachments(&s, "SP2-1");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["size"], 200_000);
}
