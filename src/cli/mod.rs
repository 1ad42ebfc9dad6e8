//! The command line: one file per subcommand group. Data goes to stdout,
//! logs to stderr.

mod attachment;
mod bench;
mod conflicts;
pub(crate) mod demo;
mod errors;
mod generate;
mod github_args;
pub mod help;
mod jira_args;
mod key;
mod mail;
mod mail_args;
mod mail_config;
mod mapping_args;
mod prompt;
mod run;
mod run_http;
mod scope_args;
pub(crate) mod status;
mod sync;
mod tracker;
mod tracker_args;
mod tracker_more;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::home::{Home, HOME_ENV};

/// Keeps the issues of two trackers in sync across firewalls, through
/// signed, encrypted, numbered messages in shared folders or by mail.
#[derive(Debug, Parser)]
#[command(
    name = "postern",
    version,
    after_help = "Start with `postern demo` (two peers syncing on this machine). A first sync of your own: \
                  `postern sync create --help` (the vendor's side) and `postern sync accept --help` (the \
                  customer's). `man postern-<command>` or `postern help <command>` for each command."
)]
pub struct Cli {
    /// The peer's home folder (database, keys, exchange folders).
    #[arg(long, global = true, env = HOME_ENV, help_heading = "Global options")]
    pub home: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug, -vvv trace); or set
    /// POSTERN_LOG to a filter such as `postern=debug`. No level shows a
    /// password.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, accept, list and inspect synchronizations.
    #[command(subcommand)]
    Sync(Box<sync::SyncCmd>),
    /// Run every sync of the home, over folders and mail (a daemon;
    /// `--once` for one cycle).
    Run(run::RunArgs),
    /// Show the state of every sync.
    Status(status::StatusArgs),
    /// Issues whose incoming changes are blocked by an error.
    #[command(subcommand)]
    Errors(errors::ErrorsCmd),
    /// Edits both sides made to the same field before hearing of each other.
    #[command(subcommand)]
    Conflicts(conflicts::ConflictsCmd),
    /// This peer's OpenPGP key.
    #[command(subcommand)]
    Key(key::KeyCmd),
    /// Check mail accounts for the email protocol.
    #[command(subcommand)]
    Mail(Box<mail::MailCmd>),
    /// Projects of the embedded tracker.
    #[command(subcommand)]
    Project(tracker::ProjectCmd),
    /// Issues of the embedded tracker.
    #[command(subcommand)]
    Issue(tracker::IssueCmd),
    /// Comments on issues of the embedded tracker.
    #[command(subcommand)]
    Comment(tracker::CommentCmd),
    /// Log, change or delete time on an issue of the embedded tracker.
    #[command(subcommand)]
    Worklog(tracker_more::WorklogCmd),
    /// The embedded tracker's users (names and e-mail addresses, which
    /// mappings match on).
    #[command(subcommand)]
    User(tracker_more::UserCmd),
    /// Files attached to issues of the embedded tracker.
    #[command(subcommand)]
    Attachment(attachment::AttachmentCmd),
    /// Two peers on one machine, syncing over folders, from scratch.
    Demo(demo::DemoArgs),
    /// Measure throughput, latency, initial sync and memory against a
    /// gpg-per-message baseline (two real peers in a temporary folder).
    Bench(bench::BenchArgs),
    /// Man pages and shell completions, from this program's own commands.
    #[command(subcommand)]
    Generate(generate::GenerateCmd),
}

/// Logging to stderr: `POSTERN_LOG` (an `EnvFilter`), else by `-v`; the
/// daemon (`daemon`) also says at the default level what it runs and each
/// cycle that moved something. No level or filter shows a mail password
/// or a tracker's credentials: the IMAP and SMTP libraries' trace output
/// (which carries the LOGIN command) and the HTTP client's debug and trace
/// output (which dumps requests, headers and all) are always dropped.
pub fn init_logging(verbose: u8, daemon: bool) {
    use tracing_subscriber::filter::{filter_fn, FilterExt};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let default = match verbose {
        0 if daemon => "warn,postern::daemon=info",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("POSTERN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let no_secrets = filter_fn(|m| {
        let (level, target) = (*m.level(), m.target());
        !((level == tracing::Level::TRACE && is_protocol_library(target))
            || (level >= tracing::Level::DEBUG && is_library(target, &["ureq", "ureq_proto"])))
    });
    // Colours only on a terminal: files and journald get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let layer = tracing_subscriber::fmt::layer().with_ansi(ansi).with_writer(std::io::stderr);
    let _ = tracing_subscriber::registry().with(layer.with_filter(filter.and(no_secrets))).try_init();
}

/// Libraries whose trace output shows protocol lines with credentials.
fn is_protocol_library(target: &str) -> bool {
    is_library(target, &["async_imap", "imap_proto", "lettre"])
}

fn is_library(target: &str, libraries: &[&str]) -> bool {
    libraries.iter().any(|l| target == *l || target.starts_with(&format!("{l}::")))
}

pub fn run(cli: Cli) -> Result<()> {
    let root = cli.home.clone().unwrap_or_else(Home::default_root);
    // Only commands that make something may make a home; the others say
    // that there is none (a mistyped --home must not leave one behind).
    let home = || Home::create(&root);
    let existing = || Home::existing(&root);
    match cli.command {
        Command::Project(c) => tracker::project(&home()?, c),
        Command::Issue(c) => tracker::issue(&existing()?, c),
        Command::Comment(c) => tracker::comment(&existing()?, c),
        Command::Worklog(c) => tracker_more::worklog(&existing()?, c),
        Command::User(c) => tracker_more::user(&existing()?, c),
        Command::Attachment(c) => attachment::attachment(&existing()?, c),
        // A sync of a remote tracker needs no embedded project: it may make
        // the home (and removes it again if it fails).
        Command::Sync(c) if c.remote_tracker() && !root.exists() => {
            let result = sync::sync(&home()?, *c);
            if result.is_err() {
                let _ = std::fs::remove_dir_all(&root);
            }
            result
        }
        Command::Sync(c) => match c.without_home() {
            Ok(done) => done,
            Err(c) => sync::sync(&existing()?, *c),
        },
        Command::Errors(c) => errors::errors(&existing()?, c),
        Command::Conflicts(c) => conflicts::conflicts(&existing()?, c),
        Command::Key(c) if matches!(c, key::KeyCmd::Import { .. }) => key::key(&home()?, c),
        Command::Key(c) => key::key(&existing()?, c),
        Command::Mail(c) => mail::mail(*c),
        Command::Run(a) => run::run(existing()?, a),
        Command::Status(a) => status::status(&existing()?, a),
        Command::Demo(a) => demo::demo(a),
        Command::Bench(a) => bench::run(a),
        Command::Generate(c) => generate::generate(c),
    }
}

pub(crate) use crate::words::plural;

/// Prints a value as pretty JSON on stdout.
/// A table with no rows says so (on stdout, like the rows would be).
pub(crate) fn say_if_empty(len: usize, what: &str) {
    if len == 0 {
        println!("{what}");
    }
}

pub(crate) fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// The user doing tracker writes from the command line.
pub(crate) fn default_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "admin".into())
}

/// Who makes a change in the embedded tracker (`--as`; the login user by
/// default).
#[derive(Debug, clap::Args)]
pub struct Who {
    /// The user making the change.
    #[arg(long = "as", value_name = "USER")]
    user: Option<String>,
}

impl Who {
    pub(crate) fn name(&self) -> String {
        self.user.clone().unwrap_or_else(default_user)
    }
}
