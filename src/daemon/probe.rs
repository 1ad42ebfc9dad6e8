//! A remote tracker that does not answer at all (down, a network cut) is
//! looked at every second with a bare TCP connect, no request; the moment
//! it answers, its sync runs again instead of waiting out its back-off.
//! One that answers with errors is left to the back-off (no request loop
//! against a server in trouble).

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::events::Event;

/// How often a tracker that does not answer is looked at.
const EVERY: Duration = Duration::from_secs(1);

/// The host and port a tracker's URL names (`None`: not a URL we know).
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let default = match scheme {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    let (host, port) = match authority.strip_prefix('[') {
        // [::1]:8080
        Some(v6) => {
            let (host, rest) = v6.split_once(']')?;
            (host.to_string(), rest.strip_prefix(':').map(str::parse).transpose().ok()?.unwrap_or(default))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().ok()?),
            None => (authority.to_string(), default),
        },
    };
    (!host.is_empty()).then_some((host, port))
}

async fn answers(host: &str, port: u16) -> bool {
    let connect = tokio::net::TcpStream::connect((host, port));
    matches!(tokio::time::timeout(Duration::from_secs(3), connect).await, Ok(Ok(_)))
}

/// Watches sync `id`'s tracker at `host:port`: if it answers now, says
/// [`Event::Probed`] with `false` at once; else looks every second and
/// says `true` when it answers.
pub fn spawn(id: String, (host, port): (String, u16), tell: UnboundedSender<Event>) {
    tokio::spawn(async move {
        if answers(&host, port).await {
            let _ = tell.send(Event::Probed(id, false));
            return;
        }
        loop {
            tokio::time::sleep(EVERY).await;
            if answers(&host, port).await {
                let _ = tell.send(Event::Probed(id, true));
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn a_trackers_address_is_read_from_its_url() {
        let hp = |u: &str| host_port(u).map(|(h, p)| format!("{h}:{p}"));
        assert_eq!(hp("https://jira.example.com/").as_deref(), Some("jira.example.com:443"));
        assert_eq!(hp("http://127.0.0.1:3000/redmine").as_deref(), Some("127.0.0.1:3000"));
        assert_eq!(hp("http://[::1]:8080").as_deref(), Some("::1:8080"));
        assert_eq!(hp("https://user@host.example:8443/x?y").as_deref(), Some("host.example:8443"));
        assert_eq!(hp("ftp://x"), None);
        assert_eq!(hp("http://"), None);
    }
}
