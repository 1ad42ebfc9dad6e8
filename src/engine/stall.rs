//! Stalls nobody would otherwise see: messages the partner never
//! acknowledges though they were sent again and again (its daemon stopped
//! or paused, its tracker failing, or it reads another folder or mailbox
//! than the one this side writes to), and a gap in the partner's messages
//! that asking again does not fill. Neither is a failure of this side's
//! work, so neither shows as FAILING; both show in `status`, the console,
//! `/health` and `/metrics` once they have lasted several resend times.
//!
//! Every active sync sends at least its scheduled verify (daily by
//! default), so even a sync with no changes finds out within a day and a
//! few resends.

use rusqlite::Connection;
use serde::Serialize;

use crate::store::{outbox, SyncRecord, SyncState};

/// How many sends without an acknowledgement before it shows: at least
/// three resend times after the first send, so a daemon that was down
/// (or a sync that was paused) is not taken for a deaf partner.
pub const SENDS: u32 = 4;
/// How many resend (or gap) times a stall lasts before it shows.
pub const TIMES: i64 = 5;

/// One stall of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stall {
    /// `unanswered` (our messages are not acknowledged) or `gap` (the
    /// partner's missing messages do not come).
    pub what: &'static str,
    /// The oldest message concerned: ours not acknowledged, or the first
    /// of the partner's missing ones.
    pub seq: u64,
    /// Since when (ms since the epoch): our message was put together, or
    /// the first message behind the gap arrived.
    pub since: i64,
    /// How often our message was sent (unanswered), or how many of the
    /// partner's messages wait behind the gap.
    pub count: u64,
}

impl Stall {
    /// One line for `status` and the console: what, since when (`ago`,
    /// as the caller shows lengths of time), and what to check.
    pub fn describe(&self, ago: &str) -> String {
        match self.what {
            "unanswered" => format!(
                "our message {} is not acknowledged {ago} after it was put together, though sent {} times: the partner \
                 does not read what this side writes. Check that its daemon runs and is not paused, that its \
                 tracker answers, and that it reads the folder or mailbox this side sends to",
                self.seq, self.count
            ),
            _ => format!(
                "the partner's message {} has not come {ago} after the ones behind it ({} waiting), though asked \
                 for again: check that the partner's daemon runs and that it writes where this side reads",
                self.seq, self.count
            ),
        }
    }
}

/// The stalls of `sync` at `now`.
pub fn of(conn: &Connection, sync: &SyncRecord, now: i64) -> anyhow::Result<Vec<Stall>> {
    if sync.state != SyncState::Active || sync.paused_at.is_some() || sync.partner_fpr.is_none() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    if let Some((seq, since, sends)) = outbox::oldest_unacknowledged(conn, &sync.id)? {
        if unanswered(now, since, sends, sync.resend_after_ms) {
            out.push(Stall { what: "unanswered", seq, since, count: sends as u64 });
        }
    }
    let (held, lowest, oldest) = outbox::held_summary(conn, &sync.id)?;
    if let (true, Some(_), Some(oldest)) = (held > 0, lowest, oldest) {
        if now - oldest >= TIMES * sync.gap_after_ms.max(sync.resend_after_ms) {
            out.push(Stall { what: "gap", seq: sync.in_seq + 1, since: oldest, count: held });
        }
    }
    Ok(out)
}

/// Whether a message put together at `since` and sent `sends` times is
/// overdue for an acknowledgement.
pub fn unanswered(now: i64, since: i64, sends: u32, resend_after_ms: i64) -> bool {
    sends >= SENDS && now - since >= TIMES * resend_after_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_shows_only_after_several_sends_and_resend_times() {
        let minute = 60_000;
        // Sent four times, put together five minutes ago: shows.
        assert!(unanswered(5 * minute, 0, 4, minute));
        // Put together an hour ago, sent three times since the daemon
        // came back: not yet the partner's fault.
        assert!(!unanswered(60 * minute, 0, 3, minute));
        // Sent four times within four minutes: not yet.
        assert!(!unanswered(4 * minute, 0, 4, minute));
    }
}
