//! Verify rounds, their reports, the issues found to differ from the
//! partner (`status` shows them as `DIVERGED`), and each sync's verify
//! schedule and policy.

use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// One issue that differs from the partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// This side's key (empty when the pair is only known there).
    pub key: String,
    /// The partner's key, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub partner_key: String,
    /// What differs, in words: `status (here Done, partner In Progress)`.
    pub what: Vec<String>,
}

impl Difference {
    /// The report's line: `[KEY] differs: …`.
    pub fn line(&self) -> String {
        let key = if self.key.is_empty() { format!("{} (partner)", self.partner_key) } else { self.key.clone() };
        format!("[{key}] differs: {}", self.what.join("; "))
    }
}

/// What a verify round found, as this side sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub round: String,
    pub started_at: i64,
    pub finished_at: i64,
    /// Pairs on this side and on the partner's.
    pub pairs: u64,
    pub partner_pairs: u64,
    /// Issues whose digests differed and were compared field by field.
    pub compared: u64,
    pub differing: Vec<Difference>,
    /// Issues with changes on their way (either side): not compared this
    /// time.
    pub changing: Vec<String>,
    /// Issues whose partner's changes one side ignores
    /// (`errors ignore-issue`): not compared.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
    /// Issues whose repair was queued (`--repair` or the repair policy).
    pub repaired: Vec<String>,
    /// Calls to a remote tracker's API this side made for the round (0
    /// for the embedded tracker).
    #[serde(default)]
    pub api_calls: u64,
}

impl VerifyReport {
    pub fn outcome(&self) -> &'static str {
        if self.differing.is_empty() {
            "Completed Successfully"
        } else {
            "Completed with warnings"
        }
    }

    /// The report as the CLI prints it: the outcome, one line per issue
    /// that differs, then the totals.
    pub fn text(&self) -> String {
        let mut out = format!("{}\n", self.outcome());
        for d in &self.differing {
            out.push_str(&d.line());
            out.push('\n');
        }
        out.push_str(&format!(
            "{} pair{} here, {} at the partner; {} differ",
            self.pairs,
            if self.pairs == 1 { "" } else { "s" },
            self.partner_pairs,
            self.differing.len()
        ));
        if !self.changing.is_empty() {
            out.push_str(&format!(
                "; {} with changes on their way, not compared ({})",
                self.changing.len(),
                self.changing.join(", ")
            ));
        }
        if !self.ignored.is_empty() {
            out.push_str(&format!(
                "; {} ignored on one side (`errors ignore-issue`), not compared ({})",
                self.ignored.len(),
                self.ignored.join(", ")
            ));
        }
        if self.api_calls > 0 {
            out.push_str(&format!("; {} calls to the tracker's API", self.api_calls));
        }
        if !self.repaired.is_empty() {
            out.push_str(&format!("; repair sent for {}", self.repaired.join(", ")));
        }
        out.push('\n');
        out
    }
}

/// A round this side takes part in.
#[derive(Debug, Clone)]
pub struct Round {
    pub id: String,
    pub started_here: bool,
    pub repair: bool,
    pub started_at: i64,
    pub report: Option<VerifyReport>,
}

pub fn begin(conn: &Connection, sync_id: &str, round: &str, started_here: bool, repair: bool, now: i64) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO verify_round (sync_id, round, started_here, repair, started_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sync_id, round, started_here, repair, now],
    )?;
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Round> {
    let report: Option<String> = r.get(4)?;
    let calls: i64 = r.get(5)?;
    Ok(Round {
        id: r.get(0)?,
        started_here: r.get(1)?,
        repair: r.get(2)?,
        started_at: r.get(3)?,
        report: report.and_then(|t| serde_json::from_str::<VerifyReport>(&t).ok()).map(|mut rep| {
            rep.api_calls = calls as u64;
            rep
        }),
    })
}

const COLUMNS: &str = "round, started_here, repair, started_at, report, calls";

/// Counts calls to the tracker's API made for a round.
pub fn add_calls(conn: &Connection, sync_id: &str, round: &str, n: u64) -> Result<()> {
    if n > 0 {
        conn.execute(
            "UPDATE verify_round SET calls = calls + ?3 WHERE sync_id = ?1 AND round = ?2",
            params![sync_id, round, n as i64],
        )?;
    }
    Ok(())
}

pub fn get(conn: &Connection, sync_id: &str, round: &str) -> Result<Option<Round>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM verify_round WHERE sync_id = ?1 AND round = ?2"),
            params![sync_id, round],
            row,
        )
        .optional()?)
}

/// The latest finished round.
pub fn last(conn: &Connection, sync_id: &str) -> Result<Option<Round>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM verify_round WHERE sync_id = ?1 AND finished_at IS NOT NULL
                 ORDER BY finished_at DESC, rowid DESC LIMIT 1"
            ),
            params![sync_id],
            row,
        )
        .optional()?)
}

/// When the latest round was started (finished or not).
pub fn last_started(conn: &Connection, sync_id: &str) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT MAX(started_at) FROM verify_round WHERE sync_id = ?1", params![sync_id], |r| r.get(0))?)
}

/// Keeps a round's report and makes its differences the sync's
/// divergent issues (keeping when each was first seen).
pub fn finish(conn: &Connection, sync_id: &str, report: &VerifyReport, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE verify_round SET finished_at = ?3, report = ?4 WHERE sync_id = ?1 AND round = ?2",
        params![sync_id, report.round, now, serde_json::to_string(report)?],
    )?;
    let keep: Vec<String> = report.differing.iter().map(key_of).collect();
    let old = divergent(conn, sync_id)?;
    for (issue, what, _) in &old {
        if !keep.contains(issue) && !report.changing.contains(issue) && what != UNPAIRED {
            conn.execute("DELETE FROM divergent WHERE sync_id = ?1 AND issue = ?2", params![sync_id, issue])?;
        }
    }
    for d in &report.differing {
        conn.execute(
            "INSERT INTO divergent (sync_id, issue, what, since) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (sync_id, issue) DO UPDATE SET what = excluded.what",
            params![sync_id, key_of(d), d.what.join("; "), now],
        )?;
    }
    // Old rounds go; the last twenty stay for the console.
    conn.execute(
        "DELETE FROM verify_round WHERE sync_id = ?1 AND rowid NOT IN
             (SELECT rowid FROM verify_round WHERE sync_id = ?1 ORDER BY started_at DESC LIMIT 20)",
        params![sync_id],
    )?;
    Ok(())
}

fn key_of(d: &Difference) -> String {
    if d.key.is_empty() {
        format!("{} (partner)", d.partner_key)
    } else {
        d.key.clone()
    }
}

/// What `divergent` says of an issue the sync user made that no pairing
/// holds (found by change detection, not by a verify, which compares
/// pairs: a verify leaves it).
pub const UNPAIRED: &str = "made by the sync user, yet paired with no issue of the partner: a second copy of a write \
                            the tracker made late, or someone at work as the sync user (whose work never crosses); \
                            delete it, or pair it with `postern sync records pair`";

/// Records issue `issue` as made by the sync user and paired with none.
pub fn mark_unpaired(conn: &Connection, sync_id: &str, issue: &str, now: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO divergent (sync_id, issue, what, since) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        params![sync_id, issue, UNPAIRED, now],
    )?;
    Ok(())
}

/// The issues recorded as made by the sync user and paired with none.
pub fn unpaired(conn: &Connection, sync_id: &str) -> Result<Vec<String>> {
    let mut st = conn.prepare("SELECT issue FROM divergent WHERE sync_id = ?1 AND what = ?2 ORDER BY issue")?;
    let rows = st.query_map(params![sync_id, UNPAIRED], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Issue `issue` is paired now, or gone.
pub fn clear_unpaired(conn: &Connection, sync_id: &str, issue: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM divergent WHERE sync_id = ?1 AND issue = ?2 AND what = ?3",
        params![sync_id, issue, UNPAIRED],
    )?;
    Ok(())
}

/// The issues that differed at the last verify: (issue, what, since).
pub fn divergent(conn: &Connection, sync_id: &str) -> Result<Vec<(String, String, i64)>> {
    let mut st = conn.prepare("SELECT issue, what, since FROM divergent WHERE sync_id = ?1 ORDER BY issue")?;
    let rows = st.query_map(params![sync_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The default time between verifies: a day.
pub const DEFAULT_EVERY_MS: i64 = 24 * 3600 * 1000;

/// How often a sync is verified (0: never on its own) and whether what
/// differs is repaired at once (`repair`) or only reported (`report`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub every_ms: i64,
    pub policy: String,
}

pub fn setting(conn: &Connection, sync_id: &str) -> Result<Setting> {
    Ok(conn
        .query_row("SELECT every_ms, policy FROM verify_setting WHERE sync_id = ?1", params![sync_id], |r| {
            Ok(Setting { every_ms: r.get(0)?, policy: r.get(1)? })
        })
        .optional()?
        .unwrap_or(Setting { every_ms: DEFAULT_EVERY_MS, policy: "report".into() }))
}

pub fn set_setting(conn: &Connection, sync_id: &str, s: &Setting) -> Result<()> {
    conn.execute(
        "INSERT INTO verify_setting (sync_id, every_ms, policy) VALUES (?1, ?2, ?3)
         ON CONFLICT (sync_id) DO UPDATE SET every_ms = excluded.every_ms, policy = excluded.policy",
        params![sync_id, s.every_ms, s.policy],
    )?;
    Ok(())
}
