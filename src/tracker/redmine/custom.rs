//! Redmine custom fields by name. A field "for all projects" is listed
//! with no project, only on issues: what the project lists and an issue
//! shows is known from the start; in a project (and a Redmine) with no
//! issue yet, a new issue shows the rest, and they are set right after.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{shapes, Redmine};
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
            let m = self.meta()?;
            let values: Vec<String> = match m.shapes.is_multiple(id) {
                true => value.split(',').map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect(),
                false => vec![value.clone()],
            };
            let values: Vec<String> =
                values.iter().map(|v| if v.is_empty() { v.clone() } else { m.custom_value_out(id, v) }).collect();
            out.push(m.shapes.entry(id, &values));
        }
        Ok(out)
    }

    /// Takes out of `custom` the fields not known yet, or whose shape (one
    /// value or several) is not: set once the new issue shows them.
    pub(super) fn unseen_fields(&self, custom: &mut BTreeMap<String, String>) -> BTreeMap<String, String> {
        let shapes = self.meta().map(|m| m.shapes.clone()).ok();
        let (known, unseen) = std::mem::take(custom).into_iter().partition(
            |(name, _)| matches!(self.custom_id(name), Ok(Some(id)) if shapes.as_ref().is_some_and(|s| s.is_known(id))),
        );
        *custom = known;
        unseen
    }

    /// Sets on new issue `key` the fields it now shows (`created`: Redmine's
    /// answer). One it does not show either is no field of this project.
    /// `labels`: the labels, when the labels field's shape was not known.
    pub(super) fn set_unseen_fields(
        &self,
        key: &str,
        created: &Value,
        unseen: BTreeMap<String, String>,
        labels: Option<Vec<String>>,
    ) -> TResult<()> {
        if unseen.is_empty() && labels.is_none() {
            return Ok(());
        }
        self.meta()?.shapes.learn(&created["custom_fields"]);
        let labels_field = self.meta()?.labels_field;
        let labels_entry = match (&labels, labels_field) {
            (Some(l), Some(cf)) => Some(self.meta()?.shapes.entry(cf, l)),
            _ => None,
        };
        let labels = labels_field.and(labels);
        for f in created["custom_fields"].as_array().into_iter().flatten() {
            if let (Some(name), Some(id)) = (f["name"].as_str(), f["id"].as_u64()) {
                if Some(id) != labels_field {
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
        if known.is_empty() && labels_entry.is_none() {
            return Ok(());
        }
        let mut body = Map::new();
        let mut entries = self.custom_json(&known)?;
        entries.extend(labels_entry);
        body.insert("custom_fields".into(), Value::Array(entries));
        match self.put_issue(key, Value::Object(body.clone())) {
            Err(crate::tracker::TrackerError::Refused(Refusal::Invalid(why))) => {
                match self.drop_refused(&mut body, &why)? {
                    true if body.is_empty() => {}
                    true => self.put_issue(key, Value::Object(body))?,
                    // Made: a refusal must keep it paired.
                    false => return Err(Refusal::PartlyMade { id: key.to_string(), why }.into()),
                }
            }
            other => other?,
        }
        let set = crate::protocol::FieldChanges { custom: known.clone(), labels, ..Default::default() };
        self.written(key, crate::tracker::remote::state::Wrote::Fields(&set), None)
    }

    /// After Redmine refused a write (`why`): takes out of `body` the
    /// custom fields the refusal names (a list's allowed values kept where
    /// Redmine lets us know them) and notes what was not set and why, for
    /// [`crate::tracker::Reads::take_not_held`]. `false`: it names none
    /// of them, and the refusal stands.
    pub(super) fn drop_refused(&self, body: &mut Map<String, Value>, why: &str) -> TResult<bool> {
        let m = self.meta()?;
        let name_of = |id: u64| -> Option<String> {
            if Some(id) == m.labels_field {
                return self.settings.labels_field.clone();
            }
            let learned = self.learned.lock().expect("lock");
            m.custom_fields.iter().chain(learned.iter()).find(|(_, v)| **v == id).map(|(k, _)| k.clone())
        };
        let Some(Value::Array(entries)) = body.get_mut("custom_fields") else {
            return Ok(false);
        };
        let named: Vec<(u64, String)> =
            entries.iter().filter_map(|e| e["id"].as_u64()).filter_map(|id| Some((id, name_of(id)?))).collect();
        let refused = shapes::refused_fields(why, named.iter().map(|(_, n)| n.as_str()));
        if refused.is_empty() {
            return Ok(false);
        }
        let errors = why.trim_start_matches("Redmine refused the change: ");
        let mut said = Vec::new();
        entries.retain_mut(|e| {
            let id = e["id"].as_u64().unwrap_or_default();
            let Some((_, name)) = named.iter().find(|(i, n)| *i == id && refused.contains(&n.as_str())) else {
                return true;
            };
            let values = shapes::values_of(&e["value"]);
            let error = errors.split("; ").find(|x| x.starts_with(&format!("{name} "))).unwrap_or(errors);
            match m.shapes.allowed(id) {
                Some(allowed) => {
                    let (keep, drop): (Vec<String>, Vec<String>) =
                        values.into_iter().partition(|v| allowed.contains(v));
                    said.push(format!(
                        "Redmine's {name} does not hold {} ({error}; its list: {})",
                        quoted(&drop),
                        allowed.join(", ")
                    ));
                    let kept = !keep.is_empty() && m.shapes.is_multiple(id);
                    if kept {
                        e["value"] = json!(keep);
                    }
                    kept
                }
                None => {
                    said.push(format!(
                        "Redmine's {name} does not hold {} ({error}): add the value to the field's list \
                         (Administration › Custom fields › {name}), then `postern errors retry`",
                        quoted(&values)
                    ));
                    false
                }
            }
        });
        if entries.is_empty() {
            body.remove("custom_fields");
        }
        self.not_held.lock().expect("lock").extend(said);
        Ok(true)
    }
}

fn quoted(values: &[String]) -> String {
    values.iter().map(|v| format!("'{v}'")).collect::<Vec<_>>().join(", ")
}
