//! `--mapping FILE` of `sync create|accept|edit`: the sync's mapping file,
//! read, checked (with line and column) and checked against the tracker
//! before anything is saved.

use std::path::Path;

use anyhow::{Context, Result};

use crate::engine::mapping::Mapping;
use crate::tracker::{Tracker, TrackerError, TrackerSettings};

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
    if mapping.summary() == "no names mapped" && mapping.is_default_users() {
        return Err(
            anyhow::anyhow!("it maps nothing: to remove the sync's mapping, use --no-mapping").context(context())
        );
    }
    let tracker = crate::tracker::open(settings, conn, "check")?;
    match tracker.vocabulary(project) {
        Ok(v) => mapping.check_against(&v).with_context(context)?,
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
