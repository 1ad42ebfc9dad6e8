//! What the Jira backend writes, as Jira holds it: the journal's tag in the
//! same request as each issue, comment and worklog it adds (so a write cut
//! off by a crash is found again, exactly, and never moves `updated`), and
//! descriptions and comments in each dialect's own markup.

mod common;

#[path = "common/jira_fake/mod.rs"]
mod jira_fake;

use jira_fake::Fake;
use postern::protocol::IssueFields;
use postern::tracker::jira::{Flavour, Jira, JiraAuth};
use postern::tracker::{Actor, CommentOrigin, NewAttachment, NewWorklog, Reads, Writes, WrittenBefore};
use postern::transport::mail::Password;

fn jira(url: &str, cloud: bool) -> Jira {
    let (flavour, auth) = match cloud {
        true => (
            Flavour::Cloud,
            JiraAuth::Basic { user: "sync@example.com".into(), secret: Password::Value("t0ken".into()) },
        ),
        false => (Flavour::DataCenter, JiraAuth::Bearer { token: Password::Value("p4t".into()) }),
    };
    Jira::open(&jira_fake::settings(url, flavour, auth), &tempfile::tempdir().unwrap().keep(), "sync-1").unwrap()
}

/// Someone else in the same Jira, who makes the person's changes.
fn alice(url: &str, cloud: bool) -> Jira {
    let flavour = if cloud { Flavour::Cloud } else { Flavour::DataCenter };
    let auth = JiraAuth::Basic { user: "alice@example.com".into(), secret: Password::Value("al1ce".into()) };
    Jira::open(&jira_fake::settings(url, flavour, auth), &tempfile::tempdir().unwrap().keep(), "alice").unwrap()
}

const SYNC: Actor = Actor { user: "sync-user", origin: Some("sync-1"), via: None };

fn fields(summary: &str, description: &str) -> IssueFields {
    IssueFields {
        summary: summary.into(),
        description: description.into(),
        status: "To Do".into(),
        priority: "Medium".into(),
        ..Default::default()
    }
}

fn tagged_writes_are_found_exactly(cloud: bool) {
    let fake = jira_fake::start(Fake::new(cloud, "SUP"));
    // Jira's clock 5 s behind postern's: what was written since the
    // write began still is (tagged, or by Jira's own Date).
    fake.state.lock().unwrap().clock_offset_ms = -5_000;
    let j = jira(&fake.url, cloud);
    let sync = SYNC;
    let since = postern::store::now_ms();
    // Two issues alike in all but the journal's tag.
    let mut keys = Vec::new();
    for tag in ["write-1", "write-2"] {
        j.tag_next_write(tag);
        keys.push(j.create_issue("SUP", &fields("Same summary", ""), sync).unwrap());
    }
    let issue = WrittenBefore::Issue { summary: "Same summary" };
    assert_eq!(j.find_write(&issue, "write-1", since).unwrap().as_deref(), Some(keys[0].as_str()));
    assert_eq!(j.find_write(&issue, "write-2", since).unwrap().as_deref(), Some(keys[1].as_str()));
    assert_eq!(j.find_write(&issue, "write-3", since).unwrap(), None, "a tag never written is not found");
    {
        let f = fake.state.lock().unwrap();
        let i = f.issue(&keys[0]).unwrap();
        assert_eq!(i.properties["postern"]["write"], "write-1", "the tag went with the create");
        assert_eq!(i.updated, i.created, "the tag did not move updated");
        assert!(i.histories.is_empty(), "the tag is no change: {:?}", i.histories);
    }
    // A file added for someone keeps the create's tag beside its owner.
    let file = NewAttachment::bytes("a.txt", "text/plain", b"abc");
    let origin = CommentOrigin { author: "Vera Vendor", created_at: 0 };
    j.add_attachment(&keys[0], file, Some(origin), sync).unwrap();
    assert_eq!(j.find_write(&issue, "write-1", since).unwrap().as_deref(), Some(keys[0].as_str()));

    // Two comments alike, two worklogs alike.
    let mut comments = Vec::new();
    let mut worklogs = Vec::new();
    let time = NewWorklog { user: None, minutes: 30, spent_on: "2026-11-20", comment: "call" };
    for tag in ["c-1", "c-2"] {
        j.tag_next_write(tag);
        comments.push(j.add_comment(&keys[1], "+1", Some(origin), sync).unwrap());
        j.tag_next_write(&format!("w{tag}"));
        worklogs.push(j.add_worklog(&keys[1], &time, Some(origin), sync).unwrap());
    }
    let c = WrittenBefore::Comment { key: &keys[1], body: "+1", author: Some("Vera Vendor") };
    let w = WrittenBefore::Worklog {
        key: &keys[1],
        minutes: 30,
        spent_on: "2026-11-20",
        comment: "call",
        on_behalf_of: Some("Vera Vendor"),
    };
    for n in 0..2 {
        let tag = format!("c-{}", n + 1);
        assert_eq!(j.find_write(&c, &tag, since).unwrap().as_deref(), Some(comments[n].as_str()));
        assert_eq!(j.find_write(&w, &format!("w{tag}"), since).unwrap().as_deref(), Some(worklogs[n].as_str()));
    }
    assert_eq!(j.find_write(&c, "c-3", since).unwrap(), None);
    assert_eq!(j.find_write(&w, "wc-3", since).unwrap(), None);
}

#[test]
fn a_write_cut_off_is_found_by_its_tag_on_jira_cloud() {
    tagged_writes_are_found_exactly(true);
}

#[test]
fn a_write_cut_off_is_found_by_its_tag_on_jira_data_center() {
    tagged_writes_are_found_exactly(false);
}

const TEXT: &str = "# Steps\n\n1. open `app`\n2. see [the log](https://example.com/log)\n\n**Note**: 2 * 3 and a_b";

#[test]
fn data_center_holds_wiki_markup_and_cloud_adf_and_both_read_back_unchanged() {
    let dc = jira_fake::start(Fake::new(false, "SUP"));
    let j = jira(&dc.url, false);
    let key = j.create_issue("SUP", &fields("Rich", TEXT), SYNC).unwrap();
    j.add_comment(&key, "- a\n- *b*", None, SYNC).unwrap();
    {
        let f = dc.state.lock().unwrap();
        let i = f.issue(&key).unwrap();
        assert_eq!(
            i.fields["description"],
            "h1. Steps\n\n# open {{app}}\n# see [the log|https://example.com/log]\n\n*Note*: 2 * 3 and a_b"
        );
        assert_eq!(i.comments[0].body, "* a\n* _b_");
    }
    let read = j.issue(&key).unwrap().unwrap();
    assert_eq!(read.fields.description, TEXT);
    assert_eq!(read.comments[0].body, "- a\n- *b*");

    let cloud = jira_fake::start(Fake::new(true, "SUP"));
    let j = jira(&cloud.url, true);
    let key = j.create_issue("SUP", &fields("Rich", TEXT), SYNC).unwrap();
    {
        let f = cloud.state.lock().unwrap();
        let doc = &f.issue(&key).unwrap().fields["description"];
        assert_eq!(doc["type"], "doc");
        assert_eq!(doc["content"][1]["type"], "orderedList");
    }
    assert_eq!(j.issue(&key).unwrap().unwrap().fields.description, TEXT);
}

/// Each flavour: a poll finds any number of changed issues in one call (the
/// search brings them whole); a comment or a summary postern writes costs
/// its own call and no read, and is no news to the next poll.
fn one_call_per_poll(cloud: bool) {
    use postern::protocol::FieldChanges;
    use postern::tracker::ChangeKind;
    let fake = jira_fake::start(Fake::new(cloud, "SUP"));
    let j = jira(&fake.url, cloud);
    let person = alice(&fake.url, cloud);
    let alice = Actor::person("alice");
    let keys: Vec<String> =
        (0..5).map(|n| person.create_issue("SUP", &fields(&format!("issue {n}"), ""), alice).unwrap()).collect();
    let calls = || fake.state.lock().unwrap().calls;
    let mut cursor = j.changes_since("SUP", "", 100).unwrap().next;
    for (n, k) in keys.iter().enumerate() {
        let f = FieldChanges { summary: Some(format!("edited {n}")), ..Default::default() };
        person.update_issue(k, &f, alice).unwrap();
    }
    person.add_comment(&keys[0], "a note", None, alice).unwrap();
    let before = calls();
    let page = j.changes_since("SUP", &cursor, 100).unwrap();
    assert_eq!(calls() - before, 1, "one search, no read per issue");
    assert!(page.done, "all there is came in one page");
    let edits = page
        .changes
        .iter()
        .filter(|c| matches!(&c.kind, ChangeKind::IssueUpdated { fields } if fields.summary.is_some()));
    assert_eq!(edits.count(), 5, "{:?}", page.changes);
    assert!(page.changes.iter().any(|c| matches!(&c.kind, ChangeKind::CommentAdded { .. })), "{:?}", page.changes);
    j.collected(&page.next).unwrap();
    cursor = page.next;

    let before = calls();
    j.add_comment(&keys[1], "from the partner", None, SYNC).unwrap();
    let f = FieldChanges { summary: Some("from the partner".into()), ..Default::default() };
    j.update_issue(&keys[2], &f, SYNC).unwrap();
    assert_eq!(calls() - before, 2, "a comment and a summary: one call each, no read after");
    let before = calls();
    let page = j.changes_since("SUP", &cursor, 100).unwrap();
    assert_eq!(calls() - before, 1);
    assert_eq!(page.changes, [], "what postern wrote is no news");
}

#[test]
fn a_poll_is_one_call_on_jira_cloud() {
    one_call_per_poll(true);
}

#[test]
fn a_poll_is_one_call_on_jira_data_center() {
    one_call_per_poll(false);
}

/// Cloud's search may list an issue as it was before the last change read:
/// such a copy is no news (it would undo that change on the partner's side).
#[test]
fn a_search_copy_older_than_what_was_read_is_no_news() {
    use postern::protocol::FieldChanges;
    use postern::tracker::ChangeKind;
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let j = jira(&fake.url, true);
    let person = alice(&fake.url, true);
    let alice = Actor::person("alice");
    let key = person.create_issue("SUP", &fields("first", ""), alice).unwrap();
    let summary = |s: &str| FieldChanges { summary: Some(s.into()), ..Default::default() };
    let mut cursor = j.changes_since("SUP", "", 100).unwrap().next;
    let mut poll = || {
        let page = j.changes_since("SUP", &cursor, 100).unwrap();
        j.collected(&page.next).unwrap();
        cursor = page.next;
        let summaries: Vec<String> = page
            .changes
            .into_iter()
            .filter_map(|c| match c.kind {
                ChangeKind::IssueUpdated { fields } => fields.summary,
                _ => None,
            })
            .collect();
        summaries
    };
    let first = jira_fake::search::search_copy(&fake.state.lock().unwrap(), &key);
    person.update_issue(&key, &summary("second"), alice).unwrap();
    assert_eq!(poll(), ["second"]);
    // The index falls behind, to before "second", while "third" is made.
    fake.state.lock().unwrap().stale.insert(key.clone(), first);
    person.update_issue(&key, &summary("third"), alice).unwrap();
    assert_eq!(poll(), Vec::<String>::new(), "the old copy brings nothing back");
    fake.state.lock().unwrap().stale.clear();
    assert_eq!(poll(), ["third"]);
}

/// After a burst, polls stop listing it once Jira's clock has moved on: a
/// window reaches back a minute before the last search, by Jira's `Date`.
#[test]
fn idle_polls_after_a_burst_list_nothing_once_it_is_past() {
    let fake = jira_fake::start(Fake::new(true, "SUP"));
    let j = jira(&fake.url, true);
    let person = alice(&fake.url, true);
    let mut cursor = j.changes_since("SUP", "", 100).unwrap().next;
    for n in 0..30 {
        person.create_issue("SUP", &fields(&format!("burst {n}"), ""), Actor::person("alice")).unwrap();
    }
    let found = || fake.state.lock().unwrap().last_found.load(std::sync::atomic::Ordering::Relaxed);
    let mut poll = || {
        let page = j.changes_since("SUP", &cursor, 100).unwrap();
        j.collected(&page.next).unwrap();
        cursor = page.next;
        page.changes.len()
    };
    assert_eq!(poll(), 30);
    assert_eq!(found(), 30);
    fake.state.lock().unwrap().clock_offset_ms += 3 * 60_000;
    poll(); // Jira's clock moved on: from it the next window starts
    assert_eq!(poll(), 0);
    assert_eq!(found(), 0, "the burst is no longer listed");
}
