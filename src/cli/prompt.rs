//! Secrets and private files: a passphrase read without echo, files
//! written owner-only, output paths checked before anything is made.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
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

pub fn read_passphrase(passphrase: Option<String>, file: Option<PathBuf>) -> Result<String> {
    if let Some(p) = passphrase {
        return Ok(p);
    }
    if let Some(f) = file {
        let p = std::fs::read_to_string(&f).with_context(|| format!("cannot read passphrase file {}", f.display()))?;
        return Ok(p.trim().to_string());
    }
    read_secret("Passphrase (not shown): ", "passphrase (use --passphrase-file, POSTERN_PASSPHRASE or type it)")
}

pub fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    writeln!(f, "{text}")?;
    Ok(())
}

/// A file we are about to write: its folder exists and it is not a folder.
pub fn check_writable(path: &std::path::Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        bail!("cannot write {}: folder {} does not exist", path.display(), dir.display());
    }
    if path.is_dir() {
        bail!("cannot write {}: it is a folder", path.display());
    }
    Ok(())
}
