//! BENCHMARKS.md, items 1 and 2: the span hot path through the C ABI against the same spans made
//! directly with opentelemetry_sdk 0.33, measured interleaved in one process; then 1 vs 2
//! threads on one tracer, and 2 tracers.
//!
//! One span = `hh_span_start` (explicit parent and session, event type model) + three metadata
//! fields (`hh_span_set_str/i64/f64` under HH_NS_METADATA; the JSON `hh_span_enrich` path is
//! reported separately) + `hh_span_end`, batch mode, exported to the loopback receiver
//! (`target/release/hh-receiver`, JSON).
//!
//! The raw-SDK side makes the same span with the same 10 attributes (session id twice,
//! project twice, source twice, event type, the three metadata fields) under the same remote
//! parent, through an `SdkTracerProvider` with the SDK's own `BatchSpanProcessor` and an
//! exporter that encodes with the same OTLP/JSON encoder and POSTs to the same receiver.
//! A second raw-SDK line uses no processor at all: the pure-SDK floor.
//!
//! Both sides run bursts of N spans (timed) followed by a flush (not timed), with the same
//! batch settings (queue 16384, batch 8192): the export of a burst happens during the flush,
//! so the timed part is the application thread's cost, not a race with the exporter.
//! Every span is checked to be delivered (stats / exporter counts) and nothing dropped.

mod common;

use common::*;
use honeyhive::export::json::JsonStyle;
use honeyhive::export::Encoding;
use honeyhive::ffi::session::hh_session_create;
use honeyhive::ffi::span::{
    hh_span_end, hh_span_enrich, hh_span_set_f64, hh_span_set_i64, hh_span_set_str, hh_span_start,
    HH_EVENT_MODEL, HH_NS_METADATA,
};
use honeyhive::ffi::tracer::{
    hh_stats, hh_tracer_close, hh_tracer_flush, hh_tracer_new, hh_tracer_stats,
};
use honeyhive::ffi::{hh_span, hh_status, hh_tracer};
use opentelemetry::trace::{
    Span as _, SpanBuilder, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
};
use parking_lot::Mutex;
use std::ffi::{CStr, CString};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const QUEUE: usize = 16384;
const BATCH: usize = 8192;
const ENRICH_JSON: &CStr =
    c"{\"metadata\":{\"model\":\"gpt-4o\",\"tokens\":42,\"temperature\":0.7}}";

// ---------------------------------------------------------------------------------------
// libhoneyhive through the C ABI

struct Hh {
    tracer: hh_tracer,
}

struct HhCtx {
    parent: hh_span,
    session: CString,
}

impl Hh {
    fn new(url: &str) -> Hh {
        let cfg = CString::new(format!(
            r#"{{"api_key":"bench-key","project":"bench","source":"bench","server_url":"{url}",
                "max_queue_size":{QUEUE},"max_export_batch_size":{BATCH},"schedule_delay_ms":600000}}"#
        ))
        .unwrap();
        let mut tracer = 0;
        let st = unsafe { hh_tracer_new(cfg.as_ptr(), &mut tracer, std::ptr::null_mut()) };
        assert_eq!(st, hh_status::HH_OK, "hh_tracer_new");
        Hh { tracer }
    }

    /// A session and a root span (the parent of the measured spans).
    fn context(&self) -> HhCtx {
        let mut buf = [0 as std::ffi::c_char; 64];
        let st = unsafe {
            hh_session_create(
                self.tracer,
                c"{\"session_name\":\"bench\"}".as_ptr(),
                buf.as_mut_ptr(),
                buf.len(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, hh_status::HH_OK, "hh_session_create");
        let session = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_owned();
        let mut parent = 0;
        let st = unsafe {
            hh_span_start(
                self.tracer,
                c"request".as_ptr(),
                0,
                0,
                session.as_ptr(),
                std::ptr::null(),
                &mut parent,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, hh_status::HH_OK, "root span");
        HhCtx { parent, session }
    }

    fn flush(&self) {
        let st = hh_tracer_flush(self.tracer, 60_000);
        assert_eq!(st, hh_status::HH_OK, "hh_tracer_flush");
    }

    fn stats(&self) -> hh_stats {
        let mut s = hh_stats::default();
        let _ = unsafe { hh_tracer_stats(self.tracer, &mut s) };
        s
    }
}

impl Drop for Hh {
    fn drop(&mut self) {
        let _ = hh_tracer_close(self.tracer, 10_000);
    }
}

/// One span through the C ABI; returns false on any error status.
#[inline(never)]
fn hh_span(t: hh_tracer, cx: &HhCtx, json: bool) -> bool {
    let mut s: hh_span = 0;
    unsafe {
        let mut ok = hh_span_start(
            t,
            c"llm.call".as_ptr(),
            HH_EVENT_MODEL,
            cx.parent,
            cx.session.as_ptr(),
            std::ptr::null(),
            &mut s,
            std::ptr::null_mut(),
        ) == hh_status::HH_OK;
        if json {
            ok &= hh_span_enrich(s, ENRICH_JSON.as_ptr(), std::ptr::null_mut()) == hh_status::HH_OK;
        } else {
            ok &= hh_span_set_str(s, HH_NS_METADATA, c"model".as_ptr(), c"gpt-4o".as_ptr())
                == hh_status::HH_OK;
            ok &= hh_span_set_i64(s, HH_NS_METADATA, c"tokens".as_ptr(), 42) == hh_status::HH_OK;
            ok &= hh_span_set_f64(s, HH_NS_METADATA, c"temperature".as_ptr(), 0.7)
                == hh_status::HH_OK;
        }
        ok &= hh_span_end(s) == hh_status::HH_OK;
        ok
    }
}

fn hh_burst(t: hh_tracer, cx: &HhCtx, n: usize, json: bool) -> Duration {
    let start = Instant::now();
    let mut ok = true;
    for _ in 0..n {
        ok &= hh_span(t, cx, json);
    }
    let d = start.elapsed();
    assert!(ok, "a C ABI call failed");
    d
}

// ---------------------------------------------------------------------------------------
// The raw SDK

/// Encodes with libhoneyhive's OTLP/JSON encoder and POSTs to the receiver (keep-alive).
struct ReceiverExporter {
    client: Mutex<KeepAlive>,
    encoding: Encoding,
    exported: Arc<AtomicU64>,
}

impl std::fmt::Debug for ReceiverExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiverExporter")
    }
}

impl SpanExporter for ReceiverExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let body = honeyhive::export::json::encode(&batch, &self.encoding, JsonStyle::HoneyHive);
        let status = self
            .client
            .lock()
            .post("/opentelemetry/v1/traces", "application/json", &body);
        let r = if (200..300).contains(&status) {
            self.exported
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            Ok(())
        } else {
            Err(OTelSdkError::InternalFailure(format!("HTTP {status}")))
        };
        async move { r }
    }
}

struct Sdk {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    exported: Arc<AtomicU64>,
}

struct SdkCtx {
    parent: Context,
    session: String,
}

const SESSION_KEY: Key = Key::from_static_str("honeyhive.session_id");
const SESSION_MIRROR_KEY: Key = Key::from_static_str("traceloop.association.properties.session_id");

impl Sdk {
    /// `export`: a BatchSpanProcessor exporting to the receiver; else no processor at all.
    fn new(addr: Option<&str>) -> Sdk {
        let exported = Arc::new(AtomicU64::new(0));
        let mut builder = SdkTracerProvider::builder();
        if let Some(addr) = addr {
            let exporter = ReceiverExporter {
                client: Mutex::new(KeepAlive::new(addr)),
                // The spans carry their own scope and all their attributes.
                encoding: Encoding {
                    resource: vec![
                        KeyValue::new("service.name", "bench"),
                        KeyValue::new("telemetry.sdk.name", "opentelemetry"),
                    ],
                    ..Encoding::default()
                },
                exported: exported.clone(),
            };
            let bsp = BatchSpanProcessor::builder(exporter)
                .with_batch_config(
                    BatchConfigBuilder::default()
                        .with_max_queue_size(QUEUE)
                        .with_max_export_batch_size(BATCH)
                        .with_scheduled_delay(Duration::from_secs(600))
                        .build(),
                )
                .build();
            builder = builder.with_span_processor(bsp);
        }
        let provider = builder.build();
        let tracer = provider.tracer("bench");
        Sdk {
            provider,
            tracer,
            exported,
        }
    }

    fn context(&self) -> SdkCtx {
        let root = self.tracer.start("request");
        let parent = Context::new().with_remote_span_context(root.span_context().clone());
        SdkCtx {
            parent,
            session: honeyhive::tracer::new_session_id(),
        }
    }

    fn flush(&self) {
        self.provider.force_flush().expect("SDK force_flush");
    }
}

/// The same span, made directly with the SDK. The session id arrives as a `&str` (as it does
/// through the C ABI) and becomes one shared string value; names, keys and the other values
/// are literals (the SDK's cheapest form).
#[inline(never)]
fn sdk_span(t: &SdkTracer, cx: &SdkCtx) {
    let sid = Value::String(StringValue::from(Arc::<str>::from(cx.session.as_str())));
    let attributes = vec![
        KeyValue::new(SESSION_KEY, sid.clone()),
        KeyValue::new(SESSION_MIRROR_KEY, sid),
        KeyValue::new("honeyhive.project", "bench"),
        KeyValue::new("traceloop.association.properties.project", "bench"),
        KeyValue::new("honeyhive.source", "bench"),
        KeyValue::new("traceloop.association.properties.source", "bench"),
        KeyValue::new("honeyhive_event_type", "model"),
    ];
    let mut span = t.build_with_context(
        SpanBuilder::from_name("llm.call").with_attributes(attributes),
        &cx.parent,
    );
    span.set_attribute(KeyValue::new("honeyhive_metadata.model", "gpt-4o"));
    span.set_attribute(KeyValue::new("honeyhive_metadata.tokens", 42i64));
    span.set_attribute(KeyValue::new("honeyhive_metadata.temperature", 0.7));
    span.end();
}

fn sdk_burst(t: &SdkTracer, cx: &SdkCtx, n: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        sdk_span(t, cx);
    }
    start.elapsed()
}

fn per_span_ns(d: Duration, n: usize) -> f64 {
    d.as_nanos() as f64 / n as f64
}

// Scenarios of the contention phase.
const STOP: usize = 0;
const ONE: usize = 1;
const TWO: usize = 2;
const TWO_TRACERS: usize = 3;
const SDK_ONE: usize = 4;
const SDK_TWO: usize = 5;
const SPIN_ONE: usize = 6;
const SPIN_TWO: usize = 7;

/// Pure computation (the machine's own 1 vs 2 thread scaling).
fn spin(iterations: u64) {
    let mut x = 0x9e3779b97f4a7c15_u64;
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x);
}

fn main() {
    header(&format!("hot path (load {})", loadavg()));
    let receiver = Receiver::start();
    let n = size(2000, 200);
    let rounds = size(40, 2);

    // ---- BENCHMARKS.md item 1: single thread, interleaved ---------------------------
    let hh = Hh::new(&receiver.url);
    let hcx = hh.context();
    let sdk = Sdk::new(Some(&receiver.addr));
    let scx = sdk.context();
    let floor = Sdk::new(None);
    let fcx = floor.context();

    // For profiling (valgrind --tool=callgrind / perf): one scenario only, in the bursts of
    // the measurement (the queue holds a burst; the receiver forgets each one), 20 by default
    // (40 000 spans), HH_BENCH_PROFILE_BURSTS to change it.
    if let Ok(which) = std::env::var("HH_BENCH_PROFILE") {
        let bursts: usize = std::env::var("HH_BENCH_PROFILE_BURSTS")
            .ok()
            .and_then(|b| b.parse().ok())
            .unwrap_or(20);
        // This thread's CPU time in the bursts only: for comparing two builds side by side,
        // it leaves out time the thread was not running (another process had the CPU).
        let mut cpu_ns = Vec::with_capacity(bursts);
        for _ in 0..bursts {
            let cpu = thread_cpu_seconds();
            match which.as_str() {
                "c" => drop(hh_burst(hh.tracer, &hcx, n, false)),
                "json" => drop(hh_burst(hh.tracer, &hcx, n, true)),
                "sdk" => drop(sdk_burst(&sdk.tracer, &scx, n)),
                _ => drop(sdk_burst(&floor.tracer, &fcx, n)),
            }
            cpu_ns.push((thread_cpu_seconds() - cpu) * 1e9 / n as f64);
            hh.flush();
            sdk.flush();
            receiver.reset();
        }
        assert_eq!(hh.stats().spans_dropped, 0, "spans dropped while profiling");
        println!(
            "profile {which}: {} spans; this thread's CPU per span, median of {bursts} bursts: {:.1} ns",
            bursts * n,
            median(&cpu_ns)
        );
        return;
    }

    // Warm-up (allocator, connections, the runtime).
    hh_burst(hh.tracer, &hcx, n, false);
    hh_burst(hh.tracer, &hcx, n, true);
    hh.flush();
    sdk_burst(&sdk.tracer, &scx, n);
    sdk.flush();
    sdk_burst(&floor.tracer, &fcx, n);
    receiver.reset();
    let (hh_exported0, sdk_exported0) = (
        hh.stats().spans_exported,
        sdk.exported.load(Ordering::Relaxed),
    );

    let (mut c_typed, mut c_json, mut raw, mut raw_floor) = (vec![], vec![], vec![], vec![]);
    for r in 0..rounds {
        // Alternate the order so neither side always runs first after a flush.
        let order: [u8; 4] = if r % 2 == 0 {
            [0, 1, 2, 3]
        } else {
            [2, 3, 1, 0]
        };
        for which in order {
            match which {
                0 => {
                    c_typed.push(per_span_ns(hh_burst(hh.tracer, &hcx, n, false), n));
                    hh.flush();
                    receiver.reset_and_settle(n);
                }
                1 => {
                    c_json.push(per_span_ns(hh_burst(hh.tracer, &hcx, n, true), n));
                    hh.flush();
                    receiver.reset_and_settle(n);
                }
                2 => {
                    raw.push(per_span_ns(sdk_burst(&sdk.tracer, &scx, n), n));
                    sdk.flush();
                    receiver.reset_and_settle(n);
                }
                _ => raw_floor.push(per_span_ns(sdk_burst(&floor.tracer, &fcx, n), n)),
            }
        }
    }
    let st = hh.stats();
    let hh_delivered = st.spans_exported - hh_exported0;
    let sdk_delivered = sdk.exported.load(Ordering::Relaxed) - sdk_exported0;
    let expected = (2 * rounds * n) as u64;
    let (c, j, s, f) = (
        median(&c_typed),
        median(&c_json),
        median(&raw),
        median(&raw_floor),
    );
    report(
        "hot.c_abi_typed_ns",
        c,
        "ns/span",
        "hh_span_start + 3 typed setters + hh_span_end, median",
    );
    report(
        "hot.c_abi_json_ns",
        j,
        "ns/span",
        "hh_span_start + hh_span_enrich(JSON, 3 fields) + hh_span_end",
    );
    report(
        "hot.sdk_batch_ns",
        s,
        "ns/span",
        "opentelemetry_sdk 0.33 + BatchSpanProcessor + exporter to the receiver",
    );
    report(
        "hot.sdk_floor_ns",
        f,
        "ns/span",
        "opentelemetry_sdk 0.33, no processor (pure-SDK floor)",
    );
    // Each round's two bursts ran within milliseconds of each other: their ratio cancels a
    // change of machine speed between rounds (another process, frequency), which the ratio of
    // the two medians does not.
    let paired: Vec<f64> = c_typed.iter().zip(&raw).map(|(c, s)| c / s).collect();
    report(
        "hot.ratio_vs_sdk_batch",
        median(&paired),
        "x",
        &format!(
            "C ABI typed / raw SDK with batch export: median of {} rounds' ratios (ratio of the medians {:.3})",
            paired.len(),
            c / s
        ),
    );
    report(
        "hot.ratio_vs_sdk_floor",
        c / f,
        "x",
        "C ABI typed / raw SDK without processor",
    );
    report(
        "hot.ratio_json_vs_sdk_batch",
        j / s,
        "x",
        "C ABI JSON enrich / raw SDK with batch export",
    );
    report(
        "hot.delivered_hh",
        hh_delivered as f64,
        "spans",
        &format!("of {expected}; dropped {}", st.spans_dropped),
    );
    report(
        "hot.delivered_sdk",
        sdk_delivered as f64,
        "spans",
        &format!("of {}", expected / 2),
    );
    assert_eq!(st.spans_dropped, 0, "libhoneyhive dropped spans");
    drop(floor);

    // ---- BENCHMARKS.md item 2: contention ----------------------------------------------
    // Two worker threads for the whole phase, each with its own session and root span made
    // on that thread (as a server's request handlers have), so that a round measures the
    // spans, not thread start-up. A round: each scenario is one burst per active worker,
    // started together; spans/s = spans / (last finish - first start).
    header("contention: spans/s, bursts of N spans per thread, flush between bursts");
    // Bursts as above (two of them stay under the export batch of 8192, so the export runs
    // in the flush after them, not during them).
    let nc = n;
    let hh2 = Hh::new(&receiver.url);
    let spin_n = 400 * nc as u64;
    let (mut one, mut two, mut two_tracers, mut sdk_one, mut sdk_two) =
        (vec![], vec![], vec![], vec![], vec![]);
    // What the machine itself gives a second thread right now: pure computation, nothing
    // shared, on 1 and 2 threads (a shared or busy host shows here first).
    let (mut cpu_one, mut cpu_two) = (vec![], vec![]);
    let scenario = AtomicUsize::new(0);
    let (go, done) = (Barrier::new(3), Barrier::new(3));
    let times: Vec<Mutex<(Instant, Instant)>> = (0..2)
        .map(|_| Mutex::new((Instant::now(), Instant::now())))
        .collect();
    std::thread::scope(|s| {
        for w in 0..2 {
            let (hh, hh2, sdk, scenario, go, done, times) =
                (&hh, &hh2, &sdk, &scenario, &go, &done, &times);
            s.spawn(move || {
                let (mine, other_tracer, sdk_cx) = (hh.context(), hh2.context(), sdk.context());
                loop {
                    go.wait();
                    let which = scenario.load(Ordering::Acquire);
                    let a = Instant::now();
                    match (which, w) {
                        (STOP, _) => return,
                        (ONE, 0) | (TWO, _) | (TWO_TRACERS, 0) => {
                            hh_burst(hh.tracer, &mine, nc, false);
                        }
                        (TWO_TRACERS, _) => {
                            hh_burst(hh2.tracer, &other_tracer, nc, false);
                        }
                        (SDK_ONE, 0) | (SDK_TWO, _) => {
                            sdk_burst(&sdk.tracer, &sdk_cx, nc);
                        }
                        (SPIN_ONE, 0) | (SPIN_TWO, _) => spin(spin_n),
                        _ => {} // idle in a one-thread scenario
                    }
                    *times[w].lock() = (a, Instant::now());
                    done.wait();
                }
            });
        }
        let run = |which: usize, threads: usize| -> Duration {
            scenario.store(which, Ordering::Release);
            go.wait();
            done.wait();
            let t: Vec<(Instant, Instant)> = times[..threads].iter().map(|m| *m.lock()).collect();
            t.iter().map(|x| x.1).max().unwrap() - t.iter().map(|x| x.0).min().unwrap()
        };
        let rate = |threads: usize, d: Duration| (threads * nc) as f64 / d.as_secs_f64();
        for _ in 0..rounds {
            one.push(rate(1, run(ONE, 1)));
            hh.flush();
            receiver.reset_and_settle(nc);
            two.push(rate(2, run(TWO, 2)));
            hh.flush();
            receiver.reset_and_settle(2 * nc);
            two_tracers.push(rate(2, run(TWO_TRACERS, 2)));
            hh.flush();
            hh2.flush();
            receiver.reset_and_settle(2 * nc);
            sdk_one.push(rate(1, run(SDK_ONE, 1)));
            sdk.flush();
            receiver.reset_and_settle(nc);
            sdk_two.push(rate(2, run(SDK_TWO, 2)));
            sdk.flush();
            receiver.reset_and_settle(2 * nc);
            cpu_one.push(1.0 / run(SPIN_ONE, 1).as_secs_f64());
            cpu_two.push(2.0 / run(SPIN_TWO, 2).as_secs_f64());
        }
        scenario.store(STOP, Ordering::Release);
        go.wait();
    });
    let (o, t, tt) = (median(&one), median(&two), median(&two_tracers));
    report(
        "contention.one_thread",
        o,
        "spans/s",
        "1 thread, one tracer",
    );
    report(
        "contention.two_threads",
        t,
        "spans/s",
        "2 threads sharing one tracer",
    );
    report(
        "contention.two_tracers",
        tt,
        "spans/s",
        "2 threads, one tracer each",
    );
    report(
        "contention.scaling_shared",
        t / o,
        "x",
        "2 threads / 1 thread, shared tracer",
    );
    report(
        "contention.scaling_tracers",
        tt / o,
        "x",
        "2 tracers / 1 thread",
    );
    report(
        "contention.machine_scaling",
        median(&cpu_two) / median(&cpu_one),
        "x",
        "pure computation, 2 threads / 1 (what this machine allows right now)",
    );
    let (so, stw) = (median(&sdk_one), median(&sdk_two));
    report(
        "contention.sdk_scaling",
        stw / so,
        "x",
        &format!("raw SDK for reference: {so:.0} -> {stw:.0} spans/s"),
    );
    let (s1, s2) = (hh.stats(), hh2.stats());
    assert_eq!(
        s1.spans_dropped + s2.spans_dropped,
        0,
        "libhoneyhive dropped spans"
    );
}
