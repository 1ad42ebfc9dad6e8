//! Transports: how sealed messages cross to the partner.
//!
//! A transport only moves opaque, already sealed bytes under a name; it
//! never decides what is applied. `file` is the SEND/RECEIVE folder pair.

pub mod file;

pub use file::FileTransport;

/// A message waiting in the receive side of a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The transport's handle (the file name for folders).
    pub id: String,
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
}
