//! What GitHub answers: a status, a JSON body, the next page; and its
//! reasons as one line.

use serde_json::Value;

/// An answer: its status, body (JSON when there is one) and next page.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub next: Option<String>,
}

/// GitHub's `{"message": …, "errors": [{"field", "code", "message"}]}` as
/// one line.
pub fn message_of(body: &Value) -> String {
    let mut parts: Vec<String> = body["message"].as_str().map(String::from).into_iter().collect();
    for e in body["errors"].as_array().into_iter().flatten() {
        match e.as_str() {
            Some(s) => parts.push(s.to_string()),
            None => parts.push(
                [&e["resource"], &e["field"], &e["code"], &e["message"]]
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }
    // A proxy's problem report (RFC 7807), e.g. a check against GitHub's
    // description.
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
    use super::*;

    #[test]
    fn errors_read_as_one_line() {
        let body = serde_json::json!({"message": "Validation Failed",
            "errors": [{"resource": "Issue", "field": "title", "code": "missing_field"}]});
        assert_eq!(message_of(&body), "Validation Failed; Issue title missing_field");
        assert_eq!(message_of(&Value::Null), "no reason given");
    }
}
