//! OpenPGP: the peer's own key, partner certificates, signed and encrypted
//! messages, and the passphrase-protected handshake file.
//!
//! Everything here is sequoia-openpgp with the pure-Rust backend. Keys are
//! Cv25519 with the RFC 4880 profile and advertise SEIPDv1 only, so that
//! GnuPG 2.2 and `sq` can read every message postern writes.

pub mod keys;
pub mod message;
pub mod password;

pub use keys::{cert_from_armored, cert_to_armored, fingerprint, generate_key, peer_user_id, OwnKey};
pub use message::{open, open_unverified, seal, seal_uncompressed, CryptoError, Opened};

use sequoia_openpgp::policy::StandardPolicy;

/// The policy every operation uses.
pub(crate) fn policy() -> &'static StandardPolicy<'static> {
    static POLICY: StandardPolicy<'static> = StandardPolicy::new();
    &POLICY
}
