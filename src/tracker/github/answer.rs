//! GitHub's reasons for an answer, as one line.

use serde_json::Value;

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
    crate::tracker::remote::http::one_line(parts, body)
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
