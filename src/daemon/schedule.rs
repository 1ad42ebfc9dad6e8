//! When each sync of a home runs: the daemon's timing rules, free of I/O
//! and clocks (every call takes `now`), so they are tested directly.
//!
//! A sync runs when something asked for it (a file or mail arrived for it,
//! its tracker changed, the admin changed it), when a timer of its own is
//! due (a resend, an acknowledgement, a gap to ask about), or when its
//! polling interval comes round, but only syncs that must poll (folders a
//! network share may fill without telling, mailboxes without IDLE).
//! Polling times are spread over the interval so that many syncs do not
//! all wake at once, and syncs due within [`BATCH`] of each other run
//! together. A failing sync backs off on its own; the others go on.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::engine::Work;

/// Syncs whose polling is due within this much of each other are polled
/// in one wake-up (polling is the fallback where nothing tells: a little
/// early costs nothing, many wake-ups do).
pub const BATCH: Duration = Duration::from_millis(250);

/// Why a sync runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Asked for: run it.
    Asked(Work),
    /// Only its polling interval came round: run it if its folder has
    /// something (a cheap look first).
    Poll,
}

#[derive(Debug, Clone)]
struct Slot {
    /// Must it poll, and when next.
    poll_at: Option<Instant>,
    /// A timer of the sync's own.
    timer_at: Option<Instant>,
    /// Work asked for and not done yet.
    asked: Option<Work>,
    failures: u32,
    retry_at: Option<Instant>,
    /// Taken and not reported back yet: not due again until it is.
    running: bool,
}

#[derive(Debug)]
pub struct Schedule {
    interval: Duration,
    slots: HashMap<String, Slot>,
}

impl Schedule {
    pub fn new(interval: Duration) -> Self {
        Self { interval, slots: HashMap::new() }
    }

    /// Brings the set of syncs up to date: `(id, polls)` for each. A new
    /// sync runs at once; its polling starts at a point of the interval
    /// chosen by `spread` (0 to 1), so that many syncs are spread out.
    pub fn set_syncs(&mut self, syncs: &[(String, bool)], now: Instant, mut spread: impl FnMut() -> f64) {
        let ids: std::collections::HashSet<&str> = syncs.iter().map(|(s, _)| s.as_str()).collect();
        self.slots.retain(|id, _| ids.contains(id.as_str()));
        for (id, polls) in syncs {
            let interval = self.interval;
            let slot = self.slots.entry(id.clone()).or_insert_with(|| Slot {
                poll_at: None,
                timer_at: None,
                asked: Some(Work { receive: true }),
                failures: 0,
                retry_at: None,
                running: false,
            });
            match (polls, slot.poll_at) {
                (true, None) => slot.poll_at = Some(now + interval.mul_f64(spread().clamp(0.0, 1.0))),
                (false, Some(_)) => slot.poll_at = None,
                _ => {}
            }
        }
    }

    /// A poll found nothing: the sync's timer stays as it was.
    pub fn nothing_new(&mut self, id: &str) {
        if let Some(slot) = self.slots.get_mut(id) {
            slot.running = false;
            slot.failures = 0;
            slot.retry_at = None;
        }
    }

    /// Work asked for a sync (unknown ids are ignored).
    pub fn ask(&mut self, id: &str, work: Work) {
        if let Some(slot) = self.slots.get_mut(id) {
            let receive = work.receive || slot.asked.is_some_and(|w| w.receive);
            slot.asked = Some(Work { receive });
        }
    }

    /// Every sync due by `now` (within [`BATCH`]), with why. Taking them
    /// clears what was asked; [`Schedule::done`] or [`Schedule::failed`]
    /// says how each went.
    pub fn take_due(&mut self, now: Instant) -> Vec<(String, Due)> {
        let by = now + BATCH;
        let mut due = Vec::new();
        for (id, slot) in &mut self.slots {
            if slot.running || slot.retry_at.is_some_and(|r| r > now) {
                continue;
            }
            let timer = slot.timer_at.is_some_and(|t| t <= now);
            let poll = slot.poll_at.is_some_and(|t| t <= by);
            let retry = slot.retry_at.is_some();
            if let Some(work) = slot.asked.take() {
                due.push((id.clone(), Due::Asked(work)));
            } else if timer || retry {
                due.push((id.clone(), Due::Asked(Work { receive: retry })));
            } else if poll {
                due.push((id.clone(), Due::Poll));
            } else {
                continue;
            }
            slot.running = true;
            if poll {
                slot.poll_at = slot.poll_at.map(|t| next_poll(t, self.interval, now));
            }
        }
        due.sort_by(|a, b| a.0.cmp(&b.0));
        due
    }

    /// The sync ran `work` and `moved` something (then it runs the same
    /// work again at once, as more may wait), or not; `timer`: when a timer
    /// of its own is next due.
    pub fn done(&mut self, id: &str, work: Work, moved: bool, timer: Option<Instant>) {
        if let Some(slot) = self.slots.get_mut(id) {
            slot.running = false;
            slot.failures = 0;
            slot.retry_at = None;
            slot.timer_at = timer;
            if moved {
                let receive = work.receive || slot.asked.is_some_and(|w| w.receive);
                slot.asked = Some(Work { receive });
            }
        }
    }

    /// The sync failed: it backs off (jittered by `jitter`, 0.5 to 1, and
    /// capped at 16 intervals) and is tried again then. Returns the wait.
    pub fn failed(&mut self, id: &str, now: Instant, jitter: f64) -> Duration {
        let Some(slot) = self.slots.get_mut(id) else {
            return Duration::ZERO;
        };
        slot.running = false;
        slot.failures += 1;
        let wait = self.interval.saturating_mul(1 << slot.failures.min(4)).mul_f64(jitter.clamp(0.5, 1.0));
        slot.retry_at = Some(now + wait);
        wait
    }

    /// Whatever a failing sync was waiting for came back: it runs at once
    /// (receiving too), its back-off kept for a next failure.
    pub fn retry_now(&mut self, id: &str) {
        if let Some(slot) = self.slots.get_mut(id) {
            slot.retry_at = None;
            slot.asked = Some(Work { receive: true });
        }
    }

    /// How many times in a row the sync has failed.
    pub fn failures(&self, id: &str) -> u32 {
        self.slots.get(id).map_or(0, |s| s.failures)
    }

    /// When the next sync is due (`now` if one is due already), if any.
    pub fn next_wake(&self, now: Instant) -> Option<Instant> {
        self.slots
            .values()
            .filter(|s| !s.running)
            .filter_map(|s| {
                let after_retry = |t: Instant| s.retry_at.map_or(t, |r| t.max(r));
                let asked = s.asked.map(|_| after_retry(now));
                let retry = s.retry_at;
                [asked, retry, s.timer_at.map(after_retry), s.poll_at.map(after_retry)].into_iter().flatten().min()
            })
            .min()
    }
}

/// The next polling time after `t`, skipping those already past.
fn next_poll(t: Instant, interval: Duration, now: Instant) -> Instant {
    let mut next = t + interval;
    while next <= now {
        next += interval;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    fn ids(due: &[(String, Due)]) -> Vec<&str> {
        due.iter().map(|(id, _)| id.as_str()).collect()
    }

    #[test]
    fn new_syncs_run_at_once_then_only_when_asked() {
        let t0 = Instant::now();
        let mut s = Schedule::new(2 * SEC);
        s.set_syncs(&[("a".into(), false), ("b".into(), false)], t0, || 0.5);
        assert_eq!(ids(&s.take_due(t0)), ["a", "b"]);
        s.done("a", Work::default(), false, None);
        s.done("b", Work::default(), false, None);
        assert!(s.take_due(t0 + 3600 * SEC).is_empty(), "nothing asked, nothing polls: nothing runs");
        assert_eq!(s.next_wake(t0), None);
        s.ask("b", Work::default());
        assert_eq!(s.take_due(t0 + SEC), vec![("b".to_string(), Due::Asked(Work { receive: false }))]);
        s.ask("nobody", Work::default());
    }

    #[test]
    fn polling_is_spread_over_the_interval_and_keeps_its_pace() {
        let t0 = Instant::now();
        let mut s = Schedule::new(10 * SEC);
        let mut k = 0.0;
        let syncs: Vec<(String, bool)> = (0..10).map(|i| (format!("s{i}"), true)).collect();
        s.set_syncs(&syncs, t0, || {
            k += 0.1;
            k - 0.1
        });
        for (id, _) in s.take_due(t0) {
            s.done(&id, Work::default(), false, None);
        }
        // One sync polls per second, not all ten at once.
        for second in 1..=10 {
            let due = s.take_due(t0 + second * SEC);
            assert_eq!(due.len(), 1, "second {second}: {due:?}");
            assert_eq!(due[0].1, Due::Poll);
            s.done(&due[0].0, Work::default(), false, None);
        }
    }

    #[test]
    fn a_sync_that_moved_something_runs_again_and_timers_wake_it() {
        let t0 = Instant::now();
        let mut s = Schedule::new(60 * SEC);
        s.set_syncs(&[("a".into(), false)], t0, || 0.0);
        s.take_due(t0);
        s.done("a", Work::default(), true, None);
        assert_eq!(s.take_due(t0), vec![("a".to_string(), Due::Asked(Work { receive: false }))], "more may wait");
        s.done("a", Work::default(), false, Some(t0 + 5 * SEC));
        assert!(s.take_due(t0 + 4 * SEC).is_empty());
        assert_eq!(s.next_wake(t0 + 4 * SEC), Some(t0 + 5 * SEC));
        assert_eq!(s.take_due(t0 + 5 * SEC), vec![("a".to_string(), Due::Asked(Work { receive: false }))]);
    }

    #[test]
    fn a_failing_sync_backs_off_alone_and_keeps_what_was_asked() {
        let t0 = Instant::now();
        let mut s = Schedule::new(2 * SEC);
        s.set_syncs(&[("bad".into(), false), ("good".into(), false)], t0, || 0.0);
        s.take_due(t0);
        assert_eq!(s.failed("bad", t0, 1.0), 4 * SEC);
        s.done("good", Work::default(), false, None);
        s.ask("good", Work::default());
        assert_eq!(ids(&s.take_due(t0 + SEC)), ["good"], "the other sync goes on");
        s.done("good", Work::default(), false, None);
        assert_eq!(s.next_wake(t0 + SEC), Some(t0 + 4 * SEC));
        assert_eq!(s.take_due(t0 + 4 * SEC), vec![("bad".to_string(), Due::Asked(Work { receive: true }))]);
        let waits: Vec<Duration> = (0..6).map(|_| s.failed("bad", t0, 1.0)).collect();
        assert_eq!(waits.last(), Some(&(32 * SEC)), "capped at 16 intervals: {waits:?}");
        assert_eq!(s.failures("bad"), 7);
        s.done("bad", Work::default(), false, None);
        assert_eq!(s.failures("bad"), 0);
    }

    #[test]
    fn a_running_sync_is_not_due_again_until_it_reports_and_keeps_what_was_asked_meanwhile() {
        let t0 = Instant::now();
        let mut s = Schedule::new(SEC);
        s.set_syncs(&[("slow".into(), true), ("quick".into(), false)], t0, || 0.0);
        assert_eq!(ids(&s.take_due(t0)), ["quick", "slow"]);
        s.done("quick", Work::default(), false, None);
        s.ask("slow", Work { receive: true });
        s.ask("quick", Work::default());
        // The slow one still runs: only the quick one is due, and the
        // slow one's polls and asks do not make the daemon spin.
        assert_eq!(ids(&s.take_due(t0 + 5 * SEC)), ["quick"]);
        s.done("quick", Work::default(), false, None);
        assert_eq!(s.next_wake(t0 + 5 * SEC), None);
        s.done("slow", Work::default(), false, None);
        assert_eq!(s.take_due(t0 + 5 * SEC), vec![("slow".to_string(), Due::Asked(Work { receive: true }))]);
    }

    #[test]
    fn removed_syncs_are_forgotten_and_polling_follows_the_settings() {
        let t0 = Instant::now();
        let mut s = Schedule::new(SEC);
        s.set_syncs(&[("a".into(), true), ("b".into(), true)], t0, || 0.0);
        s.take_due(t0);
        s.set_syncs(&[("a".into(), false)], t0, || 0.0);
        s.done("a", Work::default(), false, None);
        assert!(s.take_due(t0 + 10 * SEC).is_empty(), "b is gone, a polls no more (IDLE came up)");
    }
}
