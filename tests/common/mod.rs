//! Test helpers: peers with pre-generated test keys, the CLI as a child
//! process, and a "carrier" that moves files from one peer's SEND to the
//! other's RECEIVE (so tests can drop, duplicate and reorder them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use postern::engine::Peer;
use postern::home::Home;

pub const MASTER_KEY: &str = include_str!("../../keys/test/master.sec.asc");
pub const SLAVE_KEY: &str = include_str!("../../keys/test/slave.sec.asc");
pub const STRANGER_KEY: &str = include_str!("../../keys/test/stranger.sec.asc");

pub struct TestPeer {
    pub dir: tempfile::TempDir,
}

impl TestPeer {
    /// A home with the given test key and one project.
    pub fn new(key: &str, project: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = Self { dir };
        let keyfile = p.dir.path().join("key.asc");
        std::fs::write(&keyfile, key).unwrap();
        p.ok(&["key", "import", keyfile.to_str().unwrap()]);
        std::fs::remove_file(&keyfile).unwrap();
        p.ok(&["project", "create", project]);
        p
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_env(args, &[])
    }

    /// The CLI with extra environment variables.
    pub fn cli_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_postern"))
            .arg("--home")
            .arg(self.home())
            .args(args)
            .current_dir(self.home())
            .env_remove("POSTERN_HOME")
            .env_remove("POSTERN_PASSPHRASE")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// Runs the CLI, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(out.status.success(), "postern {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Runs the CLI, asserts failure, returns stderr.
    pub fn fail(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(!out.status.success(), "postern {args:?} should have failed");
        String::from_utf8(out.stderr).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// The sync's exchange folder, as stored (it can be moved).
    pub fn exchange(&self, sync: &str) -> PathBuf {
        let conn = postern::store::open(&self.home().join("postern.db")).unwrap();
        match postern::store::syncs::get_by_name(&conn, sync).unwrap() {
            Some(s) if !s.exchange_dir.is_empty() => PathBuf::from(s.exchange_dir),
            _ => self.home().join("exchange").join(sync),
        }
    }

    pub fn peer(&self) -> Peer {
        Peer::open(Home::create(self.home()).unwrap()).unwrap()
    }

    /// `n` issues of project SAM2 ("crash 0"…), each with two comments and
    /// a 1.2 KB file, made at once (what the SIGKILL tests write across).
    pub fn crash_issues(&self, n: usize) {
        use postern::protocol::IssueFields;
        use postern::tracker::{Actor, Embedded, NewAttachment, Writes};
        let mut peer = self.peer();
        let tx = peer.conn.transaction().unwrap();
        let t = Embedded::new(&tx);
        let a = Actor::person("vera");
        for i in 0..n {
            let f = IssueFields {
                summary: format!("crash {i}"),
                status: "Open".into(),
                priority: "Medium".into(),
                ..Default::default()
            };
            let k = t.create_issue("SAM2", &f, a).unwrap();
            t.add_comment(&k, &format!("first note on {i}"), None, a).unwrap();
            t.add_comment(&k, &format!("second note on {i}"), None, a).unwrap();
            let data = format!("log of {i}\n").repeat(100);
            t.add_attachment(&k, NewAttachment::bytes("log.txt", "text/plain", data.as_bytes()), None, a).unwrap();
        }
        tx.commit().unwrap();
    }

    pub fn cycle(&self) -> postern::engine::CycleReport {
        self.peer().cycle().unwrap()
    }

    pub fn status(&self) -> serde_json::Value {
        self.json(&["status", "--json"])[0].clone()
    }

    /// The status of the sync named `name`.
    pub fn status_of(&self, name: &str) -> serde_json::Value {
        let all = self.json(&["status", "--json"]);
        all.as_array().unwrap().iter().find(|s| s["name"] == name).expect("a sync of that name").clone()
    }

    pub fn issue(&self, key: &str) -> serde_json::Value {
        self.json(&["issue", "show", key, "--json"])
    }

    pub fn issues(&self, project: &str) -> Vec<serde_json::Value> {
        self.json(&["issue", "list", "--project", project, "--json"]).as_array().unwrap().clone()
    }

    /// Final-named message files waiting in SEND, sorted.
    pub fn outgoing(&self, sync: &str) -> Vec<PathBuf> {
        list_messages(&self.exchange(sync).join("SEND"))
    }

    /// Starts `postern run` with `args`; its debug log goes to a file in
    /// the home (a pipe nobody reads could fill up and block it). A test
    /// that fails before stopping it still ends it (see [`Daemon`]).
    pub fn daemon(&self, args: &[&str]) -> Daemon {
        Daemon(Some(self.spawn_daemon(args, &[])))
    }

    /// [`TestPeer::daemon`] with extra environment variables.
    pub fn daemon_env(&self, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        Daemon(Some(self.spawn_daemon(args, env)))
    }

    fn spawn_daemon(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_postern"))
            .arg("--home")
            .arg(self.home())
            .arg("run")
            .args(args)
            .env("POSTERN_LOG", "postern=debug")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(self.home().join("daemon.log")).unwrap())
            .spawn()
            .unwrap()
    }

    /// Waits until the daemon started by [`TestPeer::daemon`] says it runs:
    /// it logs that after its folders are watched.
    pub fn wait_running(&self) {
        let start = std::time::Instant::now();
        let log = self.home().join("daemon.log");
        while !std::fs::read_to_string(&log).unwrap_or_default().contains("postern running") {
            assert!(start.elapsed() < std::time::Duration::from_secs(30), "the daemon never said it runs");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Stops a daemon with SIGTERM, asserts it ended successfully, returns
    /// its log.
    pub fn stop(&self, mut d: Daemon) -> String {
        let d = d.0.take().unwrap();
        Command::new("kill").args(["-TERM", &d.id().to_string()]).status().unwrap();
        let out = d.wait_with_output().unwrap();
        assert!(out.status.success(), "SIGTERM ends the daemon with success");
        std::fs::read_to_string(self.home().join("daemon.log")).unwrap()
    }

    /// `sync accept` of a handshake file into `project`.
    pub fn accept(&self, file: &Path, pass: &str, project: &str, yes: bool) -> Output {
        let mut args = vec!["sync", "accept", "--file", file.to_str().unwrap(), "--passphrase", pass];
        args.extend(["--project", project, "--sync-user", "sync-slave"]);
        if yes {
            args.push("--yes");
        }
        self.cli(&args)
    }

    pub fn quarantine(&self, sync: &str) -> PathBuf {
        self.exchange(sync).join("QUARANTINE")
    }
}

/// A running `postern run`: killed and waited for when dropped, so a test
/// that panics leaves no daemon behind (it would hold the home's lock and
/// its mail connections).
pub struct Daemon(Option<std::process::Child>);

impl Daemon {
    pub fn id(&self) -> u32 {
        self.0.as_ref().unwrap().id()
    }

    /// SIGKILL, then wait for it to be gone.
    pub fn kill(mut self) {
        if let Some(mut c) = self.0.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn list_messages(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("postern-"))
        .collect();
    v.sort();
    v
}

/// Pairs `m` and `s` as sync "acme", then has the master send one change.
/// Returns the `sync create --json` output, the handshake file and the
/// message file in the master's SEND.
pub fn one_message(m: &TestPeer, s: &TestPeer, summary: &str) -> (serde_json::Value, PathBuf, PathBuf) {
    let created = m.json(&["sync", "create", "--name", "acme", "--project", "SAM2", "--sync-user", "bot", "--json"]);
    let hs = m.home().join("acme.handshake.asc");
    let out = s.accept(&hs, created["passphrase"].as_str().unwrap(), "SP2", true);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    settle(m, s, "acme");
    m.ok(&["issue", "create", "--project", "SAM2", "--summary", summary]);
    m.cycle();
    let msg = m.outgoing("acme").pop().expect("a message in SEND");
    (created, hs, msg)
}

/// Master creates sync `name`; the slave accepts it. Returns the sync id.
pub fn pair(master: &TestPeer, slave: &TestPeer, name: &str, mproject: &str, sproject: &str) -> String {
    pair_with(master, slave, name, mproject, sproject, &[], &[])
}

/// As [`pair`], with extra `sync create` and `sync accept` arguments.
pub fn pair_with(
    master: &TestPeer,
    slave: &TestPeer,
    name: &str,
    mproject: &str,
    sproject: &str,
    create: &[&str],
    accept: &[&str],
) -> String {
    let base = ["sync", "create", "--name", name, "--description", "test sync", "--project", mproject];
    let created = master.json(&[&base[..], &["--sync-user", "sync-master", "--json"], create].concat());
    let file = master.home().join(created["handshake_file"].as_str().unwrap());
    let pass = created["passphrase"].as_str().unwrap();
    let base = ["sync", "accept", "--file", file.to_str().unwrap(), "--passphrase", pass, "--project", sproject];
    slave.ok(&[&base[..], &["--sync-user", "sync-slave", "--yes"], accept].concat());
    created["sync_id"].as_str().unwrap().to_string()
}

/// `asker` starts a verify of sync `acme`, the peers settle, and both
/// reports find nothing that differs.
pub fn verify_settled(asker: &TestPeer, m: &TestPeer, s: &TestPeer) {
    asker.ok(&["sync", "verify", "acme", "--wait", "0"]);
    settle(m, s, "acme");
    for p in [m, s] {
        let r = p.json(&["sync", "verify", "acme", "--last", "--json"]);
        assert_eq!(r["differing"], serde_json::json!([]), "{r}");
    }
}

/// Moves every message from `from`'s SEND to `to`'s RECEIVE. Returns count.
pub fn carry(from: &TestPeer, to: &TestPeer, sync: &str) -> usize {
    let files = from.outgoing(sync);
    for f in &files {
        std::fs::rename(f, to.exchange(sync).join("RECEIVE").join(f.file_name().unwrap())).unwrap();
    }
    files.len()
}

/// Cycles both peers and carries files until nothing moves.
pub fn settle(a: &TestPeer, b: &TestPeer, sync: &str) {
    let (mut pa, mut pb) = (a.peer(), b.peer());
    let mut quiet = 0;
    for _ in 0..200 {
        let ra = pa.cycle().unwrap();
        let ca = carry(a, b, sync);
        let rb = pb.cycle().unwrap();
        let cb = carry(b, a, sync);
        quiet = if ra.is_idle() && rb.is_idle() && ca + cb == 0 { quiet + 1 } else { 0 };
        if quiet == 2 {
            return;
        }
    }
    panic!("peers did not settle");
}

/// Cycles both peers of sync `acme` and carries files until `done` holds,
/// through the tracker's "later" (a cycle that meets a throttled tracker,
/// or a write that waits its time after a lost answer, reports it and goes
/// on), at most 200 rounds of 150 ms.
pub fn settle_until(m: &TestPeer, s: &TestPeer, what: &str, mut done: impl FnMut() -> bool) {
    let (mut pm, mut ps) = (m.peer(), s.peer());
    let mut later = 0;
    for _ in 0..200 {
        if let Err(e) = pm.cycle() {
            assert!(e.to_string().contains("unavailable"), "{e:#}");
            later += 1;
        }
        carry(m, s, "acme");
        if let Err(e) = ps.cycle() {
            assert!(e.to_string().contains("unavailable"), "{e:#}");
            later += 1;
        }
        carry(s, m, "acme");
        if done() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(150));
    }
    panic!("never converged: {what} ({later} cycles met a tracker that said later)");
}

/// Comparable view of an issue: fields and comment bodies.
pub fn content(issue: &serde_json::Value) -> serde_json::Value {
    let mut v = issue.clone();
    let obj = v.as_object_mut().unwrap();
    for k in ["key", "project", "created_at", "updated_at"] {
        obj.remove(k);
    }
    let bodies: Vec<_> = issue["comments"].as_array().unwrap().iter().map(|c| c["body"].clone()).collect();
    obj.insert("comments".into(), bodies.into());
    let files: Vec<_> = issue["attachments"]
        .as_array()
        .map(|a| a.iter().map(|a| serde_json::json!([a["filename"], a["size"], a["sha256"]])).collect())
        .unwrap_or_default();
    obj.insert("attachments".into(), files.into());
    v
}

/// Wires SEND of each peer straight into RECEIVE of the other with
/// symbolic links, as on a shared folder.
pub fn wire(a: &TestPeer, b: &TestPeer, sync: &str) {
    for (from, to) in [(a, b), (b, a)] {
        let send = from.exchange(sync).join("SEND");
        std::fs::remove_dir(&send).unwrap();
        std::os::unix::fs::symlink(to.exchange(sync).join("RECEIVE"), &send).unwrap();
    }
}

/// Builds an OpenPGP message by hand: optionally signed, encrypted to `to`.
pub fn craft(
    sign: Option<&sequoia_openpgp::Cert>,
    to: &sequoia_openpgp::Cert,
    plaintext: &[u8],
    compress: bool,
) -> Vec<u8> {
    let p = sequoia_openpgp::policy::StandardPolicy::new();
    let mut sink = Vec::new();
    let recipients = to.keys().with_policy(&p, None).supported().for_transport_encryption();
    let message = sequoia_openpgp::serialize::stream::Message::new(&mut sink);
    let mut message =
        sequoia_openpgp::serialize::stream::Encryptor::for_recipients(message, recipients).build().unwrap();
    if compress {
        message = sequoia_openpgp::serialize::stream::Compressor::new(message).build().unwrap();
    }
    if let Some(signer) = sign {
        let key = signer.keys().unencrypted_secret().with_policy(&p, None).for_signing().next().unwrap();
        message = sequoia_openpgp::serialize::stream::Signer::new(message, key.key().clone().into_keypair().unwrap())
            .unwrap()
            .build()
            .unwrap();
    }
    let mut w = sequoia_openpgp::serialize::stream::LiteralWriter::new(message).build().unwrap();
    std::io::Write::write_all(&mut w, plaintext).unwrap();
    w.finalize().unwrap();
    sink
}
pub mod conformance;
pub mod console;
pub mod fault_proxy;
pub mod faults;
pub mod mail;
pub mod prism;
pub mod redmine;
