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

/// The text as an ADF document: blocks are what blank lines separate
/// (a code fence keeps its blank lines).
pub fn to_adf(text: &str) -> Value {
    let text = text.replace("\r\n", "\n");
    let mut blocks: Vec<String> = Vec::new();
    let mut open_fence = false;
    for chunk in text.split("\n\n") {
        match blocks.last_mut() {
            Some(last) if open_fence => {
                last.push_str("\n\n");
                last.push_str(chunk);
            }
            _ => blocks.push(chunk.to_string()),
        }
        let fences = chunk.split('\n').filter(|l| l.starts_with("```")).count();
        open_fence ^= fences % 2 == 1;
    }
    let content: Vec<Value> = if text.is_empty() {
        Vec::new()
    } else {
        blocks.iter().map(|b| block(&b.split('\n').collect::<Vec<_>>())).collect()
    };
    json!({"type": "doc", "version": 1, "content": content})
}

fn block(lines: &[&str]) -> Value {
    let all = |p: &dyn Fn(&str) -> bool| !lines.is_empty() && lines.iter().all(|l| p(l));
    if lines.is_empty() {
        return json!({"type": "paragraph", "content": []});
    }
    let n = lines.len();
    if n >= 2 && lines[0].starts_with("```") && lines[n - 1] == "```" {
        let code = lines[1..n - 1].join("\n");
        let mut node = json!({"type": "codeBlock", "content": []});
        if !code.is_empty() || n > 2 {
            node["content"] = json!([{"type": "text", "text": code}]);
        }
        if lines[0].len() > 3 {
            node["attrs"] = json!({ "language": &lines[0][3..] });
        }
        return node;
    }
    if lines.len() == 1 && lines[0] == "---" {
        return json!({"type": "rule"});
    }
    if lines.len() == 1 {
        let level = lines[0].chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&level) && lines[0][level..].starts_with(' ') {
            return json!({"type": "heading", "attrs": {"level": level}, "content": inline(&lines[0][level + 1..])});
        }
    }
    if all(&|l| l.starts_with("- ")) {
        return list("bulletList", lines.iter().map(|l| &l[2..]));
    }
    if all(&|l| ordered(l).is_some()) {
        return list("orderedList", lines.iter().map(|l| ordered(l).unwrap_or_default()));
    }
    if all(&|l| l.starts_with("> ")) {
        let inner: Vec<&str> = lines.iter().map(|l| &l[2..]).collect();
        return json!({"type": "blockquote", "content": [paragraph(&inner)]});
    }
    paragraph(lines)
}

/// `N. rest`: the rest.
fn ordered(line: &str) -> Option<&str> {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    (digits > 0).then(|| line[digits..].strip_prefix(". ")).flatten()
}

fn list<'a>(kind: &str, items: impl Iterator<Item = &'a str>) -> Value {
    let items: Vec<Value> =
        items.map(|t| json!({"type": "listItem", "content": [{"type": "paragraph", "content": inline(t)}]})).collect();
    json!({"type": kind, "content": items})
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
fn inline(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    let flush = |plain: &mut String, out: &mut Vec<Value>| {
        if !plain.is_empty() {
            out.push(json!({"type": "text", "text": std::mem::take(plain)}));
        }
    };
    while let Some(c) = rest.chars().next() {
        let marked = match c {
            '`' => delimited(rest, "`")
                .map(|(inner, n)| (json!({"type": "text", "text": inner, "marks": [{"type": "code"}]}), n)),
            '*' if rest.starts_with("**") => delimited(rest, "**").map(|(inner, n)| (marked_text(inner, "strong"), n)),
            '*' => delimited(rest, "*").map(|(inner, n)| (marked_text(inner, "em"), n)),
            '[' => link(rest),
            'h' if rest.starts_with("https://") || rest.starts_with("http://") => {
                let n = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let url = &rest[..n];
                Some((json!({"type": "text", "text": url, "marks": [{"type": "link", "attrs": {"href": url}}]}), n))
            }
            _ => None,
        };
        match marked {
            Some((node, n)) => {
                flush(&mut plain, &mut out);
                out.push(node);
                rest = &rest[n..];
            }
            None => {
                plain.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    flush(&mut plain, &mut out);
    out
}

/// `d inner d` at the start of `s`, `inner` not empty and not starting
/// or ending with a space: `(inner, bytes taken)`.
fn delimited<'a>(s: &'a str, d: &str) -> Option<(&'a str, usize)> {
    let body = s.strip_prefix(d)?;
    let end = body.find(d)?;
    let inner = &body[..end];
    let ok = !inner.is_empty() && !inner.starts_with(' ') && !inner.ends_with(' ') && !inner.contains('`');
    ok.then_some((inner, 2 * d.len() + end))
}

fn marked_text(inner: &str, mark: &str) -> Value {
    json!({"type": "text", "text": inner, "marks": [{"type": mark}]})
}

/// `[text](url)` at the start of `s`.
fn link(s: &str) -> Option<(Value, usize)> {
    let close = s.find("](")?;
    let text = &s[1..close];
    let end = s[close + 2..].find(')')? + close + 2;
    let url = &s[close + 2..end];
    let ok = !text.is_empty() && !text.contains(['[', ']']) && !url.is_empty() && !url.contains(char::is_whitespace);
    ok.then(|| (json!({"type": "text", "text": text, "marks": [{"type": "link", "attrs": {"href": url}}]}), end + 1))
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
            inner.join("\n").lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n")
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
}
