//! What an admin adds to the mapping file for a value the tracker
//! refused: the section, the value, and one of ours not mapped to yet.

use super::Mapping;
use crate::tracker::Refusal;

/// The fix for refusal `r` of the partner's issue `issue`, or `None` when
/// the refusal is not about a name. `mapping`: the sync's, whose targets
/// are not suggested again (two names onto one need a `[send.…]` entry).
pub fn hint(r: &Refusal, sync_name: &str, issue: &str, mapping: Option<&Mapping>) -> Option<String> {
    let (section, value, known) = match r {
        Refusal::Unknown { what, value, known } => {
            let section = match what.as_str() {
                "user" => "users.table",
                "custom field" => "fields",
                other => other,
            };
            (section.to_string(), value.clone(), known.clone())
        }
        Refusal::StatusNotAllowed { status, allowed, .. } => {
            ("status".into(), status.clone(), allowed.split(", ").map(String::from).collect())
        }
        _ => return None,
    };
    let value = value.split(" <").next().unwrap_or(&value).to_string();
    let taken = |v: &str| mapping.is_some_and(|m| m.targets(&section).any(|t| t == v));
    let example = known.iter().find(|k| !taken(k)).or(known.first()).map_or("<ours>", String::as_str);
    let fallback = if section == "users.table" { " (or set [users] fallback)" } else { "" };
    Some(format!(
        "map it in the sync's mapping file: under [{section}] add {value:?} = {example:?} (one of: {}){fallback}, \
         then `postern sync edit {sync_name} --mapping FILE` and `postern errors retry {sync_name} {issue}`",
        known.join(", ")
    ))
}
