//! Key generation, armoring and the on-disk own key.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use openpgp::cert::prelude::*;
use openpgp::packet::signature::SignatureBuilder;
use openpgp::packet::UserID;
use openpgp::parse::Parse;
use openpgp::serialize::SerializeInto;
use openpgp::types::{Features, SignatureType};
use openpgp::{Cert, Packet};
use sequoia_openpgp as openpgp;

/// Generates a peer key: Cv25519, RFC 4880 profile, SEIPDv1 only.
pub fn generate_key(user_id: &str) -> Result<Cert> {
    let (cert, _rev) = CertBuilder::general_purpose(Some(user_id))
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_profile(openpgp::Profile::RFC4880)?
        .set_features(Features::empty().set_seipdv1())?
        .generate()?;
    Ok(cert)
}

/// The user id naming this peer to the partner of one sync: the sync's
/// name, the side, and the mail address the peer sends from, if any.
pub fn peer_user_id(sync_name: &str, role: &str, address: Option<&str>) -> String {
    match address {
        Some(a) => format!("postern peer ({sync_name}, {role}) <{a}>"),
        None => format!("postern peer ({sync_name}, {role})"),
    }
}

/// Upper-case hex fingerprint of a certificate.
pub fn fingerprint(cert: &Cert) -> String {
    cert.fingerprint().to_hex()
}

/// ASCII-armored public certificate.
pub fn cert_to_armored(cert: &Cert) -> Result<String> {
    let bytes = cert.armored().to_vec()?;
    Ok(String::from_utf8(bytes)?)
}

/// Parses one certificate (public or secret) from armored or binary text.
pub fn cert_from_armored(text: &[u8]) -> Result<Cert> {
    Cert::from_bytes(text).context("not an OpenPGP certificate")
}

/// The peer's own secret key, stored as `keys/own.key.asc` in the home
/// with owner-only permissions. `Debug` never shows key material.
pub struct OwnKey {
    cert: Cert,
}

impl std::fmt::Debug for OwnKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnKey").field("fingerprint", &self.fingerprint()).field("secret", &"<redacted>").finish()
    }
}

impl OwnKey {
    pub fn from_cert(cert: Cert) -> Result<Self> {
        if !cert.is_tsk() {
            bail!("the key {} has no secret parts", cert.fingerprint());
        }
        Ok(Self { cert })
    }

    pub fn path(keys_dir: &Path) -> PathBuf {
        keys_dir.join("own.key.asc")
    }

    /// Loads the own key; refuses a key file others can read.
    pub fn load(keys_dir: &Path) -> Result<Option<Self>> {
        let path = Self::path(keys_dir);
        if !path.exists() {
            return Ok(None);
        }
        check_private(&path)?;
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let cert =
            cert_from_armored(&bytes).with_context(|| format!("{} is not an OpenPGP secret key", path.display()))?;
        Ok(Some(Self::from_cert(cert)?))
    }

    /// Writes the key with mode 0600, via a temporary file and rename.
    pub fn store(&self, keys_dir: &Path) -> Result<()> {
        fs::create_dir_all(keys_dir)?;
        self.write_to(&Self::path(keys_dir))
    }

    fn write_to(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        let armored = self.cert.as_tsk().armored().to_vec()?;
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(&armored)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(())
    }

    /// Keeps this key in `keys/retired/` (it still decrypts messages the
    /// partner encrypted to it, and signs what was queued under it).
    pub fn retire(&self, keys_dir: &Path) -> Result<()> {
        let dir = keys_dir.join("retired");
        fs::create_dir_all(&dir)?;
        self.write_to(&dir.join(format!("{}.key.asc", self.fingerprint())))
    }

    /// All retired keys.
    pub fn load_retired(keys_dir: &Path) -> Result<Vec<Self>> {
        let dir = keys_dir.join("retired");
        let Ok(entries) = fs::read_dir(&dir) else { return Ok(Vec::new()) };
        let mut keys = Vec::new();
        for e in entries {
            let path = e?.path();
            if path.extension().is_some_and(|x| x == "asc") {
                check_private(&path)?;
                let cert = cert_from_armored(&fs::read(&path)?)
                    .with_context(|| format!("{} is not an OpenPGP secret key", path.display()))?;
                keys.push(Self::from_cert(cert)?);
            }
        }
        Ok(keys)
    }

    pub fn cert(&self) -> &Cert {
        &self.cert
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(&self.cert)
    }

    pub fn public_armored(&self) -> Result<String> {
        cert_to_armored(&self.cert.clone().strip_secret_key_material())
    }

    /// The certificate as one partner gets it: its only user id is
    /// `user_id` (see [`peer_user_id`]), so the partner's mail client names
    /// the signer, and no partner learns the names of a home's other syncs.
    /// The binding copies the key's own (features: SEIPDv1 only, key flags)
    /// and is dated at the key's creation, so it is valid for any message.
    pub fn public_for(&self, user_id: &str) -> Result<String> {
        let valid = self.cert.with_policy(super::policy(), None)?;
        let builder = match valid.primary_userid() {
            Ok(u) => SignatureBuilder::from(u.binding_signature().clone()),
            // An imported key without a user id.
            Err(_) => SignatureBuilder::new(SignatureType::PositiveCertification)
                .set_features(Features::empty().set_seipdv1())?,
        };
        let builder = builder.set_signature_creation_time(self.cert.primary_key().key().creation_time())?;
        let mut signer = self.cert.primary_key().key().clone().parts_into_secret()?.into_keypair()?;
        let uid = UserID::from(user_id);
        let binding = uid.bind(&mut signer, &self.cert, builder)?;
        let public = self.cert.clone().strip_secret_key_material().retain_userids(|_| false);
        let (public, _) = public.insert_packets([Packet::from(uid), binding.into()])?;
        cert_to_armored(&public)
    }
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "{} is readable by other users (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}
