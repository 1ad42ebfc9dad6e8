//! `postern errors …`: issues whose incoming changes are blocked, and
//! what the admin does about them.

use anyhow::{bail, Result};
use clap::Subcommand;

use super::{plural, print_json};
use crate::engine::admin::{self, retry};
use crate::engine::handshake::format_ms;
use crate::home::Home;
use crate::store::{problems, skipped, syncs};

#[derive(Debug, Subcommand)]
pub enum ErrorsCmd {
    /// List issues whose incoming changes are blocked: what failed, when
    /// first and last, how often tried, how many changes wait behind it.
    List {
        /// The sync (default: the home's only one).
        sync: Option<String>,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Apply the blocked changes of one partner issue again, or of all.
    Retry {
        sync: String,
        /// The partner's issue key (as `errors list` shows it).
        #[arg(conflicts_with = "all")]
        remote_issue: Option<String>,
        /// Retry every issue with an error, oldest first.
        #[arg(long)]
        all: bool,
    },
    /// Drop the blocked changes of one partner issue.
    Ignore { sync: String, remote_issue: String },
    /// Ignore the partner's changes to a paired issue from now on
    /// (`incomingChangesIgnored`); --undo takes them again.
    IgnoreIssue {
        sync: String,
        /// The issue, by its local or the partner's key.
        issue: String,
        /// Take the partner's changes to this issue again (from its next change).
        #[arg(long)]
        undo: bool,
    },
}

pub fn errors(home: &Home, cmd: ErrorsCmd) -> Result<()> {
    let mut conn = home.open_db()?;
    match cmd {
        ErrorsCmd::List { sync, json } => {
            let s = syncs::find_or_only(&conn, sync.as_deref())?;
            let errs = problems::errors(&conn, &s.id)?;
            let skipped = skipped::list(&conn, &s.id)?;
            if json {
                // The attachments that did not cross are in `status --json`.
                return print_json(&errs);
            }
            super::say_if_empty(errs.len() + skipped.len(), &format!("no errors in sync '{}'", s.name));
            for a in &skipped {
                println!("[{}] {} (blocks nothing; since {})", a.issue, a.reason, format_ms(a.at));
            }
            for e in errs {
                println!(
                    "[{}] {} (local {}, message {}, {}; first failed {}, last {}, {})",
                    e.remote_issue,
                    e.reason,
                    e.local_key.as_deref().unwrap_or("-"),
                    e.seq,
                    match e.blocks {
                        true => format!("{} waiting", plural(e.parked, "change", "changes")),
                        false => format!("{} kept for a retry, blocks nothing", plural(e.parked, "change", "changes")),
                    },
                    format_ms(e.first_at),
                    format_ms(e.at),
                    match e.tries {
                        1 => "tried once".to_string(),
                        n => format!("tried {n} times"),
                    }
                );
            }
        }
        ErrorsCmd::Retry { sync, remote_issue: Some(remote_issue), .. } => {
            let s = syncs::find(&conn, &sync)?;
            match retry(&mut conn, &s, &remote_issue)? {
                Ok(line) => println!("{line}"),
                Err(line) => bail!("{line}"),
            }
        }
        ErrorsCmd::Retry { remote_issue: None, all: false, .. } => {
            bail!("name the partner's issue to retry (as `postern errors list` shows it), or give --all")
        }
        ErrorsCmd::Retry { sync, remote_issue: None, all: true } => {
            let s = syncs::find(&conn, &sync)?;
            let errs = problems::errors(&conn, &s.id)?;
            super::say_if_empty(errs.len(), &format!("no errors in sync '{}'", s.name));
            let mut failing = 0;
            for e in &errs {
                match retry(&mut conn, &s, &e.remote_issue)? {
                    Ok(line) => println!("{line}"),
                    Err(line) => {
                        failing += 1;
                        println!("{line}");
                    }
                }
            }
            if failing > 0 {
                bail!("{failing} of {} still failing", plural(errs.len() as u64, "issue", "issues"));
            }
        }
        ErrorsCmd::Ignore { sync, remote_issue } => {
            println!("{}", admin::drop_errors(&conn, &syncs::find(&conn, &sync)?, &remote_issue)?);
        }
        ErrorsCmd::IgnoreIssue { sync, issue, undo } => {
            println!("{}", admin::ignore_issue(&conn, &syncs::find(&conn, &sync)?, &issue, undo)?);
        }
    }
    Ok(())
}
