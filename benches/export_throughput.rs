//! BENCHMARKS.md, item 3: export throughput and cost, OTLP/JSON and OTLP/protobuf.
//!
//! 1. The receiver alone: pre-encoded 512-span requests POSTed back to back over one
//!    keep-alive connection (as one tracer's exporter sends them): spans/s it can take and its
//!    CPU per span, so that it is known not to be the bottleneck.
//! 2. Encoding alone: CPU per span of `export::json::encode` / `export::protobuf::encode` on
//!    512-span batches like the ones the library queues.
//! 3. Sustained delivery: one tracer with the default batch settings (queue 2048, batch 512),
//!    a producer thread making spans (the hot-path span) as fast as the queue takes them
//!    without dropping (it waits while the queue is over 3/4 full), for a few seconds.
//!    Delivered spans/s (2xx answers counted by the tracer, zero dropped), and export CPU per
//!    span = (CPU of this process - CPU of the producer thread) / spans delivered, i.e. what
//!    the background runtime spends on batching, encoding and HTTP per span.

mod common;

use common::*;
use honeyhive::export::json::JsonStyle;
use honeyhive::export::Encoding;
use honeyhive::ffi::session::hh_session_create;
use honeyhive::ffi::span::{
    hh_span_end, hh_span_set_f64, hh_span_set_i64, hh_span_set_str, hh_span_start, HH_EVENT_MODEL,
    HH_NS_METADATA,
};
use honeyhive::ffi::tracer::{
    hh_stats, hh_tracer_close, hh_tracer_flush, hh_tracer_new, hh_tracer_stats,
};
use honeyhive::ffi::{hh_status, hh_tracer};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use std::ffi::{CStr, CString};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

const BATCH: usize = 512;

/// A batch like the ones the library queues for the hot-path span.
fn sample_batch(n: usize) -> (Vec<SpanData>, Encoding) {
    let session: Arc<str> = honeyhive::tracer::new_session_id().into();
    let now = SystemTime::now();
    let spans = (0..n)
        .map(|i| SpanData {
            span_context: SpanContext::new(
                TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128 + i as u128),
                SpanId::from(0xb7ad6b7169203331_u64 + i as u64),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(0x00f067aa0ba902b7),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: "llm.call".into(),
            start_time: now,
            end_time: now + Duration::from_micros(420),
            attributes: vec![
                KeyValue::new(
                    "honeyhive.session_id",
                    Value::String(StringValue::from(session.clone())),
                ),
                KeyValue::new("honeyhive_event_type", "model"),
                KeyValue::new("honeyhive_metadata.model", "gpt-4o"),
                KeyValue::new("honeyhive_metadata.tokens", 42i64),
                KeyValue::new("honeyhive_metadata.temperature", 0.7),
            ],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::default(),
        })
        .collect();
    let enc = Encoding {
        resource: vec![
            KeyValue::new("service.name", "bench"),
            KeyValue::new("telemetry.sdk.name", "libhoneyhive"),
            KeyValue::new("telemetry.sdk.language", "c"),
            KeyValue::new("telemetry.sdk.version", honeyhive::VERSION),
        ],
        scope: InstrumentationScope::builder("honeyhive.1").build(),
        stamped: vec![
            KeyValue::new("honeyhive.project", "bench"),
            KeyValue::new("traceloop.association.properties.project", "bench"),
            KeyValue::new("honeyhive.source", "bench"),
            KeyValue::new("traceloop.association.properties.source", "bench"),
        ],
    };
    (spans, enc)
}

fn encode(proto: bool, spans: &[SpanData], enc: &Encoding) -> Vec<u8> {
    if proto {
        honeyhive::export::protobuf::encode(spans, enc)
    } else {
        honeyhive::export::json::encode(spans, enc, JsonStyle::HoneyHive)
    }
}

fn content_type(proto: bool) -> &'static str {
    if proto {
        "application/x-protobuf"
    } else {
        "application/json"
    }
}

fn name(proto: bool) -> &'static str {
    if proto {
        "protobuf"
    } else {
        "json"
    }
}

/// Encoding alone: ns of CPU per span.
fn encode_cost(proto: bool) -> f64 {
    let (spans, enc) = sample_batch(BATCH);
    let rounds = size(400, 5);
    let mut total = 0usize;
    encode(proto, &spans, &enc);
    let cpu = thread_cpu_seconds();
    for _ in 0..rounds {
        total += encode(proto, &spans, &enc).len();
    }
    let ns = (thread_cpu_seconds() - cpu) * 1e9 / (rounds * BATCH) as f64;
    std::hint::black_box(total);
    ns
}

/// The receiver alone: (spans/s, receiver CPU ns per span).
fn receiver_alone(receiver: &Receiver, proto: bool) -> (f64, f64) {
    let (spans, enc) = sample_batch(BATCH);
    let body = encode(proto, &spans, &enc);
    let mut client = KeepAlive::new(&receiver.addr);
    let duration = Duration::from_millis(size(2000, 200) as u64);
    assert_eq!(
        client.post("/opentelemetry/v1/traces", content_type(proto), &body),
        200
    );
    receiver.reset();
    let cpu = receiver.cpu_seconds();
    let start = Instant::now();
    let mut requests = 0usize;
    while start.elapsed() < duration {
        let status = client.post("/opentelemetry/v1/traces", content_type(proto), &body);
        assert_eq!(status, 200, "receiver refused a request");
        requests += 1;
        if requests % 4 == 0 {
            receiver.reset(); // keeps its memory flat (it records every request)
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = receiver.cpu_seconds() - cpu;
    let n = (requests * BATCH) as f64;
    receiver.reset();
    (n / secs, cpu * 1e9 / n)
}

struct Sustained {
    delivered_per_s: f64,
    dropped: u64,
    export_cpu_ns: f64,
    producer_ns: f64,
    receiver_cpu_ns: f64,
    delivered: u64,
}

/// One tracer with the default batch settings fed as fast as it exports.
fn sustained(receiver: &Receiver, proto: bool) -> Sustained {
    let protocol = if proto { "http/protobuf" } else { "http/json" };
    let cfg = CString::new(format!(
        r#"{{"api_key":"bench-key","project":"bench","source":"bench","server_url":"{}","otlp_protocol":"{protocol}"}}"#,
        receiver.url
    ))
    .unwrap();
    let mut t: hh_tracer = 0;
    let st = unsafe { hh_tracer_new(cfg.as_ptr(), &mut t, std::ptr::null_mut()) };
    assert_eq!(st, hh_status::HH_OK);
    let mut buf = [0 as std::ffi::c_char; 64];
    let st = unsafe {
        hh_session_create(
            t,
            std::ptr::null(),
            buf.as_mut_ptr(),
            buf.len(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(st, hh_status::HH_OK);
    let session = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_owned();
    let stats = |t| {
        let mut s = hh_stats::default();
        let _ = unsafe { hh_tracer_stats(t, &mut s) };
        s
    };
    let produce = |n: usize| {
        for _ in 0..n {
            let mut s = 0;
            unsafe {
                let _ = hh_span_start(
                    t,
                    c"llm.call".as_ptr(),
                    HH_EVENT_MODEL,
                    0,
                    session.as_ptr(),
                    std::ptr::null(),
                    &mut s,
                    std::ptr::null_mut(),
                );
                let _ = hh_span_set_str(s, HH_NS_METADATA, c"model".as_ptr(), c"gpt-4o".as_ptr());
                let _ = hh_span_set_i64(s, HH_NS_METADATA, c"tokens".as_ptr(), 42);
                let _ = hh_span_set_f64(s, HH_NS_METADATA, c"temperature".as_ptr(), 0.7);
                let _ = hh_span_end(s);
            }
        }
    };
    // Warm-up: connections, buffers.
    if std::env::var("HH_BENCH_PROFILE").is_ok() {
        for _ in 0..200 {
            produce(BATCH);
            assert_eq!(hh_tracer_flush(t, 30_000), hh_status::HH_OK);
            receiver.reset();
        }
        std::process::exit(0);
    }
    produce(4 * BATCH);
    assert_eq!(hh_tracer_flush(t, 30_000), hh_status::HH_OK);
    receiver.reset();

    let duration = Duration::from_millis(size(3000, 300) as u64);
    let before = stats(t);
    let (cpu0, rcpu0) = (self_cpu_seconds(), receiver.cpu_seconds());
    let start = Instant::now();
    let main_cpu0 = thread_cpu_seconds();
    let mut made = 0usize;
    let mut resets = 0;
    while start.elapsed() < duration {
        // Produce while the queue has room (3/4 of the default 2048), else let export run.
        if stats(t).queue_len < 1536 - 64 {
            produce(64);
            made += 64;
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
        let exported = stats(t).spans_exported - before.spans_exported;
        if exported / 2048 > resets {
            resets += 1;
            receiver.reset();
        }
    }
    assert_eq!(hh_tracer_flush(t, 30_000), hh_status::HH_OK);
    let secs = start.elapsed().as_secs_f64();
    // Everything this (producing, polling, resetting) thread did is not export work.
    let producer_cpu = thread_cpu_seconds() - main_cpu0;
    let (cpu, rcpu) = (self_cpu_seconds() - cpu0, receiver.cpu_seconds() - rcpu0);
    let after = stats(t);
    let _ = hh_tracer_close(t, 10_000);
    receiver.reset();
    let delivered = after.spans_exported - before.spans_exported;
    assert_eq!(delivered as usize, made, "every span made is delivered");
    Sustained {
        delivered_per_s: delivered as f64 / secs,
        dropped: after.spans_dropped - before.spans_dropped,
        export_cpu_ns: (cpu - producer_cpu) * 1e9 / delivered as f64,
        producer_ns: producer_cpu * 1e9 / delivered as f64,
        receiver_cpu_ns: rcpu * 1e9 / delivered as f64,
        delivered,
    }
}

fn main() {
    header(&format!("export (load {})", loadavg()));
    let receiver = Receiver::start();
    for proto in [false, true] {
        let p = name(proto);
        let (rate, rcpu) = receiver_alone(&receiver, proto);
        if std::env::var("HH_BENCH_RECEIVER_ONLY").is_ok() {
            report("x", rate, "spans/s", &format!("{rcpu:.0}"));
            if !proto {
                continue;
            } else {
                return;
            }
        }
        report(
            &format!("export.receiver_alone_{p}"),
            rate,
            "spans/s",
            &format!(
                "hh-receiver alone, 512-span requests on one connection; its CPU {rcpu:.0} ns/span"
            ),
        );
        let enc = encode_cost(proto);
        report(
            &format!("export.encode_{p}_ns"),
            enc,
            "ns/span",
            "CPU of encoding alone (512-span batches)",
        );
        let s = sustained(&receiver, proto);
        report(
            &format!("export.delivered_{p}"),
            s.delivered_per_s,
            "spans/s",
            &format!(
                "sustained, default batch settings, {} spans delivered, {} dropped",
                s.delivered, s.dropped
            ),
        );
        report(
            &format!("export.dropped_{p}"),
            s.dropped as f64,
            "spans",
            "dropped during the sustained run",
        );
        report(
            &format!("export.cpu_{p}_ns"),
            s.export_cpu_ns,
            "ns/span",
            &format!(
                "export CPU per delivered span (process CPU - producer thread {:.0} ns/span); receiver {:.0} ns/span",
                s.producer_ns, s.receiver_cpu_ns
            ),
        );
    }
}
