//! Serving a fake server (GitHub, Jira, Redmine) for a test: each fake
//! includes this file (the examples take the fakes without `common`).

/// Serves `app` (a fake server) on a free loopback port from a thread of
/// its own; its URL.
pub fn serve_fake(app: axum::Router) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    url
}
