//! `postern status`: prints the read model ([`crate::status`]): each
//! sync's role, state, partner, sequence numbers and queues. Never shows
//! secrets.

use anyhow::Result;
use clap::Args;

use super::{plural, print_json};
use crate::engine::handshake::format_ms;
use crate::home::Home;
use crate::status::{ago, collect};
use crate::store::now_ms;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the status as JSON (a list, one object per sync).
    #[arg(long)]
    json: bool,
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
    let waiting = all.iter().any(|s| matches!(s.state, "active" | "handshake"));
    if waiting && !home.served()? {
        println!(
            "NOT RUNNING: no `postern run` serves this home now, so nothing is collected, sent or applied until one \
             does (its service, or `postern run --once` from cron)\n"
        );
    }
    for s in all {
        println!("{} ({})", s.name, s.id);
        println!("  role {}, state {}, protocol {}, project {}", s.role, s.state, s.protocol, s.project);
        if s.tracker["kind"] != "embedded" {
            println!(
                "  tracker         {} {}, project {}",
                s.tracker["kind"].as_str().unwrap_or("?"),
                s.tracker["url"].as_str().unwrap_or("?"),
                s.project
            );
            let pairs = |t: &serde_json::Value| match t.as_object() {
                Some(m) if !m.is_empty() => {
                    m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?"))).collect::<Vec<_>>().join(", ")
                }
                _ => "(same names)".into(),
            };
            println!(
                "  names           statuses {}; priorities {}",
                pairs(&s.tracker["statuses"]),
                pairs(&s.tracker["priorities"])
            );
        }
        if let Some(at) = s.paused_since {
            println!(
                "  PAUSED          since {}: nothing is collected, sent or applied; `postern sync resume {}` goes on",
                format_ms(at),
                s.name
            );
        }
        if let (Some(at), "expired") = (s.handshake_expires, s.state) {
            println!(
                "  EXPIRED         the handshake expired at {} unaccepted: create a new one; `postern sync delete {}` \
                 frees the name",
                format_ms(at),
                s.name
            );
        }
        if let Some(h) = &s.mass_change_held {
            let (what, check) = match h.side.as_str() {
                "send" => ("sending", format!("check with `postern sync pending {}`, then ", s.name)),
                _ => ("applying the partner's", String::new()),
            };
            println!(
                "  HELD            {what} {} issues in one cycle, over the threshold of {} (since {}): {check}\
                 `postern sync allow-mass-change {}` or raise --mass-change-threshold",
                h.issues,
                h.threshold,
                format_ms(h.since),
                s.name
            );
        }
        if !s.field_owners.is_empty() {
            println!(
                "  fields          {}; only the owner's edits of them cross",
                crate::engine::admin::owned_list(&s.field_owners)
            );
        }
        if let Some(m) = &s.mapping {
            println!("  mapping         {m}");
        }
        if let Some(r) = &s.last_resync {
            println!(
                "  last resync     {} at {}: {} ({}, {} new)",
                r.kind,
                format_ms(r.finished_at),
                r.outcome(),
                plural(r.issues as u64, "issue", "issues"),
                r.new
            );
            for w in &r.warnings {
                println!("                  {w}");
            }
        }
        if let Some(new) = &s.replaced_by {
            println!("  replaced by     {new}: collects nothing more, still reads what the partner sends");
        }
        if s.forward {
            println!("  forwarding      passes on changes other syncs applied (never back where they came from)");
        }
        match &s.mail {
            Some(m) => {
                let acct = |a: &serde_json::Value| {
                    format!(
                        "{}:{} ({}) as {}",
                        a["host"].as_str().unwrap_or("?"),
                        a["port"],
                        a["security"].as_str().unwrap_or("?"),
                        a["username"].as_str().unwrap_or("?")
                    )
                };
                println!(
                    "  mail            {} -> {}",
                    m["address"].as_str().unwrap_or("?"),
                    m["partner_address"].as_str().unwrap_or("(partner not known yet)")
                );
                println!("  imap            {}, mailbox {}", acct(&m["imap"]), m["mailbox"].as_str().unwrap_or("?"));
                println!("  smtp            {}", acct(&m["smtp"]));
                if let Some(p) = &s.imap_position {
                    println!("  read up to      UID {} (UIDVALIDITY {})", p.last_uid, p.uidvalidity);
                }
            }
            None => println!("  exchange        {}", s.exchange),
        }
        if let Some(t) = &s.throttled {
            println!(
                "  throttled       last {} ({} ago): {}",
                format_ms(t.last_at),
                ago(now_ms() - t.last_at),
                t.error
            );
        }
        for t in &s.failing {
            println!(
                "  FAILING         {} since {} ({} ago, {}): {}",
                t.label(),
                format_ms(t.since),
                ago(now_ms() - t.since),
                plural(t.tries, "try", "tries"),
                t.error
            );
        }
        for st in &s.stalled {
            println!("  {:<15} {}", st.what.to_uppercase(), st.describe(&ago(now_ms() - st.since)));
        }
        if !s.diverged.is_empty() {
            let unpaired = s.diverged.iter().filter(|d| d.what == crate::store::verify::UNPAIRED).count();
            println!(
                "  DIVERGED        {} differ from the partner's ({}`postern sync verify {} --last`; \
                 `--repair` converges what a verify found)",
                plural(s.diverged.len() as u64, "issue", "issues"),
                match unpaired {
                    0 => String::new(),
                    n => format!(
                        "{} made by the sync user and paired with none, see below; ",
                        plural(n as u64, "is", "are")
                    ),
                },
                s.name
            );
            for d in s.diverged.iter().take(5) {
                println!("                  [{}] {}", d.issue, d.what);
            }
            if s.diverged.len() > 5 {
                println!("                  … and {} more", s.diverged.len() - 5);
            }
        }
        if let Some(own) = &s.own_fingerprint {
            println!("  own key         {own}");
        }
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
        if s.parts_pending > 0 {
            println!(
                "  in parts        {} of a large change received so far",
                plural(s.parts_pending, "piece", "pieces")
            );
        }
        for t in &s.transfers {
            let (way, whose) = if t.direction == "out" { ("sending", "") } else { ("receiving", "the partner's ") };
            let mb = crate::engine::transfers::mb;
            let how = match t.state.as_str() {
                "copying" => "being copied from the tracker".to_string(),
                "sending" => format!("{} of {} queued", mb(t.done), mb(t.size)),
                "receiving" => format!("{} of {} received", mb(t.done), mb(t.size)),
                "complete" => format!("all {} received; being attached", mb(t.size)),
                "blocked" => format!("all {} received; waits in the issue's error", mb(t.size)),
                other => other.to_string(),
            };
            println!("  attachment      {way} {} of {whose}{}: {how}", t.filename, t.issue);
        }
        for a in &s.attachments_not_crossed {
            println!("  attachment      [{}] {}", a.issue, a.reason);
        }
        println!(
            "  limits          messages {} bytes, attachments {}",
            s.max_message_bytes,
            crate::engine::transfers::mb(s.max_attachment_bytes)
        );
        let blocking = match (s.issues_with_errors, s.issues_blocked) {
            (0, _) => String::new(),
            (1, 1) => " (its later changes wait)".to_string(),
            (n, b) if n == b => " (their later changes wait)".to_string(),
            (_, 0) => " (values this tracker does not hold; they block nothing)".to_string(),
            (_, b) => {
                format!(" ({b} of them {} later changes)", if b == 1 { "holds back its" } else { "hold back their" })
            }
        };
        println!(
            "  problems        {} with errors{blocking}, {} quarantined, {}",
            plural(s.issues_with_errors, "issue", "issues"),
            plural(s.quarantined, "message", "messages"),
            plural(s.conflicts, "open conflict", "open conflicts")
        );
        if let Some(at) = s.verify.last_finished_at {
            println!(
                "  verified        {} ({} ago), {}, {} differ",
                format_ms(at),
                ago(now_ms() - at),
                plural(s.verify.last_pairs.unwrap_or(0), "pair", "pairs"),
                s.diverged.len()
            );
        }
        if s.early > 0 {
            println!(
                "  early           {} set aside: they came before the partner's accept and are sent again \
                 after it (no fault)",
                plural(s.early, "message", "messages")
            );
        }
    }
    Ok(())
}
