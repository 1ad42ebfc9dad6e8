//! Only the pinned partner is believed: every kind of bad input dropped in
//! RECEIVE is refused, quarantined with its own reason, never applied, and
//! the peer goes on syncing genuine messages afterwards.

mod common;
use common::*;

use postern::crypto::cert_from_armored;
use postern::protocol::{names, Body, Envelope, FORMAT_VERSION};
use sequoia_openpgp::Cert;

struct Ctx {
    m: TestPeer,
    s: TestPeer,
    sync: String,
    master: Cert,
    slave: Cert,
    stranger: Cert,
}

impl Ctx {
    fn new() -> Self {
        let (m, s) = (TestPeer::new(MASTER_KEY, "SAM2"), TestPeer::new(SLAVE_KEY, "SP2"));
        let sync = pair(&m, &s, "acme", "SAM2", "SP2");
        settle(&m, &s, "acme");
        let cert = |k: &str| cert_from_armored(k.as_bytes()).unwrap();
        Ctx { m, s, sync, master: cert(MASTER_KEY), slave: cert(SLAVE_KEY), stranger: cert(STRANGER_KEY) }
    }

    /// An envelope as the master would send it (next number 1, changes).
    fn envelope(&self) -> Envelope {
        Envelope {
            postern: FORMAT_VERSION,
            sync: self.sync.clone(),
            from: self.master.fingerprint().to_hex(),
            to: self.slave.fingerprint().to_hex(),
            seq: 1,
            ack: 0,
            sent_at: 1,
            body: Body::Changes { changes: vec![], via: vec![] },
        }
    }

    fn name(&self, seq: u64) -> String {
        names::message_name(&self.sync, seq, "cafe")
    }

    fn drop_in(&self, name: &str, data: &[u8]) {
        std::fs::write(self.s.exchange("acme").join("RECEIVE").join(name), data).unwrap();
    }

    /// Drops a file, runs a cycle, and checks it was refused for `why`
    /// without effect; then checks genuine traffic still flows.
    fn assert_refused(&self, name: &str, data: &[u8], why: &str) {
        let before = self.s.status();
        let issues = self.s.issues("SP2").len();
        self.drop_in(name, data);
        let r = self.s.cycle();
        assert_eq!((r.quarantined, r.applied), (1, 0), "{why}");
        let reason = std::fs::read_to_string(self.s.quarantine("acme").join(format!("{name}.reason.txt")))
            .unwrap_or_else(|_| panic!("no reason file for {name}"));
        assert!(reason.contains(why), "expected '{why}', got '{reason}'");
        assert!(self.s.quarantine("acme").join(name).exists(), "the file itself is kept in quarantine");
        let after = self.s.status();
        assert_eq!(after["incoming_seq"], before["incoming_seq"], "not applied");
        assert_eq!(after["quarantined"].as_u64().unwrap(), before["quarantined"].as_u64().unwrap() + 1);
        assert_eq!(self.s.issues("SP2").len(), issues);
        // Genuine messages still go through.
        let key = self.m.ok(&["issue", "create", "--project", "SAM2", "--summary", &format!("after {why}")]);
        settle(&self.m, &self.s, "acme");
        assert_eq!(self.s.issues("SP2").len(), issues + 1, "the sync goes on after: {why}");
        assert!(self.s.issues("SP2").iter().any(|i| i["summary"] == format!("after {why}")), "{key}");
    }
}

fn json(env: &Envelope) -> Vec<u8> {
    env.to_json()
}

#[test]
fn unsigned() {
    let c = Ctx::new();
    c.assert_refused(
        &c.name(1),
        &craft(None, &c.slave, &json(&c.envelope()), false),
        "not signed by the pinned partner key",
    );
}

#[test]
fn signed_by_another_key() {
    let c = Ctx::new();
    let data = craft(Some(&c.stranger), &c.slave, &json(&c.envelope()), false);
    c.assert_refused(&c.name(1), &data, "not signed by the pinned partner key");
}

#[test]
fn encrypted_to_another_key() {
    let c = Ctx::new();
    let data = craft(Some(&c.master), &c.stranger, &json(&c.envelope()), false);
    c.assert_refused(&c.name(1), &data, "not encrypted to this peer's key");
}

#[test]
fn for_another_sync() {
    let c = Ctx::new();
    let mut env = c.envelope();
    env.sync = "11111111-2222-3333-4444-555555555555".into();
    c.assert_refused(&c.name(1), &craft(Some(&c.master), &c.slave, &json(&env), false), "for sync 11111111");
}

#[test]
fn named_for_another_sync() {
    let c = Ctx::new();
    let name = names::message_name("11111111-2222-3333-4444-555555555555", 1, "cafe");
    c.assert_refused(&name, &craft(Some(&c.master), &c.slave, &json(&c.envelope()), false), "addressed to sync");
}

#[test]
fn file_name_and_content_disagree() {
    let c = Ctx::new();
    c.assert_refused(
        &c.name(7),
        &craft(Some(&c.master), &c.slave, &json(&c.envelope()), false),
        "file name says message 7",
    );
}

#[test]
fn replayed_long_after() {
    let c = Ctx::new();
    c.m.ok(&["issue", "create", "--project", "SAM2", "--summary", "original"]);
    c.m.cycle();
    let f = c.m.outgoing("acme").pop().unwrap();
    let copy = std::fs::read(&f).unwrap();
    settle(&c.m, &c.s, "acme");
    for i in 0..3 {
        c.m.ok(&["issue", "edit", "SAM2-1", "--summary", &format!("later {i}")]);
        settle(&c.m, &c.s, "acme");
    }
    assert_eq!(c.m.status()["awaiting_ack"], 0, "the original's outbox entry is long gone");
    // An exact copy can do no harm: dropped as a duplicate, never applied,
    // and not counted as quarantined (that alarm is for forgeries).
    let before = c.s.status();
    let name = f.file_name().unwrap().to_str().unwrap().to_string();
    c.drop_in(&name, &copy);
    let r = c.s.cycle();
    assert_eq!((r.duplicates, r.applied, r.quarantined), (1, 0, 0));
    let after = c.s.status();
    assert_eq!(after["incoming_seq"], before["incoming_seq"]);
    assert_eq!(after["quarantined"], before["quarantined"]);
    assert!(!c.s.exchange("acme").join("RECEIVE").join(&name).exists(), "the copy is removed");
    assert_eq!(c.s.issue("SP2-1")["summary"], "later 2", "the old summary did not come back");
}

#[test]
fn our_own_message_reflected_back() {
    let c = Ctx::new();
    c.s.ok(&["issue", "create", "--project", "SP2", "--summary", "mine"]);
    c.s.cycle();
    let f = c.s.outgoing("acme").pop().unwrap();
    let data = std::fs::read(&f).unwrap();
    std::fs::remove_file(&f).unwrap();
    c.assert_refused(f.file_name().unwrap().to_str().unwrap(), &data, "reflected back");
}

#[test]
fn truncated() {
    let c = Ctx::new();
    let data = craft(Some(&c.master), &c.slave, &json(&c.envelope()), false);
    // Binary OpenPGP cut in half fails its integrity check: damaged.
    c.assert_refused(&c.name(1), &data[..data.len() / 2], "a damaged OpenPGP message");
    // Armored, as postern writes them, and cut short on the way: said so.
    let mut armored = Vec::new();
    {
        use std::io::Write;
        let mut w = sequoia_openpgp::armor::Writer::new(&mut armored, sequoia_openpgp::armor::Kind::Message).unwrap();
        w.write_all(&data).unwrap();
        w.finalize().unwrap();
    }
    c.assert_refused(&c.name(1), &armored[..armored.len() * 2 / 3], "an OpenPGP message cut short");
}

#[test]
fn not_openpgp_at_all() {
    let c = Ctx::new();
    c.assert_refused(&c.name(1), b"PK\x03\x04 this is a zip file", "not an OpenPGP message (random bytes");
    // A message nobody encrypted: told apart from damage.
    let plain = json(&c.envelope());
    c.assert_refused(&c.name(1), &plain, "not OpenPGP but plain JSON");
}

#[test]
fn malformed_plaintext() {
    let c = Ctx::new();
    c.assert_refused(
        &c.name(1),
        &craft(Some(&c.master), &c.slave, b"{\"postern\":1, oops", false),
        "malformed message",
    );
}

#[test]
fn unknown_message_kind_from_a_future_version() {
    let c = Ctx::new();
    let text = String::from_utf8(json(&c.envelope()))
        .unwrap()
        .replace(r#"{"kind":"changes","changes":[]}"#, r#"{"kind":"self_destruct"}"#);
    c.assert_refused(&c.name(1), &craft(Some(&c.master), &c.slave, text.as_bytes(), false), "malformed message");
    let future = String::from_utf8(json(&c.envelope())).unwrap().replace("\"postern\":1", "\"postern\":9");
    c.assert_refused(
        &c.name(1),
        &craft(Some(&c.master), &c.slave, future.as_bytes(), false),
        "unsupported message format version 9",
    );
}

#[test]
fn acknowledges_messages_never_sent() {
    let c = Ctx::new();
    let mut env = c.envelope();
    env.ack = 99;
    c.assert_refused(&c.name(1), &craft(Some(&c.master), &c.slave, &json(&env), false), "acknowledges message 99");
}

#[test]
fn file_over_the_size_limit() {
    let c = Ctx::new();
    let big = vec![b'x'; postern::engine::MAX_MESSAGE_BYTES + 1];
    c.assert_refused(&c.name(1), &big, "over the limit");
}

#[test]
fn decompression_bomb() {
    let c = Ctx::new();
    // 64 MiB of the same byte, compressed, signed by the genuine partner.
    let mut plain = json(&c.envelope());
    plain.resize(64 << 20, b' ');
    let bomb = craft(Some(&c.master), &c.slave, &plain, true);
    assert!(bomb.len() < 1 << 20, "the bomb itself is small ({} bytes)", bomb.len());
    c.assert_refused(&c.name(1), &bomb, "decrypted content is over the limit");
}

#[test]
fn a_flood_of_junk_does_not_hold_up_genuine_messages() {
    let c = Ctx::new();
    c.m.ok(&["issue", "create", "--project", "SAM2", "--summary", "genuine"]);
    c.m.cycle();
    for i in 0..300u32 {
        let name = names::message_name(&c.sync, 1 + (i as u64 % 5), &format!("junk{i}"));
        c.drop_in(&name, format!("junk {i}").repeat(i as usize % 50 + 1).as_bytes());
    }
    carry(&c.m, &c.s, "acme");
    let r = c.s.cycle();
    assert_eq!(r.quarantined, 300);
    assert_eq!(r.applied, 1, "the genuine message is applied in the same cycle");
    assert_eq!(c.s.issues("SP2")[0]["summary"], "genuine");
    assert_eq!(c.s.status()["quarantined"], 300);
}

#[test]
fn fields_from_outside_are_stored_exactly_and_decide_no_path() {
    let c = Ctx::new();
    let nasty = [
        "../../etc/passwd",
        "/absolute/path",
        "nul\0byte",
        "'; DROP TABLE t_issue; --",
        "<script>alert(1)</script> {{ template }} $(rm -rf /)",
        "ünïcödé ✓ 𝔘",
    ];
    let long = "x".repeat(100_000);
    {
        use postern::tracker::{Actor, Embedded, Writes};
        let mut peer = c.m.peer();
        let tx = peer.conn.transaction().unwrap();
        for s in nasty.iter().copied().chain([long.as_str()]) {
            let f = postern::protocol::IssueFields {
                summary: s.into(),
                description: s.into(),
                status: "Open".into(),
                priority: "Medium".into(),
                labels: vec![s.into()],
                assignee: Some(s.into()),
                issue_type: Some(s.into()),
                custom: [(s.to_string(), s.to_string())].into(),
                ..Default::default()
            };
            Embedded::new(&tx).create_issue("SAM2", &f, Actor::person(s)).unwrap();
        }
        tx.commit().unwrap();
    }
    settle(&c.m, &c.s, "acme");
    let issues = c.s.issues("SP2");
    assert_eq!(issues.len(), nasty.len() + 1);
    for (i, s) in nasty.iter().copied().chain([long.as_str()]).enumerate() {
        assert_eq!(issues[i]["summary"], s);
        assert_eq!(issues[i]["description"], s);
        assert_eq!(issues[i]["labels"][0], s);
        assert_eq!(issues[i]["assignee"], s);
    }
    // Nothing appeared outside the homes' own folders.
    for home in [c.m.home(), c.s.home()] {
        let names: Vec<_> = std::fs::read_dir(home).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(
            names.iter().all(|n| {
                let n = n.to_str().unwrap();
                n.starts_with("postern.") || ["keys", "exchange", "acme.handshake.asc"].contains(&n)
            }),
            "{names:?}"
        );
    }
}

#[test]
fn a_message_that_breaks_the_decoder_is_refused_with_one_line() {
    let c = Ctx::new();
    c.m.ok(&["issue", "create", "--project", "SAM2", "--summary", "to be damaged"]);
    c.m.cycle();
    let f = c.m.outgoing("acme").pop().unwrap();
    let mut data = std::fs::read(&f).unwrap();
    std::fs::remove_file(&f).unwrap();
    // This flip made sequoia-openpgp 2.4 panic inside the decoder.
    data[324] ^= 0xff;
    let name = f.file_name().unwrap().to_str().unwrap().to_string();
    c.drop_in(&name, &data);
    let out = c.s.cli(&["run", "--once"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "the panic text stays off stderr: {err}");
    assert_eq!(c.s.status()["quarantined"], 1);
}
