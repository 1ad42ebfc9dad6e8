//! Comparing the partner's view of an issue with ours, in our terms: the
//! partner's values go through our mapping as if they arrived, so a
//! mapping that gives several of their statuses one name here compares
//! right. Gives the differences in words and the parts that differ.

use std::collections::BTreeMap;

use super::view::{normalise, text};
use crate::engine::mapping::Mapping;
use crate::protocol::verify::IssueView;
use crate::protocol::FieldChanges;
use crate::tracker::NameTables;

/// What differs in one issue.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Found {
    /// In words, for the report.
    pub words: Vec<String>,
    /// The parts that differ: field names (`status`, …, `custom`),
    /// `comments`, `worklogs`, `attachments`.
    pub parts: Vec<String>,
}

impl Found {
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    fn field(&mut self, name: &str, words: String) {
        self.words.push(words);
        if !self.parts.iter().any(|p| p == name) {
            self.parts.push(name.to_string());
        }
    }
}

fn shown(v: &str) -> String {
    let v = v.trim();
    if v.is_empty() {
        return "none".into();
    }
    let short: String = v.chars().take(40).collect();
    if short.len() < v.len() {
        format!("\"{}…\"", short.trim_end())
    } else if v.contains(' ') {
        format!("\"{v}\"")
    } else {
        v.to_string()
    }
}

/// Compares `theirs` (the partner's view, its wire terms) with `ours`
/// (our fields as our backend reads them, normalised; our view for the
/// rest). The partner's values go through our mapping file and then our
/// backend's name tables, as an arrival would: when both sides map names,
/// each reads them in its own terms.
pub fn compare(
    (mapping, tables): (&Mapping, &NameTables),
    ours: &FieldChanges,
    our_view: &IssueView,
    theirs: &IssueView,
) -> Found {
    let mut found = Found::default();
    let mut t = theirs.fields.clone();
    // Users not in the table stay as named (no user list is read here).
    if mapping.incoming(&mut t, || Ok(None)).is_err() {
        t.assignee = theirs.fields.assignee.clone();
    }
    for (value, table) in [(&mut t.status, &tables.statuses), (&mut t.priority, &tables.priorities)] {
        if let Some(v) = value.as_mut().filter(|v| !v.is_empty()) {
            *v = crate::tracker::names::as_read_back(table, v);
        }
    }
    normalise(&mut t);
    let pairs = [
        ("summary", &ours.summary, &t.summary, &theirs.fields.summary),
        ("description", &ours.description, &t.description, &theirs.fields.description),
        ("status", &ours.status, &t.status, &theirs.fields.status),
        ("priority", &ours.priority, &t.priority, &theirs.fields.priority),
        ("assignee", &ours.assignee, &t.assignee, &theirs.fields.assignee),
        ("type", &ours.issue_type, &t.issue_type, &theirs.fields.issue_type),
        ("due_date", &ours.due_date, &t.due_date, &theirs.fields.due_date),
    ];
    for (name, here, there, raw) in pairs {
        // A field one side does not send (owned, or not in its tracker).
        let (Some(here), Some(there)) = (here, there) else { continue };
        if here.trim() != there.trim() {
            let raw = raw.as_deref().unwrap_or_default();
            match name {
                "description" => found.field(name, "description".into()),
                _ => found.field(name, format!("{name} (here {}, partner {})", shown(here), shown(raw))),
            }
        }
    }
    if let (Some(here), Some(there)) = (&ours.labels, &t.labels) {
        if here != there {
            found.field("labels", format!("labels (here {}, partner {})", list(here), list(there)));
        }
    }
    let custom: BTreeMap<&String, (Option<&String>, Option<&String>)> =
        ours.custom.keys().chain(t.custom.keys()).map(|k| (k, (ours.custom.get(k), t.custom.get(k)))).collect();
    for (name, (here, there)) in custom {
        if here.map(|v| v.trim()) != there.map(|v| v.trim()) {
            let (h, p) = (here.map_or("none".into(), |v| shown(v)), there.map_or("none".into(), |v| shown(v)));
            found.field("custom", format!("{name} (here {h}, partner {p})"));
        }
    }
    let texts = |v: &[String]| v.iter().map(|s| text(s)).collect::<Vec<_>>();
    multiset(&mut found, "comments", "comment", &texts(&our_view.comments), &texts(&theirs.comments));
    multiset(&mut found, "worklogs", "worklog", &our_view.worklogs, &theirs.worklogs);
    multiset(&mut found, "attachments", "attachment", &our_view.attachments, &theirs.attachments);
    found
}

fn count(v: &[String]) -> BTreeMap<&str, i64> {
    let mut m: BTreeMap<&str, i64> = BTreeMap::new();
    for s in v {
        *m.entry(s.as_str()).or_default() += 1;
    }
    m
}

fn list(l: &[String]) -> String {
    if l.is_empty() {
        "none".into()
    } else {
        l.join(", ")
    }
}

/// Items on one side and not the other (as many times as they occur): an
/// item missing on each side counts as one that differs.
fn multiset(found: &mut Found, part: &str, one: &str, ours: &[String], theirs: &[String]) {
    let (a, b) = (count(ours), count(theirs));
    let (mut here_only, mut there_only) = (0, 0);
    for k in a.keys().chain(b.keys()).collect::<std::collections::BTreeSet<_>>() {
        let d = a.get(k).copied().unwrap_or(0) - b.get(k).copied().unwrap_or(0);
        if d > 0 {
            here_only += d;
        } else {
            there_only -= d;
        }
    }
    let both = here_only.min(there_only);
    let n = |k: i64| if k == 1 { format!("1 {one}") } else { format!("{k} {one}s") };
    if both > 0 {
        found.field(part, format!("{} differ{}", n(both), if both == 1 { "s" } else { "" }));
    }
    if there_only > both {
        found.field(part, format!("{} missing here", n(there_only - both)));
    }
    if here_only > both {
        found.field(part, format!("{} missing at the partner", n(here_only - both)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(comments: &[&str]) -> IssueView {
        IssueView { comments: comments.iter().map(|s| s.to_string()).collect(), ..Default::default() }
    }

    #[test]
    fn fields_and_comments_are_named_in_words() {
        let ours = FieldChanges { status: Some("Done".into()), summary: Some("a".into()), ..Default::default() };
        let mut theirs = view(&["hello", "extra"]);
        theirs.fields =
            FieldChanges { status: Some("In Progress".into()), summary: Some("a".into()), ..Default::default() };
        let found = compare((&Mapping::default(), &NameTables::default()), &ours, &view(&["hello"]), &theirs);
        assert_eq!(found.words, ["status (here Done, partner \"In Progress\")", "1 comment missing here"]);
        assert_eq!(found.parts, ["status", "comments"]);
    }

    #[test]
    fn an_edited_comment_differs_and_a_mapped_status_is_equal() {
        let mapping = Mapping::parse("[status]\n\"In Review\" = \"In Progress\"\n").unwrap();
        let ours = FieldChanges { status: Some("In Progress".into()), ..Default::default() };
        let mut theirs = view(&["b", "c"]);
        theirs.fields.status = Some("In Review".into());
        let found = compare((&mapping, &NameTables::default()), &ours, &view(&["a", "c"]), &theirs);
        assert_eq!(found.words, ["1 comment differs"]);
    }

    #[test]
    fn names_both_sides_map_compare_in_our_terms() {
        // Here Closed is read as the partner's Done; the partner reads its
        // Done as our Closed: the same issue, each side in its own terms.
        let tables = NameTables { statuses: [("Done".into(), "Closed".into())].into(), ..Default::default() };
        let ours = FieldChanges { status: Some("Done".into()), ..Default::default() };
        let mut theirs = view(&[]);
        theirs.fields = FieldChanges { status: Some("Closed".into()), ..Default::default() };
        assert!(compare((&Mapping::default(), &tables), &ours, &view(&[]), &theirs).is_empty());
        assert!(!compare((&Mapping::default(), &NameTables::default()), &ours, &view(&[]), &theirs).is_empty());
        // A status that really differs still shows, in the partner's words.
        theirs.fields.status = Some("Open".into());
        let found = compare((&Mapping::default(), &tables), &ours, &view(&[]), &theirs);
        assert_eq!(found.words, ["status (here Done, partner Open)"]);
    }
}
