//! Conflicts (seed 004): both sides changed the same field of an issue
//! before hearing of each other. By default the later edit wins on both
//! sides (as ever); a field one side owns is sent only by its owner and
//! always taken from it; labels changed on both sides merge. Every
//! conflict is recorded with both values, both times and which won.

use rusqlite::Connection;

use crate::protocol::FieldChanges;
use crate::store::conflicts::{self, Conflict};
use crate::store::links::Link;
use crate::store::{now_ms, Role, SyncRecord};
use crate::tracker::{TResult as Result, Tracker};

/// Whether our edit made at `mine` was unknown to the partner when it
/// read its change: made after the last of our messages it had applied
/// was put together (`seen_at`; `None`: too old to know, so known), and
/// after the pairing made from records (`known_until`), if any.
pub fn concurrent(mine: i64, seen_at: Option<i64>, known_until: Option<i64>) -> bool {
    seen_at.is_some_and(|t| mine > t.max(known_until.unwrap_or(i64::MIN)))
}

/// Labels both sides changed: every label either side has, sorted, so
/// both sides merge to the very same list.
pub fn merge_labels(mine: &[String], theirs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = mine.iter().chain(theirs).cloned().collect();
    out.sort();
    out.dedup();
    out
}

/// The side that owns `field` in `sync`, if one does.
pub fn owner(sync: &SyncRecord, field: &str) -> Option<Role> {
    match sync.field_owners.get(field).map(String::as_str) {
        Some("master") => Some(Role::Master),
        Some("slave") => Some(Role::Slave),
        _ => None,
    }
}

/// The fields of a local change that go to the partner: not those the
/// partner owns.
pub fn outgoing(sync: &SyncRecord, fields: &mut FieldChanges) {
    for name in fields.names() {
        if owner(sync, name).is_some_and(|o| o != sync.role) {
            fields.drop_field(name);
        }
    }
}

/// Whether the partner's value of a field wins a conflict: the owner's
/// when one side owns it, else the later edit (`rules::partner_wins`).
pub fn partner_wins(owner: Option<Role>, role: Role, theirs: i64, mine: i64) -> bool {
    match owner {
        Some(o) => o != role,
        None => super::rules::partner_wins(role, theirs, mine),
    }
}

/// What to do with the partner's field changes.
pub struct Decided {
    /// The partner's values to apply as its change.
    pub apply: FieldChanges,
    /// Labels merged from both sides: applied as a local edit, so the
    /// merge crosses back and both sides end up with it.
    pub merged_labels: Option<Vec<String>>,
}

fn value(f: &FieldChanges, name: &str) -> Option<String> {
    match name {
        "summary" => f.summary.clone(),
        "description" => f.description.clone(),
        "status" => f.status.clone(),
        "priority" => f.priority.clone(),
        // As a set: the same labels in another order are no conflict.
        "labels" => f.labels.as_ref().map(|l| {
            let mut l = l.clone();
            l.sort();
            l.join(", ")
        }),
        "assignee" => f.assignee.clone().map(|a| if a.is_empty() { "(unassigned)".into() } else { a }),
        _ => None,
    }
}

/// Decides the partner's change of `fields` (made at `at`, in a message
/// acknowledging our messages up to `ack`) to the local issue of `link`
/// against local edits, recording each conflict.
pub fn decide(
    conn: &Connection,
    tracker: &impl Tracker,
    sync: &SyncRecord,
    link: &Link,
    (fields, at, ack): (&FieldChanges, i64, u64),
) -> Result<Decided> {
    let key = &link.local_issue_key;
    let mut apply = fields.clone();
    let mut merged_labels = None;
    let mut here = None;
    for name in fields.names() {
        let owned = owner(sync, name);
        if owned == Some(sync.role) {
            // Ours: the partner's edits of it do not count (an older peer
            // may still send them).
            apply.drop_field(name);
            continue;
        }
        let Some(mine) = tracker.local_field_time(key, name, &sync.id)? else {
            continue;
        };
        let seen_at = crate::store::outbox::put_together_at(conn, &sync.id, ack)?;
        let both = concurrent(mine, seen_at, link.known_until);
        let partner_wins = partner_wins(owned, sync.role, at, mine);
        if !both {
            if !partner_wins {
                apply.drop_field(name);
            }
            continue;
        }
        if here.is_none() {
            here = tracker.issue(key)?.map(|i| FieldChanges::all(&i.fields));
        }
        let Some(current) = &here else { continue };
        let (ours, theirs) = (value(current, name).unwrap_or_default(), value(fields, name).unwrap_or_default());
        if ours == theirs {
            continue;
        }
        let winner = if owned.is_none() && name == "labels" {
            let merged =
                merge_labels(current.labels.as_deref().unwrap_or(&[]), fields.labels.as_deref().unwrap_or(&[]));
            apply.drop_field(name);
            merged_labels = Some(merged);
            "merged"
        } else if partner_wins {
            "partner"
        } else {
            apply.drop_field(name);
            "here"
        };
        let policy = match owned {
            Some(r) => format!("{} owns it", r.as_str()),
            None => "latest".into(),
        };
        tracing::info!(sync = %sync.name, issue = %key, field = name, winner, "conflict: both sides changed the field");
        conflicts::record(
            conn,
            &sync.id,
            &Conflict {
                id: 0,
                local_key: key.clone(),
                remote_key: link.remote_issue_key.clone().unwrap_or_default(),
                field: name.into(),
                local_value: ours,
                partner_value: theirs,
                local_at: mine,
                partner_at: at,
                winner: winner.into(),
                policy,
                at: now_ms(),
                state: "open".into(),
            },
        )?;
    }
    Ok(Decided { apply, merged_labels })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_concurrent_until_the_partner_has_it() {
        // Made after the last message the partner had was put together.
        assert!(concurrent(50, Some(40), None));
        // The partner had nothing of ours yet.
        assert!(concurrent(50, Some(i64::MIN), None));
        // In a message the partner had.
        assert!(!concurrent(40, Some(40), None));
        assert!(!concurrent(30, Some(40), None));
        // Too old to know: known.
        assert!(!concurrent(50, None, None));
        // Before a pairing made from records: known.
        assert!(!concurrent(50, Some(i64::MIN), Some(60)));
        assert!(concurrent(70, Some(i64::MIN), Some(60)));
    }

    #[test]
    fn both_sides_pick_the_same_value_under_either_policy() {
        for owner in [None, Some(Role::Master), Some(Role::Slave)] {
            for (m, s) in [(10, 20), (20, 10), (15, 15)] {
                // The master sees the slave's edit at `s` against its own at `m`.
                let master_takes = partner_wins(owner, Role::Master, s, m);
                let slave_takes = partner_wins(owner, Role::Slave, m, s);
                assert_ne!(master_takes, slave_takes, "{owner:?} {m} {s}");
                match owner {
                    Some(Role::Master) => assert!(slave_takes),
                    Some(Role::Slave) => assert!(master_takes),
                    None => assert_eq!(master_takes, s > m),
                }
            }
        }
    }

    #[test]
    fn labels_merge_to_every_label_either_side_has() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(merge_labels(&s(&["b", "a"]), &s(&["b", "c"])), s(&["a", "b", "c"]));
        assert_eq!(merge_labels(&s(&[]), &s(&["c"])), s(&["c"]));
        // Both sides merge to the same list.
        let (x, y) = (s(&["a", "x"]), s(&["y", "a"]));
        assert_eq!(merge_labels(&x, &y), merge_labels(&y, &x));
    }
}
