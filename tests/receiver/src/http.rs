//! A minimal HTTP/1.1 server side: request reading (Content-Length and chunked
//! bodies, keep-alive, `Expect: 100-continue`) and response building.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 128;
const MAX_BODY: usize = 256 * 1024 * 1024;

/// A request as read from the socket.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: String,
    /// Origin-form target (absolute-form is reduced to its path and query).
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// Names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn keep_alive(&self) -> bool {
        let conn = self
            .header("connection")
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if self.version == 0 {
            conn.contains("keep-alive")
        } else {
            !conn.contains("close")
        }
    }

    /// (path, query)
    pub fn path_and_query(&self) -> (String, Option<String>) {
        match self.target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (self.target.clone(), None),
        }
    }
}

#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed (or failed) before or during a request; nothing to answer.
    Closed,
    /// Malformed request: answer 400 and close.
    Bad(String),
    /// Body too large: answer 413 and close.
    TooLarge,
}

impl From<std::io::Error> for ReadError {
    fn from(_: std::io::Error) -> Self {
        ReadError::Closed
    }
}

pub(crate) struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::with_capacity(8192),
        }
    }

    /// Reads more bytes into the buffer; EOF is an error (mid-request).
    async fn fill(&mut self) -> Result<(), ReadError> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Reads the next request. `Closed` on a clean EOF between requests.
    pub async fn read_request(&mut self) -> Result<Request, ReadError> {
        // Tolerate stray CRLFs between requests (RFC 9112 2.2).
        loop {
            while self.buf.first().is_some_and(|b| *b == b'\r' || *b == b'\n') {
                self.buf.remove(0);
            }
            if !self.buf.is_empty() {
                break;
            }
            self.fill().await?;
        }
        let (head_len, mut req) = loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Request::new(&mut headers);
            match parsed.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let req = Request {
                        method: parsed.method.unwrap_or_default().to_string(),
                        target: origin_form(parsed.path.unwrap_or("/")),
                        version: parsed.version.unwrap_or(1),
                        headers: parsed
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_ascii_lowercase(),
                                    String::from_utf8_lossy(h.value).trim().to_string(),
                                )
                            })
                            .collect(),
                        body: Vec::new(),
                    };
                    break (n, req);
                }
                Ok(httparse::Status::Partial) => {
                    if self.buf.len() > MAX_HEAD {
                        return Err(ReadError::Bad("request head too large".into()));
                    }
                }
                Err(e) => return Err(ReadError::Bad(format!("malformed request: {e}"))),
            }
            self.fill().await?;
        };
        self.buf.drain(..head_len);

        let chunked = req
            .header("transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
        let content_length = match req.header("content-length") {
            Some(v) if !chunked => Some(
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| ReadError::Bad(format!("bad Content-Length: {v:?}")))?,
            ),
            _ => None,
        };
        let has_body = chunked || content_length.is_some_and(|n| n > 0);
        if has_body
            && req
                .header("expect")
                .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
        {
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await?;
        }
        if chunked {
            req.body = self.read_chunked().await?;
        } else if let Some(n) = content_length {
            if n > MAX_BODY {
                return Err(ReadError::TooLarge);
            }
            // Read straight into a buffer of the body's size, and hand that buffer over (a
            // large export is read without intermediate copies or regrowth).
            if self.buf.len() < n {
                self.buf.reserve_exact(n - self.buf.len());
            }
            while self.buf.len() < n {
                let read = self.stream.read_buf(&mut self.buf).await?;
                if read == 0 {
                    return Err(ReadError::Closed);
                }
            }
            let rest = self.buf.split_off(n);
            req.body = std::mem::replace(&mut self.buf, rest);
            if self.buf.capacity() < 8192 {
                self.buf.reserve(8192 - self.buf.len());
            }
        }
        Ok(req)
    }

    async fn read_line(&mut self) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Bad("chunk line too long".into()));
            }
            self.fill().await?;
        }
    }

    async fn read_chunked(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line().await?;
            let text = String::from_utf8_lossy(&line);
            let size_text = text.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| ReadError::Bad(format!("bad chunk size: {size_text:?}")))?;
            if size == 0 {
                // Trailers, up to an empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(body);
            }
            if body.len().saturating_add(size) > MAX_BODY {
                return Err(ReadError::TooLarge);
            }
            while self.buf.len() < size {
                self.fill().await?;
            }
            body.extend(self.buf.drain(..size));
            if !self.read_line().await?.is_empty() {
                return Err(ReadError::Bad("missing CRLF after chunk".into()));
            }
        }
    }

    /// Reads and discards until the peer closes (used to hold a hung connection).
    pub async fn drain_until_closed(&mut self) {
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }
}

fn origin_form(target: &str) -> String {
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            return match rest.find('/') {
                Some(i) => rest[i..].to_string(),
                None => "/".to_string(),
            };
        }
    }
    target.to_string()
}

/// A response to be written.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub content_type: Option<&'static str>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, v: &serde_json::Value) -> Response {
        Response {
            status,
            content_type: Some("application/json"),
            headers: Vec::new(),
            body: v.to_string().into_bytes(),
        }
    }

    pub fn serialized<T: serde::Serialize>(status: u16, v: &T) -> Response {
        match serde_json::to_vec(v) {
            Ok(body) => Response {
                status,
                content_type: Some("application/json"),
                headers: Vec::new(),
                body,
            },
            Err(e) => Response::json(500, &serde_json::json!({"error": e.to_string()})),
        }
    }

    pub fn error(status: u16, msg: &str) -> Response {
        Response::json(status, &serde_json::json!({ "error": msg }))
    }

    /// The bytes on the wire.
    pub fn to_bytes(&self, close: bool) -> Vec<u8> {
        let mut out = self
            .head(close, Framing::Length(self.body.len() as u64))
            .into_bytes();
        if !self.no_body() {
            out.extend_from_slice(&self.body);
        }
        out
    }

    fn no_body(&self) -> bool {
        self.status == 204 || self.status == 304
    }

    /// The status line and headers, up to and including the empty line, for a body framed
    /// as `framing` (`self.body` itself is not used).
    pub fn head(&self, close: bool, framing: Framing) -> String {
        let no_body = self.no_body();
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        if let Some(ct) = self.content_type {
            if !no_body {
                head.push_str(&format!("Content-Type: {ct}\r\n"));
            }
        }
        for (n, v) in &self.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        if !no_body {
            match framing {
                Framing::Length(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
                Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
            }
        }
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        head
    }
}

/// How a response body is delimited.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Framing {
    Length(u64),
    Chunked,
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
