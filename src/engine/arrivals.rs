//! Issues, comments and attachments arriving from a partner: made here, or
//! paired with what is already here when the same thing came by another
//! path (a forwarding hub in a triangle), named by where it was first made
//! ([`crate::store::origins`]).

use base64::Engine as _;
use rusqlite::Connection;

use crate::protocol::{AttachmentSnapshot, Change, CommentSnapshot, FieldChanges, IssueFields};
use crate::store::origins::{self, Kind};
use crate::store::{links, SyncRecord};
use crate::tracker::attachments::{sha256_hex, sha256_of_file};
use crate::tracker::{Actor, CommentOrigin, Content, NewAttachment, Refusal, TResult as Result, Tracker, TrackerError};

/// The local thing named `gid`, if it is (still) here.
fn find(conn: &Connection, sync: &SyncRecord, kind: Kind, gid: &str) -> Result<Option<String>> {
    if let Some(local) = origins::local(conn, kind, gid)? {
        return Ok(Some(local));
    }
    // Made here, come back by a second path.
    let own = sync.own_fpr.as_deref().map(|f| format!("{f}/"));
    Ok(own.and_then(|o| gid.strip_prefix(&o).map(str::to_string)))
}

/// Where a partner's change is applied: the database, the tracker, the
/// sync and who writes.
pub struct Here<'a, T: Tracker> {
    pub conn: &'a Connection,
    pub tracker: &'a T,
    pub sync: &'a SyncRecord,
    pub actor: Actor<'a>,
}

fn gid_of(sync: &SyncRecord, carried: Option<&str>, sender_id: &str) -> String {
    origins::incoming(carried, sync.partner_fpr.as_deref().unwrap_or("partner"), sender_id)
}

/// Writes those of the partner's `fields` that it changed after they were
/// changed here (`at`: when each was changed on its side; a field
/// without a time is not written), by the rules of [`super::rules`].
fn later_fields<T: Tracker>(
    h: &Here<'_, T>,
    key: &str,
    fields: &FieldChanges,
    at: &std::collections::BTreeMap<String, i64>,
) -> Result<()> {
    let mut fields = fields.clone();
    for name in fields.names() {
        let later = match at.get(name) {
            Some(at) => match h.tracker.local_field_time(key, name, &h.sync.id)? {
                Some(local) => super::rules::partner_wins(h.sync.role, *at, local),
                None => true,
            },
            None => false,
        };
        if !later {
            fields.drop_field(name);
        }
    }
    if !fields.is_empty() {
        tracing::info!(sync = %h.sync.name, issue = key, fields = ?fields.names(), "changed on the other path later: taken");
        h.tracker.update_issue(key, &fields, h.actor)?;
    }
    Ok(())
}

/// The partner's new issue `remote`: paired with the same issue if it is
/// here already, else created with its comments. Returns the local key.
/// Here already by another path (a triangle of syncs), it takes each
/// field that differs and that the sender changed later than it was
/// changed here (`fields_at`): the first crossing over this path may carry
/// an edit the copy here never saw.
pub fn issue<T: Tracker>(
    h: &Here<'_, T>,
    remote: &str,
    carried: Option<&str>,
    (fields, fields_at): (&IssueFields, &std::collections::BTreeMap<String, i64>),
    comments: &[CommentSnapshot],
    now: i64,
    replies: &mut Vec<Change>,
) -> Result<String> {
    let Here { conn, tracker, sync, actor } = *h;
    let gid = gid_of(sync, carried, remote);
    // Here already: made here, or come by another path. If this sync sent
    // its own copy already, the two snapshots crossed: pair them.
    let mut existing = None;
    if let Some(k) = find(conn, sync, Kind::Issue, &gid)? {
        match links::by_local(conn, &sync.id, &k)? {
            None => existing = tracker.issue(&k)?.map(|i| (i, false)),
            Some(l) if l.remote_issue_key.is_none() => existing = tracker.issue(&k)?.map(|i| (i, true)),
            Some(_) => {}
        }
    }
    let (key, here) = match existing {
        Some((issue, linked)) => {
            tracing::info!(sync = %sync.name, issue = %issue.key, partner = remote, "already here by another path: paired");
            if linked {
                links::set_remote(conn, &sync.id, &issue.key, remote)?;
            } else {
                links::insert(conn, &sync.id, &issue.key, Some(remote), now)?;
            }
            later_fields(h, &issue.key, &FieldChanges::differing(&issue.fields, fields), fields_at)?;
            let here: Vec<String> = issue.comments.iter().map(|c| c.id.clone()).collect();
            (issue.key, here)
        }
        None => {
            let key = tracker.create_issue(&sync.project, fields, actor)?;
            origins::record(conn, Kind::Issue, &key, &gid)?;
            links::insert(conn, &sync.id, &key, Some(remote), now)?;
            (key, Vec::new())
        }
    };
    let mut pairs = Vec::new();
    for c in comments {
        let cgid = gid_of(sync, c.gid.as_deref(), &c.id);
        let id = match find(conn, sync, Kind::Comment, &cgid)?.filter(|id| here.contains(id)) {
            Some(id) => id,
            None => add_comment(conn, tracker, &key, c, &cgid, actor)?,
        };
        links::pair_comment(conn, &sync.id, &key, &id, &c.id)?;
        pairs.push((c.id.clone(), id));
    }
    replies.push(Change::Paired {
        yours: remote.into(),
        mine: key.clone(),
        comments: pairs,
        attachments: Vec::new(),
        worklogs: Vec::new(),
    });
    Ok(key)
}

/// Pairs the partner's issue `remote` with issue `key`, which this side
/// made for it (a change refused after the issue was made, see
/// [`crate::tracker::Refusal::PartlyMade`]).
pub fn pair_made(
    conn: &Connection,
    sync: &SyncRecord,
    remote: &str,
    carried: Option<&str>,
    key: &str,
    now: i64,
) -> Result<()> {
    origins::record(conn, Kind::Issue, key, &gid_of(sync, carried, remote))?;
    links::insert(conn, &sync.id, key, Some(remote), now)?;
    Ok(())
}

fn add_comment(
    conn: &Connection,
    tracker: &impl Tracker,
    key: &str,
    c: &CommentSnapshot,
    gid: &str,
    actor: Actor<'_>,
) -> Result<String> {
    let origin = CommentOrigin { author: &c.author, created_at: c.created_at };
    let id = tracker.add_comment(key, &c.body, Some(origin), actor)?;
    origins::record(conn, Kind::Comment, &id, gid)?;
    Ok(id)
}

/// The partner's new comment on local issue `key` (its `remote` issue).
pub fn comment<T: Tracker>(
    h: &Here<'_, T>,
    key: &str,
    remote: &str,
    c: &CommentSnapshot,
    replies: &mut Vec<Change>,
) -> Result<()> {
    let Here { conn, tracker, sync, actor } = *h;
    if links::local_comment(conn, &sync.id, key, &c.id)?.is_some() {
        return Ok(());
    }
    let gid = gid_of(sync, c.gid.as_deref(), &c.id);
    let here = match find(conn, sync, Kind::Comment, &gid)? {
        Some(id) => tracker.issue(key)?.is_some_and(|i| i.comments.iter().any(|x| x.id == id)).then_some(id),
        None => None,
    };
    let id = match here {
        Some(id) => id,
        None => add_comment(conn, tracker, key, c, &gid, actor)?,
    };
    links::pair_comment(conn, &sync.id, key, &id, &c.id)?;
    replies.push(Change::Paired {
        yours: remote.into(),
        mine: key.into(),
        comments: vec![(c.id.clone(), id)],
        attachments: Vec::new(),
        worklogs: Vec::new(),
    });
    Ok(())
}

/// The partner's new attachment on local issue `key`, checked against its
/// SHA-256.
pub fn attachment<T: Tracker>(
    h: &Here<'_, T>,
    key: &str,
    remote: &str,
    a: &AttachmentSnapshot,
    replies: &mut Vec<Change>,
) -> Result<()> {
    let Here { conn, tracker, sync, actor } = *h;
    if links::local_attachment(conn, &sync.id, key, &a.id)?.is_some() {
        return Ok(());
    }
    let gid = gid_of(sync, a.gid.as_deref(), &a.id);
    let here = match find(conn, sync, Kind::Attachment, &gid)? {
        Some(id) => tracker.attachment(key, &id)?.map(|_| id),
        None => None,
    };
    let id = match here {
        Some(id) => id,
        None => {
            let origin = CommentOrigin { author: &a.author, created_at: a.created_at };
            let damaged =
                || Refusal::Invalid(format!("attachment {} arrived damaged: its SHA-256 does not match", a.filename));
            let id = match (a.size, &a.transfer) {
                // Received in chunks: the spool file, read as a stream.
                (Some(size), Some(transfer)) => {
                    let path = super::transfers::inbound::spool_file(conn, &sync.id, transfer)?;
                    let (sha256, n) = sha256_of_file(&path)
                        .map_err(|e| anyhow::anyhow!("cannot read the received attachment {}: {e}", path.display()))?;
                    if n != size || sha256 != a.sha256 {
                        return Err(damaged().into());
                    }
                    let file = NewAttachment {
                        filename: &a.filename,
                        media_type: &a.media_type,
                        content: Content::File { path: &path, size },
                    };
                    tracker.add_attachment(key, file, Some(origin), actor)
                }
                // Described only: the partner did not send it (over its
                // limit). Listed; the issue's other changes go on.
                (Some(size), None) => {
                    let reason = format!(
                        "not received: attachment {} is {} ({size} bytes), over the largest attachment the \
                         partner sends; its admin can raise the limit on both sides (`postern sync edit <sync> \
                         --max-attachment-mb N`) and resync the issue's attachments",
                        a.filename,
                        super::transfers::mb(size),
                    );
                    super::transfers::inbound::not_received(conn, sync, remote, a, &reason)?;
                    return Ok(());
                }
                (None, _) => {
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(&a.data)
                        .map_err(|e| Refusal::Invalid(format!("attachment {} arrived damaged: {e}", a.filename)))?;
                    if sha256_hex(&data) != a.sha256 {
                        return Err(damaged().into());
                    }
                    let file = NewAttachment::bytes(&a.filename, &a.media_type, &data);
                    tracker.add_attachment(key, file, Some(origin), actor)
                }
            };
            let id = match id {
                // A tracker that holds no files: listed with the
                // attachments that did not cross, the issue's other
                // changes go on.
                Err(TrackerError::Refused(Refusal::NotCarried(why))) => {
                    let pad = a.data.bytes().rev().take_while(|b| *b == b'=').count();
                    let size = a.size.unwrap_or((a.data.len() / 4 * 3).saturating_sub(pad) as u64);
                    let reason = format!("not carried: attachment {} ({size} bytes): {why}", a.filename);
                    super::transfers::inbound::not_received(conn, sync, remote, a, &reason)?;
                    return Ok(());
                }
                other => other?,
            };
            origins::record(conn, Kind::Attachment, &id, &gid)?;
            id
        }
    };
    links::pair_attachment(conn, &sync.id, key, &id, &a.id)?;
    crate::store::skipped::clear(conn, &sync.id, "in", &a.id)?;
    replies.push(Change::Paired {
        yours: remote.into(),
        mine: key.into(),
        comments: Vec::new(),
        attachments: vec![(a.id.clone(), id)],
        worklogs: Vec::new(),
    });
    Ok(())
}

/// A resync's state of the partner's issue `remote` on local issue `key`:
/// fields set (a later local edit of a field is kept, as for any update),
/// and, when sent, comments converged: a paired comment gets the text it
/// has there, one deleted here without the partner knowing is made again,
/// a new one is added; none is duplicated.
pub fn state<T: Tracker>(
    h: &Here<'_, T>,
    key: &str,
    remote: &str,
    (fields, at): (&FieldChanges, i64),
    comments: Option<&[CommentSnapshot]>,
    replies: &mut Vec<Change>,
) -> Result<()> {
    let Here { conn, tracker, sync, actor } = *h;
    let mut fields = fields.clone();
    for name in fields.names() {
        if let Some(local) = tracker.local_field_time(key, name, &sync.id)? {
            if !super::rules::partner_wins(sync.role, at, local) {
                fields.drop_field(name);
            }
        }
    }
    if !fields.is_empty() {
        tracker.update_issue(key, &fields, actor)?;
    }
    let Some(list) = comments else {
        return Ok(());
    };
    let here = tracker.issue(key)?.map(|i| i.comments).unwrap_or_default();
    let mut again = Vec::new();
    for c in list {
        match links::local_comment(conn, &sync.id, key, &c.id)? {
            Some(local) => match here.iter().find(|x| x.id == local) {
                Some(x) if x.body == c.body => {}
                Some(_) => tracker.edit_comment(key, &local, &c.body, actor)?,
                None => {
                    let gid = gid_of(sync, c.gid.as_deref(), &c.id);
                    let id = add_comment(conn, tracker, key, c, &gid, actor)?;
                    links::pair_comment(conn, &sync.id, key, &id, &c.id)?;
                    again.push((c.id.clone(), id));
                }
            },
            None => comment(h, key, remote, c, replies)?,
        }
    }
    if !again.is_empty() {
        replies.push(Change::Paired {
            yours: remote.into(),
            mine: key.into(),
            comments: again,
            attachments: Vec::new(),
            worklogs: Vec::new(),
        });
    }
    Ok(())
}
