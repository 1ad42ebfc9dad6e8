//! `postern run --http ADDR [--http-admin] [--http-token-file FILE]`, or
//! the same in the `[http]` section of `--config FILE`: the console's
//! options, and its token (read from the file, or made and shown once).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde::Deserialize;

use crate::console::{Options, Token};

#[derive(Debug, Args, Default)]
pub struct HttpArgs {
    /// Serve the status console, `/metrics` and `/health` on this address:
    /// `127.0.0.1:8470` when given alone, a port alone on loopback (`8470`),
    /// or ADDR:PORT (`0.0.0.0:8470`, `[::1]:8470`). Off by default.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = DEFAULT_LISTEN, value_parser = parse_listen)]
    pub http: Option<SocketAddr>,
    /// Allow actions in the console (pause/resume, retry an error, re-apply
    /// or dismiss a conflict), behind the console's token.
    #[arg(long)]
    pub http_admin: bool,
    /// The console's token (first line of the file). Without it, a token is
    /// made and shown once when one is needed (--http-admin, or an address
    /// that is not loopback).
    #[arg(long, value_name = "FILE")]
    pub http_token_file: Option<PathBuf>,
    /// A TOML file with the daemon's settings; its `[http]` section takes
    /// `listen`, `admin` and `token_file` (relative to the file). Flags win.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    http: HttpSection,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

/// A listen address: ADDR:PORT, `localhost:PORT`, or a port on loopback.
pub fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Some(port) = s.strip_prefix("localhost:").and_then(|p| p.parse::<u16>().ok()) {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    s.parse().map_err(|_| {
        format!(
            "{s:?} is not an address to listen on: give ADDR:PORT (127.0.0.1:8470, [::1]:8470, 0.0.0.0:8470) or a port"
        )
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSection {
    listen: Option<String>,
    #[serde(default)]
    admin: bool,
    token_file: Option<PathBuf>,
}

fn read_config(path: &Path) -> Result<HttpSection> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the config file {}", path.display()))?;
    let file: ConfigFile = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut http = file.http;
    if let (Some(t), Some(dir)) = (&http.token_file, path.parent()) {
        http.token_file = Some(dir.join(t));
    }
    Ok(http)
}

/// The console's options, `None` when it is off. A token made here is
/// printed once to the terminal (standard error), never to the log.
pub fn options(args: &HttpArgs) -> Result<Option<Options>> {
    let file = match &args.config {
        Some(path) => read_config(path).context("nothing was started")?,
        None => HttpSection::default(),
    };
    let listen = match &file.listen {
        Some(l) => Some(parse_listen(l).map_err(|e| anyhow::anyhow!("[http] listen in the config file: {e}"))?),
        None => None,
    };
    let Some(addr) = args.http.or(listen) else {
        if args.http_admin || args.http_token_file.is_some() {
            anyhow::bail!("--http-admin and --http-token-file need --http ADDR (or `listen` in the config's [http])");
        }
        return Ok(None);
    };
    let admin = args.http_admin || file.admin;
    let token_file = args.http_token_file.clone().or(file.token_file);
    let token = match token_file {
        Some(path) => Some(Token::from_file(&path)?),
        None if Options::needs_token(&addr, admin) => {
            let token = Token::generate();
            eprintln!("console token (shown only now; give --http-token-file to keep one): {}", token.reveal());
            Some(token)
        }
        None => None,
    };
    Ok(Some(Options { addr, admin, token }))
}

#[cfg(test)]
mod tests {
    use super::parse_listen;

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_listen("8470").unwrap().to_string(), "127.0.0.1:8470");
        assert_eq!(parse_listen("localhost:9000").unwrap().to_string(), "127.0.0.1:9000");
        assert_eq!(parse_listen("[::1]:8470").unwrap().to_string(), "[::1]:8470");
        assert_eq!(parse_listen("0.0.0.0:1").unwrap().to_string(), "0.0.0.0:1");
        let e = parse_listen("example.com:80").unwrap_err();
        assert!(e.contains("ADDR:PORT"), "{e}");
    }
}
