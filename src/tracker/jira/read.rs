//! Reading from Jira: an issue with everything postern syncs, its change
//! history (who set which field last), the project's issue keys, searches.

use crate::tracker::remote::rest::Rest;
use serde_json::{json, Map, Value};

use super::api::encode;
use super::issue::{self, PROPERTY};
use super::meta::str_of;
use super::settings::Flavour;
use super::Jira;
use crate::tracker::{Issue, TResult};

/// One page of search results: `(id, key, updated ms)`, and where the next
/// page starts (`None`: the last page).
pub type Page = (Vec<Found>, Option<String>);

/// An issue a search found: its id, key, `updated` (ms) and, when the
/// search asked for whole issues, the issue as `issue_json` reads it.
pub struct Found {
    pub id: String,
    pub key: String,
    pub updated: i64,
    pub v: Value,
}

impl Jira {
    pub(super) fn rest(&self) -> &'static str {
        self.settings.flavour.rest()
    }

    /// Issue JSON, or `None` when there is no such issue (or it is in
    /// another project).
    pub(super) fn issue_json(&self, key: &str) -> TResult<Option<Value>> {
        if !key.contains('-') {
            return Ok(None);
        }
        let m = self.meta()?;
        // With its history: who set what last (one call for most issues).
        let path = format!(
            "{}/issue/{}?fields={}&properties={PROPERTY}&expand=changelog",
            self.rest(),
            encode(key),
            issue::fields_param(m)
        );
        let v = self.api.get_opt(&path)?;
        let v = v.filter(|v| v["fields"]["project"]["key"].as_str() == Some(self.settings.project.as_str()));
        if let Some(v) = &v {
            self.read_id(v);
        }
        Ok(v)
    }

    /// Every item of a paged list (`startAt`/`maxResults`, items under
    /// `field`).
    pub(super) fn all_pages(&self, path: &str, field: &str) -> TResult<Vec<Value>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out: Vec<Value> = Vec::new();
        loop {
            let v = self.api.get(&format!("{path}{sep}startAt={}&maxResults=100", out.len()))?;
            let page = v[field].as_array().cloned().unwrap_or_default();
            let total = v["total"].as_u64();
            let last = v["isLast"].as_bool();
            let n = page.len();
            out.extend(page);
            let done = n == 0 || last == Some(true) || total.is_some_and(|t| out.len() as u64 >= t);
            if done || (last.is_none() && total.is_none()) {
                return Ok(out);
            }
        }
    }

    /// An issue as postern sees it, from its JSON.
    pub(super) fn full(&self, v: &Value) -> TResult<Issue> {
        Ok(self.full_with(v, true)?.0)
    }

    /// An issue as postern sees it, and its comments as Jira lists them.
    /// `behalf`: whose behalf the sync user's comments were written on is
    /// needed (not to find what changed: their text is enough).
    pub(super) fn full_with(&self, v: &Value, behalf: bool) -> TResult<(Issue, Vec<Value>)> {
        let m = self.meta()?;
        let key = str_of(&v["key"]);
        let rest = self.rest();
        // The issue lists its comments and worklogs (a first page, without
        // their properties): enough unless it has more, or some are the sync
        // user's (whose property says whose behalf).
        let listed = |field: &str, items: &str, properties: bool| -> TResult<Vec<Value>> {
            let inline = &v["fields"][field];
            let list = inline[items].as_array().cloned().unwrap_or_default();
            let complete = inline[items].is_array() && inline["total"].as_u64().unwrap_or(0) <= list.len() as u64;
            if complete && !(properties && list.iter().any(|x| issue::is_sync_user(&x["author"], m))) {
                return Ok(list);
            }
            self.all_pages(&format!("{rest}/issue/{}/{field}?expand=properties", encode(&key)), items)
        };
        let comments = listed("comment", "comments", behalf)?;
        // A worklog's property says whose time it is: always needed.
        let worklogs = listed("worklog", "worklogs", true)?;
        let behalf = v["properties"][PROPERTY]["attachments"].as_object().cloned().unwrap_or_default();
        let mut i = issue::from_json(v, &comments, &worklogs, &behalf, m);
        // The partner's names where the sync's tables map them.
        i.fields.status = crate::tracker::names::wire(&self.settings.statuses, &i.fields.status);
        i.fields.priority = crate::tracker::names::wire(&self.settings.priorities, &i.fields.priority);
        Ok((i, comments))
    }

    /// postern's issue property: whose behalf each attachment the sync
    /// user added was added on.
    fn property(&self, key: &str) -> TResult<Map<String, Value>> {
        let path = format!("{}/issue/{}/properties/{PROPERTY}", self.rest(), encode(key));
        let v = self.api.get_opt(&path)?.unwrap_or_default();
        Ok(v["value"].as_object().cloned().unwrap_or_default())
    }

    pub(super) fn attachment_owners(&self, key: &str) -> TResult<Map<String, Value>> {
        Ok(self.property(key)?.get("attachments").and_then(Value::as_object).cloned().unwrap_or_default())
    }

    /// (The property's other entries, the create's tag, stay.)
    pub(super) fn set_attachment_owner(&self, key: &str, id: &str, name: Option<&str>) -> TResult<()> {
        let mut property = self.property(key)?;
        let mut owners = property.get("attachments").and_then(Value::as_object).cloned().unwrap_or_default();
        match name {
            Some(n) => owners.insert(id.into(), json!(n)),
            None => owners.remove(id),
        };
        property.insert("attachments".into(), Value::Object(owners));
        let path = format!("{}/issue/{}/properties/{PROPERTY}", self.rest(), encode(key));
        self.api.put(&path, &Value::Object(property))?;
        Ok(())
    }

    /// The change history of an issue, oldest first: `(author JSON,
    /// created ms, items)`.
    /// The history of issue JSON `v` (read with `expand=changelog`): as it
    /// came when complete, else (Cloud stops at 40) read page by page.
    pub(super) fn changelog(&self, v: &Value) -> TResult<Vec<Value>> {
        let inline = v["changelog"]["histories"].as_array().cloned().unwrap_or_default();
        let complete = v["changelog"]["total"].as_u64().is_none_or(|t| t <= inline.len() as u64);
        let mut histories = match (self.settings.flavour, complete) {
            (Flavour::Cloud, false) => {
                let key = str_of(&v["key"]);
                self.all_pages(&format!("{}/issue/{}/changelog", self.rest(), encode(&key)), "values")?
            }
            _ => inline,
        };
        histories.sort_by_key(|h| super::jql::ms(h["created"].as_str().unwrap_or_default()).unwrap_or_default());
        Ok(histories)
    }

    /// One page of a JQL search, oldest `updated` first. `whole`: with each
    /// issue as `issue_json` reads it (fields, postern's property, the
    /// history), so that finding what changed takes no call per issue.
    pub(super) fn search(&self, jql: &str, page: Option<&str>, reconcile: &[String], whole: bool) -> TResult<Page> {
        let rows = |v: &Value| -> Vec<Found> {
            v["issues"]
                .as_array()
                .into_iter()
                .flatten()
                .inspect(|i| self.read_id(i))
                .map(|i| Found {
                    id: str_of(&i["id"]),
                    key: str_of(&i["key"]),
                    updated: super::jql::ms(i["fields"]["updated"].as_str().unwrap_or_default()).unwrap_or_default(),
                    v: if whole { i.clone() } else { Value::Null },
                })
                .collect()
        };
        let fields = if whole { issue::fields_param(self.meta()?) } else { "updated".to_string() };
        match self.settings.flavour {
            Flavour::Cloud => {
                let mut body = json!({"jql": jql, "fields": fields.split(',').collect::<Vec<_>>(), "maxResults": 100});
                if whole {
                    body["properties"] = json!([PROPERTY]);
                    body["expand"] = json!("changelog");
                }
                if let Some(p) = page {
                    body["nextPageToken"] = json!(p);
                }
                // Jira takes up to 50: the newest writes.
                let ids: Vec<i64> = reconcile.iter().rev().take(50).filter_map(|i| i.parse().ok()).collect();
                if !ids.is_empty() {
                    body["reconcileIssues"] = json!(ids);
                }
                let v = self.api.post("/rest/api/3/search/jql", &body)?;
                let next = v["nextPageToken"].as_str().filter(|_| v["isLast"].as_bool() != Some(true));
                Ok((rows(&v), next.map(String::from)))
            }
            Flavour::DataCenter => {
                let start: usize = page.and_then(|p| p.parse().ok()).unwrap_or(0);
                let whole = if whole { format!("&properties={PROPERTY}&expand=changelog") } else { String::new() };
                let v = self.api.get(&format!(
                    "/rest/api/2/search?jql={}&fields={fields}{whole}&startAt={start}&maxResults=100",
                    encode(jql)
                ))?;
                let got = rows(&v);
                let total = v["total"].as_u64().unwrap_or(0) as usize;
                let next = (!got.is_empty() && start + got.len() < total).then(|| (start + got.len()).to_string());
                Ok((got, next))
            }
        }
    }

    /// Every issue a JQL search finds (`whole`: see `search`).
    pub(super) fn search_all(&self, jql: &str, reconcile: &[String], whole: bool) -> TResult<Vec<Found>> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let (rows, next) = self.search(jql, page.as_deref(), reconcile, whole)?;
            out.extend(rows);
            match next {
                Some(n) => page = Some(n),
                None => return Ok(out),
            }
        }
    }

    /// The project's issues updated at or after `since` (ms), whole, oldest
    /// first. Pages are anchored (see `remote::listing`): JQL's grain is a
    /// minute in the sync user's zone.
    pub(super) fn search_moved(&self, since: i64, reconcile: &[String]) -> TResult<Vec<Found>> {
        use crate::tracker::remote::listing::{anchored, Listed};
        let zone = self.meta()?.time_zone;
        let listed = anchored(since, 60_000, |from, next: Option<String>| {
            let jql = super::jql::updated_since(&self.settings.project, &super::jql::jql_time(from, zone));
            let (rows, more) = self.search(&jql, next.as_deref(), reconcile, true)?;
            let rows = rows.into_iter().map(|f| Listed { key: f.id.clone(), updated: f.updated, row: f }).collect();
            Ok((rows, more))
        })?;
        Ok(listed.into_iter().map(|l| l.row).collect())
    }

    /// When `field` was last set by someone but the sync user (the issue's
    /// creation if no one changed it since).
    pub(super) fn field_time(&self, key: &str, field: &str) -> TResult<Option<i64>> {
        Ok(self.field_times(key, &[field])?.remove(field))
    }

    /// [`Self::field_time`] of each of `fields`, from one read of the issue.
    pub(super) fn field_times(&self, key: &str, fields: &[&str]) -> TResult<std::collections::BTreeMap<String, i64>> {
        let m = self.meta()?;
        let Some(v) = self.issue_json(key)? else {
            return Ok(Default::default());
        };
        let histories = self.changelog(&v)?;
        let mut out = std::collections::BTreeMap::new();
        for field in fields {
            let last = histories.iter().rev().find(|h| {
                !issue::is_sync_user(&h["author"], m)
                    && h["items"].as_array().into_iter().flatten().any(|i| item_sets(i, field, m))
            });
            let at = match last {
                Some(h) => super::jql::ms(h["created"].as_str().unwrap_or_default()),
                None if issue::is_sync_user(&v["fields"]["creator"], m) => None,
                None => super::jql::ms(v["fields"]["created"].as_str().unwrap_or_default()),
            };
            if let Some(at) = at {
                out.insert(field.to_string(), at);
            }
        }
        Ok(out)
    }
}

/// Whether changelog item `i` sets postern's field `field`.
pub fn item_sets(i: &Value, field: &str, m: &super::meta::Meta) -> bool {
    let id = i["fieldId"].as_str().or_else(|| i["field"].as_str()).unwrap_or_default();
    match field {
        "type" => id == "issuetype",
        "due_date" => id == "duedate",
        "custom" => m.custom.values().any(|c| c == id),
        "status" | "summary" | "description" | "priority" | "labels" | "assignee" => id == field,
        _ => false,
    }
}
