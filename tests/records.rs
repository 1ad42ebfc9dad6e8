//! Synchronized-issue records in Backbone's format: export, merge (seed
//! 002's step 2, checked against the seed's own files) and pairing existing
//! issues without creating or changing any.

mod common;
use common::*;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/backbone/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn merging_the_seeds_downloads_gives_the_seeds_merged_file() {
    let p = TestPeer::new(SLAVE_KEY, "SP2");
    let merged: serde_json::Value =
        serde_json::from_str(&p.ok(&["sync", "merge", &fixture("slave.json"), &fixture("master.json")])).unwrap();
    assert_eq!(merged, read_json(&fixture("merged-master-migrates.json")));
    // Written to a file, owner-only; an existing file is not overwritten.
    let out = p.home().join("merged.json");
    p.ok(&["sync", "merge", &fixture("slave.json"), &fixture("master.json"), "--out", out.to_str().unwrap()]);
    assert_eq!(read_json(out.to_str().unwrap()), merged);
    let again =
        p.fail(&["sync", "merge", &fixture("slave.json"), &fixture("master.json"), "--out", out.to_str().unwrap()]);
    assert!(again.contains("must not exist yet"), "{again}");
    let err = p.fail(&["sync", "merge", &fixture("merged-master-migrates.json"), &fixture("master.json")]);
    assert!(err.contains("already merged"), "{err}");
}

#[test]
fn the_seeds_broken_merged_file_is_refused_with_line_and_column_and_nothing_is_paired() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "exists"]);
    pair(&m, &s, "acme", "SAM2", "SP2");
    let broken = fixture("merged-slave-migrates-broken.json");
    let err = s.fail(&["sync", "pair", "acme", "--file", &broken]);
    assert!(err.contains("merged-slave-migrates-broken.json: line 22, column"), "{err}");
    assert!(err.contains("expected `,` or `}`") && err.contains("nothing was paired"), "{err}");
    assert_eq!(s.json(&["sync", "export", "acme"])["firstConnector"], serde_json::json!([]));
    let err = s.fail(&["sync", "merge", &broken, &fixture("master.json")]);
    assert!(err.contains("line 22, column"), "{err}");
}

/// The seed's issues exist on both sides before the sync: pairing them
/// from the seed's files makes later edits reach the same issues.
#[test]
fn the_seeds_files_pair_existing_issues_on_both_sides_without_copies() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "made on the master long ago"]);
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "its copy on the slave"]);
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");

    let out = s.ok(&["sync", "pair", "acme", "--file", &fixture("merged-master-migrates.json")]);
    assert!(out.starts_with("Sync 'acme': paired 1 issue, skipped 0; no issue was created or changed"), "{out}");
    assert!(out.contains("paired   SP2-1 <-> SAM2-1 (0 comments, 0 attachments)"), "{out}");
    assert!(out.contains("left out: comment 10034 is not on SP2-1"), "{out}");
    assert!(out.contains("left out: attachment 10004 is not on SP2-1"), "{out}");
    let report = m.json(&["sync", "pair", "acme", "--file", &fixture("master.json"), "--json"]);
    assert_eq!(report["paired"][0]["local"], "SAM2-1");
    assert_eq!(report["paired"][0]["remote"], "SP2-1");
    // Pairing again changes nothing and says why.
    let again = m.json(&["sync", "pair", "acme", "--file", &fixture("master.json"), "--json"]);
    assert_eq!(again["skipped"][0]["reason"], "already paired with SP2-1");

    // The record's history is kept, in the seed's field order.
    let text = s.ok(&["sync", "export", "acme"]);
    let keys = ["\"id\"", "\"connectorKey\"", "\"localIssueKey\"", "\"remoteIssueKey\"", "\"firstSyncDate\""];
    let at: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    let export: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["firstConnector"][0]["firstSyncDate"], 1604663073350i64);
    assert_eq!(export["firstConnector"][0]["lastIncomingChange"], 1604663103990i64);
    assert!(export["firstConnector"][0]["incomingMessageSequenceId"].is_null(), "numbers start afresh");

    m.ok(&["issue", "edit", "SAM2-1", "--summary", "edited after pairing"]);
    s.ok(&["comment", "add", "SP2-1", "--body", "from the slave"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issues("SP2").len(), 1, "no copy");
    assert_eq!(m.issues("SAM2").len(), 1, "no copy");
    assert_eq!(s.issue("SP2-1")["summary"], "edited after pairing");
    assert_eq!(m.issue("SAM2-1")["comments"][0]["body"], "from the slave");
    // Edits made before the pairing are no conflict with later ones.
    assert_eq!(s.ok(&["conflicts", "list", "acme"]), "no open conflicts in sync 'acme'");
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "edited again"]);
    settle(&m, &s, "acme");
    assert_eq!(s.ok(&["conflicts", "list", "acme"]), "no open conflicts in sync 'acme'");
}

#[test]
fn records_that_cannot_be_paired_are_skipped_with_their_reason() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    s.ok(&["project", "create", "OTHER"]);
    for _ in 0..3 {
        s.ok(&["issue", "create", "--project", "SP2", "--summary", "one"]);
    }
    s.ok(&["issue", "create", "--project", "OTHER", "--summary", "elsewhere"]);
    pair(&m, &s, "acme", "SAM2", "SP2");
    let rec = |local: &str, remote: &str| serde_json::json!({"localIssueKey": local, "remoteIssueKey": remote});
    let file = s.home().join("records.json");
    let first = vec![
        rec("SP2-1", "SAM2-1"),
        rec("SP2-9", "SAM2-9"),
        rec("OTHER-1", "SAM2-3"),
        rec("SP2-2", "SAM2-1"),
        serde_json::json!({"localIssueKey": "SP2-3"}),
    ];
    std::fs::write(&file, serde_json::json!({ "firstConnector": first }).to_string()).unwrap();
    let r = s.json(&["sync", "pair", "acme", "--file", file.to_str().unwrap(), "--json"]);
    assert_eq!(r["paired"].as_array().unwrap().len(), 1, "{r}");
    let reasons: Vec<String> =
        r["skipped"].as_array().unwrap().iter().map(|k| format!("{}: {}", k["local"], k["reason"])).collect();
    assert_eq!(
        reasons,
        [
            "\"SP2-9\": \"unknown local issue: SP2-9 is not in the tracker\"",
            "\"OTHER-1\": \"project mismatch: OTHER-1 is in project OTHER, the sync's project is SP2\"",
            "\"SP2-2\": \"the partner's SAM2-1 is listed twice in the file\"",
            "\"SP2-3\": \"the record names no partner issue\"",
        ]
    );
    // A later file that pairs differently is refused per record.
    std::fs::write(
        &file,
        serde_json::json!({ "firstConnector": [rec("SP2-1", "SAM2-5"), rec("SP2-2", "SAM2-1")] }).to_string(),
    )
    .unwrap();
    let r = s.json(&["sync", "pair", "acme", "--file", file.to_str().unwrap(), "--json"]);
    assert_eq!(r["skipped"][0]["reason"], "already paired differently: SP2-1 is paired with the partner's SAM2-1");
    assert_eq!(r["skipped"][1]["reason"], "already paired differently: the partner's SAM2-1 is paired with SP2-1");
    assert!(r["paired"].as_array().unwrap().is_empty());
}

/// Seed 002's migration with postern on both sides: both downloads, a new
/// sync, both sides pair from the merged files; every issue, comment and
/// attachment stays paired, nothing is copied.
#[test]
fn a_sync_rebuilt_from_both_downloads_keeps_every_pairing() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "old", "SAM2", "SP2");
    settle(&m, &s, "old");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "from the master"]);
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "from the slave"]);
    settle(&m, &s, "old");
    m.ok(&["comment", "add", "SAM2-1", "--body", "master's comment"]);
    let att = m.home().join("notes.txt");
    std::fs::write(&att, "attached").unwrap();
    m.ok(&["attachment", "add", "SAM2-1", att.to_str().unwrap()]);
    settle(&m, &s, "old");
    let (mf, sf) = (m.home().join("master.json"), s.home().join("slave.json"));
    m.ok(&["sync", "export", "old", "--out", mf.to_str().unwrap()]);
    s.ok(&["sync", "export", "old", "--out", sf.to_str().unwrap()]);
    let old_export = read_json(sf.to_str().unwrap());
    let with_items = |e: &serde_json::Value| {
        e["firstConnector"].as_array().unwrap().iter().find(|r| r["attachments"].is_array()).cloned().unwrap()
    };
    assert_eq!(with_items(&old_export)["attachments"].as_array().unwrap().len(), 1, "{old_export}");
    assert_eq!(with_items(&old_export)["comments"].as_array().unwrap().len(), 1, "{old_export}");
    m.ok(&["sync", "delete", "old"]);
    s.ok(&["sync", "delete", "old"]);

    pair(&m, &s, "new", "SAM2", "SP2");
    settle(&m, &s, "new");
    let (mm, sm) = (m.home().join("merged.json"), s.home().join("merged.json"));
    m.ok(&["sync", "merge", mf.to_str().unwrap(), sf.to_str().unwrap(), "--out", mm.to_str().unwrap()]);
    s.ok(&["sync", "merge", sf.to_str().unwrap(), mf.to_str().unwrap(), "--out", sm.to_str().unwrap()]);
    let rm = m.json(&["sync", "pair", "new", "--file", mm.to_str().unwrap(), "--json"]);
    let rs = s.json(&["sync", "pair", "new", "--file", sm.to_str().unwrap(), "--json"]);
    assert_eq!((rm["paired"].as_array().unwrap().len(), rs["paired"].as_array().unwrap().len()), (2, 2));
    let local = with_items(&old_export)["localIssueKey"].clone();
    let p = rs["paired"].as_array().unwrap().iter().find(|p| p["local"] == local).unwrap().clone();
    assert_eq!((p["comments"].as_i64(), p["attachments"].as_i64()), (Some(1), Some(1)), "{rs}");
    let new_export = s.json(&["sync", "export", "new"]);
    for (a, b) in
        old_export["firstConnector"].as_array().unwrap().iter().zip(new_export["firstConnector"].as_array().unwrap())
    {
        for k in ["localIssueKey", "remoteIssueKey", "firstSyncDate", "comments", "attachments"] {
            assert_eq!(a[k], b[k], "{k}");
        }
    }

    let comment = m.issue("SAM2-1")["comments"][0]["id"].as_str().unwrap().to_string();
    m.ok(&["comment", "edit", "SAM2-1", &comment, "--body", "edited after the rebuild"]);
    s.ok(&["issue", "edit", "SP2-1", "--summary", "slave's, edited"]);
    settle(&m, &s, "new");
    assert_eq!((m.issues("SAM2").len(), s.issues("SP2").len()), (2, 2), "no copies");
    let copy = s.issues("SP2").into_iter().find(|i| i["summary"] == "from the master").unwrap();
    let copy = s.issue(copy["key"].as_str().unwrap());
    assert_eq!(copy["comments"].as_array().unwrap().len(), 1);
    assert_eq!(copy["comments"][0]["body"], "edited after the rebuild");
    assert_eq!(copy["attachments"].as_array().unwrap().len(), 1);
    assert!(m.issues("SAM2").iter().any(|i| i["summary"] == "slave's, edited"));
}

#[test]
fn wrong_files_and_wrong_pairs_are_caught_and_a_pair_can_be_undone() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "master's"]);
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "slave's"]);
    pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    let file = s.home().join("x.json");
    std::fs::write(&file, "[1, 2]").unwrap();
    let err = s.fail(&["sync", "pair", "acme", "--file", file.to_str().unwrap()]);
    assert!(err.contains("is not a download of synchronized issues"), "{err}");
    // The partner's download given as this side's: a hint.
    let r = m.json(&["sync", "pair", "acme", "--file", &fixture("slave.json"), "--json"]);
    let reason = r["skipped"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("is this the partner's download?"), "{reason}");
    // With the partner's download second, a partner key it lacks is refused.
    let merged = serde_json::json!({
        "firstConnector": [{"localIssueKey": "SP2-1", "remoteIssueKey": "SAM2-99"}],
        "secondConnector": [{"localIssueKey": "SAM2-1", "remoteIssueKey": "SP2-1"}],
    });
    std::fs::write(&file, merged.to_string()).unwrap();
    let r = s.json(&["sync", "pair", "acme", "--file", file.to_str().unwrap(), "--json"]);
    assert_eq!(r["skipped"][0]["reason"], "the partner's download (secondConnector) has no issue SAM2-99");
    assert_eq!(r["partner_keys_checked"], true);
    // Without it the pair is taken on trust, said so, and can be undone.
    std::fs::write(&file, r#"{"firstConnector": [{"localIssueKey": "SP2-1", "remoteIssueKey": "SAM2-99"}]}"#).unwrap();
    let out = s.ok(&["sync", "pair", "acme", "--file", file.to_str().unwrap()]);
    assert!(out.contains("paired   SP2-1 <-> SAM2-99") && out.contains("taken on trust"), "{out}");
    let out = s.ok(&["sync", "unpair", "acme", "SAM2-99"]);
    assert!(out.contains("Unpair SAM2-99 on the partner's side too"), "{out}");
    assert!(out.contains("SP2-1 is no longer paired with the partner's SAM2-99"), "{out}");
    assert_eq!(s.json(&["sync", "export", "acme"])["firstConnector"], serde_json::json!([]));
    assert!(s.fail(&["sync", "unpair", "acme", "SP2-1"]).contains("is not paired"));
    // The right pair, then.
    std::fs::write(&file, r#"{"firstConnector": [{"localIssueKey": "SP2-1", "remoteIssueKey": "SAM2-1"}]}"#).unwrap();
    s.ok(&["sync", "pair", "acme", "--file", file.to_str().unwrap()]);
    m.ok(&["sync", "pair", "acme", "--file", &fixture("master.json")]);
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "crossed to the pair"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "crossed to the pair");
    assert_eq!(s.issues("SP2").len(), 1);
    // Unpaired on one side only: the partner pairs it again, nothing is
    // left half paired.
    m.ok(&["sync", "unpair", "acme", "SAM2-1"]);
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "after a one-sided unpair"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["summary"], "after a one-sided unpair");
    assert_eq!(m.json(&["sync", "export", "acme"])["firstConnector"][0]["remoteIssueKey"], "SP2-1");
    s.ok(&["issue", "edit", "SP2-1", "--summary", "and back"]);
    settle(&m, &s, "acme");
    assert_eq!(m.issue("SAM2-1")["summary"], "and back");
    assert_eq!((m.issues("SAM2").len(), s.issues("SP2").len()), (1, 1));
}
