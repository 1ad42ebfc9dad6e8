//! `/sync/{name}`: one sync in detail (what to do, counters, the last
//! day's traffic, errors, conflicts, quarantine, the last resync report,
//! the paired issues, searchable and paged); `/api/sync/{name}`: the same
//! as JSON.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use super::auth::{percent, Viewer};
use super::html::{badge, chart, esc, failed, layout, live, prose, when, Account};
use super::view::{self, SyncView, PAGE};
use super::Shared;
use crate::engine::handshake::format_ms;
use crate::store::now_ms;

#[derive(Deserialize)]
pub struct PageQuery {
    q: Option<String>,
    page: Option<usize>,
    fragment: Option<u8>,
}

async fn load(c: &Shared, name: String, q: &PageQuery) -> Result<Option<SyncView>, Response> {
    let search: String = q.q.clone().unwrap_or_default().chars().take(200).collect();
    let page = q.page.unwrap_or(0).min(1_000_000);
    c.read(move |conn| view::sync(conn, &name, &search, page)).await.map_err(failed)
}

fn missing(name: &str) -> Response {
    let body = format!("<p>There is no sync named {}. <a href=\"/\">All syncs</a>.</p>", esc(name));
    (StatusCode::NOT_FOUND, layout("No such sync", &body, Account::Nothing)).into_response()
}

pub async fn page(
    State(c): State<Shared>,
    Extension(v): Extension<Viewer>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let view = match load(&c, name.clone(), &q).await {
        Ok(Some(view)) => view,
        Ok(None) => return missing(&name),
        Err(r) => return r,
    };
    let inner = render(&view, &v, now_ms());
    if q.fragment.is_some() {
        return Html(inner).into_response();
    }
    let url = percent(&name);
    let flash =
        v.flash.as_deref().map(|f| format!("<p class=\"flash\" id=\"flash\">{}</p>", esc(f))).unwrap_or_default();
    let src = format!("/sync/{url}?q={}&page={}&fragment=1", percent(&view.search), view.page);
    let body = format!(
        "<p><a href=\"/\">All syncs</a></p><h1>{} {}</h1>{flash}\
         <form method=\"get\" action=\"/sync/{url}\" class=\"search\"><label>Find a paired issue \
         <input type=\"search\" name=\"q\" id=\"q\" value=\"{}\" placeholder=\"local or partner key\"></label> \
         <button type=\"submit\">Search</button></form>{}",
        esc(&name),
        badge(view.health),
        esc(&view.search),
        live(&src, &inner)
    );
    layout(&name, &body, v.account()).into_response()
}

pub async fn json(State(c): State<Shared>, Path(name): Path<String>, Query(q): Query<PageQuery>) -> Response {
    match load(&c, name.clone(), &q).await {
        Ok(Some(view)) => Json(view).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, format!("there is no sync named {name:?}\n")).into_response(),
        Err(r) => r,
    }
}

/// A button that posts to `action` with the session's CSRF token.
fn button(v: &Viewer, action: &str, label: &str, id: &str) -> String {
    if !v.admin || v.session.is_none() {
        return String::new();
    }
    format!(
        "<form method=\"post\" action=\"{}\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" id=\"{}\">{}</button></form>",
        esc(action),
        esc(v.csrf.as_deref().unwrap_or("")),
        esc(id),
        esc(label)
    )
}

fn table(id: &str, head: &[&str], rows: &[String], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p id=\"{id}\" class=\"empty\">{empty}</p>");
    }
    let head: String = head.iter().map(|h| format!("<th>{h}</th>")).collect();
    format!(
        "<div class=\"scroll\"><table id=\"{id}\"><thead><tr>{head}</tr></thead><tbody>{}</tbody></table></div>",
        rows.concat()
    )
}

fn render(view: &SyncView, v: &Viewer, now: i64) -> String {
    let s = &view.status;
    let url = format!("/sync/{}", percent(&s.name));
    let mut out = String::new();
    let todo: String = view.advice.iter().map(|a| format!("<li>{}</li>", prose(a))).collect();
    if !todo.is_empty() {
        out.push_str(&format!("<ul class=\"todo\" id=\"advice\">{todo}</ul>"));
    }
    let toggle = if s.state == "paused" { "resume" } else { "pause" };
    out.push_str(&button(v, &format!("{url}/{toggle}"), if toggle == "pause" { "Pause" } else { "Resume" }, toggle));
    out.push_str(&format!(
        "<div class=\"scroll\"><table id=\"facts\"><tbody><tr><th>Role</th><td>{}</td><th>Protocol</th><td>{}</td><th>Project</th><td>{}</td></tr>\
         <tr><th>Partner</th><td class=\"fpr\">{}</td><th>Last message in</th><td>{}</td><th>Out / in seq</th><td>{} / {}</td></tr>\
         <tr><th>Awaiting ack</th><td>{}</td><th>Held for a gap</th><td>{}</td><th>Pairs</th><td>{}</td></tr>\
         <tr><th>Changes sent</th><td>{}</td><th>Changes applied</th><td>{}</td><th>Mapping</th><td>{}</td></tr></tbody></table></div>",
        s.role,
        esc(&s.protocol),
        esc(&s.project),
        esc(s.partner_fingerprint.as_deref().unwrap_or("— (not yet)")),
        match s.last_received_seq {
            Some(seq) => format!("#{seq}, {}", when(s.last_received_at, now)),
            None => "none yet".into(),
        },
        s.outgoing_seq,
        s.incoming_seq,
        s.awaiting_ack,
        s.held_for_gap,
        view.pairs_total,
        view.totals.changes_out,
        view.totals.changes_in,
        esc(s.mapping.as_deref().unwrap_or("none")),
    ));
    out.push_str(&format!("<h2>Traffic</h2>{}", chart(&view.hours)));
    if !s.transfers.is_empty() {
        let mb = crate::engine::transfers::mb;
        let rows: Vec<String> = s
            .transfers
            .iter()
            .map(|t| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} of {}</td></tr>",
                    if t.direction == "out" { "sending" } else { "receiving" },
                    esc(&t.filename),
                    esc(&t.issue),
                    esc(&t.state),
                    mb(t.done),
                    mb(t.size)
                )
            })
            .collect();
        out.push_str("<h2>Attachments on their way</h2>");
        out.push_str(&table("transfers", &["Way", "File", "Issue", "State", "Done"], &rows, ""));
    }
    if !s.attachments_not_crossed.is_empty() {
        let rows: Vec<String> = s
            .attachments_not_crossed
            .iter()
            .map(|a| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"reason\">{}</td></tr>",
                    if a.direction == "out" { "not sent" } else { "not received" },
                    esc(&a.filename),
                    esc(&a.issue),
                    esc(&a.reason)
                )
            })
            .collect();
        out.push_str("<h2>Attachments that did not cross</h2>");
        out.push_str(&table("not-crossed", &["Way", "File", "Issue", "Why"], &rows, ""));
    }

    let errors: Vec<String> = view
        .errors
        .iter()
        .map(|e| {
            format!(
                "<tr><td>{}</td><td>{}</td><td class=\"reason\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.remote_issue),
                esc(e.local_key.as_deref().unwrap_or("—")),
                esc(&e.reason),
                e.parked,
                esc(&format_ms(e.first_at)),
                e.tries,
                button(v, &format!("{url}/errors/{}/retry", percent(&e.remote_issue)), "Retry", &format!("retry-{}", e.remote_issue))
            )
        })
        .collect();
    out.push_str("<h2>Errors</h2>");
    out.push_str(&table(
        "errors",
        &["Partner's issue", "Local", "Reason", "Waiting", "First failed", "Tries", ""],
        &errors,
        "No issue has an error.",
    ));

    let conflicts: Vec<String> = view
        .conflicts
        .iter()
        .map(|c| {
            format!(
                "<tr><td>#{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{}{}</td></tr>",
                c.id,
                esc(&c.local_key),
                esc(&c.remote_key),
                esc(&c.field),
                esc(&c.local_value),
                esc(&c.partner_value),
                esc(&c.winner),
                esc(&c.policy),
                button(
                    v,
                    &format!("{url}/conflicts/{}/reapply", c.id),
                    "Re-apply the lost value",
                    &format!("reapply-{}", c.id)
                ),
                button(v, &format!("{url}/conflicts/{}/dismiss", c.id), "Dismiss", &format!("dismiss-{}", c.id)),
            )
        })
        .collect();
    out.push_str("<h2>Conflicts</h2>");
    out.push_str(&table(
        "conflicts",
        &["", "Issue (here / partner)", "Field", "Here", "Partner", "Winner", ""],
        &conflicts,
        "No open conflicts.",
    ));

    let quarantine: Vec<String> = view
        .quarantine
        .iter()
        .map(|q| {
            format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&q.file),
                esc(&q.reason),
                esc(&format_ms(q.at))
            )
        })
        .collect();
    out.push_str("<h2>Quarantine</h2>");
    out.push_str(&table("quarantine", &["File", "Reason", "When"], &quarantine, "Nothing quarantined."));

    out.push_str("<h2>Last resync</h2>");
    match &s.last_resync {
        Some(r) => out.push_str(&format!(
            "<div id=\"resync\"><p>{} finished {}: <strong>{}</strong> — {} issues ({} new), {} messages.</p><ul>{}</ul></div>",
            esc(&r.kind),
            esc(&format_ms(r.finished_at)),
            r.outcome(),
            r.issues,
            r.new,
            r.messages,
            r.warnings.iter().map(|w| format!("<li>{}</li>", esc(w))).collect::<String>()
        )),
        None => out.push_str("<p id=\"resync\" class=\"empty\">No resync yet.</p>"),
    }

    out.push_str("<h2>Verify</h2>");
    let every = match s.verify.every_ms {
        0 => "only when asked".to_string(),
        ms => format!("every {}, policy {}", crate::status::ago(ms), esc(&s.verify.policy)),
    };
    out.push_str(&format!(
        "<p id=\"verify\">Last verify: {} ({every}). {}{}</p>",
        s.verify.last_finished_at.map_or("never".to_string(), |t| esc(&format_ms(t))),
        button(v, &format!("{url}/verify"), "Verify now", "verify-now"),
        button(v, &format!("{url}/repair"), "Verify and repair", "verify-repair"),
    ));
    let diverged: Vec<String> = s
        .diverged
        .iter()
        .map(|d| {
            format!("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(&d.issue), esc(&d.what), when(Some(d.since), now))
        })
        .collect();
    out.push_str(&table("diverged", &["Issue", "What differs", "Since"], &diverged, "Both sides agree."));

    let pairs: Vec<String> = view
        .pairs
        .iter()
        .map(|l| {
            let differs = match s.diverged.iter().any(|d| d.issue == l.local_issue_key) {
                true => " <span class=\"badge bad\">differs</span>",
                false => "",
            };
            format!(
                "<tr><td>{}{differs}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&l.local_issue_key),
                esc(l.remote_issue_key.as_deref().unwrap_or("— (not yet)")),
                when(l.last_outgoing_change, now),
                when(l.last_incoming_change, now),
                esc(&format_ms(l.first_sync_date)),
            )
        })
        .collect();
    let first = view.page * PAGE;
    out.push_str(&format!(
        "<h2>Paired issues</h2><p id=\"pair-count\">{}{}{}</p>",
        crate::words::plural(view.pairs_total, "pair", "pairs"),
        if view.search.is_empty() { String::new() } else { format!(" matching “{}”", esc(&view.search)) },
        if !view.pairs.is_empty() {
            format!(", {}–{} shown", first + 1, first + view.pairs.len())
        } else {
            String::new()
        }
    ));
    out.push_str(&table(
        "pairs",
        &["Here", "Partner", "Last change out", "Last change in", "Paired"],
        &pairs,
        "No pairs.",
    ));
    let link = |p: usize, label: &str, id: &str| {
        format!("<a id=\"{id}\" href=\"{url}?q={}&amp;page={p}\">{label}</a>", percent(&view.search))
    };
    let mut pager = String::new();
    if view.page > 0 {
        pager.push_str(&link(view.page - 1, "← newer", "prev"));
    }
    if (first + view.pairs.len()) < view.pairs_total as usize {
        pager.push_str(&link(view.page + 1, "older →", "next"));
    }
    out.push_str(&format!("<p class=\"pager\">{pager}</p>"));
    out
}
