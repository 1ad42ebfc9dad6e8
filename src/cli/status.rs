//! `postern status`: each sync's role, state, partner, sequence numbers and
//! queues. Never shows secrets.

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::print_json;
use crate::engine::handshake::format_ms;
use crate::home::Home;
use crate::store::{now_ms, outbox, problems, syncs};

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
pub struct SyncStatus {
    pub name: String,
    pub id: String,
    pub role: &'static str,
    pub state: &'static str,
    pub protocol: String,
    pub project: String,
    pub exchange: String,
    pub own_fingerprint: Option<String>,
    pub partner_fingerprint: Option<String>,
    pub last_received_seq: Option<u64>,
    pub last_received_at: Option<i64>,
    pub outgoing_seq: u64,
    pub incoming_seq: u64,
    pub awaiting_ack: u64,
    pub held_for_gap: u64,
    pub issues_with_errors: u64,
    pub quarantined: u64,
}

pub fn collect(conn: &rusqlite::Connection) -> Result<Vec<SyncStatus>> {
    syncs::list(conn)?
        .into_iter()
        .map(|s| {
            Ok(SyncStatus {
                awaiting_ack: outbox::pending(conn, &s.id)?,
                held_for_gap: outbox::held_summary(conn, &s.id)?.0,
                issues_with_errors: problems::errors(conn, &s.id)?.len() as u64,
                quarantined: problems::quarantined(conn, &s.id)?,
                name: s.name,
                id: s.id,
                role: s.role.as_str(),
                state: s.state.as_str(),
                protocol: s.protocol,
                project: s.project,
                exchange: s.exchange_dir,
                own_fingerprint: s.own_fpr,
                partner_fingerprint: s.partner_fpr,
                last_received_seq: s.last_received_seq,
                last_received_at: s.last_received_at,
                outgoing_seq: s.out_seq,
                incoming_seq: s.in_seq,
            })
        })
        .collect()
}

pub fn status(home: &Home, args: StatusArgs) -> Result<()> {
    let conn = home.open_db()?;
    let all = collect(&conn)?;
    if args.json {
        return print_json(&all);
    }
    if all.is_empty() {
        println!("no syncs in {}", home.root().display());
    }
    for s in all {
        println!("{} ({})", s.name, s.id);
        println!("  role {}, state {}, protocol {}, project {}", s.role, s.state, s.protocol, s.project);
        println!("  exchange        {}", s.exchange);
        println!("  partner         {}", s.partner_fingerprint.as_deref().unwrap_or("(not yet paired)"));
        match s.last_received_at {
            Some(at) => println!(
                "  last received   message {} at {} ({}s ago)",
                s.last_received_seq.map(|v| v.to_string()).unwrap_or_else(|| "(control)".into()),
                format_ms(at),
                (now_ms() - at) / 1000
            ),
            None => println!("  last received   never"),
        }
        println!("  sequence        outgoing {}, incoming {}", s.outgoing_seq, s.incoming_seq);
        println!("  waiting         {} awaiting acknowledgement, {} held for a gap", s.awaiting_ack, s.held_for_gap);
        println!(
            "  problems        {} issue(s) with errors, {} message(s) quarantined",
            s.issues_with_errors, s.quarantined
        );
    }
    Ok(())
}
