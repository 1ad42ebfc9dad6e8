//! Worklogs arriving from a partner: logged here for the user the sync's
//! mapping names (the partner's name kept with it), paired like comments,
//! changed and deleted through the pairing.

use super::arrivals::Here;
use super::mapping::Mapping;
use crate::protocol::{Change, WorklogSnapshot};
use crate::store::links;
use crate::tracker::{CommentOrigin, NewWorklog, TResult as Result, Tracker};

/// The user of ours a partner's worklog is logged for.
fn user_for<T: Tracker>(h: &Here<'_, T>, mapping: &Mapping, w: &WorklogSnapshot) -> Result<String> {
    let email = w.author_email.as_deref();
    let users = if mapping.needs_users(&w.author, email) { h.tracker.vocabulary(&h.sync.project)?.users } else { None };
    mapping.user(&w.author, email, users.as_deref())
}

fn mapping(h: &Here<'_, impl Tracker>) -> Result<Mapping> {
    Ok(Mapping::of(h.sync.mapping.as_deref())?)
}

/// The partner's new worklogs on local issue `key` (its `remote`): logged
/// and paired, the pairs sent back in one reply.
pub fn added<T: Tracker>(
    h: &Here<'_, T>,
    key: &str,
    remote: &str,
    list: &[WorklogSnapshot],
    replies: &mut Vec<Change>,
) -> Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let m = mapping(h)?;
    let carried = !h.tracker.not_carried()?.iter().any(|p| p == "worklogs");
    let mut pairs = Vec::new();
    for w in list {
        if links::local_worklog(h.conn, &h.sync.id, key, &w.id)?.is_some() {
            continue;
        }
        // A tracker that holds no logged time says so itself (no user to
        // map for it).
        let user = match carried {
            true => Some(user_for(h, &m, w)?),
            false => None,
        };
        let new = NewWorklog { user: user.as_deref(), minutes: w.minutes, spent_on: &w.spent_on, comment: &w.comment };
        let origin = CommentOrigin { author: &w.author, created_at: 0 };
        let id = h.tracker.add_worklog(key, &new, Some(origin), h.actor)?;
        links::pair_worklog(h.conn, &h.sync.id, key, &id, &w.id)?;
        pairs.push((w.id.clone(), id));
    }
    if !pairs.is_empty() {
        replies.push(Change::Paired {
            yours: remote.into(),
            mine: key.into(),
            comments: Vec::new(),
            attachments: Vec::new(),
            worklogs: pairs,
        });
    }
    Ok(())
}

/// The partner changed a worklog: the paired one takes its state. One
/// deleted here meanwhile stays deleted.
pub fn edited<T: Tracker>(h: &Here<'_, T>, key: &str, w: &WorklogSnapshot) -> Result<()> {
    // Unpaired: deleted here (which forgot the pair) before the edit came.
    let local = match links::local_worklog(h.conn, &h.sync.id, key, &w.id)? {
        Some(l) if exists(h, key, &l)? => l,
        _ => {
            tracing::info!(sync = %h.sync.name, issue = key, "a worklog edit crossed a delete: it stays deleted");
            return Ok(());
        }
    };
    // Changed here too since: the later change wins, on both sides.
    if let Some(mine) = h.tracker.local_worklog_time(key, &local, &h.sync.id)?.filter(|_| w.at != 0) {
        if !super::rules::partner_wins(h.sync.role, w.at, mine) {
            tracing::info!(sync = %h.sync.name, issue = key, "concurrent worklog edit: keeping the later one here");
            return Ok(());
        }
    }
    let user = user_for(h, &mapping(h)?, w)?;
    let new = NewWorklog { user: Some(&user), minutes: w.minutes, spent_on: &w.spent_on, comment: &w.comment };
    h.tracker.edit_worklog(key, &local, &new, h.actor)
}

/// The partner deleted a worklog: so is the paired one (if still here).
pub fn deleted<T: Tracker>(h: &Here<'_, T>, key: &str, remote_id: &str) -> Result<()> {
    // Unpaired: deleted on both sides.
    let Some(local) = links::local_worklog(h.conn, &h.sync.id, key, remote_id)? else {
        return Ok(());
    };
    if exists(h, key, &local)? {
        h.tracker.delete_worklog(key, &local, h.actor)?;
    }
    Ok(links::unpair_worklog(h.conn, &h.sync.id, key, Some(&local), Some(remote_id))?)
}

/// A resync's worklogs of the partner's issue on local issue `key`: the
/// paired ones take the partner's state (made again if deleted here), new
/// ones are logged, and paired ones the partner no longer has are deleted.
pub fn converge<T: Tracker>(
    h: &Here<'_, T>,
    key: &str,
    remote: &str,
    list: &[WorklogSnapshot],
    replies: &mut Vec<Change>,
) -> Result<()> {
    let here = h.tracker.issue(key)?.map(|i| i.worklogs).unwrap_or_default();
    let m = mapping(h)?;
    let mut fresh = Vec::new();
    for w in list {
        match links::local_worklog(h.conn, &h.sync.id, key, &w.id)? {
            Some(local) => match here.iter().find(|x| x.id == local) {
                Some(x)
                    if (x.minutes, x.spent_on.as_str(), x.comment.as_str())
                        == (w.minutes, w.spent_on.as_str(), w.comment.as_str()) => {}
                Some(_) => {
                    let user = user_for(h, &m, w)?;
                    let new = NewWorklog {
                        user: Some(&user),
                        minutes: w.minutes,
                        spent_on: &w.spent_on,
                        comment: &w.comment,
                    };
                    h.tracker.edit_worklog(key, &local, &new, h.actor)?;
                }
                None => {
                    links::unpair_worklog(h.conn, &h.sync.id, key, Some(&local), Some(&w.id))?;
                    fresh.push(w.clone());
                }
            },
            None => fresh.push(w.clone()),
        }
    }
    for x in &here {
        let Some(theirs) = links::remote_worklog(h.conn, &h.sync.id, key, &x.id)? else { continue };
        if !list.iter().any(|w| w.id == theirs) {
            h.tracker.delete_worklog(key, &x.id, h.actor)?;
            links::unpair_worklog(h.conn, &h.sync.id, key, Some(&x.id), Some(&theirs))?;
        }
    }
    added(h, key, remote, &fresh, replies)
}

fn exists<T: Tracker>(h: &Here<'_, T>, key: &str, id: &str) -> Result<bool> {
    Ok(h.tracker.issue(key)?.is_some_and(|i| i.worklogs.iter().any(|w| w.id == id)))
}
