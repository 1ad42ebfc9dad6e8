//! What every backend does with attachments: the SHA-256 both sides show
//! (so they can tell they hold the same bytes), file names safe to write,
//! downloads checked against the size the tracker said.

use std::io::Write;

use sha2::{Digest, Sha256};

use super::{Refusal, TResult};

/// The largest file the embedded tracker takes (what crosses a sync is
/// limited by the sync's own setting).
pub const MAX_ATTACHMENT_BYTES: u64 = 64 << 30;
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A file name safe to show and to write into a folder: no path, no
/// control characters, not empty.
pub(crate) fn check_filename(name: &str) -> TResult<()> {
    let bad = name.is_empty()
        || name.len() > 255
        || name == "."
        || name == ".."
        || name.chars().any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        return Err(Refusal::Invalid(format!(
            "attachment name {name:?} is not a plain file name (no folders, no control characters, 1-255 bytes)"
        ))
        .into());
    }
    Ok(())
}

/// A download from a remote tracker against the size the tracker gave:
/// one that differs (cut short, or changed by a proxy on the way) is
/// tried again later, never stored as the attachment.
pub fn check_download(filename: &str, said: u64, got: u64) -> super::TResult<()> {
    if said > 0 && said != got {
        return Err(super::TrackerError::Unavailable {
            reason: format!(
                "the attachment {filename} came as {got} bytes where the tracker says {said} (cut short or changed on the way)"
            ),
            retry_after: None,
        });
    }
    Ok(())
}

/// A writer that counts and hashes what passes through it.
pub struct Hashing<W> {
    pub inner: W,
    hash: Sha256,
    pub written: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Hashing { inner, hash: Sha256::new(), written: 0 }
    }

    /// The SHA-256 (hex) of everything written.
    pub fn sha256(&self) -> String {
        hex::encode(self.hash.clone().finalize())
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// SHA-256 (hex) and size of a file, read as a stream.
pub fn sha256_of_file(path: &std::path::Path) -> std::io::Result<(String, u64)> {
    let mut h = Hashing::new(std::io::sink());
    std::io::copy(&mut std::fs::File::open(path)?, &mut h)?;
    Ok((h.sha256(), h.written))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_download_of_another_size_than_the_tracker_says_is_tried_again() {
        assert!(super::check_download("a.log", 2000, 2000).is_ok());
        assert!(super::check_download("unknown.log", 0, 17).is_ok(), "no size said: nothing to check");
        match super::check_download("a.log", 2000, 3655) {
            Err(crate::tracker::TrackerError::Unavailable { reason, .. }) => {
                assert!(reason.contains("3655 bytes where the tracker says 2000"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
}
