//! BENCHMARKS.md, item 7: `hh_tracer_new` and `hh_session_create` must not wait on the network.
//! Their latency (p50 / p99 / max over many calls, default configuration: 5 s API timeout)
//! while the server is down (connection refused: a port nobody listens on), while it hangs
//! (the receiver's fault mode "hang": connections accepted, never answered), and, for
//! reference, while it is up. Each tracer is closed with a 0 ms timeout right after (its
//! session call keeps trying in the background; that is the point).

mod common;

use common::*;
use honeyhive::ffi::session::hh_session_create;
use honeyhive::ffi::tracer::{hh_tracer_close, hh_tracer_new};
use honeyhive::ffi::{hh_status, hh_tracer};
use std::ffi::CString;
use std::time::Instant;

fn config(url: &str) -> CString {
    CString::new(format!(
        r#"{{"api_key":"bench-key","project":"bench","source":"bench","server_url":"{url}"}}"#
    ))
    .unwrap()
}

/// Latencies (ms) of `n` hh_tracer_new calls.
fn tracer_new(url: &str, n: usize) -> Vec<f64> {
    let cfg = config(url);
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let mut t: hh_tracer = 0;
        let start = Instant::now();
        let st = unsafe { hh_tracer_new(cfg.as_ptr(), &mut t, std::ptr::null_mut()) };
        lat.push(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(st, hh_status::HH_OK, "hh_tracer_new");
        let _ = hh_tracer_close(t, 0);
    }
    lat
}

/// Latencies (ms) of `n` hh_session_create calls on one tracer.
fn session_create(url: &str, n: usize) -> Vec<f64> {
    let cfg = config(url);
    let mut t: hh_tracer = 0;
    let st = unsafe { hh_tracer_new(cfg.as_ptr(), &mut t, std::ptr::null_mut()) };
    assert_eq!(st, hh_status::HH_OK);
    let opts = c"{\"session_name\":\"request\",\"inputs\":{\"q\":\"hi\"}}";
    let mut lat = Vec::with_capacity(n);
    let mut buf = [0 as std::ffi::c_char; 64];
    for _ in 0..n {
        let start = Instant::now();
        let st = unsafe {
            hh_session_create(
                t,
                opts.as_ptr(),
                buf.as_mut_ptr(),
                buf.len(),
                std::ptr::null_mut(),
            )
        };
        lat.push(start.elapsed().as_secs_f64() * 1e3);
        assert_eq!(st, hh_status::HH_OK, "hh_session_create");
    }
    let _ = hh_tracer_close(t, 0);
    lat
}

fn report_latencies(id: &str, what: &str, lat: &[f64]) {
    let note = format!(
        "{what}: {} calls, p50 {:.3} ms, max {:.3} ms",
        lat.len(),
        median(lat),
        max(lat)
    );
    report(&format!("{id}_p99_ms"), percentile(lat, 99.0), "ms", &note);
    report(&format!("{id}_max_ms"), max(lat), "ms", what);
}

fn main() {
    header(&format!("never in the way (load {})", loadavg()));
    let n_tracers = size(200, 10);
    let n_sessions = size(2000, 50);

    // Down: a port that was just free (nobody listens on it).
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let receiver = Receiver::start();
    report_latencies(
        "never.up.tracer_new",
        "server up",
        &tracer_new(&receiver.url, n_tracers),
    );
    report_latencies(
        "never.up.session_create",
        "server up",
        &session_create(&receiver.url, n_sessions),
    );
    report_latencies(
        "never.down.tracer_new",
        "server down (connection refused)",
        &tracer_new(&down, n_tracers),
    );
    report_latencies(
        "never.down.session_create",
        "server down (connection refused)",
        &session_create(&down, n_sessions),
    );
    receiver.set_fault(r#"{"mode":"hang"}"#);
    report_latencies(
        "never.hang.tracer_new",
        "server hangs (accepts, never answers)",
        &tracer_new(&receiver.url, n_tracers),
    );
    report_latencies(
        "never.hang.session_create",
        "server hangs (accepts, never answers)",
        &session_create(&receiver.url, n_sessions),
    );
    receiver.clear_fault();
}
