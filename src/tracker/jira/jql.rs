//! Which issues to read: JQL's `updated >=` takes minutes in the sync
//! user's time zone, so the window starts at the cursor rounded down to
//! its minute there, minus an overlap; issues come `ORDER BY updated ASC`,
//! and one already read at the same `updated` (to the millisecond) is not
//! read again. Pure: the clock and the zone are arguments.

use chrono::TimeZone;

pub use crate::tracker::remote::cursor::{Cursor, OVERLAP_MS};

/// `ms` as JQL's `"yyyy/MM/dd HH:mm"` in `zone`, rounded down.
pub fn jql_time(ms: i64, zone: chrono_tz::Tz) -> String {
    let utc = chrono::DateTime::from_timestamp_millis(ms.max(0)).unwrap_or_default();
    zone.from_utc_datetime(&utc.naive_utc()).format("%Y/%m/%d %H:%M").to_string()
}

/// The search of the project's issues updated in the window, oldest first.
pub fn updated_since(project: &str, window: &str) -> String {
    format!("project = \"{project}\" AND updated >= \"{window}\" ORDER BY updated ASC, key ASC")
}

/// Jira's times (`2026-12-04T10:15:30.123+0100`) in ms since the epoch.
pub fn ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_a_minute_in_the_users_zone_minus_the_overlap() {
        let at = ms("2026-12-04T10:15:30.123+0000").unwrap();
        let window = |t: i64, zone| jql_time(t - OVERLAP_MS, zone);
        assert_eq!(window(at, chrono_tz::UTC), "2026/12/04 10:14");
        assert_eq!(window(at, chrono_tz::Europe::Berlin), "2026/12/04 11:14");
        assert_eq!(window(at, chrono_tz::America::New_York), "2026/12/04 05:14");
        // Summer time: Berlin is two hours ahead.
        let summer = ms("2026-07-01T10:00:00.000+0000").unwrap();
        assert_eq!(window(summer, chrono_tz::Europe::Berlin), "2026/07/01 11:59");
        assert_eq!(
            updated_since("SUP", "2026/12/04 10:14"),
            "project = \"SUP\" AND updated >= \"2026/12/04 10:14\" ORDER BY updated ASC, key ASC"
        );
    }

    #[test]
    fn an_issue_is_read_again_only_when_its_updated_moved() {
        let mut c = Cursor::default();
        let t0 = ms("2026-12-04T10:15:30.123+0000").unwrap();
        assert!(c.is_new("10001", t0));
        c.read("10001", t0);
        assert!(!c.is_new("10001", t0), "the same millisecond: already read");
        assert!(c.is_new("10001", t0 + 1), "moved by a millisecond: read again");
        c.read("10002", t0 + 10 * OVERLAP_MS);
        assert!(c.is_new("10001", t0), "out of the window: forgotten (the window no longer lists it)");
        assert_eq!(c.t, t0 + 10 * OVERLAP_MS);
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(Cursor::parse(&text), c);
        assert_eq!(Cursor::parse("not json"), Cursor::default());
    }

    #[test]
    fn jira_times_parse_with_their_offsets() {
        assert_eq!(ms("2026-12-04T11:15:30.123+0100"), ms("2026-12-04T10:15:30.123+0000"));
        assert_eq!(ms("2026-12-04T10:15:30.123Z"), ms("2026-12-04T10:15:30.123+0000"));
        assert_eq!(ms("yesterday"), None);
    }
}
