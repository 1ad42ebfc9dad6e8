//! The decrypted form of a message sent by mail: a MIME entity (RFC 3156
//! wants one inside `multipart/encrypted`), so an auditor's mail client
//! shows a short summary and offers the envelope JSON as an attachment.
//! Over folders the plaintext stays the bare JSON, which `gpg --decrypt`
//! prints as is. The receiver reads both forms.
//!
//! The JSON travels unencoded (`Content-Transfer-Encoding: binary`): it is
//! one line without CR or LF, so the boundary can never occur in it, and
//! saving the attachment gives the envelope byte for byte.

use std::collections::BTreeMap;

use super::{Body, Change, Envelope, WireChange};

const BOUNDARY_PREFIX: &str = "postern-entity-";

/// The MIME entity carrying `env`, whose JSON is `json`. `sync_name` is the
/// sender's name for the sync, `sender` says which side sends.
pub fn wrap(env: &Envelope, json: &[u8], sync_name: &str, sender: &str) -> Vec<u8> {
    let boundary = format!("{BOUNDARY_PREFIX}{}", env.seq);
    let file = format!("postern-{}-{:012}.json", env.sync, env.seq);
    let mut m = String::new();
    m.push_str("MIME-Version: 1.0\r\n");
    m.push_str(&format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"));
    m.push_str(&format!("--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    m.push_str("Content-Disposition: inline\r\n\r\n");
    for line in summary(env, sync_name, sender).lines() {
        m.push_str(line);
        m.push_str("\r\n");
    }
    m.push_str(&format!("\r\n--{boundary}\r\nContent-Type: application/json; name=\"{file}\"\r\n"));
    m.push_str(&format!("Content-Disposition: attachment; filename=\"{file}\"\r\n"));
    m.push_str("Content-Transfer-Encoding: binary\r\n\r\n");
    let mut out = m.into_bytes();
    out.extend_from_slice(json);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

/// What an auditor reads first: which sync, who sent it, which number, and
/// how many changes of which kinds; no issue content.
pub fn summary(env: &Envelope, sync_name: &str, sender: &str) -> String {
    let mut s = format!("postern message of the sync \"{sync_name}\" (id {})\n", env.sync);
    s.push_str(&format!("From: {sender}, key {}\n", env.from));
    s.push_str(&format!("To: key {}\n", env.to));
    match env.seq {
        0 => s.push_str("Sequence: none (a control message)\n"),
        n => s.push_str(&format!("Sequence: {n}\n")),
    }
    s.push_str(&format!("Acknowledges: up to {}\n", env.ack));
    s.push_str(&format!("Content: {}\n", content(&env.body)));
    s.push_str("\nThe message itself is the attached JSON file.\n");
    s
}

fn content(body: &Body) -> String {
    match body {
        Body::Changes { changes, .. } => {
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            for c in changes {
                *kinds.entry(kind(c)).or_default() += 1;
            }
            let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let n = changes.len();
            format!("{n} change{} ({})", if n == 1 { "" } else { "s" }, list.join(", "))
        }
        Body::Accept { .. } => "the partner's accept of the handshake, with its certificate".into(),
        Body::Rekey { .. } => "the sender's new certificate (a key rotation)".into(),
        Body::Ack => "an acknowledgement only".into(),
        Body::Resend { from, to } => format!("a request to send messages {from} to {to} again"),
        Body::Refused { reason } => format!("the refusal of this side's accept: {reason}"),
        Body::Chunk { index, total, .. } => format!("piece {} of {total} of a large attachment", index + 1),
    }
}

fn kind(c: &WireChange) -> &str {
    match c {
        WireChange::Known(c) => match c {
            Change::IssueCreated { .. } => "issue_created",
            Change::IssueUpdated { .. } => "issue_updated",
            Change::CommentAdded { .. } => "comment_added",
            Change::CommentEdited { .. } => "comment_edited",
            Change::CommentDeleted { .. } => "comment_deleted",
            Change::AttachmentAdded { .. } => "attachment_added",
            Change::AttachmentDeleted { .. } => "attachment_deleted",
            Change::WorklogAdded { .. } => "worklog_added",
            Change::WorklogEdited { .. } => "worklog_edited",
            Change::WorklogDeleted { .. } => "worklog_deleted",
            Change::Paired { .. } => "paired",
            Change::IssueState { .. } => "issue_state",
            Change::ResyncRequest { .. } => "resync_request",
            Change::FieldOwners { .. } => "field_owners",
            Change::Verify(_) => "verify",
            Change::Part { .. } => "part",
        },
        WireChange::Unknown(v) => v["type"].as_str().unwrap_or("unknown"),
    }
}

/// The envelope JSON in a decrypted message of either form: bare JSON, or
/// the MIME entity [`wrap`] writes.
pub fn unwrap(plain: &[u8]) -> Result<&[u8], String> {
    let start = plain.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(plain.len());
    if plain.get(start) == Some(&b'{') {
        return Ok(plain);
    }
    let (head, body) = split_head(plain).ok_or("malformed message: neither JSON nor a MIME entity")?;
    let ctype = header(head, "content-type").ok_or("malformed message: the MIME entity has no Content-Type")?;
    let boundary = param(&ctype, "boundary")
        .filter(|_| ctype.to_ascii_lowercase().starts_with("multipart/mixed"))
        .ok_or_else(|| format!("malformed message: a MIME entity of type {ctype}, not multipart/mixed"))?;
    let json = parts(plain, plain.len() - body.len(), &boundary)
        .ok_or("malformed message: the MIME entity's parts are not closed")?
        .into_iter()
        .find_map(|(from, to)| {
            let (phead, _) = split_head(&plain[from..to])?;
            let t = header(phead, "content-type")?.to_ascii_lowercase();
            t.starts_with("application/json").then(|| (phead.to_string(), from + phead.len() + 4, to))
        });
    let Some((phead, from, to)) = json else {
        return Err("malformed message: the MIME entity has no application/json part".into());
    };
    let cte = header(&phead, "content-transfer-encoding").unwrap_or_else(|| "7bit".into()).to_ascii_lowercase();
    if !["binary", "8bit", "7bit"].contains(&cte.as_str()) {
        return Err(format!("malformed message: the JSON part has the unsupported encoding {cte}"));
    }
    Ok(&plain[from..to])
}

/// The byte ranges of the parts of a multipart body starting at `start`
/// (each from after its delimiter line to before the next delimiter's CRLF);
/// `None` if the closing delimiter is missing.
fn parts(data: &[u8], start: usize, boundary: &str) -> Option<Vec<(usize, usize)>> {
    let (open, delimiter) = (format!("--{boundary}"), format!("\r\n--{boundary}"));
    let body = &data[start..];
    let mut at = if body.starts_with(open.as_bytes()) {
        start + open.len()
    } else {
        start + find(body, delimiter.as_bytes())? + delimiter.len()
    };
    let mut parts = Vec::new();
    while !data[at..].starts_with(b"--") {
        let from = at + find(&data[at..], b"\r\n")? + 2;
        let to = from + find(&data[from..], delimiter.as_bytes())?;
        parts.push((from, to));
        at = to + delimiter.len();
    }
    Some(parts)
}

fn split_head(data: &[u8]) -> Option<(&str, &[u8])> {
    let end = find(data, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&data[..end]).ok()?;
    Some((head, &data[end + 4..]))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn header(head: &str, name: &str) -> Option<String> {
    head.split("\r\n").find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(body: Body, seq: u64) -> Envelope {
        Envelope { postern: 1, sync: "S-1".into(), from: "AA".into(), to: "BB".into(), seq, ack: 3, sent_at: 5, body }
    }

    #[test]
    fn the_json_part_is_found_again_byte_for_byte() {
        let e = env(Body::Resend { from: 2, to: 4 }, 0);
        let json = e.to_json();
        let m = wrap(&e, &json, "acme", "master");
        assert_eq!(unwrap(&m).unwrap(), json.as_slice());
        assert_eq!(unwrap(&json).unwrap(), json.as_slice(), "bare JSON stays readable");
        let text = String::from_utf8(m).unwrap();
        assert!(text.contains("Sequence: none (a control message)"), "{text}");
        assert!(text.contains("a request to send messages 2 to 4 again"), "{text}");
    }

    #[test]
    fn a_mail_client_sees_a_summary_and_a_json_attachment() {
        use mail_parser::{MessageParser, MimeHeaders};
        let changes = serde_json::from_str(
            r#"[{"type":"comment_deleted","issue":"A-1","comment":"7"},
                {"type":"comment_deleted","issue":"A-2","comment":"8"},
                {"type":"worklog_added","issue":"A-1","minutes":5}]"#,
        )
        .unwrap();
        let e = env(Body::Changes { changes, via: vec![] }, 42);
        let json = e.to_json();
        let raw = wrap(&e, &json, "acme", "master");
        let m = MessageParser::default().parse(&raw).expect("a MIME entity");
        let summary = m.body_text(0).expect("a text part");
        assert!(summary.contains("sync \"acme\" (id S-1)"), "{summary}");
        assert!(summary.contains("From: master, key AA"), "{summary}");
        assert!(summary.contains("Sequence: 42"), "{summary}");
        assert!(summary.contains("3 changes (2 comment_deleted, 1 worklog_added)"), "{summary}");
        assert!(!summary.contains("A-1"), "no issue content in the summary: {summary}");
        let part = m.attachment(0).expect("the JSON as an attachment");
        assert_eq!(part.content_type().map(|c| (c.ctype(), c.subtype())), Some(("application", Some("json"))));
        assert_eq!(part.attachment_name(), Some("postern-S-1-000000000042.json"));
        assert_eq!(part.contents(), json.as_slice());
    }

    #[test]
    fn a_broken_entity_is_refused_with_a_reason() {
        let e = env(Body::Ack, 0);
        let json = e.to_json();
        let good = String::from_utf8(wrap(&e, &json, "acme", "slave")).unwrap();
        let cases = [
            ("hello".to_string(), "neither JSON nor a MIME entity"),
            (good.replace("multipart/mixed", "text/plain"), "not multipart/mixed"),
            (good.replace("application/json", "text/x-json"), "no application/json part"),
            (good.replace("Transfer-Encoding: binary", "Transfer-Encoding: base64"), "unsupported encoding base64"),
            (good.trim_end().trim_end_matches("--").to_string() + "\r\n", "not closed"),
        ];
        for (text, why) in cases {
            let err = unwrap(text.as_bytes()).unwrap_err();
            assert!(err.contains(why), "{why}: {err}");
        }
    }
}
