//! `postern attachment …`: files on issues of the embedded tracker.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;

use super::print_json;
use super::Who;
use crate::home::Home;
use crate::tracker::attachments::MAX_ATTACHMENT_BYTES;
use crate::tracker::{Actor, Content, Embedded, NewAttachment, Reads, Writes};

#[derive(Debug, Subcommand)]
pub enum AttachmentCmd {
    /// Attach a file to an issue; prints the attachment's id.
    Add {
        issue: String,
        file: PathBuf,
        /// Name to show (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        /// Media type (default: guessed from the name).
        #[arg(long = "type")]
        media_type: Option<String>,
        #[command(flatten)]
        who: Who,
    },
    /// List an issue's attachments.
    List {
        issue: String,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write an attachment's content to a file (`-` for stdout).
    Get {
        issue: String,
        id: String,
        /// File to write the content to.
        #[arg(long)]
        out: PathBuf,
    },
    /// Delete an attachment.
    Delete {
        issue: String,
        id: String,
        #[command(flatten)]
        who: Who,
    },
}

/// A media type from the file name's extension.
fn guess_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        _ => "application/octet-stream",
    }
}

pub fn attachment(home: &Home, cmd: AttachmentCmd) -> Result<()> {
    let mut conn = home.open_db()?;
    match cmd {
        AttachmentCmd::Add { issue, file, name, media_type, who } => {
            let size = std::fs::metadata(&file).with_context(|| format!("cannot read {}", file.display()))?.len();
            if size > MAX_ATTACHMENT_BYTES {
                bail!("{} is {size} bytes; attachments may be at most {MAX_ATTACHMENT_BYTES}", file.display());
            }
            let name = match name {
                Some(n) => n,
                None => file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .with_context(|| format!("{} has no file name; give --name", file.display()))?,
            };
            let media_type = media_type.unwrap_or_else(|| guess_type(&name).to_string());
            let user = who.name();
            let tx = conn.transaction()?;
            // Read as a stream: a file of any size in bounded memory.
            let new = NewAttachment {
                filename: &name,
                media_type: &media_type,
                content: Content::File { path: &file, size },
            };
            let id = Embedded::new(&tx).add_attachment(&issue, new, None, Actor::person(&user))?;
            tx.commit()?;
            println!("{id}");
        }
        AttachmentCmd::List { issue, json } => {
            let i = Embedded::new(&conn).issue(&issue)?.with_context(|| format!("issue {issue} does not exist"))?;
            if json {
                return print_json(&i.attachments);
            }
            super::say_if_empty(i.attachments.len(), &format!("no attachments on issue {issue}"));
            for a in i.attachments {
                println!("{}\t{}\t{}\t{}\t{}", a.id, a.filename, a.size, a.media_type, a.sha256);
            }
        }
        AttachmentCmd::Get { issue, id, out } => {
            let missing = || format!("attachment {id} does not exist on issue {issue}");
            if out.as_os_str() == "-" {
                let mut stdout = std::io::stdout().lock();
                Embedded::new(&conn).copy_attachment(&issue, &id, &mut stdout)?.with_context(missing)?;
            } else {
                let mut file =
                    std::fs::OpenOptions::new().write(true).create_new(true).open(&out).with_context(|| {
                        format!("cannot write {} (choose another --out if it exists)", out.display())
                    })?;
                let copied = Embedded::new(&conn).copy_attachment(&issue, &id, &mut file);
                if !matches!(copied, Ok(Some(_))) {
                    let _ = std::fs::remove_file(&out);
                }
                copied?.with_context(missing)?;
                file.sync_all().with_context(|| format!("cannot write {}", out.display()))?;
                println!("{}", out.display());
            }
        }
        AttachmentCmd::Delete { issue, id, who } => {
            let user = who.name();
            let tx = conn.transaction()?;
            Embedded::new(&tx).delete_attachment(&issue, &id, Actor::person(&user))?;
            tx.commit()?;
            println!("{id}");
        }
    }
    Ok(())
}
