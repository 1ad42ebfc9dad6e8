//! What wakes the daemon: file-system events (a message file in a RECEIVE
//! folder, a write to the database), IMAP IDLE, signals; and how it tells
//! another process's commit from its own; what a cycle ended with.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;

use crate::engine::{CycleReport, Peer, Work};

/// What woke the daemon.
#[derive(Debug)]
pub enum Event {
    /// Something wrote to the database (maybe another process).
    Database,
    /// A file appeared in this RECEIVE folder.
    Folder(PathBuf),
    /// A RECEIVE folder itself was created, removed, renamed or relinked.
    Receive,
    /// IMAP IDLE saw new mail for this sync.
    Mail(String),
    /// The IMAP IDLE connection of this sync came up (`None`) or cannot
    /// be made (why).
    MailState(String, Option<String>),
    /// A sync's cycle ended on its worker thread.
    Ran(Box<Finished>),
    /// A webhook of this sync's tracker came (`run --http`): it reads
    /// its tracker now.
    Hook(String),
    /// The tracker of this sync, which did not answer, answers again
    /// (`true`), or answered at once (`false`: it is in trouble, not away).
    Probed(String, bool),
}

/// What a file-system event can mean: a message file arriving in a
/// RECEIVE folder, a RECEIVE folder replaced, or a write to the database.
/// Reads are nothing.
pub fn event_of(event: &notify::Event) -> Option<Event> {
    use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
    let removed = matches!(event.kind, EventKind::Remove(_));
    if !removed
        && !matches!(
            event.kind,
            EventKind::Create(_)
                | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any)
                // A command that wrote closes the database when it ends.
                | EventKind::Access(AccessKind::Close(AccessMode::Write))
        )
    {
        return None;
    }
    event.paths.iter().find_map(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "RECEIVE" && !matches!(event.kind, EventKind::Access(_) | EventKind::Modify(ModifyKind::Data(_))) {
            Some(Event::Receive)
        } else if removed {
            None
        } else if name == "postern.db-wal" || name == "postern.db" {
            Some(Event::Database)
        } else if name.starts_with("postern-") {
            p.parent().map(|d| Event::Folder(d.to_path_buf()))
        } else {
            None
        }
    })
}

/// Where webhooks reach the running daemon (the console shares its
/// process).
static WAKER: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedSender<Event>>> = std::sync::Mutex::new(None);

/// Sends this process's webhooks to `tx` (`None`: nowhere).
pub fn set_waker(tx: Option<tokio::sync::mpsc::UnboundedSender<Event>>) {
    *WAKER.lock().unwrap_or_else(|e| e.into_inner()) = tx;
}

/// Wakes sync `id` for a webhook: it reads its tracker at once. False
/// when no daemon runs in this process.
pub fn wake(id: &str) -> bool {
    let tx = WAKER.lock().unwrap_or_else(|e| e.into_inner());
    tx.as_ref().is_some_and(|tx| tx.send(Event::Hook(id.to_string())).is_ok())
}

/// Registers the handlers now, so a signal arriving early is not lost.
pub fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}
/// The database's data_version: it changes when another connection
/// commits, never for this connection's own writes.
pub fn data_version(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "data_version", |r| r.get(0))?)
}

pub fn canonical(dir: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// A cycle that ended: what it came to, and its peer to use again (none
/// after a panic: its connection may be mid-transaction).
pub struct Finished {
    pub id: String,
    pub work: Work,
    /// `Ok(None)`: nothing ran (a poll that found nothing).
    pub result: Result<Option<CycleReport>>,
    /// When the sync's own timer is next due.
    pub timer: Option<Instant>,
    /// Where the cycle panicked, if it did.
    pub panic: Option<String>,
    pub peer: Option<Peer>,
}

impl std::fmt::Debug for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finished").field("id", &self.id).field("panic", &self.panic).finish()
    }
}
