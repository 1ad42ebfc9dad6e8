//! One detection round of a remote backend, the part both share: each
//! issue read is compared with what postern last saw of it (`diff`), what
//! differs becomes a change record, and what was read is staged, kept
//! once the engine has taken the changes. The backend lists what moved
//! (`listing`) and says who did what (`diff::Who`).

use super::diff::{diff, Who};
use super::state::{changed, Snapshot, State};
use crate::tracker::{ChangePage, ChangeRecord, Issue, TResult};

/// The changes found so far in one round.
#[derive(Default)]
pub struct Round {
    changes: Vec<ChangeRecord>,
    made_by_sync_user: Vec<String>,
}

impl Round {
    /// Issue `now` as just read (`read_at`: the tracker's clock when the
    /// listing it came from was read, 0 if not known): its changes since
    /// postern last saw it, by anyone but the sync user.
    pub fn issue(&mut self, state: &State, now: &Issue, who: &impl Who, read_at: i64) -> TResult<()> {
        let before = state.get(&now.key)?;
        if before.is_none() && who.creator().1 {
            self.made_by_sync_user.push(now.key.clone());
        }
        for (at, actor, kind) in diff(before.as_ref(), now, who) {
            self.changes.push(ChangeRecord {
                cursor: String::new(),
                issue_key: now.key.clone(),
                at,
                actor,
                origin: None,
                via: Vec::new(),
                kind,
            });
        }
        let mut seen = Snapshot { read_at, ..Snapshot::of(now) };
        seen.ours = changed(before.as_ref(), &seen, false);
        state.staged.lock().expect("lock").insert(now.key.clone(), seen);
        Ok(())
    }

    pub fn count(&self) -> usize {
        self.changes.len()
    }

    /// The page: every change carries where reading goes on (each read
    /// lists all that moved since the cursor: the page is the last).
    pub fn page(mut self, next: String) -> ChangePage {
        for ch in &mut self.changes {
            ch.cursor = next.clone();
        }
        ChangePage { changes: self.changes, next, done: true, made_by_sync_user: self.made_by_sync_user }
    }
}
