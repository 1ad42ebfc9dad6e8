//! Large attachments in chunks: they cross whole in messages under the
//! size limit, edits made meanwhile are not held up behind them, limits and
//! damage give clear errors, and nothing is left behind on disk.

mod common;
use common::*;

use std::path::Path;

use postern::bench::noise;

fn paired_with(create: &[&str]) -> (TestPeer, TestPeer) {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair_with(&m, &s, "acme", "SAM2", "SP2", create, &[]);
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
    let data = std::fs::read(&out).unwrap();
    std::fs::remove_file(out).unwrap();
    data
}

/// Files in the home's spool folders.
fn spooled(p: &TestPeer) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(syncs) = std::fs::read_dir(p.home().join("spool")) {
        for d in syncs.flatten() {
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                out.push(f.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[test]
fn a_large_attachment_crosses_in_chunks_while_edits_go_ahead() {
    let limit = 256 * 1024;
    let (m, s) = paired_with(&["--max-message-size", "256KiB"]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Core dump"]);
    settle(&m, &s, "acme");

    let dir = tempfile::tempdir().unwrap();
    let big = noise(3_000_000, 99);
    m.ok(&["attachment", "add", "SAM2-1", &write(dir.path(), "core.bin", &big)]);
    m.cycle();
    let first = m.outgoing("acme");
    assert!(!first.is_empty() && first.len() <= 16, "a window of chunks: {}", first.len());
    for f in &first {
        let size = std::fs::metadata(f).unwrap().len();
        assert!(size <= limit, "{} is {size} bytes, over the {limit} limit", f.display());
    }
    let st = m.status_of("acme");
    assert_eq!(st["transfers"][0]["direction"], "out", "{st}");
    assert_eq!(st["transfers"][0]["state"], "sending", "{st}");
    let queued = st["transfers"][0]["done"].as_u64().unwrap();
    assert!(queued > 0 && queued < big.len() as u64, "not the whole file at once: {st}");
    assert!(spooled(&m).iter().any(|f| f.starts_with("out-")), "the sender spools the file: {:?}", spooled(&m));
    // A resync meanwhile does not send the file a second time.
    m.ok(&["sync", "resync", "acme", "--keys", "SAM2-1", "--fields", "attachments", "--yes"]);
    assert_eq!(m.status_of("acme")["transfers"].as_array().unwrap().len(), 1);

    // Chunks that arrive ahead of a gap are held with their bytes, and
    // applied in order once the gap is filled.
    let (head, rest) = first.split_first().unwrap();
    for f in rest {
        std::fs::rename(f, s.exchange("acme").join("RECEIVE").join(f.file_name().unwrap())).unwrap();
    }
    s.cycle();
    assert_eq!(s.status_of("acme")["held_for_gap"], rest.len(), "held behind the first chunk");
    std::fs::rename(head, s.exchange("acme").join("RECEIVE").join(head.file_name().unwrap())).unwrap();

    // An edit made while the file is on its way.
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "Core dump (urgent)"]);
    s.cycle();
    assert_eq!(s.status_of("acme")["held_for_gap"], 0);
    let st = s.status_of("acme");
    assert_eq!(st["transfers"][0]["direction"], "in", "{st}");
    assert_eq!(st["transfers"][0]["state"], "receiving", "{st}");
    assert!(st["transfers"][0]["done"].as_u64().unwrap() > 0, "{st}");
    assert!(attachments(&s, "SP2-1").is_empty(), "nothing is attached before the last chunk");
    carry(&s, &m, "acme");
    m.cycle();
    carry(&m, &s, "acme");
    s.cycle();
    assert_eq!(s.issue("SP2-1")["summary"], "Core dump (urgent)", "the edit is not held up behind the whole file");
    assert!(attachments(&s, "SP2-1").is_empty(), "the file is still on its way");

    settle(&m, &s, "acme");
    let got = attachments(&s, "SP2-1");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["filename"], "core.bin");
    assert_eq!(got[0]["size"], big.len());
    assert_eq!(content_of(&s, "SP2-1", got[0]["id"].as_str().unwrap()), big);
    assert_eq!(content(&m.issue("SAM2-1"))["attachments"], content(&s.issue("SP2-1"))["attachments"]);
    for p in [&m, &s] {
        assert_eq!(p.status_of("acme")["transfers"], serde_json::json!([]));
        assert!(spooled(p).is_empty(), "spool files are removed once applied and acknowledged: {:?}", spooled(p));
        assert_eq!(p.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]));
    }

    // And back the other way, from the slave, with no duplicate on return.
    let reply = noise(1_500_000, 5);
    s.ok(&["attachment", "add", "SP2-1", &write(dir.path(), "trace.bin", &reply)]);
    settle(&m, &s, "acme");
    let on_master = attachments(&m, "SAM2-1");
    assert_eq!(on_master.len(), 2, "{on_master:?}");
    let trace = on_master.iter().find(|a| a["filename"] == "trace.bin").unwrap();
    assert_eq!(content_of(&m, "SAM2-1", trace["id"].as_str().unwrap()), reply);
    assert_eq!(attachments(&s, "SP2-1").len(), 2);
}

/// The attachments a peer lists as not crossed (`status --json`).
fn not_crossed(p: &TestPeer) -> Vec<serde_json::Value> {
    p.status_of("acme")["attachments_not_crossed"].as_array().unwrap().clone()
}

#[test]
fn over_the_limit_is_listed_naming_the_setting_and_blocks_nothing() {
    let (m, s) = paired_with(&[]);
    let dir = tempfile::tempdir().unwrap();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Too big"]);
    settle(&m, &s, "acme");

    // The receiver takes at most 1 MiB.
    let out = s.ok(&["sync", "edit", "acme", "--max-attachment-mb", "1"]);
    assert!(out.contains("attachments up to 1 MiB"), "{out}");
    assert!(s.fail(&["sync", "edit", "acme", "--max-attachment-mb", "0"]).contains("1 to 1048576"));
    assert_eq!(s.status_of("acme")["max_attachment_bytes"], 1 << 20);
    let big = noise(2_500_000, 3);
    m.ok(&["attachment", "add", "SAM2-1", &write(dir.path(), "dump.bin", &big)]);
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "Edited after the big file"]);
    settle(&m, &s, "acme");
    let listed = not_crossed(&s);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let reason = listed[0]["reason"].as_str().unwrap();
    assert!(reason.contains("dump.bin") && reason.contains("over the largest attachment sync acme takes"), "{reason}");
    assert!(reason.contains("--max-attachment-mb"), "the setting is named: {reason}");
    assert!(s.ok(&["errors", "list", "acme"]).contains("[SAM2-1] not received: attachment dump.bin"));
    assert!(s.ok(&["status"]).contains("not received: attachment dump.bin"));
    assert_eq!(s.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]), "nothing blocked");
    assert_eq!(s.issue("SP2-1")["summary"], "Edited after the big file", "later changes go on");
    assert!(attachments(&s, "SP2-1").is_empty());
    assert!(spooled(&s).is_empty(), "a refused transfer keeps nothing: {:?}", spooled(&s));

    // The admin raises the limit and the file is sent again.
    s.ok(&["sync", "edit", "acme", "--max-attachment-mb", "10"]);
    m.ok(&["sync", "resync", "acme", "--keys", "SAM2-1", "--fields", "attachments", "--yes"]);
    settle(&m, &s, "acme");
    let got = attachments(&s, "SP2-1");
    assert_eq!(got.len(), 1, "{:?}", s.json(&["errors", "list", "acme", "--json"]));
    assert_eq!(content_of(&s, "SP2-1", got[0]["id"].as_str().unwrap()), big);
    assert!(not_crossed(&s).is_empty(), "crossed after all: {:?}", not_crossed(&s));

    // The sender's own limit: the file is not sent; both sides say why.
    m.ok(&["sync", "edit", "acme", "--max-attachment-mb", "1"]);
    let second = noise(1_200_000, 8);
    m.ok(&["attachment", "add", "SAM2-1", &write(dir.path(), "second.bin", &second)]);
    settle(&m, &s, "acme");
    let here = not_crossed(&m);
    assert_eq!((here.len(), here[0]["direction"].as_str()), (1, Some("out")), "{here:?}");
    let why = here[0]["reason"].as_str().unwrap();
    assert!(why.starts_with("not sent: attachment second.bin") && why.contains("sync acme sends"), "{why}");
    assert!(why.contains("`postern sync resync acme --keys SAM2-1 --fields attachments`"), "{why}");
    let there = not_crossed(&s);
    let why = there[0]["reason"].as_str().unwrap();
    assert!(why.contains("second.bin") && why.contains("over the largest attachment the partner sends"), "{why}");
    assert_eq!(s.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]), "nothing blocked");
    assert_eq!(attachments(&s, "SP2-1").len(), 1);
    assert!(spooled(&m).is_empty(), "{:?}", spooled(&m));

    // As the sender is told: raise the limit, resync; both lists empty.
    m.ok(&["sync", "edit", "acme", "--max-attachment-mb", "10"]);
    m.ok(&["sync", "resync", "acme", "--keys", "SAM2-1", "--fields", "attachments", "--yes"]);
    settle(&m, &s, "acme");
    assert_eq!(attachments(&s, "SP2-1").len(), 2);
    assert!(not_crossed(&m).is_empty() && not_crossed(&s).is_empty());
}

/// A delete made while the chunks go overtakes the ones not sent yet: the
/// sender stops, the receiver drops what it got, and both sides agree the
/// file is gone.
#[test]
fn an_attachment_deleted_while_it_is_sent_is_dropped_on_both_sides() {
    let (m, s) = paired_with(&["--max-attachment-mb", "100"]);
    assert_eq!(m.status_of("acme")["max_attachment_bytes"], 100 << 20, "set at sync create");
    let dir = tempfile::tempdir().unwrap();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Deleted midway"]);
    settle(&m, &s, "acme");
    // 20 chunks: one cycle queues a window of 16, the rest wait for acks.
    let id = m.ok(&["attachment", "add", "SAM2-1", &write(dir.path(), "midway.bin", &noise(40 << 20, 5))]);
    m.cycle();
    assert_eq!(carry(&m, &s, "acme"), 16, "a window of chunks");
    s.cycle();
    let arriving = s.status_of("acme")["transfers"].clone();
    assert_eq!(arriving[0]["state"], "receiving", "{arriving}");
    assert!(arriving[0]["done"].as_u64().unwrap() < 40 << 20, "{arriving}");
    m.ok(&["attachment", "delete", "SAM2-1", id.trim()]);
    m.cycle();
    assert_eq!(m.status_of("acme")["transfers"], serde_json::json!([]), "the sender stops at once");
    settle(&m, &s, "acme");
    assert!(attachments(&s, "SP2-1").is_empty(), "{:?}", attachments(&s, "SP2-1"));
    assert!(attachments(&m, "SAM2-1").is_empty());
    for p in [&m, &s] {
        assert_eq!(p.status_of("acme")["transfers"], serde_json::json!([]));
        assert!(spooled(p).is_empty(), "{:?}", spooled(p));
        assert_eq!(p.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]));
    }
}

#[test]
fn an_attachment_deleted_before_it_was_sent_is_forgotten() {
    let (m, s) = paired_with(&[]);
    let dir = tempfile::tempdir().unwrap();
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Gone"]);
    settle(&m, &s, "acme");
    // Added and deleted between two cycles: the transfer finds nothing.
    let id = m.ok(&["attachment", "add", "SAM2-1", &write(dir.path(), "gone.bin", &noise(2_000_000, 4))]);
    m.ok(&["attachment", "delete", "SAM2-1", id.trim()]);
    m.cycle();
    assert_eq!(m.status_of("acme")["transfers"], serde_json::json!([]), "the sender stops at once");
    settle(&m, &s, "acme");
    assert!(attachments(&s, "SP2-1").is_empty());
    assert_eq!(m.status_of("acme")["transfers"], serde_json::json!([]));
    assert!(spooled(&m).is_empty(), "{:?}", spooled(&m));
    assert_eq!(s.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]));
}

/// Peak resident memory of a running process, from `/proc`.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in /proc status");
    kb / 1024.0
}

fn received(s: &TestPeer) -> u64 {
    s.status_of("acme")["transfers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["direction"] == "in")
        .map_or(0, |t| t["done"].as_u64().unwrap())
}

fn wait_for(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !f() {
        assert!(start.elapsed().as_secs() < secs, "{what} did not happen within {secs} s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_300_mb_attachment_survives_sigkill_of_each_peer_in_bounded_memory() {
    const SIZE: usize = 300 * 1024 * 1024;
    const BOUND_MB: f64 = 100.0;
    let (m, s) = paired_with(&[]);
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Database extract"]);
    settle(&m, &s, "acme");
    wire(&m, &s, "acme");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("extract.bin");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        for i in 0..(SIZE / (10 << 20)) {
            f.write_all(&noise(10 << 20, 11 + i as u64)).unwrap();
        }
    }
    let (sha256, size) = postern::tracker::attachments::sha256_of_file(&file).unwrap();
    assert_eq!(size as usize, SIZE);
    m.ok(&["attachment", "add", "SAM2-1", file.to_str().unwrap()]);
    std::fs::remove_file(&file).unwrap();

    let mut peaks = Vec::new();
    let (md, sd) = (m.daemon(&[]), s.daemon(&[]));
    // The slave dies with part of the file on disk ...
    wait_for("the first chunks", 300, || received(&s) > 0);
    let before = received(&s);
    assert!(before < SIZE as u64, "mid-transfer");
    peaks.push(("slave", peak_rss_mb(sd.id())));
    sd.kill();
    let sd = s.daemon(&[]);
    // ... and goes on from there, not from zero; then the master dies.
    wait_for("more chunks after the restart", 300, || received(&s) > before);
    let mid = received(&s);
    assert!(mid < SIZE as u64, "mid-transfer");
    peaks.push(("master", peak_rss_mb(md.id())));
    md.kill();
    let md = m.daemon(&[]);

    wait_for("the attachment on the slave", 600, || {
        let a = attachments(&s, "SP2-1");
        a.len() == 1 && a[0]["sha256"] == sha256.as_str()
    });
    let a = attachments(&s, "SP2-1");
    assert_eq!(a[0]["size"], SIZE);
    // Spool files go once applied (slave) and acknowledged (master).
    wait_for("the spool files removed", 120, || spooled(&m).is_empty() && spooled(&s).is_empty());
    peaks.push(("slave", peak_rss_mb(sd.id())));
    peaks.push(("master", peak_rss_mb(md.id())));
    m.stop(md);
    s.stop(sd);
    for (who, mb) in &peaks {
        assert!(*mb < BOUND_MB, "the {who}'s peak RSS was {mb:.0} MB, over {BOUND_MB} MB: {peaks:?}");
    }
    let out = s.home().join("extract.bin");
    s.ok(&["attachment", "get", "SP2-1", a[0]["id"].as_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(postern::tracker::attachments::sha256_of_file(&out).unwrap().0, sha256, "arrived whole");
    assert_eq!(s.json(&["errors", "list", "acme", "--json"]), serde_json::json!([]));
    assert_eq!(m.status_of("acme")["transfers"], serde_json::json!([]));
    eprintln!("peak RSS (MB): {peaks:?}");
}
