//! `postern sync pause|resume|delete`: a sync's life cycle.

use anyhow::{bail, Result};
use clap::Subcommand;

use crate::home::Home;
use crate::store::{lifecycle, syncs};

#[derive(Debug, Subcommand)]
pub enum LifeCmd {
    /// Stop a sync for now: nothing is collected, sent or applied (changes
    /// wait in the tracker and the partner's messages in the exchange)
    /// until `sync resume`. A running daemon stops it at once.
    Pause { sync: String },
    /// Go on with a paused sync, from where it stopped.
    Resume { sync: String },
    /// Let what is held back for being over the mass-change threshold go
    /// through, once (the held side's next cycle sends or applies it).
    AllowMassChange { sync: String },
    /// What the next cycle would send, issue by issue, without sending or
    /// moving anything (a dry run).
    Pending {
        sync: String,
        /// Print JSON (the changes) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove a sync: its pairings, queues, errors and positions, and its
    /// name. Issues in the tracker are never touched. Refused while
    /// messages await the partner's acknowledgement, unless --force.
    Delete {
        sync: String,
        /// Delete even though messages still await acknowledgement or
        /// wait for a gap (they are then lost for this sync).
        #[arg(long)]
        force: bool,
    },
}

pub fn life(home: &Home, cmd: LifeCmd) -> Result<()> {
    let mut conn = home.open_db()?;
    match cmd {
        LifeCmd::Pause { sync } => {
            let s = syncs::find(&conn, &sync)?;
            println!("{}", crate::engine::admin::pause(&conn, &s)?);
        }
        LifeCmd::Resume { sync } => {
            let s = syncs::find(&conn, &sync)?;
            println!("{}", crate::engine::admin::resume(&conn, &s)?);
        }
        LifeCmd::AllowMassChange { sync } => {
            let s = syncs::find(&conn, &sync)?;
            let held = crate::engine::mass::allow(&conn, &s)?;
            println!(
                "Sync '{}': the {} issues held back go through with the next cycle (a running daemon goes on now); \
                 the next mass change is held again",
                s.name, held.issues
            );
        }
        LifeCmd::Pending { sync, json } => {
            let s = syncs::find(&conn, &sync)?;
            let changes = crate::engine::outgoing::pending(&mut conn, &s)?;
            if json {
                return crate::cli::print_json(&changes);
            }
            let issues = crate::engine::mass::issues(
                &changes.iter().cloned().map(crate::protocol::WireChange::Known).collect::<Vec<_>>(),
            )
            .len();
            println!(
                "Sync '{}': the next cycle would send {} of {} (threshold {}{})",
                s.name,
                crate::cli::plural(changes.len() as u64, "change", "changes"),
                crate::cli::plural(issues as u64, "issue", "issues"),
                s.mass_threshold,
                if crate::engine::mass::over(&s, issues, "send") { ": over it, so it would send nothing" } else { "" }
            );
            if let Some(h) = crate::engine::mass::held(&s).filter(|h| h.side == "receive") {
                println!(
                    "Held on receiving: the partner's messages ({} issues in one cycle) wait in the exchange; \
                     `postern sync allow-mass-change {}` applies them",
                    h.issues, s.name
                );
            }
            for c in &changes {
                println!("  {:<12} {}", c.issue(), describe(c));
            }
        }
        LifeCmd::Delete { sync, force } => {
            let s = syncs::find(&conn, &sync)?;
            if let Some(old) = syncs::list(&conn)?.into_iter().find(|o| o.replaced_by.as_deref() == Some(&s.id)) {
                bail!("sync '{}' hands over to '{}': delete '{}' first", old.name, s.name, old.name);
            }
            let left = lifecycle::what_delete_forgets(&conn, &s.id)?;
            if (left.awaiting_ack > 0 || left.held > 0) && !force {
                bail!(
                    "sync '{}' still has {} awaiting the partner's acknowledgement and {} held for a gap: \
                     run it until they are done (`postern status`), or delete anyway with --force",
                    s.name,
                    crate::cli::plural(left.awaiting_ack, "message", "messages"),
                    left.held
                );
            }
            let gone = lifecycle::delete(&mut conn, &s.id)?;
            crate::engine::forget_sync(home.root(), &s.id)?;
            println!(
                "Deleted sync '{}': {}, {} and {} forgotten; no issue in the tracker was changed",
                s.name,
                crate::cli::plural(gone.pairs, "issue pairing", "issue pairings"),
                crate::cli::plural(gone.awaiting_ack, "unacknowledged message", "unacknowledged messages"),
                crate::cli::plural(gone.errors, "error", "errors")
            );
            if s.mail.is_none() {
                println!(
                    "The exchange folder {} was left as it is; remove it when the partner no longer needs it",
                    s.exchange_dir
                );
            }
        }
    }
    Ok(())
}

/// One line for a change of `sync pending`.
fn describe(c: &crate::protocol::Change) -> String {
    use crate::protocol::Change;
    match c {
        Change::IssueCreated { comments, .. } => {
            format!("new issue, with {}", crate::cli::plural(comments.len() as u64, "comment", "comments"))
        }
        Change::IssueUpdated { fields, .. } if fields.is_empty() => "no field (an empty update)".into(),
        Change::IssueUpdated { fields, .. } => format!("fields {}", fields.names().join(", ")),
        Change::CommentAdded { .. } => "comment added".into(),
        Change::CommentEdited { .. } => "comment edited".into(),
        Change::CommentDeleted { .. } => "comment deleted".into(),
        Change::AttachmentAdded { attachment, .. } => format!("attachment {} added", attachment.filename),
        Change::AttachmentDeleted { .. } => "attachment deleted".into(),
        Change::WorklogAdded { worklog, .. } => format!("worklog of {} minutes added", worklog.minutes),
        Change::WorklogEdited { .. } => "worklog changed".into(),
        Change::WorklogDeleted { .. } => "worklog deleted".into(),
        Change::IssueState { .. } => "state (resync)".into(),
        Change::ResyncRequest { .. } => "a resync asked of the partner".into(),
        Change::FieldOwners { .. } => "the fields one side owns".into(),
        Change::Verify(_) => "a verify of both sides".into(),
        Change::Paired { .. } => "pairing".into(),
        Change::Part { .. } => "part of a large change".into(),
    }
}
