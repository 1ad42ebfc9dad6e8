//! HTTP for the remote backends: one client set-up (rustls, an optional
//! company CA, timeouts), the settings checks that need no server, and a
//! failure to reach the server as "unavailable" with a hint an admin can
//! act on.

use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::tracker::TrackerError;

/// A client that returns every status as an answer, trusting `ca_file`
/// (PEM) instead of the public roots when given.
/// How long an answer may take by default (seconds).
pub fn default_timeout() -> u64 {
    60
}

pub fn agent(ca_file: Option<&str>, timeout: Duration) -> Result<ureq::Agent> {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(file) = ca_file {
        let pem = std::fs::read(file).with_context(|| format!("cannot read the CA file {file}"))?;
        let certs: Vec<_> = ureq::tls::parse_pem(&pem)
            .filter_map(|i| match i {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            bail!("the CA file {file} holds no PEM certificate");
        }
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .timeout_connect(Some(Duration::from_secs(10)))
        .user_agent(concat!("postern/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls.build())
        .build()
        .into())
}

/// The largest answer read (a search page of issues with their history
/// and comments stays far below it). A larger one is an error, never a
/// shorter answer.
pub const MAX_ANSWER: u64 = 64 << 20;

/// An answer's body as text, and as JSON when it is some. A body that
/// cannot be read whole (the connection cut it, it is over
/// [`MAX_ANSWER`]), or a success whose body is not the JSON it should be
/// (cut short), is the tracker being unavailable: never an empty answer,
/// which would read as "no issues" or "gone".
pub fn read_body(
    resp: &mut ureq::http::Response<ureq::Body>,
    method: &str,
    path: &str,
) -> Result<serde_json::Value, TrackerError> {
    let status = resp.status().as_u16();
    let text =
        resp.body_mut().with_config().limit(MAX_ANSWER).read_to_string().map_err(|e| TrackerError::Unavailable {
            reason: format!("{method} {path}: the answer ({status}) could not be read whole: {e}"),
            retry_after: None,
        })?;
    match serde_json::from_str(&text) {
        Ok(v) => Ok(v),
        Err(_) if text.trim().is_empty() || !(200..300).contains(&status) => Ok(serde_json::Value::Null),
        Err(e) => Err(TrackerError::Unavailable {
            reason: format!("{method} {path}: the answer ({status}, {} bytes) is not whole JSON: {e}", text.len()),
            retry_after: None,
        }),
    }
}

/// What can be checked without the server: the URL's scheme and host,
/// the CA file.
pub fn check(tracker: &str, url: &str, ca_file: Option<&str>) -> Result<()> {
    let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) else {
        bail!("the {tracker} URL {url:?} must start with https:// (or http:// on a trusted network)");
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        bail!("the {tracker} URL {url:?} names no host (e.g. https://{}.example.com)", tracker.to_lowercase());
    }
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '\\')) {
        bail!("the {tracker} URL {url:?} holds {c:?}, which a URL cannot (spaces are written %20)");
    }
    if let Some(f) = ca_file.filter(|f| !std::path::Path::new(f).is_file()) {
        bail!("the CA file {f} does not exist");
    }
    Ok(())
}

/// A request's path without its query, for messages.
pub fn short(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The server could not be reached: "unavailable", with a hint
/// (`ca_flag`: the flag that gives a CA, e.g. `--jira-ca-file`).
pub fn unreachable(method: &str, path: &str, e: &ureq::Error, ca_flag: &str) -> TrackerError {
    let what = match e {
        ureq::Error::Timeout(_) => "no answer in time".to_string(),
        ureq::Error::HostNotFound => "the host name is not known".to_string(),
        ureq::Error::ConnectionFailed => "the connection was refused".to_string(),
        ureq::Error::Io(io) => format!("{io}"),
        other => format!("{other}"),
    };
    let hint = if what.contains("certificate") || what.contains("UnknownIssuer") {
        format!(" (the server's certificate is not trusted: give its CA with {ca_flag})")
    } else if what.contains("InvalidContentType") || what.contains("corrupt message") {
        " (no TLS there: does the server speak plain http:// on that port?)".to_string()
    } else {
        String::new()
    };
    TrackerError::Unavailable {
        reason: format!("{method} {}: {UNREACHABLE}: {what}{hint}", short(path)),
        retry_after: None,
    }
}

/// How the reason of a tracker that could not be reached at all (no
/// answer of any kind) says so; the daemon watches such a tracker for
/// answering again.
pub const UNREACHABLE: &str = "no answer from the server";

/// A tracker's reasons `parts` as one line, with a proxy's problem report
/// (RFC 7807: e.g. Prism's check against the vendor's description) in
/// `body` after them; none: "no reason given".
pub fn one_line(mut parts: Vec<String>, body: &serde_json::Value) -> String {
    if let Some(detail) = body["detail"].as_str().or(body["title"].as_str()) {
        parts.push(detail.to_string());
    }
    for v in body["validation"].as_array().into_iter().flatten() {
        let at: Vec<String> = v["location"].as_array().into_iter().flatten().map(|l| l.to_string()).collect();
        parts.push(format!("{} at {}", v["message"].as_str().unwrap_or_default(), at.join(".")));
    }
    if parts.is_empty() {
        "no reason given".into()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded_and_urls_checked() {
        assert_eq!(super::encode("a b/ü.txt"), "a%20b%2F%C3%BC.txt");
        assert!(super::check("Jira", "ftp://jira.example.com", None).unwrap_err().to_string().contains("https://"));
        assert!(super::check("Jira", "https://jira.example.com", Some("/no/such/ca.pem")).is_err());
        super::check("Jira", "https://jira.example.com/", None).unwrap();
        super::check("Redmine", "http://10.0.0.5:3000/redmine", None).unwrap();
        let err = |u: &str| super::check("Jira", u, None).unwrap_err().to_string();
        assert!(err("http://").contains("names no host"), "{}", err("http://"));
        assert!(err("https://:8080/x").contains("names no host"));
        assert!(err("https://exa mple.com").contains("holds ' '"), "{}", err("https://exa mple.com"));
    }

    /// Serves `raw` once on a loopback port (then closes), and reads it
    /// with [`super::read_body`].
    fn read(raw: &'static str) -> Result<serde_json::Value, crate::tracker::TrackerError> {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            s.write_all(raw.as_bytes()).unwrap();
        });
        let agent = super::agent(None, std::time::Duration::from_secs(5)).unwrap();
        let mut resp = agent.get(&format!("http://127.0.0.1:{port}/issues.json")).call().unwrap();
        let out = super::read_body(&mut resp, "GET", "/issues.json");
        server.join().unwrap();
        out
    }

    fn unavailable(r: Result<serde_json::Value, crate::tracker::TrackerError>) -> String {
        match r {
            Err(crate::tracker::TrackerError::Unavailable { reason, .. }) => reason,
            other => panic!("not unavailable: {other:?}"),
        }
    }

    #[test]
    fn a_cut_or_unreadable_body_is_unavailable_never_an_empty_answer() {
        // Cut by the connection: 100 bytes promised, 14 sent.
        let cut = read("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"issues\": [{");
        assert!(unavailable(cut).contains("could not be read whole"));
        // Whole as HTTP, cut as JSON (a proxy that rewrote the length).
        let short = read("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"issues\": [");
        assert!(unavailable(short).contains("is not whole JSON"));
        // What is fine stays fine: JSON, an empty success, an error page.
        let json = read("HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n{\"issues\": []}");
        assert_eq!(json.unwrap(), serde_json::json!({"issues": []}));
        assert_eq!(read("HTTP/1.1 204 No Content\r\n\r\n").unwrap(), serde_json::Value::Null);
        let page = read("HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\n\r\n<h1>404</h1>");
        assert_eq!(page.unwrap(), serde_json::Value::Null);
    }
}
