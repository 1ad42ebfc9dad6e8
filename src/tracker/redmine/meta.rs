//! What a Redmine backend learns once from the server: the project, the
//! sync user, statuses, priorities, members and the labels field; and the
//! name tables that turn the partner's names into ours and back.

use crate::tracker::remote::rest::Rest;
use std::collections::BTreeMap;

use serde_json::Value;

use super::api::{encode, Api};
use super::settings::RedmineSettings;
use crate::tracker::{Refusal, TResult, TrackerError};

#[derive(Debug, Clone)]
pub struct Meta {
    pub project_id: u64,
    pub tracker_id: Option<u64>,
    pub user_id: u64,
    pub user_name: String,
    pub statuses: BTreeMap<String, u64>,
    pub priorities: BTreeMap<String, u64>,
    /// Project members by display name.
    pub members: BTreeMap<String, u64>,
    pub labels_field: Option<u64>,
    /// The project's issue categories by name, when they hold the labels
    /// (`--redmine-labels-field "(category)"`: one label per issue).
    pub label_categories: Option<BTreeMap<String, u64>>,
    /// The project's trackers (postern's issue types) by name.
    pub trackers: BTreeMap<String, u64>,
    /// Issue custom fields by name, the labels field left out.
    pub custom_fields: BTreeMap<String, u64>,
    /// Whether an issue was read to find them (fields "for all projects"
    /// show on issues only): else more may exist.
    pub fields_complete: bool,
    /// Whether the project has time tracking (worklogs), and the activity
    /// new time entries get (the default one, else the first).
    pub time_tracking: bool,
    pub activity_id: Option<u64>,
    /// Which custom fields hold several values, and a list's values when
    /// Redmine lets us read them.
    pub shapes: std::sync::Arc<super::shapes::Shapes>,
    /// The project's versions by name (for version custom fields).
    pub versions: BTreeMap<String, u64>,
}

fn named(list: &Value) -> BTreeMap<String, u64> {
    list.as_array()
        .map(|l| l.iter().filter_map(|v| Some((v["name"].as_str()?.to_string(), v["id"].as_u64()?))).collect())
        .unwrap_or_default()
}

impl Meta {
    pub fn load(api: &Api, s: &RedmineSettings) -> TResult<Meta> {
        let Some(me) = api.get_opt("/users/current.json")? else {
            return Err(Refusal::Invalid(format!(
                "{} does not look like Redmine's address (GET {}/users/current.json answered 404): check --redmine-url",
                s.base(),
                s.base()
            ))
            .into());
        };
        let user = &me["user"];
        let user_name = format!(
            "{} {}",
            user["firstname"].as_str().unwrap_or_default(),
            user["lastname"].as_str().unwrap_or_default()
        )
        .trim()
        .to_string();
        let path = format!(
            "/projects/{}.json?include=trackers,issue_custom_fields,enabled_modules,time_entry_activities",
            encode(&s.project)
        );
        let p = match api.get_opt(&path) {
            Ok(Some(p)) => p,
            Ok(None) => return Err(Refusal::NoProject(s.project.clone()).into()),
            Err(TrackerError::Refused(Refusal::Invalid(why))) if why.contains("(403") => {
                return Err(Refusal::Invalid(format!(
                    "the sync user may not see project '{}' (403): make it a member of the project with a role \
                     that may view issues",
                    s.project
                ))
                .into())
            }
            Err(e) => return Err(e),
        };
        let project = &p["project"];
        let project_id = project["id"].as_u64().unwrap_or_default();
        // A field "for all projects" is not listed with the project; an
        // issue shows it.
        let mut fields = named(&project["issue_custom_fields"]);
        let mut any = api.get(&format!("/issues.json?project_id={project_id}&status_id=*&limit=1"))?;
        if any["issues"][0].is_null() {
            // An empty project: an issue of another shows the fields of all.
            any = api.get("/issues.json?status_id=*&limit=1")?;
        }
        let fields_complete = !any["issues"][0].is_null();
        for (name, id) in named(&any["issues"][0]["custom_fields"]) {
            fields.entry(name).or_insert(id);
        }
        // Administration's list of fields answers only an admin (403
        // otherwise): what it says is a bonus, never needed.
        let admin_list = match api.get_opt("/custom_fields.json") {
            Ok(v) => v,
            Err(TrackerError::Refused(_)) => None,
            Err(e) => return Err(e),
        };
        let shapes = super::shapes::Shapes::new(admin_list.as_ref(), &any["issues"][0]["custom_fields"]);
        let label_categories = match s.labels_field.as_deref() {
            Some(super::settings::CATEGORY) => {
                Some(named(&api.get(&format!("/projects/{project_id}/issue_categories.json"))?["issue_categories"]))
            }
            _ => None,
        };
        let labels_field = match &s.labels_field {
            None => None,
            Some(name) if name == super::settings::CATEGORY => None,
            Some(name) => {
                let id = fields.remove(name);
                Some(id.ok_or_else(|| {
                    Refusal::Invalid(format!(
                        "the labels field {name:?} is not a custom field of project {} (ask the Redmine admin to \
                         add a text or list custom field of that name, \"Multiple values\" on for a list, to the \
                         project)",
                        s.project
                    ))
                })?)
            }
        };
        let mut members = BTreeMap::new();
        let mut offset = 0;
        loop {
            let page = api.get(&format!("/projects/{project_id}/memberships.json?limit=100&offset={offset}"))?;
            let list = page["memberships"].as_array().cloned().unwrap_or_default();
            for m in &list {
                if let (Some(n), Some(id)) = (m["user"]["name"].as_str(), m["user"]["id"].as_u64()) {
                    members.insert(n.to_string(), id);
                }
            }
            offset += list.len();
            if list.is_empty() || offset as u64 >= page["total_count"].as_u64().unwrap_or(0) {
                break;
            }
        }
        Ok(Meta {
            project_id,
            tracker_id: project["trackers"].as_array().and_then(|t| t.first()).and_then(|t| t["id"].as_u64()),
            user_id: user["id"].as_u64().unwrap_or_default(),
            user_name,
            statuses: named(&api.get("/issue_statuses.json")?["issue_statuses"]),
            priorities: named(&api.get("/enumerations/issue_priorities.json")?["issue_priorities"]),
            members,
            labels_field,
            label_categories,
            trackers: named(&project["trackers"]),
            custom_fields: fields,
            fields_complete,
            time_tracking: project["enabled_modules"]
                .as_array()
                .is_some_and(|l| l.iter().any(|m| m["name"].as_str() == Some("time_tracking"))),
            activity_id: activity(api, project)?,
            shapes: std::sync::Arc::new(shapes),
            versions: match api.get_opt(&format!("/projects/{project_id}/versions.json")) {
                Ok(v) => v.map(|v| named(&v["versions"])).unwrap_or_default(),
                Err(TrackerError::Refused(_)) => BTreeMap::new(),
                Err(e) => return Err(e),
            },
        })
    }

    /// The tracker id of an issue type; unknown: a refusal naming those
    /// the project has.
    pub fn tracker_for(&self, name: &str) -> TResult<u64> {
        self.trackers.get(name).copied().ok_or_else(|| {
            Refusal::Unknown { what: "type".into(), value: name.into(), known: self.trackers.keys().cloned().collect() }
                .into()
        })
    }

    /// Our id for the partner's `value` of `what` (status, priority),
    /// through the sync's name table; unknown: a refused change that says
    /// how to map it.
    pub fn id_for(&self, what: &str, value: &str, table: &BTreeMap<String, String>) -> TResult<u64> {
        let (ids, flag) = match what {
            "status" => (&self.statuses, "status-map"),
            _ => (&self.priorities, "priority-map"),
        };
        let ours = crate::tracker::names::ours(table, value);
        ids.get(ours).copied().ok_or_else(|| {
            let known: Vec<&str> = ids.keys().map(String::as_str).collect();
            Refusal::Invalid(format!(
                "{what} '{value}' has no counterpart in Redmine: add the pair with `postern sync edit <sync> --{flag} \
                 \"{value}=<one of: {}>\"` (or under [{what}] of the sync's mapping file: {value:?} = {:?}, then \
                 `postern sync edit <sync> --mapping FILE`), then `postern errors retry`",
                known.join(", "),
                known.first().copied().unwrap_or("…")
            ))
            .into()
        })
    }

    /// A custom field's value in Redmine's terms: a user's, a version's or
    /// a key/value list's name as its id, where the field's format is known
    /// (else, or for a name not found, as it is: Redmine then says what
    /// it does not take).
    pub fn custom_value_out(&self, id: u64, value: &str) -> String {
        let found = match self.shapes.format(id) {
            Some("user") => self.members.get(value).map(u64::to_string),
            Some("version") => self.versions.get(value).map(u64::to_string),
            Some("enumeration") => self.shapes.key_label(id, value, false),
            _ => None,
        };
        found.unwrap_or_else(|| value.to_string())
    }

    /// A custom field's value as Redmine gives it, in names (see
    /// [`Meta::custom_value_out`]).
    pub fn custom_value_in(&self, id: u64, value: &str) -> String {
        let name_of =
            |l: &BTreeMap<String, u64>| l.iter().find(|(_, v)| v.to_string() == value).map(|(k, _)| k.clone());
        let found = match self.shapes.format(id) {
            Some("user") => name_of(&self.members),
            Some("version") => name_of(&self.versions),
            Some("enumeration") => self.shapes.key_label(id, value, true),
            _ => None,
        };
        found.unwrap_or_else(|| value.to_string())
    }

    /// The user id for an assignee's name (empty: nobody).
    pub fn member(&self, name: &str) -> TResult<Option<u64>> {
        if name.is_empty() {
            return Ok(None);
        }
        self.members.get(name).copied().map(Some).ok_or_else(|| {
            Refusal::Invalid(format!(
                "assignee '{name}' is not a member of the Redmine project (members: {})",
                self.members.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
            .into()
        })
    }
}

/// The activity new time entries get: the project's default, else the
/// system's default, else the first.
fn activity(api: &Api, project: &Value) -> TResult<Option<u64>> {
    let mut list = project["time_entry_activities"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        list = api.get("/enumerations/time_entry_activities.json")?["time_entry_activities"]
            .as_array()
            .cloned()
            .unwrap_or_default();
    }
    let default = list.iter().find(|a| a["is_default"].as_bool() == Some(true));
    Ok(default.or(list.first()).and_then(|a| a["id"].as_u64()))
}
