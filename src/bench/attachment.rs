//! Large attachments end to end: streamed from the tracker, sealed in
//! chunks, carried, written to the receiver's spool and stored, on freshly
//! started daemons so their peak memory is this job's; beside it, the bare
//! crypto bound (sign+encrypt then decrypt+verify of the same bytes in one
//! process) measured in the same run.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use anyhow::Result;
use rusqlite::params;
use serde::Serialize;

use super::setup::{count, peak_rss, wait_until, Pair};
use crate::crypto::message::Secret;
use crate::crypto::{generate_key, open, seal_uncompressed};
use crate::engine::parts::Budget;
use crate::tracker::attachments::sha256_of_file;
use crate::tracker::{Actor, Content, Embedded, NewAttachment, Reads, Writes};

/// `len` incompressible bytes (xorshift from `seed`, which must not be 0),
/// so compression flatters nothing. Tests use it too.
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        out.extend_from_slice(&seed.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One attachment run.
#[derive(Debug, Serialize, Default, Clone)]
pub struct AttachmentFigures {
    pub megabytes: usize,
    pub messages: u64,
    pub seconds: f64,
    pub mb_per_second: f64,
    pub peak_rss_master_mb: f64,
    pub peak_rss_slave_mb: f64,
    /// Sign+encrypt then decrypt+verify of the same bytes, in chunks of the
    /// same size, in one process.
    pub crypto_bound_mb_per_second: f64,
    pub ratio_to_crypto_bound: f64,
}

/// Writes `megabytes` MB of noise to `path` in pieces (the bench stays small).
fn write_noise(path: &std::path::Path, megabytes: usize) -> Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut left = megabytes * 1_000_000;
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    while left > 0 {
        let n = left.min(8 << 20);
        f.write_all(&noise(n, seed))?;
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1) | 1;
        left -= n;
    }
    f.flush()?;
    Ok(())
}

/// MB/s of sealing then opening the file in chunks of the default size.
fn crypto_bound(path: &std::path::Path) -> Result<f64> {
    let (a, b) = (generate_key("bench a")?, generate_key("bench b")?);
    let chunk = Budget::default().chunk_raw;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; chunk];
    let (mut bytes, start) = (0usize, Instant::now());
    loop {
        let n = read_full(&mut file, &mut buf)?;
        if n == 0 {
            break;
        }
        let sealed = seal_uncompressed(&a, &b, &[b"{}\n", &buf[..n]])?;
        let opened = open(Secret::Key(&b), std::slice::from_ref(&a), &sealed, sealed.len() * 2)?;
        anyhow::ensure!(opened.plaintext.len() == n + 3, "the crypto bound opened what it sealed");
        bytes += n;
    }
    Ok(bytes as f64 / 1e6 / start.elapsed().as_secs_f64())
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

pub fn run(pair: &Pair, megabytes: usize) -> Result<AttachmentFigures> {
    let dir = tempfile::tempdir_in(&pair.root)?;
    let path = dir.path().join("bench.bin");
    write_noise(&path, megabytes)?;
    let (sha, size) = sha256_of_file(&path)?;
    let (mut mdb, sdb) = (pair.master_db()?, pair.slave_db()?);
    let key = Embedded::new(&mdb).issue_keys("SAM2")?.into_iter().next().expect("issues exist");
    let remote: String =
        sdb.query_row("SELECT local_key FROM link WHERE remote_key = ?1", params![key], |r| r.get(0))?;
    let seq_before = count(&mdb, "SELECT out_seq FROM sync")?;
    let d = pair.start(&[])?;
    let start = Instant::now();
    let tx = mdb.transaction()?;
    let name = format!("bench-{megabytes}.bin");
    let file = NewAttachment {
        filename: &name,
        media_type: "application/octet-stream",
        content: Content::File { path: &path, size },
    };
    Embedded::new(&tx).add_attachment(&key, file, None, Actor::person("bench"))?;
    tx.commit()?;
    wait_until(Duration::from_secs(3600), Duration::from_millis(20), || {
        let n: i64 = sdb.query_row(
            "SELECT COUNT(*) FROM t_attachment a JOIN t_issue i ON i.id = a.issue_id
             WHERE i.key = ?1 AND a.sha256 = ?2 AND a.deleted = 0",
            params![remote, sha],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let mut f = AttachmentFigures {
        megabytes,
        messages: count(&mdb, "SELECT out_seq FROM sync")? - seq_before,
        seconds,
        mb_per_second: size as f64 / 1e6 / seconds,
        peak_rss_master_mb: peak_rss(&d.master)? as f64 / 1048576.0,
        peak_rss_slave_mb: peak_rss(&d.slave)? as f64 / 1048576.0,
        ..Default::default()
    };
    d.stop()?;
    f.crypto_bound_mb_per_second = crypto_bound(&path)?;
    f.ratio_to_crypto_bound = f.mb_per_second / f.crypto_bound_mb_per_second;
    Ok(f)
}
