//! What postern learns of a Jira once per process: who the sync user is,
//! the project and its issue types, statuses, priorities and custom
//! fields, and whether the sync user may do what a sync does.

use crate::tracker::remote::rest::Rest;
use std::collections::BTreeMap;

use serde_json::Value;

use super::api::{encode, Api};
use super::settings::{Flavour, JiraSettings};
use crate::tracker::{Refusal, TResult, TrackerError};

/// The permissions a sync needs, with what they let it do.
pub const NEEDED: &[(&str, &str)] = &[
    ("BROWSE_PROJECTS", "see the project's issues"),
    ("CREATE_ISSUES", "create issues"),
    ("EDIT_ISSUES", "edit issues"),
    ("TRANSITION_ISSUES", "change an issue's status"),
    ("ADD_COMMENTS", "comment"),
    ("EDIT_OWN_COMMENTS", "edit its comments"),
    ("DELETE_OWN_COMMENTS", "delete its comments"),
    ("CREATE_ATTACHMENTS", "attach files"),
    ("DELETE_OWN_ATTACHMENTS", "delete its attachments"),
    ("WORK_ON_ISSUES", "log work"),
];

/// Permissions a sync works without, each with what happens then: the
/// partner's edits of what Jira users wrote (their copies at the partner)
/// are refused on their issue, the rest goes on.
pub const ADVISED: &[(&str, &str)] = &[
    ("EDIT_ALL_COMMENTS", "a partner's edit of a comment a Jira user wrote is refused on its issue"),
    ("DELETE_ALL_COMMENTS", "a partner's deletion of a comment a Jira user wrote is refused on its issue"),
    ("EDIT_ALL_WORKLOGS", "a partner's edit of a Jira user's worklog is refused on its issue"),
    ("DELETE_ALL_WORKLOGS", "a partner's deletion of a Jira user's worklog is refused on its issue"),
    ("DELETE_ALL_ATTACHMENTS", "a partner's deletion of a Jira user's attachment is refused on its issue"),
];

#[derive(Debug, Clone)]
pub struct Meta {
    pub flavour: Flavour,
    /// The sync user: account id (Cloud) or user name (Data Center).
    pub user_id: String,
    pub user_name: String,
    /// The sync user's time zone (JQL times are read in it).
    pub time_zone: chrono_tz::Tz,
    pub project_id: String,
    pub types: BTreeMap<String, String>,
    pub priorities: BTreeMap<String, String>,
    pub statuses: Vec<String>,
    /// Each status's category (`new`, `indeterminate`, `done`): which way a
    /// path through the workflow goes.
    pub categories: BTreeMap<String, String>,
    /// Custom fields: name → id (`customfield_10010`).
    pub custom: BTreeMap<String, String>,
    /// Account ids the mapping names users by ([`JiraSettings::account_ids`]).
    pub named: std::collections::BTreeSet<String>,
}

/// Which flavour a Jira is, from its `serverInfo` (Cloud says
/// `deploymentType: "Cloud"`).
pub fn detect(api: &Api) -> TResult<Flavour> {
    let v = api.get("/rest/api/2/serverInfo")?;
    Ok(match v["deploymentType"].as_str() {
        Some("Cloud") => Flavour::Cloud,
        _ => Flavour::DataCenter,
    })
}

impl Meta {
    pub fn load(api: &Api, s: &JiraSettings) -> TResult<Meta> {
        let rest = s.flavour.rest();
        let me = api.get(&format!("{rest}/myself"))?;
        let (user_id, user_name) = match s.flavour {
            Flavour::Cloud => (str_of(&me["accountId"]), str_of(&me["displayName"])),
            Flavour::DataCenter => (str_of(&me["name"]), str_of(&me["name"])),
        };
        let time_zone = me["timeZone"].as_str().and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC);
        let project = match api.get_opt(&format!("{rest}/project/{}", encode(&s.project)))? {
            Some(p) => p,
            None => return Err(Refusal::NoProject(s.project.clone()).into()),
        };
        let types = names_ids(&project["issueTypes"]);
        let priorities = names_ids(&api.get(&format!("{rest}/priority"))?);
        let mut statuses = Vec::new();
        let mut categories = BTreeMap::new();
        for t in api.get(&format!("{rest}/project/{}/statuses", encode(&s.project)))?.as_array().into_iter().flatten() {
            for st in t["statuses"].as_array().into_iter().flatten() {
                let name = str_of(&st["name"]);
                categories.insert(name.clone(), str_of(&st["statusCategory"]["key"]));
                if !statuses.contains(&name) {
                    statuses.push(name);
                }
            }
        }
        let custom = api
            .get(&format!("{rest}/field"))?
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["custom"].as_bool() == Some(true))
            .map(|f| (str_of(&f["name"]), str_of(&f["id"])))
            .collect();
        Ok(Meta {
            flavour: s.flavour,
            user_id,
            user_name,
            time_zone,
            project_id: str_of(&project["id"]),
            types,
            priorities,
            statuses,
            categories,
            custom,
            named: s.account_ids.clone(),
        })
    }

    /// The permissions the sync user lacks in the project, of
    /// [`NEEDED`] and [`ADVISED`], with what each is for.
    pub fn missing_permissions(api: &Api, s: &JiraSettings) -> TResult<Vec<(&'static str, &'static str)>> {
        let keys: Vec<&str> = NEEDED.iter().chain(ADVISED).map(|(k, _)| *k).collect();
        let v = api.get(&format!(
            "{}/mypermissions?projectKey={}&permissions={}",
            s.flavour.rest(),
            encode(&s.project),
            keys.join(",")
        ))?;
        Ok(NEEDED
            .iter()
            .chain(ADVISED)
            .copied()
            .filter(|(k, _)| v["permissions"][k]["havePermission"].as_bool() != Some(true))
            .collect())
    }
}

/// `[{id, name}]` as name → id.
fn names_ids(v: &Value) -> BTreeMap<String, String> {
    v.as_array().into_iter().flatten().map(|x| (str_of(&x["name"]), str_of(&x["id"]))).collect()
}

pub fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A refusal for a value Jira does not know, listing the known ones.
pub fn unknown(what: &str, value: &str, known: impl IntoIterator<Item = String>) -> TrackerError {
    Refusal::Unknown { what: what.into(), value: value.into(), known: known.into_iter().collect() }.into()
}
