//! The plaintext of every message: who, for which sync, which number, what
//! it acknowledges, and the body. All of it is inside the signature, so
//! sync id, sender, recipient and sequence number cannot be altered.

use serde::{Deserialize, Serialize};

use super::change::WireChange;

/// Version of the envelope format. Bump only with a migration path.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Always [`FORMAT_VERSION`].
    pub postern: u32,
    /// Sync id.
    pub sync: String,
    /// Sender's key fingerprint.
    pub from: String,
    /// Recipient's key fingerprint (a message reflected back is refused).
    pub to: String,
    /// Per sync and direction, from 1, no gaps. 0 for control messages
    /// (acknowledgements and resend requests), which are never stored.
    pub seq: u64,
    /// Highest sequence number received in order from the recipient.
    pub ack: u64,
    /// Sender's clock when sealed, milliseconds since the epoch.
    pub sent_at: i64,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Body {
    /// The slave's first message: its certificate and proof that it holds
    /// the handshake's pairing secret.
    Accept {
        cert: String,
        proof: String,
        /// The slave's mail address (email protocol).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        /// The largest message the slave's side takes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_message_bytes: Option<u64>,
    },
    /// A batch of changes. `via`: the peers (key fingerprints) that had
    /// these changes before the sender, when a forwarding sync passes on
    /// what another sync applied; the receiver never sends them back there.
    Changes {
        changes: Vec<WireChange>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        via: Vec<String>,
    },
    /// The sender's new certificate. Signed by the old key; the sender's
    /// later messages are signed by the new one.
    Rekey { cert: String },
    /// Only an acknowledgement (see `ack`).
    Ack,
    /// Please send again the messages `from..=to`.
    Resend { from: u64, to: u64 },
}

impl Envelope {
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("envelope serializes")
    }

    /// Reads a decrypted message: bare JSON (folders, and mail from
    /// versions before the MIME entity) or the MIME entity sent by mail.
    pub fn from_plaintext(bytes: &[u8]) -> Result<Self, String> {
        Self::from_json(super::entity::unwrap(bytes)?)
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let env: Envelope = serde_json::from_slice(bytes).map_err(|e| format!("malformed message: {e}"))?;
        if env.postern != FORMAT_VERSION {
            return Err(format!("unsupported message format version {}", env.postern));
        }
        let sequenced = matches!(env.body, Body::Accept { .. } | Body::Changes { .. } | Body::Rekey { .. });
        if sequenced != (env.seq > 0) {
            return Err(format!("sequence number {} does not fit a {} message", env.seq, env.body.kind()));
        }
        Ok(env)
    }
}

impl Body {
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Accept { .. } => "accept",
            Body::Changes { .. } => "changes",
            Body::Rekey { .. } => "rekey",
            Body::Ack => "ack",
            Body::Resend { .. } => "resend",
        }
    }
}
