//! Page frame, escaping and small pieces the pages share. Everything is
//! rendered on the server; `console.js` only refreshes `#live` in place.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::words::plural;

/// Advice text, escaped, its `backticked` commands and paths as code.
pub fn prose(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return esc(s); // an unpaired backtick: shown as it is
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| if i % 2 == 1 { format!("<code>{}</code>", esc(p)) } else { esc(p) })
        .collect()
}

/// Escapes text for HTML content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What a page's header offers its viewer.
pub enum Account<'a> {
    /// Nothing (a read-only console without a token has nothing to log
    /// in to; a page about logging in).
    Nothing,
    LogIn,
    /// Logged in: a form to log out, with the session's CSRF token.
    LogOut {
        csrf: &'a str,
    },
}

/// A whole page: `body` goes into `<main>`.
pub fn layout(title: &str, body: &str, account: Account<'_>) -> Html<String> {
    let account = match account {
        Account::LogOut { csrf } => format!(
            "<form method=\"post\" action=\"/logout\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" \
             value=\"{}\"><button type=\"submit\" id=\"logout\">Log out</button></form>",
            esc(csrf)
        ),
        Account::LogIn => "<a href=\"/login\" id=\"login-link\">Log in</a>".into(),
        Account::Nothing => String::new(),
    };
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · postern</title><link rel=\"stylesheet\" href=\"/static/console.css\">\
         <script src=\"/static/console.js\" defer></script>\
         <noscript><meta http-equiv=\"refresh\" content=\"15\"></noscript></head>\
         <body><header><a href=\"/\" class=\"brand\">postern</a><nav>{account}</nav></header>\
         <main>{body}</main><footer>postern {} · <a href=\"/metrics\">metrics</a> · \
         <a href=\"/health\">health</a></footer></body></html>\n",
        esc(title),
        env!("CARGO_PKG_VERSION")
    ))
}

/// A part of the page `console.js` refreshes by fetching `src`.
pub fn live(src: &str, inner: &str) -> String {
    format!("<div id=\"live\" data-src=\"{}\">{inner}</div>", esc(src))
}

/// A state as a coloured badge.
pub fn badge(state: &str) -> String {
    let class = match state {
        "active" => "ok",
        "handshake" => "wait",
        "paused" | "held" | "attention" => "warn",
        _ => "bad",
    };
    format!("<span class=\"badge {class}\" data-state=\"{}\">{}</span>", esc(state), esc(state))
}

/// "2026-11-24 10:00:00 UTC (3m ago)" or "never".
pub fn when(at: Option<i64>, now: i64) -> String {
    match at {
        Some(at) => format!(
            "<time title=\"{}\">{} ago</time>",
            esc(&crate::engine::handshake::format_ms(at)),
            crate::status::ago(now - at)
        ),
        None => "never".into(),
    }
}

/// Messages per hour over the last day, as bars (in: below the axis,
/// out: above), with a text summary for screen readers.
pub fn chart(hours: &[crate::store::activity::Traffic]) -> String {
    let max = hours.iter().map(|t| t.messages_in.max(t.messages_out)).max().unwrap_or(0).max(1) as f64;
    let (w, h) = (12.0, 40.0);
    let mut bars = String::new();
    for (i, t) in hours.iter().enumerate() {
        let x = i as f64 * (w + 2.0);
        let up = (t.messages_out as f64 / max * h).round();
        let down = (t.messages_in as f64 / max * h).round();
        let title = format!(
            "{}: {} out ({}), {} in ({})",
            crate::engine::handshake::format_ms(t.hour),
            plural(t.messages_out, "message", "messages"),
            plural(t.changes_out, "change", "changes"),
            t.messages_in,
            plural(t.changes_in, "change", "changes")
        );
        bars.push_str(&format!(
            "<g><title>{}</title><rect class=\"out\" x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"{up}\"/>\
             <rect class=\"in\" x=\"{x}\" y=\"{h}\" width=\"{w}\" height=\"{down}\"/></g>",
            esc(&title),
            h - up
        ));
    }
    let total = |f: fn(&crate::store::activity::Traffic) -> u64| hours.iter().map(f).sum::<u64>();
    format!(
        "<figure class=\"chart\"><svg viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"messages per hour\" preserveAspectRatio=\"none\">{bars}\
         <line x1=\"0\" y1=\"{h}\" x2=\"{}\" y2=\"{h}\"/></svg><figcaption id=\"traffic\">Last 24 hours: {} \
         out ({}) above the line, {} in ({}) below.</figcaption></figure>",
        hours.len() as f64 * (w + 2.0),
        2.0 * h,
        hours.len() as f64 * (w + 2.0),
        plural(total(|t| t.messages_out), "message", "messages"),
        plural(total(|t| t.changes_out), "change", "changes"),
        total(|t| t.messages_in),
        plural(total(|t| t.changes_in), "change", "changes")
    )
}

pub async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("assets/console.css")).into_response()
}

pub async fn js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("assets/console.js")).into_response()
}

pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        layout("Not found", "<p>No such page. <a href=\"/\">The overview</a>.</p>", Account::Nothing),
    )
        .into_response()
}

/// An error while reading the database, as a page.
pub fn failed(e: anyhow::Error) -> Response {
    tracing::warn!("console: {e:#}");
    let body = format!("<p class=\"flash bad\">Cannot read postern's database: {}</p>", esc(&format!("{e:#}")));
    (StatusCode::SERVICE_UNAVAILABLE, layout("Unavailable", &body, Account::Nothing)).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(super::esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
