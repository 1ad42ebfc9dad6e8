//! `postern sync accept`: the slave reads a handshake file, shows it, and
//! accepts the sync.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::{group_fingerprint, parse_size};
use crate::cli::mail_args::MailArgs;
use crate::cli::prompt::read_passphrase;
use crate::cli::scope_args::ExistingArgs;
use crate::cli::tracker_args::TrackerArgs;
use crate::engine::handshake::{self, format_ms, SyncSettings};
use crate::engine::resync;
use crate::home::Home;

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// The handshake file from the master.
    #[arg(long)]
    pub file: PathBuf,
    /// The passphrase (prefer --passphrase-file or POSTERN_PASSPHRASE).
    #[arg(long, env = "POSTERN_PASSPHRASE", hide_env_values = true)]
    pub passphrase: Option<String>,
    /// Read the passphrase from this file (for scripts).
    #[arg(long, conflicts_with = "passphrase")]
    pub passphrase_file: Option<PathBuf>,
    /// Local project to synchronize.
    #[arg(long)]
    pub project: String,
    /// The user under whose name the partner's changes are made here.
    #[arg(long)]
    pub sync_user: String,
    /// Local name of the sync (default: the master's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Exchange folder holding SEND and RECEIVE (default <home>/exchange/<name>).
    #[arg(long)]
    pub exchange: Option<PathBuf>,
    /// Largest message to send or receive (see `sync create`); the
    /// master's limit applies if it is smaller.
    #[arg(long, default_value = "10MB", value_parser = parse_size)]
    pub max_message_size: u64,
    /// The largest attachment this side sends or takes, in MiB
    /// (default 2048; `sync edit` changes it).
    #[arg(long, value_name = "MIB", value_parser = super::edit::attachment_mib)]
    pub max_attachment_mb: Option<u64>,
    /// Accept without asking.
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub hub: super::HubArgs,
    /// Mail settings, when the handshake says the protocol is email.
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub tracker: TrackerArgs,
    #[command(flatten)]
    pub existing: ExistingArgs,
}

impl AcceptArgs {
    pub fn execute(self, home: &Home) -> Result<()> {
        let AcceptArgs {
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
            hub: super::HubArgs { forward, replaces },
            existing,
        } = self;
        let mut conn = home.open_db()?;
        let existing_scope = existing.scope()?;
        let data = std::fs::read(&file).with_context(|| format!("cannot read handshake file {}", file.display()))?;
        let pass = read_passphrase(passphrase, passphrase_file)?;
        let hs =
            handshake::read_handshake(&data, &pass).with_context(|| format!("handshake file {}", file.display()))?;
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
                crate::cli::mail::check_before_saving(&settings, mail.skip_mail_test)?;
                settings.partner_address = None;
                Some(settings)
            }
            other => bail!("protocol '{other}' is not supported by this postern"),
        };
        let tracker_settings = tracker.settings(&project)?;
        tracker.check_before_saving(&tracker_settings, home.root())?;
        let mapping = match &tracker.mapping {
            Some(f) => Some(crate::cli::mapping_args::load(f, &tracker_settings, &conn, &project)?),
            None => None,
        };
        if !yes {
            if !std::io::stdin().is_terminal() {
                bail!(
                    "confirmation needed: compare the fingerprint with the master's admin, then run again with --yes"
                );
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
        Ok(())
    }
}
