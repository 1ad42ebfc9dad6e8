//! `postern key …`: show and export this peer's key.

use anyhow::{Context, Result};
use clap::Subcommand;
use sequoia_openpgp::serialize::SerializeInto;

use crate::home::Home;

#[derive(Debug, Subcommand)]
pub enum KeyCmd {
    /// Print the fingerprint.
    Show,
    /// Print the certificate, armored (with --secret: the secret key, for
    /// an auditor decrypting the message trail with GnuPG or sq).
    Export {
        /// Export the secret key instead (for an auditor decrypting the message trail).
        #[arg(long, conflicts_with_all = ["sync", "partner"])]
        secret: bool,
        /// The certificate as the partner of this sync has it: its user id
        /// names the sync, the side and the mail address.
        #[arg(long, value_name = "SYNC", conflicts_with = "partner")]
        sync: Option<String>,
        /// The partner's certificate pinned for this sync (what an auditor
        /// of this side imports to check the partner's signatures).
        #[arg(long, value_name = "SYNC")]
        partner: Option<String>,
    },
    /// Replace this peer's key without a new handshake: each partner gets
    /// the new certificate signed by the old key (stop the daemon first).
    Rotate,
    /// Use an existing armored secret key as this peer's key (only before
    /// the home has a key).
    Import { file: std::path::PathBuf },
}

pub fn key(home: &Home, cmd: KeyCmd) -> Result<()> {
    if let KeyCmd::Import { file } = &cmd {
        if let Some(k) = home.own_key()? {
            anyhow::bail!("this home already has the key {}; its syncs are pinned to it", k.fingerprint());
        }
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let cert = crate::crypto::cert_from_armored(&bytes).with_context(|| format!("{}", file.display()))?;
        let key = crate::crypto::OwnKey::from_cert(cert)
            .with_context(|| format!("{} is not a secret key", file.display()))?;
        key.store(&home.keys_dir())?;
        println!("{}", key.fingerprint());
        return Ok(());
    }
    if let KeyCmd::Rotate = cmd {
        let mut peer = crate::engine::Peer::open(home.clone())?;
        let (old, new, told) = crate::engine::rekey::rotate(&mut peer)?;
        println!("{new}");
        eprintln!("Rotated the key {old} -> {new}; the old key is kept in keys/retired/.");
        eprintln!(
            "The new certificate, signed by the old key, is queued for: {}",
            if told.is_empty() { "no sync".into() } else { told.join(", ") }
        );
        return Ok(());
    }
    if let KeyCmd::Export { partner: Some(name), .. } = &cmd {
        let sync = crate::store::syncs::find(&home.open_db()?, name)?;
        let cert = sync.partner_cert.with_context(|| format!("sync '{}' has no partner yet", sync.name))?;
        print!("{cert}");
        return Ok(());
    }
    let key = home.own_key()?.context("this home has no key yet")?;
    match cmd {
        KeyCmd::Show => println!("{}", key.fingerprint()),
        KeyCmd::Export { secret: false, sync: Some(name), .. } => {
            let sync = crate::store::syncs::find(&home.open_db()?, &name)?;
            print!("{}", key.public_for(&crate::engine::own_user_id(&sync))?)
        }
        KeyCmd::Export { secret: false, .. } => print!("{}", key.public_armored()?),
        KeyCmd::Export { secret: true, .. } => {
            print!("{}", String::from_utf8(key.cert().as_tsk().armored().to_vec()?)?)
        }
        KeyCmd::Import { .. } | KeyCmd::Rotate => unreachable!("handled above"),
    }
    Ok(())
}
