//! BENCHMARKS.md, item 6: what an additional tracer costs. In a fresh process: one tracer (talking to
//! the loopback receiver: its session started, a few spans exported), then 99 more used the
//! same way. RSS added per additional tracer (VmRSS difference / 99) and the thread count with
//! 1 and with 100 tracers (the background runtime is shared: it should not grow).

mod common;

use common::*;
use honeyhive::ffi::session::hh_session_create;
use honeyhive::ffi::span::{
    hh_span_end, hh_span_set_str, hh_span_start, HH_EVENT_TOOL, HH_NS_METADATA,
};
use honeyhive::ffi::tracer::{hh_tracer_close, hh_tracer_flush, hh_tracer_new};
use honeyhive::ffi::{hh_status, hh_tracer};
use std::ffi::CString;
use std::time::Duration;

/// A tracer, used as an application would: a session, ten spans, a flush.
fn used_tracer(url: &str, i: usize) -> hh_tracer {
    let cfg = CString::new(format!(
        r#"{{"api_key":"bench-key","project":"project-{i}","source":"bench","server_url":"{url}"}}"#
    ))
    .unwrap();
    let mut t = 0;
    let st = unsafe { hh_tracer_new(cfg.as_ptr(), &mut t, std::ptr::null_mut()) };
    assert_eq!(st, hh_status::HH_OK, "hh_tracer_new");
    let mut sid = [0 as std::ffi::c_char; 64];
    let st = unsafe {
        hh_session_create(
            t,
            std::ptr::null(),
            sid.as_mut_ptr(),
            sid.len(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(st, hh_status::HH_OK, "hh_session_create");
    for _ in 0..10 {
        let mut s = 0;
        unsafe {
            assert_eq!(
                hh_span_start(
                    t,
                    c"step".as_ptr(),
                    HH_EVENT_TOOL,
                    0,
                    sid.as_ptr(),
                    std::ptr::null(),
                    &mut s,
                    std::ptr::null_mut()
                ),
                hh_status::HH_OK
            );
            let _ = hh_span_set_str(s, HH_NS_METADATA, c"k".as_ptr(), c"v".as_ptr());
            let _ = hh_span_end(s);
        }
    }
    assert_eq!(hh_tracer_flush(t, 10_000), hh_status::HH_OK, "flush");
    t
}

fn settle() {
    // Let idle connections and the allocator settle before reading the counters.
    std::thread::sleep(Duration::from_millis(300));
}

fn main() {
    header(&format!("footprint (load {})", loadavg()));
    let receiver = Receiver::start();
    let n = size(100, 10);
    let mut tracers = vec![used_tracer(&receiver.url, 0)];
    settle();
    let (rss1, threads1) = (proc_status("VmRSS"), proc_status("Threads"));
    for i in 1..n {
        tracers.push(used_tracer(&receiver.url, i));
    }
    settle();
    let (rss_n, threads_n) = (proc_status("VmRSS"), proc_status("Threads"));
    let per = (rss_n as f64 - rss1 as f64) / (n - 1) as f64;
    report(
        "footprint.rss_per_tracer_kib",
        per,
        "KiB",
        &format!("VmRSS {rss1} KiB with 1 tracer, {rss_n} KiB with {n}"),
    );
    report(
        "footprint.threads_1",
        threads1 as f64,
        "threads",
        "process threads with 1 tracer (main + shared runtime)",
    );
    report(
        "footprint.threads_n",
        threads_n as f64,
        "threads",
        &format!("process threads with {n} tracers"),
    );
    for t in tracers {
        let _ = hh_tracer_close(t, 5_000);
    }
}
