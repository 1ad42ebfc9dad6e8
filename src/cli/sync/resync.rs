//! `postern sync resync`: send the current state of a sync's issues again.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Result};
use clap::Subcommand;

use crate::cli::scope_args::ScopeArgs;
use crate::engine::resync::{self, Report};
use crate::home::Home;
use crate::store::{links, syncs};

#[derive(Debug, Subcommand)]
pub enum ResyncCmd {
    /// Send the current state (not the history) of the sync's issues, or of
    /// those a filter matches, to the partner: issues that never crossed are
    /// created there, paired ones converge without duplicate comments or
    /// attachments. Ends with a report (`Completed Successfully`, or
    /// `Completed with warnings` and one line per failing issue).
    Resync {
        sync: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// `out`: send this side's issues (the default); `in`: ask the
        /// partner to send its own (it does on its next cycle and keeps the
        /// report); `both`. Filters other than --keys are applied by each
        /// side to its own issues; --keys are this side's keys.
        #[arg(long, value_enum, default_value = "out")]
        direction: Direction,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Direction {
    Out,
    In,
    Both,
}

pub fn run(home: &Home, cmd: ResyncCmd) -> Result<()> {
    let ResyncCmd::Resync { sync, scope, direction, yes, json } = cmd;
    let scope = scope.scope()?;
    let mut conn = home.open_db()?;
    let s = syncs::find(&conn, &sync)?;
    if s.partner_fpr.is_none() {
        bail!("sync '{}' has no partner yet: finish the handshake first", s.name);
    }
    // The partner's keys first: a key that is not paired asks nothing.
    let theirs = match direction {
        Direction::Out => None,
        _ => Some(partner_scope(&conn, &s, &scope)?),
    };
    let planned = match direction {
        Direction::In => (Vec::new(), Vec::new()),
        _ => {
            let tracker = crate::engine::tracker_of::for_sync(&s, &conn)?;
            resync::plan(&tracker, &s, &scope)?
        }
    };
    let new = planned.0.iter().filter(|i| matches!(links::by_local(&conn, &s.id, &i.key), Ok(None))).count();
    let total = planned.0.len();
    let sends = format!(
        "This resync sends {} of project {} to the partner ({new} never crossed before)",
        crate::cli::plural(total as u64, "issue", "issues"),
        s.project
    );
    let asks = match &scope.keys[..] {
        [] => "asks the partner to send the state of its issues".to_string(),
        keys => format!("asks the partner to send the state of its issues paired with {}", keys.join(", ")),
    };
    let question = match direction {
        Direction::Out if total == 0 => None,
        Direction::Out => Some(format!("{sends}.")),
        Direction::In => Some(format!("This {asks}.")),
        Direction::Both => Some(format!("{sends}, and {asks}.")),
    };
    if let (Some(question), false) = (question, yes) {
        if !std::io::stdin().is_terminal() {
            bail!("{question} Confirm with --yes");
        }
        eprint!("{question} Go on? [y/N] ");
        std::io::stderr().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        if !matches!(line.trim(), "y" | "Y" | "yes") {
            bail!("nothing was sent or asked");
        }
    }
    if let Some(theirs) = theirs {
        resync::ask_partner(&conn, &s, theirs)?;
        println!(
            "Asked: the partner {}; it does after its next cycle reads this, and keeps the report. What arrives is \
             subject to this side's mass-change threshold.",
            asks.trim_start_matches("asks the partner to ").replace("send", "sends")
        );
        if direction == Direction::In {
            return Ok(());
        }
    }
    let terminal = std::io::stderr().is_terminal();
    let name = s.name.clone();
    let mut progress = move |done: usize, total: usize| {
        if terminal {
            eprint!("\rResync {name}: {done}/{total} issues");
            if done == total {
                eprintln!();
            }
        } else {
            eprintln!("resync {name}: {done}/{total} issues");
        }
    };
    let report = resync::run(&mut conn, &s, &scope, "resync", planned, &mut progress)?;
    // A verify follows the states, so the partner compares once it has
    // applied them (unless verifies are switched off).
    if report.issues > report.new {
        crate::engine::verify::if_due(&mut conn, &s, true);
    }
    if json {
        return crate::cli::print_json(&report);
    }
    print_report(&report);
    println!(
        "{} queued in {}; they go out with the next cycle (`postern run`).",
        crate::cli::plural(report.issues as u64, "issue", "issues"),
        crate::cli::plural(report.messages, "message", "messages")
    );
    Ok(())
}

/// The scope as the partner sees it: this side's --keys become the
/// partner's keys through the pairs.
fn partner_scope(
    conn: &rusqlite::Connection,
    s: &crate::store::SyncRecord,
    scope: &resync::Scope,
) -> Result<resync::Scope> {
    let mut theirs = scope.clone();
    theirs.keys = Vec::new();
    for k in &scope.keys {
        match links::by_local(conn, &s.id, k)?.and_then(|l| l.remote_issue_key) {
            Some(r) => theirs.keys.push(r),
            None => bail!("{k} is not paired in sync '{}': the partner has no issue for it; nothing was asked", s.name),
        }
    }
    Ok(theirs)
}

/// Queues the request for the partner.
/// The report in Timetracker's shape.
pub fn print_report(r: &Report) {
    println!("{}", r.outcome());
    for w in &r.warnings {
        println!("{w}");
    }
}
