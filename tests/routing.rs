//! Many syncs in one home: changes applied for one partner are not passed
//! into another sync unless it forwards, forwarding never loops (not even
//! around a triangle of homes) and never copies an issue twice, and a sync
//! can be replaced without two syncs sending the same changes.

mod common;
use common::*;

/// Cycles every peer and carries every sync's files until nothing moves.
fn settle_all(peers: &[&TestPeer], links: &[(&TestPeer, &TestPeer, &str)]) {
    let mut quiet = 0;
    for _ in 0..200 {
        let mut moved = false;
        for p in peers {
            moved |= !p.cycle().is_idle();
        }
        for (a, b, sync) in links {
            moved |= carry(a, b, sync) + carry(b, a, sync) > 0;
        }
        quiet = if moved { 0 } else { quiet + 1 };
        if quiet == 2 {
            return;
        }
    }
    panic!("the homes did not settle: a replication loop?");
}

fn summaries(p: &TestPeer, project: &str) -> Vec<String> {
    let mut v: Vec<String> = p.issues(project).iter().map(|i| i["summary"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

fn comments(p: &TestPeer, project: &str, summary: &str) -> Vec<String> {
    let issue = p.issues(project).into_iter().find(|i| i["summary"] == summary).expect("the issue");
    let full = p.issue(issue["key"].as_str().unwrap());
    let mut v: Vec<String> =
        full["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap().to_string()).collect();
    v.sort();
    v
}

/// Three homes, each syncing its project with both others.
struct Triangle {
    v: TestPeer,
    h: TestPeer,
    c: TestPeer,
}

impl Triangle {
    fn new(forward: bool) -> Self {
        let t = Triangle {
            v: TestPeer::new(MASTER_KEY, "VEN"),
            h: TestPeer::new(SLAVE_KEY, "HUB"),
            c: TestPeer::new(STRANGER_KEY, "CUS"),
        };
        let f: &[&str] = if forward { &["--forward"] } else { &[] };
        pair_with(&t.v, &t.h, "vh", "VEN", "HUB", f, f);
        pair_with(&t.h, &t.c, "hc", "HUB", "CUS", f, f);
        pair_with(&t.c, &t.v, "cv", "CUS", "VEN", f, f);
        t.settle();
        t
    }

    fn settle(&self) {
        settle_all(
            &[&self.v, &self.h, &self.c],
            &[(&self.v, &self.h, "vh"), (&self.h, &self.c, "hc"), (&self.c, &self.v, "cv")],
        );
    }

    fn all(&self) -> [(&TestPeer, &str); 3] {
        [(&self.v, "VEN"), (&self.h, "HUB"), (&self.c, "CUS")]
    }
}

#[test]
fn a_triangle_without_forwarding_has_one_copy_of_each_issue() {
    let t = Triangle::new(false);
    t.v.ok(&["issue", "create", "--project", "VEN", "--summary", "from the vendor"]);
    t.c.ok(&["issue", "create", "--project", "CUS", "--summary", "from the customer"]);
    t.settle();
    for (p, project) in t.all() {
        assert_eq!(summaries(p, project), ["from the customer", "from the vendor"], "{project}");
    }
}

#[test]
fn in_a_triangle_an_edit_crossing_a_path_for_the_first_time_is_not_lost() {
    let t = Triangle::new(false);
    t.v.ok(&["issue", "create", "--project", "VEN", "--summary", "from the vendor"]);
    t.settle();
    let key = |p: &TestPeer, project: &str| p.issues(project)[0]["key"].as_str().unwrap().to_string();
    // The hub changes the status; meanwhile the customer retitles it.
    // Each edit is the issue's first crossing between hub and customer,
    // whose copies both came from the vendor.
    t.h.ok(&["issue", "edit", &key(&t.h, "HUB"), "--status", "Review"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    t.c.ok(&["issue", "edit", &key(&t.c, "CUS"), "--summary", "retitled by the customer"]);
    t.settle();
    for (p, project) in t.all() {
        let issues = p.issues(project);
        assert_eq!(issues.len(), 1, "{project}: one copy");
        assert_eq!(
            (issues[0]["status"].as_str(), issues[0]["summary"].as_str()),
            (Some("Review"), Some("retitled by the customer")),
            "{project}"
        );
    }
    // Each of the three syncs verified: nothing differs anywhere.
    for (p, sync) in [(&t.v, "vh"), (&t.h, "hc"), (&t.c, "cv")] {
        p.ok(&["sync", "verify", sync, "--wait", "0"]);
    }
    t.settle();
    for (p, sync) in [(&t.v, "vh"), (&t.h, "vh"), (&t.h, "hc"), (&t.c, "hc"), (&t.c, "cv"), (&t.v, "cv")] {
        let out = p.cli(&["sync", "verify", sync, "--last", "--json"]);
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a verify report");
        assert_eq!((out.status.code(), r["pairs"].as_u64()), (Some(0), Some(1)), "{sync}: {r}");
    }
}

#[test]
fn a_triangle_of_forwarding_homes_converges_with_one_copy_of_everything() {
    let t = Triangle::new(true);
    for (p, project) in t.all() {
        p.ok(&["issue", "create", "--project", project, "--summary", &format!("made in {project}")]);
    }
    t.settle();
    let expected = ["made in CUS", "made in HUB", "made in VEN"];
    for (p, project) in t.all() {
        assert_eq!(summaries(p, project), expected, "{project}: each issue once");
    }
    // Comments and edits made in every home, on every issue.
    for (p, project) in t.all() {
        for issue in p.issues(project) {
            let key = issue["key"].as_str().unwrap();
            p.ok(&["comment", "add", key, "--body", &format!("{project} on {}", issue["summary"].as_str().unwrap())]);
        }
    }
    let vkey = t.v.issues("VEN").into_iter().find(|i| i["summary"] == "made in CUS").unwrap()["key"].clone();
    t.v.ok(&["issue", "edit", vkey.as_str().unwrap(), "--status", "Done"]);
    t.settle();
    for (p, project) in t.all() {
        assert_eq!(summaries(p, project), expected, "{project}: still each issue once");
        for s in expected {
            let want: Vec<String> = {
                let mut w: Vec<String> = ["CUS", "HUB", "VEN"].iter().map(|h| format!("{h} on {s}")).collect();
                w.sort();
                w
            };
            assert_eq!(comments(p, project, s), want, "{project} / {s}: each comment once");
        }
        let edited = p.issues(project).into_iter().find(|i| i["summary"] == "made in CUS").unwrap();
        assert_eq!(edited["status"], "Done", "{project}: the edit went round");
    }
    // Settled means settled: one more round moves nothing.
    for p in [&t.v, &t.h, &t.c] {
        assert!(p.cycle().is_idle());
    }
}

#[test]
fn a_hub_passes_changes_on_only_where_it_forwards() {
    let (v, h, c) =
        (TestPeer::new(MASTER_KEY, "VEN"), TestPeer::new(SLAVE_KEY, "HUB"), TestPeer::new(STRANGER_KEY, "CUS"));
    pair(&v, &h, "vh", "VEN", "HUB");
    pair(&h, &c, "hc", "HUB", "CUS");
    let links = [(&v, &h, "vh"), (&h, &c, "hc")];
    settle_all(&[&v, &h, &c], &links);
    v.ok(&["issue", "create", "--project", "VEN", "--summary", "before forwarding"]);
    settle_all(&[&v, &h, &c], &links);
    assert_eq!(summaries(&h, "HUB"), ["before forwarding"]);
    assert!(summaries(&c, "CUS").is_empty(), "what the sync user wrote is not passed on by default");

    let out = h.ok(&["sync", "edit", "hc", "--forward", "on"]);
    assert!(out.contains("now passes on"), "{out}");
    assert_eq!(h.json(&["status", "--json"]).as_array().unwrap().iter().filter(|s| s["forward"] == true).count(), 1);
    h.ok(&["sync", "edit", "vh", "--forward", "on"]);
    v.ok(&["issue", "create", "--project", "VEN", "--summary", "forwarded"]);
    settle_all(&[&v, &h, &c], &links);
    assert_eq!(summaries(&c, "CUS"), ["forwarded"]);
    // The customer's comment goes back through the hub to the vendor, once.
    let key = c.issues("CUS")[0]["key"].as_str().unwrap().to_string();
    c.ok(&["comment", "add", &key, "--body", "customer says hi"]);
    settle_all(&[&v, &h, &c], &links);
    assert_eq!(comments(&v, "VEN", "forwarded"), ["customer says hi"]);
    assert_eq!(comments(&h, "HUB", "forwarded"), ["customer says hi"]);
    assert_eq!(summaries(&v, "VEN"), ["before forwarding", "forwarded"], "nothing came back as a copy");
}

#[test]
fn a_second_sync_between_the_same_projects_is_refused_unless_it_replaces_the_first() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "old", "SAM2", "SP2");
    settle(&m, &s, "old");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", "paired before"]);
    s.ok(&["issue", "create", "--project", "SP2", "--summary", "from the slave before"]);
    settle(&m, &s, "old");

    // Without --replaces the slave refuses, and creates nothing.
    let created = m.json(&["sync", "create", "--name", "twin", "--project", "SAM2", "--sync-user", "bot", "--json"]);
    let file = m.home().join(created["handshake_file"].as_str().unwrap());
    let pass = created["passphrase"].as_str().unwrap();
    let accept = ["sync", "accept", "--file", file.to_str().unwrap(), "--passphrase", pass, "--project", "SP2"];
    let err = s.fail(&[&accept[..], &["--sync-user", "bot", "--yes"]].concat());
    assert!(err.contains("sync 'old' already pairs project SP2") && err.contains("--replaces old"), "{err}");
    assert_eq!(s.json(&["sync", "list", "--json"]).as_array().unwrap().len(), 1, "nothing created");
    // Following the hint on the slave alone is refused too: the master's
    // handshake replaces nothing, so the old sync would be left unread.
    let err = s.fail(&[&accept[..], &["--sync-user", "bot", "--yes", "--replaces", "old"]].concat());
    assert!(err.contains("replaces nothing") && err.contains("a replacement is made on both sides"), "{err}");
    assert_eq!(s.json(&["sync", "list", "--json"]).as_array().unwrap().len(), 1, "nothing created");

    // Replacing waits until nothing is awaiting acknowledgement.
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "queued on old"]);
    m.cycle();
    let err =
        m.fail(&["sync", "create", "--name", "new", "--project", "SAM2", "--sync-user", "bot", "--replaces", "old"]);
    assert!(err.contains("awaiting acknowledgement"), "{err}");
    settle(&m, &s, "old");

    // The master replaces; a slave that does not agree is refused in words.
    let created = m.json(&[
        "sync",
        "create",
        "--name",
        "new",
        "--project",
        "SAM2",
        "--sync-user",
        "bot",
        "--replaces",
        "old",
        "--json",
    ]);
    let file = m.home().join(created["handshake_file"].as_str().unwrap());
    let pass = created["passphrase"].as_str().unwrap();
    let accept = ["sync", "accept", "--file", file.to_str().unwrap(), "--passphrase", pass, "--project", "SP2"];
    let err = s.fail(&[&accept[..], &["--sync-user", "bot", "--yes"]].concat());
    assert!(err.contains("made this sync to replace sync 'old'") && err.contains("--replaces old"), "{err}");
    s.ok(&[&accept[..], &["--sync-user", "bot", "--yes", "--replaces", "old"]].concat());
    settle(&m, &s, "new");
    let status = m.json(&["status", "--json"]);
    let old = status.as_array().unwrap().iter().find(|x| x["name"] == "old").unwrap().clone();
    assert_eq!(old["replaced_by"], "new");

    // Edits of issues paired by the old sync go through the new one, to the
    // same issues: no copy on either side, and the old sync sends nothing.
    m.ok(&["issue", "edit", "SAM2-1", "--summary", "after the move"]);
    // (SP2-1 is the slave's own issue, SP2-2 the master's SAM2-1.)
    s.ok(&["issue", "edit", "SP2-2", "--status", "Done"]);
    s.ok(&["comment", "add", "SP2-1", "--body", "on the slave's issue"]);
    for p in [&m, &s] {
        p.cycle();
        assert!(p.outgoing("old").is_empty(), "the replaced sync sends nothing");
    }
    settle(&m, &s, "new");
    assert_eq!(summaries(&m, "SAM2"), ["after the move", "from the slave before"]);
    assert_eq!(summaries(&s, "SP2"), ["after the move", "from the slave before"]);
    assert_eq!(m.issue("SAM2-1")["status"], "Done");
    assert_eq!(comments(&m, "SAM2", "from the slave before"), ["on the slave's issue"]);
    let export = m.json(&["sync", "export", "new"]);
    assert_eq!(export["firstConnector"].as_array().unwrap().len(), 2, "the pairings moved to the new sync");
}

#[test]
fn the_master_refuses_a_second_accept_for_a_project_it_already_pairs_with_that_partner() {
    let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
    pair(&m, &s, "first", "SAM2", "SP2");
    settle(&m, &s, "first");
    // Another slave project, so the slave cannot see the clash; the master can.
    s.ok(&["project", "create", "SP3"]);
    pair(&m, &s, "second", "SAM2", "SP3");
    settle(&m, &s, "second");
    let status = m.json(&["status", "--json"]);
    let second = status.as_array().unwrap().iter().find(|x| x["name"] == "second").unwrap().clone();
    assert_eq!(second["state"], "handshake", "{second}");
    assert_eq!(second["quarantined"], 1);
    let reasons: String = std::fs::read_dir(m.quarantine("second"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".reason.txt"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(reasons.contains("sync 'first' already pairs project SAM2"), "{reasons}");
    // The slave was told why, and says so instead of waiting in silence.
    let st = s.status_of("second");
    assert_eq!(st["state"], "handshake", "{st}");
    let refused = st["failing"].as_array().unwrap().iter().find(|t| t["what"] == "refused").cloned();
    let refused = refused.unwrap_or_else(|| panic!("no refusal shown: {st}"));
    assert!(refused["error"].as_str().unwrap().contains("already pairs project SAM2"), "{refused}");
    let text = s.ok(&["status"]);
    assert!(text.contains("FAILING         refused since"), "{text}");
    // Its accept comes again (resent): answered, not quarantined again.
    s.ok(&["sync", "timing", "second", "--resend-after-secs", "0.01"]);
    std::thread::sleep(std::time::Duration::from_millis(50));
    s.cycle();
    assert_eq!(carry(&s, &m, "second"), 1, "the accept, resent");
    m.cycle();
    assert_eq!(m.status_of("second")["quarantined"], 1, "quarantined once");
    assert_eq!(carry(&m, &s, "second"), 1, "answered again");
}
