//! What a cycle did, counted and said in words (the daemon's log lines,
//! `run --once`).

/// What one cycle did, summed over syncs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CycleReport {
    pub enqueued: u64,
    pub sent: u64,
    pub applied: u64,
    pub held: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// Files read from the transport, whatever became of them.
    pub received: u64,
}

impl CycleReport {
    pub fn add(&mut self, o: CycleReport) {
        self.enqueued += o.enqueued;
        self.sent += o.sent;
        self.applied += o.applied;
        self.held += o.held;
        self.duplicates += o.duplicates;
        self.quarantined += o.quarantined;
        self.received += o.received;
    }

    /// What moved, in words: "3 messages read, 2 changes applied, …".
    pub fn summary(&self) -> String {
        let parts = [
            (self.received, "message read", "messages read"),
            (self.applied, "message applied", "messages applied"),
            (self.enqueued, "message queued", "messages queued"),
            (self.sent, "message sent", "messages sent"),
            (self.held, "held for a gap", "held for a gap"),
            (self.duplicates, "duplicate dropped", "duplicates dropped"),
            (self.quarantined, "quarantined", "quarantined"),
        ];
        let said: Vec<String> = parts
            .iter()
            .filter(|(n, _, _)| *n > 0)
            .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
            .collect();
        if said.is_empty() {
            "nothing moved".into()
        } else {
            said.join(", ")
        }
    }

    /// Whether the cycle moved anything.
    pub fn is_idle(&self) -> bool {
        *self == CycleReport::default()
    }
}
