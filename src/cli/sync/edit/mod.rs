//! `postern sync edit`: change where a sync's messages go (mail accounts,
//! the exchange folder). The protocol is fixed when the sync is created:
//! the partner and the handshake depend on it.

mod tracker;

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;

use crate::cli::mail_args::MailArgs;
use crate::home::Home;
use crate::store::syncs;
use crate::transport::mail::MailSettings;
use crate::transport::FileTransport;

impl EditArgs {
    /// Whether a tracker's settings or name tables are to change.
    fn tracker_given(&self) -> bool {
        self.status_map.is_some() || self.priority_map.is_some() || self.redmine_or_jira_given() || self.github_given()
    }

    /// Whether Redmine's or Jira's settings are to change.
    pub(super) fn redmine_or_jira_given(&self) -> bool {
        self.redmine_url.is_some()
            || self.redmine_key_file.is_some()
            || self.redmine_key_env.is_some()
            || self.redmine_ca_file.is_some()
            || self.redmine_rescan_secs.is_some()
            || self.redmine_timeout_secs.is_some()
            || self.redmine_labels_field.is_some()
            || self.jira_url.is_some()
            || self.jira_token_file.is_some()
            || self.jira_token_env.is_some()
            || self.jira_ca_file.is_some()
            || self.jira_rescan_secs.is_some()
            || self.jira_timeout_secs.is_some()
            || self.jira_webhook_secret_file.is_some()
    }

    pub(super) fn github_given(&self) -> bool {
        self.github_url.is_some()
            || self.github_token_file.is_some()
            || self.github_token_env.is_some()
            || self.github_app_key_file.is_some()
            || self.github_ca_file.is_some()
            || self.github_webhook_secret_file.is_some()
            || self.github_rescan_secs.is_some()
            || self.github_timeout_secs.is_some()
    }
}

impl EditArgs {
    /// Whether anything but the verify settings is to change.
    fn others_given(&self) -> bool {
        self.max_attachment_mb.is_some()
            || self.mapping.is_some()
            || self.no_mapping
            || self.mass_change_threshold.is_some()
            || self.field_owner.is_some()
            || self.exchange.is_some()
            || self.mail.given()
            || self.forward.is_some()
            || self.tracker_given()
    }
}

/// `--verify-every`: `0` (only when asked), or a number with `s`, `m`, `h`
/// or `d`, at least a minute. In ms.
pub(super) fn verify_every(text: &str) -> Result<i64, String> {
    if text.trim() == "0" {
        return Ok(0);
    }
    let t = text.trim();
    let (n, unit) = t.split_at(t.len().saturating_sub(1));
    let ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("takes 0 or a time such as 90m, 6h or 1d, not {text}")),
    };
    match n.parse::<i64>() {
        Ok(n) if n > 0 && n.saturating_mul(ms) >= 60_000 && n <= 100_000 => Ok(n * ms),
        _ => Err(format!("takes 0 or a time of at least a minute such as 90m, 6h or 1d, not {text}")),
    }
}

/// "day", "6 hours", "90 minutes".
fn every(ms: i64) -> String {
    let (n, one) = match ms {
        ms if ms % 86_400_000 == 0 => (ms / 86_400_000, "day"),
        ms if ms % 3_600_000 == 0 => (ms / 3_600_000, "hour"),
        ms if ms % 60_000 == 0 => (ms / 60_000, "minute"),
        ms => (ms / 1000, "second"),
    };
    if n == 1 {
        one.to_string()
    } else {
        format!("{n} {one}s")
    }
}

/// `--max-attachment-mb`: 1 MiB to 1 TiB.
pub(super) fn attachment_mib(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if (1..=1 << 20).contains(&n) => Ok(n),
        _ => Err(format!("takes 1 to 1048576 (MiB), not {text}")),
    }
}

#[derive(Debug, Args)]
pub struct EditArgs {
    pub(super) sync: String,
    /// Refused unless it is the sync's own protocol (it cannot change).
    #[arg(long)]
    protocol: Option<String>,
    /// New exchange folder holding SEND and RECEIVE (file protocol).
    #[arg(long)]
    exchange: Option<PathBuf>,
    /// New mail settings, complete, as flags or --mail-config (email protocol).
    /// Pass on changes other syncs of this home applied (`on`: a hub), or
    /// not (`off`, the default).
    #[arg(long, value_parser = ["on", "off"])]
    forward: Option<String>,
    /// Redmine: add or change status pairs (PARTNER=OURS, comma-separated;
    /// "PARTNER=" removes one); the other pairs stay. Then `postern errors
    /// retry` what was refused.
    #[arg(long, value_name = "PAIRS")]
    pub(super) status_map: Option<String>,
    /// Redmine: add, change or remove priority pairs, as for --status-map.
    #[arg(long, value_name = "PAIRS")]
    pub(super) priority_map: Option<String>,
    /// Redmine: its new base URL.
    #[arg(long, value_name = "URL")]
    pub(super) redmine_url: Option<String>,
    /// Redmine: read the API key from this file from now on.
    #[arg(long, value_name = "FILE")]
    pub(super) redmine_key_file: Option<String>,
    /// Redmine: read the API key from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub(super) redmine_key_env: Option<String>,
    /// Redmine: trust this CA certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub(super) redmine_ca_file: Option<String>,
    /// Redmine: seconds between full reads of the synced issues.
    #[arg(long, value_name = "SECS")]
    pub(super) redmine_rescan_secs: Option<u64>,
    /// Redmine: seconds an answer may take before postern gives up on it.
    #[arg(long, value_name = "SECS")]
    pub(super) redmine_timeout_secs: Option<u64>,
    /// Redmine: the custom field (by name) that holds labels, or
    /// "(category)" for the issue category; "" stops syncing labels with
    /// Redmine.
    #[arg(long, value_name = "NAME")]
    pub(super) redmine_labels_field: Option<String>,
    /// Jira: its new base URL.
    #[arg(long, value_name = "URL")]
    pub(super) jira_url: Option<String>,
    /// Jira: read the token from this file from now on.
    #[arg(long, value_name = "FILE")]
    pub(super) jira_token_file: Option<String>,
    /// Jira: read the token from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub(super) jira_token_env: Option<String>,
    /// Jira: trust this CA certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub(super) jira_ca_file: Option<String>,
    /// Jira: seconds between full reads of the synced issues.
    #[arg(long, value_name = "SECS")]
    pub(super) jira_rescan_secs: Option<u64>,
    /// Jira: seconds an answer may take before postern gives up on it.
    #[arg(long, value_name = "SECS")]
    pub(super) jira_timeout_secs: Option<u64>,
    /// Jira: the file holding the webhooks' secret ("" to take no
    /// webhooks).
    #[arg(long, value_name = "FILE")]
    pub(super) jira_webhook_secret_file: Option<String>,
    /// GitHub: its new address (an Enterprise Server's, or github.com).
    #[arg(long, value_name = "URL")]
    pub(super) github_url: Option<String>,
    /// GitHub: read the token from this file from now on.
    #[arg(long, value_name = "FILE")]
    pub(super) github_token_file: Option<String>,
    /// GitHub: read the token from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub(super) github_token_env: Option<String>,
    /// GitHub: read the App's private key from this file from now on.
    #[arg(long, value_name = "FILE")]
    pub(super) github_app_key_file: Option<String>,
    /// GitHub: trust this CA certificate (PEM).
    #[arg(long, value_name = "FILE")]
    pub(super) github_ca_file: Option<String>,
    /// GitHub: the file holding the webhooks' secret ("" to take no
    /// webhooks).
    #[arg(long, value_name = "FILE")]
    pub(super) github_webhook_secret_file: Option<String>,
    /// GitHub: seconds between full reads of the synced issues.
    #[arg(long, value_name = "SECS")]
    pub(super) github_rescan_secs: Option<u64>,
    /// GitHub: seconds an answer may take before postern gives up on it.
    #[arg(long, value_name = "SECS")]
    pub(super) github_timeout_secs: Option<u64>,
    /// Fields one side owns (FIELD=master|slave, comma-separated;
    /// FIELD=latest: the later edit wins again, the default): only the
    /// owner's edits of them cross, and win any conflict.
    #[arg(long, value_name = "PAIRS")]
    pub(super) field_owner: Option<String>,
    /// How many issues one cycle may create or change on the partner's
    /// side before it waits for `sync allow-mass-change` (0: no limit).
    #[arg(long, value_name = "N")]
    pub(super) mass_change_threshold: Option<u64>,
    /// The largest attachment this side sends or takes, in MiB (default
    /// 2048). A larger one does not cross and is listed by `status` and
    /// `errors list`.
    #[arg(long, value_name = "MIB", value_parser = attachment_mib)]
    max_attachment_mb: Option<u64>,
    /// How often this side verifies that both trackers agree (`sync
    /// verify`), e.g. 6h or 1d (the default); 0: only when asked.
    #[arg(long, value_name = "TIME", value_parser = verify_every)]
    verify_every: Option<i64>,
    /// What a scheduled verify does with what differs: `report` it (in
    /// `status`, the console and `/metrics`; the default) or `repair` it.
    #[arg(long, value_parser = ["report", "repair"])]
    verify_policy: Option<String>,
    /// Save Redmine settings without checking them against Redmine.
    #[arg(long)]
    pub(super) skip_tracker_check: bool,
    /// Replace the sync's mapping file (TOML; see docs/mappings.md). Then
    /// `postern errors retry` what was refused for want of a mapping.
    #[arg(long, value_name = "FILE", conflicts_with = "no_mapping")]
    mapping: Option<PathBuf>,
    /// Remove the sync's mapping: names cross as they are.
    #[arg(long)]
    no_mapping: bool,
    #[command(flatten)]
    mail: MailArgs,
}

const GIVE: &str = "give what to change: --mapping, --no-mapping, --field-owner, --mass-change-threshold, \
                    --max-attachment-mb, --verify-every, --verify-policy, --forward, ";

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
    if a.verify_every.is_some() || a.verify_policy.is_some() {
        let mut v = crate::store::verify::setting(&conn, &sync.id)?;
        v.every_ms = a.verify_every.unwrap_or(v.every_ms);
        v.policy = a.verify_policy.clone().unwrap_or(v.policy);
        crate::store::verify::set_setting(&conn, &sync.id, &v)?;
        match v.every_ms {
            0 => println!("Sync '{}' is verified only when asked (`postern sync verify`)", sync.name),
            ms => println!(
                "Sync '{}' is verified every {} and what differs is {}",
                sync.name,
                every(ms),
                if v.policy == "repair" { "repaired" } else { "reported" }
            ),
        }
        if !a.others_given() {
            return Ok(());
        }
    }
    if let Some(n) = a.max_attachment_mb {
        crate::store::transfers::set_max_bytes(&conn, &sync.id, n << 20)?;
        println!(
            "Sync '{}': attachments up to {n} MiB cross; a larger one is not sent or taken and is listed by \
             `status` and `errors list` (the partner's own limit applies to what it sends and takes)",
            sync.name
        );
        let more = a.mapping.is_some()
            || a.no_mapping
            || a.mass_change_threshold.is_some()
            || a.field_owner.is_some()
            || a.exchange.is_some()
            || mail_given
            || a.forward.is_some()
            || a.tracker_given();
        if !more {
            return Ok(());
        }
    }
    if a.mapping.is_some() || a.no_mapping {
        let text = match &a.mapping {
            Some(f) => {
                let settings = crate::engine::tracker_of::settings(&sync)?;
                Some(crate::cli::mapping_args::load(f, &settings, &conn, &sync.project)?)
            }
            None => None,
        };
        syncs::set_mapping(&conn, &sync.id, text.as_deref())?;
        match &a.mapping {
            Some(f) => println!("Sync '{}' maps names by {}", sync.name, f.display()),
            None => println!("Sync '{}' has no mapping: names cross as they are", sync.name),
        }
        let more = a.mass_change_threshold.is_some()
            || a.field_owner.is_some()
            || a.exchange.is_some()
            || mail_given
            || a.forward.is_some()
            || a.tracker_given();
        if !more {
            return Ok(());
        }
    }
    if let Some(n) = a.mass_change_threshold {
        crate::engine::mass::set_threshold(&conn, &sync.id, n)?;
        match n {
            0 => println!("Sync '{}': no mass-change threshold", sync.name),
            n => {
                let n = crate::cli::plural(n, "issue", "issues");
                println!("Sync '{}': a cycle creating or changing more than {n} waits for the admin", sync.name)
            }
        }
        if a.field_owner.is_none() && a.exchange.is_none() && !mail_given && a.forward.is_none() && !a.tracker_given() {
            return Ok(());
        }
    }
    if let Some(spec) = &a.field_owner {
        println!("{}", crate::engine::admin::set_field_owners(&conn, &sync, spec)?);
        if a.exchange.is_none() && !mail_given && a.forward.is_none() && !a.tracker_given() {
            return Ok(());
        }
    }
    if a.tracker_given() {
        tracker::edit(home, &conn, &sync, &a)?;
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
                bail!("nothing to change: {GIVE}or the new mail settings (flags or --mail-config); see --help");
            }
            let mut new = a.mail.settings()?;
            let old: Option<MailSettings> = sync.mail.as_deref().and_then(|m| serde_json::from_str(m).ok());
            // The same server, account and mailbox: where it was read up
            // to still holds (a new password, another SMTP relay).
            let same_mailbox = old.as_ref().is_some_and(|o| {
                (&o.imap.host, o.imap.port, &o.imap.username, &o.mailbox)
                    == (&new.imap.host, new.imap.port, &new.imap.username, &new.mailbox)
            });
            new.partner_address = old.and_then(|o| o.partner_address);
            crate::cli::mail::check_before_saving(&new, a.mail.skip_mail_test)?;
            let tx = conn.unchecked_transaction()?;
            syncs::set_mail(&tx, &sync.id, &serde_json::to_string(&new)?)?;
            if !same_mailbox {
                // Another server or mailbox: read it from the start (digests
                // keep anything from being applied twice).
                syncs::forget_mailbox_position(&tx, &sync.id)?;
            }
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
                bail!("nothing to change: {GIVE}--exchange; see --help");
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
                    crate::cli::plural(sent as u64, "message", "messages"),
                    crate::cli::plural(received as u64, "message", "messages")
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
