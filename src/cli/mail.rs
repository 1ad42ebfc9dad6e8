//! `postern mail test`: check both mail accounts before creating a sync.

use anyhow::{bail, Result};
use clap::Subcommand;

use super::mail_args::MailArgs;
use crate::transport::mail::MailSettings;
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
    check(&mail.settings()?, false)
}

/// Checks both accounts, one line each (on stderr when stdout is for
/// data); an error if either fails.
pub fn check(settings: &MailSettings, on_stderr: bool) -> Result<()> {
    let say = |line: String| if on_stderr { eprintln!("{line}") } else { println!("{line}") };
    let t = MailTransport::new(settings.clone(), "mail-test")?;
    let mut failed = 0;
    for (what, result) in t.check_accounts() {
        match result {
            Ok(()) => say(format!("ok      {what}")),
            Err(e) => {
                failed += 1;
                say(format!("FAILED  {what}: {e:#}"));
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of 2 mail checks failed");
    }
    Ok(())
}

/// Before a sync is saved: the accounts must work, or nothing is saved.
pub fn check_before_saving(settings: &MailSettings, skip: bool) -> Result<()> {
    if skip {
        eprintln!("warning: mail accounts not checked (--skip-mail-test)");
        return Ok(());
    }
    check(settings, true).map_err(|e| {
        anyhow::anyhow!("{e}; nothing was saved (fix the settings, or add --skip-mail-test to save them unchecked)")
    })
}
