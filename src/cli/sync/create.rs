//! `postern sync create`: the master makes a sync and its handshake file.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use super::{group_fingerprint, parse_size};
use crate::cli::mail_args::MailArgs;
use crate::cli::print_json;
use crate::cli::prompt::{check_writable, write_private};
use crate::cli::scope_args::ExistingArgs;
use crate::cli::tracker_args::TrackerArgs;
use crate::engine::handshake::{self, format_ms, SyncSettings};
use crate::engine::resync;
use crate::home::Home;

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Name of the sync in this home (letters, digits, '-', '_', '.').
    #[arg(long)]
    pub name: String,
    /// What the sync is for; the partner sees it in the handshake.
    #[arg(long, default_value = "")]
    pub description: String,
    /// Local project to synchronize.
    #[arg(long)]
    pub project: String,
    /// The user under whose name the partner's changes are made here.
    #[arg(long)]
    pub sync_user: String,
    /// Exchange protocol, `file` or `email`; fixed for the life of the sync.
    #[arg(long, default_value = "file", value_parser = ["file", "email"])]
    pub protocol: String,
    /// Exchange folder holding SEND and RECEIVE (default <home>/exchange/<name>).
    #[arg(long)]
    pub exchange: Option<PathBuf>,
    /// Largest message to send or receive, e.g. 10MB, 512KiB (both sides
    /// use the smaller of their two limits; larger changes are split).
    #[arg(long, default_value = "10MB", value_parser = parse_size)]
    pub max_message_size: u64,
    /// The largest attachment this side sends or takes, in MiB
    /// (default 2048; `sync edit` changes it).
    #[arg(long, value_name = "MIB", value_parser = super::edit::attachment_mib)]
    pub max_attachment_mb: Option<u64>,
    /// Where to write the handshake file (default ./<name>.handshake.asc).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Days until the handshake file expires.
    #[arg(long, default_value_t = 7)]
    pub expires_days: u32,
    /// Write the passphrase to this file (mode 0600) instead of showing
    /// it, for scripts (`--json` still includes it).
    #[arg(long)]
    pub passphrase_out: Option<PathBuf>,
    /// Print the result as JSON (includes the passphrase).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub hub: super::HubArgs,
    #[command(flatten)]
    pub mail: MailArgs,
    #[command(flatten)]
    pub tracker: TrackerArgs,
    #[command(flatten)]
    pub existing: ExistingArgs,
}

impl CreateArgs {
    pub fn execute(self, home: &Home) -> Result<()> {
        let CreateArgs {
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
            hub: super::HubArgs { forward, replaces },
            existing,
        } = self;
        let mut conn = home.open_db()?;
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
            crate::cli::mail::check_before_saving(&settings, mail.skip_mail_test)?;
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
                Some(f) => Some(crate::cli::mapping_args::load(f, &settings.tracker, &conn, &settings.project)?),
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
        Ok(())
    }
}
