//! `/`: every sync in one table, its state coloured and what to do about
//! each unhealthy one; `/api/status`: the same as `postern status --json`.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use super::auth::Viewer;
use super::html::{badge, esc, failed, layout, live, prose, when};
use super::view::{advice, health};
use super::Shared;
use crate::status::{collect, SyncStatus};
use crate::store::now_ms;

#[derive(Deserialize)]
pub struct Fragment {
    pub fragment: Option<u8>,
}

pub async fn page(State(c): State<Shared>, Extension(v): Extension<Viewer>, Query(q): Query<Fragment>) -> Response {
    let all = match c.read(collect).await {
        Ok(all) => all,
        Err(e) => return failed(e),
    };
    let inner = render(&all, now_ms());
    if q.fragment.is_some() {
        return axum::response::Html(inner).into_response();
    }
    let flash = v.flash.as_deref().map(|f| format!("<p class=\"flash\">{}</p>", esc(f))).unwrap_or_default();
    let body = format!("<h1>Syncs</h1>{flash}{}", live("/?fragment=1", &inner));
    layout("Syncs", &body, v.account()).into_response()
}

pub async fn json(State(c): State<Shared>) -> Response {
    match c.read(collect).await {
        Ok(all) => Json(all).into_response(),
        Err(e) => failed(e),
    }
}

fn short_fpr(f: &Option<String>) -> String {
    match f {
        Some(f) => format!("<span class=\"fpr\" title=\"{}\">{}…</span>", esc(f), esc(&f[..f.len().min(16)])),
        None => "—".into(),
    }
}

fn render(all: &[SyncStatus], now: i64) -> String {
    if all.is_empty() {
        return "<p>No syncs in this home yet: create one with <code>postern sync create</code>.</p>".into();
    }
    let mut rows = String::new();
    for s in all {
        let todo = advice(s);
        let todo = if todo.is_empty() {
            String::new()
        } else {
            format!(
                "<ul class=\"todo\">{}</ul>",
                todo.iter().map(|t| format!("<li>{}</li>", prose(t))).collect::<String>()
            )
        };
        rows.push_str(&format!(
            "<tr class=\"sync\" data-sync=\"{name}\"><td><a href=\"/sync/{url}\">{name}</a></td><td>{role}</td>\
             <td class=\"state\">{badge}</td><td class=\"todo\">{todo}</td><td>{protocol}</td><td>{fpr}</td>\
             <td>{last}</td><td class=\"n\">{out}</td><td class=\"n\">{inn}</td><td class=\"n\">{ack}</td>\
             <td class=\"n\">{gap}</td><td class=\"n errors\">{errors}</td><td class=\"n\">{conflicts}</td>\
             <td class=\"n\">{quarantined}</td></tr>",
            name = esc(&s.name),
            url = super::auth::percent(&s.name),
            role = s.role,
            badge = badge(health(s)),
            protocol = esc(&s.protocol),
            fpr = short_fpr(&s.partner_fingerprint),
            last = match s.last_received_seq {
                Some(seq) => format!("#{seq}, {}", when(s.last_received_at, now)),
                None => "none yet".into(),
            },
            out = s.outgoing_seq,
            inn = s.incoming_seq,
            ack = s.awaiting_ack,
            gap = s.held_for_gap,
            errors = s.issues_with_errors,
            conflicts = s.conflicts,
            quarantined = s.quarantined,
        ));
    }
    format!(
        "<div class=\"scroll\"><table id=\"syncs\"><thead><tr><th>Sync</th><th>Role</th><th>State</th><th>What to do</th><th>Protocol</th>\
         <th>Partner</th><th>Last message in</th><th class=\"n\">Out seq</th><th class=\"n\">In seq</th>\
         <th class=\"n\">Awaiting ack</th><th class=\"n\">Held for gap</th><th class=\"n\">Issues with errors</th>\
         <th class=\"n\">Conflicts</th><th class=\"n\">Quarantined</th></tr></thead>\
         <tbody>{rows}</tbody></table></div>"
    )
}
