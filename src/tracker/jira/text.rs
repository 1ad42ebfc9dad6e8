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

/// Paragraphs (blank-line separated) of lines (hard breaks).
pub fn to_adf(text: &str) -> Value {
    let text = text.replace("\r\n", "\n");
    let mut content = Vec::new();
    for para in text.split("\n\n") {
        let mut inline = Vec::new();
        for (i, line) in para.split('\n').enumerate() {
            if i > 0 {
                inline.push(json!({"type": "hardBreak"}));
            }
            if !line.is_empty() {
                inline.push(json!({"type": "text", "text": line}));
            }
        }
        content.push(json!({"type": "paragraph", "content": inline}));
    }
    if text.is_empty() {
        content.clear();
    }
    json!({"type": "doc", "version": 1, "content": content})
}

/// The text of an ADF document: blocks separated by a blank line.
pub fn from_adf(doc: &Value) -> String {
    let blocks: Vec<String> = doc["content"].as_array().into_iter().flatten().map(inline_text).collect();
    blocks.join("\n\n")
}

fn inline_text(node: &Value) -> String {
    match node["type"].as_str().unwrap_or_default() {
        "text" => node["text"].as_str().unwrap_or_default().to_string(),
        "hardBreak" => "\n".into(),
        "mention" | "emoji" | "status" => node["attrs"]["text"].as_str().unwrap_or_default().to_string(),
        "inlineCard" => node["attrs"]["url"].as_str().unwrap_or_default().to_string(),
        "bulletList" | "orderedList" => {
            node["content"].as_array().into_iter().flatten().map(inline_text).collect::<Vec<_>>().join("\n")
        }
        _ => node["content"].as_array().into_iter().flatten().map(inline_text).collect(),
    }
}

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
