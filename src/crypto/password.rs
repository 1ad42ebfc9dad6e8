//! Random passphrases and pairing secrets.

use rand::Rng;

/// A passphrase of six groups of five characters from an alphabet without
/// look-alikes (no 0/o, 1/l/i), about 150 bits.
pub fn new_passphrase() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..6)
        .map(|_| (0..5).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// 32 random bytes, hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill(&mut bytes);
    hex::encode(bytes)
}

/// HMAC-SHA256 proof of the pairing secret, bound to the sync and the key
/// that proves it.
pub fn pairing_proof(secret: &str, sync_id: &str, fingerprint: &str) -> String {
    use hmac::{Mac, SimpleHmac};
    let mut mac = SimpleHmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(sync_id.as_bytes());
    mac.update(b"\n");
    mac.update(fingerprint.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of two proofs.
pub fn proofs_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passphrase_shape() {
        let p = new_passphrase();
        assert_eq!(p.len(), 35);
        assert_eq!(p.split('-').count(), 6);
        assert_ne!(p, new_passphrase());
    }

    #[test]
    fn proof_binds_sync_and_key() {
        let s = new_secret();
        let p = pairing_proof(&s, "sync", "FPR");
        assert!(proofs_equal(&p, &pairing_proof(&s, "sync", "FPR")));
        assert!(!proofs_equal(&p, &pairing_proof(&s, "other", "FPR")));
        assert!(!proofs_equal(&p, &pairing_proof(&s, "sync", "FPR2")));
    }
}
