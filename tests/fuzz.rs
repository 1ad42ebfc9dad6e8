//! Property-based fuzzing (runs in `cargo test`): the message decoder and
//! the handshake reader never panic on any input, and a damaged message
//! never opens as anything but itself. More inputs:
//! `POSTERN_FUZZ_CASES=100000 cargo test --release --test fuzz`.

mod common;
use common::*;

use postern::crypto::cert_from_armored;
use postern::crypto::message::{open, seal, seal_with_password, Secret};
use postern::engine::handshake::{read_handshake, HandshakeFile};
use postern::protocol::Envelope;
use proptest::prelude::*;

fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("POSTERN_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases: n, failure_persistence: None, ..ProptestConfig::default() }
}

const GOLDEN: &str = include_str!("golden/envelope-v1.jsonl");

/// A mutation of `base`: flip, cut, insert or overwrite bytes.
fn mutate(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    prop_oneof![
        (0..len, 0u8..8).prop_map({
            let b = base.clone();
            move |(i, bit)| {
                let mut v = b.clone();
                v[i] ^= 1 << bit;
                v
            }
        }),
        (0..len).prop_map({
            let b = base.clone();
            move |i| b[..i].to_vec()
        }),
        (0..len, proptest::collection::vec(any::<u8>(), 1..16)).prop_map({
            let b = base.clone();
            move |(i, ins)| {
                let mut v = b.clone();
                v.splice(i..i, ins);
                v
            }
        }),
        (0..len, any::<u8>()).prop_map(move |(i, x)| {
            let mut v = base.clone();
            v[i] = x;
            v
        }),
    ]
}

proptest! {
    #![proptest_config(cases(2000))]

    #[test]
    fn envelope_decoder_never_panics_on_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Envelope::from_json(&data);
    }

    #[test]
    fn envelope_decoder_never_panics_on_mutated_envelopes(
        line in 0usize..5,
        data in (0usize..5).prop_flat_map(|i| mutate(GOLDEN.lines().nth(i).unwrap().as_bytes().to_vec())),
    ) {
        let _ = line;
        if let Ok(env) = Envelope::from_json(&data) {
            // Whatever parses re-serializes and parses to the same thing.
            prop_assert_eq!(Envelope::from_json(&env.to_json()).unwrap(), env);
        }
    }

    #[test]
    fn handshake_parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = HandshakeFile::parse(&data);
    }
}

fn certs() -> (sequoia_openpgp::Cert, sequoia_openpgp::Cert) {
    (cert_from_armored(MASTER_KEY.as_bytes()).unwrap(), cert_from_armored(SLAVE_KEY.as_bytes()).unwrap())
}

proptest! {
    #![proptest_config(cases(300))]

    /// A damaged message is refused, or (if the damage hit only armor
    /// whitespace or a header) opens to exactly the original plaintext.
    #[test]
    fn damaged_messages_never_open_to_something_else(
        data in {
            let (m, s) = certs();
            let line = GOLDEN.lines().nth(1).unwrap().as_bytes().to_vec();
            mutate(seal(&m, &s, &line).unwrap())
        }
    ) {
        let (m, s) = certs();
        let original = GOLDEN.lines().nth(1).unwrap().as_bytes();
        if let Ok(opened) = open(Secret::Key(&s), std::slice::from_ref(&m), &data, 1 << 20) {
            prop_assert_eq!(&opened.plaintext[..], original);
            prop_assert_eq!(opened.signer, m.fingerprint());
        }
    }
}

proptest! {
    #![proptest_config(cases(64))]

    /// The handshake reader refuses any damage with an error, never a panic,
    /// and never returns contents other than the master's.
    #[test]
    fn damaged_handshake_files_are_refused(
        data in {
            let (m, _) = certs();
            let file = handshake_plaintext(&m);
            mutate(seal_with_password(&m, "pass-word", &file).unwrap())
        }
    ) {
        let (m, _) = certs();
        if let Ok(file) = read_handshake(&data, "pass-word") {
            prop_assert_eq!(file.master_fingerprint, m.fingerprint().to_hex());
            prop_assert_eq!(file.name, "fuzz");
        }
    }
}

fn handshake_plaintext(m: &sequoia_openpgp::Cert) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "postern_handshake": 1, "sync_id": "0b4f3c1e-8a6d-4c1e-9f5a-2d7e8b9c0a1f", "name": "fuzz",
        "description": "", "protocol": "file", "master_fingerprint": m.fingerprint().to_hex(),
        "master_cert": postern::crypto::cert_to_armored(&m.clone().strip_secret_key_material()).unwrap(),
        "send_folder": "SEND", "receive_folder": "RECEIVE", "pairing_secret": "00", "created_at": 0,
        "expires_at": i64::MAX,
    }))
    .unwrap()
}

/// Deterministic regression for the decoder panic the fuzzer found: every
/// truncation of a genuine message (binary form) is refused, none panics
/// out of `open`, none opens.
#[test]
fn every_truncation_of_a_message_is_refused() {
    let (m, s) = certs();
    let armored = seal(&m, &s, GOLDEN.lines().nth(1).unwrap().as_bytes()).unwrap();
    let mut bin = Vec::new();
    std::io::copy(
        &mut sequoia_openpgp::armor::Reader::from_bytes(&armored, sequoia_openpgp::armor::ReaderMode::Tolerant(None)),
        &mut bin,
    )
    .unwrap();
    assert!(open(Secret::Key(&s), std::slice::from_ref(&m), &bin, 1 << 20).is_ok());
    for cut in 0..bin.len() {
        assert!(open(Secret::Key(&s), std::slice::from_ref(&m), &bin[..cut], 1 << 20).is_err(), "cut at {cut}");
    }
}
