//! The text the wire carries as Jira wiki markup (Data Center's
//! descriptions and comments), and back (`wiki_read`):
//!
//! | text | wiki markup |
//! |---|---|
//! | paragraphs, line breaks | the same (Jira shows one newline as a break) |
//! | `# ` … `###### ` | `h1. ` … `h6. ` |
//! | `- ` lines; `1. ` lines numbered from one | `* ` lines; `# ` lines |
//! | `> ` lines | `bq. ` (one line), `{quote}` … `{quote}` |
//! | a code fence, with a language | `{code:lang}` … `{code}`; `{noformat}` without (or `{code}` when it holds `{noformat}`) |
//! | `---` | `----` |
//! | `` `x` ``, `**x**`, `*x*` | `{{x}}`, `*x*`, `_x_` (`{*}x{*}` inside a word) |
//! | `[x](url)`, a bare `https://…` | `[x\|url]`, the same |
//!
//! Characters wiki markup would read as markup are escaped with a
//! backslash where they could take effect; a backslash before punctuation
//! is written `&#92;` (`\\` is a line break). Lists numbered from another
//! number stay lines of text. What this writes reads back unchanged.

use super::markdown::{blocks, spans, Block, Span};

/// The text as wiki markup.
pub fn to_wiki(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    blocks(&text).into_iter().map(block).collect::<Vec<_>>().join("\n\n")
}

fn block(b: Block) -> String {
    match b {
        Block::Code(lang, lines) => {
            let body = lines.join("\n");
            let tame = lang.chars().all(|c| c.is_ascii_alphanumeric() || "+#._-".contains(c));
            let (open, close) = if !lang.is_empty() && tame && !body.contains("{code") {
                (format!("{{code:{lang}}}"), "{code}")
            } else if !body.contains("{noformat}") {
                ("{noformat}".to_string(), "{noformat}")
            } else {
                ("{code}".to_string(), "{code}")
            };
            match lines.is_empty() {
                true => format!("{open}\n{close}"),
                false => format!("{open}\n{body}\n{close}"),
            }
        }
        Block::Rule => "----".into(),
        Block::Heading(level, line) => format!("h{level}. {}", inline(line, false)),
        Block::Bullets(items) => items.iter().map(|i| format!("* {}", inline(i, false))).collect::<Vec<_>>().join("\n"),
        Block::Numbered(1, items) => {
            items.iter().map(|i| format!("# {}", inline(i, false))).collect::<Vec<_>>().join("\n")
        }
        Block::Numbered(first, items) => {
            (first..).zip(items).map(|(n, i)| format!("{n}. {}", inline(i, false))).collect::<Vec<_>>().join("\n")
        }
        Block::Quote(lines) if lines.len() == 1 => format!("bq. {}", inline(lines[0], false)),
        Block::Quote(lines) => {
            let inner: Vec<String> = lines.iter().map(|l| inline(l, true)).collect();
            format!("{{quote}}\n{}\n{{quote}}", inner.join("\n"))
        }
        Block::Para(lines) => lines.iter().map(|l| inline(l, true)).collect::<Vec<_>>().join("\n"),
    }
}

/// A line's spans as wiki markup. `own_line`: the line stands alone, so
/// what would start a list, heading or quote there is escaped.
fn inline(line: &str, own_line: bool) -> String {
    let mut out = String::new();
    let mut at = 0;
    for span in spans(line) {
        let source_len = match &span {
            Span::Plain(t) | Span::Url(t) => t.len(),
            Span::Code(t) | Span::Em(t) => t.len() + 2,
            Span::Strong(t) => t.len() + 4,
            Span::Link(t, u) => t.len() + u.len() + 4,
        };
        let next = line[at + source_len..].chars().next();
        let touching = out.chars().last().is_some_and(char::is_alphanumeric) || next.is_some_and(char::is_alphanumeric);
        match span {
            Span::Plain(t) => escape_into(&mut out, t, own_line && at == 0, next),
            // As it is, unless it holds what reads as an escape or a tag.
            Span::Url(u) if u.contains(['\\', '{', '}', '[', ']', '|']) || u.contains("&#") => {
                escape_into(&mut out, u, false, next)
            }
            Span::Url(u) => out.push_str(u),
            Span::Code(t) => {
                out.push_str("{{");
                escape_into(&mut out, t, false, None);
                out.push_str("}}");
            }
            Span::Strong(t) => mark(&mut out, t, if touching { "{*}" } else { "*" }),
            Span::Em(t) => mark(&mut out, t, if touching { "{_}" } else { "_" }),
            // A target wiki markup cannot hold stays text.
            Span::Link(t, u) if u.contains(['{', '}', '[', ']', '|', '\\']) => {
                escape_into(&mut out, &format!("[{t}]({u})"), false, next)
            }
            Span::Link(t, u) => {
                out.push('[');
                out.push_str(&escaped(t));
                out.push('|');
                out.push_str(u);
                out.push(']');
            }
        }
        at += source_len;
    }
    out
}

fn mark(out: &mut String, inner: &str, delimiter: &str) {
    out.push_str(delimiter);
    out.push_str(&escaped(inner));
    out.push_str(delimiter);
}

/// Text standing alone (inside a mark or a link), escaped.
fn escaped(text: &str) -> String {
    let mut out = String::new();
    escape_into(&mut out, text, false, None);
    out
}

/// Plain text, escaped where wiki markup would read it as markup. `after`
/// is the character after it in the line.
fn escape_into(out: &mut String, text: &str, line_start: bool, after: Option<char>) {
    let chars: Vec<char> = text.chars().collect();
    for (k, &c) in chars.iter().enumerate() {
        let prev = out.chars().next_back();
        let next = chars.get(k + 1).copied().or(after);
        let first = line_start && k == 0;
        let escape = match c {
            '{' | '}' | '[' | ']' | '|' => true,
            '\\' => next.is_none_or(|n| n.is_ascii_punctuation()),
            '&' => next == Some('#'),
            '!' => next.is_some_and(|n| !n.is_whitespace()),
            '?' => next == Some('?'),
            '*' | '#' | '-' if first => true,
            '*' | '_' => may_open(prev, next) || may_close(prev, next),
            '-' | '+' | '^' | '~' => may_open(prev, next) && chars[k + 1..].contains(&c),
            '.' if line_start && k == 2 => is_heading(&chars[..2]) || chars[..2] == ['b', 'q'],
            _ => false,
        };
        match (c, escape) {
            ('\\', true) => out.push_str("&#92;"),
            (c, true) => {
                out.push('\\');
                out.push(c);
            }
            (c, false) => out.push(c),
        }
    }
}

fn is_heading(two: &[char]) -> bool {
    two[0] == 'h' && ('1'..='6').contains(&two[1])
}

/// Wiki markup could open an effect here: not after a letter or digit,
/// and before something that is not a space.
pub fn may_open(prev: Option<char>, next: Option<char>) -> bool {
    !prev.is_some_and(char::is_alphanumeric) && next.is_some_and(|n| !n.is_whitespace())
}

/// Wiki markup could close an effect here: after something that is not a
/// space, and not before a letter or digit.
pub fn may_close(prev: Option<char>, next: Option<char>) -> bool {
    prev.is_some_and(|p| !p.is_whitespace()) && !next.is_some_and(char::is_alphanumeric)
}
