//! One sync's cycle on a thread of its own: a sync whose tracker hangs,
//! throttles or transfers a large file delays only itself, and a cycle
//! that panics is caught there: that sync shows as failing with where it
//! panicked, the others go on.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::sync::mpsc::UnboundedSender;

use super::events::{Event, Finished};
use super::schedule::Due;
use crate::engine::{CycleReport, Peer, Work};
use crate::store;
use crate::transport::{FileTransport, Transport};

/// What the daemon knows before the cycle: why it is due, the exchange
/// folder to look into first when only the interval came round, and
/// whether a remote tracker's poll is skipped this round.
pub struct Job {
    pub id: String,
    pub why: Due,
    pub poll_folder: Option<PathBuf>,
    pub skip_tracker: bool,
}

thread_local! {
    static PANICKED_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Notes where a panic happened, for the thread that catches it; the
/// default hook still prints it.
pub fn note_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let what = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            PANICKED_AT.with(|p| *p.borrow_mut() = Some(format!("{what}{at}")));
            default(info);
        }));
    });
}

/// Runs `job` with `peer` on a blocking thread; the outcome comes back as
/// [`Event::Ran`].
pub fn spawn(mut peer: Peer, job: Job, done: UnboundedSender<Event>) {
    tokio::task::spawn_blocking(move || {
        let id = job.id.clone();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&mut peer, &job)));
        let finished = match caught {
            Ok((work, result)) => {
                let timer = if matches!(result, Ok(None)) { None } else { timer(&peer, &id) };
                Finished { id, work, result, timer, panic: None, peer: Some(peer) }
            }
            Err(_) => {
                let at = PANICKED_AT.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "a panic".into());
                let error = anyhow::anyhow!("the cycle panicked: {at}");
                Finished {
                    id,
                    work: Work { receive: true },
                    result: Err(error),
                    timer: None,
                    panic: Some(at),
                    peer: None,
                }
            }
        };
        let _ = done.send(Event::Ran(Box::new(finished)));
    });
}

fn run(peer: &mut Peer, job: &Job) -> (Work, Result<Option<CycleReport>>) {
    let work = match job.why {
        Due::Asked(work) => work,
        Due::Poll if job.skip_tracker => return (Work::default(), Ok(None)),
        Due::Poll => match &job.poll_folder {
            // Only the interval: a folder listing first, no cycle when it
            // is empty (a broken share runs, to be reported).
            Some(dir) if FileTransport::new(dir).list().is_ok_and(|l| l.is_empty()) => {
                return (Work::default(), Ok(None));
            }
            _ => Work { receive: true },
        },
    };
    if std::env::var_os(PANIC_ENV).is_some_and(|v| v == job.id.as_str()) {
        panic!("{PANIC_ENV} names this sync");
    }
    (work, peer.cycle_one(&job.id, work))
}

/// For tests: a sync whose cycles panic (its id), to show one panic stays
/// with its sync.
pub const PANIC_ENV: &str = "POSTERN_TEST_PANIC_SYNC";

/// When a sync's own timer is next due, as an instant.
fn timer(peer: &Peer, id: &str) -> Option<Instant> {
    let at = peer.next_due(id).ok()??;
    let wait = (at - store::now_ms()).max(0) as u64;
    Some(Instant::now() + Duration::from_millis(wait))
}
