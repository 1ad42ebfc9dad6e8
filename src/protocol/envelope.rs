//! The plaintext of every message: who, for which sync, which number, what
//! it acknowledges, and the body. All of it is inside the signature, so
//! sync id, sender, recipient and sequence number cannot be altered.

use serde::{Deserialize, Serialize};

use super::change::{AttachmentSnapshot, WireChange};

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
    /// The master's answer to an accept it refused (one that proved the
    /// pairing secret): why, so the slave can show it. Encrypted to the
    /// certificate the accept carried.
    Refused { reason: String },
    /// One piece of a large attachment (see [`crate::engine::transfers`]):
    /// `data` is not in the JSON but follows it in the plaintext, after a
    /// newline, as raw bytes. Every chunk describes the whole file, so the
    /// receiver needs no other message to start the transfer.
    Chunk {
        /// The transfer's id (one per attachment sent).
        transfer: String,
        /// The sender's issue key.
        issue: String,
        attachment: Box<AttachmentSnapshot>,
        /// From 0, of `total`; `data` is `len` bytes that go at `offset`.
        index: u32,
        total: u32,
        offset: u64,
        len: u64,
        /// The peers that had the attachment before the sender.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        via: Vec<String>,
        #[serde(skip)]
        data: Vec<u8>,
    },
}

impl Envelope {
    /// The envelope's JSON (a chunk's bytes are not part of it).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("envelope serializes")
    }

    /// A chunk's plaintext, in pieces: its JSON line and a newline, then its
    /// bytes (`gpg --decrypt … | tail -n +2` gives the bytes back).
    pub fn chunk_plaintext(&self) -> Option<(Vec<u8>, &[u8])> {
        let Body::Chunk { data, .. } = &self.body else {
            return None;
        };
        let mut head = self.to_json();
        head.push(b'\n');
        Some((head, data))
    }

    /// Reads a decrypted message: bare JSON (folders, and mail from
    /// versions before the MIME entity), the MIME entity sent by mail, or a
    /// chunk (JSON line, newline, bytes).
    pub fn from_plaintext(bytes: &[u8]) -> Result<Self, String> {
        Self::from_plaintext_vec(bytes.to_vec())
    }

    /// As [`Self::from_plaintext`], keeping a chunk's bytes where they are
    /// (no copy of a large chunk).
    pub fn from_plaintext_vec(mut bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.first() == Some(&b'{') {
            if let Some(nl) = bytes.iter().position(|b| *b == b'\n') {
                let mut env = Self::from_json(&bytes[..nl])?;
                let Body::Chunk { data, .. } = &mut env.body else {
                    return Err(format!("malformed message: bytes after the JSON of a {} message", env.body.kind()));
                };
                bytes.drain(..=nl);
                *data = bytes;
                return Ok(env);
            }
        }
        let env = Self::from_json(super::entity::unwrap(&bytes)?)?;
        if matches!(env.body, Body::Chunk { .. }) {
            return Err("malformed message: a chunk without its bytes".into());
        }
        Ok(env)
    }

    /// Reads an envelope's JSON (a held chunk gets its bytes back apart).
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let env: Envelope = serde_json::from_slice(bytes).map_err(|e| format!("malformed message: {e}"))?;
        if env.postern != FORMAT_VERSION {
            return Err(format!("unsupported message format version {}", env.postern));
        }
        let sequenced =
            matches!(env.body, Body::Accept { .. } | Body::Changes { .. } | Body::Rekey { .. } | Body::Chunk { .. });
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
            Body::Refused { .. } => "refused",
            Body::Chunk { .. } => "chunk",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(data: &[u8]) -> Envelope {
        let attachment = AttachmentSnapshot {
            id: "7".into(),
            filename: "core.bin".into(),
            media_type: "application/octet-stream".into(),
            author: "ann".into(),
            created_at: 1,
            sha256: "ab".into(),
            data: String::new(),
            size: Some(10),
            transfer: None,
            gid: None,
        };
        let body = Body::Chunk {
            transfer: "t".into(),
            issue: "A-1".into(),
            attachment: Box::new(attachment),
            index: 0,
            total: 1,
            offset: 0,
            len: data.len() as u64,
            via: Vec::new(),
            data: data.to_vec(),
        };
        Envelope { postern: 1, sync: "s".into(), from: "f".into(), to: "t".into(), seq: 3, ack: 0, sent_at: 0, body }
    }

    #[test]
    fn a_chunk_carries_raw_bytes_after_its_json_line() {
        let bytes = b"\x00\n{binary\xff\n".to_vec();
        let env = chunk(&bytes);
        let (head, data) = env.chunk_plaintext().unwrap();
        let plain = [head, data.to_vec()].concat();
        let nl = plain.iter().position(|b| *b == b'\n').unwrap();
        assert_eq!(&plain[nl + 1..], &bytes[..], "the bytes follow the first line unchanged");
        assert_eq!(Envelope::from_plaintext(&plain).unwrap(), env);
    }

    #[test]
    fn bytes_after_other_messages_and_chunks_without_bytes_are_refused() {
        let env = chunk(b"x");
        let err = Envelope::from_plaintext(&env.to_json()).unwrap_err();
        assert!(err.contains("a chunk without its bytes"), "{err}");
        let mut ack = env.clone();
        ack.seq = 0;
        ack.body = Body::Ack;
        let mut plain = ack.to_json();
        plain.extend_from_slice(b"\nextra");
        let err = Envelope::from_plaintext(&plain).unwrap_err();
        assert!(err.contains("bytes after the JSON of a ack message"), "{err}");
    }
}
