//! Reading a secret typed at a terminal, without echoing it.

use std::io::{BufRead, Write};

use anyhow::{bail, Result};
use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions, Termios};

/// Puts the terminal's echo back when dropped (also on an error).
struct EchoOff {
    saved: Termios,
}

impl EchoOff {
    fn new() -> Option<Self> {
        let stdin = rustix::stdio::stdin();
        let saved = tcgetattr(stdin).ok()?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        quiet.local_modes.insert(LocalModes::ECHONL);
        tcsetattr(stdin, OptionalActions::Flush, &quiet).ok()?;
        Some(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = tcsetattr(rustix::stdio::stdin(), OptionalActions::Flush, &self.saved);
    }
}

/// Asks for a secret on stderr and reads one line from stdin; on a
/// terminal what is typed is not shown.
pub fn read_secret(prompt: &str, what: &str) -> Result<String> {
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let _quiet = EchoOff::new();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let secret = line.trim().to_string();
    if secret.is_empty() {
        bail!("no {what} given");
    }
    Ok(secret)
}
