//! Mail transport: SMTP out (lettre), IMAP in (async-imap), each message
//! one OpenPGP/MIME mail. Mails of other syncs, or not postern's at all,
//! are left untouched in a shared mailbox; a mail is deleted (or moved to
//! a folder) only after what it carried is durably applied.
//!
//! The engine's cycle is synchronous; this transport runs its futures on
//! the daemon's runtime (from the blocking thread the cycle runs on), or
//! on a runtime of its own for `run --once`.

pub mod mime;
pub mod position;
pub mod settings;
mod smtp;
mod stream;
pub mod tls;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use anyhow::{anyhow, bail, Result};
use async_imap::Session;
use futures::TryStreamExt;

pub use position::MailboxPosition;
use position::Reading;
pub use settings::{Account, MailSettings, Password, Security};
use stream::ImapStream;

use super::{Incoming, Transport};

pub struct MailTransport {
    settings: MailSettings,
    sync_id: String,
    rt: Option<tokio::runtime::Runtime>,
    session: Mutex<Option<Session<ImapStream>>>,
    /// Transport id (UID as text) → message name, from the last listing.
    names: Mutex<HashMap<String, String>>,
    /// UIDVALIDITY of the mailbox as selected by the current session.
    selected: Mutex<Option<u32>>,
    reading: Mutex<Reading>,
    /// Opened on the first send of the cycle, then reused.
    smtp: Mutex<Option<lettre::transport::smtp::client::AsyncSmtpConnection>>,
}

impl MailTransport {
    pub fn new(settings: MailSettings, sync_id: &str) -> Result<Self> {
        let rt = match tokio::runtime::Handle::try_current() {
            Ok(_) => None,
            Err(_) => Some(tokio::runtime::Builder::new_current_thread().enable_all().build()?),
        };
        Ok(Self {
            settings,
            sync_id: sync_id.to_string(),
            rt,
            session: Mutex::new(None),
            names: Mutex::new(HashMap::new()),
            selected: Mutex::new(None),
            reading: Mutex::new(Reading::default()),
            smtp: Mutex::new(None),
        })
    }

    fn block_on<F: Future>(&self, f: F) -> F::Output {
        match &self.rt {
            Some(rt) => rt.block_on(f),
            None => tokio::runtime::Handle::current().block_on(f),
        }
    }

    async fn login(&self) -> Result<Session<ImapStream>> {
        let (session, uidvalidity, _) = login(&self.settings).await?;
        *self.selected.lock().unwrap() = uidvalidity;
        Ok(session)
    }

    /// The cycle's logged-in session (logging in the first time).
    fn take_session(&self) -> Result<Session<ImapStream>> {
        match self.session.lock().unwrap().take() {
            Some(s) => Ok(s),
            None => self.block_on(self.login()),
        }
    }

    /// Keeps the session for the rest of the cycle if the call worked;
    /// after an error the next call logs in afresh.
    fn finish<T>(&self, session: Session<ImapStream>, result: Result<T>) -> Result<T> {
        if result.is_ok() {
            *self.session.lock().unwrap() = Some(session);
        }
        result
    }

    fn uid(&self, id: &str) -> Result<u32> {
        id.parse().map_err(|_| anyhow!("'{id}' is not an IMAP UID"))
    }

    /// Checks both accounts without sending anything: IMAP connection,
    /// TLS, login and mailbox; SMTP connection, TLS, login, and that the
    /// server takes our address as sender. One line per account.
    pub fn check_accounts(&self) -> Vec<(String, Result<()>)> {
        let a = &self.settings.imap;
        let imap = self.block_on(async {
            let mut s = self.login().await?;
            let _ = s.logout().await;
            Ok(())
        });
        let s = &self.settings.smtp;
        let smtp = self.block_on(smtp::check(&self.settings));
        vec![
            (format!("IMAP {}:{} as {}, mailbox {}", a.host, a.port, a.username, self.settings.mailbox), imap),
            (format!("SMTP {}:{} as '{}'", s.host, s.port, s.username), smtp),
        ]
    }
}

/// Logs in and selects the mailbox; errors say what to fix. Returns the
/// mailbox's UIDVALIDITY and how many mails it holds too.
async fn login(settings: &MailSettings) -> Result<(Session<ImapStream>, Option<u32>, u32)> {
    let a = &settings.imap;
    let client = stream::connect(&a.host, a.port, a.security, &tls::Trust::of(settings)).await?;
    let password = a.password.resolve()?;
    let mut session = client.login(&a.username, password).await.map_err(|(e, _)| {
        anyhow!("IMAP login to {} as {} failed: wrong user name or password? ({})", a.host, a.username, words(&e))
    })?;
    let mailbox = session
        .select(&settings.mailbox)
        .await
        .map_err(|e| anyhow!("mailbox '{}' cannot be opened on {}: {}", settings.mailbox, a.host, words(&e)))?;
    Ok((session, mailbox.uid_validity, mailbox.exists))
}

/// An IMAP error in words: for NO and BAD answers, the server's own text
/// (the library shows them as `code: None, info: Some("…")`).
pub fn words(e: &async_imap::error::Error) -> String {
    use async_imap::error::Error;
    let text = |s: &str| {
        s.split_once("info: Some(\"")
            .and_then(|(_, rest)| rest.rsplit_once("\")"))
            .map_or_else(|| s.to_string(), |(t, _)| t.to_string())
    };
    match e {
        Error::No(s) => format!("the server answered: {}", text(s)),
        Error::Bad(s) => format!("the server refused the command: {}", text(s)),
        Error::Io(io) => format!("the connection failed: {io}"),
        other => other.to_string(),
    }
}

/// What the IDLE watch tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idle {
    /// New mail may be there (also once after each login, for what came
    /// while nothing watched, and about hourly as a safety net).
    NewMail,
    /// Logged in and watching again.
    Up,
    /// The mailbox cannot be watched: why (the server is down, refuses
    /// the login, its certificate changed, …). Said on each failed try.
    Down(String),
}

/// How often a server that does not answer is looked at (a TCP connect,
/// no login): it is logged in to as soon as it answers again.
const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Watches the mailbox with IMAP IDLE on one connection and tells `tell`
/// when new mail arrives, and when the watch goes down or comes back.
/// IDLE is re-issued every 25 minutes on the same connection (servers drop
/// it near 30). A server that does not answer is looked at every
/// `PROBE_EVERY` with a bare TCP connect and logged in to as soon as it
/// answers; one that answers but refuses (a login, a certificate) is tried
/// again with jittered exponential backoff (2 s to 64 s). Returns when the
/// server has no IDLE; else runs until its task is aborted.
pub async fn idle_loop(settings: MailSettings, tell: impl Fn(Idle) + Send + 'static) {
    let mut failures = 0u32;
    loop {
        match idle_session(&settings, &tell, &mut failures).await {
            Ok(()) => {
                tracing::warn!(
                    "the IMAP server {} does not offer IDLE; new mail is seen on the polling interval only",
                    settings.imap.host
                );
                tell(Idle::Up);
                return;
            }
            Err(e) => {
                failures += 1;
                // A connection dropped while the server still answers is
                // retried first without a word (servers end idle sessions).
                let reachable = answers(&settings.imap).await;
                if failures >= 2 || !reachable {
                    tell(Idle::Down(format!("{e:#}")));
                }
                if !reachable {
                    tracing::warn!(
                        "IMAP IDLE on {}: {e:#}; logging in again as soon as it answers",
                        settings.imap.host
                    );
                    while !answers(&settings.imap).await {
                        tokio::time::sleep(PROBE_EVERY).await;
                    }
                    continue;
                }
                let base = 1u64 << failures.min(6);
                let wait = std::time::Duration::from_millis(base * 1000 * (50 + rand::random::<u64>() % 50) / 100);
                tracing::warn!("IMAP IDLE on {}: {e:#}; again in {wait:?}", settings.imap.host);
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Whether the server accepts a TCP connection now (within 5 s).
async fn answers(a: &Account) -> bool {
    let connect = tokio::net::TcpStream::connect((a.host.as_str(), a.port));
    matches!(tokio::time::timeout(std::time::Duration::from_secs(5), connect).await, Ok(Ok(_)))
}

/// One IDLE connection, for as long as it lasts. `Ok(())`: the server has
/// no IDLE (RFC 2177).
async fn idle_session(settings: &MailSettings, tell: &impl Fn(Idle), failures: &mut u32) -> Result<()> {
    let wake = || tell(Idle::NewMail);
    let (mut session, _, exists) = login(settings).await?;
    if !session.capabilities().await?.has_str("IDLE") {
        let _ = session.logout().await;
        return Ok(());
    }
    *failures = 0;
    tell(Idle::Up);
    wake();
    // How many mails the mailbox holds, as this session was told: only
    // more than before is news (the server repeats a count, and our own
    // removals after reading shrink it), so one mail is one look.
    let mut count = Count(exists);
    // Answers the server sends outside IDLE (while leaving and re-entering
    // it, or before it confirms IDLE) land in this queue, not in the wait.
    let unsolicited = session.unsolicited_responses.clone();
    let mut quiet_rounds = 0u32;
    loop {
        // What arrived since the last look: NOOP collects it.
        session.noop().await?;
        if count.drain(&unsolicited) {
            wake();
        }
        let mut idle = session.idle();
        idle.init().await?;
        if count.drain(&unsolicited) {
            wake();
        }
        let response = {
            let (wait, _stop) = idle.wait_with_timeout(std::time::Duration::from_secs(25 * 60));
            wait.await?
        };
        match &response {
            async_imap::extensions::idle::IdleResponse::NewData(data) if count.parsed(data.parsed()) => wake(),
            // A look now and then (about hourly) in case an announcement
            // was ever missed: one login per look.
            async_imap::extensions::idle::IdleResponse::Timeout => {
                quiet_rounds += 1;
                if quiet_rounds.is_multiple_of(2) {
                    wake();
                }
            }
            _ => {}
        }
        session = idle.done().await?;
        if count.drain(&unsolicited) {
            wake();
        }
    }
}

/// The number of mails in the watched mailbox, kept from the server's
/// EXISTS and EXPUNGE answers.
struct Count(u32);

impl Count {
    /// Takes in one answer; whether it says a mail was added.
    fn exists(&mut self, n: u32) -> bool {
        let more = n > self.0;
        self.0 = n;
        more
    }

    fn expunged(&mut self) {
        self.0 = self.0.saturating_sub(1);
    }

    /// Empties the session's queue of unsolicited responses (it is
    /// bounded: left full, it would stall the connection); whether one
    /// announced a mail.
    fn drain(&mut self, queue: &async_channel::Receiver<async_imap::types::UnsolicitedResponse>) -> bool {
        use async_imap::types::UnsolicitedResponse;
        let mut new = false;
        while let Ok(r) = queue.try_recv() {
            match r {
                UnsolicitedResponse::Exists(n) => new |= self.exists(n),
                UnsolicitedResponse::Expunge(_) => self.expunged(),
                _ => {}
            }
        }
        new
    }

    /// An untagged response during IDLE: whether it announced a mail.
    /// Expunges and flag changes (our own deletions among them) are not.
    fn parsed(&mut self, r: &async_imap::imap_proto::Response<'_>) -> bool {
        use async_imap::imap_proto::{MailboxDatum, Response};
        match r {
            Response::MailboxData(MailboxDatum::Exists(n)) => self.exists(*n),
            Response::Expunge(_) => {
                self.expunged();
                false
            }
            _ => false,
        }
    }
}

impl Transport for MailTransport {
    fn send(&self, name: &str, data: &[u8]) -> Result<()> {
        let taken = self.smtp.lock().unwrap().take();
        self.block_on(async {
            let mut conn = match taken {
                Some(c) if !c.has_broken() => c,
                _ => smtp::connect(&self.settings).await?,
            };
            // After a failure the next send connects afresh.
            smtp::send(&mut conn, &self.settings, &self.sync_id, name, data).await?;
            *self.smtp.lock().unwrap() = Some(conn);
            Ok(())
        })
    }

    fn list(&self) -> Result<Vec<Incoming>> {
        let mut session = self.take_session()?;
        let validity = *self.selected.lock().unwrap();
        let first = match validity {
            Some(v) => self.reading.lock().unwrap().start(v),
            None => 1,
        };
        let query = format!("UID {first}:* HEADER {} \"{}\"", mime::SYNC_HEADER, self.sync_id);
        let s = &mut session;
        let result: Result<Vec<(u32, String, u64)>> = self.block_on(async {
            let mut uids: Vec<u32> = s.uid_search(&query).await?.into_iter().collect();
            self.reading.lock().unwrap().listed(&mut uids);
            if uids.is_empty() {
                return Ok(Vec::new());
            }
            let set = uids.iter().map(|u| u.to_string()).collect::<Vec<_>>().join(",");
            let fetches: Vec<_> = s
                .uid_fetch(&set, format!("(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS ({})])", mime::NAME_HEADER))
                .await?
                .try_collect()
                .await?;
            Ok(fetches
                .iter()
                .filter_map(|f| {
                    let name = mime::header(f.header().or(f.body())?, mime::NAME_HEADER)?;
                    Some((f.uid?, name, f.size.unwrap_or(0) as u64))
                })
                .collect())
        });
        let found = self.finish(session, result)?;
        let mut names = self.names.lock().unwrap();
        names.clear();
        let mut out: Vec<Incoming> = found
            .into_iter()
            .map(|(uid, name, size)| {
                names.insert(uid.to_string(), name.clone());
                Incoming { id: uid.to_string(), name, size }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn read(&self, id: &str, limit: u64) -> Result<Vec<u8>> {
        let uid = self.uid(id)?;
        let mut session = self.take_session()?;
        let s = &mut session;
        let result: Result<Vec<u8>> = self.block_on(async {
            let fetches: Vec<_> = s.uid_fetch(uid.to_string(), "BODY.PEEK[]").await?.try_collect().await?;
            let f = fetches.first().ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
            Ok(f.body().unwrap_or_default().to_vec())
        });
        let mail = self.finish(session, result)?;
        if mail.len() as u64 > limit * 2 {
            bail!("mail {id} is {} bytes, over the limit", mail.len());
        }
        // Not an OpenPGP/MIME mail: hand over the raw mail, which the
        // engine then refuses and quarantines with a reason.
        Ok(mime::armored_part(&mail).unwrap_or(mail))
    }

    fn remove(&self, id: &str) -> Result<()> {
        let uid = self.uid(id)?.to_string();
        let done = self.settings.done_folder.clone();
        let mut session = self.take_session()?;
        let s = &mut session;
        let result: Result<()> = self.block_on(async {
            match done {
                Some(folder) => {
                    let _ = s.create(&folder).await;
                    s.uid_mv(&uid, &folder).await?;
                }
                None => {
                    let _: Vec<_> = s.uid_store(&uid, "+FLAGS.SILENT (\\Deleted)").await?.try_collect().await?;
                    let _: Vec<_> = s.uid_expunge(&uid).await?.try_collect().await?;
                }
            }
            Ok(())
        });
        self.finish(session, result)?;
        self.reading.lock().unwrap().done(uid.parse()?);
        Ok(())
    }

    fn quarantine(&self, id: &str, _reason: &str) -> Result<()> {
        let uid = self.uid(id)?.to_string();
        let folder = self.settings.quarantine_folder.clone();
        let mut session = self.take_session()?;
        let s = &mut session;
        let result: Result<()> = self.block_on(async {
            let _ = s.create(&folder).await;
            s.uid_mv(&uid, &folder).await?;
            Ok(())
        });
        self.finish(session, result)?;
        self.reading.lock().unwrap().done(uid.parse()?);
        Ok(())
    }

    fn position(&self) -> Option<MailboxPosition> {
        let mut r = self.reading.lock().unwrap();
        let uidvalidity = r.uidvalidity?;
        Some(MailboxPosition { mailbox: self.settings.mailbox.clone(), uidvalidity, last_uid: r.settle() })
    }

    fn mime_entity(&self) -> bool {
        true
    }

    fn resume_from(&self, p: &MailboxPosition) {
        if p.mailbox == self.settings.mailbox {
            self.reading.lock().unwrap().resume(p);
        }
    }
}

impl Drop for MailTransport {
    fn drop(&mut self) {
        if let Some(mut s) = self.session.lock().unwrap().take() {
            let _ = self.block_on(s.logout());
        }
    }
}
