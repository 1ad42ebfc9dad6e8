//! `postern sync edit`: change where a sync's messages go (mail accounts,
//! the exchange folder). The protocol is fixed when the sync is created:
//! the partner and the handshake depend on it.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use super::mail_args::MailArgs;
use crate::home::Home;
use crate::store::syncs;
use crate::transport::mail::MailSettings;
use crate::transport::FileTransport;

#[derive(Debug, Args)]
pub struct EditArgs {
    sync: String,
    /// Refused unless it is the sync's own protocol (it cannot change).
    #[arg(long)]
    protocol: Option<String>,
    /// New exchange folder holding SEND and RECEIVE (file protocol).
    #[arg(long)]
    exchange: Option<PathBuf>,
    /// New mail settings, complete, as flags or --mail-config (email protocol).
    #[command(flatten)]
    mail: MailArgs,
    /// Pass on changes other syncs of this home applied (`on`: a hub), or
    /// not (`off`, the default).
    #[arg(long, value_parser = ["on", "off"])]
    forward: Option<String>,
    /// Redmine: replace the status name table (PARTNER=OURS pairs; empty
    /// for none). Then `postern errors retry` what was refused.
    #[arg(long, value_name = "PAIRS")]
    status_map: Option<String>,
    /// Redmine: replace the priority name table, as for --status-map.
    #[arg(long, value_name = "PAIRS")]
    priority_map: Option<String>,
}

pub fn edit(home: &Home, a: EditArgs) -> Result<()> {
    let conn = home.open_db()?;
    let sync = syncs::find(&conn, &a.sync)?;
    let mail_given = a.mail.given();
    if let Some(p) = &a.protocol {
        if *p != sync.protocol {
            bail!(
                "sync '{}' uses the {} protocol, which cannot be changed after creation (the partner and the \
                 handshake depend on it); create a new sync with --protocol {p} instead",
                sync.name,
                sync.protocol
            );
        }
    }
    if a.status_map.is_some() || a.priority_map.is_some() {
        edit_maps(&conn, &sync, a.status_map.as_deref(), a.priority_map.as_deref())?;
        if a.exchange.is_none() && !mail_given && a.forward.is_none() {
            return Ok(());
        }
    }
    if let Some(f) = &a.forward {
        syncs::set_forward(&conn, &sync.id, f == "on")?;
        println!(
            "Sync '{}' {} changes other syncs applied.",
            sync.name,
            if f == "on" { "now passes on" } else { "no longer passes on" }
        );
        if a.exchange.is_none() && !mail_given {
            return Ok(());
        }
    }
    match sync.protocol.as_str() {
        "email" => {
            if a.exchange.is_some() {
                bail!("sync '{}' uses the email protocol: it has no exchange folder", sync.name);
            }
            if !mail_given {
                bail!("nothing to change: give the new mail settings (flags or --mail-config)");
            }
            let mut new = a.mail.settings()?;
            let old: Option<MailSettings> = sync.mail.as_deref().and_then(|m| serde_json::from_str(m).ok());
            new.partner_address = old.and_then(|o| o.partner_address);
            super::mail::check_before_saving(&new, a.mail.skip_mail_test)?;
            let tx = conn.unchecked_transaction()?;
            syncs::set_mail(&tx, &sync.id, &serde_json::to_string(&new)?)?;
            // Another server or mailbox: read it from the start (digests
            // keep anything from being applied twice).
            syncs::forget_mailbox_position(&tx, &sync.id)?;
            tx.commit()?;
            println!("Mail settings of sync '{}' updated; a running daemon uses them from its next cycle.", sync.name);
        }
        _ => {
            if mail_given {
                bail!(
                    "sync '{}' uses the file protocol: mail settings do not apply, and the protocol cannot be \
                     changed after creation",
                    sync.name
                );
            }
            let Some(dir) = a.exchange else {
                bail!("nothing to change: give --exchange");
            };
            let dir = std::path::absolute(&dir)?;
            let old = PathBuf::from(&sync.exchange_dir);
            if dir == old {
                bail!("sync '{}' already uses {}", sync.name, dir.display());
            }
            FileTransport::create_dirs(&dir)?;
            // Files still waiting in the old folders go along, so nothing
            // waits for a resend. The database is not changed if this fails.
            let reachable = ["SEND", "RECEIVE"].iter().all(|d| old.join(d).is_dir());
            let moved = match FileTransport::new(&old).move_waiting(&FileTransport::new(&dir)) {
                Ok((sent, received)) => format!(
                    "Moved from the old folder: {} waiting in SEND, {} waiting in RECEIVE.",
                    super::plural(sent as u64, "message", "messages"),
                    super::plural(received as u64, "message", "messages")
                ),
                Err(_) if !reachable => format!(
                    "The old folder {} is not reachable: messages waiting there were not moved. Ours are sent \
                     again until the partner acknowledges them, and the partner sends again what we do not \
                     acknowledge.",
                    old.display()
                ),
                Err(e) => {
                    return Err(e.context(format!(
                        "cannot move the waiting messages from {} to {}; nothing was changed",
                        old.display(),
                        dir.display()
                    )))
                }
            };
            syncs::set_exchange(&conn, &sync.id, &dir.to_string_lossy())?;
            println!("Exchange folder of sync '{}' is now {}", sync.name, dir.display());
            println!("{moved}");
        }
    }
    Ok(())
}

/// New name tables of a Redmine sync; checked before anything is saved.
fn edit_maps(
    conn: &rusqlite::Connection,
    sync: &crate::store::SyncRecord,
    statuses: Option<&str>,
    priorities: Option<&str>,
) -> Result<()> {
    use crate::tracker::redmine::settings::parse_map;
    use crate::tracker::TrackerSettings;
    let current = match sync.tracker.as_deref() {
        Some(json) => serde_json::from_str(json)?,
        None => TrackerSettings::Embedded,
    };
    let TrackerSettings::Redmine(mut s) = current else {
        bail!("sync '{}' uses the embedded tracker: name tables apply to a Redmine tracker", sync.name);
    };
    if let Some(t) = statuses {
        s.statuses = parse_map("status-map", t)?;
    }
    if let Some(t) = priorities {
        s.priorities = parse_map("priority-map", t)?;
    }
    let json = serde_json::to_string(&TrackerSettings::Redmine(s.clone()))?;
    syncs::set_tracker(conn, &sync.id, Some(&json))?;
    let show = |m: &std::collections::BTreeMap<String, String>| {
        if m.is_empty() {
            "(same names on both sides)".to_string()
        } else {
            m.iter().map(|(t, o)| format!("{t}={o}")).collect::<Vec<_>>().join(", ")
        }
    };
    println!("Sync '{}': statuses {}; priorities {}", sync.name, show(&s.statuses), show(&s.priorities));
    println!("Issues refused for a missing name: `postern errors list {}`, then `postern errors retry`.", sync.name);
    Ok(())
}
