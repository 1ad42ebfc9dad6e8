//! Attachments: uploaded as a multipart stream (the file is never held in
//! memory), downloaded as a stream, deleted. Whose behalf the sync user
//! attached a file on is kept in postern's issue property (attachments
//! carry no properties of their own).

use crate::tracker::remote::rest::Rest;
use std::io::Read;

use super::api::{answer, encode, ok, short, unreachable};
use super::meta::str_of;
use super::Jira;
use crate::tracker::{AttachmentInfo, CommentOrigin, Content, NewAttachment, Refusal, TResult, TrackerError};

/// The longest an attachment's upload or download may take.
const TRANSFER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

impl Jira {
    pub(super) fn attach(
        &self,
        key: &str,
        file: NewAttachment<'_>,
        origin: Option<CommentOrigin<'_>>,
    ) -> TResult<String> {
        // Attachments take no property: the journal finds them by name and size.
        self.take_tag();
        if self.issue_json(key)?.is_none() {
            return Err(Refusal::NoIssue(key.into()).into());
        }
        let boundary = format!("postern-{}", uuid::Uuid::new_v4().simple());
        let name: String = file.filename.chars().map(|c| if c == '"' || c.is_control() { '_' } else { c }).collect();
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {}\r\n\r\n",
            file.media_type
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        let content: Box<dyn Read> = match file.content {
            Content::Bytes(b) => Box::new(std::io::Cursor::new(b.to_vec())),
            Content::File { path, .. } => Box::new(
                std::fs::File::open(path)
                    .map_err(|e| anyhow::anyhow!("cannot read the attachment {}: {e}", file.filename))?,
            ),
        };
        let length = head.len() as u64 + file.size() + tail.len() as u64;
        let body =
            std::io::Cursor::new(head.into_bytes()).chain(content).chain(std::io::Cursor::new(tail.into_bytes()));
        let path = format!("{}/issue/{}/attachments", self.rest(), encode(key));
        crate::tracker::remote::count_call();
        let mut resp = self
            .api
            .agent
            .post(self.api.url(&path))
            .header("Authorization", self.api.authorization()?.as_str())
            .header("X-Atlassian-Token", "no-check")
            .header("Content-Type", format!("multipart/form-data; boundary={boundary}").as_str())
            .header("Content-Length", length.to_string().as_str())
            .config()
            .timeout_global(Some(TRANSFER_TIMEOUT))
            .build()
            .send(ureq::SendBody::from_owned_reader(body))
            .map_err(|e| unreachable("POST", &path, &e))?;
        let a = answer("POST", &path, &mut resp)?;
        if a.status == 413 {
            return Err(Refusal::Invalid(format!(
                "Jira refused the attachment {} ({} bytes) as too large: its limit is a Jira setting \
                 (System › Attachments)",
                file.filename,
                file.size()
            ))
            .into());
        }
        let v = ok(a, "POST", &path)?;
        let id = str_of(&v[0]["id"]);
        if id.is_empty() {
            return Err(anyhow::anyhow!("POST {}: Jira's answer names no attachment", short(&path)).into());
        }
        if let Some(o) = origin {
            self.set_attachment_owner(key, &id, Some(o.author))?;
        }
        Ok(id)
    }

    /// Streams attachment `id` of issue `key` into `out`.
    pub(super) fn download(
        &self,
        key: &str,
        id: &str,
        out: &mut dyn std::io::Write,
    ) -> TResult<Option<AttachmentInfo>> {
        let Some(v) = self.issue_json(key)? else {
            return Err(Refusal::NoIssue(key.into()).into());
        };
        let Some(meta) = v["fields"]["attachment"].as_array().and_then(|l| l.iter().find(|a| str_of(&a["id"]) == id))
        else {
            return Ok(None);
        };
        // Cloud serves content at a REST path; Data Center at the address
        // its `content` link gives (`/secure/attachment/…`).
        let rest_path = format!("{}/attachment/content/{id}", self.rest());
        let url = match self.settings.flavour {
            super::Flavour::Cloud => rest_path,
            super::Flavour::DataCenter => meta["content"].as_str().map(String::from).unwrap_or(rest_path),
        };
        crate::tracker::remote::count_call();
        let mut resp = self
            .api
            .agent
            .get(self.api.url(&url))
            .header("Authorization", self.api.authorization()?.as_str())
            .config()
            .timeout_global(Some(TRANSFER_TIMEOUT))
            .build()
            .call()
            .map_err(|e| unreachable("GET", "an attachment", &e))?;
        let status = resp.status().as_u16();
        if status == 404 {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            let a = answer("GET", "an attachment", &mut resp)?;
            return ok(a, "GET", "an attachment").map(|_| None);
        }
        let mut hashing = crate::tracker::attachments::Hashing::new(out);
        let limit = crate::tracker::attachments::MAX_ATTACHMENT_BYTES;
        let mut body = resp.body_mut().with_config().limit(limit).reader();
        std::io::copy(&mut body, &mut hashing).map_err(|e| TrackerError::Unavailable {
            reason: format!("GET an attachment: the download broke off: {e}"),
            retry_after: None,
        })?;
        let behalf = self.attachment_owners(key)?;
        let m = self.meta()?;
        let mut info = super::issue::from_json(&v, &[], &[], &behalf, m)
            .attachments
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| anyhow::anyhow!("attachment {id} vanished from {key} while it was read"))?;
        crate::tracker::attachments::check_download(&info.filename, info.size, hashing.written)?;
        info.sha256 = hashing.sha256();
        info.size = hashing.written;
        Ok(Some(info))
    }

    pub(super) fn unattach(&self, key: &str, id: &str) -> TResult<()> {
        if self.issue_json(key)?.is_none() {
            return Err(Refusal::NoIssue(key.into()).into());
        }
        self.api.delete(&format!("{}/attachment/{}", self.rest(), encode(id)))?;
        if self.attachment_owners(key)?.contains_key(id) {
            self.set_attachment_owner(key, id, None)?;
        }
        Ok(())
    }
}
