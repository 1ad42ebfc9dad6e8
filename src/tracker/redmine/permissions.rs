//! The sync user's permissions in the project, from its roles (Redmine
//! lets any user read its memberships and a role's permissions): those a
//! sync cannot work without stop the setup; those it can are named with
//! what happens without them. Refusals Redmine words vaguely ("User is
//! invalid") are put in those terms.

use crate::tracker::remote::rest::Rest;
use std::collections::BTreeSet;

use super::api::Api;
use crate::tracker::{Refusal, TResult, TrackerError};

/// Permissions a sync needs, with what each is for.
pub const NEEDED: &[(&str, &str)] = &[
    ("view_issues", "see the project's issues"),
    ("add_issues", "make the partner's new issues"),
    ("edit_issues", "carry field changes and files"),
    ("add_issue_notes", "add the partner's comments"),
];

/// Permissions a sync works without, with what happens then (`true`: only
/// with time tracking on).
pub const ADVISED: &[(&str, &str, bool)] = &[
    ("edit_own_issue_notes", "a partner's edit or deletion of its own comment is refused on its issue", false),
    ("edit_issue_notes", "a partner's edit or deletion of a note a Redmine user wrote is refused on its issue", false),
    ("view_time_entries", "the issue's time entries are not read, so none crosses to the partner", true),
    ("log_time", "a partner's worklog is refused on its issue", true),
    ("edit_own_time_entries", "a partner's edit or deletion of a worklog is refused on its issue", true),
    (
        "log_time_for_other_users",
        "a worklog the mapping gives to another Redmine user is refused on its issue (\"User is invalid\")",
        true,
    ),
];

/// The sync user's permissions in project `project_id` (`None`: an admin,
/// who has them all).
pub fn granted(api: &Api, project_id: u64) -> TResult<Option<BTreeSet<String>>> {
    let me = api.get("/users/current.json?include=memberships")?;
    if me["user"]["admin"].as_bool() == Some(true) {
        return Ok(None);
    }
    let roles: BTreeSet<u64> = me["user"]["memberships"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["project"]["id"].as_u64() == Some(project_id))
        .flat_map(|m| m["roles"].as_array().into_iter().flatten().filter_map(|r| r["id"].as_u64()))
        .collect();
    let mut out = BTreeSet::new();
    for id in roles {
        let role = api.get(&format!("/roles/{id}.json"))?;
        out.extend(
            role["role"]["permissions"].as_array().into_iter().flatten().filter_map(|p| p.as_str()).map(String::from),
        );
    }
    Ok(Some(out))
}

/// Checks `granted` (see [`granted`]): a needed one missing is an error
/// naming each with what it is for; the advised ones missing come back as
/// lines saying what happens without them.
pub fn check(
    granted: Option<&BTreeSet<String>>,
    user: &str,
    project: &str,
    time_tracking: bool,
) -> TResult<Vec<String>> {
    let Some(granted) = granted else {
        return Ok(Vec::new());
    };
    let has = |p: &str| granted.contains(p);
    let missing: Vec<String> =
        NEEDED.iter().filter(|(p, _)| !has(p)).map(|(p, what)| format!("{p} (to {what})")).collect();
    if !missing.is_empty() {
        return Err(TrackerError::Refused(Refusal::Invalid(format!(
            "the sync user {user} lacks permissions in project {project}: {}; give its role them (Administration › \
             Roles and permissions)",
            missing.join(", ")
        ))));
    }
    Ok(ADVISED
        .iter()
        .filter(|(_, _, only_with_time)| time_tracking || !only_with_time)
        // Editing all time entries covers one's own.
        .filter(|(p, _, _)| !(has(p) || *p == "edit_own_time_entries" && has("edit_time_entries")))
        .map(|(p, without, _)| format!("without {p} (not granted): {without}"))
        .collect())
}

/// Redmine's refusal of a time entry for another user, in the words of
/// the permission it lacks.
pub fn time_entry_refusal(why: &str) -> Option<String> {
    why.contains("User is invalid").then(|| {
        format!(
            "{why}: the sync user may not log time for other users (give its role \"Log spent time for other \
             users\", log_time_for_other_users, in Administration › Roles and permissions), then `postern errors \
             retry`"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(l: &[&str]) -> BTreeSet<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn needed_ones_stop_the_setup_and_advised_ones_say_what_happens() {
        let all = ["view_issues", "add_issues", "edit_issues", "add_issue_notes"];
        let err = check(Some(&set(&all[..2])), "Sync Bot", "acme", true).unwrap_err().to_string();
        assert!(err.contains("edit_issues (to carry field changes and files), add_issue_notes"), "{err}");
        let lines =
            check(Some(&set(&[&all[..], &["edit_time_entries", "log_time"]].concat())), "S", "p", true).unwrap();
        assert!(lines.iter().any(|l| l.starts_with("without log_time_for_other_users (not granted)")), "{lines:?}");
        assert!(!lines.iter().any(|l| l.contains("edit_own_time_entries")), "edit_time_entries covers it");
        assert!(!check(Some(&set(&all)), "S", "p", false).unwrap().iter().any(|l| l.contains("time")));
        assert!(check(None, "admin", "p", true).unwrap().is_empty());
    }
}
