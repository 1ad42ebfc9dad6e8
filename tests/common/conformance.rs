//! The conformance suite every tracker backend passes, one behaviour per
//! function, written once: [`conformance_tests!`] makes one named test of
//! each for a backend (the embedded tracker and the fake Jira, GitHub and
//! Redmine in `cargo test`, a real Redmine in the integration script), so
//! the first failure hides none of the others; [`run`] goes through all
//! of them on one backend (behind Prism, whose start costs seconds).

use postern::protocol::{FieldChanges, IssueFields};
use postern::tracker::{
    Actor, ChangeKind, ChangeRecord, CommentOrigin, NewAttachment, NewWorklog, Refusal, Tracker, TrackerError,
    WrittenBefore,
};

/// One backend, seen by the sync user and by a person working there.
pub struct Sides<'a> {
    /// What postern writes through (the sync user).
    pub sync: &'a dyn Tracker,
    /// Someone else in the same tracker.
    pub person: &'a dyn Tracker,
    pub project: &'a str,
    pub sync_id: &'a str,
    /// Two statuses and two priorities the project has.
    pub statuses: [&'a str; 2],
    pub priorities: [&'a str; 2],
    /// Two issue types, a custom field (text) and a user (not the sync
    /// user) the project has.
    pub types: [&'a str; 2],
    pub custom_field: &'a str,
    pub user: &'a str,
    /// Whether writes share postern's transaction (no journal lookups).
    pub transactional: bool,
    /// Attachment bytes of every value (false: printable text only, for a
    /// proxy that passes text bodies only).
    pub binary: bool,
    /// What the tracker cannot hold (`priority`, `due_date`,
    /// `attachments`, `worklogs`): it must say so (`not_carried`) and
    /// refuse a partner's as not carried, never fail or drop it unsaid.
    pub lacks: &'a [&'a str],
}

impl<'a> Sides<'a> {
    /// A Redmine's sides (the real one the integration script makes, and
    /// the fake): its seeded statuses, priorities, trackers, the custom
    /// field and the person the set-ups create.
    pub fn redmine(sync: &'a dyn Tracker, person: &'a dyn Tracker, project: &'a str, sync_id: &'a str) -> Self {
        Sides {
            sync,
            person,
            project,
            sync_id,
            statuses: ["New", "In Progress"],
            priorities: ["Normal", "High"],
            types: ["Bug", "Feature"],
            custom_field: "Ticket ref",
            user: "Alice Example",
            transactional: false,
            binary: true,
            lacks: &[],
        }
    }
}

impl Sides<'_> {
    fn has(&self, part: &str) -> bool {
        !self.lacks.contains(&part)
    }

    /// A part the tracker lacks: listed as not carried, and a write of it
    /// refused as such.
    fn lacked<T: std::fmt::Debug>(&self, part: &str, write: Result<T, TrackerError>) {
        let listed = self.sync.not_carried().unwrap();
        assert!(listed.iter().any(|p| p == part), "{part} is not listed as not carried: {listed:?}");
        match write {
            Err(TrackerError::Refused(Refusal::NotCarried(why))) => assert!(!why.is_empty()),
            other => panic!("a write of {part}: expected 'not carried', got {other:?}"),
        }
    }

    fn as_sync(&self) -> Actor<'_> {
        Actor { user: "sync-user", origin: Some(self.sync_id), via: None }
    }

    /// Everything reported after `cursor`, read as the engine reads it;
    /// returns the records and the cursor after them.
    fn read(&self, cursor: &str) -> (Vec<ChangeRecord>, String) {
        let mut cursor = cursor.to_string();
        let mut all = Vec::new();
        loop {
            let page = self.sync.changes_since(self.project, &cursor, 100).unwrap();
            cursor = page.next;
            if page.changes.is_empty() {
                break;
            }
            all.extend(page.changes);
        }
        self.sync.collected(&cursor).unwrap();
        // What the sync itself applied is never news (the engine skips
        // changes with this sync as their origin).
        all.retain(|r| r.origin.as_deref() != Some(self.sync_id));
        (all, cursor)
    }
}

fn person() -> Actor<'static> {
    Actor::person("alice")
}

fn kinds(records: &[ChangeRecord], key: &str) -> Vec<ChangeKind> {
    records.iter().filter(|r| r.issue_key == key).map(|r| r.kind.clone()).collect()
}

fn refused<T: std::fmt::Debug>(r: Result<T, TrackerError>, what: &str) -> Refusal {
    match r {
        Err(TrackerError::Refused(x)) => x,
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

/// One behaviour, run against a backend's two sides.
pub type Behaviour = fn(&Sides<'_>);

/// Every behaviour, by name (the names of the tests the macro makes).
pub const BEHAVIOURS: &[(&str, Behaviour)] = &[
    ("an_issue_reads_back_whole_and_is_reported_once", an_issue_reads_back_whole_and_is_reported_once),
    ("a_persons_update_is_reported_field_by_field", a_persons_update_is_reported_field_by_field),
    ("two_edits_in_one_second_are_both_reported", two_edits_in_one_second_are_both_reported),
    ("the_sync_users_writes_are_never_reported", the_sync_users_writes_are_never_reported),
    ("comments_are_reported_unless_the_sync_user_wrote_them", comments_are_reported_unless_the_sync_user_wrote_them),
    ("attachments_cross_byte_for_byte", attachments_cross_byte_for_byte),
    ("type_due_date_and_custom_fields_are_set_cleared_and_reported", more_fields),
    ("worklogs_are_reported_unless_the_sync_user_logged_them", worklogs),
    ("what_a_tracker_cannot_take_is_refused_never_failed", what_a_tracker_cannot_take_is_refused_never_failed),
    ("a_write_made_before_an_interruption_is_found_again", a_write_made_before_an_interruption_is_found_again),
];

/// The whole suite on one backend.
pub fn run(t: &Sides<'_>) {
    for (_, behaviour) in BEHAVIOURS {
        behaviour(t);
    }
}

/// One named test per behaviour: `conformance_tests!(with)` where `with`
/// runs a behaviour against a fresh backend (`fn with(b: fn(&Sides))`);
/// attributes after it (say `#[ignore = "…"]`) go on every test.
#[macro_export]
macro_rules! conformance_tests {
    ($with:path $(, #[$attr:meta])*) => {
        $crate::conformance_tests!(@each $with [$(#[$attr])*]
            an_issue_reads_back_whole_and_is_reported_once
            a_persons_update_is_reported_field_by_field
            two_edits_in_one_second_are_both_reported
            the_sync_users_writes_are_never_reported
            comments_are_reported_unless_the_sync_user_wrote_them
            attachments_cross_byte_for_byte
            type_due_date_and_custom_fields_are_set_cleared_and_reported
            worklogs_are_reported_unless_the_sync_user_logged_them
            what_a_tracker_cannot_take_is_refused_never_failed
            a_write_made_before_an_interruption_is_found_again);
    };
    (@each $with:path [$($attrs:tt)*] $name:ident $($rest:ident)*) => {
        #[test]
        $($attrs)*
        fn $name() {
            let (_, behaviour) = $crate::common::conformance::BEHAVIOURS
                .iter()
                .find(|(n, _)| *n == stringify!($name))
                .expect("a behaviour of that name");
            $with(*behaviour);
        }
        $crate::conformance_tests!(@each $with [$($attrs)*] $($rest)*);
    };
    (@each $with:path [$($attrs:tt)*]) => {};
}

/// The fields of the issues the behaviours make.
fn base(t: &Sides<'_>, summary: &str) -> IssueFields {
    IssueFields {
        summary: summary.into(),
        description: "First line\nsecond line".into(),
        status: t.statuses[0].into(),
        priority: if t.has("priority") { t.priorities[0].into() } else { String::new() },
        labels: Vec::new(),
        assignee: None,
        issue_type: t.has("type").then(|| t.types[0].into()),
        ..Default::default()
    }
}

/// An issue a person made, and the cursor after its creation was read.
fn made(t: &Sides<'_>, summary: &str) -> (String, String) {
    let start = t.sync.start_cursor(t.project).unwrap();
    let a = t.person.create_issue(t.project, &base(t, summary), person()).unwrap();
    let (news, cursor) = t.read(&start);
    assert_eq!(kinds(&news, &a), [ChangeKind::IssueCreated], "{news:?}");
    (a, cursor)
}

const ORIGIN: CommentOrigin<'static> = CommentOrigin { author: "Vera Vendor", created_at: 1_700_000_000_000 };

fn an_issue_reads_back_whole_and_is_reported_once(t: &Sides<'_>) {
    let start = t.sync.start_cursor(t.project).unwrap();
    let (before, cursor) = t.read(&start);
    assert!(before.is_empty(), "a new cursor reports nothing old: {before:?}");
    let fields = base(t, "Conformance: login fails");
    let a = t.person.create_issue(t.project, &fields, person()).unwrap();
    let read = t.sync.issue(&a).unwrap().expect("the new issue");
    assert_eq!(read.fields, fields, "every field reads back as written");
    let (news, cursor) = t.read(&cursor);
    assert_eq!(kinds(&news, &a), [ChangeKind::IssueCreated], "{news:?}");
    let keys = t.sync.issue_keys(t.project).unwrap();
    assert_eq!(keys.last(), Some(&a), "the project lists its issues, oldest first: {keys:?}");
    let (again, _) = t.read(&cursor);
    assert_eq!(kinds(&again, &a), [], "reported once: {again:?}");
}

fn a_persons_update_is_reported_field_by_field(t: &Sides<'_>) {
    let (a, cursor) = made(t, "Conformance: an update");
    let change = FieldChanges {
        summary: Some("Conformance: login fails on SSO".into()),
        status: Some(t.statuses[1].into()),
        ..Default::default()
    };
    t.person.update_issue(&a, &change, person()).unwrap();
    let (news, _) = t.read(&cursor);
    assert_eq!(kinds(&news, &a), [ChangeKind::IssueUpdated { fields: change.clone() }], "{news:?}");
    assert!(t.sync.local_field_time(&a, "status", t.sync_id).unwrap().is_some(), "a person set the status");
}

fn two_edits_in_one_second_are_both_reported(t: &Sides<'_>) {
    let (a, cursor) = made(t, "Conformance: two edits");
    t.person
        .update_issue(&a, &FieldChanges { description: Some("v1".into()), ..Default::default() }, person())
        .unwrap();
    let (news, cursor) = t.read(&cursor);
    assert_eq!(kinds(&news, &a).len(), 1, "{news:?}");
    t.person
        .update_issue(&a, &FieldChanges { description: Some("v2".into()), ..Default::default() }, person())
        .unwrap();
    let (news, _) = t.read(&cursor);
    let want = FieldChanges { description: Some("v2".into()), ..Default::default() };
    assert_eq!(kinds(&news, &a), [ChangeKind::IssueUpdated { fields: want }], "{news:?}");
}

fn the_sync_users_writes_are_never_reported(t: &Sides<'_>) {
    let (a, cursor) = made(t, "Conformance: no echo");
    let mine = match t.has("priority") {
        true => FieldChanges { priority: Some(t.priorities[1].into()), ..Default::default() },
        false => FieldChanges { summary: Some("Conformance: no echo, renamed".into()), ..Default::default() },
    };
    t.sync.update_issue(&a, &mine, t.as_sync()).unwrap();
    let read = t.sync.issue(&a).unwrap().unwrap().fields;
    match t.has("priority") {
        true => assert_eq!(read.priority, t.priorities[1]),
        false => assert_eq!(read.summary, "Conformance: no echo, renamed"),
    }
    let theirs = t.sync.add_comment(&a, "From the partner.\n\nTwo paragraphs.", Some(ORIGIN), t.as_sync()).unwrap();
    let (news, _) = t.read(&cursor);
    assert_eq!(kinds(&news, &a), [], "no echo: {news:?}");
    let c0 = t.sync.issue(&a).unwrap().unwrap().comments.into_iter().find(|c| c.id == theirs).unwrap();
    assert_eq!(
        (c0.on_behalf_of.as_deref(), c0.body.as_str()),
        (Some("Vera Vendor"), "From the partner.\n\nTwo paragraphs.")
    );
}

fn comments_are_reported_unless_the_sync_user_wrote_them(t: &Sides<'_>) {
    let (a, cursor) = made(t, "Conformance: comments");
    let theirs = t.sync.add_comment(&a, "From the partner.", Some(ORIGIN), t.as_sync()).unwrap();
    let (_, mut cursor) = t.read(&cursor);
    // Comments: added, edited, deleted by a person.
    let id = t.person.add_comment(&a, "Reproduced on 4.2", None, person()).unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert!(
        matches!(&kinds(&news, &a)[..], [ChangeKind::CommentAdded { comment, body, .. }]
        if *comment == id && body == "Reproduced on 4.2"),
        "{news:?}"
    );
    t.person.edit_comment(&a, &id, "Reproduced on 4.2 and 4.3", person()).unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert_eq!(
        kinds(&news, &a),
        [ChangeKind::CommentEdited { comment: id.clone(), body: "Reproduced on 4.2 and 4.3".into() }],
        "{news:?}"
    );
    t.person.delete_comment(&a, &id, person()).unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert_eq!(kinds(&news, &a), [ChangeKind::CommentDeleted { comment: id.clone() }], "{news:?}");
    assert!(!t.sync.issue(&a).unwrap().unwrap().comments.iter().any(|c| c.id == id));
    // The sync user edits and deletes what it wrote; nothing is reported.
    t.sync.edit_comment(&a, &theirs, "From the partner, edited.", t.as_sync()).unwrap();
    let c0 = t.sync.issue(&a).unwrap().unwrap().comments.into_iter().find(|c| c.id == theirs).unwrap();
    assert_eq!((c0.on_behalf_of.as_deref(), c0.body.as_str()), (Some("Vera Vendor"), "From the partner, edited."));
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert_eq!(kinds(&news, &a), [], "no echo: {news:?}");
    // A person corrects the sync user's comment: news for the partner.
    t.person.edit_comment(&a, &theirs, "From the partner, corrected here.", person()).unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert_eq!(
        kinds(&news, &a),
        [ChangeKind::CommentEdited { comment: theirs.clone(), body: "From the partner, corrected here.".into() }],
        "a person's edit of the sync user's comment: {news:?}"
    );
    t.sync.delete_comment(&a, &theirs, t.as_sync()).unwrap();
    let (news, _) = t.read(&cursor);
    assert_eq!(kinds(&news, &a), [], "no echo: {news:?}");
}

fn attachments_cross_byte_for_byte(t: &Sides<'_>) {
    let (a, mut cursor) = made(t, "Conformance: attachments");
    if !t.has("attachments") {
        let file = NewAttachment::bytes("notes.txt", "text/plain", b"from a person");
        t.lacked("attachments", t.sync.add_attachment(&a, file, Some(ORIGIN), t.as_sync()));
        assert!(t.sync.issue(&a).unwrap().unwrap().attachments.is_empty());
        return;
    }
    let origin = ORIGIN;
    let data: Vec<u8> = match t.binary {
        true => (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect(),
        false => (0..70_000u32).map(|i| b"abcdefghij\n"[(i % 11) as usize]).collect(),
    };
    let file = NewAttachment::bytes("dump.bin", "application/octet-stream", &data);
    let att = t.sync.add_attachment(&a, file, Some(origin), t.as_sync()).unwrap();
    let got = t.sync.attachment(&a, &att).unwrap().expect("the attachment");
    assert_eq!(got.data, data);
    assert_eq!(got.info.sha256, postern::tracker::attachments::sha256_hex(&data));
    assert_eq!(got.info.on_behalf_of.as_deref(), Some("Vera Vendor"));
    let file = NewAttachment::bytes("notes.txt", "text/plain", b"from a person");
    let theirs_att = t.person.add_attachment(&a, file, None, person()).unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert!(
        matches!(&kinds(&news, &a)[..], [ChangeKind::AttachmentAdded { attachment, filename, size: 13 }]
        if *attachment == theirs_att && filename == "notes.txt"),
        "only the person's attachment: {news:?}"
    );
    t.person.delete_attachment(&a, &theirs_att, person()).unwrap();
    let (news, _) = t.read(&cursor);
    assert_eq!(kinds(&news, &a), [ChangeKind::AttachmentDeleted { attachment: theirs_att.clone() }], "{news:?}");
    t.sync.delete_attachment(&a, &att, t.as_sync()).unwrap();
    assert!(t.sync.attachment(&a, &att).unwrap().is_none());
}

fn what_a_tracker_cannot_take_is_refused_never_failed(t: &Sides<'_>) {
    let (a, _) = made(t, "Conformance: refusals");
    let change = FieldChanges { summary: Some("Anything".into()), ..Default::default() };
    // Refused, never "failed": the change blocks one issue.
    let bad = FieldChanges { status: Some("No Such Status".into()), ..Default::default() };
    let why = refused(t.sync.update_issue(&a, &bad, t.as_sync()), "an unknown status");
    assert!(why.to_string().contains("No Such Status"), "{why}");
    assert_eq!(t.sync.issue("999999").unwrap(), None);
    refused(t.sync.update_issue("999999", &change, t.as_sync()), "a missing issue");
    refused(t.sync.add_comment("999999", "x", None, t.as_sync()), "a comment on a missing issue");
    let empty = FieldChanges { summary: Some(" ".into()), ..Default::default() };
    refused(t.sync.update_issue(&a, &empty, t.as_sync()), "an empty summary");
}

/// After an interruption, a write that was made is found again by what
/// the sync user wrote (remote backends; the embedded one shares the
/// engine's transaction and never needs it).
fn a_write_made_before_an_interruption_is_found_again(t: &Sides<'_>) {
    if t.transactional {
        return;
    }
    let (_, cursor) = made(t, "Conformance: lookups");
    let fields = base(t, "Made before a crash");
    let origin = ORIGIN;
    let since = postern::store::now_ms();
    // The journal names each write first (a backend may store it).
    t.sync.tag_next_write("tag-issue");
    let b = t.sync.create_issue(t.project, &fields, t.as_sync()).unwrap();
    let w = WrittenBefore::Issue { summary: "Made before a crash" };
    let found = t.sync.find_write(&w, "tag-issue", since).unwrap();
    assert_eq!(found.as_deref(), Some(b.as_str()));
    t.sync.tag_next_write("tag-comment");
    let id = t.sync.add_comment(&b, "once", Some(origin), t.as_sync()).unwrap();
    let w = WrittenBefore::Comment { key: &b, body: "once", author: Some("Vera Vendor") };
    assert_eq!(t.sync.find_write(&w, "tag-comment", since).unwrap().as_deref(), Some(id.as_str()));
    let w = WrittenBefore::Comment { key: &b, body: "never written", author: None };
    assert_eq!(t.sync.find_write(&w, "tag-never", since).unwrap(), None);
    if !t.has("attachments") || !t.has("worklogs") {
        return;
    }
    let file = NewAttachment::bytes("once.txt", "text/plain", b"12345");
    t.sync.tag_next_write("tag-file");
    let att = t.sync.add_attachment(&b, file, None, t.as_sync()).unwrap();
    let w = WrittenBefore::Attachment { key: &b, filename: "once.txt", size: 5 };
    assert_eq!(t.sync.find_write(&w, "tag-file", since).unwrap().as_deref(), Some(att.as_str()));
    t.sync.tag_next_write("tag-worklog");
    let time = NewWorklog { user: None, minutes: 25, spent_on: "2026-11-19", comment: "once" };
    let wl = t.sync.add_worklog(&b, &time, Some(origin), t.as_sync()).unwrap();
    // A person logs the same time on the same day, later: not the
    // sync user's write.
    let alike = NewWorklog { comment: "my own", ..time };
    let theirs = t.person.add_worklog(&b, &alike, None, person()).unwrap();
    let w = WrittenBefore::Worklog {
        key: &b,
        minutes: 25,
        spent_on: "2026-11-19",
        comment: "once",
        on_behalf_of: Some("Vera Vendor"),
    };
    assert_eq!(t.sync.find_write(&w, "tag-worklog", since).unwrap().as_deref(), Some(wl.as_str()));
    let (news, _) = t.read(&cursor);
    assert!(
        matches!(&kinds(&news, &b)[..], [ChangeKind::WorklogAdded { worklog }] if worklog.id == theirs),
        "what the sync user made is no news, the person's is: {news:?}"
    );
}

/// Issue type, due date and custom fields: set, cleared, read back and
/// reported; the sync user's are not.
fn more_fields(t: &Sides<'_>) {
    let (a, mut cursor) = made(t, "Conformance: more fields");
    let (a, cursor) = (a.as_str(), &mut cursor);
    let due = |d: &str| t.has("due_date").then(|| d.to_string());
    let ty = |n: usize| t.has("type").then(|| t.types[n].to_string());
    let more = FieldChanges {
        issue_type: ty(1),
        due_date: due("2026-12-24"),
        custom: [(t.custom_field.to_string(), "CR-1".to_string())].into(),
        ..Default::default()
    };
    t.person.update_issue(a, &more, person()).unwrap();
    let f = t.sync.issue(a).unwrap().unwrap().fields;
    assert_eq!(
        (f.issue_type.as_deref(), f.due_date, f.custom.get(t.custom_field).map(String::as_str)),
        (ty(1).as_deref(), due("2026-12-24"), Some("CR-1"))
    );
    let (news, c) = t.read(cursor);
    *cursor = c;
    assert_eq!(kinds(&news, a), [ChangeKind::IssueUpdated { fields: more }], "{news:?}");
    let clear = FieldChanges {
        due_date: due(""),
        custom: [(t.custom_field.to_string(), String::new())].into(),
        ..Default::default()
    };
    t.person.update_issue(a, &clear, person()).unwrap();
    let f = t.sync.issue(a).unwrap().unwrap().fields;
    assert_eq!((f.due_date, f.custom.get(t.custom_field)), (None, None), "cleared");
    let (news, c) = t.read(cursor);
    *cursor = c;
    assert_eq!(kinds(&news, a), [ChangeKind::IssueUpdated { fields: clear }], "{news:?}");
    let mine = FieldChanges {
        issue_type: ty(0),
        due_date: due("2027-01-31"),
        custom: [(t.custom_field.to_string(), "CR-1".to_string())].into(),
        ..Default::default()
    };
    t.sync.update_issue(a, &mine, t.as_sync()).unwrap();
    let (news, c) = t.read(cursor);
    *cursor = c;
    assert_eq!(kinds(&news, a), [], "no echo: {news:?}");
    if t.has("type") {
        assert!(t.sync.local_field_time(a, "type", t.sync_id).unwrap().is_some(), "a person set the type");
        let bad = FieldChanges { issue_type: Some("No Such Type".into()), ..Default::default() };
        let why = refused(t.sync.update_issue(a, &bad, t.as_sync()), "an unknown type");
        assert!(matches!(&why, Refusal::Unknown { what, .. } if what == "type"), "{why}");
    } else {
        assert!(t.sync.not_carried().unwrap().iter().any(|p| p == "type"), "types listed as not carried");
    }
    if t.has("due_date") {
        let bad = FieldChanges { due_date: Some("24.12.2026".into()), ..Default::default() };
        refused(t.sync.update_issue(a, &bad, t.as_sync()), "a date that is none");
    }
}

/// Worklogs: a person's added, edited, deleted; the sync user's, logged
/// for a user on behalf of someone at the partner, never reported.
fn worklogs(t: &Sides<'_>) {
    let (a, mut cursor) = made(t, "Conformance: worklogs");
    let (a, cursor) = (a.as_str(), &mut cursor);
    if !t.has("worklogs") {
        let w = NewWorklog { user: None, minutes: 30, spent_on: "2026-11-21", comment: "Call with the customer" };
        let origin = CommentOrigin { author: "Vera Vendor", created_at: 0 };
        t.lacked("worklogs", t.sync.add_worklog(a, &w, Some(origin), t.as_sync()));
        assert!(t.sync.issue(a).unwrap().unwrap().worklogs.is_empty());
        return;
    }
    let w = NewWorklog { user: None, minutes: 90, spent_on: "2026-11-20", comment: "Profiling the export" };
    let id = t.person.add_worklog(a, &w, None, person()).unwrap();
    let (news, c) = t.read(cursor);
    *cursor = c;
    assert!(
        matches!(&kinds(&news, a)[..], [ChangeKind::WorklogAdded { worklog }]
            if worklog.id == id && worklog.minutes == 90 && worklog.spent_on == "2026-11-20"
               && worklog.comment == "Profiling the export" && worklog.on_behalf_of.is_none()),
        "{news:?}"
    );
    let w2 = NewWorklog { minutes: 120, comment: "Profiling the export, again", ..w };
    t.person.edit_worklog(a, &id, &w2, person()).unwrap();
    let (news, c) = t.read(cursor);
    *cursor = c;
    assert!(
        matches!(&kinds(&news, a)[..], [ChangeKind::WorklogEdited { worklog }]
            if worklog.id == id && worklog.minutes == 120 && worklog.comment == "Profiling the export, again"),
        "{news:?}"
    );
    t.person.delete_worklog(a, &id, person()).unwrap();
    let (news, c) = t.read(cursor);
    *cursor = c;
    assert_eq!(kinds(&news, a), [ChangeKind::WorklogDeleted { worklog: id.clone() }], "{news:?}");
    refused(t.sync.delete_worklog(a, &id, t.as_sync()), "a worklog already deleted");

    let origin = CommentOrigin { author: "Vera Vendor", created_at: 0 };
    let w = NewWorklog { user: Some(t.user), minutes: 30, spent_on: "2026-11-21", comment: "Call with the customer" };
    let theirs = t.sync.add_worklog(a, &w, Some(origin), t.as_sync()).unwrap();
    let got = t.sync.issue(a).unwrap().unwrap().worklogs.into_iter().find(|x| x.id == theirs).unwrap();
    assert_eq!(
        (got.author.as_str(), got.on_behalf_of.as_deref(), got.minutes, got.comment.as_str()),
        (t.user, Some("Vera Vendor"), 30, "Call with the customer")
    );
    t.sync.edit_worklog(a, &theirs, &NewWorklog { minutes: 45, ..w }, t.as_sync()).unwrap();
    let got = t.sync.issue(a).unwrap().unwrap().worklogs.into_iter().find(|x| x.id == theirs).unwrap();
    assert_eq!((got.minutes, got.on_behalf_of.as_deref()), (45, Some("Vera Vendor")), "the partner's name is kept");
    let (news, c) = t.read(cursor);
    *cursor = c;
    assert_eq!(kinds(&news, a), [], "no echo: {news:?}");
    // Written last by the sync user: no local change for a partner's later
    // edit of it to lose to (a worklog logged on an error's retry).
    assert_eq!(t.sync.local_worklog_time(a, &theirs, t.sync_id).unwrap(), None, "the sync user's worklog");
    t.sync.delete_worklog(a, &theirs, t.as_sync()).unwrap();
    let (news, c) = t.read(cursor);
    *cursor = c;
    assert_eq!(kinds(&news, a), [], "no echo: {news:?}");
    let bad = NewWorklog { minutes: 0, ..w };
    refused(t.sync.add_worklog(a, &bad, None, t.as_sync()), "a worklog of no time");
    let bad = NewWorklog { user: Some("Nobody Known"), ..w };
    let why = refused(t.sync.add_worklog(a, &bad, None, t.as_sync()), "time for an unknown user");
    assert!(matches!(&why, Refusal::Unknown { what, .. } if what == "user"), "{why}");
}
