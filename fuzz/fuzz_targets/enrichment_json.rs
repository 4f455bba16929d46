//! Enrichment JSON through the C ABI on a test-mode tracer: span enrichment, initial span
//! attributes and session enrichment. The core parser must agree with the ABI's verdict.
#![no_main]
use honeyhive::ffi::hh_status;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    use honeyhive::ffi::{session, span};
    let tracer = test_tracer();
    let cstr = c_string(data);
    let text = std::str::from_utf8(&cstr[..cstr.len() - 1]).ok();

    let mut s = 0u64;
    let mut err = new_err();
    let name = b"fuzz-span\0";
    let st = unsafe { span::hh_span_start(tracer, ptr(name), 0, 0, std::ptr::null(), std::ptr::null(), &mut s, &mut err) };
    assert_eq!(st, hh_status::HH_OK);

    let mut err = new_err();
    let st = unsafe { span::hh_span_enrich(s, ptr(&cstr), &mut err) };
    check("hh_span_enrich", st, &err);
    if let Some(t) = text {
        let core = honeyhive::enrich::span_enrichment(t);
        assert_eq!(core.is_ok(), st == hh_status::HH_OK, "core and ABI disagree on enrichment {t:?}");
    } else {
        assert_eq!(st, hh_status::HH_ERR_INVALID_UTF8);
    }
    // A second call with the same input must not fail differently (all-or-nothing).
    let mut err = new_err();
    let st2 = unsafe { span::hh_span_enrich(s, ptr(&cstr), &mut err) };
    check("hh_span_enrich (again)", st2, &err);
    assert!(st2 == st || st2 == hh_status::HH_ERR_LIMIT_EXCEEDED, "{st:?} then {st2:?}");

    let mut c = 0u64;
    let mut err = new_err();
    let child = b"fuzz-child\0";
    let st = unsafe { span::hh_span_start(tracer, ptr(child), 0, s, std::ptr::null(), ptr(&cstr), &mut c, &mut err) };
    check("hh_span_start(attributes)", st, &err);
    if st == hh_status::HH_OK {
        assert_eq!(span::hh_span_end(c), hh_status::HH_OK);
    }
    assert_eq!(span::hh_span_end(s), hh_status::HH_OK);

    let mut err = new_err();
    let st = unsafe { session::hh_session_enrich(tracer, std::ptr::null(), ptr(&cstr), &mut err) };
    check("hh_session_enrich", st, &err);
});
