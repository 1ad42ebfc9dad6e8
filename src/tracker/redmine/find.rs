//! Finding a write begun before an interruption (the apply journal asks):
//! what the sync user made since the write began (in Redmine's clock),
//! matched by what it wrote. Redmine has no field to hide a tag in (every
//! field of an issue, note, file or time entry shows): what the journal
//! finds is checked against the pairs of earlier messages instead, so an
//! older twin is never taken for it.

use super::{issue, Redmine};
use crate::tracker::remote::rest::Rest;
use crate::tracker::{TResult, WrittenBefore};

impl Redmine {
    /// The id of `write` if the sync user made it at or after `since`.
    pub(super) fn find(&self, write: &WrittenBefore<'_>, since: i64) -> TResult<Option<String>> {
        let m = self.meta()?;
        let since = in_redmines_clock(since, self.api.skew());
        match *write {
            WrittenBefore::Issue { summary } => {
                let v = self.api.get(&format!(
                    "/issues.json?project_id={}&author_id={}&status_id=*&sort=id:desc&limit=25",
                    m.project_id, m.user_id
                ))?;
                Ok(v["issues"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|i| i["subject"].as_str() == Some(summary) && issue::ms(&i["created_on"]) >= since)
                    .and_then(|i| i["id"].as_u64())
                    .map(|id| id.to_string()))
            }
            WrittenBefore::Comment { key, body, author } => {
                let notes = issue::notes_for(body, author);
                let v = self.must_issue(key)?;
                Ok(v["journals"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .rev()
                    .find(|j| {
                        j["user"]["id"].as_u64() == Some(m.user_id)
                            && j["notes"].as_str() == Some(notes.as_str())
                            && issue::ms(&j["created_on"]) >= since
                    })
                    .and_then(|j| j["id"].as_u64())
                    .map(|id| id.to_string()))
            }
            WrittenBefore::Worklog { key, minutes, spent_on, comment, on_behalf_of } => {
                self.find_time(key, (minutes, spent_on), (comment, on_behalf_of), since)
            }
            WrittenBefore::Attachment { key, filename, size } => {
                let v = self.must_issue(key)?;
                Ok(v["attachments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .rev()
                    .find(|a| {
                        a["author"]["id"].as_u64() == Some(m.user_id)
                            && a["filename"].as_str() == Some(filename)
                            && a["filesize"].as_u64() == Some(size)
                            && issue::ms(&a["created_on"]) >= since
                    })
                    .and_then(|a| a["id"].as_u64())
                    .map(|id| id.to_string()))
            }
        }
    }
}

/// When a write begun at `since` (our clock) began in Redmine's clock
/// (its `Date`: whole seconds, as its times, and a second for the trip);
/// without one, two minutes earlier.
fn in_redmines_clock(since: i64, skew: Option<i64>) -> i64 {
    match skew {
        Some(skew) => since + skew - 2000,
        None => since - 120_000,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_redmine_clock_minutes_behind_ours_still_finds_the_write() {
        let began = 1_800_000_000_000;
        // Redmine three minutes behind: its created_on is three minutes
        // earlier than our clock said.
        let made_at = began - 180_000 + 400;
        assert!(made_at >= super::in_redmines_clock(began, Some(-180_000)));
        assert!(made_at < super::in_redmines_clock(began, None), "a fixed window would miss it");
        // Ahead: nothing written before the write began is taken.
        assert!(began + 60_000 - 5_000 < super::in_redmines_clock(began, Some(60_000)));
    }
}
