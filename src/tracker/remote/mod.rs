//! What the remote backends (Redmine, Jira) share: change detection by
//! state. Each keeps what it last saw of an issue (`state`) and reports
//! what differs, by someone other than the sync user (`diff`).

pub mod diff;
pub mod state;
