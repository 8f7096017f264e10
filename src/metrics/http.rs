//! The scrape endpoint: `GET /metrics` over HTTP/1.x on already-bound TCP
//! listeners (exabgp_metrics_listen, or the socket systemd hands over with
//! FileDescriptorName=metrics). Deliberately tiny: one request per connection,
//! answered and closed; no keep-alive, no chunking, no other paths.
//!
//! Bounded, because whoever reaches the port can connect: at most
//! [`MAX_CLIENTS`] connections at once (more wait in the kernel's backlog), the
//! request head must arrive within [`READ_TIMEOUT`] and fit in [`MAX_REQUEST`]
//! bytes, and the answer must be taken within [`WRITE_TIMEOUT`]. The text is built
//! from published values and cached ([`super::cached`]: rendered at most once per
//! [`super::MAX_STALENESS`]): a scrape never waits for the core, and scrapes in
//! quick succession cost an accept and a write each.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Connections served at once.
pub const MAX_CLIENTS: usize = 8;
/// Bytes of request head read at most (request line and headers).
pub const MAX_REQUEST: usize = 8192;
/// Time the client gets to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Time the client gets to take the answer.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot use the metrics listener: {0}")]
    Listener(std::io::Error),
    #[error("cannot listen for metrics on {addr} (exabgp_metrics_listen): {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

impl HttpError {
    /// The exit code (sysexits), as for the BGP listeners: 77 when the address
    /// needs a privilege we lack, 71 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            HttpError::Bind { source, .. }
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                crate::EX_NOPERM
            }
            _ => crate::EX_OSERR,
        }
    }
}

/// The endpoint's listeners: those systemd handed over (FileDescriptorName=metrics)
/// and, when exabgp_metrics_listen is set, one bound on it now (before privileges
/// are dropped, like the BGP listeners).
pub fn bind(
    listen: Option<std::net::SocketAddr>,
    mut handed: Vec<std::net::TcpListener>,
) -> Result<Vec<std::net::TcpListener>, HttpError> {
    if let Some(addr) = listen {
        let l =
            std::net::TcpListener::bind(addr).map_err(|source| HttpError::Bind { addr, source })?;
        handed.push(l);
    }
    Ok(handed)
}

/// Makes tokio listeners of `listeners` (already bound and listening).
pub fn adopt(listeners: Vec<std::net::TcpListener>) -> Result<Vec<TcpListener>, HttpError> {
    listeners
        .into_iter()
        .map(|l| {
            l.set_nonblocking(true).map_err(HttpError::Listener)?;
            TcpListener::from_std(l).map_err(HttpError::Listener)
        })
        .collect()
}

/// Serves every listener until `shutdown`.
pub async fn serve(listeners: Vec<TcpListener>, shutdown: CancellationToken) {
    let slots = std::sync::Arc::new(Semaphore::new(MAX_CLIENTS));
    let tracker = TaskTracker::new();
    for l in listeners {
        let (slots, token, t) = (slots.clone(), shutdown.clone(), tracker.clone());
        tracker.spawn(async move { accept_loop(l, slots, token, t).await });
    }
    tracker.close();
    tracker.wait().await;
}

async fn accept_loop(
    listener: TcpListener,
    slots: std::sync::Arc<Semaphore>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = shutdown.cancelled() => return,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of fds or buffers: back off instead of spinning.
                    tracing::warn!("metrics listener accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.cancelled() => return,
        };
        tracker.spawn(async move {
            serve_one(stream).await;
            drop(permit);
        });
    }
}

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Asked {
    /// GET (or HEAD: `head` true) of /metrics.
    Metrics {
        head: bool,
    },
    NotFound,
    MethodNotAllowed,
    BadRequest,
}

/// Reads the request line of `head` (what was read up to the blank line).
pub fn parse_request(head: &[u8]) -> Asked {
    let Ok(text) = std::str::from_utf8(head) else {
        return Asked::BadRequest;
    };
    let line = text.split("\r\n").next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Asked::BadRequest;
    };
    if !version.starts_with("HTTP/1.") {
        return Asked::BadRequest;
    }
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics") => Asked::Metrics { head: false },
        ("HEAD", "/metrics") => Asked::Metrics { head: true },
        (_, "/metrics") => Asked::MethodNotAllowed,
        _ => Asked::NotFound,
    }
}

/// Reads the request head: Some(bytes up to and with the blank line), None when
/// the client sent more than [`MAX_REQUEST`] bytes without one, closed early or
/// was too slow.
async fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(1024);
    let read = async {
        let mut chunk = [0u8; 1024];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                buf.truncate(end + 4);
                return Some(());
            }
            if buf.len() >= MAX_REQUEST {
                return None;
            }
            let want = chunk.len().min(MAX_REQUEST - buf.len());
            match stream.read(&mut chunk[..want]).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    match tokio::time::timeout(READ_TIMEOUT, read).await {
        Ok(Some(())) => Some(buf),
        _ => None,
    }
}

fn response(status: &str, content_type: &str, body: &str, head: bool) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

async fn serve_one(mut stream: TcpStream) {
    let answer = match read_head(&mut stream).await {
        None => response(
            "400 Bad Request",
            "text/plain",
            "request too large, incomplete or too slow\n",
            false,
        ),
        Some(head) => match parse_request(&head) {
            // Rendering reads /proc and walks every peer (hundreds of ms with
            // thousands of neighbors): on a blocking thread, never on a worker
            // of the runtime the core loop and the sessions run on.
            Asked::Metrics { head } => match tokio::task::spawn_blocking(super::cached).await {
                Ok(text) => response("200 OK", super::CONTENT_TYPE, &text, head),
                Err(_) => response(
                    "500 Internal Server Error",
                    "text/plain",
                    "rendering the metrics failed\n",
                    false,
                ),
            },
            Asked::NotFound => response(
                "404 Not Found",
                "text/plain",
                "only /metrics is here\n",
                false,
            ),
            Asked::MethodNotAllowed => response(
                "405 Method Not Allowed",
                "text/plain",
                "GET /metrics\n",
                false,
            ),
            Asked::BadRequest => response("400 Bad Request", "text/plain", "bad request\n", false),
        },
    };
    let write = async {
        stream.write_all(&answer).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(WRITE_TIMEOUT, write).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_metrics_is_answered() {
        let p = |s: &str| parse_request(s.as_bytes());
        assert_eq!(
            p("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Asked::Metrics { head: false }
        );
        assert_eq!(
            p("GET /metrics?x=1 HTTP/1.0\r\n\r\n"),
            Asked::Metrics { head: false }
        );
        assert_eq!(
            p("HEAD /metrics HTTP/1.1\r\n\r\n"),
            Asked::Metrics { head: true }
        );
        assert_eq!(p("POST /metrics HTTP/1.1\r\n\r\n"), Asked::MethodNotAllowed);
        assert_eq!(p("GET / HTTP/1.1\r\n\r\n"), Asked::NotFound);
        assert_eq!(p("GET /metrics\r\n\r\n"), Asked::BadRequest);
        assert_eq!(p("GET /metrics SPDY/3\r\n\r\n"), Asked::BadRequest);
        assert_eq!(parse_request(&[0xff, 0xfe]), Asked::BadRequest);
    }

    async fn exchange(addr: std::net::SocketAddr, req: &[u8]) -> String {
        let mut c = TcpStream::connect(addr).await.unwrap();
        let _ = c.write_all(req).await;
        let mut out = String::new();
        let _ = tokio::time::timeout(Duration::from_secs(20), c.read_to_string(&mut out)).await;
        out
    }

    /// Over real TCP: a scrape gets the text; an oversized head gets 400 without
    /// the server reading it all; the server serves on after both.
    #[tokio::test]
    async fn answers_over_tcp_and_refuses_oversized_heads() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve(adopt(vec![l]).unwrap(), stop.clone()));
        let ok = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(
            ok.contains("Content-Type: text/plain; version=0.0.4"),
            "{ok}"
        );
        assert!(ok.contains("exabgp_build_info{version="), "{ok}");
        let big = vec![b'a'; MAX_REQUEST];
        let bad = exchange(addr, &big).await;
        assert!(bad.starts_with("HTTP/1.1 400"), "{bad}");
        let again = exchange(addr, b"GET /nope HTTP/1.1\r\n\r\n").await;
        assert!(again.starts_with("HTTP/1.1 404"), "{again}");
        stop.cancel();
        tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .unwrap()
            .unwrap();
    }
}
