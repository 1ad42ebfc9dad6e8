//! Mappings and the fields beyond the first six, between two embedded
//! peers: a workflow with a status the other side lacks, priorities and
//! types renamed, a custom field by name, users by table, address and a
//! fallback, worklogs both ways; an unmapped value listed with what would
//! map it, crossing once the admin adds it; mistakes refused with line
//! and column. (Embedded ↔ Redmine: tests/redmine_mapping.rs.)

mod common;

use common::{pair_with, settle, TestPeer, MASTER_KEY, SLAVE_KEY};

/// The slave's mapping: the master's names → the slave's.
const SLAVE_MAPPING: &str = r#"
[status]
Open = "New"
"In Review" = "In Progress"
"In Progress" = "In Progress"
Done = "Closed"
[send.status]
"In Progress" = "In Progress"
[priority]
Medium = "Normal"
[type]
Defect = "Bug"
[fields]
"Customer ref" = "Ticket ref"
[users]
fallback = "Sam Slave"
[users.table]
"mona@vendor.example" = "Mona M"
"#;

fn peers() -> (TestPeer, TestPeer) {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    let s = TestPeer::new(SLAVE_KEY, "SP2");
    m.ok(&["project", "edit", "SAM2", "--statuses", "Open,In Review,In Progress,Done", "--types", "Defect,Task"]);
    s.ok(&["project", "edit", "SP2", "--statuses", "New,In Progress,Closed", "--types", "Bug,Task"]);
    for (name, email) in [("Mona M", "mona@customer.example"), ("Sam Slave", "sam@customer.example")] {
        s.ok(&["user", "add", name, "--email", email]);
    }
    s.ok(&["user", "add", "Ann Admin", "--email", "ann@example.test"]);
    m.ok(&["user", "add", "mona", "--email", "mona@vendor.example"]);
    m.ok(&["user", "add", "Ann", "--email", "ann@example.test"]);
    m.ok(&["user", "add", "stranger"]);
    let file = s.home().join("mapping.toml");
    std::fs::write(&file, SLAVE_MAPPING).unwrap();
    pair_with(&m, &s, "acme", "SAM2", "SP2", &[], &["--mapping", file.to_str().unwrap()]);
    settle(&m, &s, "acme");
    (m, s)
}

#[test]
fn names_cross_through_the_mapping_both_ways_with_worklogs() {
    let (m, s) = peers();
    let status = s.ok(&["status"]);
    assert!(
        status.contains(
            "mapping         statuses Done=Closed, In Progress=In Progress, In Review=In Progress, Open=New; \
             priorities Medium=Normal; types Defect=Bug; custom fields Customer ref=Ticket ref; \
             users mona@vendor.example=Mona M; fallback user Sam Slave"
        ),
        "the tables themselves: {status}"
    );
    let key = m.ok(&[
        "issue",
        "create",
        "--project",
        "SAM2",
        "--summary",
        "Export slow",
        "--status",
        "In Review",
        "--type",
        "Defect",
        "--due",
        "2026-12-24",
        "--field",
        "Customer ref=CR-7",
        "--assignee",
        "mona",
    ]);
    let w = m.ok(&[
        "worklog",
        "add",
        &key,
        "--minutes",
        "90",
        "--on",
        "2026-11-20",
        "--comment",
        "Profiling",
        "--as",
        "mona",
    ]);
    settle(&m, &s, "acme");
    let i = s.issue("SP2-1");
    assert_eq!(i["status"], "In Progress", "In Review is In Progress here");
    assert_eq!(i["priority"], "Normal");
    assert_eq!(i["issue_type"], "Bug");
    assert_eq!(i["due_date"], "2026-12-24");
    assert_eq!(i["custom"]["Ticket ref"], "CR-7");
    assert_eq!(i["assignee"], "Mona M", "by the table, by address");
    let logs = i["worklogs"].as_array().unwrap();
    assert_eq!(logs.len(), 1, "{i}");
    assert_eq!((logs[0]["author"].as_str(), logs[0]["on_behalf_of"].as_str()), (Some("Mona M"), Some("mona")));
    assert_eq!((logs[0]["minutes"].as_u64(), logs[0]["comment"].as_str()), (Some(90), Some("Profiling")));

    // Assignees by address (Ann ↔ Ann Admin), else the fallback user.
    m.ok(&["issue", "edit", &key, "--assignee", "Ann"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["assignee"], "Ann Admin");
    m.ok(&["issue", "edit", &key, "--assignee", "stranger"]);
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["assignee"], "Sam Slave", "the fallback");

    // Worklogs edited and deleted on the master; one added on the slave.
    m.ok(&["worklog", "edit", &key, &w, "--minutes", "120", "--on", "2026-11-20", "--comment", "Profiling, more"]);
    settle(&m, &s, "acme");
    let logs = s.issue("SP2-1")["worklogs"].clone();
    assert_eq!((logs[0]["minutes"].as_u64(), logs[0]["comment"].as_str()), (Some(120), Some("Profiling, more")));
    let theirs = s.ok(&["worklog", "add", "SP2-1", "--minutes", "15", "--on", "2026-11-21", "--as", "Ann Admin"]);
    m.ok(&["worklog", "delete", &key, &w]);
    settle(&m, &s, "acme");
    let here = s.issue("SP2-1")["worklogs"].clone();
    assert_eq!(here.as_array().unwrap().len(), 1, "{here}");
    assert_eq!(here[0]["id"].as_str(), Some(theirs.as_str()));
    let there = m.issue(&key)["worklogs"].clone();
    assert_eq!(there.as_array().unwrap().len(), 1, "{there}");
    assert_eq!((there[0]["minutes"].as_u64(), there[0]["on_behalf_of"].as_str()), (Some(15), Some("Ann Admin")));
    let id = there[0]["id"].as_str().unwrap().to_string();
    s.ok(&["worklog", "edit", "SP2-1", &theirs, "--minutes", "20", "--on", "2026-11-21"]);
    settle(&m, &s, "acme");
    assert_eq!(m.issue(&key)["worklogs"][0]["minutes"], 20);
    s.ok(&["worklog", "delete", "SP2-1", &theirs]);
    settle(&m, &s, "acme");
    assert!(m.issue(&key)["worklogs"].as_array().is_none_or(|l| l.is_empty()), "deleted there: {id}");

    // Back: the slave's names become the master's again.
    s.ok(&[
        "issue",
        "edit",
        "SP2-1",
        "--status",
        "Closed",
        "--type",
        "Task",
        "--field",
        "Ticket ref=CR-8",
        "--due",
        "",
    ]);
    settle(&m, &s, "acme");
    let i = m.issue(&key);
    assert_eq!((i["status"].as_str(), i["issue_type"].as_str()), (Some("Done"), Some("Task")));
    assert_eq!(i["custom"]["Customer ref"], "CR-8");
    assert!(i["due_date"].is_null(), "{i}");
    // Two of the master's statuses map to In Progress: [send.status] says
    // which one it sends.
    s.ok(&["issue", "edit", "SP2-1", "--status", "In Progress"]);
    settle(&m, &s, "acme");
    assert_eq!(m.issue(&key)["status"], "In Progress");
    assert_eq!(s.json(&["errors", "list", "acme", "--json"]).as_array().unwrap().len(), 0);
}

#[test]
fn an_unmapped_value_is_an_error_that_says_what_would_map_it_then_crosses() {
    let (m, s) = peers();
    m.ok(&["project", "edit", "SAM2", "--statuses", "Open,In Review,In Progress,Done,Waiting"]);
    let key = m.ok(&["issue", "create", "--project", "SAM2", "--summary", "Waits", "--status", "Waiting"]);
    m.ok(&["comment", "add", &key, "--body", "crosses with it"]);
    settle(&m, &s, "acme");
    let errors = s.json(&["errors", "list", "acme", "--json"]);
    let reason = errors[0]["reason"].as_str().unwrap();
    assert!(reason.contains("status 'Waiting'"), "{reason}");
    assert!(reason.contains("under [status] add \"Waiting\" = \"New\" (one of: New, In Progress, Closed)"), "{reason}");
    assert!(reason.contains("postern sync edit acme --mapping FILE"), "{reason}");
    assert!(reason.contains(&format!("postern errors retry acme {key}")), "{reason}");
    assert!(s.issues("SP2").is_empty(), "nothing half-applied");

    // The admin adds the pair and retries: the issue and its comment cross.
    let file = s.home().join("mapping.toml");
    std::fs::write(&file, format!("{SLAVE_MAPPING}\n[status]\n")).unwrap();
    let err = s.fail(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    assert!(err.contains("line 20") && err.contains("duplicate") && err.contains("nothing was saved"), "{err}");
    // Waiting and Open both map to New: New sends Open.
    let fixed = SLAVE_MAPPING
        .replace("Done = \"Closed\"", "Done = \"Closed\"\nWaiting = \"New\"")
        .replace("[send.status]\n", "[send.status]\nNew = \"Open\"\n");
    std::fs::write(&file, &fixed).unwrap();
    s.ok(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    assert_eq!(s.ok(&["errors", "retry", "acme", &key]), format!("[{key}] 1 change applied"));
    let i = s.issue("SP2-1");
    assert_eq!((i["status"].as_str(), i["comments"].as_array().unwrap().len()), (Some("New"), 1));
    // An unknown user with no fallback is the same kind of error.
    std::fs::write(&file, fixed.replace("fallback = \"Sam Slave\"", "")).unwrap();
    s.ok(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    m.ok(&["issue", "edit", &key, "--assignee", "stranger"]);
    settle(&m, &s, "acme");
    let reason = s.json(&["errors", "list", "acme", "--json"])[0]["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("user 'stranger' is not known here") && reason.contains("[users.table]"), "{reason}");
}

#[test]
fn a_mapping_file_with_a_mistake_is_refused_with_line_and_column_and_nothing_is_saved() {
    let m = TestPeer::new(MASTER_KEY, "SAM2");
    m.ok(&["project", "create", "OTHER", "--statuses", "Open,Done", "--types", "Bug"]);
    m.ok(&["project", "edit", "SAM2", "--statuses", "Open,Done"]);
    let err = m.fail(&["issue", "create", "--project", "OTHER", "--summary", "x", "--type", "Task"]);
    assert!(err.contains("type 'Task' is not known here (known: Bug)"), "{err}");
    let file = m.home().join("bad.toml");
    let cases = [
        ("[status]\nOpen = \"Open\"\n[colours]\nRed = \"Blue\"\n", "line 3", "unknown field `colours`"),
        ("[status]\nDone = \"Done\"\nDone = \"Open\"\n", "line 3", "duplicate key"),
        ("[users]\nby_email = \"yes\"\n", "line 2", "invalid type"),
        ("[status]\nA = \"Open\"\nB = \"Open\"\n", "line 3, column 5", "[send.status]"),
        ("[status]\nFinished = \"Closed\"\n", "line 2, column 12", "this tracker does not have (it has: Open, Done)"),
    ];
    for (text, place, what) in cases {
        std::fs::write(&file, text).unwrap();
        let args = ["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--mapping"];
        let err = m.fail(&[&args[..], &[file.to_str().unwrap()]].concat());
        assert!(err.contains(place) && err.contains(what) && err.contains("bad.toml"), "{text:?}: {err}");
        assert!(m.ok(&["sync", "list"]).contains("no syncs"), "nothing saved");
    }
    assert!(!m.home().join("acme.handshake.asc").exists());
}

#[test]
fn a_worklog_resync_converges_what_one_side_lost_gained_or_changed() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    common::pair(&m, &s, "acme", "SAM2", "SP2");
    settle(&m, &s, "acme");
    let key = m.ok(&["issue", "create", "--project", "SAM2", "--summary", "timed"]);
    let mut ids = Vec::new();
    for (min, day) in [("30", "2026-11-18"), ("45", "2026-11-19"), ("60", "2026-11-20")] {
        ids.push(m.ok(&["worklog", "add", &key, "--minutes", min, "--on", day, "--as", "mona"]));
    }
    settle(&m, &s, "acme");
    assert_eq!(s.issue("SP2-1")["worklogs"].as_array().unwrap().len(), 3);
    // Behind postern's back (an old backup restored, an admin's SQL): the
    // slave loses one, one changes, one appears paired with nothing there.
    let here = s.issue("SP2-1")["worklogs"].clone();
    let conn = postern::store::open(&s.home().join("postern.db")).unwrap();
    conn.execute("DELETE FROM t_worklog WHERE id = ?1", [here[0]["id"].as_str().unwrap()]).unwrap();
    conn.execute("UPDATE t_worklog SET minutes = 5 WHERE id = ?1", [here[1]["id"].as_str().unwrap()]).unwrap();
    drop(conn);
    let conn = postern::store::open(&m.home().join("postern.db")).unwrap();
    conn.execute("DELETE FROM t_worklog WHERE id = ?1", [&ids[2]]).unwrap();
    drop(conn);

    let err = m.fail(&["sync", "resync", "acme", "--fields", "worklogs,hours", "--yes"]);
    assert!(err.contains("'hours' is not one of") && err.contains("worklogs"), "{err}");
    m.ok(&["sync", "resync", "acme", "--fields", "worklogs", "--yes"]);
    settle(&m, &s, "acme");
    let mut got: Vec<(u64, String)> = s.issue("SP2-1")["worklogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["minutes"].as_u64().unwrap(), w["spent_on"].as_str().unwrap().to_string()))
        .collect();
    got.sort();
    assert_eq!(got, [(30, "2026-11-18".to_string()), (45, "2026-11-19".to_string())]);
    assert_eq!(m.issue(&key)["worklogs"].as_array().unwrap().len(), 2, "no echo");
    // Paired again: an edit on the master reaches the re-made one.
    m.ok(&["worklog", "edit", &key, &ids[0], "--minutes", "35", "--on", "2026-11-18"]);
    settle(&m, &s, "acme");
    let mins: Vec<u64> =
        s.issue("SP2-1")["worklogs"].as_array().unwrap().iter().map(|w| w["minutes"].as_u64().unwrap()).collect();
    assert!(mins.contains(&35) && mins.len() == 2, "{mins:?}");
}

#[test]
fn worklogs_edited_on_both_sides_or_across_a_delete_converge_and_users_map_back() {
    let (m, s) = peers();
    let key = m.ok(&["issue", "create", "--project", "SAM2", "--summary", "timed"]);
    let w =
        m.ok(&["worklog", "add", &key, "--minutes", "10", "--on", "2026-11-20", "--comment", "first", "--as", "mona"]);
    let gone = m.ok(&["worklog", "add", &key, "--minutes", "20", "--on", "2026-11-21", "--as", "mona"]);
    settle(&m, &s, "acme");
    let here = s.issue("SP2-1")["worklogs"].clone();
    let (w_s, gone_s) = (here[0]["id"].as_str().unwrap().to_string(), here[1]["id"].as_str().unwrap().to_string());

    // `worklog edit` keeps what it is not given.
    m.ok(&["worklog", "edit", &key, &w, "--minutes", "111"]);
    let mine = m.issue(&key)["worklogs"][0].clone();
    assert_eq!((mine["spent_on"].as_str(), mine["comment"].as_str()), (Some("2026-11-20"), Some("first")));
    // Both sides change one worklog before hearing of each other: the later
    // change wins on both. Across a delete: it stays deleted, nothing blocks.
    std::thread::sleep(std::time::Duration::from_millis(20));
    s.ok(&["worklog", "edit", "SP2-1", &w_s, "--minutes", "222"]);
    m.ok(&["worklog", "delete", &key, &gone]);
    s.ok(&["worklog", "edit", "SP2-1", &gone_s, "--minutes", "55"]);
    s.ok(&["issue", "edit", "SP2-1", "--summary", "timed, renamed"]);
    settle(&m, &s, "acme");
    let minutes = |p: &TestPeer, k: &str| -> Vec<u64> {
        p.issue(k)["worklogs"].as_array().unwrap().iter().map(|w| w["minutes"].as_u64().unwrap()).collect()
    };
    assert_eq!(minutes(&m, &key), [222], "the later edit, and the deleted one stays deleted");
    assert_eq!(minutes(&s, "SP2-1"), [222]);
    assert_eq!(m.issue(&key)["summary"], "timed, renamed", "nothing waits behind it");
    assert_eq!(m.ok(&["errors", "list", "acme"]), "no errors in sync 'acme'");
    assert_eq!(s.ok(&["errors", "list", "acme"]), "no errors in sync 'acme'");

    // The user table works backwards: the slave's Mona M is the master's mona.
    s.ok(&["issue", "edit", "SP2-1", "--assignee", "Mona M"]);
    s.ok(&["worklog", "add", "SP2-1", "--minutes", "5", "--as", "Mona M"]);
    settle(&m, &s, "acme");
    let i = m.issue(&key);
    assert_eq!(i["assignee"], "mona", "{i}");
    assert!(i["worklogs"].as_array().unwrap().iter().any(|w| w["author"] == "mona" && w["minutes"] == 5), "{i}");
    assert_eq!(m.ok(&["errors", "list", "acme"]), "no errors in sync 'acme'");

    // One user per address; a file that maps nothing or is not text is refused.
    let err = s.fail(&["user", "add", "Dup", "--email", "MONA@customer.example"]);
    assert!(err.contains("Mona M has the address"), "{err}");
    let file = s.home().join("empty.toml");
    std::fs::write(&file, "# nothing yet\n").unwrap();
    let err = s.fail(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    assert!(err.contains("maps nothing") && err.contains("--no-mapping"), "{err}");
    std::fs::write(&file, b"[status]\nOpen = \"Neu\xe9\"\n").unwrap();
    let err = s.fail(&["sync", "edit", "acme", "--mapping", file.to_str().unwrap()]);
    assert!(err.contains("line 2: byte 20 is not UTF-8") && err.contains("nothing was saved"), "{err}");
    assert!(s.ok(&["status"]).contains("mapping         statuses Done=Closed"), "the mapping stayed");
}
