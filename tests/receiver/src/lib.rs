//! `hh-test-receiver`: a loopback HTTP/1.1 server that records and decodes
//! everything libhoneyhive sends (HoneyHive session/event REST calls and OTLP
//! trace exports in JSON or protobuf), and can be told to misbehave.
//!
//! Used in-process by the Rust integration tests ([`Receiver`]) and, as the
//! `hh-receiver` binary, by the Go, C, C++ and Ruby suites. It listens only on
//! 127.0.0.1.
//!
//! Routes (the path may carry any prefix; matching is on the path's end):
//! - `POST .../session/start` → 200 `{"session_id", "event_id", "org_id", "workspace_id", "project_id"}`
//!   (`session_id` echoes `body.session.session_id` when present, else a new uuid4)
//! - `PUT .../events` → 200 `{"success": true}`; `POST .../events` → 200 `{"success": true, "event_id"}` (echoing `event.event_id` if sent)
//! - `POST .../v1/traces` (OTLP/JSON or OTLP/protobuf, optionally gzip) → 200 `{}` or an empty protobuf
//! - anything else → 404 (still recorded); a body that cannot be decoded → 400 (recorded)
//! - `/__hh/...` control endpoints (never recorded, never faulted): see the binary's docs.

mod count;
mod decode;
mod fault;
mod http;
mod record;
mod server;

use std::fs::{File, OpenOptions};
use std::io;
use std::path::PathBuf;
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

pub use decode::{
    base64_decode, base64_encode, decode_otlp, decode_otlp_json, decode_otlp_protobuf, gunzip, hex,
    OtlpFormat,
};
pub use fault::{Fault, FaultMode};
pub use record::{RecordedEvent, RecordedLink, RecordedRequest, RecordedSpan};

use server::{Command, Shared};

/// How long `pause()`, `resume()` and `shutdown()` wait for the server loop.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Options for [`Receiver::start_with`].
#[derive(Debug, Clone, Default)]
pub struct ReceiverOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Append every recorded request to this file as one JSON line.
    pub record_file: Option<PathBuf>,
}

/// A running receiver. It owns a thread with its own tokio runtime, so it can
/// be used from plain `#[test]`s and from async tests alike. Dropping it shuts
/// the server down.
pub struct Receiver {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    port: u16,
}

impl Receiver {
    /// Starts on 127.0.0.1 with a free port. Panics if it cannot listen.
    pub fn start() -> Receiver {
        match Receiver::start_with(ReceiverOptions::default()) {
            Ok(r) => r,
            Err(e) => panic!("hh-test-receiver: cannot listen on 127.0.0.1:0: {e}"),
        }
    }

    /// Starts on 127.0.0.1:`port` (0 = any free port).
    pub fn start_on(port: u16) -> io::Result<Receiver> {
        Receiver::start_with(ReceiverOptions {
            port,
            ..ReceiverOptions::default()
        })
    }

    /// Starts with the given options.
    pub fn start_with(opts: ReceiverOptions) -> io::Result<Receiver> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", opts.port))?;
        std_listener.set_nonblocking(true)?;
        let port = std_listener.local_addr()?.port();
        let record_file: Option<File> = match &opts.record_file {
            Some(p) => Some(OpenOptions::new().create(true).append(true).open(p)?),
            None => None,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _guard = rt.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            store: record::Store::new(),
            fault: fault::FaultSlot::default(),
            record_file: record_file.map(Mutex::new),
            cmd_tx,
            port,
        });
        let server_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("hh-receiver-{port}"))
            .spawn(move || {
                rt.block_on(server::run(server_shared, listener, cmd_rx));
            })?;
        Ok(Receiver {
            shared,
            thread: Mutex::new(Some(thread)),
            port,
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every recorded request, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.store.lock().requests.clone()
    }

    /// All spans of all OTLP requests, in arrival order.
    pub fn spans(&self) -> Vec<RecordedSpan> {
        self.shared.store.lock().spans()
    }

    /// Recorded requests with this method (case-insensitive) and exact path.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<RecordedRequest> {
        self.shared
            .store
            .lock()
            .requests
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
            .cloned()
            .collect()
    }

    /// Waits until at least `n` spans arrived or the timeout passed; returns
    /// all spans either way.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Vec<RecordedSpan> {
        self.shared
            .store
            .wait_blocking(timeout, |i| i.span_count >= n, |i| i.spans())
    }

    /// Waits until `pred(requests)` holds or the timeout passed; returns all
    /// requests either way.
    pub fn wait_for_requests(
        &self,
        pred: impl Fn(&[RecordedRequest]) -> bool,
        timeout: Duration,
    ) -> Vec<RecordedRequest> {
        self.shared
            .store
            .wait_blocking(timeout, |i| pred(&i.requests), |i| i.requests.clone())
    }

    /// Replaces the active fault.
    pub fn set_fault(&self, f: Fault) {
        self.shared.fault.set(f);
    }

    /// Removes the active fault.
    pub fn clear_fault(&self) {
        self.shared.fault.clear();
    }

    /// The active fault (`None` once cleared or its `times` are used up).
    pub fn fault(&self) -> Option<Fault> {
        self.shared.fault.current()
    }

    /// Forgets recorded requests (`seq` keeps counting).
    pub fn reset(&self) {
        self.shared.store.reset();
    }

    /// Simulates the server going down: closes the listener (connects are
    /// refused) and every open connection. Returns once that is done.
    pub fn pause(&self) {
        let _ = self.command(Command::Pause);
    }

    /// Listens again on the same port. Panics if the port cannot be rebound
    /// (see [`Receiver::try_resume`]).
    pub fn resume(&self) {
        if let Err(e) = self.try_resume() {
            panic!(
                "hh-test-receiver: cannot listen again on port {}: {e}",
                self.port
            );
        }
    }

    /// Listens again on the same port (retries for about 2 s if it is in use).
    pub fn try_resume(&self) -> io::Result<()> {
        self.command(Command::Resume)
    }

    /// Stops the server (idempotent); waits for its thread to end.
    pub fn shutdown(&self) {
        let _ = self.command(Command::Shutdown);
        self.wait();
    }

    /// Blocks until the server has stopped (after [`Receiver::shutdown`] or
    /// `POST /__hh/shutdown`).
    pub fn wait(&self) {
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    fn command(&self, make: fn(Option<server::Ack>) -> Command) -> io::Result<()> {
        let (tx, rx) = std_mpsc::channel::<io::Result<()>>();
        let ack: server::Ack = Box::new(move |r| {
            let _ = tx.send(r);
        });
        if self.shared.cmd_tx.send(make(Some(ack))).is_err() {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "receiver is shut down",
            ));
        }
        match rx.recv_timeout(COMMAND_TIMEOUT) {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "receiver did not answer the command",
            )),
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("url", &self.url())
            .finish()
    }
}
