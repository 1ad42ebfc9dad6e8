//! A backend's name tables (`--status-map`, `--priority-map`): the
//! partner's status and priority names → ours. A partner's value is
//! written through them forwards; ours is read back through them
//! backwards, as the first of the partner's names that maps to it.

use std::collections::BTreeMap;

/// The partner's name → ours.
pub type Table = BTreeMap<String, String>;

/// A backend's two tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameTables {
    pub statuses: Table,
    pub priorities: Table,
}

/// The partner's `value` in our terms (not in the table: as it is).
pub fn ours<'a>(table: &'a Table, value: &'a str) -> &'a str {
    table.get(value).map(String::as_str).unwrap_or(value)
}

/// Our name `ours` as the partner's: the first of its names that maps to
/// it (none: as it is).
pub fn wire(table: &Table, ours: &str) -> String {
    table.iter().find(|(_, o)| o.as_str() == ours).map(|(t, _)| t.clone()).unwrap_or_else(|| ours.to_string())
}

/// The partner's `value` as a backend would read it back once written.
pub fn as_read_back(table: &Table, value: &str) -> String {
    wire(table, ours(table, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_go_through_forwards_and_come_back_backwards() {
        let t: Table = [("Open".into(), "New".into()), ("Waiting".into(), "New".into())].into();
        assert_eq!(ours(&t, "Open"), "New");
        assert_eq!(ours(&t, "Closed"), "Closed");
        assert_eq!(wire(&t, "New"), "Open", "the first that maps to it");
        assert_eq!(as_read_back(&t, "Waiting"), "Open");
        assert_eq!(as_read_back(&t, "Closed"), "Closed");
    }
}
