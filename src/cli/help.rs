//! `postern --help`: the commands under headings, by what an admin uses
//! them for (clap lists subcommands in one block). Man pages and
//! completions take the commands as they are.

use clap::{CommandFactory, FromArgMatches};

/// The commands by what they are for, in the order they are shown.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("Syncing", &["sync", "run", "status", "errors", "conflicts"]),
    ("Keys and mail", &["key", "mail"]),
    ("The embedded tracker", &["project", "issue", "comment", "worklog", "user", "attachment"]),
    ("Trying and measuring", &["demo", "bench"]),
    ("Packaging", &["generate"]),
];

/// The command line with its commands listed under [`GROUPS`].
pub fn command() -> clap::Command {
    let mut cmd = super::Cli::command();
    let width = GROUPS.iter().flat_map(|(_, names)| names.iter()).map(|n| n.len()).max().unwrap_or(0);
    let mut listing = String::new();
    for (heading, names) in GROUPS {
        listing.push_str(&format!("{heading}:\n"));
        for name in *names {
            let about = cmd.find_subcommand(name).and_then(|s| s.get_about()).map(|a| a.to_string());
            listing.push_str(&format!("  {name:width$}  {}\n", about.unwrap_or_default()));
        }
        listing.push('\n');
    }
    let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |s| s.hide(true));
    }
    // The commands are hidden from clap's own list only: the usage still
    // names one.
    cmd.override_usage("postern [OPTIONS] <COMMAND>").help_template(format!(
        "{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{listing}{{all-args}}{{after-help}}"
    ))
}

/// The command line, parsed (a mistake or `--help` exits as clap does).
pub fn parse() -> super::Cli {
    super::Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_under_one_heading() {
        let cmd = super::super::Cli::command();
        let mut listed: Vec<&str> = GROUPS.iter().flat_map(|(_, n)| n.iter().copied()).collect();
        let mut all: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
        listed.sort();
        all.sort();
        assert_eq!(listed, all);
        let help = command().render_help().to_string();
        for (heading, _) in GROUPS {
            assert!(help.contains(&format!("{heading}:\n")), "{help}");
        }
        assert!(help.contains("  worklog     Log, change or delete time"), "{help}");
        assert!(!help.contains("Commands:"), "{help}");
    }
}
