//! Moving an issue to a status through Jira's workflow. Jira has no "set
//! status": an issue moves by the transitions its current status offers,
//! and a real workflow may need several to reach a status (To Do → In
//! Progress → Done), some with a screen that asks for a field (a
//! resolution on the way to Done). The sync user may not read the
//! workflow itself (an admin's API), so the path is found on the way:
//! the transition to the status if there is one, else the one to a
//! status not yet passed whose category (to do, in progress, done) is
//! closest to the wanted one's, never further than where it stands and
//! never a done status on the way to another (a dead end, often).

use crate::tracker::remote::rest::Rest;
use serde_json::{json, Map, Value};

use super::api::encode;
use super::meta::str_of;
use super::Jira;
use crate::tracker::{Refusal, TResult};

/// The most transitions one status change takes.
const MAX_STEPS: usize = 6;

/// How far along a status category is.
fn rank(category: &str) -> i32 {
    match category {
        "new" => 0,
        "done" => 2,
        _ => 1,
    }
}

/// Where a walk ended without reaching its status.
struct Stuck {
    /// The statuses it went through, the first where it started.
    passed: Vec<String>,
    now: String,
    /// The transitions from where it stands.
    there: Vec<String>,
}

impl Jira {
    /// Moves issue `key` to status `to`; a refusal when no path is found
    /// (naming the transitions there are; an issue moved on the way is
    /// walked back where it was) or a screen asks for a field postern
    /// cannot fill.
    pub(super) fn transition(&self, key: &str, to: &str) -> TResult<()> {
        let Err(stuck) = self.walk(key, to)? else {
            return Ok(());
        };
        let from = stuck.passed[0].clone();
        let moved = match stuck.passed.len() {
            1 => String::new(),
            _ => match self.walk(key, &from)? {
                Ok(()) => format!(" (tried {} and went back)", stuck.passed.join(" → ")),
                Err(back) => {
                    format!(" (it went {} and could not go back: it stays at '{}')", stuck.passed.join(" → "), back.now)
                }
            },
        };
        Err(Refusal::Invalid(format!(
            "no transition of {key} leads from '{from}' to '{to}' in Jira's workflow{moved} (transitions there: {}; \
             a condition may hide it from the sync user, such as \"only the assignee\"); add one to the \
             workflow, let the sync user take it, or map the status to one that can be reached",
            if stuck.there.is_empty() { "none".to_string() } else { stuck.there.join(", ") }
        ))
        .into())
    }

    /// Walks issue `key` towards `to`, one transition at a time.
    fn walk(&self, key: &str, to: &str) -> TResult<Result<(), Stuck>> {
        let path = format!("{}/issue/{}/transitions", self.rest(), encode(key));
        let wanted = self.meta()?.categories.get(to).map_or(1, |c| rank(c));
        let mut passed: Vec<String> = Vec::new();
        let mut now = String::new();
        let mut there = Vec::new();
        for _ in 0..MAX_STEPS {
            let Some(v) = self.api.get_opt(&format!("{path}?expand=transitions.fields"))? else {
                return Err(Refusal::NoIssue(key.into()).into());
            };
            let list = v["transitions"].as_array().cloned().unwrap_or_default();
            let name_of = |t: &Value| str_of(&t["to"]["name"]);
            if let Some(t) = list.iter().find(|t| name_of(t).eq_ignore_ascii_case(to)) {
                return self.take(&path, key, t).map(Ok);
            }
            now = self.issue_json(key)?.map(|i| str_of(&i["fields"]["status"]["name"])).unwrap_or_default();
            if now.eq_ignore_ascii_case(to) {
                return Ok(Ok(()));
            }
            passed.push(now.clone());
            // "Transitions there": from where the walk started.
            if passed.len() == 1 {
                there = list.iter().map(|t| format!("{} → {}", str_of(&t["name"]), name_of(t))).collect();
            }
            let category = |t: &Value| t["to"]["statusCategory"]["key"].as_str().unwrap_or("").to_string();
            let distance = |t: &Value| (rank(&category(t)) - wanted).abs();
            let here = (self.meta()?.categories.get(&now).map_or(1, |c| rank(c)) - wanted).abs();
            // Never further from the wanted status, and never through a
            // done status (often a dead end) on the way to another.
            let next = list
                .iter()
                .filter(|t| !passed.iter().any(|p| p.eq_ignore_ascii_case(&name_of(t))))
                .filter(|t| distance(t) <= here && category(t) != "done")
                .min_by_key(|t| distance(t));
            let Some(next) = next else {
                return Ok(Err(Stuck { passed, now, there }));
            };
            self.take(&path, key, next)?;
        }
        Ok(Err(Stuck { passed, now, there }))
    }

    /// Takes transition `t` of issue `key`, filling what its screen
    /// requires: the mapping file's `[screens]` value for the field, else
    /// for a resolution Done (Fixed, Resolved, else the first offered).
    fn take(&self, path: &str, key: &str, t: &Value) -> TResult<()> {
        let mut fields = Map::new();
        for (id, f) in t["fields"].as_object().into_iter().flatten() {
            if f["required"].as_bool() != Some(true) || f["hasDefaultValue"].as_bool() == Some(true) {
                continue;
            }
            let allowed = f["allowedValues"].as_array().cloned().unwrap_or_default();
            let name = str_of(&f["name"]);
            let given = self.settings.screens.iter().find(|(k, _)| k.eq_ignore_ascii_case(&name) || *k == id);
            if let Some((_, value)) = given {
                if allowed.is_empty() {
                    fields.insert(id.clone(), json!(value));
                    continue;
                }
                let Some(pick) = allowed.iter().find(|v| {
                    [&v["name"], &v["value"]].iter().any(|n| n.as_str().is_some_and(|n| n.eq_ignore_ascii_case(value)))
                }) else {
                    let offered: Vec<String> = allowed
                        .iter()
                        .map(|v| str_of(if v["name"].is_null() { &v["value"] } else { &v["name"] }))
                        .collect();
                    return Err(Refusal::Invalid(format!(
                        "the mapping file's [screens] gives '{value}' for '{name}', which the transition '{}' of \
                         {key} does not offer (it offers: {})",
                        str_of(&t["name"]),
                        offered.join(", ")
                    ))
                    .into());
                };
                fields.insert(id.clone(), json!({ "id": str_of(&pick["id"]) }));
                continue;
            }
            if f["schema"]["system"] == "resolution" || id == "resolution" {
                let pick = allowed
                    .iter()
                    .find(|v| ["Done", "Fixed", "Resolved"].iter().any(|n| v["name"].as_str() == Some(n)))
                    .or(allowed.first());
                if let Some(p) = pick {
                    fields.insert(id.clone(), json!({ "id": str_of(&p["id"]) }));
                    continue;
                }
            }
            return Err(Refusal::Invalid(format!(
                "the transition '{}' of {key} to '{}' asks for the field '{name}' on its screen: give its value \
                 under [screens] of the sync's mapping file ({name:?} = \"…\"), or make it optional in Jira",
                str_of(&t["name"]),
                str_of(&t["to"]["name"]),
            ))
            .into());
        }
        let mut body = json!({ "transition": { "id": str_of(&t["id"]) } });
        if !fields.is_empty() {
            body["fields"] = Value::Object(fields);
        }
        self.api.post(path, &body)?;
        Ok(())
    }
}
