//! An issue as it crosses, for comparing: its fields in the wire's terms
//! (through this side's mapping, without owned fields), comment texts,
//! worklogs and attachments, normalised once here so that equal views
//! mean "each side holds what the other sent". Its digest, and the
//! bucket tree over all pairs.

use sha2::{Digest, Sha256};

use crate::engine::conflict;
use crate::engine::mapping::Mapping;
use crate::protocol::verify::IssueView;
use crate::protocol::{FieldChanges, IssueFields};
use crate::store::{links, problems, Role, SyncRecord};
use crate::tracker::{Issue, TResult, Tracker};

/// One paired issue, named by the master's key.
#[derive(Debug, Clone)]
pub struct Pair {
    pub master_key: String,
    pub local: String,
    pub partner: String,
    /// Changes of it from this side are not acknowledged yet, or the
    /// partner's wait behind an error here.
    pub busy: bool,
    /// The partner's changes of it are ignored here.
    pub ignored: bool,
}

/// The sync's pairs (not those whose pairing is still on its way), sorted
/// by master key.
pub fn pairs(conn: &rusqlite::Connection, sync: &SyncRecord) -> TResult<Vec<Pair>> {
    let mut out = Vec::new();
    for l in links::all_bare(conn, &sync.id)? {
        let Some(remote) = l.remote_issue_key.clone() else {
            continue;
        };
        let ignored = l.incoming_changes_ignored;
        let unacked = l.outgoing_message_sequence_id.is_some_and(|s| s > sync.out_acked);
        let busy = unacked || problems::has_error(conn, &sync.id, &remote)?;
        let master_key = if sync.role == Role::Master { l.local_issue_key.clone() } else { remote.clone() };
        out.push(Pair { master_key, local: l.local_issue_key, partner: remote, busy, ignored });
    }
    out.sort_by(|a, b| a.master_key.cmp(&b.master_key));
    Ok(out)
}

/// Text as compared: line ends unified, trailing blanks of each line and
/// blank lines around the whole dropped (trackers and markup converters
/// differ there, people never mean anything by it).
pub fn text(s: &str) -> String {
    let unified = s.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified.lines().map(str::trim_end).collect();
    lines.join("\n").trim_matches('\n').trim_start().to_string()
}

/// Fields as compared: every field this side sends (not those either
/// side owns, nor those either tracker does not carry: `skip`), text
/// normalised, labels sorted, no address, no empty custom value.
pub fn fields(sync: &SyncRecord, f: &IssueFields, skip: &[String]) -> FieldChanges {
    let mut c = FieldChanges::all(f);
    for name in c.names() {
        if conflict::owner(sync, name).is_some() || skip.iter().any(|s| s == name) {
            c.drop_field(name);
        }
    }
    normalise(&mut c);
    c
}

/// The union of two lists of parts not carried, sorted.
pub fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut out: Vec<String> = a.iter().chain(b).cloned().collect();
    out.sort();
    out.dedup();
    out
}

/// Normalises a field set in place (see [`fields`]).
pub fn normalise(c: &mut FieldChanges) {
    c.summary = c.summary.as_deref().map(text);
    c.description = c.description.as_deref().map(text);
    if let Some(l) = c.labels.as_mut() {
        l.sort();
        l.dedup();
    }
    c.assignee_email = None;
    c.custom.retain(|_, v| !v.trim().is_empty());
}

/// This side's view of `issue` (the pair `pair`), in the wire's terms,
/// without the parts in `skip`.
pub fn of(sync: &SyncRecord, mapping: &Mapping, pair: &Pair, issue: &Issue, skip: &[String]) -> IssueView {
    let mut fields = fields(sync, &issue.fields, skip);
    mapping.outgoing(&mut fields);
    fields.assignee_email = None;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let parts_at = issue
        .comments
        .iter()
        .map(|c| c.updated_at.max(c.created_at))
        .chain(issue.worklogs.iter().map(|w| w.updated_at))
        .max()
        .unwrap_or(0);
    let kept = |part: &str| !skip.iter().any(|s| s == part);
    IssueView {
        key: pair.master_key.clone(),
        theirs: issue.key.clone(),
        fields,
        comments: sorted(issue.comments.iter().filter(|_| kept("comments")).map(|c| text(&c.body)).collect()),
        worklogs: sorted(
            issue
                .worklogs
                .iter()
                .filter(|_| kept("worklogs"))
                .map(|w| format!("{}@{}", w.minutes, w.spent_on))
                .collect(),
        ),
        attachments: sorted(
            issue
                .attachments
                .iter()
                .filter(|_| kept("attachments"))
                // A tracker that does not tell a file's digest when the
                // issue is read: its size, on both sides.
                .map(|a| match kept("attachment_digests") {
                    true => format!("{} {}", a.sha256, a.filename),
                    false => format!("{} bytes {}", a.size, a.filename),
                })
                .collect(),
        ),
        at: Default::default(),
        parts_at,
        busy: pair.busy,
        ignored: pair.ignored,
    }
}

/// The view's digest: 16 hex digits over what crosses (not the times,
/// not whether changes are on their way). The issue type is left out: a
/// tracker without types leaves it unset where the other has a default;
/// it is compared when the issue is compared for another difference.
pub fn digest(v: &IssueView) -> String {
    let mut fields = v.fields.clone();
    fields.issue_type = None;
    let what = serde_json::json!([v.key, fields, v.comments, v.worklogs, v.attachments]);
    hex::encode(Sha256::digest(what.to_string().as_bytes()))[..16].to_string()
}

/// Reads each pair's issue and gives its digest (`None`: the issue is no
/// longer here). One read per pair, in batches a remote backend can share
/// reads within.
pub fn digests(
    tracker: &impl Tracker,
    (sync, mapping): (&SyncRecord, &Mapping),
    pairs: &[Pair],
    skip: &[String],
) -> TResult<Vec<(Pair, Option<String>)>> {
    let mut out = Vec::with_capacity(pairs.len());
    for batch in pairs.chunks(500) {
        let keys: Vec<String> = batch.iter().map(|p| p.local.clone()).collect();
        for (p, issue) in batch.iter().zip(tracker.issues(&keys)?) {
            // Ignored on one side: compared as such (the partner's digest
            // of it differs, and the views say why).
            let d = match p.ignored {
                true => Some("ignored".to_string()),
                false => issue.map(|i| digest(&of(sync, mapping, p, &i, skip))),
            };
            out.push((p.clone(), d));
        }
    }
    Ok(out)
}

/// How many buckets a tree over `pairs` pairs has: about 32 pairs each,
/// a power of two from 1 to 4096.
pub fn bucket_count(pairs: u64) -> u32 {
    ((pairs / 32).max(1) as u32).next_power_of_two().min(4096)
}

/// The bucket of a master key.
pub fn bucket(master_key: &str, count: u32) -> u32 {
    let h = Sha256::digest(master_key.as_bytes());
    u32::from_be_bytes([h[0], h[1], h[2], h[3]]) % count.max(1)
}

/// The tree: one 8-hex-digit digest per bucket over its pairs' keys and
/// digests (an issue gone from the tracker counts as `gone`).
pub fn tree(digests: &[(Pair, Option<String>)], count: u32) -> String {
    let mut buckets = vec![Sha256::new(); count as usize];
    let mut used = vec![false; count as usize];
    for (p, d) in digests {
        let b = bucket(&p.master_key, count) as usize;
        buckets[b].update(format!("{}={}\n", p.master_key, d.as_deref().unwrap_or("gone")).as_bytes());
        used[b] = true;
    }
    buckets
        .into_iter()
        .zip(used)
        .map(|(h, used)| if used { hex::encode(h.finalize())[..8].to_string() } else { "00000000".into() })
        .collect()
}

/// The buckets whose digests differ between two trees of one size.
pub fn differing_buckets(ours: &str, theirs: &str) -> Vec<u32> {
    let (a, b) = (ours.as_bytes(), theirs.as_bytes());
    (0..a.len().min(b.len()) / 8).filter(|i| a[i * 8..i * 8 + 8] != b[i * 8..i * 8 + 8]).map(|i| i as u32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_ignores_line_ends_and_trailing_blanks_only() {
        assert_eq!(text("a  \r\nb\t\r\n\r\n"), "a\nb");
        assert_eq!(text("\n\n  a\n"), "a");
        assert_ne!(text("a b"), text("a  b"), "inner spaces count");
    }

    #[test]
    fn a_tree_tells_which_buckets_differ() {
        let pair =
            |k: &str| Pair { master_key: k.into(), local: k.into(), partner: k.into(), busy: false, ignored: false };
        let keys: Vec<String> = (1..=200).map(|i| format!("SAM-{i}")).collect();
        let count = bucket_count(keys.len() as u64);
        assert_eq!(count, 8);
        let ours: Vec<_> = keys.iter().map(|k| (pair(k), Some("d".to_string()))).collect();
        let mut theirs = ours.clone();
        theirs[17].1 = Some("e".into());
        let (a, b) = (tree(&ours, count), tree(&theirs, count));
        assert_eq!(a.len(), 8 * count as usize);
        assert_eq!(differing_buckets(&a, &b), vec![bucket("SAM-18", count)]);
        assert!(differing_buckets(&a, &a).is_empty());
    }
}
