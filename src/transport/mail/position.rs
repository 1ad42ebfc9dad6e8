//! Where reading a mailbox stands: its UIDVALIDITY and the highest UID up
//! to which every mail of the sync has been dealt with (taken and removed,
//! or quarantined). The next listing asks only for later UIDs; a changed
//! UIDVALIDITY (the mailbox was recreated or restored) starts again from
//! the beginning, and message digests keep that from applying anything
//! twice. A mail that could not be removed keeps the position below it,
//! so it is read again rather than skipped.

use std::collections::BTreeSet;

pub use crate::store::syncs::MailboxPosition;

/// The position while a cycle reads the mailbox.
#[derive(Debug, Default)]
pub struct Reading {
    pub uidvalidity: Option<u32>,
    pub last_uid: u32,
    listed_max: u32,
    pending: BTreeSet<u32>,
}

impl Reading {
    pub fn resume(&mut self, p: &MailboxPosition) {
        self.uidvalidity = Some(p.uidvalidity);
        self.last_uid = p.last_uid;
    }

    /// Called with the selected mailbox's UIDVALIDITY before listing;
    /// returns the first UID to ask for.
    pub fn start(&mut self, uidvalidity: u32) -> u32 {
        if self.uidvalidity != Some(uidvalidity) {
            if self.uidvalidity.is_some() {
                tracing::info!(uidvalidity, "the mailbox's UIDVALIDITY changed; reading it from the start");
            }
            self.uidvalidity = Some(uidvalidity);
            self.last_uid = 0;
        }
        self.last_uid + 1
    }

    /// The UIDs a listing found; those at or below the position are
    /// dropped (`n:*` always returns the highest UID, even below `n`).
    pub fn listed(&mut self, uids: &mut Vec<u32>) {
        uids.retain(|u| *u > self.last_uid);
        self.pending = uids.iter().copied().collect();
        self.listed_max = uids.iter().copied().max().unwrap_or(0);
    }

    /// A listed mail was removed or quarantined.
    pub fn done(&mut self, uid: u32) {
        self.pending.remove(&uid);
    }

    /// Moves the position up to just below the first mail not dealt with.
    pub fn settle(&mut self) -> u32 {
        let next = match self.pending.first() {
            Some(first) => first - 1,
            None => self.listed_max,
        };
        self.last_uid = self.last_uid.max(next);
        self.last_uid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_stops_below_the_first_mail_not_dealt_with() {
        let mut r = Reading::default();
        assert_eq!(r.start(7), 1);
        let mut uids = vec![3, 5, 9];
        r.listed(&mut uids);
        r.done(3);
        r.done(9);
        assert_eq!(r.settle(), 4, "5 was not removed: it must be read again");
        assert_eq!(r.start(7), 5);
        let mut uids = vec![5, 9, 12];
        r.listed(&mut uids);
        for u in uids {
            r.done(u);
        }
        assert_eq!(r.settle(), 12);
        // `12:*` answers with the highest UID even when nothing is new.
        let mut uids = vec![12];
        assert_eq!(r.start(7), 13);
        r.listed(&mut uids);
        assert!(uids.is_empty());
        assert_eq!(r.settle(), 12);
    }

    #[test]
    fn a_new_uidvalidity_starts_from_the_beginning() {
        let mut r = Reading::default();
        r.resume(&MailboxPosition { mailbox: "INBOX".into(), uidvalidity: 7, last_uid: 40 });
        assert_eq!(r.start(7), 41);
        assert_eq!(r.start(8), 1);
        let mut uids = vec![1, 2];
        r.listed(&mut uids);
        assert_eq!(uids, [1, 2]);
    }
}
