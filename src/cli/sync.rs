//! `postern sync …`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;

use super::mail_args::MailArgs;
use super::print_json;
use super::prompt::{check_writable, read_passphrase, write_private};
use super::scope_args::ExistingArgs;
use super::tracker_args::TrackerArgs;
use crate::engine::handshake::{self, format_ms, SyncSettings};
use crate::engine::resync;
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
    Create {
        /// Name of the sync in this home (letters, digits, '-', '_', '.').
        #[arg(long)]
        name: String,
        /// What the sync is for; the partner sees it in the handshake.
        #[arg(long, default_value = "")]
        description: String,
        /// Local project to synchronize.
        #[arg(long)]
        project: String,
        /// The user under whose name the partner's changes are made here.
        #[arg(long)]
        sync_user: String,
        /// Exchange protocol, `file` or `email`; fixed for the life of the sync.
        #[arg(long, default_value = "file", value_parser = ["file", "email"])]
        protocol: String,
        /// Exchange folder holding SEND and RECEIVE (default <home>/exchange/<name>).
        #[arg(long)]
        exchange: Option<PathBuf>,
        /// Largest message to send or receive, e.g. 10MB, 512KiB (both sides
        /// use the smaller of their two limits; larger changes are split).
        #[arg(long, default_value = "10MB", value_parser = parse_size)]
        max_message_size: u64,
        /// The largest attachment this side sends or takes, in MiB
        /// (default 2048; `sync edit` changes it).
        #[arg(long, value_name = "MIB", value_parser = super::sync_edit::attachment_mib)]
        max_attachment_mb: Option<u64>,
        /// Where to write the handshake file (default ./<name>.handshake.asc).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Days until the handshake file expires.
        #[arg(long, default_value_t = 7)]
        expires_days: u32,
        /// Write the passphrase to this file (mode 0600) instead of showing
        /// it, for scripts (`--json` still includes it).
        #[arg(long)]
        passphrase_out: Option<PathBuf>,
        /// Print the result as JSON (includes the passphrase).
        #[arg(long)]
        json: bool,
        /// Pass on changes that other syncs of this home applied for their
        /// partners (a hub between partners); never back to a peer a
        /// change came through, so even a cycle of syncs makes no loop.
        #[arg(long)]
        forward: bool,
        /// Take over from this sync of the same project (moving to another
        /// protocol or machine): its pairings and position move here and it
        /// collects nothing more. Both sides replace.
        #[arg(long, value_name = "SYNC")]
        replaces: Option<String>,
        #[command(flatten)]
        mail: MailArgs,
        #[command(flatten)]
        tracker: TrackerArgs,
        #[command(flatten)]
        existing: ExistingArgs,
    },
    /// Slave: upload a handshake file, show it, and accept the sync.
    #[command(after_help = "Examples:
  # shows the master's fingerprint and asks; the passphrase came by phone
  postern sync accept --file acme.handshake.asc --project SP2 --sync-user sync-customer
  # a Jira Cloud project, the token as a systemd credential
  postern sync accept --file acme.handshake.asc --passphrase-file acme.passphrase --project SUP \\
      --sync-user sync-customer --tracker jira --jira-url https://example.atlassian.net \\
      --jira-user sync@example.com --jira-token-file credential:jira-token")]
    Accept {
        /// The handshake file from the master.
        #[arg(long)]
        file: PathBuf,
        /// The passphrase (prefer --passphrase-file or POSTERN_PASSPHRASE).
        #[arg(long, env = "POSTERN_PASSPHRASE", hide_env_values = true)]
        passphrase: Option<String>,
        /// Read the passphrase from this file (for scripts).
        #[arg(long, conflicts_with = "passphrase")]
        passphrase_file: Option<PathBuf>,
        /// Local project to synchronize.
        #[arg(long)]
        project: String,
        /// The user under whose name the partner's changes are made here.
        #[arg(long)]
        sync_user: String,
        /// Local name of the sync (default: the master's name).
        #[arg(long)]
        name: Option<String>,
        /// Exchange folder holding SEND and RECEIVE (default <home>/exchange/<name>).
        #[arg(long)]
        exchange: Option<PathBuf>,
        /// Largest message to send or receive (see `sync create`); the
        /// master's limit applies if it is smaller.
        #[arg(long, default_value = "10MB", value_parser = parse_size)]
        max_message_size: u64,
        /// The largest attachment this side sends or takes, in MiB
        /// (default 2048; `sync edit` changes it).
        #[arg(long, value_name = "MIB", value_parser = super::sync_edit::attachment_mib)]
        max_attachment_mb: Option<u64>,
        /// Accept without asking.
        #[arg(long)]
        yes: bool,
        /// Pass on changes that other syncs of this home applied for their
        /// partners (a hub between partners); never back to a peer a
        /// change came through, so even a cycle of syncs makes no loop.
        #[arg(long)]
        forward: bool,
        /// Take over from this sync of the same project (moving to another
        /// protocol or machine): its pairings and position move here and it
        /// collects nothing more. Both sides replace.
        #[arg(long, value_name = "SYNC")]
        replaces: Option<String>,
        /// Mail settings, when the handshake says the protocol is email.
        #[command(flatten)]
        mail: MailArgs,
        #[command(flatten)]
        tracker: TrackerArgs,
        #[command(flatten)]
        existing: ExistingArgs,
    },
    /// List syncs.
    List {
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    #[command(flatten)]
    Records(super::sync_records::RecordsCmd),
    #[command(flatten)]
    Resync(super::sync_resync::ResyncCmd),
    Verify(super::sync_verify::VerifyArgs),
    /// Change a sync's exchange folder, mail, Redmine or Jira settings, name
    /// tables and mapping, field owners, mass-change threshold, attachment
    /// limit or forwarding (not its protocol).
    Edit(super::sync_edit::EditArgs),
    #[command(flatten)]
    Life(super::sync_life::LifeCmd),
    /// Set timing: resend unacknowledged messages after, ask for a gap after.
    Timing {
        sync: String,
        /// Send a message again when unacknowledged this long [default 60].
        #[arg(long)]
        resend_after_secs: Option<f64>,
        /// Ask for missing messages when a gap lasts this long [default 10].
        #[arg(long)]
        gap_after_secs: Option<f64>,
    },
}

fn group_fingerprint(f: &str) -> String {
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
            SyncCmd::Create { tracker, .. } | SyncCmd::Accept { tracker, .. } => tracker.tracker != "embedded",
            _ => false,
        }
    }

    /// A command that works on files alone (`sync merge`); it is run here.
    pub fn without_home(self: Box<Self>) -> std::result::Result<Result<()>, Box<SyncCmd>> {
        match *self {
            SyncCmd::Records(super::sync_records::RecordsCmd::Merge { ours, theirs, out }) => {
                Ok(super::sync_records::merge(&ours, &theirs, out))
            }
            other => Err(Box::new(other)),
        }
    }
}

pub fn sync(home: &Home, cmd: SyncCmd) -> Result<()> {
    let cmd = match cmd {
        SyncCmd::Life(cmd) => return super::sync_life::life(home, cmd),
        SyncCmd::Records(cmd) => return super::sync_records::run(home, cmd),
        SyncCmd::Resync(cmd) => return super::sync_resync::run(home, cmd),
        SyncCmd::Verify(args) => return args.execute(home),
        other => other,
    };
    let mut conn = home.open_db()?;
    match cmd {
        SyncCmd::Create {
            name,
            description,
            project,
            sync_user,
            protocol,
            mail,
            tracker,
            exchange,
            max_message_size,
            max_attachment_mb,
            out,
            expires_days,
            passphrase_out,
            json,
            forward,
            replaces,
            existing,
        } => {
            handshake::check_name(&name)?;
            let existing_scope = existing.scope()?;
            if expires_days == 0 {
                bail!("--expires-days must be at least 1: the partner needs time to accept");
            }
            let out = out.unwrap_or_else(|| PathBuf::from(format!("{name}.handshake.asc")));
            if out.exists() {
                bail!("{} already exists; choose another --out", out.display());
            }
            if let Some(p) = passphrase_out.as_ref().filter(|p| p.exists()) {
                bail!("{} already exists; choose another --passphrase-out", p.display());
            }
            // Stored absolute: a daemon started elsewhere finds it too.
            let exchange = std::path::absolute(exchange.unwrap_or_else(|| home.default_exchange(&name)))?;
            let mail = if protocol == "email" {
                let settings = mail.settings()?;
                super::mail::check_before_saving(&settings, mail.skip_mail_test)?;
                Some(settings)
            } else if mail.given() {
                bail!("mail settings were given, but the protocol is file: add --protocol email");
            } else {
                None
            };
            let exchange = if mail.is_some() { std::path::PathBuf::new() } else { exchange };
            let tracker_settings = tracker.settings(&project)?;
            let settings = SyncSettings {
                name,
                description,
                project,
                sync_user,
                exchange_dir: exchange,
                mail,
                max_message_bytes: max_message_size,
                forward,
                replaces,
                tracker: tracker_settings,
                start: Default::default(),
            };
            handshake::check_settings(&conn, &settings)?;
            tracker.check_before_saving(&settings.tracker, home.root())?;
            let mut settings = settings;
            settings.start = handshake::SyncStart {
                mapping: match &tracker.mapping {
                    Some(f) => Some(super::mapping_args::load(f, &settings.tracker, &conn, &settings.project)?),
                    None => None,
                },
                initial_resync: existing_scope.as_ref().map(|scope| resync::Pending::existing(scope).to_json()),
                max_attachment_bytes: max_attachment_mb.map(|n| n << 20),
            };
            for f in std::iter::once(&out).chain(passphrase_out.as_ref()) {
                check_writable(f)?;
            }
            let (key, generated) = home.own_key_or_generate()?;
            if generated {
                eprintln!("Generated this peer's key {}", key.fingerprint());
            }
            // The files are written before the sync is committed: if one
            // cannot be, no sync is made.
            let valid_for = expires_days as i64 * 86_400_000;
            let created = handshake::create_master_then(&mut conn, &key, &settings, valid_for, |created| {
                std::fs::write(&out, &created.handshake).with_context(|| format!("cannot write {}", out.display()))?;
                if let Some(p) = &passphrase_out {
                    write_private(p, &created.passphrase)?;
                }
                Ok(())
            })?;
            if json {
                return print_json(&serde_json::json!({
                    "sync_id": created.sync.id, "name": created.sync.name, "handshake_file": out,
                    "passphrase": created.passphrase, "fingerprint": created.fingerprint,
                    "exchange": created.sync.exchange_dir,
                    "expires_at": created.sync.handshake_expires,
                    "existing_issues": existing_scope,
                }));
            }
            println!("Created sync '{}' ({}), status: handshake", created.sync.name, created.sync.id);
            if created.sync.protocol == "file" {
                println!("Exchange folder:  {}", created.sync.exchange_dir);
            }
            println!("Handshake file:   {}", out.display());
            println!("Existing issues:  {}", existing.say());
            println!("Expires:          {}", format_ms(created.sync.handshake_expires.unwrap_or(0)));
            match &passphrase_out {
                // A script's output may be kept in logs: the file has it.
                Some(p) => println!(
                    "Passphrase:       written to {} (0600): give it to the partner by another channel",
                    p.display()
                ),
                None => println!(
                    "Passphrase:       {}   (shown once: give it to the partner by another channel)",
                    created.passphrase
                ),
            }
            println!(
                "Fingerprint:      {}   (compare it with the partner by phone)",
                group_fingerprint(&created.fingerprint)
            );
        }
        SyncCmd::Accept {
            file,
            passphrase,
            passphrase_file,
            project,
            sync_user,
            name,
            exchange,
            max_message_size,
            max_attachment_mb,
            yes,
            mail,
            tracker,
            forward,
            replaces,
            existing,
        } => {
            let existing_scope = existing.scope()?;
            let data =
                std::fs::read(&file).with_context(|| format!("cannot read handshake file {}", file.display()))?;
            let pass = read_passphrase(passphrase, passphrase_file)?;
            let hs = handshake::read_handshake(&data, &pass)
                .with_context(|| format!("handshake file {}", file.display()))?;
            println!("Handshake file {}:", file.display());
            println!("  sync:        {} ({})", hs.name, hs.sync_id);
            println!("  description: {}", hs.description);
            println!("  protocol:    {}", hs.protocol);
            println!("  master:      {}", group_fingerprint(&hs.master_fingerprint));
            println!("  expires:     {}", format_ms(hs.expires_at));
            let mail = match hs.protocol.as_str() {
                "file" if mail.given() => {
                    bail!("this sync uses the file protocol (the master chose it): leave out the mail settings")
                }
                "file" => None,
                "email" => {
                    let mut settings = mail.settings()?;
                    // The partner's address is known: check the relay takes it.
                    settings.partner_address = hs.mail_address.clone();
                    super::mail::check_before_saving(&settings, mail.skip_mail_test)?;
                    settings.partner_address = None;
                    Some(settings)
                }
                other => bail!("protocol '{other}' is not supported by this postern"),
            };
            let tracker_settings = tracker.settings(&project)?;
            tracker.check_before_saving(&tracker_settings, home.root())?;
            let mapping = match &tracker.mapping {
                Some(f) => Some(super::mapping_args::load(f, &tracker_settings, &conn, &project)?),
                None => None,
            };
            if !yes {
                if !std::io::stdin().is_terminal() {
                    bail!("confirmation needed: compare the fingerprint with the master's admin, then run again with --yes");
                }
                eprint!("Compare the fingerprint with the master's admin. Accept this sync? [y/N] ");
                std::io::stderr().flush()?;
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                if !matches!(line.trim(), "y" | "Y" | "yes") {
                    bail!("not accepted; nothing was created");
                }
            }
            let name = name.unwrap_or_else(|| hs.name.clone());
            let exchange = std::path::absolute(exchange.unwrap_or_else(|| home.default_exchange(&name)))?;
            let exchange = if mail.is_some() { std::path::PathBuf::new() } else { exchange };
            let settings = SyncSettings {
                name,
                description: hs.description.clone(),
                project,
                sync_user,
                exchange_dir: exchange,
                mail,
                max_message_bytes: max_message_size,
                forward,
                replaces,
                tracker: tracker_settings,
                start: handshake::SyncStart {
                    mapping,
                    initial_resync: existing_scope.as_ref().map(|scope| resync::Pending::existing(scope).to_json()),
                    max_attachment_bytes: max_attachment_mb.map(|n| n << 20),
                },
            };
            handshake::check_accept(&conn, &hs, &settings)?;
            let (key, generated) = home.own_key_or_generate()?;
            if generated {
                eprintln!("Generated this peer's key {}", key.fingerprint());
            }
            let rec = handshake::accept(&mut conn, &key, &hs, &settings)?;
            println!("Accepted sync '{}' ({}), status: handshake", rec.name, rec.id);
            if rec.protocol == "file" {
                println!("Exchange folder:  {}", rec.exchange_dir);
            }
            println!("Existing issues:  {}", existing.say());
            println!("Own fingerprint:  {}", group_fingerprint(&key.fingerprint()));
            println!("Run `postern run` on both sides; the status becomes active once each side hears from the other.");
        }
        SyncCmd::Edit(a) => return super::sync_edit::edit(home, a),
        SyncCmd::List { json } => {
            let all = syncs::list(&conn)?;
            let now = crate::store::now_ms();
            if json {
                let v: Vec<_> = all
                    .iter()
                    .map(|s| serde_json::json!({"id": s.id, "name": s.name, "role": s.role.as_str(), "state": s.shown_state(now), "project": s.project, "protocol": s.protocol}))
                    .collect();
                return print_json(&v);
            }
            super::say_if_empty(all.len(), "no syncs in this home");
            for s in all {
                println!("{}\t{}\t{}\t{}\t{}", s.name, s.role.as_str(), s.shown_state(now), s.project, s.id);
            }
        }
        SyncCmd::Life(_) | SyncCmd::Records(_) | SyncCmd::Resync(_) | SyncCmd::Verify(_) => {
            unreachable!("handled above")
        }
        SyncCmd::Timing { sync, resend_after_secs, gap_after_secs } => {
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
        }
    }
    Ok(())
}
