//! Comments and worklogs. What the sync user writes for someone at the
//! partner carries postern's property (whose behalf; for worklogs, whose
//! time), read back with `expand=properties`.

use crate::tracker::remote::rest::Rest;
use serde_json::{json, Value};

use super::api::encode;
use super::issue::{is_sync_user, PROPERTY};
use super::meta::str_of;
use super::{text, Jira};
use crate::tracker::{CommentOrigin, NewWorklog, Refusal, TResult};

impl Jira {
    fn must_exist(&self, key: &str) -> TResult<()> {
        match self.issue_json(key)? {
            Some(_) => Ok(()),
            None => Err(Refusal::NoIssue(key.into()).into()),
        }
    }

    /// (A missing issue: Jira's 404, a refusal; no call to look first.)
    pub(super) fn comment_add(&self, key: &str, body: &str, origin: Option<CommentOrigin<'_>>) -> TResult<String> {
        let mut req = json!({ "body": text::to_jira(self.settings.flavour, body) });
        let mut marker = serde_json::Map::new();
        if let Some(o) = origin {
            marker.insert("on_behalf_of".into(), json!(o.author));
        }
        if let Some(t) = self.take_tag() {
            marker.insert("write".into(), json!(t));
        }
        if !marker.is_empty() {
            req["properties"] = json!([{ "key": PROPERTY, "value": marker }]);
        }
        let v = self.api.post(&format!("{}/issue/{}/comment", self.rest(), encode(key)), &req)?;
        Ok(str_of(&v["id"]))
    }

    pub(super) fn comment_edit(&self, key: &str, id: &str, body: &str) -> TResult<()> {
        let path = format!("{}/issue/{}/comment/{}", self.rest(), encode(key), encode(id));
        if self.api.get_opt(&path)?.is_none() {
            return Err(Refusal::NoComment { issue: key.into(), comment: id.into() }.into());
        }
        self.api.put(&path, &json!({ "body": text::to_jira(self.settings.flavour, body) }))?;
        Ok(())
    }

    pub(super) fn comment_delete(&self, key: &str, id: &str) -> TResult<()> {
        self.api.delete(&format!("{}/issue/{}/comment/{}", self.rest(), encode(key), encode(id)))
    }

    /// When comment (`what` = `comment`) or worklog (`worklog`) `id` was
    /// last changed by someone but the sync user: `None` when the sync
    /// user wrote it last (a partner's later edit of it is no conflict).
    pub(super) fn note_time(&self, key: &str, what: &str, id: &str) -> TResult<Option<i64>> {
        let m = self.meta()?;
        let path = format!("{}/issue/{}/{what}/{}", self.rest(), encode(key), encode(id));
        let Some(c) = self.api.get_opt(&path)? else {
            return Ok(None);
        };
        let by = if c["updateAuthor"].is_null() { &c["author"] } else { &c["updateAuthor"] };
        Ok(if is_sync_user(by, m) { None } else { super::jql::ms(c["updated"].as_str().unwrap_or_default()) })
    }

    fn worklog_body(
        &self,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
        tag: Option<String>,
    ) -> TResult<Value> {
        if w.minutes == 0 {
            return Err(Refusal::Invalid("a worklog needs some time (0 minutes given)".into()).into());
        }
        let day = chrono::NaiveDate::parse_from_str(w.spent_on, "%Y-%m-%d")
            .map_err(|_| Refusal::Invalid(format!("the worklog's day {:?} is not a date (YYYY-MM-DD)", w.spent_on)))?;
        if let Some(u) = w.user {
            self.user_ref(u)?;
        }
        let mut body = json!({
            "timeSpentSeconds": w.minutes as u64 * 60,
            "started": format!("{}T09:00:00.000+0000", day.format("%Y-%m-%d")),
            "comment": text::worklog_to_jira(self.settings.flavour, w.comment),
        });
        let mut marker = serde_json::Map::new();
        if let Some(u) = w.user {
            marker.insert("user".into(), json!(u));
        }
        if let Some(o) = origin {
            marker.insert("on_behalf_of".into(), json!(o.author));
        }
        if let Some(t) = tag {
            marker.insert("write".into(), json!(t));
        }
        if !marker.is_empty() {
            body["properties"] = json!([{ "key": PROPERTY, "value": marker }]);
        }
        Ok(body)
    }

    pub(super) fn worklog_add(
        &self,
        key: &str,
        w: &NewWorklog<'_>,
        origin: Option<CommentOrigin<'_>>,
    ) -> TResult<String> {
        self.must_exist(key)?;
        let body = self.worklog_body(w, origin, self.take_tag())?;
        let v = self.api.post(&format!("{}/issue/{}/worklog?adjustEstimate=leave", self.rest(), encode(key)), &body)?;
        Ok(str_of(&v["id"]))
    }

    pub(super) fn worklog_edit(&self, key: &str, id: &str, w: &NewWorklog<'_>) -> TResult<()> {
        self.must_exist(key)?;
        let path = format!("{}/issue/{}/worklog/{}", self.rest(), encode(key), encode(id));
        let Some(old) = self.api.get_opt(&format!("{path}?expand=properties"))? else {
            return Err(Refusal::NoWorklog { issue: key.into(), worklog: id.into() }.into());
        };
        // Whose behalf it was logged on stays.
        let behalf = old["properties"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["key"] == PROPERTY)
            .and_then(|p| p["value"]["on_behalf_of"].as_str().map(String::from));
        let origin = behalf.as_deref().map(|author| CommentOrigin { author, created_at: 0 });
        let body = self.worklog_body(w, origin, None)?;
        self.api.put(&format!("{path}?adjustEstimate=leave"), &body)?;
        Ok(())
    }

    pub(super) fn worklog_delete(&self, key: &str, id: &str) -> TResult<()> {
        self.must_exist(key)?;
        let path = format!("{}/issue/{}/worklog/{}", self.rest(), encode(key), encode(id));
        if self.api.get_opt(&path)?.is_none() {
            return Err(Refusal::NoWorklog { issue: key.into(), worklog: id.into() }.into());
        }
        self.api.delete(&format!("{path}?adjustEstimate=leave"))
    }
}
