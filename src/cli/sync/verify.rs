//! `postern sync verify`: compare both trackers of a sync through digests
//! and print what differs (see [`crate::engine::verify`]).

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use clap::Args;

use crate::engine::{verify, Peer, Work};
use crate::home::Home;
use crate::store::syncs;
use crate::store::verify::{self as store, VerifyReport};

/// Compare this side's issues with the partner's, through digests (the
/// issues themselves do not cross), and report each issue that differs:
/// `[KEY] differs: status (here Done, partner In Progress); 1 comment
/// missing here`. Exits with status 2 when something differs.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    sync: String,
    /// Repair what differs: per field, the side that changed it last sends
    /// its value; comments, worklogs and attachments a side lacks are sent
    /// to it. Conflicts are recorded as for any change.
    #[arg(long)]
    repair: bool,
    /// Print the last finished verify's report; start none.
    #[arg(long, conflicts_with = "repair")]
    last: bool,
    /// How long to wait for the partner's answer, in seconds (0: send the
    /// verify and return). Without a daemon on this home, this command
    /// sends and reads meanwhile.
    #[arg(long, default_value_t = 120.0, value_name = "SECS")]
    wait: f64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

impl VerifyArgs {
    pub fn execute(self, home: &Home) -> Result<()> {
        let mut conn = home.open_db()?;
        let s = syncs::find(&conn, &self.sync)?;
        if self.last {
            let Some(report) = store::last(&conn, &s.id)?.and_then(|r| r.report) else {
                bail!("sync '{}' was never verified: run `postern sync verify {}`", s.name, s.name);
            };
            return self.print(&report);
        }
        if !self.wait.is_finite() || self.wait < 0.0 {
            bail!("--wait {} is not a number of seconds", self.wait);
        }
        let round = verify::start(&mut conn, &s, self.repair)?;
        if self.wait == 0.0 {
            println!(
                "Verify of sync '{}' sent to the partner; `postern sync verify {} --last` shows the report once it \
                 answered",
                s.name, s.name
            );
            return Ok(());
        }
        if !self.json {
            eprintln!(
                "Verify of sync '{}' sent to the partner; waiting up to {:.0}s for its answer…",
                s.name, self.wait
            );
        }
        // Without a daemon serving the home, this command is the peer.
        let mut peer = match home.lock_within(Duration::ZERO) {
            Ok(lock) => {
                drop(lock);
                Some(Peer::open(home.clone())?)
            }
            Err(_) => None,
        };
        let deadline = Instant::now() + Duration::from_secs_f64(self.wait);
        loop {
            if let Some(report) = store::get(&conn, &s.id, &round)?.and_then(|r| r.report) {
                return self.print(&report);
            }
            if Instant::now() >= deadline {
                bail!(
                    "the partner has not answered the verify within {:.0}s (is its daemon running?); the report \
                     shows in `postern status` and `postern sync verify {} --last` once it has",
                    self.wait,
                    s.name
                );
            }
            if let Some(p) = peer.as_mut() {
                p.cycle_one(&s.id, Work { receive: true })?;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn print(&self, report: &VerifyReport) -> Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(report)?);
        } else {
            print!("{}", report.text());
        }
        if !report.differing.is_empty() {
            std::process::exit(2);
        }
        Ok(())
    }
}
