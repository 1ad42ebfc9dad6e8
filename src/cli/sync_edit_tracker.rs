//! `postern sync edit` of a Redmine sync: its address, key, CA, rescan
//! period and name tables, checked against Redmine before they are saved.

use anyhow::{bail, Result};

use super::mail_args::absolute;
use super::sync_edit::EditArgs;
use super::tracker_args::check_redmine;
use crate::home::Home;
use crate::store::{syncs, SyncRecord};
use crate::tracker::redmine::settings::parse_map;
use crate::tracker::TrackerSettings;
use crate::transport::mail::Password;

/// `PARTNER=OURS` pairs merged into `table`; `PARTNER=` removes a pair.
fn merge(flag: &str, table: &mut std::collections::BTreeMap<String, String>, text: &str) -> Result<()> {
    let removed: Vec<String> =
        text.split(',').map(str::trim).filter_map(|p| p.strip_suffix('=').map(|t| t.trim().to_string())).collect();
    let rest: Vec<&str> = text.split(',').map(str::trim).filter(|p| !p.ends_with('=')).collect();
    for t in &removed {
        if table.remove(t).is_none() {
            bail!("--{flag}: there is no pair for '{t}' to remove");
        }
    }
    table.extend(parse_map(flag, &rest.join(","))?);
    Ok(())
}

pub fn edit(home: &Home, conn: &rusqlite::Connection, sync: &SyncRecord, a: &EditArgs) -> Result<()> {
    let current = match sync.tracker.as_deref() {
        Some(json) => serde_json::from_str(json)?,
        None => TrackerSettings::Embedded,
    };
    let mut s = match current {
        TrackerSettings::Redmine(s) => s,
        TrackerSettings::Embedded => {
            bail!("sync '{}' uses the embedded tracker: Redmine settings and name tables do not apply", sync.name)
        }
        TrackerSettings::Jira(_) => bail!(
            "sync '{}' uses Jira: Redmine settings do not apply, and Jira's cannot be edited yet (give them at \
             `sync create`/`accept`; a mapping file maps names: `sync edit --mapping FILE`)",
            sync.name
        ),
    };
    if let Some(t) = &a.status_map {
        merge("status-map", &mut s.statuses, t)?;
    }
    if let Some(t) = &a.priority_map {
        merge("priority-map", &mut s.priorities, t)?;
    }
    if let Some(u) = &a.redmine_url {
        s.url = u.clone();
    }
    match (&a.redmine_key_file, &a.redmine_key_env) {
        (Some(_), Some(_)) => bail!("give the Redmine API key one way only"),
        (Some(f), None) => s.api_key = Password::File(absolute(f)?),
        (None, Some(e)) => s.api_key = Password::Env(e.clone()),
        (None, None) => {}
    }
    if let Some(f) = &a.redmine_ca_file {
        s.ca_file = Some(absolute(f)?);
    }
    if let Some(secs) = a.redmine_rescan_secs {
        s.rescan_secs = secs;
    }
    s.check()?;
    check_redmine(&s, home.root(), a.skip_tracker_check)?;
    let json = serde_json::to_string(&TrackerSettings::Redmine(s.clone()))?;
    syncs::set_tracker(conn, &sync.id, Some(&json))?;
    let show = |m: &std::collections::BTreeMap<String, String>| {
        if m.is_empty() {
            "(same names on both sides)".to_string()
        } else {
            m.iter().map(|(t, o)| format!("{t}={o}")).collect::<Vec<_>>().join(", ")
        }
    };
    println!("Sync '{}': Redmine {}, project {}", sync.name, s.base(), s.project);
    println!("  statuses   {}", show(&s.statuses));
    println!("  priorities {}", show(&s.priorities));
    println!("A running daemon uses this from its next cycle. Issues refused for a missing name: `postern errors list {}`, then `postern errors retry`.", sync.name);
    Ok(())
}
