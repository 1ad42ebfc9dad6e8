//! Redmine custom fields by name. A field "for all projects" is listed
//! with no project, only on issues: what the project lists and an issue
//! shows is known from the start; in a project (and a Redmine) with no
//! issue yet, a new issue shows the rest, and they are set right after.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::Redmine;
use crate::tracker::{Refusal, TResult};

impl Redmine {
    /// The id of custom field `name`, if known.
    fn custom_id(&self, name: &str) -> TResult<Option<u64>> {
        let m = self.meta()?;
        Ok(m.custom_fields.get(name).copied().or_else(|| self.learned.lock().expect("lock").get(name).copied()))
    }

    /// `[{id, value}]` for custom fields by name; an unknown name is a
    /// refusal that lists the known ones.
    pub(super) fn custom_json(&self, custom: &BTreeMap<String, String>) -> TResult<Vec<Value>> {
        let mut out = Vec::new();
        for (name, value) in custom {
            let Some(id) = self.custom_id(name)? else {
                let mut known: Vec<String> = self.meta()?.custom_fields.keys().cloned().collect();
                known.extend(self.learned.lock().expect("lock").keys().cloned());
                known.sort();
                known.dedup();
                return Err(Refusal::Unknown { what: "custom field".into(), value: name.clone(), known }.into());
            };
            out.push(json!({"id": id, "value": value}));
        }
        Ok(out)
    }

    /// Takes out of `custom` the fields not known yet (set once the new
    /// issue shows them).
    pub(super) fn unseen_fields(&self, custom: &mut BTreeMap<String, String>) -> BTreeMap<String, String> {
        let (known, unseen) =
            std::mem::take(custom).into_iter().partition(|(name, _)| matches!(self.custom_id(name), Ok(Some(_))));
        *custom = known;
        unseen
    }

    /// Sets on new issue `key` the fields it now shows (`created`: Redmine's
    /// answer). One it does not show either is no field of this project.
    pub(super) fn set_unseen_fields(
        &self,
        key: &str,
        created: &Value,
        unseen: BTreeMap<String, String>,
    ) -> TResult<()> {
        if unseen.is_empty() {
            return Ok(());
        }
        let labels = self.meta()?.labels_field;
        for f in created["custom_fields"].as_array().into_iter().flatten() {
            if let (Some(name), Some(id)) = (f["name"].as_str(), f["id"].as_u64()) {
                if Some(id) != labels {
                    self.learned.lock().expect("lock").insert(name.to_string(), id);
                }
            }
        }
        // The issue is made: a field it does not show either is logged, not
        // refused (a refusal now would make the issue again on a retry).
        let mut known = unseen;
        let missing = self.unseen_fields(&mut known);
        if !missing.is_empty() {
            let names: Vec<&String> = missing.keys().collect();
            tracing::warn!(issue = key, ?names, "Redmine has no such custom field for this issue: not set");
        }
        if known.is_empty() {
            return Ok(());
        }
        let fields = self.custom_json(&known)?;
        self.put_issue(key, json!({ "custom_fields": fields }))?;
        let set = crate::protocol::FieldChanges { custom: known.clone(), ..Default::default() };
        self.written(key, crate::tracker::remote::state::Wrote::Fields(&set), None)
    }
}
