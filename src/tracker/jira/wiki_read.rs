//! Jira wiki markup (Data Center) read as the text the wire carries: what
//! `wiki` writes reads back unchanged, and what a person wrote in Jira
//! reads as its closest form (nested lists flattened, tables as
//! `a | b` rows, `[~user]` as `@user`, images and attachment links as
//! `[attachment: name]`, colours and panels as their text).

use super::wiki_inline::inline;

/// Wiki markup as the text.
pub fn from_wiki(markup: &str) -> String {
    let markup = markup.replace("\r\n", "\n");
    chunks(&markup).iter().map(|c| chunk(c)).collect::<Vec<_>>().join("\n\n")
}

/// What blank lines separate, a code, noformat or quote section kept whole.
fn chunks(markup: &str) -> Vec<&str> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let (mut open, mut start) = (None, 0);
    for (at, _) in markup.match_indices("\n\n").chain(std::iter::once((markup.len(), ""))) {
        match out.last_mut() {
            Some(last) if open.is_some() => last.1 = at,
            _ => out.push((start, at)),
        }
        open = section_after(open, &markup[start..at]);
        start = at + 2;
    }
    out.into_iter().map(|(s, e)| &markup[s..e]).collect()
}

/// The section (its closing tag) still open after `text`.
fn section_after(mut open: Option<&'static str>, text: &str) -> Option<&'static str> {
    for (at, _) in text.match_indices('{') {
        let escaped = text[..at].ends_with(['\\', '{']);
        let tail = &text[at..];
        open = match open {
            Some(close) if tail.starts_with(close) => None,
            Some(close) => Some(close),
            None if escaped => None,
            None => opening(tail).map(|(close, _)| close),
        };
    }
    open
}

/// A code, noformat or quote tag at the start of `s`: its closing tag and
/// the language, if any.
fn opening(s: &str) -> Option<(&'static str, &str)> {
    let end = s.find('}').filter(|_| s.starts_with('{'))?;
    let tag = &s[1..end];
    let (name, params) = tag.split_once(':').unwrap_or((tag, ""));
    let lang = params
        .split('|')
        .find(|p| !p.contains('='))
        .or_else(|| params.split('|').find_map(|p| p.strip_prefix("language=")));
    // A language wiki markup could write again, or none.
    let lang = lang.filter(|l| l.chars().all(|c| c.is_ascii_alphanumeric() || "+#._-".contains(c)));
    match name {
        "code" => Some(("{code}", lang.unwrap_or_default())),
        "noformat" => Some(("{noformat}", "")),
        "quote" => Some(("{quote}", "")),
        _ => None,
    }
}

/// One chunk: runs of lines of one kind, each a block of the text.
fn chunk(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut runs: Vec<(Kind, Vec<String>)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some((close, lang)) = opening(line) {
            let from = &text[offset(text, &lines, i) + line.find('}').unwrap_or(0) + 1..];
            if let Some(end) = from.find(close) {
                let body = &from[..end];
                let used = body.matches('\n').count() + 1;
                let rest = &from[end + close.len()..];
                let line_rest = rest.split('\n').next().unwrap_or_default();
                runs.push(section(close, lang, body));
                if !line_rest.is_empty() {
                    runs.push((Kind::Para, vec![inline(line_rest)]));
                }
                i += used;
                continue;
            }
        }
        let (kind, converted) = classify(line);
        match runs.last_mut() {
            Some((k, lines)) if *k == kind && !matches!(kind, Kind::Alone | Kind::Dropped) => lines.push(converted),
            _ => runs.push((kind, vec![converted])),
        }
        i += 1;
    }
    renumber(&mut runs);
    let blocks: Vec<String> =
        runs.into_iter().filter(|(k, _)| *k != Kind::Dropped).map(|(_, l)| l.join("\n")).collect();
    blocks.join("\n\n")
}

fn offset(text: &str, lines: &[&str], i: usize) -> usize {
    let at: usize = lines[..i].iter().map(|l| l.len() + 1).sum();
    at.min(text.len())
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Para,
    Bullets,
    Numbered,
    Quote,
    Table,
    /// A block of its own: heading, rule, code.
    Alone,
    /// Panel and colour tags standing on their own line: they end a run.
    Dropped,
}

/// A code, noformat or quote section.
fn section(close: &str, lang: &str, body: &str) -> (Kind, Vec<String>) {
    if close == "{quote}" {
        let body = body.strip_prefix('\n').unwrap_or(body);
        let body = body.strip_suffix('\n').unwrap_or(body);
        return (Kind::Quote, body.split('\n').map(|l| format!("> {}", inline(l))).collect());
    }
    let body = match body {
        "\n" | "" => None,
        b => {
            let b = b.strip_prefix('\n').unwrap_or(b);
            Some(b.strip_suffix('\n').unwrap_or(b))
        }
    };
    let fence = match body {
        None => format!("```{lang}\n```"),
        Some(b) => format!("```{lang}\n{b}\n```"),
    };
    (Kind::Alone, vec![fence])
}

/// A line's kind, as Jira's renderer finds it (after leading white
/// space): a list item (a run of `*`, `#`, `-` then a space; not `--`), a
/// heading (`h1.`…`h6.`), a quote (`bq.`), a rule (4 or 5 dashes), a
/// table row (`|`). What follows the marker's one space is kept as it is.
fn classify(line: &str) -> (Kind, String) {
    let body = line.trim_start();
    let symbols = body.chars().take_while(|c| matches!(c, '*' | '#' | '-')).count();
    if (4..=5).contains(&body.trim_end().len()) && body.trim_end().chars().all(|c| c == '-') {
        return (Kind::Alone, "---".into());
    }
    let item = body[symbols..].strip_prefix([' ', '\t']);
    if let Some(item) = item.filter(|_| symbols > 0 && !body.starts_with("--")) {
        let item = inline(item);
        return match body[..symbols].ends_with('#') {
            true => (Kind::Numbered, item),
            false => (Kind::Bullets, format!("- {item}")),
        };
    }
    let b = body.as_bytes();
    if b.len() >= 3 && b[0] == b'h' && (b'1'..=b'6').contains(&b[1]) && b[2] == b'.' {
        let text = body[3..].strip_prefix(' ').unwrap_or(&body[3..]);
        return (Kind::Alone, format!("{} {}", "#".repeat(usize::from(b[1] - b'0')), inline(text)));
    }
    if let Some(quoted) = body.strip_prefix("bq.") {
        return (Kind::Quote, format!("> {}", inline(quoted.strip_prefix(' ').unwrap_or(quoted))));
    }
    if body.starts_with('|') {
        let cells: Vec<String> = cells(body).into_iter().map(|c| inline(c.trim())).filter(|c| !c.is_empty()).collect();
        return (Kind::Table, cells.join(" | "));
    }
    let tag = body.starts_with('{') && body.ends_with('}') && !body[1..].contains('{');
    let name = body.trim_matches(['{', '}']).split([':', '}']).next().unwrap_or_default();
    if tag && matches!(name, "panel" | "color" | "anchor" | "section" | "column") {
        return (Kind::Dropped, String::new());
    }
    (Kind::Para, inline(line))
}

/// A table row's cells (`|` and `||` separated, escapes kept).
fn cells(row: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut from, mut escaped) = (0, false);
    for (at, c) in row.char_indices() {
        match c {
            '\\' => escaped = !escaped,
            '|' if !escaped => {
                out.push(&row[from..at]);
                from = at + 1;
            }
            _ => escaped = false,
        }
    }
    out.push(&row[from..]);
    out
}

/// Numbered runs get their numbers, from one.
fn renumber(runs: &mut [(Kind, Vec<String>)]) {
    for (_, lines) in runs.iter_mut().filter(|(k, _)| *k == Kind::Numbered) {
        for (n, line) in lines.iter_mut().enumerate() {
            *line = format!("{}. {line}", n + 1);
        }
    }
}

#[cfg(test)]
#[path = "wiki_tests.rs"]
mod tests;
