//! What an issue, a comment, a worklog or an attachment looks like to the
//! partner: the snapshots the first crossing, the change log and a resync
//! send.

use anyhow::Result;
use base64::Engine as _;
use rusqlite::Connection;

use crate::protocol::{AttachmentSnapshot, Change, CommentSnapshot, WorklogSnapshot};
use crate::store::origins::{self, Kind};
use crate::tracker::{Attachment, AttachmentInfo, Issue, Tracker};

/// An issue's first crossing: its state with comments, then each
/// attachment as its own change (they can be large).
/// An issue first made elsewhere carries when each field was last changed
/// here (see `arrivals::issue`).
pub(super) fn snapshot(conn: &Connection, tracker: &impl Tracker, sync_id: &str, issue: Issue) -> Result<Vec<Change>> {
    let comments = comment_snapshots(conn, &issue.comments)?;
    let gid = origins::carried(conn, Kind::Issue, &issue.key)?;
    let fields_at = match gid {
        Some(_) => tracker.local_field_times(&issue.key, sync_id)?,
        None => Default::default(),
    };
    let worklogs = issue.worklogs.iter().map(worklog_snapshot).collect();
    let mut out = vec![Change::IssueCreated {
        issue: issue.key.clone(),
        fields: issue.fields,
        comments,
        gid,
        worklogs,
        fields_at,
    }];
    for a in &issue.attachments {
        out.extend(attachment_change(conn, tracker, &issue.key, a)?);
    }
    Ok(out)
}

/// The change sending attachment `info` of issue `key`: with its content
/// when small, only described when large (the content follows in chunks,
/// see `transfers`); `None` when it is gone.
pub(super) fn attachment_change(
    conn: &Connection,
    tracker: &impl Tracker,
    key: &str,
    info: &AttachmentInfo,
) -> Result<Option<Change>> {
    if info.size <= super::transfers::INLINE_MAX {
        return Ok(match tracker.attachment(key, &info.id)? {
            Some(a) => Some(Change::AttachmentAdded { issue: key.into(), attachment: attachment_snapshot(conn, a)? }),
            None => None,
        });
    }
    let attachment = AttachmentSnapshot {
        id: info.id.clone(),
        filename: info.filename.clone(),
        media_type: info.media_type.clone(),
        author: info.on_behalf_of.clone().unwrap_or_else(|| info.author.clone()),
        created_at: info.created_at,
        sha256: info.sha256.clone(),
        data: String::new(),
        size: Some(info.size),
        transfer: None,
        gid: origins::carried(conn, Kind::Attachment, &info.id)?,
    };
    Ok(Some(Change::AttachmentAdded { issue: key.into(), attachment }))
}

/// An issue's comments as they stand, with where each was first made.
pub(super) fn comment_snapshots(
    conn: &Connection,
    comments: &[crate::tracker::Comment],
) -> Result<Vec<CommentSnapshot>> {
    comments
        .iter()
        .map(|c| {
            Ok(CommentSnapshot {
                id: c.id.clone(),
                author: c.on_behalf_of.clone().unwrap_or_else(|| c.author.clone()),
                body: c.body.clone(),
                created_at: c.created_at,
                gid: origins::carried(conn, Kind::Comment, &c.id)?,
            })
        })
        .collect()
}

/// A worklog as the partner gets it: by whom it was first logged.
pub(super) fn worklog_snapshot(w: &crate::tracker::Worklog) -> WorklogSnapshot {
    WorklogSnapshot {
        id: w.id.clone(),
        author: w.on_behalf_of.clone().unwrap_or_else(|| w.author.clone()),
        author_email: if w.on_behalf_of.is_some() { None } else { w.email.clone() },
        minutes: w.minutes,
        spent_on: w.spent_on.clone(),
        comment: w.comment.clone(),
        at: w.updated_at,
    }
}

pub(super) fn attachment_snapshot(conn: &Connection, a: Attachment) -> Result<AttachmentSnapshot> {
    let gid = origins::carried(conn, Kind::Attachment, &a.info.id)?;
    Ok(AttachmentSnapshot {
        id: a.info.id,
        filename: a.info.filename,
        media_type: a.info.media_type,
        author: a.info.on_behalf_of.unwrap_or(a.info.author),
        created_at: a.info.created_at,
        sha256: a.info.sha256,
        data: base64::engine::general_purpose::STANDARD.encode(&a.data),
        size: None,
        transfer: None,
        gid,
    })
}
