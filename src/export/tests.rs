//! The pipeline as a whole, against the loopback receiver: background work that panics or
//! blocks harms only what it was doing.

use super::fault::Place;
use crate::config::Config;
use crate::tracer::Tracer;
use crate::StatsSnapshot;
use hh_test_receiver::Receiver;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// A tracer made through the registry (its id starts spans), with its internals at hand.
struct Traced {
    id: u64,
    tracer: Tracer,
}

impl std::ops::Deref for Traced {
    type Target = Tracer;
    fn deref(&self) -> &Tracer {
        &self.tracer
    }
}

fn tracer(json: &str) -> Traced {
    let config = Config::resolve(Some(json), &|_| None).expect("valid config");
    let id = crate::registry::create_tracer(config).expect("tracer");
    let tracer = crate::registry::tracers::get(id).expect("the tracer just made");
    Traced { id, tracer }
}

/// A generic OTLP tracer (no session calls) sending only when flushed.
fn otlp_tracer(rx: &Receiver) -> Traced {
    tracer(&format!(
        r#"{{"exporter":"otlp","otlp_endpoint":"{}/v1/traces","schedule_delay_ms":600000}}"#,
        rx.url()
    ))
}

fn end_spans(t: &Traced, prefix: &str, n: usize, session: Option<&str>) {
    use crate::registry::spans;
    for i in 0..n {
        let span = spans::start(t.id, &format!("{prefix}-{i}"), None, 0, session, vec![]).unwrap();
        spans::end(span, false).unwrap();
    }
}

fn span_names(rx: &Receiver) -> Vec<String> {
    let mut names: Vec<String> = rx.spans().into_iter().map(|s| s.name).collect();
    names.sort();
    names
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

fn assert_every_span_counted(s: &StatsSnapshot) {
    assert_eq!(s.queue_len, 0, "{s:?}");
    assert_eq!(s.spans_exported + s.spans_dropped, s.spans_ended, "{s:?}");
}

#[test]
fn the_worker_survives_a_panic_while_sending() {
    let rx = Receiver::start();
    let t = otlp_tracer(&rx);
    t.inner.pipeline.work.faults.arm(Place::Delivery, 1);
    end_spans(&t, "lost", 3, None);
    let first = t.flush(WAIT).unwrap_err();
    assert_eq!(first.kind, crate::ErrorKind::ExportFailed, "{first:?}");

    end_spans(&t, "kept", 4, None);
    t.flush(WAIT).unwrap();
    t.close(WAIT).unwrap();
    assert_eq!(span_names(&rx), names("kept", 4));
    let s = t.stats();
    assert_eq!((s.spans_exported, s.spans_dropped), (4, 3), "{s:?}");
    assert_eq!((s.export_requests, s.export_failures), (2, 1), "{s:?}");
    assert_every_span_counted(&s);
}

#[test]
fn the_worker_survives_a_panic_between_taking_and_sending() {
    let rx = Receiver::start();
    let t = otlp_tracer(&rx);
    t.inner.pipeline.work.faults.arm(Place::Sweep, 1);
    end_spans(&t, "lost", 2, None);
    assert!(t.flush(WAIT).is_err());

    end_spans(&t, "kept", 3, None);
    t.flush(WAIT).unwrap();
    t.close(WAIT).unwrap();
    assert_eq!(span_names(&rx), names("kept", 3));
    let s = t.stats();
    assert_eq!((s.spans_exported, s.spans_dropped), (3, 2), "{s:?}");
    assert_every_span_counted(&s);
}

#[test]
fn a_session_call_that_panics_fails_alone_and_spans_still_go() {
    let rx = Receiver::start();
    // A default session trusted to exist: nothing starts it (not even the fork protocol's
    // tests in this process, whose parent hook starts an unstarted default session).
    let t = tracer(&format!(
        r#"{{"api_key":"k","project":"p","server_url":"{}","schedule_delay_ms":600000,
            "skip_backend_session_creation":true,
            "session_id":"0a0a0a0a-0000-4000-8000-000000000002"}}"#,
        rx.url()
    ));
    t.flush(WAIT).unwrap();
    // The start of a new session panics: its spans must not wait for it forever.
    t.inner
        .pipeline
        .rest
        .as_ref()
        .unwrap()
        .faults
        .arm(Place::RestCall, 1);
    let sid = t.create_session(None).unwrap();
    end_spans(&t, "span", 3, Some(&sid));
    let flushed = t.flush(WAIT).unwrap_err();
    assert_eq!(flushed.kind, crate::ErrorKind::ExportFailed, "{flushed:?}");
    assert_eq!(span_names(&rx), names("span", 3));
    assert!(rx
        .spans()
        .iter()
        .all(|s| s.attr_str("honeyhive.session_id") == Some(sid.as_str())));

    // Later calls of the same session go through.
    t.enrich_session(Some(&sid), r#"{"metadata":{"k":"v"}}"#)
        .unwrap();
    t.flush(WAIT).unwrap();
    t.close(WAIT).unwrap();
    let starts = rx.requests_to("POST", "/session/start");
    assert_eq!(starts.len(), 0, "the panicking call sent nothing");
    assert_eq!(rx.requests_to("PUT", "/events").len(), 1);
    let s = t.stats();
    assert_eq!((s.rest_calls, s.rest_failures), (2, 1), "{s:?}");
    assert_eq!(s.spans_exported, 3, "{s:?}");
    assert_every_span_counted(&s);
}

/// A FIFO nobody reads blocks whoever writes to it (already in `open`).
struct Fifo(std::path::PathBuf);

impl Fifo {
    fn new(tag: &str) -> Fifo {
        let path = std::env::temp_dir().join(format!("hh-fifo-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        Fifo(path)
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        // A reader at last, so the stuck writer finishes; then the FIFO goes.
        use std::os::unix::fs::OpenOptionsExt;
        let _reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.0);
        std::thread::sleep(Duration::from_millis(50));
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_blocked_file_exporter_stalls_no_other_tracer() {
    let fifo = Fifo::new("stall");
    let stuck = tracer(&format!(
        r#"{{"exporter":"file","file_path":"{}","schedule_delay_ms":600000,"export_timeout_ms":300}}"#,
        fifo.0.display()
    ));
    end_spans(&stuck, "stuck", 2, None);
    // Its first request is handed to its writer, which blocks; past its export timeout the
    // request is counted failed.
    assert!(stuck.flush(WAIT).is_err());

    // Another tracer, created after the stall, exports over HTTP as usual.
    let rx = Receiver::start();
    let t = otlp_tracer(&rx);
    end_spans(&t, "http", 5, None);
    t.flush(WAIT).unwrap();
    assert_eq!(span_names(&rx), names("http", 5));

    // The stuck tracer keeps failing fast, counting what it cannot write.
    end_spans(&stuck, "stuck-more", 3, None);
    assert!(stuck.flush(WAIT).is_err());
    end_spans(&t, "http-more", 2, None);
    t.close(WAIT).unwrap();
    assert_eq!(rx.spans().len(), 7);
    // Its losses were reported by the flushes; nothing was left to lose.
    stuck.close(WAIT).unwrap();
    let s = stuck.stats();
    assert_eq!((s.spans_exported, s.spans_dropped), (0, 5), "{s:?}");
    assert_every_span_counted(&s);
    assert_every_span_counted(&t.stats());
}

#[test]
fn a_zero_schedule_delay_still_exports_on_schedule() {
    let rx = Receiver::start();
    let t = tracer(&format!(
        r#"{{"exporter":"otlp","otlp_endpoint":"{}/v1/traces","schedule_delay_ms":0}}"#,
        rx.url()
    ));
    end_spans(&t, "timed", 2, None);
    // No flush: the timer sends them.
    assert_eq!(rx.wait_for_spans(2, WAIT).len(), 2);
    t.close(WAIT).unwrap();
}
