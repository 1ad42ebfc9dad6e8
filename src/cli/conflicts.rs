//! `postern conflicts …`: edits both sides
//! made to the same field before hearing of each other.

use anyhow::Result;
use clap::Subcommand;

use super::print_json;
use crate::engine::handshake::format_ms;
use crate::home::Home;
use crate::store::{conflicts, syncs};

#[derive(Debug, Subcommand)]
pub enum ConflictsCmd {
    /// List the open conflicts of a sync: issue, field, both values, both
    /// times, which won and by which rule.
    List {
        /// The sync (default: the home's only one).
        sync: Option<String>,
        /// Also those dismissed or re-applied.
        #[arg(long)]
        all: bool,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Set the value that lost here again, as a local edit: it crosses to
    /// the partner, so both sides end up with it.
    Reapply { sync: String, id: i64 },
    /// Accept the outcome: the conflict is no longer listed as open.
    Dismiss { sync: String, id: i64 },
}

pub fn conflicts(home: &Home, cmd: ConflictsCmd) -> Result<()> {
    let conn = home.open_db()?;
    match cmd {
        ConflictsCmd::List { sync, all, json } => {
            let s = syncs::find_or_only(&conn, sync.as_deref())?;
            let list = conflicts::list(&conn, &s.id, all)?;
            if json {
                return print_json(&list);
            }
            super::say_if_empty(
                list.len(),
                &format!("no {}conflicts in sync '{}'", if all { "" } else { "open " }, s.name),
            );
            for c in list {
                let won = match c.winner.as_str() {
                    "here" => "kept here",
                    "partner" => "partner's taken",
                    _ => "merged",
                };
                println!(
                    "#{} [{} / partner's {}] {}: here {:?} ({}), partner {:?} ({}): {won} ({}){}",
                    c.id,
                    c.local_key,
                    c.remote_key,
                    c.field,
                    c.local_value,
                    format_ms(c.local_at),
                    c.partner_value,
                    format_ms(c.partner_at),
                    c.policy,
                    if c.state == "open" { String::new() } else { format!(", {}", c.state) }
                );
            }
        }
        ConflictsCmd::Dismiss { sync, id } => {
            let s = syncs::find(&conn, &sync)?;
            println!("{}", crate::engine::admin::dismiss(&conn, &s, id)?);
        }
        ConflictsCmd::Reapply { sync, id } => {
            let s = syncs::find(&conn, &sync)?;
            println!("{}", crate::engine::admin::reapply(&conn, &s, id)?);
        }
    }
    Ok(())
}
