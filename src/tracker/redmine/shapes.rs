//! What Redmine says about its custom fields' values: which hold several
//! (`"multiple": true`: a JSON array both ways, not a comma-joined string)
//! and, where the sync user may read Administration's list (an admin),
//! the values a list field allows. A non-admin learns multiplicity from
//! the issues it reads; a value outside a list is then learned from
//! Redmine's refusal.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde_json::{json, Value};

/// The custom fields' shapes known so far.
#[derive(Debug, Default)]
pub struct Shapes {
    multiple: Mutex<BTreeSet<u64>>,
    /// Fields whose shape is known (seen on an issue, or listed).
    known: Mutex<BTreeSet<u64>>,
    /// A list field's allowed values (only when Redmine lets us read them).
    possible: BTreeMap<u64, Vec<String>>,
    /// Each field's format (`user`, `version`, `enumeration`, `list`,
    /// `bool`, …), when Redmine lets us read them.
    formats: BTreeMap<u64, String>,
    /// A key/value list's keys and labels.
    keys: BTreeMap<u64, Vec<(String, String)>>,
    /// Whether Administration's list was read (formats known).
    listed: bool,
}

impl Shapes {
    /// From Administration's `/custom_fields.json` (`None`: not ours to
    /// read) and an issue's `custom_fields`.
    pub fn new(admin_list: Option<&Value>, issue_fields: &Value) -> Shapes {
        let shapes = Shapes::default();
        let (mut possible, mut formats, mut keys) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for f in admin_list.and_then(|l| l["custom_fields"].as_array()).into_iter().flatten() {
            let Some(id) = f["id"].as_u64() else { continue };
            let format = f["field_format"].as_str().unwrap_or_default();
            formats.insert(id, format.to_string());
            if format == "enumeration" {
                let pairs = f["possible_values"].as_array().into_iter().flatten();
                let pairs = pairs.filter_map(|v| Some((value_text(&v["value"])?, v["label"].as_str()?.to_string())));
                keys.insert(id, pairs.collect());
            }
            shapes.known.lock().expect("lock").insert(id);
            if f["multiple"].as_bool() == Some(true) {
                shapes.multiple.lock().expect("lock").insert(id);
            }
            if f["field_format"].as_str() == Some("list") {
                let values = f["possible_values"].as_array().into_iter().flatten();
                possible.insert(id, values.filter_map(|v| v["value"].as_str().map(String::from)).collect());
            }
        }
        shapes.learn(issue_fields);
        Shapes { possible, formats, keys, listed: admin_list.is_some(), ..shapes }
    }

    /// Whether each field's format is known (the sync user may read
    /// Administration's list: an admin).
    pub fn formats_known(&self) -> bool {
        self.listed
    }

    /// Field `id`'s format, when known.
    pub fn format(&self, id: u64) -> Option<&str> {
        self.formats.get(&id).map(String::as_str)
    }

    /// A key/value list's label for `key`, or its key for `label`.
    pub fn key_label(&self, id: u64, value: &str, to_label: bool) -> Option<String> {
        let pairs = self.keys.get(&id)?;
        let hit = pairs.iter().find(|(k, l)| if to_label { k == value } else { l == value })?;
        Some(if to_label { hit.1.clone() } else { hit.0.clone() })
    }

    /// Notes which fields of an issue's `custom_fields` hold several values.
    pub fn learn(&self, issue_fields: &Value) {
        let mut multiple = self.multiple.lock().expect("lock");
        let mut known = self.known.lock().expect("lock");
        for f in issue_fields.as_array().into_iter().flatten() {
            let Some(id) = f["id"].as_u64() else { continue };
            known.insert(id);
            if f["multiple"].as_bool() == Some(true) {
                multiple.insert(id);
            }
        }
    }

    /// Whether field `id`'s shape is known (else a write of it waits until
    /// an issue shows it: a new issue's answer does).
    pub fn is_known(&self, id: u64) -> bool {
        self.known.lock().expect("lock").contains(&id)
    }

    /// Whether field `id` holds several values.
    pub fn is_multiple(&self, id: u64) -> bool {
        self.multiple.lock().expect("lock").contains(&id)
    }

    /// The values list field `id` allows, when known.
    pub fn allowed(&self, id: u64) -> Option<&[String]> {
        self.possible.get(&id).map(Vec::as_slice)
    }

    /// `{id, value}` for a write: several values (comma-separated on the
    /// wire) as an array where the field holds several, else as they are.
    pub fn entry(&self, id: u64, values: &[String]) -> Value {
        if self.is_multiple(id) {
            json!({"id": id, "value": values})
        } else {
            json!({"id": id, "value": values.join(", ")})
        }
    }
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A custom field's value as read: a multiple field's array, or one
/// value (a comma-separated string is a text field's, kept whole).
pub fn values_of(v: &Value) -> Vec<String> {
    match v {
        Value::Array(l) => l.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).map(String::from).collect(),
        Value::String(s) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The names among `candidates` that Redmine's 422 refusal `why` (its
/// errors joined by "; ") says something about: "Labels is not included in
/// the list", "Size is not a number".
pub fn refused_fields<'a>(why: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let Some(errors) = why.strip_prefix("Redmine refused the change: ") else {
        return Vec::new();
    };
    let errors: Vec<&str> = errors.split("; ").collect();
    candidates.into_iter().filter(|name| errors.iter().any(|e| e.starts_with(&format!("{name} ")))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_values_are_an_array_only_where_the_field_holds_several() {
        let issue = json!([{"id": 3, "name": "Labels", "multiple": true, "value": ["a"]}, {"id": 4, "value": "x"}]);
        let s = Shapes::new(None, &issue);
        assert!(s.is_known(3) && s.is_known(4) && !s.is_known(5));
        let two = ["customer".to_string(), "security".to_string()];
        assert_eq!(s.entry(3, &two), json!({"id": 3, "value": ["customer", "security"]}));
        assert_eq!(s.entry(4, &two), json!({"id": 4, "value": "customer, security"}));
        assert_eq!(values_of(&json!(["customer", "backend"])), ["customer", "backend"]);
        assert_eq!(values_of(&json!("a, b")), ["a, b"]);
    }

    #[test]
    fn an_admins_list_gives_the_allowed_values() {
        let admin = json!({"custom_fields": [
            {"id": 3, "name": "Labels", "field_format": "list", "multiple": true,
             "possible_values": [{"value": "customer"}, {"value": "backend"}]},
            {"id": 5, "name": "Note", "field_format": "string"}
        ]});
        let s = Shapes::new(Some(&admin), &json!([]));
        assert!(s.is_multiple(3) && !s.is_multiple(5));
        assert_eq!(s.allowed(3).unwrap(), ["customer", "backend"]);
        assert_eq!(s.allowed(5), None);
        assert!(s.formats_known() && s.format(5) == Some("string"));
        let admin = json!({"custom_fields": [{"id": 7, "name": "Severity", "field_format": "enumeration",
            "possible_values": [{"value": "3", "label": "High"}, {"value": "4", "label": "Low"}]}]});
        let s = Shapes::new(Some(&admin), &json!([]));
        assert_eq!(s.key_label(7, "4", true).as_deref(), Some("Low"));
        assert_eq!(s.key_label(7, "High", false).as_deref(), Some("3"));
        assert!(!Shapes::new(None, &json!([])).formats_known());
    }

    #[test]
    fn the_fields_a_refusal_names_are_found() {
        let why = "Redmine refused the change: Labels is not included in the list; Due date is invalid";
        assert_eq!(refused_fields(why, ["Labels", "Size", "Lab"]), ["Labels"]);
        assert!(refused_fields("Redmine refused POST /issues.json (403)", ["Labels"]).is_empty());
    }
}
