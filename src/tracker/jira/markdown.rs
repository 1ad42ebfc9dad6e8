//! The text the wire carries, read as the small Markdown both Jira
//! dialects are written from (`adf` for Cloud, `wiki` for Data Center):
//! blocks separated by blank lines (a code fence keeps its blank lines),
//! and inline spans. Every block and span keeps what it was written from,
//! so a dialect that writes each form its own way reads back unchanged.

/// One block of the text.
#[derive(Debug, PartialEq)]
pub enum Block<'a> {
    /// A paragraph's lines (line breaks inside it).
    Para(Vec<&'a str>),
    /// `#`… `######` and the heading's text.
    Heading(usize, &'a str),
    /// `- ` items.
    Bullets(Vec<&'a str>),
    /// `N. ` items numbered one by one: the first number and each item.
    Numbered(u64, Vec<&'a str>),
    /// `> ` lines, without the marker.
    Quote(Vec<&'a str>),
    /// A fenced code block: its language (may be empty) and its lines.
    Code(&'a str, Vec<&'a str>),
    /// `---`.
    Rule,
}

/// One inline span of a line.
#[derive(Debug, PartialEq)]
pub enum Span<'a> {
    Plain(&'a str),
    /// `` `x` ``
    Code(&'a str),
    /// `**x**`
    Strong(&'a str),
    /// `*x*`
    Em(&'a str),
    /// `[text](url)`
    Link(&'a str, &'a str),
    /// A bare `https://…` or `http://…`.
    Url(&'a str),
}

/// The text's blocks, in order; `text` must use `\n` line ends. The
/// blocks joined by blank lines give the text again.
pub fn blocks(text: &str) -> Vec<Block<'_>> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut chunks: Vec<(usize, usize)> = Vec::new();
    let mut open_fence = false;
    let mut start = 0;
    for (at, _) in text.match_indices("\n\n").chain(std::iter::once((text.len(), ""))) {
        let chunk = &text[start..at];
        match chunks.last_mut() {
            Some(last) if open_fence => last.1 = at,
            _ => chunks.push((start, at)),
        }
        open_fence ^= chunk.split('\n').filter(|l| l.starts_with("```")).count() % 2 == 1;
        start = at + 2;
    }
    chunks.into_iter().map(|(s, e)| block(text[s..e].split('\n').collect())).collect()
}

fn block(lines: Vec<&str>) -> Block<'_> {
    let n = lines.len();
    if n >= 2 && lines[0].starts_with("```") && lines[n - 1] == "```" {
        return Block::Code(&lines[0][3..], lines[1..n - 1].to_vec());
    }
    if n == 1 && lines[0] == "---" {
        return Block::Rule;
    }
    if n == 1 {
        let level = lines[0].chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&level) && lines[0][level..].starts_with(' ') {
            return Block::Heading(level, &lines[0][level + 1..]);
        }
    }
    let all = |p: &dyn Fn(&str) -> bool| lines.iter().all(|l| p(l));
    if all(&|l| l.starts_with("- ")) {
        return Block::Bullets(lines.iter().map(|l| &l[2..]).collect());
    }
    let number = |l: &str| l[..l.find('.').unwrap_or(0)].parse::<u64>().ok();
    if all(&|l| numbered(l).is_some() && number(l).is_some()) {
        let first = number(lines[0]).unwrap_or(1);
        if (first..).zip(&lines).all(|(n, l)| number(l) == Some(n)) {
            return Block::Numbered(first, lines.iter().map(|l| numbered(l).unwrap_or_default()).collect());
        }
    }
    if all(&|l| l.starts_with("> ")) {
        return Block::Quote(lines.iter().map(|l| &l[2..]).collect());
    }
    Block::Para(lines)
}

/// `N. rest`: the rest.
pub fn numbered(line: &str) -> Option<&str> {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    (digits > 0 && digits < 10).then(|| line[digits..].strip_prefix(". ")).flatten()
}

/// A line's spans, in order; their sources joined give the line again.
pub fn spans(line: &str) -> Vec<Span<'_>> {
    let mut out = Vec::new();
    let (mut rest, mut plain_from) = (line, 0);
    while let Some(c) = rest.chars().next() {
        let at = line.len() - rest.len();
        let marked = match c {
            '`' => delimited(rest, "`").map(|(inner, n)| (Span::Code(inner), n)),
            '*' if rest.starts_with("**") => delimited(rest, "**").map(|(inner, n)| (Span::Strong(inner), n)),
            '*' => delimited(rest, "*").map(|(inner, n)| (Span::Em(inner), n)),
            '[' => link(rest),
            'h' if rest.starts_with("https://") || rest.starts_with("http://") => {
                let n = bare_url(rest);
                Some((Span::Url(&rest[..n]), n))
            }
            _ => None,
        };
        match marked {
            Some((span, n)) => {
                if plain_from < at {
                    out.push(Span::Plain(&line[plain_from..at]));
                }
                out.push(span);
                rest = &rest[n..];
                plain_from = at + n;
            }
            None => rest = &rest[c.len_utf8()..],
        }
    }
    if plain_from < line.len() {
        out.push(Span::Plain(&line[plain_from..]));
    }
    out
}

/// `d inner d` at the start of `s`, `inner` not empty and not starting
/// or ending with white space: `(inner, bytes taken)`.
fn delimited<'a>(s: &'a str, d: &str) -> Option<(&'a str, usize)> {
    let body = s.strip_prefix(d)?;
    let end = body.find(d)?;
    let inner = &body[..end];
    let edge = char::is_whitespace;
    let ok = !inner.is_empty() && !inner.starts_with(edge) && !inner.ends_with(edge) && !inner.contains('`');
    ok.then_some((inner, 2 * d.len() + end))
}

/// `[text](url)` at the start of `s`, for a URL postern may write as a
/// link (http, https, mailto: never `javascript:` or the like).
fn link(s: &str) -> Option<(Span<'_>, usize)> {
    let close = s.find("](")?;
    let text = &s[1..close];
    let end = s[close + 2..].find(')')? + close + 2;
    let url = &s[close + 2..end];
    let ok = !text.is_empty() && !text.contains(['[', ']']) && safe_url(url) && !url.contains(char::is_whitespace);
    ok.then_some((Span::Link(text, url), end + 1))
}

/// `[text](url)` making up all of `s` (a link made bold or emphasised as
/// a whole): `(text, url)`.
pub fn whole_link(s: &str) -> Option<(&str, &str)> {
    match link(s)? {
        (Span::Link(text, url), n) if n == s.len() => Some((text, url)),
        _ => None,
    }
}

/// Whether `url` is one postern writes as a link: http, https or mailto.
pub fn safe_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    ["https://", "http://", "mailto:"].iter().any(|s| lower.starts_with(s) && lower.len() > s.len())
}

/// A bare URL's length in `s`: up to white space, without punctuation
/// that ends a sentence or a closing parenthesis it did not open.
fn bare_url(s: &str) -> usize {
    let mut n = s.find(char::is_whitespace).unwrap_or(s.len());
    loop {
        let url = &s[..n];
        let trailing = url.ends_with(['.', ',', '!', '?'])
            || (url.ends_with(')') && url.matches('(').count() < url.matches(')').count());
        if !trailing || n <= "http://".len() {
            return n;
        }
        n -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_spans_are_what_the_text_writes() {
        let text = "# T\n\nsee **b** and [l](https://x.y) `c`\n\n3. a\n4. b\n\n```sh\nx\n\ny\n```\n\n---\n\n> q";
        assert_eq!(
            blocks(text),
            [
                Block::Heading(1, "T"),
                Block::Para(vec!["see **b** and [l](https://x.y) `c`"]),
                Block::Numbered(3, vec!["a", "b"]),
                Block::Code("sh", vec!["x", "", "y"]),
                Block::Rule,
                Block::Quote(vec!["q"]),
            ]
        );
        assert_eq!(
            spans("see **b** and [l](https://x.y) `c`*e* https://z"),
            [
                Span::Plain("see "),
                Span::Strong("b"),
                Span::Plain(" and "),
                Span::Link("l", "https://x.y"),
                Span::Plain(" "),
                Span::Code("c"),
                Span::Em("e"),
                Span::Plain(" "),
                Span::Url("https://z"),
            ]
        );
        assert_eq!(spans("2 * 3 * 4"), [Span::Plain("2 * 3 * 4")]);
        // Only http, https and mailto make links; a bare URL leaves the
        // parenthesis or full stop around it.
        assert_eq!(spans("[x](javascript:alert(1))"), [Span::Plain("[x](javascript:alert(1))")]);
        assert_eq!(spans("[x](JavaScript:go)"), [Span::Plain("[x](JavaScript:go)")]);
        assert_eq!(spans("[m](mailto:a@b.c)"), [Span::Link("m", "mailto:a@b.c")]);
        assert_eq!(spans("[](https://e.com)"), [Span::Plain("[]("), Span::Url("https://e.com"), Span::Plain(")")]);
        assert_eq!(
            spans("(see https://e.com/a_(b).)"),
            [Span::Plain("(see "), Span::Url("https://e.com/a_(b)"), Span::Plain(".)")]
        );
        assert_eq!(blocks("3. a\n5. b"), [Block::Para(vec!["3. a", "5. b"])]);
        assert_eq!(blocks("a\n\n\nb"), [Block::Para(vec!["a"]), Block::Para(vec!["", "b"])]);
    }
}
