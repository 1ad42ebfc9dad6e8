//! Two real peers for measuring: homes in a temporary folder, paired by
//! the library, SEND/RECEIVE linked into one shared folder, run as child
//! `postern run` processes (so their memory can be read from /proc).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rusqlite::Connection;

use crate::engine::handshake::{self, SyncSettings};
use crate::engine::Peer;
use crate::home::Home;
use crate::tracker::Embedded;

pub struct Pair {
    pub root: PathBuf,
    pub master: Home,
    pub slave: Home,
}

pub fn link(exchange: &Path, name: &str, target: &Path) -> Result<()> {
    let p = exchange.join(name);
    std::fs::remove_dir(&p)?;
    std::os::unix::fs::symlink(target, &p)?;
    Ok(())
}

impl Pair {
    /// Over folders linked into a shared directory, or, with `mail` =
    /// (SMTP port, IMAP port), over the loopback test mail servers of
    /// `scripts/mail-servers.sh` (mailboxes master@ and slave@example.test).
    pub fn new(root: &Path, mail: Option<(u16, u16)>) -> Result<Self> {
        Self::build(root, mail, ("SP2", crate::tracker::TrackerSettings::Embedded))
    }

    /// Over folders, the slave on `tracker`'s project `project`.
    pub fn with_slave_tracker(root: &Path, project: &str, tracker: crate::tracker::TrackerSettings) -> Result<Self> {
        Self::build(root, None, (project, tracker))
    }

    fn build(
        root: &Path,
        mail: Option<(u16, u16)>,
        slave_side: (&str, crate::tracker::TrackerSettings),
    ) -> Result<Self> {
        let master = Home::create(&root.join("master"))?;
        let slave = Home::create(&root.join("slave"))?;
        let account = |who: &str| {
            mail.map(|(smtp, imap)| {
                use crate::transport::mail::{Account, MailSettings, Password, Security};
                let address = format!("{who}@example.test");
                let acct = |port| Account {
                    host: "127.0.0.1".into(),
                    port,
                    security: Security::None,
                    username: address.clone(),
                    password: Password::Value(format!("pw-{who}")),
                };
                MailSettings {
                    imap: acct(imap),
                    mailbox: "INBOX".into(),
                    smtp: acct(smtp),
                    address: address.clone(),
                    partner_address: None,
                    done_folder: None,
                    quarantine_folder: "postern-quarantine".into(),
                    ca_file: None,
                    cert_sha256: None,
                }
            })
        };
        Embedded::new(&master.open_db()?).create_project("SAM2", "bench", None)?;
        Embedded::new(&slave.open_db()?).create_project("SP2", "bench", None)?;
        let settings = |h: &Home, project: &str, user: &str, who: &str, tracker| SyncSettings {
            name: "bench".into(),
            description: "benchmark".into(),
            project: project.into(),
            sync_user: user.into(),
            exchange_dir: h.default_exchange("bench"),
            mail: account(who),
            max_message_bytes: handshake::DEFAULT_MESSAGE_LIMIT,
            forward: false,
            replaces: None,
            tracker,
            start: Default::default(),
        };
        let (mkey, _) = master.own_key_or_generate()?;
        let created = handshake::create_master(
            &mut master.open_db()?,
            &mkey,
            &settings(&master, "SAM2", "sync-m", "master", crate::tracker::TrackerSettings::Embedded),
            86_400_000,
        )?;
        let file = handshake::read_handshake(&created.handshake, &created.passphrase)?;
        let (skey, _) = slave.own_key_or_generate()?;
        let (project, tracker) = slave_side;
        handshake::accept(&mut slave.open_db()?, &skey, &file, &settings(&slave, project, "sync-s", "slave", tracker))?;
        for h in [&master, &slave] {
            no_mass_limit(h)?;
        }
        let pair = Pair { root: root.to_path_buf(), master, slave };
        let (mut m, mut s) = (Peer::open(pair.master.clone())?, Peer::open(pair.slave.clone())?);
        if mail.is_some() {
            // Mail takes some milliseconds to arrive: cycle until both are active.
            wait_until(Duration::from_secs(60), Duration::from_millis(50), || {
                m.cycle()?;
                s.cycle()?;
                let active = |p: &Peer| -> Result<bool> {
                    Ok(crate::store::syncs::list(&p.conn)?.iter().all(|x| x.state == crate::store::SyncState::Active))
                };
                Ok(active(&m)? && active(&s)?)
            })?;
            return Ok(pair);
        }
        let (master, slave) = (&pair.master, &pair.slave);
        let share = root.join("share");
        for d in ["m2s", "s2m"] {
            std::fs::create_dir_all(share.join(d))?;
        }
        let (mx, sx) = (master.default_exchange("bench"), slave.default_exchange("bench"));
        link(&mx, "SEND", &share.join("m2s"))?;
        link(&mx, "RECEIVE", &share.join("s2m"))?;
        link(&sx, "SEND", &share.join("s2m"))?;
        link(&sx, "RECEIVE", &share.join("m2s"))?;
        crate::engine::run_until_quiet(&mut m, &mut s)?;
        Ok(pair)
    }

    pub fn master_db(&self) -> Result<Connection> {
        self.master.open_db()
    }

    pub fn slave_db(&self) -> Result<Connection> {
        self.slave.open_db()
    }

    /// Starts both peers as daemons.
    pub fn start(&self, extra: &[&str]) -> Result<Daemons> {
        let spawn = |h: &Home| -> Result<Child> {
            Command::new(std::env::current_exe()?)
                .arg("--home")
                .arg(h.root())
                .arg("run")
                .args(extra)
                // Warnings only (the daemons' progress lines would drown
                // the figures), unless asked for with POSTERN_LOG.
                .env("POSTERN_LOG", std::env::var("POSTERN_LOG").unwrap_or_else(|_| "warn".into()))
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .context("cannot start a peer")
        };
        let d = Daemons { master: spawn(&self.master)?, slave: spawn(&self.slave)? };
        std::thread::sleep(Duration::from_millis(200));
        Ok(d)
    }
}

pub struct Daemons {
    pub master: Child,
    pub slave: Child,
}

/// Peak resident set size of a process, in bytes (VmHWM).
pub fn peak_rss(child: &Child) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmHWM in /proc status")?;
    Ok(kb * 1024)
}

impl Drop for Daemons {
    /// A bench that fails half-way leaves no peer running.
    fn drop(&mut self) {
        for c in [&mut self.master, &mut self.slave] {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Daemons {
    /// Stops both with SIGTERM and waits.
    pub fn stop(mut self) -> Result<()> {
        for c in [&mut self.master, &mut self.slave] {
            Command::new("kill").args(["-TERM", &c.id().to_string()]).status()?;
            let st = c.wait()?;
            if !st.success() {
                bail!("a peer ended with {st}");
            }
        }
        Ok(())
    }
}

/// Polls `done` every `every` until it holds or `limit` passes.
pub fn wait_until(limit: Duration, every: Duration, mut done: impl FnMut() -> Result<bool>) -> Result<Duration> {
    let start = Instant::now();
    loop {
        if done()? {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            bail!("not done after {limit:?}");
        }
        std::thread::sleep(every);
    }
}

pub fn count(conn: &Connection, sql: &str) -> Result<u64> {
    Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
}

/// A benchmark moves thousands of issues per cycle on purpose: no
/// mass-change threshold.
pub fn no_mass_limit(home: &Home) -> Result<()> {
    let conn = home.open_db()?;
    for s in crate::store::syncs::list(&conn)? {
        crate::engine::mass::set_threshold(&conn, &s.id, 0)?;
    }
    Ok(())
}
