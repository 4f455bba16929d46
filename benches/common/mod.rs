//! Shared pieces of the Rust benchmarks: the loopback receiver as a child process, timers,
//! statistics, and the `@@ {json}` result lines that `benches/run.py` collects.
//!
//! Benchmarks measure and print; they never assert on time.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root (benches are built from the root package).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// True in `make bench-smoke`: run every scenario a few times, just to prove it still runs.
pub fn smoke() -> bool {
    std::env::var("HH_BENCH_SMOKE").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `full` normally, `small` in smoke mode.
pub fn size(full: usize, small: usize) -> usize {
    if smoke() {
        small
    } else {
        full
    }
}

/// `target/release/hh-receiver` as a child process (exits when its stdin closes).
pub struct Receiver {
    child: Child,
    stdin: Option<ChildStdin>,
    pub url: String,
    pub addr: String,
}

impl Receiver {
    pub fn start() -> Receiver {
        let bin = root().join("target/release/hh-receiver");
        let mut child = Command::new(&bin)
            .arg("--exit-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {} (make lib): {e}", bin.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("receiver URL line");
        let url = line
            .trim()
            .strip_prefix("HH_RECEIVER_URL=")
            .unwrap_or_else(|| panic!("unexpected receiver output {line:?}"))
            .to_string();
        let addr = url.trim_start_matches("http://").to_string();
        let stdin = child.stdin.take();
        Receiver {
            child,
            stdin,
            url,
            addr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// One control request (`/__hh/...`); returns the response body.
    pub fn control(&self, method: &str, path: &str, body: &str) -> String {
        http_request(
            &self.addr,
            method,
            path,
            "application/json",
            body.as_bytes(),
        )
        .1
    }

    /// Forgets recorded requests (keeps the receiver's memory flat in long runs).
    pub fn reset(&self) {
        self.control("POST", "/__hh/reset", "");
    }

    /// `reset` (the receiver frees what it recorded before answering), then a short pause so
    /// that the next timed burst starts on a settled machine. `spans`: recorded since the
    /// last reset (kept for the pause's scale).
    pub fn reset_and_settle(&self, spans: usize) {
        self.reset();
        let ms = (spans as u64 / 2000).clamp(1, 5);
        std::thread::sleep(Duration::from_millis(ms));
    }

    pub fn set_fault(&self, json: &str) {
        self.control("POST", "/__hh/fault", json);
    }

    pub fn clear_fault(&self) {
        self.control("POST", "/__hh/clear_fault", "");
    }

    /// Number of spans recorded since the last reset.
    pub fn span_count(&self) -> usize {
        let body = self.control("GET", "/__hh/requests", "");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.get("spans").and_then(|s| s.as_array()))
                    .map(Vec::len)
                    .sum()
            })
            .unwrap_or(0)
    }

    /// CPU seconds (user + system) the receiver process has used.
    pub fn cpu_seconds(&self) -> f64 {
        proc_cpu_seconds(self.pid())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal blocking HTTP/1.1 request (Connection: close); returns (status, body).
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to receiver");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write");
    s.write_all(body).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// CPU seconds (user + system) of a process, from /proc/PID/stat.
pub fn proc_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command name: state is field 3, utime 14, stime 15 (1-based in proc(5)).
    let ticks = |i: usize| fields.get(i - 3).and_then(|v| v.parse::<f64>().ok());
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(14).unwrap_or(0.0) + ticks(15).unwrap_or(0.0)) / hz
}

/// CPU seconds (user + system) used by this process so far (getrusage).
pub fn self_cpu_seconds() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU seconds used by the calling thread so far.
pub fn thread_cpu_seconds() -> f64 {
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// A field of /proc/self/status, in its unit (kB for memory), e.g. "VmRSS" or "Threads".
pub fn proc_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)
                .and_then(|r| r.strip_prefix(':'))
                .and_then(|r| r.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

pub fn median(v: &[f64]) -> f64 {
    percentile(v, 50.0)
}

/// Nearest-rank percentile.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

pub fn max(v: &[f64]) -> f64 {
    v.iter().cloned().fold(f64::NAN, f64::max)
}

/// One result line for `benches/run.py`, plus a readable line.
pub fn report(id: &str, value: f64, unit: &str, note: &str) {
    println!("  {id:<44} {value:>14.3} {unit:<10} {note}");
    let line = serde_json::json!({"id": id, "value": value, "unit": unit, "note": note});
    println!("@@ {line}");
}

pub fn header(title: &str) {
    println!("== {title}");
}

/// The machine's load average (1 minute), to print beside the figures.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A keep-alive HTTP/1.1 client for POSTs (the raw-SDK side's exporter and the receiver-alone
/// benchmark): one connection, reused.
pub struct KeepAlive {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
}

impl KeepAlive {
    pub fn new(addr: &str) -> KeepAlive {
        KeepAlive {
            addr: addr.to_string(),
            conn: None,
        }
    }

    /// POSTs `body`; returns the status (0 when the connection failed).
    pub fn post(&mut self, path: &str, content_type: &str, body: &[u8]) -> u16 {
        for _attempt in 0..2 {
            if self.conn.is_none() {
                match TcpStream::connect(&self.addr) {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        self.conn = Some(BufReader::new(s));
                    }
                    Err(_) => return 0,
                }
            }
            let conn = self.conn.as_mut().unwrap();
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                self.addr,
                body.len()
            );
            let sent = conn
                .get_mut()
                .write_all(head.as_bytes())
                .and_then(|_| conn.get_mut().write_all(body));
            if sent.is_err() {
                self.conn = None;
                continue;
            }
            match read_response(conn) {
                Some(status) => return status,
                None => self.conn = None,
            }
        }
        0
    }
}

fn read_response(r: &mut BufReader<TcpStream>) -> Option<u16> {
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let status: u16 = line.split(' ').nth(1)?.parse().ok()?;
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).ok()?;
    Some(status)
}
