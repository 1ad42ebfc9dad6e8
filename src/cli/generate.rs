//! Man pages and shell completions, generated from the CLI's own
//! definition, so they never drift from it (`scripts/package.sh` puts
//! them into the Debian package; `cargo install` users run them once).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{CommandFactory, Subcommand};

#[derive(Debug, Subcommand)]
pub enum GenerateCmd {
    /// Write man pages into DIR: postern.1 and one per command
    /// (postern-sync-create.1, …).
    Man {
        /// The folder to write into (made if missing).
        dir: PathBuf,
    },
    /// Print SHELL's completion script on stdout.
    #[command(after_help = "Examples:\n  postern generate completions bash > /etc/bash_completion.d/postern\n  \
                            postern generate completions zsh > ~/.zfunc/_postern")]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

pub fn generate(c: GenerateCmd) -> Result<()> {
    let cmd = super::Cli::command();
    match c {
        GenerateCmd::Man { dir } => {
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
            let n = man(&cmd, "postern", &dir)?;
            println!("wrote {n} man pages into {}", dir.display());
        }
        GenerateCmd::Completions { shell } => {
            clap_complete::generate(shell, &mut cmd.clone(), "postern", &mut std::io::stdout());
        }
    }
    Ok(())
}

/// Writes `name`'s page and those of its visible subcommands; how many.
fn man(cmd: &clap::Command, name: &str, dir: &Path) -> Result<usize> {
    let page = cmd.clone().name(name.to_string()).bin_name(name.replace('-', " "));
    let mut text = Vec::new();
    clap_mangen::Man::new(page).render(&mut text)?;
    let file = dir.join(format!("{name}.1"));
    std::fs::write(&file, text).with_context(|| format!("cannot write {}", file.display()))?;
    let mut n = 1;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && s.get_name() != "help") {
        n += man(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(n)
}
