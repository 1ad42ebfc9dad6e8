//! `postern mail test`: check both mail accounts before creating a sync.

use anyhow::{bail, Result};
use clap::Subcommand;

use super::mail_args::MailArgs;
use crate::transport::MailTransport;

#[derive(Debug, Subcommand)]
pub enum MailCmd {
    /// Log in to IMAP (and open the mailbox) and to SMTP; send nothing.
    Test {
        #[command(flatten)]
        mail: MailArgs,
    },
}

pub fn mail(cmd: MailCmd) -> Result<()> {
    let MailCmd::Test { mail } = cmd;
    let t = MailTransport::new(mail.settings()?, "mail-test")?;
    let mut failed = 0;
    for (what, result) in t.check_accounts() {
        match result {
            Ok(()) => println!("ok      {what}"),
            Err(e) => {
                failed += 1;
                println!("FAILED  {what}: {e:#}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of 2 mail checks failed");
    }
    Ok(())
}
