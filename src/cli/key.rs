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
        #[arg(long)]
        secret: bool,
    },
}

pub fn key(home: &Home, cmd: KeyCmd) -> Result<()> {
    let key = home.own_key()?.context("this home has no key yet")?;
    match cmd {
        KeyCmd::Show => println!("{}", key.fingerprint()),
        KeyCmd::Export { secret: false } => print!("{}", key.public_armored()?),
        KeyCmd::Export { secret: true } => {
            print!(
                "{}",
                String::from_utf8(key.cert().as_tsk().armored().to_vec()?)?
            )
        }
    }
    Ok(())
}
