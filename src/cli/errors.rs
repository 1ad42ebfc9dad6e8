//! `postern errors …`: issues whose incoming changes are blocked, and
//! what the admin does about them.

use anyhow::{bail, Result};
use clap::Subcommand;

use super::print_json;
use crate::engine::apply::retry_parked;
use crate::home::Home;
use crate::store::{problems, syncs};

#[derive(Debug, Subcommand)]
pub enum ErrorsCmd {
    /// List issues whose incoming changes are blocked.
    List {
        sync: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Apply the blocked changes of one partner issue again.
    Retry { sync: String, remote_issue: String },
    /// Drop the blocked changes of one partner issue.
    Ignore { sync: String, remote_issue: String },
}

pub fn errors(home: &Home, cmd: ErrorsCmd) -> Result<()> {
    let mut conn = home.open_db()?;
    match cmd {
        ErrorsCmd::List { sync, json } => {
            let s = syncs::find(&conn, &sync)?;
            let errs = problems::errors(&conn, &s.id)?;
            if json {
                return print_json(&errs);
            }
            super::say_if_empty(errs.len(), &format!("no errors in sync '{}'", s.name));
            for e in errs {
                println!(
                    "[{}] {} (local {}, message {}, {} change(s) waiting)",
                    e.remote_issue,
                    e.reason,
                    e.local_key.as_deref().unwrap_or("-"),
                    e.seq,
                    e.parked
                );
            }
        }
        ErrorsCmd::Retry { sync, remote_issue } => {
            let s = syncs::find(&conn, &sync)?;
            if !problems::is_blocked(&conn, &s.id, &remote_issue)? {
                bail!("issue {remote_issue} of sync '{}' has no error", s.name);
            }
            let (applied, left) = retry_parked(&mut conn, &s, &remote_issue)?;
            if left > 0 {
                let reason = problems::errors(&conn, &s.id)?
                    .into_iter()
                    .find(|e| e.remote_issue == remote_issue)
                    .map(|e| e.reason)
                    .unwrap_or_default();
                bail!("[{remote_issue}] still failing after {applied} change(s) applied: {reason}");
            }
            println!("[{remote_issue}] {applied} change(s) applied");
        }
        ErrorsCmd::Ignore { sync, remote_issue } => {
            let s = syncs::find(&conn, &sync)?;
            if !problems::is_blocked(&conn, &s.id, &remote_issue)? {
                bail!("issue {remote_issue} of sync '{}' has no error", s.name);
            }
            let n = problems::discard(&conn, &s.id, &remote_issue)?;
            println!("[{remote_issue}] {n} change(s) dropped");
        }
    }
    Ok(())
}
