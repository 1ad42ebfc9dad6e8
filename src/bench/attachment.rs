//! One large attachment end to end: split into parts under the default
//! message size limit, sealed, carried, put back together and stored, on
//! freshly started daemons so their peak memory is this job's.

use std::time::{Duration, Instant};

use anyhow::Result;
use rusqlite::params;

use super::setup::{count, peak_rss, wait_until, Pair};
use super::Figures;
use crate::tracker::attachments::sha256_hex;
use crate::tracker::{Actor, Embedded, NewAttachment, Tracker};

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

pub fn run(pair: &Pair, megabytes: usize, f: &mut Figures) -> Result<()> {
    let data = noise(megabytes * 1_000_000, 0x2545_f491_4f6c_dd1d);
    let sha = sha256_hex(&data);
    let (mut mdb, sdb) = (pair.master_db()?, pair.slave_db()?);
    let key = Embedded::new(&mdb).issue_keys("SAM2")?.into_iter().next().expect("issues exist");
    let remote: String =
        sdb.query_row("SELECT local_key FROM link WHERE remote_key = ?1", params![key], |r| r.get(0))?;
    let seq_before = count(&mdb, "SELECT out_seq FROM sync")?;
    let d = pair.start(&[])?;
    let start = Instant::now();
    let tx = mdb.transaction()?;
    let file = NewAttachment::bytes("bench.bin", "application/octet-stream", &data);
    Embedded::new(&tx).add_attachment(&key, file, None, Actor::person("bench"))?;
    tx.commit()?;
    drop(data);
    wait_until(Duration::from_secs(600), Duration::from_millis(20), || {
        let n: i64 = sdb.query_row(
            "SELECT COUNT(*) FROM t_attachment a JOIN t_issue i ON i.id = a.issue_id
             WHERE i.key = ?1 AND a.sha256 = ?2 AND a.deleted = 0",
            params![remote, sha],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    })?;
    f.attachment_seconds = start.elapsed().as_secs_f64();
    f.attachment_mb = megabytes;
    f.attachment_messages = count(&mdb, "SELECT out_seq FROM sync")? - seq_before;
    f.attachment_peak_rss_master_mb = peak_rss(&d.master)? as f64 / 1048576.0;
    f.attachment_peak_rss_slave_mb = peak_rss(&d.slave)? as f64 / 1048576.0;
    d.stop()
}
