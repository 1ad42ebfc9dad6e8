//! The conformance suite every tracker backend passes: written once, run
//! against the embedded tracker in `cargo test` and against a real Redmine
//! in the integration script.

use postern::protocol::{FieldChanges, IssueFields};
use postern::tracker::{
    Actor, ChangeKind, ChangeRecord, CommentOrigin, NewAttachment, Refusal, Tracker, TrackerError, WrittenBefore,
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
    /// Whether writes share postern's transaction (no journal lookups).
    pub transactional: bool,
}

impl Sides<'_> {
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

/// The whole suite.
pub fn run(t: &Sides<'_>) {
    let start = t.sync.start_cursor(t.project).unwrap();
    let (before, mut cursor) = t.read(&start);
    assert!(before.is_empty(), "a new cursor reports nothing old: {before:?}");

    // Create and read back, every field.
    let fields = IssueFields {
        summary: "Conformance: login fails".into(),
        description: "First line\nsecond line".into(),
        status: t.statuses[0].into(),
        priority: t.priorities[0].into(),
        labels: Vec::new(),
        assignee: None,
    };
    let a = t.person.create_issue(t.project, &fields, person()).unwrap();
    let read = t.sync.issue(&a).unwrap().expect("the new issue");
    assert_eq!(read.fields, fields, "every field reads back as written");
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert_eq!(kinds(&news, &a), [ChangeKind::IssueCreated], "{news:?}");
    let keys = t.sync.issue_keys(t.project).unwrap();
    assert_eq!(keys.last(), Some(&a), "the project lists its issues, oldest first: {keys:?}");

    // A person's update: exactly the fields that changed.
    let change = FieldChanges {
        summary: Some("Conformance: login fails on SSO".into()),
        status: Some(t.statuses[1].into()),
        ..Default::default()
    };
    t.person.update_issue(&a, &change, person()).unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert_eq!(kinds(&news, &a), [ChangeKind::IssueUpdated { fields: change.clone() }], "{news:?}");
    assert!(t.sync.local_field_time(&a, "status", t.sync_id).unwrap().is_some(), "a person set the status");

    // Two edits in the same second, read in between: neither is lost.
    t.person
        .update_issue(&a, &FieldChanges { description: Some("v1".into()), ..Default::default() }, person())
        .unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert_eq!(news.len(), 1, "{news:?}");
    t.person
        .update_issue(&a, &FieldChanges { description: Some("v2".into()), ..Default::default() }, person())
        .unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    let want = FieldChanges { description: Some("v2".into()), ..Default::default() };
    assert_eq!(kinds(&news, &a), [ChangeKind::IssueUpdated { fields: want }], "{news:?}");

    // What the sync user writes is never reported back.
    let mine = FieldChanges { priority: Some(t.priorities[1].into()), ..Default::default() };
    t.sync.update_issue(&a, &mine, t.as_sync()).unwrap();
    assert_eq!(t.sync.issue(&a).unwrap().unwrap().fields.priority, t.priorities[1]);
    let origin = CommentOrigin { author: "Vera Vendor", created_at: 1_700_000_000_000 };
    let theirs = t.sync.add_comment(&a, "From the partner.\n\nTwo paragraphs.", Some(origin), t.as_sync()).unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert_eq!(kinds(&news, &a), [], "no echo: {news:?}");
    let c0 = t.sync.issue(&a).unwrap().unwrap().comments.into_iter().find(|c| c.id == theirs).unwrap();
    assert_eq!(
        (c0.on_behalf_of.as_deref(), c0.body.as_str()),
        (Some("Vera Vendor"), "From the partner.\n\nTwo paragraphs.")
    );

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
    t.sync.delete_comment(&a, &theirs, t.as_sync()).unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert_eq!(kinds(&news, &a), [], "no echo: {news:?}");

    // Attachments, byte for byte.
    let data: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let file = NewAttachment { filename: "dump.bin", media_type: "application/octet-stream", data: &data };
    let att = t.sync.add_attachment(&a, file, Some(origin), t.as_sync()).unwrap();
    let got = t.sync.attachment(&a, &att).unwrap().expect("the attachment");
    assert_eq!(got.data, data);
    assert_eq!(got.info.sha256, postern::tracker::attachments::sha256_hex(&data));
    assert_eq!(got.info.on_behalf_of.as_deref(), Some("Vera Vendor"));
    let file = NewAttachment { filename: "notes.txt", media_type: "text/plain", data: b"from a person" };
    let theirs_att = t.person.add_attachment(&a, file, None, person()).unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert!(
        matches!(&kinds(&news, &a)[..], [ChangeKind::AttachmentAdded { attachment, filename, size: 13 }]
        if *attachment == theirs_att && filename == "notes.txt"),
        "only the person's attachment: {news:?}"
    );
    t.person.delete_attachment(&a, &theirs_att, person()).unwrap();
    let (news, c) = t.read(&cursor);
    cursor = c;
    assert_eq!(kinds(&news, &a), [ChangeKind::AttachmentDeleted { attachment: theirs_att.clone() }], "{news:?}");
    t.sync.delete_attachment(&a, &att, t.as_sync()).unwrap();
    assert!(t.sync.attachment(&a, &att).unwrap().is_none());

    // Refused, never "failed": the change blocks one issue.
    let bad = FieldChanges { status: Some("No Such Status".into()), ..Default::default() };
    let why = refused(t.sync.update_issue(&a, &bad, t.as_sync()), "an unknown status");
    assert!(why.to_string().contains("No Such Status"), "{why}");
    assert_eq!(t.sync.issue("999999").unwrap(), None);
    refused(t.sync.update_issue("999999", &change, t.as_sync()), "a missing issue");
    refused(t.sync.add_comment("999999", "x", None, t.as_sync()), "a comment on a missing issue");
    let empty = FieldChanges { summary: Some(" ".into()), ..Default::default() };
    refused(t.sync.update_issue(&a, &empty, t.as_sync()), "an empty summary");

    // After an interruption, a write that was made is found again by what
    // the sync user wrote (remote backends; the embedded one shares the
    // engine's transaction and never needs it).
    if !t.transactional {
        let since = postern::store::now_ms();
        let b = t
            .sync
            .create_issue(
                t.project,
                &IssueFields { summary: "Made before a crash".into(), ..fields.clone() },
                t.as_sync(),
            )
            .unwrap();
        let found = t.sync.find_write(&WrittenBefore::Issue { summary: "Made before a crash" }, since).unwrap();
        assert_eq!(found.as_deref(), Some(b.as_str()));
        let id = t.sync.add_comment(&b, "once", Some(origin), t.as_sync()).unwrap();
        let w = WrittenBefore::Comment { key: &b, body: "once", author: Some("Vera Vendor") };
        assert_eq!(t.sync.find_write(&w, since).unwrap().as_deref(), Some(id.as_str()));
        let w = WrittenBefore::Comment { key: &b, body: "never written", author: None };
        assert_eq!(t.sync.find_write(&w, since).unwrap(), None);
        let file = NewAttachment { filename: "once.txt", media_type: "text/plain", data: b"12345" };
        let att = t.sync.add_attachment(&b, file, None, t.as_sync()).unwrap();
        let w = WrittenBefore::Attachment { key: &b, filename: "once.txt", size: 5 };
        assert_eq!(t.sync.find_write(&w, since).unwrap().as_deref(), Some(att.as_str()));
        let (news, _) = t.read(&cursor);
        assert_eq!(kinds(&news, &b), [], "what the sync user made is no news: {news:?}");
    }
}
