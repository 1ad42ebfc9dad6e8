//! An HTTP proxy that makes the faults real servers make, between postern
//! and a tracker: the server acts but its answer is lost (the connection
//! reset after forwarding), an answer cut short, an answer slower than
//! the client waits, a 502 without acting, storms of 429 (`Retry-After`).
//! Faults come from a seeded generator, so a run can be repeated; each
//! kind is counted. Every connection carries one request
//! (`Connection: close` both ways).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Forwarded, answered whole.
    None,
    /// Forwarded (the server acts), then the connection is closed with no
    /// answer.
    AnswerLost,
    /// Forwarded; the answer's head and half its body, then closed.
    Truncated,
    /// Not forwarded: 502 from the proxy.
    Unavailable,
    /// Not forwarded: the status of [`Plan::refuse`] (a proxy's limit).
    Refused,
    /// Forwarded (the server acts), its answer held for [`Plan::slow_ms`]:
    /// longer than the client waits.
    Slow,
    /// Not forwarded: 429 with `Retry-After: 0` (a test has no time to
    /// wait), in storms (the next
    /// requests meet it too).
    Throttled,
    /// Held for [`Plan::late`]'s time, longer than the client waits, then
    /// forwarded (the server acts after the client gave up) and its
    /// answer dropped: a server busy with it still.
    Late,
}

/// How many requests in a row a storm of 429s lasts.
const STORM: u32 = 4;

/// Something done (once) just before the `nth` request whose `METHOD
/// path` holds `matches` is forwarded: a person's edit meanwhile.
pub struct Hook {
    pub matches: String,
    pub nth: u64,
    pub run: Box<dyn FnOnce() + Send>,
}

#[derive(Default)]
pub struct Plan {
    /// Out of 100: the chance a write (POST, PUT, DELETE) meets a fault,
    /// and a read (GET).
    pub writes_pct: u64,
    pub reads_pct: u64,
    /// Requests whose `METHOD path` holds this text are refused with this
    /// status, not forwarded (say, uploads with 413 by a proxy's size
    /// limit; `POST /issues.json` only the creation of issues).
    pub refuse: Option<(String, u16)>,
    /// Counted by kind (and `None` for the requests passed untouched).
    pub counts: std::collections::BTreeMap<Fault, u64>,
    pub before: Option<Hook>,
    /// The first request whose `METHOD path` holds this text is forwarded
    /// and its answer lost (once).
    pub lose: Option<String>,
    /// The first request whose `METHOD path` holds this text is held this
    /// many ms, then forwarded with no answer (once): [`Fault::Late`].
    pub late: Option<(String, u64)>,
    /// How long a slow answer is held (0: no slow answers).
    pub slow_ms: u64,
    /// How long the late request under way is held.
    late_ms: u64,
    /// Requests left in the storm of 429s under way.
    storm: u32,
    seed: u64,
}

impl Plan {
    fn next(&mut self) -> u64 {
        // xorshift: repeatable for one seed.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        self.seed
    }

    fn pick(&mut self, method: &str, path: &str) -> Fault {
        if self.refuse.as_ref().is_some_and(|(p, _)| format!("{method} {path}").contains(p.as_str())) {
            *self.counts.entry(Fault::Refused).or_default() += 1;
            return Fault::Refused;
        }
        if self.lose.as_ref().is_some_and(|p| format!("{method} {path}").contains(p.as_str())) {
            self.lose = None;
            *self.counts.entry(Fault::AnswerLost).or_default() += 1;
            return Fault::AnswerLost;
        }
        if self.late.as_ref().is_some_and(|(p, _)| format!("{method} {path}").contains(p.as_str())) {
            self.late_ms = self.late.take().map_or(0, |(_, ms)| ms);
            *self.counts.entry(Fault::Late).or_default() += 1;
            return Fault::Late;
        }
        let pct = if method == "GET" { self.reads_pct } else { self.writes_pct };
        let fault = if self.storm > 0 && pct > 0 {
            self.storm -= 1;
            Fault::Throttled
        } else if self.next() % 100 < pct {
            let kinds = if self.slow_ms > 0 { 5 } else { 4 };
            match self.next() % kinds {
                4 => Fault::Slow,
                0 => Fault::AnswerLost,
                1 => Fault::Truncated,
                2 => Fault::Unavailable,
                _ => {
                    self.storm = STORM - 1;
                    Fault::Throttled
                }
            }
        } else {
            Fault::None
        };
        *self.counts.entry(fault).or_default() += 1;
        fault
    }

    /// The hook, when this request is the one it waits for.
    fn hook_for(&mut self, method: &str, path: &str) -> Option<Box<dyn FnOnce() + Send>> {
        let hook = self.before.as_mut()?;
        if !format!("{method} {path}").contains(hook.matches.as_str()) {
            return None;
        }
        hook.nth -= 1;
        if hook.nth > 0 {
            return None;
        }
        self.before.take().map(|h| h.run)
    }

    /// The faults made so far, for a test to print.
    pub fn said(&self) -> String {
        self.counts.iter().map(|(k, v)| format!("{k:?} {v}")).collect::<Vec<_>>().join(", ")
    }
}

pub struct Proxy {
    pub url: String,
    pub plan: Arc<Mutex<Plan>>,
}

/// Starts a proxy on a loopback port in front of `upstream`
/// (`host:port`), with no faults until the plan says.
pub fn start(upstream: &str, seed: u64) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let plan = Arc::new(Mutex::new(Plan { seed: seed.max(1), ..Default::default() }));
    let (shared, upstream) = (plan.clone(), upstream.to_string());
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let (plan, upstream) = (shared.clone(), upstream.clone());
            std::thread::spawn(move || {
                let _ = serve(client, &upstream, &plan);
            });
        }
    });
    Proxy { url, plan }
}

/// The head of an HTTP message (up to the blank line) and what followed it.
fn read_head(s: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// `head` with its Connection header replaced by `Connection: close`.
fn closing(head: &str) -> String {
    let mut lines: Vec<&str> = head.trim_end().split("\r\n").collect();
    lines.retain(|l| !l.to_ascii_lowercase().starts_with("connection:"));
    format!("{}\r\nConnection: close\r\n\r\n", lines.join("\r\n"))
}

fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0)
}

fn serve(mut client: TcpStream, upstream: &str, plan: &Mutex<Plan>) -> std::io::Result<()> {
    let (head, mut body) = read_head(&mut client)?;
    let want = content_length(&head);
    while body.len() < want {
        let mut chunk = vec![0u8; want - body.len()];
        let n = client.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let mut words = head.split(' ');
    let (method, path) = (words.next().unwrap_or("").to_string(), words.next().unwrap_or("").to_string());
    let hook = plan.lock().unwrap().hook_for(&method, &path);
    if let Some(run) = hook {
        run();
    }
    let fault = plan.lock().unwrap().pick(&method, &path);
    if fault == Fault::Refused {
        let status = plan.lock().unwrap().refuse.as_ref().map_or(400, |(_, s)| *s);
        let answer = format!("HTTP/1.1 {status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return client.write_all(answer.as_bytes());
    }
    if fault == Fault::Throttled {
        let answer =
            "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return client.write_all(answer.as_bytes());
    }
    if fault == Fault::Unavailable {
        let answer = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return client.write_all(answer.as_bytes());
    }
    if fault == Fault::Late {
        let hold = plan.lock().unwrap().late_ms;
        std::thread::sleep(std::time::Duration::from_millis(hold));
        drop(client);
        let mut server = TcpStream::connect(upstream)?;
        server.write_all(closing(&head).as_bytes())?;
        server.write_all(&body)?;
        return server.read_to_end(&mut Vec::new()).map(drop);
    }
    let mut server = TcpStream::connect(upstream)?;
    server.write_all(closing(&head).as_bytes())?;
    server.write_all(&body)?;
    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    if fault == Fault::Slow {
        let hold = plan.lock().unwrap().slow_ms;
        std::thread::sleep(std::time::Duration::from_millis(hold));
    }
    match fault {
        Fault::AnswerLost => Ok(()), // dropped: the client sees the connection close
        Fault::Truncated => {
            let cut = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(answer.len(), |p| p + 4);
            let keep = cut + (answer.len() - cut) / 2;
            let head = String::from_utf8_lossy(&answer[..cut]).into_owned();
            client.write_all(closing(&head).as_bytes())?;
            client.write_all(&answer[cut..keep])
        }
        _ => {
            let cut = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(answer.len(), |p| p + 4);
            let head = String::from_utf8_lossy(&answer[..cut]).into_owned();
            client.write_all(closing(&head).as_bytes())?;
            client.write_all(&answer[cut..])
        }
    }
}
