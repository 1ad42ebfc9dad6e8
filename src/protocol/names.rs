//! File names in the exchange folders.
//!
//! `postern-<sync id>-<seq, 12 digits>-<nonce>.pgp` for numbered messages,
//! `postern-<sync id>-ctl-<nonce>.pgp` for control messages. Temporary
//! files start with a dot and are never read. Anything else is not ours.

/// What a final file name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    pub sync: String,
    /// `None` for control messages.
    pub seq: Option<u64>,
}

pub fn message_name(sync: &str, seq: u64, nonce: &str) -> String {
    if seq == 0 {
        format!("postern-{sync}-ctl-{nonce}.pgp")
    } else {
        format!("postern-{sync}-{seq:012}-{nonce}.pgp")
    }
}

/// 16 random hex digits, making each written file's name unique.
pub fn new_nonce() -> String {
    use rand::Rng;
    format!("{:016x}", rand::thread_rng().gen::<u64>())
}

pub fn temp_name(nonce: &str) -> String {
    format!(".postern-tmp-{nonce}")
}

/// Parses a final name; `None` if the file is not one of ours.
pub fn parse(name: &str) -> Option<ParsedName> {
    let rest = name.strip_prefix("postern-")?.strip_suffix(".pgp")?;
    // sync ids are uuids (36 chars, with dashes)
    if rest.len() < 38 {
        return None;
    }
    let (sync, rest) = rest.split_at(36);
    if !sync.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return None;
    }
    let rest = rest.strip_prefix('-')?;
    let (seq, nonce) = rest.split_once('-')?;
    if nonce.is_empty() || !nonce.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let seq = if seq == "ctl" {
        None
    } else if seq.len() == 12 && seq.chars().all(|c| c.is_ascii_digit()) {
        Some(seq.parse().ok()?)
    } else {
        return None;
    };
    Some(ParsedName { sync: sync.to_string(), seq })
}

#[cfg(test)]
mod tests {
    use super::*;
    const ID: &str = "0b4f3c1e-8a6d-4c1e-9f5a-2d7e8b9c0a1f";

    #[test]
    fn round_trip() {
        let n = message_name(ID, 42, "ab12");
        assert_eq!(n, format!("postern-{ID}-000000000042-ab12.pgp"));
        assert_eq!(parse(&n), Some(ParsedName { sync: ID.into(), seq: Some(42) }));
        let c = message_name(ID, 0, "x9");
        assert_eq!(parse(&c), Some(ParsedName { sync: ID.into(), seq: None }));
    }

    #[test]
    fn foreign_names_are_not_ours() {
        for n in [
            "README.txt",
            ".postern-tmp-abc",
            "postern-short-1-a.pgp",
            &format!("postern-{ID}-42-a.pgp"),
            &format!("postern-{ID}-000000000042-.pgp"),
            &format!("postern-{ID}-000000000042-a/b.pgp"),
            &format!("postern-{ID}-000000000042-a.pgp.part"),
        ] {
            assert_eq!(parse(n), None, "{n}");
        }
    }
}
