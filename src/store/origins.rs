//! Where issues, comments and attachments were first made, across homes.
//!
//! A thing made here is known everywhere as `<own fingerprint>/<local id>`;
//! one that arrived from a partner keeps the name it came with. When
//! forwarding hubs give the same thing two paths to a home (a triangle),
//! the second arrival finds the first by this name and is paired with it
//! instead of copied.

use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension};

/// What is named: `issue`, `comment` or `attachment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Issue,
    Comment,
    Attachment,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Issue => "issue",
            Kind::Comment => "comment",
            Kind::Attachment => "attachment",
        }
    }
}

/// The name a partner's thing is known by: the one it carried, else the
/// sender's own (`<sender fingerprint>/<sender's id>`).
pub fn incoming(carried: Option<&str>, sender_fpr: &str, sender_id: &str) -> String {
    carried.map_or_else(|| format!("{sender_fpr}/{sender_id}"), str::to_string)
}

/// Records that local `local` is the thing named `gid`.
pub fn record(conn: &Connection, kind: Kind, local: &str, gid: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO origin_id (kind, local, gid) VALUES (?1, ?2, ?3)",
        params![kind.as_str(), local, gid],
    )?;
    Ok(())
}

/// The local thing named `gid`, if it is here.
pub fn local(conn: &Connection, kind: Kind, gid: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT local FROM origin_id WHERE kind = ?1 AND gid = ?2", params![kind.as_str(), gid], |r| {
            r.get(0)
        })
        .optional()?)
}

/// The name a local thing travels with when it came from elsewhere;
/// `None` for things made here (the receiver names them by the sender).
pub fn carried(conn: &Connection, kind: Kind, local: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT gid FROM origin_id WHERE kind = ?1 AND local = ?2", params![kind.as_str(), local], |r| {
            r.get(0)
        })
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_first_maker() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("t.db")).unwrap();
        let gid = incoming(None, "AAAA", "SAM2-1");
        assert_eq!(gid, "AAAA/SAM2-1");
        assert_eq!(incoming(Some("BBBB/X-9"), "AAAA", "SAM2-1"), "BBBB/X-9");
        record(&conn, Kind::Issue, "SP2-4", &gid).unwrap();
        assert_eq!(local(&conn, Kind::Issue, "AAAA/SAM2-1").unwrap().as_deref(), Some("SP2-4"));
        assert_eq!(local(&conn, Kind::Comment, "AAAA/SAM2-1").unwrap(), None, "kinds are apart");
        assert_eq!(carried(&conn, Kind::Issue, "SP2-4").unwrap().as_deref(), Some("AAAA/SAM2-1"));
        assert_eq!(carried(&conn, Kind::Issue, "SP2-5").unwrap(), None);
    }
}
