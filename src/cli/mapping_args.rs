//! `--mapping FILE` of `sync create|accept|edit`: the sync's mapping file,
//! read, checked (with line and column) and checked against the tracker
//! before anything is saved.

use std::path::Path;

use anyhow::{Context, Result};

use crate::engine::mapping::Mapping;
use crate::tracker::{Reads, TrackerError, TrackerSettings};

/// The text of mapping file `path`, checked, and its names checked
/// against what the tracker of `project` knows (when it can be asked).
pub fn load(path: &Path, settings: &TrackerSettings, conn: &rusqlite::Connection, project: &str) -> Result<String> {
    let context = || format!("mapping file {}; nothing was saved", path.display());
    let bytes = std::fs::read(path).with_context(|| format!("cannot read mapping file {}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
        anyhow::anyhow!("line {line}: byte {at} is not UTF-8: save the file as UTF-8 text").context(context())
    })?;
    let mapping = Mapping::parse(&text).with_context(context)?;
    one_place(settings, &mapping).with_context(context)?;
    if mapping.summary() == "no names mapped" && mapping.is_default_users() {
        return Err(
            anyhow::anyhow!("it maps nothing: to remove the sync's mapping, use --no-mapping").context(context())
        );
    }
    let tracker = crate::tracker::open(settings, conn, "check")?;
    match tracker.vocabulary(project) {
        Ok(v) => {
            mapping.check_against(&v).with_context(context)?;
            if let Some(note) = mapping.hidden_addresses(v.users.as_deref()) {
                eprintln!("note: {note}");
            }
        }
        Err(TrackerError::Unavailable { reason, .. }) => {
            eprintln!("warning: the names of the mapping file were not checked against the tracker: {reason}")
        }
        Err(TrackerError::Refused(why)) => {
            eprintln!("warning: the names of the mapping file were not checked against the tracker: {why}")
        }
        Err(e) => return Err(anyhow::Error::new(e).context(context())),
    }
    eprintln!("Mapping {}: {}", path.display(), mapping.summary());
    Ok(text)
}

/// Statuses and priorities are named in one place: the tracker's tables
/// (`--status-map`, `--priority-map`) or the mapping file, never both (a
/// name in both would be mapped twice).
pub fn one_place(settings: &TrackerSettings, mapping: &Mapping) -> Result<()> {
    let none = std::collections::BTreeMap::new();
    let (statuses, priorities) = match settings {
        TrackerSettings::Redmine(r) => (&r.statuses, &r.priorities),
        TrackerSettings::Jira(j) => (&j.statuses, &j.priorities),
        TrackerSettings::GitHub(g) => (&g.statuses, &none),
        TrackerSettings::Embedded => return Ok(()),
    };
    let (file_statuses, file_priorities) = mapping.names_statuses_and_priorities();
    for (what, table, in_file, flag) in [
        ("statuses", statuses, file_statuses, "--status-map"),
        ("priorities", priorities, file_priorities, "--priority-map"),
    ] {
        if in_file && !table.is_empty() {
            anyhow::bail!(
                "{what} are named both by {flag} and by the mapping file's table: name them in one place (the \
                 mapping file, or {flag} with no such table in the file)"
            );
        }
    }
    Ok(())
}
