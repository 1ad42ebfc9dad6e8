//! `postern run`: the daemon, or one cycle with `--once`.

use std::time::Duration;

use anyhow::Result;
use clap::Args;

use crate::daemon::{self, RunOptions};
use crate::engine::Peer;
use crate::home::Home;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// One cycle over every sync, then exit (for cron and tests).
    #[arg(long)]
    pub once: bool,
    /// Seconds between polls of what nothing announces: folders on network
    /// shares, mailboxes without IMAP IDLE (new files, mail and tracker
    /// changes wake their sync at once).
    #[arg(long, default_value_t = 2.0)]
    interval: f64,
    /// Watch nothing (no inotify, no IMAP IDLE): every sync runs a full
    /// cycle on the interval.
    #[arg(long)]
    no_watch: bool,
    /// Seconds between asking a remote tracker (Redmine) for changes.
    #[arg(long, default_value_t = 10.0)]
    tracker_interval: f64,
    #[command(flatten)]
    http: super::run_http::HttpArgs,
}

pub fn run(home: Home, args: RunArgs) -> Result<()> {
    if args.once {
        if args.http.http.is_some() {
            anyhow::bail!("--http serves the console from the daemon: not with --once");
        }
        let report = Peer::open(home)?.cycle()?;
        eprintln!(
            "cycle: {} enqueued, {} sent, {} applied, {} held, {} duplicates, {} quarantined",
            report.enqueued, report.sent, report.applied, report.held, report.duplicates, report.quarantined
        );
        return Ok(());
    }
    if args.interval.is_nan() || args.interval <= 0.0 {
        anyhow::bail!("--interval must be positive");
    }
    if args.tracker_interval.is_nan() || args.tracker_interval <= 0.0 {
        anyhow::bail!("--tracker-interval must be positive");
    }
    let console = super::run_http::options(&args.http)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let result = rt.block_on(async {
        if let Some(opts) = console {
            let (admin, addr) = (opts.admin, crate::console::start(home.clone(), opts).await?);
            tracing::info!(
                "console on http://{addr}/ ({}), metrics on /metrics, health on /health",
                if admin { "actions allowed with the token" } else { "read-only" }
            );
        }
        daemon::run(
            home,
            RunOptions {
                interval: Duration::from_secs_f64(args.interval),
                watch: !args.no_watch,
                tracker_interval: Duration::from_secs_f64(args.tracker_interval),
            },
        )
        .await
    });
    // A cycle left running at the stop (a tracker that hangs) is not
    // waited for: cutting it is as safe as a crash.
    rt.shutdown_background();
    result
}
