//! The long-running peer: cycles whenever RECEIVE or the database changes
//! (notify), and on an interval anyway, because inotify does not see files
//! another host writes on an NFS/SMB share. Stops cleanly on Ctrl-C or
//! SIGTERM, finishing the cycle under way.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::engine::{CycleReport, Peer};
use crate::home::Home;
use crate::store;

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Full scan interval.
    pub interval: Duration,
    /// Wake on file-system events (off: polling only).
    pub watch: bool,
}

/// Runs one cycle on a blocking thread.
async fn cycle(peer: Peer) -> (Peer, Result<CycleReport>) {
    tokio::task::spawn_blocking(move || {
        let mut peer = peer;
        let r = peer.cycle();
        (peer, r)
    })
    .await
    .expect("cycle thread panicked")
}

/// Runs the peer until a signal arrives.
pub async fn run(home: Home, opts: RunOptions) -> Result<()> {
    let mut peer = Peer::open(home.clone())?;
    let (wake_tx, mut wake_rx) = mpsc::channel::<()>(1);
    let wake_tx_idle = wake_tx.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if res.is_ok_and(|e| is_wake_up(&e)) {
            let _ = wake_tx.try_send(());
        }
    })?;
    let mut watched: Vec<PathBuf> = Vec::new();
    // (sync id, its mail settings as JSON, the IDLE task)
    let mut idlers: Vec<(String, String, tokio::task::JoinHandle<()>)> = Vec::new();
    let idle_wake = wake_tx_idle;
    if opts.watch {
        watcher.watch(home.root(), RecursiveMode::NonRecursive)?;
    }
    let mut shutdown = Box::pin(shutdown_signal()?);
    let mut failures = 0u32;
    tracing::info!(home = %home.root().display(), "postern running");
    loop {
        for s in store::syncs::list(&peer.conn)? {
            if let (true, Some(mail)) = (opts.watch, &s.mail) {
                // A new email sync, or its settings changed (`sync edit`).
                if !idlers.iter().any(|(id, m, _)| id == &s.id && m == mail) {
                    if let Some(i) = idlers.iter().position(|(id, _, _)| id == &s.id) {
                        idlers.remove(i).2.abort();
                    }
                    let settings: crate::transport::mail::MailSettings = serde_json::from_str(mail)?;
                    let tx = idle_wake.clone();
                    let task = tokio::spawn(crate::transport::mail::idle_loop(settings, move || {
                        let _ = tx.try_send(());
                    }));
                    idlers.push((s.id.clone(), mail.clone(), task));
                }
                continue;
            }
            let dir = PathBuf::from(&s.exchange_dir).join("RECEIVE");
            if opts.watch && !watched.contains(&dir) && watcher.watch(&dir, RecursiveMode::NonRecursive).is_ok() {
                watched.push(dir);
            }
        }
        let (p, result) = cycle(peer).await;
        peer = p;
        tracing::debug!(?result, "cycle finished");
        let pause = match result {
            Ok(r) if !r.is_idle() => {
                failures = 0;
                Duration::ZERO
            }
            Ok(_) => {
                failures = 0;
                opts.interval
            }
            Err(e) => {
                failures += 1;
                let backoff = backoff(failures, opts.interval);
                tracing::error!("cycle failed: {e:#}; retrying in {backoff:?}");
                backoff
            }
        };
        if pause.is_zero() {
            // More may be waiting: go again, but let a signal through.
            if futures_ready(&mut shutdown).await {
                break;
            }
            continue;
        }
        tokio::select! {
            _ = wake_rx.recv() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = &mut shutdown => break,
        }
    }
    for (_, _, task) in idlers {
        task.abort();
    }
    tracing::info!("postern stopped");
    Ok(())
}

async fn futures_ready(shutdown: &mut std::pin::Pin<Box<impl std::future::Future<Output = ()>>>) -> bool {
    tokio::select! {
        biased;
        _ = shutdown => true,
        _ = tokio::task::yield_now() => false,
    }
}

/// Whether an event can mean work: a message file arriving in RECEIVE, or
/// a write to the database (a tracker change). Reads are not (they would
/// make every cycle wake the next).
fn is_wake_up(event: &notify::Event) -> bool {
    use notify::event::{EventKind, ModifyKind};
    let kind = matches!(
        event.kind,
        EventKind::Create(_) | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any)
    );
    kind && event.paths.iter().any(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.starts_with("postern-") || name == "postern.db-wal" || name == "postern.db"
    })
}

/// Jittered exponential backoff, from the interval up to 16 times it.
fn backoff(failures: u32, interval: Duration) -> Duration {
    use rand::Rng;
    let base = interval.saturating_mul(1 << failures.min(4));
    base.mul_f64(rand::thread_rng().gen_range(0.5..1.0))
}

/// Registers the handlers now, so a signal arriving early is not lost.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
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
