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
//! | `` `x` ``, `**x**`, `*x*` | `{{x}}`, `*x*`, `_x_` (`{{{}x{}}}`, `{*}x{*}`, `{_}x{_}` inside a word) |
//! | `[x](url)`, a bare `https://…` | `[x\|url]`, the same |
//!
//! Characters wiki markup would read as markup are escaped where they
//! could take effect, as Jira's renderer reads them: a backslash before
//! what it escapes (`*`, `_`, `-`, `[`, `|`, `!`, `#`, `(` of an emoticon,
//! `:` of a smiley…), and entities where a backslash would show or not
//! hold: `&#123;` and `&#125;` for braces (a `\{` still opens `{{`),
//! `&#46;` for the dot of `h1.` or `bq.` at a line's start, `&#92;` for a
//! backslash before punctuation (`\\` is a line break), `&amp;` for an
//! `&` that would start an entity. Lists numbered from another number
//! stay lines of text. What this writes reads back unchanged.

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
        let touching = out.chars().next_back().is_some_and(word) || next.is_some_and(word);
        match span {
            Span::Plain(t) => escape_into(&mut out, t, own_line && at == 0, next),
            // As it is, unless it holds what reads as an escape or a tag.
            Span::Url(u) if u.contains(['\\', '{', '}', '[', ']', '|']) || has_entity(u) => {
                escape_into(&mut out, u, false, next)
            }
            Span::Url(u) => out.push_str(u),
            // `{{{}x{}}}` where a letter or digit touches it.
            Span::Code(t) => mark(&mut out, t, if touching { ["{{{}", "{}}}"] } else { ["{{", "}}"] }),
            Span::Strong(t) => mark(&mut out, t, if touching { ["{*}"; 2] } else { ["*"; 2] }),
            Span::Em(t) => mark(&mut out, t, if touching { ["{_}"; 2] } else { ["_"; 2] }),
            // A target wiki markup cannot hold stays text.
            Span::Link(t, u) if u.contains(['{', '}', '[', ']', '|', '\\']) => {
                escape_into(&mut out, &format!("[{t}]({u})"), false, next)
            }
            Span::Link(t, u) => {
                out.push('[');
                // Not a mention (`[~user]`) nor an attachment (`[^file]`).
                if t.starts_with(['~', '^']) {
                    out.push('\\');
                }
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

fn mark(out: &mut String, inner: &str, [open, close]: [&str; 2]) {
    out.push_str(open);
    out.push_str(&escaped(inner));
    out.push_str(close);
}

/// Text standing alone (inside a mark or a link), escaped.
fn escaped(text: &str) -> String {
    let mut out = String::new();
    escape_into(&mut out, text, false, None);
    out
}

/// Plain text, escaped where wiki markup would read it as markup. `after`
/// is the character after it in the line. A backslash escape is undone
/// by Jira only before [`ESCAPABLE`]; braces, a heading's dot, a literal
/// backslash and an `&` that would start an entity are written as
/// entities.
fn escape_into(out: &mut String, text: &str, line_start: bool, after: Option<char>) {
    let chars: Vec<char> = text.chars().collect();
    // Jira finds lists, headings and quotes after leading white space.
    let lead = line_start.then(|| chars.iter().take_while(|c| c.is_whitespace()).count());
    for (k, &c) in chars.iter().enumerate() {
        let prev = out.chars().next_back();
        let next = chars.get(k + 1).copied().or(after);
        let rest = &chars[k..];
        let entity = match c {
            '{' => Some("&#123;"),
            '}' => Some("&#125;"),
            '\\' if next.is_none_or(|n| n.is_ascii_punctuation()) => Some("&#92;"),
            '&' if entity_at(rest).is_some() => Some("&amp;"),
            '.' if lead.is_some_and(|l| k == l + 2 && block_word(&chars[l..k])) => Some("&#46;"),
            _ => None,
        };
        if let Some(e) = entity {
            out.push_str(e);
            continue;
        }
        let escape = match c {
            '[' | ']' | '|' => true,
            '!' => next.is_some_and(|n| !n.is_whitespace()),
            '?' => next == Some('?'),
            '*' | '#' | '-' if lead == Some(k) => true,
            '*' | '_' => may_open(prev, next) || may_close(prev, next),
            '-' | '+' | '^' | '~' => may_open(prev, next) && chars[k + 1..].contains(&c),
            '(' => ICONS.iter().any(|i| starts(rest, i)),
            ':' | ';' => {
                SMILEYS.iter().any(|m| starts(rest, m) && !chars.get(k + 2).copied().or(after).is_some_and(word))
            }
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// What Jira's backslash escapes (elsewhere the backslash shows).
pub const ESCAPABLE: &str = "-#*_+?^~|%{}[]()!@";

/// Jira's emoticons: `(y)` and the like anywhere, the smileys when no
/// letter or digit follows (a backslash before them shows them as text).
pub const ICONS: [&str; 18] = [
    "(y)",
    "(n)",
    "(i)",
    "(/)",
    "(x)",
    "(!)",
    "(+)",
    "(-)",
    "(?)",
    "(on)",
    "(off)",
    "(*)",
    "(*r)",
    "(*g)",
    "(*b)",
    "(*y)",
    "(flag)",
    "(flagoff)",
];
pub const SMILEYS: [&str; 5] = [":)", ":(", ":P", ":D", ";)"];

pub fn starts(chars: &[char], pat: &str) -> bool {
    pat.chars().enumerate().all(|(k, c)| chars.get(k) == Some(&c))
}

/// `h1`…`h6` or `bq`: what a dot makes a heading or a quote at a line's start.
fn block_word(two: &[char]) -> bool {
    matches!(two, ['h', '1'..='6'] | ['b', 'q'])
}

/// An HTML entity at the start of `chars` (`&` then a letter, digit or
/// `#`, up to 8 more, then `;`): its length.
pub fn entity_at(chars: &[char]) -> Option<usize> {
    let body = chars.get(1..)?;
    let first = *body.first()?;
    if !(first == '#' || first.is_ascii_alphanumeric()) {
        return None;
    }
    let n = 1 + body[1..].iter().take(8).take_while(|c| c.is_ascii_alphanumeric()).count();
    (n >= 2 && body.get(n) == Some(&';')).then_some(n + 2)
}

fn has_entity(s: &str) -> bool {
    let c: Vec<char> = s.chars().collect();
    (0..c.len()).any(|k| c[k] == '&' && entity_at(&c[k..]).is_some())
}

/// A letter or a digit: what wiki markup takes as part of a word.
pub fn word(c: char) -> bool {
    c.is_alphabetic() || c.is_ascii_digit()
}

/// Wiki markup could open an effect here: not after a letter or digit,
/// and before something that is not a space.
pub fn may_open(prev: Option<char>, next: Option<char>) -> bool {
    !prev.is_some_and(word) && next.is_some_and(|n| !n.is_whitespace())
}

/// Wiki markup could close an effect here: after something that is not a
/// space, and not before a letter or digit.
pub fn may_close(prev: Option<char>, next: Option<char>) -> bool {
    prev.is_some_and(|p| !p.is_whitespace()) && !next.is_some_and(word)
}
