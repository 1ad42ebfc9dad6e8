//! One line of Jira wiki markup read as the text's inline forms.

use super::wiki::{entity_at, may_close, may_open, word, ESCAPABLE, SMILEYS};

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
        '\\' if escaped(s, i + 1) => Some((string(&s[i + 1..i + 2]), 2)),
        '&' => entity(s, i),
        '{' if starts(s, i, "{{{}") => {
            let end = (i + 5..s.len()).find(|&k| starts(s, k, "{}}}"))?;
            Some((format!("`{}`", unescape(&s[i + 4..end])), end + 4 - i))
        }
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
            let end = (i..s.len()).find(|&k| s[k].is_whitespace() || s[k] == '\\' || entity_at(&s[k..]).is_some());
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

/// Whether Jira drops a backslash before `s[at]`: before what it
/// escapes, and before a smiley (shown as text then).
fn escaped(s: &[char], at: usize) -> bool {
    let Some(&c) = s.get(at) else { return false };
    ESCAPABLE.contains(c) || (SMILEYS.iter().any(|m| starts(s, at, m)) && !s.get(at + 2).copied().is_some_and(word))
}

/// An HTML entity at `i`, as its character; others stay as they are.
fn entity(s: &[char], i: usize) -> Option<(String, usize)> {
    let n = entity_at(&s[i..])?;
    let name = string(&s[i + 1..i + n - 1]);
    let c = match name.as_str() {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "bsol" => '\\',
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
            };
            char::from_u32(code?)?
        }
    };
    Some((c.to_string(), n))
}

/// Escapes and entities undone, nothing else read.
fn unescape(s: &[char]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < s.len() {
        let (text, used) = match s[i] {
            '\\' if escaped(s, i + 1) => (string(&s[i + 1..i + 2]), 2),
            '&' => entity(s, i).unwrap_or_else(|| ("&".into(), 1)),
            c => (c.to_string(), 1),
        };
        out.push_str(&text);
        i += used;
    }
    out
}
