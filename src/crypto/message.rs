//! Sign-then-encrypt and decrypt-then-verify, with size limits and error
//! kinds the engine can turn into quarantine reasons.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use openpgp::crypto::{Password, SessionKey};
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::stream::*;
use openpgp::parse::Parse;
use openpgp::serialize::stream::*;
use openpgp::types::SymmetricAlgorithm;
use openpgp::{Cert, Fingerprint, KeyHandle};
use sequoia_openpgp as openpgp;

use super::policy;

/// Why a message could not be opened. Each maps to one quarantine reason.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("message is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("cannot decrypt: not encrypted to this peer's key")]
    NotForUs,
    #[error("cannot decrypt: wrong passphrase")]
    WrongPassphrase,
    #[error("message is not encrypted")]
    NotEncrypted,
    #[error("no valid signature by the expected key: {0}")]
    BadSignature(String),
    #[error("decrypted content is over the limit of {limit} bytes")]
    PlaintextTooLarge { limit: usize },
    /// What the bytes look like and why they cannot be read (see
    /// [`describe`]).
    #[error("{0}")]
    Corrupt(String),
}

/// Signs `plaintext` with `own` and encrypts it to `recipient` and to
/// `own` (so the sender's auditor can read the outgoing trail too, and a
/// message reflected back is recognised); ASCII armor.
pub fn seal(own: &Cert, recipient: &Cert, plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
    write_sealed(own, &[plaintext], Encrypt::To([recipient, own]), true)
}

/// [`seal`] without compression, for content that is mostly compressed
/// already (attachment chunks): deflating it costs time and saves nothing.
/// The plaintext is the `parts` one after the other (never copied whole).
pub fn seal_uncompressed(own: &Cert, recipient: &Cert, parts: &[&[u8]]) -> anyhow::Result<Vec<u8>> {
    write_sealed(own, parts, Encrypt::To([recipient, own]), false)
}

/// Signs with `own` and encrypts with a passphrase (the handshake file).
pub fn seal_with_password(own: &Cert, password: &str, plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
    write_sealed(own, &[plaintext], Encrypt::Password(password), true)
}

enum Encrypt<'r> {
    To([&'r Cert; 2]),
    Password(&'r str),
}

fn write_sealed(own: &Cert, parts: &[&[u8]], how: Encrypt<'_>, compress: bool) -> anyhow::Result<Vec<u8>> {
    let signer = own
        .keys()
        .unencrypted_secret()
        .with_policy(policy(), None)
        .supported()
        .alive()
        .revoked(false)
        .for_signing()
        .next()
        .ok_or_else(|| anyhow::anyhow!("own key has no usable signing key"))?
        .key()
        .clone()
        .into_keypair()?;
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut sink = Vec::with_capacity(len * 137 / 100 + 4096);
    {
        let message = Message::new(&mut sink);
        let message = Armorer::new(message).build()?;
        let message = match how {
            Encrypt::To(certs) => {
                let recipients: Vec<_> = certs
                    .iter()
                    .flat_map(|c| {
                        c.keys()
                            .with_policy(policy(), None)
                            .supported()
                            .alive()
                            .revoked(false)
                            .for_transport_encryption()
                            .for_storage_encryption()
                    })
                    .collect();
                Encryptor::for_recipients(message, recipients).build()?
            }
            Encrypt::Password(pw) => {
                let pw: Password = pw.into();
                Encryptor::with_passwords(message, Some(pw)).build()?
            }
        };
        let message = if compress { Compressor::new(message).build()? } else { message };
        let message = Signer::new(message, signer)?.build()?;
        let mut literal = LiteralWriter::new(message).build()?;
        for p in parts {
            literal.write_all(p)?;
        }
        literal.finalize()?;
    }
    Ok(sink)
}

/// What came out of a verified message.
#[derive(Debug)]
pub struct Opened {
    pub plaintext: Vec<u8>,
    /// Fingerprint of the certificate whose key made the good signature.
    pub signer: Fingerprint,
}

/// How the message is decrypted.
#[derive(Clone, Copy)]
pub enum Secret<'a> {
    Key(&'a Cert),
    /// Any of these keys (the current one and retired ones).
    Keys(&'a [Cert]),
    Password(&'a str),
}

/// Decrypts with `secret` and verifies the signature against `signers`.
pub fn open(secret: Secret<'_>, signers: &[Cert], data: &[u8], limit: usize) -> Result<Opened, CryptoError> {
    let (out, _) = run(secret, None, signers, true, data, limit)?;
    Ok(out)
}

/// Decrypts without checking the signature, returning the session key so a
/// second pass can verify once the signer's certificate is known (the
/// handshake file and the accept message carry their signer's certificate
/// inside). Never act on the plaintext of this call alone.
pub fn open_unverified(secret: Secret<'_>, data: &[u8], limit: usize) -> Result<(Vec<u8>, CachedSession), CryptoError> {
    let (out, session) = run(secret, None, &[], false, data, limit)?;
    Ok((out.plaintext, session))
}

/// Second pass of [`open_unverified`]: verifies against `signer`.
pub fn verify_cached(session: &CachedSession, signer: &Cert, data: &[u8], limit: usize) -> Result<Opened, CryptoError> {
    let (out, _) = run(Secret::Password(""), Some(session.clone()), std::slice::from_ref(signer), true, data, limit)?;
    Ok(out)
}

/// A session key recovered in a first pass.
#[derive(Clone)]
pub struct CachedSession(Option<SymmetricAlgorithm>, SessionKey);

#[derive(Default)]
struct State {
    decrypt_failed: bool,
    signature_error: Option<String>,
    signer: Option<Fingerprint>,
    encrypted: bool,
    session: Option<CachedSession>,
}

struct Helper<'a> {
    secret: Secret<'a>,
    cached: Option<CachedSession>,
    signers: Vec<Cert>,
    require_signature: bool,
    state: Arc<Mutex<State>>,
}

/// Runs the decoder, turning a panic inside it into an error: some damaged
/// inputs (a truncated SEIP header, found by our fuzzing) make
/// sequoia-openpgp 2.4 panic, and a hostile file must not stop the peer.
fn run(
    secret: Secret<'_>,
    cached: Option<CachedSession>,
    signers: &[Cert],
    require_signature: bool,
    data: &[u8],
    limit: usize,
) -> Result<(Opened, CachedSession), CryptoError> {
    IN_DECODER.with(|d| d.set(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_inner(secret, cached, signers, require_signature, data, limit)
    }));
    IN_DECODER.with(|d| d.set(false));
    let r = r.unwrap_or_else(|_| Err(CryptoError::Corrupt("the OpenPGP decoder failed on this input".into())));
    r.map_err(|e| match e {
        CryptoError::Corrupt(why) => CryptoError::Corrupt(describe(data, &why)),
        other => other,
    })
}

/// What bytes that cannot be read as a message look like, for the
/// quarantine reason: plain JSON (a message nobody encrypted), an OpenPGP
/// message cut short in transfer, a damaged one, or no OpenPGP at all.
pub fn describe(data: &[u8], why: &str) -> String {
    let text = data.trim_ascii_start();
    let cut = why.contains("EOF") || why.contains("truncated") || why.contains("did not end");
    if text.starts_with(b"{") {
        "not OpenPGP but plain JSON: an unencrypted message (written by hand or by another tool?)".into()
    } else if text.starts_with(b"-----BEGIN PGP") {
        if !data.windows(13).any(|w| w == b"-----END PGP ") || cut {
            format!("an OpenPGP message cut short (truncated on the way?): {why}")
        } else {
            format!("a damaged OpenPGP message: {why}")
        }
    } else if data.first().is_some_and(|b| b & 0x80 != 0) {
        if cut {
            format!("an OpenPGP message cut short (truncated on the way?): {why}")
        } else {
            format!("a damaged OpenPGP message: {why}")
        }
    } else {
        format!("not an OpenPGP message (random bytes or another kind of file): {why}")
    }
}

thread_local! {
    /// Set while the decoder runs: a panic there is contained (above).
    static IN_DECODER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps the panic text of a contained decoder failure off stderr (one
/// warning line instead); every other panic is reported as usual.
pub fn quiet_contained_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info.payload().downcast_ref::<String>().map(String::as_str).unwrap_or_default();
        if IN_DECODER.with(|d| d.get()) {
            tracing::warn!("the OpenPGP decoder failed on a damaged message (contained; the message is refused)");
        } else if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            // `postern status | head -1`: the reader has all it wanted.
            std::process::exit(0);
        } else {
            default(info);
        }
    }));
}

fn run_inner(
    secret: Secret<'_>,
    cached: Option<CachedSession>,
    signers: &[Cert],
    require_signature: bool,
    data: &[u8],
    limit: usize,
) -> Result<(Opened, CachedSession), CryptoError> {
    if data.len() > limit {
        return Err(CryptoError::TooLarge { size: data.len(), limit });
    }
    let state = Arc::new(Mutex::new(State::default()));
    let helper = Helper { secret, cached, signers: signers.to_vec(), require_signature, state: state.clone() };
    let classify = |e: anyhow::Error| -> CryptoError {
        let s = state.lock().unwrap();
        if s.decrypt_failed {
            match secret {
                Secret::Password(_) => CryptoError::WrongPassphrase,
                Secret::Key(_) | Secret::Keys(_) => CryptoError::NotForUs,
            }
        } else if let Some(reason) = &s.signature_error {
            CryptoError::BadSignature(reason.clone())
        } else if !s.encrypted && s.session.is_none() && s.signer.is_some() {
            CryptoError::NotEncrypted
        } else {
            CryptoError::Corrupt(format!("{e:#}"))
        }
    };
    let builder = DecryptorBuilder::from_bytes(data).map_err(|e| CryptoError::Corrupt(format!("{e:#}")))?;
    let mut decryptor = builder.with_policy(policy(), None, helper).map_err(classify)?;
    // Sized once: a large chunk's plaintext is not copied while it grows.
    let mut plaintext = Vec::with_capacity(data.len().min(limit));
    (&mut decryptor).take(limit as u64 + 1).read_to_end(&mut plaintext).map_err(|e| classify(e.into()))?;
    if plaintext.len() > limit {
        return Err(CryptoError::PlaintextTooLarge { limit });
    }
    if !decryptor.message_processed() {
        return Err(CryptoError::Corrupt("message did not end properly".into()));
    }
    let s = state.lock().unwrap();
    if !s.encrypted {
        return Err(CryptoError::NotEncrypted);
    }
    let session = s.session.clone().ok_or(CryptoError::NotEncrypted)?;
    let signer = match (&s.signer, require_signature) {
        (Some(f), _) => f.clone(),
        (None, true) => return Err(CryptoError::BadSignature("unsigned".into())),
        // Unverified first pass: a placeholder, never trusted.
        (None, false) => Fingerprint::from_bytes(4, &[0; 20]).expect("v4 fingerprint"),
    };
    Ok((Opened { plaintext, signer }, session))
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.signers.clone())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let mut s = self.state.lock().unwrap();
        let mut last_error = None;
        for layer in structure.into_iter() {
            match layer {
                MessageLayer::Encryption { .. } => s.encrypted = true,
                MessageLayer::Compression { .. } => {}
                MessageLayer::SignatureGroup { results } => {
                    for r in results {
                        match r {
                            Ok(good) if s.signer.is_none() => {
                                s.signer = Some(good.ka.cert().fingerprint());
                            }
                            Ok(_) => {}
                            Err(e) => last_error = Some(e.to_string()),
                        }
                    }
                }
            }
        }
        if !self.require_signature {
            return Ok(());
        }
        if s.signer.is_none() {
            let reason = last_error.unwrap_or_else(|| "unsigned".into());
            s.signature_error = Some(reason.clone());
            return Err(anyhow::anyhow!("no valid signature: {reason}"));
        }
        Ok(())
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        let mut found = None;
        if let Some(CachedSession(algo, sk)) = &self.cached {
            if decrypt(*algo, sk) {
                found = Some(CachedSession(*algo, sk.clone()));
            }
        } else {
            match self.secret {
                Secret::Key(_) | Secret::Keys(_) => {
                    let certs = match self.secret {
                        Secret::Key(c) => std::slice::from_ref(c),
                        Secret::Keys(cs) => cs,
                        Secret::Password(_) => &[],
                    };
                    'outer: for ka in certs.iter().flat_map(|cert| {
                        cert.keys()
                            .unencrypted_secret()
                            .with_policy(policy(), None)
                            .for_transport_encryption()
                            .for_storage_encryption()
                    }) {
                        let mut pair = ka.key().clone().into_keypair()?;
                        for pkesk in pkesks {
                            if let Some((algo, sk)) = pkesk.decrypt(&mut pair, sym_algo) {
                                if decrypt(algo, &sk) {
                                    found = Some(CachedSession(algo, sk));
                                    break 'outer;
                                }
                            }
                        }
                    }
                }
                Secret::Password(pw) => {
                    let pw: Password = pw.into();
                    for skesk in skesks {
                        if let Ok((algo, sk)) = skesk.decrypt(&pw) {
                            if decrypt(algo, &sk) {
                                found = Some(CachedSession(algo, sk));
                                break;
                            }
                        }
                    }
                }
            }
        }
        let mut s = self.state.lock().unwrap();
        match found {
            Some(session) => {
                s.session = Some(session);
                Ok(None)
            }
            None => {
                s.decrypt_failed = true;
                Err(anyhow::anyhow!("no key to decrypt the message"))
            }
        }
    }
}
