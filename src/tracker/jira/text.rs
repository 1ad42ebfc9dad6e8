//! Descriptions, comments and worklog comments between the text the wire
//! carries and each dialect: Atlassian Document Format (Cloud, REST v3) or
//! wiki markup (Data Center, REST v2).

use serde_json::{json, Value};

use super::settings::Flavour;

/// A description or comment as Jira takes it.
pub fn to_jira(flavour: Flavour, text: &str) -> Value {
    match flavour {
        Flavour::Cloud => to_adf(text),
        Flavour::DataCenter => json!(to_wiki(text)),
    }
}

/// Jira's description or comment (ADF, wiki markup, or none) as the text.
pub fn from_jira(flavour: Flavour, v: &Value) -> String {
    match (flavour, v) {
        (_, Value::Null) => String::new(),
        (Flavour::DataCenter, Value::String(s)) => from_wiki(s),
        (Flavour::Cloud, Value::String(s)) => s.replace("\r\n", "\n"),
        (_, doc) => from_adf(doc),
    }
}

/// A worklog's comment as Jira takes it: ADF on Cloud; on Data Center
/// plain text, which Jira shows as written.
pub fn worklog_to_jira(flavour: Flavour, text: &str) -> Value {
    match flavour {
        Flavour::Cloud => to_adf(text),
        Flavour::DataCenter => json!(text),
    }
}

/// A worklog's comment as the text.
pub fn worklog_from_jira(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.replace("\r\n", "\n"),
        doc => from_adf(doc),
    }
}

pub use super::adf::{from_adf, to_adf};
use super::wiki::to_wiki;
use super::wiki_read::from_wiki;

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
            assert_eq!(to_jira(Flavour::DataCenter, t), json!(t), "plain text is its own wiki markup");
            assert_eq!(worklog_from_jira(&worklog_to_jira(Flavour::DataCenter, t)), t);
        }
        assert_eq!(to_adf(""), json!({"type": "doc", "version": 1, "content": []}));
    }
}

#[cfg(test)]
#[path = "text_laws.rs"]
mod text_laws;
