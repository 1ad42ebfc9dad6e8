//! The web console and monitoring endpoints, served by the daemon
//! (`postern run --http ADDR`): an overview of every sync, a page per sync,
//! `/metrics` (Prometheus text format) and `/health`.
//!
//! - `server`: the accept loop in the daemon's runtime, with limits (a
//!   cap on connections, header and connection time-outs, small bodies).
//! - `auth`: who may read and act: the Host check against DNS rebinding,
//!   the admin token (Bearer, or a login that gives an HttpOnly session
//!   cookie), CSRF tokens on every form.
//! - `view`: what the pages show, read from the database on a blocking
//!   thread (never inside a sync cycle's transaction).
//! - `html`, `overview`, `sync_page`: the pages, rendered on the server;
//!   `assets/console.js` only refreshes them in place.
//! - `metrics`: `/metrics` and `/health`.
//! - `actions`: pause/resume, retry an error, re-apply or dismiss a
//!   conflict (only with `--http-admin`).
//!
//! Nothing secret is ever rendered: the status it shows is the redacted
//! one `postern status` prints.

mod actions;
mod auth;
mod hooks;
mod html;
mod metrics;
mod overview;
mod server;
mod sync_page;
mod view;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Result;
use axum::routing::{get, post};
use axum::Router;

use crate::home::Home;
pub use auth::Token;

/// How the console is served.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: SocketAddr,
    /// Allow actions (with the token).
    pub admin: bool,
    /// The token, when one is needed (admin actions, or any address that
    /// is not loopback).
    pub token: Option<Token>,
}

impl Options {
    /// Whether a token is needed (and must be given or made).
    pub fn needs_token(addr: &SocketAddr, admin: bool) -> bool {
        admin || !addr.ip().is_loopback()
    }
}

/// What every handler shares.
pub(crate) struct Console {
    home: Home,
    opts: Options,
    sessions: auth::Sessions,
    /// At most a few database reads at once.
    readers: tokio::sync::Semaphore,
}

pub(crate) type Shared = Arc<Console>;

fn router(console: Shared) -> Router {
    Router::new()
        .route("/", get(overview::page))
        .route("/sync/{name}", get(sync_page::page))
        .route("/api/status", get(overview::json))
        .route("/api/sync/{name}", get(sync_page::json))
        .route("/metrics", get(metrics::metrics))
        .route("/health", get(metrics::health))
        .route("/static/console.css", get(html::css))
        .route("/static/console.js", get(html::js))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/sync/{name}/{action}", post(actions::act))
        .route("/sync/{name}/errors/{issue}/retry", post(actions::retry))
        .route("/sync/{name}/conflicts/{id}/{action}", post(actions::conflict))
        .fallback(html::not_found)
        .layer(axum::middleware::from_fn_with_state(console.clone(), auth::guard))
        .layer(axum::extract::DefaultBodyLimit::max(16 * 1024))
        // Webhooks prove themselves by their signature, not a session;
        // an issue's payload (its body and a comment's are at most 64 KiB
        // each on GitHub) is far below 2 MiB; anyone may send them, so no
        // more is taken.
        .merge(
            Router::new()
                .route("/hooks/github", post(hooks::github))
                .route("/hooks/jira", post(hooks::jira))
                .layer(axum::extract::DefaultBodyLimit::max(2 << 20)),
        )
        .with_state(console)
}

/// Binds the address and serves the console in the current runtime.
/// Returns the bound address (port 0 picks a free one).
pub async fn start(home: Home, opts: Options) -> Result<SocketAddr> {
    if opts.token.is_none() && Options::needs_token(&opts.addr, opts.admin) {
        anyhow::bail!("the console needs a token on {} (admin actions or a non-loopback address)", opts.addr);
    }
    let listener = tokio::net::TcpListener::bind(opts.addr).await.map_err(|e| {
        anyhow::anyhow!("cannot serve the console on {}: {e} (is another postern or program using it?)", opts.addr)
    })?;
    let addr = listener.local_addr()?;
    let console =
        Arc::new(Console { home, opts, sessions: auth::Sessions::default(), readers: tokio::sync::Semaphore::new(4) });
    tokio::spawn(server::serve(listener, router(console)));
    Ok(addr)
}

impl Console {
    /// Runs `f` with a fresh read connection on a blocking thread.
    pub(crate) async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self.readers.acquire().await?;
        let home = self.home.clone();
        tokio::task::spawn_blocking(move || f(&home.open_db()?)).await?
    }

    /// Runs `f` with a fresh connection on a blocking thread (actions).
    pub(crate) async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self.readers.acquire().await?;
        let home = self.home.clone();
        tokio::task::spawn_blocking(move || f(&mut home.open_db()?)).await?
    }
}
