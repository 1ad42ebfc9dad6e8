//! `postern sync …`: the subcommands and where each is run (one struct
//! with `execute` per subcommand, most in a file of its own).

mod accept;
mod create;
mod edit;
mod life;
mod records;
mod resync;
mod verify;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

use crate::cli::print_json;
use crate::home::Home;
use crate::store::syncs;

#[derive(Debug, Subcommand)]
pub enum SyncCmd {
    /// Master: create a sync and write its handshake file.
    #[command(after_help = "Examples:
  # folders (the default); the handshake file is written to ./acme.handshake.asc
  postern sync create --name acme --project SAM2 --sync-user sync-vendor
  # by mail, settings from a file, the passphrase into a file for a script
  postern sync create --name acme --project SAM2 --sync-user sync-vendor \\
      --protocol email --mail-config /etc/postern/mail.toml --passphrase-out acme.passphrase
  # a Redmine project, its key in a file
  postern sync create --name acme --project support --sync-user sync-vendor \\
      --tracker redmine --redmine-url https://redmine.example.com --redmine-key-file /etc/postern/redmine-key")]
    Create(create::CreateArgs),
    /// Slave: upload a handshake file, show it, and accept the sync.
    #[command(after_help = "Examples:
  # shows the master's fingerprint and asks; the passphrase came by phone
  postern sync accept --file acme.handshake.asc --project SP2 --sync-user sync-customer
  # a Jira Cloud project, the token as a systemd credential
  postern sync accept --file acme.handshake.asc --passphrase-file acme.passphrase --project SUP \\
      --sync-user sync-customer --tracker jira --jira-url https://example.atlassian.net \\
      --jira-user sync@example.com --jira-token-file credential:jira-token")]
    Accept(accept::AcceptArgs),
    /// List syncs.
    List(ListArgs),
    #[command(flatten)]
    Records(records::RecordsCmd),
    #[command(flatten)]
    Resync(resync::ResyncCmd),
    Verify(verify::VerifyArgs),
    /// Change a sync's exchange folder, mail, Redmine or Jira settings, name
    /// tables and mapping, field owners, mass-change threshold, attachment
    /// limit or forwarding (not its protocol).
    Edit(edit::EditArgs),
    #[command(flatten)]
    Life(life::LifeCmd),
    /// Set timing: resend unacknowledged messages after, ask for a gap after.
    Timing(TimingArgs),
}

pub(super) fn group_fingerprint(f: &str) -> String {
    f.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or("")).collect::<Vec<_>>().join(" ")
}

/// A size with an optional unit: 1000000, 10MB, 512KiB, 2MiB.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("'{s}' is not a size: use e.g. 10MB, 512KiB or 1000000"))?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1000,
        "kib" => 1024,
        "mb" | "m" => 1_000_000,
        "mib" => 1024 * 1024,
        other => return Err(format!("unit '{other}' in '{s}' is not known: use B, KB, KiB, MB or MiB")),
    };
    n.checked_mul(factor).ok_or_else(|| format!("'{s}' is too large"))
}

impl SyncCmd {
    /// A create or accept for a tracker other than the embedded one.
    pub fn remote_tracker(&self) -> bool {
        match self {
            SyncCmd::Create(a) => a.tracker.tracker != "embedded",
            SyncCmd::Accept(a) => a.tracker.tracker != "embedded",
            _ => false,
        }
    }

    /// A command that works on files alone (`sync merge`); it is run here.
    pub fn without_home(self: Box<Self>) -> std::result::Result<Result<()>, Box<SyncCmd>> {
        match *self {
            SyncCmd::Records(records::RecordsCmd::Merge { ours, theirs, out }) => {
                Ok(records::merge(&ours, &theirs, out))
            }
            other => Err(Box::new(other)),
        }
    }
}

pub fn sync(home: &Home, cmd: SyncCmd) -> Result<()> {
    match cmd {
        SyncCmd::Create(a) => a.execute(home),
        SyncCmd::Accept(a) => a.execute(home),
        SyncCmd::List(a) => a.execute(home),
        SyncCmd::Records(cmd) => records::run(home, cmd),
        SyncCmd::Resync(cmd) => resync::run(home, cmd),
        SyncCmd::Verify(a) => a.execute(home),
        SyncCmd::Edit(a) => edit::edit(home, a),
        SyncCmd::Life(cmd) => life::life(home, cmd),
        SyncCmd::Timing(a) => a.execute(home),
    }
}

/// What a sync is to the home's other syncs: a hub that passes on their
/// changes, the successor of one (`sync create` and `sync accept`).
#[derive(Debug, Args)]
pub struct HubArgs {
    /// Pass on changes that other syncs of this home applied for their
    /// partners (a hub between partners); never back to a peer a
    /// change came through, so even a cycle of syncs makes no loop.
    #[arg(long)]
    pub forward: bool,
    /// Take over from this sync of the same project (moving to another
    /// protocol or machine): its pairings and position move here and it
    /// collects nothing more. Both sides replace.
    #[arg(long, value_name = "SYNC")]
    pub replaces: Option<String>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON (for scripts) instead of text.
    #[arg(long)]
    json: bool,
}

impl ListArgs {
    fn execute(self, home: &Home) -> Result<()> {
        let conn = home.open_db()?;
        let all = syncs::list(&conn)?;
        let now = crate::store::now_ms();
        if self.json {
            let v: Vec<_> = all
                .iter()
                .map(|s| serde_json::json!({"id": s.id, "name": s.name, "role": s.role.as_str(), "state": s.shown_state(now), "project": s.project, "protocol": s.protocol}))
                .collect();
            return print_json(&v);
        }
        crate::cli::say_if_empty(all.len(), "no syncs in this home");
        for s in all {
            println!("{}\t{}\t{}\t{}\t{}", s.name, s.role.as_str(), s.shown_state(now), s.project, s.id);
        }
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct TimingArgs {
    sync: String,
    /// Send a message again when unacknowledged this long [default 60].
    #[arg(long)]
    resend_after_secs: Option<f64>,
    /// Ask for missing messages when a gap lasts this long [default 10].
    #[arg(long)]
    gap_after_secs: Option<f64>,
}

impl TimingArgs {
    fn execute(self, home: &Home) -> Result<()> {
        let TimingArgs { sync, resend_after_secs, gap_after_secs } = self;
        if resend_after_secs.is_none() && gap_after_secs.is_none() {
            bail!("nothing to change: give --resend-after-secs, --gap-after-secs or both");
        }
        let ms = |v: Option<f64>, flag: &str, now: i64| -> Result<i64> {
            match v {
                None => Ok(now),
                Some(v) if v.is_finite() && v > 0.0 => Ok((v * 1000.0) as i64),
                Some(v) => bail!("--{flag} must be a positive number of seconds, not {v}"),
            }
        };
        let conn = home.open_db()?;
        let s = syncs::find(&conn, &sync)?;
        let resend = ms(resend_after_secs, "resend-after-secs", s.resend_after_ms)?;
        let gap = ms(gap_after_secs, "gap-after-secs", s.gap_after_ms)?;
        syncs::set_timing(&conn, &s.id, resend, gap)?;
        println!(
            "Sync '{}': resend after {:.3} s, ask for a gap after {:.3} s",
            s.name,
            resend as f64 / 1000.0,
            gap as f64 / 1000.0
        );
        Ok(())
    }
}
