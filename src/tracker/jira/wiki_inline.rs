//! One line of Jira wiki markup read as the text's inline forms.

use super::wiki::{may_close, may_open};

/// A line of wiki markup as the text: `*x*` → `**x**`, `_x_` → `*x*`,
/// `{{x}}` → `` `x` ``, `[x|url]` → `[x](url)`, `[~user]` → `@user`,
/// `!image.png!` and `[^file]` → `[attachment: …]`, `\\` → a line break,
/// `\*` → `*`; effects the text has no form for (strike-through, colour…)
/// keep their characters.
pub fn inline(line: &str) -> String {
    let s: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        let (text, used) = form_at(&s, i).unwrap_or_else(|| (s[i].to_string(), 1));
        out.push_str(&text);
        i += used;
    }
    out
}

fn starts(s: &[char], i: usize, pat: &str) -> bool {
    pat.chars().enumerate().all(|(k, c)| s.get(i + k) == Some(&c))
}

fn string(s: &[char]) -> String {
    s.iter().collect()
}

/// The form starting at `i`, if one does: its text and the characters used.
fn form_at(s: &[char], i: usize) -> Option<(String, usize)> {
    let prev = i.checked_sub(1).map(|p| s[p]);
    let next = s.get(i + 1).copied();
    match s[i] {
        '\\' if next == Some('\\') => Some(("\n".into(), 2)),
        '\\' if next.is_some_and(|n| n.is_ascii_punctuation()) => Some((string(&s[i + 1..i + 2]), 2)),
        '&' if starts(s, i, "&#92;") => Some(("\\".into(), 5)),
        '{' if starts(s, i, "{{") => {
            let end = (i + 3..s.len()).find(|&k| starts(s, k, "}}") && s[k - 1] != '\\')?;
            let code = unescape(&s[i + 2..end]);
            Some((format!("`{code}`"), end + 2 - i))
        }
        '{' if starts(s, i, "{*}") || starts(s, i, "{_}") => {
            let tag = string(&s[i..i + 3]);
            let end = (i + 4..s.len()).find(|&k| starts(s, k, &tag) && s[k - 1] != '\\')?;
            Some((marked(s[i + 1], &s[i + 3..end]), end + 3 - i))
        }
        '{' => {
            let end = (i..s.len().min(i + 80)).find(|&k| s[k] == '}')?;
            let name = string(&s[i + 1..end]);
            let name = name.split(':').next().unwrap_or_default();
            matches!(name, "color" | "anchor").then_some((String::new(), end + 1 - i))
        }
        c @ ('*' | '_') if may_open(prev, next) => {
            let end = (i + 2..s.len())
                .find(|&k| s[k] == c && s[k - 1] != '\\' && may_close(Some(s[k - 1]), s.get(k + 1).copied()))?;
            Some((marked(c, &s[i + 1..end]), end + 1 - i))
        }
        '[' => bracket(s, i),
        '!' if next.is_some_and(|n| !n.is_whitespace()) => {
            let end = (i + 2..s.len()).find(|&k| s[k] == '!')?;
            let body = string(&s[i + 1..end]);
            let name = body.split('|').next().unwrap_or_default();
            (!body.ends_with(char::is_whitespace) && !name.is_empty())
                .then(|| (format!("[attachment: {name}]"), end + 1 - i))
        }
        // A bare URL, as it is, up to a space or an escape.
        'h' if starts(s, i, "https://") || starts(s, i, "http://") => {
            let end = (i..s.len()).find(|&k| s[k].is_whitespace() || s[k] == '\\' || starts(s, k, "&#92;"));
            let end = end.unwrap_or(s.len());
            Some((string(&s[i..end]), end - i))
        }
        _ => None,
    }
}

/// `*x*` (strong) or `_x_` (emphasis) around the inner markup.
fn marked(delimiter: char, inner: &[char]) -> String {
    let text = inline(&string(inner));
    match delimiter {
        '*' => format!("**{text}**"),
        _ => format!("*{text}*"),
    }
}

/// `[~user]`, `[^file]`, `[text|url]` or `[url]` at `i`.
fn bracket(s: &[char], i: usize) -> Option<(String, usize)> {
    let end = (i + 1..s.len()).find(|&k| s[k] == ']' && s[k - 1] != '\\')?;
    let body = &s[i + 1..end];
    let used = end + 1 - i;
    let text = match body.first()? {
        '~' => {
            let user = unescape(&body[1..]);
            format!("@{}", user.strip_prefix("accountid:").unwrap_or(&user))
        }
        '^' => format!("[attachment: {}]", unescape(&body[1..])),
        _ => match body.iter().rposition(|&c| c == '|').filter(|&p| p == 0 || body[p - 1] != '\\') {
            Some(bar) => {
                let url = string(&body[bar + 1..]);
                let label = inline(&string(&body[..bar]));
                if label.is_empty() || label == url {
                    url
                } else {
                    format!("[{label}]({url})")
                }
            }
            None => {
                let url = string(body);
                if !(url.contains("://") || url.starts_with("mailto:")) {
                    return None;
                }
                url
            }
        },
    };
    Some((text, used))
}

/// Escapes undone, nothing else read.
fn unescape(s: &[char]) -> String {
    let line = string(s);
    let mut out = String::new();
    let mut rest = line.as_str();
    while let Some(c) = rest.chars().next() {
        let n = rest[c.len_utf8()..].chars().next();
        if c == '\\' && n.is_some_and(|n| n.is_ascii_punctuation() && n != '\\') {
            out.extend(n);
            rest = &rest[1 + n.map_or(0, char::len_utf8)..];
        } else if rest.starts_with("&#92;") {
            out.push('\\');
            rest = &rest[5..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}
