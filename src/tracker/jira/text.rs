//! Descriptions, comments and worklog comments between the text the wire
//! carries and each dialect: Atlassian Document Format (Cloud, REST v3) or
//! wiki markup (Data Center, REST v2).

use serde_json::{json, Value};

use super::settings::Flavour;

/// The text as Jira takes it.
pub fn to_jira(flavour: Flavour, text: &str) -> Value {
    match flavour {
        Flavour::Cloud => to_adf(text),
        Flavour::DataCenter => json!(text),
    }
}

/// Jira's text (ADF, wiki markup, or none) as plain text.
pub fn from_jira(flavour: Flavour, v: &Value) -> String {
    match (flavour, v) {
        (_, Value::Null) => String::new(),
        (_, Value::String(s)) => s.replace("\r\n", "\n"),
        (_, doc) => from_adf(doc),
    }
}

pub use super::adf::{from_adf, to_adf};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_crosses_adf_unchanged() {
        for t in ["", "one line", "First line\nsecond line", "From the partner.\n\nTwo paragraphs.", "a\n\n\nb"] {
            let doc = to_adf(t);
            assert_eq!(from_adf(&doc), t, "{doc}");
            assert_eq!(from_jira(Flavour::Cloud, &to_jira(Flavour::Cloud, t)), t);
            assert_eq!(from_jira(Flavour::DataCenter, &to_jira(Flavour::DataCenter, t)), t);
        }
        assert_eq!(to_adf(""), json!({"type": "doc", "version": 1, "content": []}));
    }
}
