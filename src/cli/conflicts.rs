//! `postern conflicts …` and `sync edit --field-owner`: edits both sides
//! made to the same field before hearing of each other.

use anyhow::{bail, Result};
use clap::Subcommand;

use super::print_json;
use crate::engine::handshake::format_ms;
use crate::home::Home;
use crate::store::{conflicts, syncs, SyncRecord};

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

/// `sync edit --field-owner FIELD=master|slave|latest,...`.
pub fn set_owners(conn: &rusqlite::Connection, s: &SyncRecord, spec: &str) -> Result<()> {
    const FIELDS: &[&str] =
        &["summary", "description", "status", "priority", "labels", "assignee", "type", "due_date", "custom"];
    let mut owners = s.field_owners.clone();
    for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((field, who)) = pair.split_once('=') else {
            bail!("--field-owner: '{pair}' is not FIELD=master, FIELD=slave or FIELD=latest");
        };
        let field = field.trim();
        if !FIELDS.contains(&field) {
            bail!("--field-owner: '{field}' is not one of {}", FIELDS.join(", "));
        }
        match who.trim() {
            "master" | "slave" => {
                owners.insert(field.into(), who.trim().into());
            }
            "latest" => {
                owners.remove(field);
            }
            other => bail!("--field-owner: '{other}' for {field} is not master, slave or latest"),
        }
    }
    // Both sides must apply the same rule: the partner takes the same map.
    let tx = conn.unchecked_transaction()?;
    syncs::set_field_owners(&tx, &s.id, &owners)?;
    let change = crate::protocol::WireChange::Known(crate::protocol::Change::FieldOwners { owners: owners.clone() });
    let body = crate::protocol::Body::Changes { changes: vec![change], via: Vec::new() };
    crate::store::outbox::enqueue(&tx, &s.id, &body, crate::store::now_ms())?;
    tx.commit()?;
    println!(
        "Sync '{}': {} (other fields: the later edit wins). The partner takes the same with its next cycle.",
        s.name,
        owned_list(&owners)
    );
    Ok(())
}

/// The owned fields in words.
pub fn owned_list(owners: &std::collections::BTreeMap<String, String>) -> String {
    match owners.is_empty() {
        true => "no field is owned by one side".into(),
        false => {
            format!("owned fields {}", owners.iter().map(|(f, w)| format!("{f}={w}")).collect::<Vec<_>>().join(", "))
        }
    }
}
