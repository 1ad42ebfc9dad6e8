//! The engine's rules, without I/O, the same for every tracker and
//! transport: who wins a concurrent edit, which of our keys signs a
//! message, and when to ask the partner to send missing messages again.
//! Time comes in as an argument ([`Clock`]), so tests choose it.

use crate::store::Role;

/// Where the rules get "now" (ms since the epoch).
pub trait Clock {
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::clock::now_ms()
    }
}

/// Whether the partner's edit of a field made at `theirs` beats ours made
/// at `mine` (ms): the later edit wins on both sides; on a tie the
/// master's, so both sides pick the same value. `role` is this side's.
pub fn partner_wins(role: Role, theirs: i64, mine: i64) -> bool {
    theirs > mine || (theirs == mine && role == Role::Slave)
}

/// Whether message `seq` (0: a control message) is signed with the key we
/// had before a rotation: messages numbered up to the rekey message were
/// queued under the old key; a control message uses it while the partner
/// has not yet acknowledged the rekey message.
pub fn signs_with_previous_key(rekey_seq: Option<u64>, seq: u64, acked: u64) -> bool {
    match rekey_seq {
        None => false,
        Some(rekey) if seq == 0 => acked < rekey,
        Some(rekey) => seq <= rekey,
    }
}

/// When to ask for missing messages: a held message has waited `gap_after`
/// since `oldest_held` arrived, and we did not ask within `gap_after`.
pub fn resend_request_due(oldest_held: i64, last_asked: Option<i64>, gap_after: i64) -> i64 {
    let asked = last_asked.map_or(i64::MIN, |t| t.saturating_add(gap_after));
    oldest_held.saturating_add(gap_after).max(asked)
}

/// Whether to ask now (see [`resend_request_due`]).
pub fn ask_for_resend(clock: &impl Clock, oldest_held: i64, last_asked: Option<i64>, gap_after: i64) -> bool {
    clock.now_ms() >= resend_request_due(oldest_held, last_asked, gap_after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct At(i64);
    impl Clock for At {
        fn now_ms(&self) -> i64 {
            self.0
        }
    }

    proptest! {
        /// Both sides decide the same: exactly one of them keeps its value.
        #[test]
        fn both_sides_pick_the_same_winner(a in 0i64..1_000_000, b in 0i64..1_000_000) {
            // The master sees (theirs = slave's b, mine = a); the slave the reverse.
            let master_takes_slaves = partner_wins(Role::Master, b, a);
            let slave_takes_masters = partner_wins(Role::Slave, a, b);
            prop_assert!(master_takes_slaves != slave_takes_masters);
            prop_assert_eq!(master_takes_slaves, b > a);
        }

        /// Never asked twice within the gap time, never before it passed.
        #[test]
        fn resend_requests_wait_and_do_not_repeat(
            oldest in 0i64..100_000, gap in 1i64..50_000, asked in proptest::option::of(0i64..200_000), now in 0i64..300_000
        ) {
            let ask = ask_for_resend(&At(now), oldest, asked, gap);
            prop_assert_eq!(ask, now - oldest >= gap && asked.is_none_or(|t| now - t >= gap));
        }
    }

    #[test]
    fn the_previous_key_signs_what_was_queued_under_it() {
        assert!(!signs_with_previous_key(None, 5, 0));
        assert!(signs_with_previous_key(Some(7), 7, 0));
        assert!(!signs_with_previous_key(Some(7), 8, 0));
        // Control messages: the old key until the rekey is acknowledged.
        assert!(signs_with_previous_key(Some(7), 0, 6));
        assert!(!signs_with_previous_key(Some(7), 0, 7));
    }

    #[test]
    fn a_tie_goes_to_the_master() {
        assert!(!partner_wins(Role::Master, 10, 10));
        assert!(partner_wins(Role::Slave, 10, 10));
    }
}
