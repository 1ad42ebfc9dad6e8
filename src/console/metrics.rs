//! `/metrics` in the Prometheus text format (0.0.4) and `/health`.
//!
//! Every metric is documented in docs/console.md. Counters come
//! from the database (sequence numbers, the activity table), so they
//! survive restarts; gauges are read at scrape time.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Shared;
use crate::status::{collect, SyncStatus};
use crate::store::{activity, now_ms};

/// Escapes a label value (backslash, quote, newline).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    value: fn(&Row) -> Option<f64>,
}

struct Row {
    s: SyncStatus,
    totals: activity::Traffic,
    pairs: u64,
    now: i64,
}

const FAMILIES: &[Family] = &[
    Family {
        name: "postern_messages_sent_total",
        kind: "counter",
        help: "Numbered messages queued for the partner (the outgoing sequence id).",
        value: |r| Some(r.s.outgoing_seq as f64),
    },
    Family {
        name: "postern_messages_received_total",
        kind: "counter",
        help: "The partner's numbered messages applied (the incoming sequence id).",
        value: |r| Some(r.s.incoming_seq as f64),
    },
    Family {
        name: "postern_messages_quarantined_total",
        kind: "counter",
        help: "Files or mails that failed the checks and were set aside.",
        value: |r| Some(r.s.quarantined as f64),
    },
    Family {
        name: "postern_changes_sent_total",
        kind: "counter",
        help: "Changes sent to the partner.",
        value: |r| Some(r.totals.changes_out as f64),
    },
    Family {
        name: "postern_changes_applied_total",
        kind: "counter",
        help: "Changes of the partner's messages applied here.",
        value: |r| Some(r.totals.changes_in as f64),
    },
    Family {
        name: "postern_outbox_messages",
        kind: "gauge",
        help: "Messages awaiting the partner's acknowledgement (outbox depth).",
        value: |r| Some(r.s.awaiting_ack as f64),
    },
    Family {
        name: "postern_held_messages",
        kind: "gauge",
        help: "Messages that arrived ahead of a gap and wait for it.",
        value: |r| Some(r.s.held_for_gap as f64),
    },
    Family {
        name: "postern_issues_with_errors",
        kind: "gauge",
        help: "Issues whose incoming changes are blocked by an error.",
        value: |r| Some(r.s.issues_with_errors as f64),
    },
    Family {
        name: "postern_conflicts_open",
        kind: "gauge",
        help: "Open conflicts.",
        value: |r| Some(r.s.conflicts as f64),
    },
    Family {
        name: "postern_divergent_issues",
        kind: "gauge",
        help: "Issues that differed from the partner's at the last verify.",
        value: |r| Some(r.s.diverged.len() as f64),
    },
    Family {
        name: "postern_last_verify_timestamp_seconds",
        kind: "gauge",
        help: "When the last verify of both trackers finished (Unix time).",
        value: |r| r.s.verify.last_finished_at.map(|t| t as f64 / 1000.0),
    },
    Family { name: "postern_pairs", kind: "gauge", help: "Paired issues.", value: |r| Some(r.pairs as f64) },
    Family {
        name: "postern_sync_failing",
        kind: "gauge",
        help: "1 while reading, receiving or sending keeps failing.",
        value: |r| Some(f64::from(u8::from(!r.s.failing.is_empty()))),
    },
    Family {
        name: "postern_sync_stalled",
        kind: "gauge",
        help: "1 while the partner does not acknowledge our messages, or a gap in its messages does not fill.",
        value: |r| Some(f64::from(u8::from(!r.s.stalled.is_empty()))),
    },
    Family {
        name: "postern_sync_paused",
        kind: "gauge",
        help: "1 while the admin paused the sync.",
        value: |r| Some(f64::from(u8::from(r.s.state == "paused"))),
    },
    Family {
        name: "postern_sync_active",
        kind: "gauge",
        help: "1 once the handshake is complete.",
        value: |r| Some(f64::from(u8::from(r.s.state == "active" || r.s.state == "paused"))),
    },
    Family {
        name: "postern_last_message_received_timestamp_seconds",
        kind: "gauge",
        help: "When the partner's last message arrived (Unix time).",
        value: |r| r.s.last_received_at.map(|t| t as f64 / 1000.0),
    },
    Family {
        name: "postern_lag_seconds",
        kind: "gauge",
        help: "Seconds since the partner's last message arrived.",
        value: |r| r.s.last_received_at.map(|t| ((r.now - t).max(0) as f64) / 1000.0),
    },
];

/// The metrics text for every sync in `conn`.
pub fn render(conn: &rusqlite::Connection) -> anyhow::Result<String> {
    let now = now_ms();
    let rows = collect(conn)?
        .into_iter()
        .map(|s| {
            let pairs =
                conn.query_row("SELECT COUNT(*) FROM link WHERE sync_id = ?1", [&s.id], |r| r.get::<_, i64>(0))?;
            Ok(Row { totals: activity::totals(conn, &s.id)?, pairs: pairs as u64, s, now })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP postern_syncs Syncs in this home.\n# TYPE postern_syncs gauge\npostern_syncs {}",
        rows.len()
    );
    let _ = writeln!(
        out,
        "# HELP postern_sync_info A sync's role, protocol and state (always 1).\n# TYPE postern_sync_info gauge"
    );
    for r in &rows {
        let _ = writeln!(
            out,
            "postern_sync_info{{sync=\"{}\",role=\"{}\",protocol=\"{}\",state=\"{}\"}} 1",
            label(&r.s.name),
            r.s.role,
            label(&r.s.protocol),
            super::view::health(&r.s)
        );
    }
    let _ = writeln!(
        out,
        "# HELP postern_webhooks_total Webhooks taken (a sync woken) or refused (unsigned, wrongly signed, for \
         nothing synced here) since the daemon started.\n# TYPE postern_webhooks_total counter\n\
         postern_webhooks_total{{result=\"taken\"}} {}\npostern_webhooks_total{{result=\"refused\"}} {}",
        super::hooks::TAKEN.load(std::sync::atomic::Ordering::Relaxed),
        super::hooks::REFUSED.load(std::sync::atomic::Ordering::Relaxed)
    );
    for f in FAMILIES {
        let _ = writeln!(out, "# HELP {} {}\n# TYPE {} {}", f.name, f.help, f.name, f.kind);
        for r in &rows {
            if let Some(v) = (f.value)(r) {
                let _ = writeln!(out, "{}{{sync=\"{}\"}} {v}", f.name, label(&r.s.name));
            }
        }
    }
    Ok(out)
}

pub async fn metrics(State(c): State<Shared>) -> Response {
    match c.read(render).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("cannot read postern's database: {e:#}\n")).into_response(),
    }
}

/// 200 while the daemon serves and its database reads; 503 otherwise.
/// The body says how many syncs are failing (still 200: a failing sync is
/// for alerts, not for taking the daemon out of service).
pub async fn health(State(c): State<Shared>) -> Response {
    let counts = c
        .read(|conn| {
            let all = collect(conn)?;
            let count = |f: fn(&SyncStatus) -> bool| all.iter().filter(|s| f(s)).count();
            Ok((
                all.len(),
                count(|s| !s.failing.is_empty()),
                count(|s| !s.stalled.is_empty()),
                count(|s| !s.diverged.is_empty()),
            ))
        })
        .await;
    match counts {
        Ok((n, failing, stalled, diverged)) => (
            StatusCode::OK,
            format!(
                "ok: {}, {failing} failing, {stalled} stalled, {diverged} diverged\n",
                crate::words::plural(n as u64, "sync", "syncs")
            ),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!("console: health check failed: {e:#}");
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable: postern's database cannot be read\n").into_response()
        }
    }
}
