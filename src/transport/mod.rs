//! Transports: how sealed messages cross to the partner.
//!
//! A transport only moves opaque, already sealed bytes under a name; it
//! never decides what is applied. `file` is the SEND/RECEIVE folder pair.

pub mod file;
pub mod mail;

pub use file::FileTransport;
pub use mail::{MailTransport, MailboxPosition};

use anyhow::Context;

use crate::store::SyncRecord;

/// The transport of a sync, chosen by its protocol.
pub enum AnyTransport {
    File(FileTransport),
    Mail(Box<MailTransport>),
}

impl AnyTransport {
    pub fn for_sync(sync: &SyncRecord) -> anyhow::Result<Self> {
        match sync.protocol.as_str() {
            "email" => {
                let settings = serde_json::from_str(sync.mail.as_deref().context("email sync without mail settings")?)
                    .context("the sync's mail settings are damaged")?;
                Ok(AnyTransport::Mail(Box::new(MailTransport::new(settings, &sync.id)?)))
            }
            _ => Ok(AnyTransport::File(FileTransport::new(std::path::Path::new(&sync.exchange_dir)))),
        }
    }

    fn inner(&self) -> &dyn Transport {
        match self {
            AnyTransport::File(t) => t,
            AnyTransport::Mail(t) => t.as_ref(),
        }
    }
}

impl Transport for AnyTransport {
    fn send(&self, name: &str, data: &[u8]) -> anyhow::Result<()> {
        self.inner().send(name, data)
    }
    fn list(&self) -> anyhow::Result<Vec<Incoming>> {
        self.inner().list()
    }
    fn read(&self, id: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
        self.inner().read(id, limit)
    }
    fn remove(&self, id: &str) -> anyhow::Result<()> {
        self.inner().remove(id)
    }
    fn quarantine(&self, id: &str, reason: &str) -> anyhow::Result<()> {
        self.inner().quarantine(id, reason)
    }
    fn position(&self) -> Option<MailboxPosition> {
        self.inner().position()
    }
    fn resume_from(&self, p: &MailboxPosition) {
        self.inner().resume_from(p)
    }
    fn mime_entity(&self) -> bool {
        self.inner().mime_entity()
    }
}

/// A message waiting in the receive side of a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The transport's handle (the file name for folders, a UID for IMAP).
    pub id: String,
    /// The message's name (see `protocol::names`).
    pub name: String,
    pub size: u64,
}

pub trait Transport {
    /// Delivers `data` under `name`; the partner must never see it partly.
    fn send(&self, name: &str, data: &[u8]) -> anyhow::Result<()>;
    /// What is waiting, oldest name first. Names that are not ours are left.
    fn list(&self) -> anyhow::Result<Vec<Incoming>>;
    fn read(&self, id: &str, limit: u64) -> anyhow::Result<Vec<u8>>;
    /// Removes a message once what it carried is durably stored.
    fn remove(&self, id: &str) -> anyhow::Result<()>;
    /// Moves a message aside with a reason, never to be applied.
    fn quarantine(&self, id: &str, reason: &str) -> anyhow::Result<()>;
    /// Where reading stands, for transports that keep a position (IMAP),
    /// after the messages listed were dealt with.
    fn position(&self) -> Option<MailboxPosition> {
        None
    }
    /// Continues from a position stored earlier.
    fn resume_from(&self, _p: &MailboxPosition) {}
    /// Whether the sealed plaintext is a MIME entity (mail, for a mail
    /// client) rather than bare JSON (see `protocol::entity`).
    fn mime_entity(&self) -> bool {
        false
    }
}
