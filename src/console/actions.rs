//! Admin actions (only with `--http-admin`): pause and resume a sync,
//! verify it (and repair what differs), retry
//! an issue's blocked changes, re-apply or dismiss a conflict. Each needs
//! the token (a session with the form's CSRF token, or a Bearer header),
//! runs the same code as the CLI command, and is logged.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;

use super::auth::{percent, CsrfForm, Viewer};
use super::Shared;

/// The form, or nothing usable: who may act is checked before what was sent.
type FormResult = Result<Form<CsrfForm>, axum::extract::rejection::FormRejection>;
use crate::engine::admin;
use crate::store::syncs;

/// Checks that `v` may act, runs `f` on the sync, and answers: a browser
/// goes back to the sync page with the outcome shown once; a script gets
/// the line (200) or the error (409).
async fn run(
    c: Shared,
    v: Viewer,
    form: FormResult,
    name: String,
    what: String,
    f: impl FnOnce(&mut rusqlite::Connection, &crate::store::SyncRecord) -> anyhow::Result<String> + Send + 'static,
) -> Response {
    if !c.opts.admin {
        return (StatusCode::FORBIDDEN, "actions are off: start the daemon with --http-admin\n").into_response();
    }
    if !v.admin {
        return (StatusCode::UNAUTHORIZED, "actions need the console's token: log in at /login\n").into_response();
    }
    let form = form.map(|Form(f)| f).unwrap_or(CsrfForm { csrf: None });
    if let Some(r) = v.csrf_refusal(form.csrf.as_deref()) {
        return r;
    }
    let sync_name = name.clone();
    let outcome = c
        .write(move |conn| {
            let s = syncs::find(conn, &sync_name)?;
            f(conn, &s)
        })
        .await;
    let line = match &outcome {
        Ok(line) => line.clone(),
        Err(e) => format!("{e:#}"),
    };
    tracing::info!(sync = %name, "console action {what}: {line}");
    match (&v.session, outcome.is_ok()) {
        (Some(id), _) => {
            c.sessions.set_flash(id, line);
            Redirect::to(&format!("/sync/{}", percent(&name))).into_response()
        }
        (None, true) => (StatusCode::OK, format!("{line}\n")).into_response(),
        (None, false) => (StatusCode::CONFLICT, format!("{line}\n")).into_response(),
    }
}

/// `POST /sync/{name}/pause|resume|verify|repair`.
pub async fn act(
    State(c): State<Shared>,
    Extension(v): Extension<Viewer>,
    Path((name, action)): Path<(String, String)>,
    form: FormResult,
) -> Response {
    match action.as_str() {
        "pause" => run(c, v, form, name, action, |conn, s| admin::pause(conn, s)).await,
        "resume" => run(c, v, form, name, action, |conn, s| admin::resume(conn, s)).await,
        "verify" | "repair" => {
            let repair = action == "repair";
            run(c, v, form, name, action, move |conn, s| {
                crate::engine::verify::start(conn, s, repair)?;
                Ok(format!(
                    "{} of sync '{}' sent to the partner: the report shows here once it answered",
                    if repair { "Verify and repair" } else { "Verify" },
                    s.name
                ))
            })
            .await
        }
        _ => super::html::not_found().await,
    }
}

/// `POST /sync/{name}/errors/{issue}/retry`.
pub async fn retry(
    State(c): State<Shared>,
    Extension(v): Extension<Viewer>,
    Path((name, issue)): Path<(String, String)>,
    form: FormResult,
) -> Response {
    let what = format!("retry {issue}");
    run(c, v, form, name, what, move |conn, s| match admin::retry(conn, s, &issue)? {
        Ok(line) => Ok(line),
        Err(line) => anyhow::bail!("{line}"),
    })
    .await
}

/// `POST /sync/{name}/conflicts/{id}/reapply|dismiss`.
pub async fn conflict(
    State(c): State<Shared>,
    Extension(v): Extension<Viewer>,
    Path((name, id, action)): Path<(String, i64, String)>,
    form: FormResult,
) -> Response {
    let what = format!("{action} conflict #{id}");
    match action.as_str() {
        "reapply" => run(c, v, form, name, what, move |conn, s| admin::reapply(conn, s, id)).await,
        "dismiss" => run(c, v, form, name, what, move |conn, s| admin::dismiss(conn, s, id)).await,
        _ => super::html::not_found().await,
    }
}
