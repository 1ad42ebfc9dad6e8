//! `postern sync export|pair|merge`: synchronized-issue records in
//! Backbone's download format (see `engine::records`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::cli::prompt::write_private;
use crate::engine::records::{self, Records};
use crate::home::Home;
use crate::store::syncs;

#[derive(Debug, Subcommand)]
pub enum RecordsCmd {
    /// Download synchronized issues: every pair with its comment and
    /// attachment pairs, as `firstConnector` JSON (Backbone's format).
    Export {
        sync: String,
        /// Write to this new file (owner-only) instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Pair existing issues from a download (`firstConnector`: this side's
    /// records; `secondConnector`: the partner's, optional) without
    /// creating or changing any issue; reports what was paired and skipped.
    Pair {
        sync: String,
        /// The JSON file (a download, or `sync merge` of both sides').
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Forget the pairing of one issue (by its local or the partner's key),
    /// with its comment and attachment pairs; no issue is changed. Its
    /// next change crosses as a new issue: unpair on both sides.
    Unpair { sync: String, issue: String },
    /// Merge two downloads for the side that uploads: its own as
    /// `firstConnector`, the partner's as `secondConnector`.
    Merge {
        /// The download of the side that will pair (upload) the result.
        ours: PathBuf,
        /// The partner's download.
        theirs: PathBuf,
        /// Write to this new file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

fn read(path: &PathBuf) -> Result<Records> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    records::parse(&text, &path.display().to_string())
}

fn emit(records: &Records, out: Option<PathBuf>) -> Result<()> {
    let text = serde_json::to_string_pretty(records)? + "\n";
    match out {
        Some(path) => {
            write_private(&path, &text)?;
            eprintln!("Wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// Merges two downloads: files only, no home needed.
pub fn merge(ours: &PathBuf, theirs: &PathBuf, out: Option<PathBuf>) -> Result<()> {
    let merged = records::merge(read(ours)?, read(theirs)?)?;
    let (a, b) = (merged.first_connector.len(), merged.second_connector.as_ref().map_or(0, Vec::len));
    emit(&merged, out)?;
    let plural = |n: usize| crate::cli::plural(n as u64, "record", "records");
    eprintln!("Merged {} of {} with {} of {}", plural(a), ours.display(), plural(b), theirs.display());
    Ok(())
}

pub fn run(home: &Home, cmd: RecordsCmd) -> Result<()> {
    match cmd {
        RecordsCmd::Export { sync, out } => {
            let conn = home.open_db()?;
            let s = syncs::find(&conn, &sync)?;
            emit(&records::export(&conn, &s)?, out)
        }
        RecordsCmd::Merge { ours, theirs, out } => merge(&ours, &theirs, out),
        RecordsCmd::Unpair { sync, issue } => {
            let mut conn = home.open_db()?;
            let s = syncs::find(&conn, &sync)?;
            let (local, remote) = records::unpair(&mut conn, &s, &issue)?;
            println!(
                "Sync '{}': {local} is no longer paired with the partner's {remote}. Unpair {remote} on the \
                 partner's side too: then its next change crosses as a new issue (unpaired on this side only, the \
                 partner pairs it again with {remote})",
                s.name
            );
            Ok(())
        }
        RecordsCmd::Pair { sync, file, json } => {
            let records = read(&file)?;
            let mut conn = home.open_db()?;
            let s = syncs::find(&conn, &sync)?;
            let report = records::pair(&mut conn, &s, records)?;
            if json {
                return crate::cli::print_json(&report);
            }
            println!(
                "Sync '{}': paired {}, skipped {}; no issue was created or changed",
                s.name,
                crate::cli::plural(report.paired.len() as u64, "issue", "issues"),
                report.skipped.len()
            );
            for p in &report.paired {
                println!(
                    "  paired   {} <-> {} ({}, {})",
                    p.local,
                    p.remote,
                    crate::cli::plural(p.comments as u64, "comment", "comments"),
                    crate::cli::plural(p.attachments as u64, "attachment", "attachments")
                );
                for i in &p.items_skipped {
                    println!("           left out: {i}");
                }
            }
            for k in &report.skipped {
                println!("  skipped  {}: {}", k.local, k.reason);
            }
            if !report.partner_keys_checked && !report.paired.is_empty() {
                println!(
                    "The partner's keys were taken on trust: pair with a merged file (`sync merge`, the partner's \
                     download second) to have them checked; `sync unpair` undoes a wrong pair."
                );
            }
            Ok(())
        }
    }
}
