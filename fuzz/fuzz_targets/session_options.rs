//! Session options JSON through `hh_session_create` on a test-mode tracer.
#![no_main]
use honeyhive::ffi::hh_status;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let tracer = test_tracer();
    let cstr = c_string(data);
    let mut sid = [0 as c_char; 37];
    let mut err = new_err();
    let st = unsafe {
        honeyhive::ffi::session::hh_session_create(tracer, ptr(&cstr), sid.as_mut_ptr(), sid.len(), &mut err)
    };
    check("hh_session_create", st, &err);
    if st == hh_status::HH_OK {
        let id = unsafe { std::ffi::CStr::from_ptr(sid.as_ptr()) }.to_str().expect("UTF-8 id");
        assert_eq!(id.len(), 36, "session id {id:?}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'), "session id {id:?}");
        assert!(!id.bytes().any(|b| b.is_ascii_uppercase()), "session id not lower-case: {id:?}");
        // The id works as a session for a span.
        let mut s = 0u64;
        let mut err = new_err();
        let st = unsafe {
            honeyhive::ffi::span::hh_span_start(tracer, ptr(b"in-session\0"), 0, 0, sid.as_ptr(), std::ptr::null(), &mut s, &mut err)
        };
        assert_eq!(st, hh_status::HH_OK);
        assert_eq!(honeyhive::ffi::span::hh_span_end(s), hh_status::HH_OK);
    }
});
