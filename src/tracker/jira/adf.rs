//! Atlassian Document Format (Jira Cloud's descriptions and comments) to
//! and from the text the wire carries, a small Markdown:
//!
//! | text | ADF |
//! |---|---|
//! | paragraphs (blank-line separated), line breaks | `paragraph`, `hardBreak` |
//! | `# ` … `###### ` | `heading` (`level`) |
//! | `- ` lines, `1. ` lines | `bulletList`, `orderedList` of `listItem` |
//! | `> ` lines | `blockquote` |
//! | a fence of three backticks, with a language | `codeBlock` (`language`) |
//! | `---` | `rule` |
//! | `` `x` ``, `**x**`, `*x*`, `[x](url)`, a bare `https://…` | marks `code`, `strong`, `em`, `link` |
//! | `@Name` from a mention | `mention` (read only: its `text`) |
//!
//! Text in this form crosses to ADF and back unchanged. ADF nodes without
//! a form here (tables, panels, media, emoji, dates, cards…) are read as
//! their text, so nothing of what a person wrote is dropped.

use serde_json::{json, Value};

use super::markdown::{blocks, spans, Block, Span};

/// The text as an ADF document.
pub fn to_adf(text: &str) -> Value {
    let text = text.replace("\r\n", "\n");
    let content: Vec<Value> = blocks(&text).into_iter().map(block).collect();
    json!({"type": "doc", "version": 1, "content": content})
}

fn block(b: Block) -> Value {
    match b {
        Block::Code(lang, lines) => {
            let mut node = json!({"type": "codeBlock", "content": []});
            // ADF has no empty text node: a block of one empty line is
            // written (and reads back) as an empty block.
            let code = lines.join("\n");
            if !code.is_empty() {
                node["content"] = json!([{"type": "text", "text": code}]);
            }
            if !lang.is_empty() {
                node["attrs"] = json!({ "language": lang });
            }
            node
        }
        Block::Rule => json!({"type": "rule"}),
        Block::Heading(level, line) => json!({"type": "heading", "attrs": {"level": level}, "content": inline(line)}),
        Block::Bullets(items) => list("bulletList", items, json!({})),
        Block::Numbered(first, items) => list("orderedList", items, json!({ "order": first })),
        Block::Quote(lines) => json!({"type": "blockquote", "content": [paragraph(&lines)]}),
        Block::Para(lines) => paragraph(&lines),
    }
}

fn list(kind: &str, items: Vec<&str>, attrs: Value) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|t| json!({"type": "listItem", "content": [{"type": "paragraph", "content": inline(t)}]}))
        .collect();
    let mut node = json!({"type": kind, "content": items});
    if attrs.get("order").is_some_and(|o| o != 1) {
        node["attrs"] = attrs;
    }
    node
}

fn paragraph(lines: &[&str]) -> Value {
    let mut content = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if n > 0 {
            content.push(json!({"type": "hardBreak"}));
        }
        content.extend(inline(line));
    }
    json!({"type": "paragraph", "content": content})
}

/// Inline text with its marks.
fn inline(line: &str) -> Vec<Value> {
    let text = |t: &str| json!({"type": "text", "text": t});
    let marked = |t: &str, mark: Value| json!({"type": "text", "text": t, "marks": [mark]});
    let link = |t: &str, href: &str| marked(t, json!({"type": "link", "attrs": {"href": href}}));
    spans(line)
        .into_iter()
        .map(|s| match s {
            Span::Plain(t) => text(t),
            Span::Code(t) => marked(t, json!({"type": "code"})),
            Span::Strong(t) | Span::Em(t) => {
                let kind = if matches!(s, Span::Strong(_)) { "strong" } else { "em" };
                // A whole link made bold: the link's mark first, so it
                // reads back as written.
                match super::markdown::whole_link(t) {
                    Some((t, href)) => json!({"type": "text", "text": t,
                        "marks": [{"type": "link", "attrs": {"href": href}}, {"type": kind}]}),
                    None => marked(t, json!({ "type": kind })),
                }
            }
            Span::Link(t, href) => link(t, href),
            Span::Url(url) => link(url, url),
        })
        .collect()
}

/// An ADF document's text.
pub fn from_adf(doc: &Value) -> String {
    let blocks: Vec<String> = doc["content"].as_array().into_iter().flatten().map(block_text).collect();
    blocks.join("\n\n")
}

fn children(node: &Value) -> impl Iterator<Item = &Value> {
    node["content"].as_array().into_iter().flatten()
}

fn block_text(node: &Value) -> String {
    match node["type"].as_str().unwrap_or_default() {
        "paragraph" => inline_text(node),
        "heading" => {
            let level = node["attrs"]["level"].as_u64().unwrap_or(1).clamp(1, 6) as usize;
            format!("{} {}", "#".repeat(level), inline_text(node))
        }
        "bulletList" => children(node).map(|i| format!("- {}", item_text(i))).collect::<Vec<_>>().join("\n"),
        "orderedList" => {
            let first = node["attrs"]["order"].as_u64().unwrap_or(1);
            children(node)
                .enumerate()
                .map(|(n, i)| format!("{}. {}", first + n as u64, item_text(i)))
                .collect::<Vec<_>>()
                .join("\n")
        }
        "blockquote" => {
            let inner: Vec<String> = children(node).map(block_text).collect();
            inner.join("\n").split('\n').map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n")
        }
        "codeBlock" => {
            let lang = node["attrs"]["language"].as_str().unwrap_or_default();
            match children(node).next() {
                Some(_) => format!("```{lang}\n{}\n```", children(node).map(inline_node).collect::<String>()),
                None => format!("```{lang}\n```"),
            }
        }
        "rule" => "---".into(),
        "table" => children(node)
            .map(|row| {
                children(row)
                    .map(|cell| children(cell).map(block_text).collect::<Vec<_>>().join(" "))
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect::<Vec<_>>()
            .join("\n"),
        "mediaSingle" | "mediaGroup" | "media" => {
            let media = if node["type"] == "media" { node } else { &node["content"][0] };
            let name = media["attrs"]["alt"].as_str().or(media["attrs"]["id"].as_str()).unwrap_or("file");
            format!("[attachment: {name}]")
        }
        _ => {
            // panel, expand, nested lists, …: their blocks, or their inline text.
            let blocks: Vec<String> =
                children(node).map(|c| if is_inline(c) { inline_node(c) } else { block_text(c) }).collect();
            blocks.join(if children(node).all(is_inline) { "" } else { "\n" })
        }
    }
}

/// A list item's text: its paragraphs, and nested lists on their own lines.
fn item_text(item: &Value) -> String {
    children(item).map(block_text).collect::<Vec<_>>().join("\n")
}

fn is_inline(node: &Value) -> bool {
    matches!(
        node["type"].as_str().unwrap_or_default(),
        "text" | "hardBreak" | "mention" | "emoji" | "status" | "date" | "inlineCard" | "placeholder"
    )
}

fn inline_text(node: &Value) -> String {
    children(node).map(inline_node).collect()
}

fn inline_node(node: &Value) -> String {
    let attrs = &node["attrs"];
    match node["type"].as_str().unwrap_or_default() {
        "text" => marked(node),
        "hardBreak" => "\n".into(),
        "mention" => format!("@{}", attrs["text"].as_str().unwrap_or_default().trim_start_matches('@')),
        "emoji" => attrs["text"].as_str().or(attrs["shortName"].as_str()).unwrap_or_default().to_string(),
        "status" => attrs["text"].as_str().unwrap_or_default().to_string(),
        "inlineCard" => attrs["url"].as_str().unwrap_or_default().to_string(),
        "date" => attrs["timestamp"]
            .as_str()
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        _ => inline_text(node),
    }
}

/// A text node with its marks as the text writes them.
fn marked(node: &Value) -> String {
    let mut text = node["text"].as_str().unwrap_or_default().to_string();
    for mark in node["marks"].as_array().into_iter().flatten() {
        text = match mark["type"].as_str().unwrap_or_default() {
            "code" => format!("`{text}`"),
            "strong" => format!("**{text}**"),
            "em" => format!("*{text}*"),
            "link" => match mark["attrs"]["href"].as_str() {
                Some(href) if href == text => text,
                Some(href) => format!("[{text}]({href})"),
                None => text,
            },
            _ => text,
        };
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const RICH: &str = "# Crash on login\n\nSteps, with **care**:\n\n1. open `app`\n2. see [the log](https://example.com/log) and https://example.com/x\n\n- one\n- *two*\n\n> quoted\n> twice\n\n```rust\nfn main() {\n\n    let a = 1;\n}\n```\n\n---\n\nEnd\nof it";

    #[test]
    fn a_link_made_bold_is_a_link_and_reads_back_as_written() {
        for t in ["**[l](https://e.com)**", "*[l](https://e.com)*"] {
            let doc = to_adf(t);
            let node = &doc["content"][0]["content"][0];
            assert_eq!(node["marks"][0]["attrs"]["href"], "https://e.com", "{doc}");
            assert_eq!(node["text"], "l");
            assert_eq!(from_adf(&doc), t);
        }
    }

    #[test]
    fn the_text_crosses_to_adf_and_back_unchanged() {
        for t in [
            "",
            "one line",
            "First line\nsecond line",
            "From the partner.\n\nTwo paragraphs.",
            "a\n\n\nb",
            "a*b and 2 * 3 * 4",
            "unclosed `tick and [bracket",
            "ünïcode — ok",
            "```\n```",
            RICH,
        ] {
            let doc = to_adf(t);
            assert_eq!(from_adf(&doc), t, "{doc}");
        }
    }

    #[test]
    fn each_form_is_its_adf_node() {
        let doc = to_adf(RICH);
        let kinds: Vec<&str> = doc["content"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["heading", "paragraph", "orderedList", "bulletList", "blockquote", "codeBlock", "rule", "paragraph"]
        );
        assert_eq!(doc["content"][5]["attrs"]["language"], "rust");
        let link = &doc["content"][2]["content"][1]["content"][0]["content"][1];
        assert_eq!(
            (link["text"].as_str(), link["marks"][0]["attrs"]["href"].as_str()),
            (Some("the log"), Some("https://example.com/log"))
        );
        assert_eq!(doc["content"][1]["content"][1]["marks"][0]["type"], "strong");
    }

    #[test]
    fn nodes_without_a_text_form_are_read_as_their_text() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Hi "},
                {"type": "mention", "attrs": {"id": "5b10ac8d", "text": "@Alice Admin"}},
                {"type": "text", "text": " "},
                {"type": "emoji", "attrs": {"shortName": ":smile:", "text": "😄"}},
                {"type": "inlineCard", "attrs": {"url": "https://example.com/card"}}]},
            {"type": "panel", "attrs": {"panelType": "info"}, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Note"}]}]},
            {"type": "table", "content": [{"type": "tableRow", "content": [
                {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}]},
                {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "b"}]}]}]}]},
            {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "abc", "type": "file", "alt": "shot.png"}}]}
        ]});
        assert_eq!(
            from_adf(&doc),
            "Hi @Alice Admin 😄https://example.com/card\n\nNote\n\na | b\n\n[attachment: shot.png]"
        );
    }

    #[test]
    fn no_empty_text_node_and_no_unsafe_link_is_written() {
        // Atlassian's schema forbids a text node without text.
        let doc = to_adf("```\n\n```");
        assert_eq!(doc["content"][0], json!({"type": "codeBlock", "content": []}));
        let doc = to_adf("[x](javascript:alert(1)) [y](mailto:a@b.c)");
        let marks: Vec<&Value> = doc["content"][0]["content"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["marks"].as_array())
            .flatten()
            .collect();
        assert_eq!(marks, [&json!({"type": "link", "attrs": {"href": "mailto:a@b.c"}})]);
    }
}
