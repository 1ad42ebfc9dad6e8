//! Finding a write begun before an interruption (the apply journal asks):
//! what the sync user made since, matched by what it wrote.

use super::{issue, Redmine};
use crate::tracker::{TResult, WrittenBefore};

impl Redmine {
    /// The id of `write` if the sync user made it at or after `since`.
    pub(super) fn find(&self, write: &WrittenBefore<'_>, since: i64) -> TResult<Option<String>> {
        let m = self.meta()?;
        // Redmine's clock may differ from ours: look a little earlier.
        let since = since - 120_000;
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
