//! Receive-side ordering: what to do with a numbered message, given the
//! highest number applied so far. Pure, so every case is tested here.

/// What to do with an arriving numbered message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Already applied: drop it (but still read its acknowledgement).
    Duplicate,
    /// The next one: apply now.
    Apply,
    /// Later than the next one: hold until the gap is filled.
    Hold,
}

/// Classifies message `seq` when `applied` is the highest applied in order.
pub fn classify(applied: u64, seq: u64) -> Arrival {
    if seq <= applied {
        Arrival::Duplicate
    } else if seq == applied + 1 {
        Arrival::Apply
    } else {
        Arrival::Hold
    }
}

/// The missing range to ask for, given the lowest held number.
pub fn missing_range(applied: u64, lowest_held: u64) -> Option<(u64, u64)> {
    (lowest_held > applied + 1).then(|| (applied + 1, lowest_held - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cases() {
        assert_eq!(classify(0, 1), Arrival::Apply);
        assert_eq!(classify(0, 0), Arrival::Duplicate);
        assert_eq!(classify(5, 3), Arrival::Duplicate);
        assert_eq!(classify(5, 5), Arrival::Duplicate);
        assert_eq!(classify(5, 6), Arrival::Apply);
        assert_eq!(classify(5, 8), Arrival::Hold);
        assert_eq!(missing_range(5, 8), Some((6, 7)));
        assert_eq!(missing_range(5, 6), None);
    }

    proptest! {
        /// Delivering any permutation of 1..=n with duplicates, holding and
        /// draining as the engine does, applies each exactly once, in order.
        #[test]
        fn any_arrival_order_applies_each_once_in_order(
            order in Just((1u64..=20).collect::<Vec<_>>()).prop_shuffle(),
            dups in proptest::collection::vec(1u64..=20, 0..10),
        ) {
            let mut arrivals = order.clone();
            arrivals.extend(dups);
            let mut applied = 0u64;
            let mut held = std::collections::BTreeSet::new();
            let mut log = Vec::new();
            for seq in arrivals {
                match classify(applied, seq) {
                    Arrival::Duplicate => {}
                    Arrival::Hold => { held.insert(seq); }
                    Arrival::Apply => {
                        applied = seq; log.push(seq);
                        while held.remove(&(applied + 1)) { applied += 1; log.push(applied); }
                    }
                }
            }
            prop_assert_eq!(log, (1..=20).collect::<Vec<_>>());
        }
    }
}
