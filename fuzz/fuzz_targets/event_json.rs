//! Event JSON through `hh_event_create` and enrichment JSON through `hh_event_enrich` on a
//! test-mode tracer (nothing is sent); the first byte picks the call, the rest is the text.
#![no_main]
use honeyhive::ffi::hh_status;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let tracer = test_tracer();
    let Some((&pick, text)) = data.split_first() else { return };
    let cstr = c_string(text);
    let mut err = new_err();
    if pick & 1 == 0 {
        let mut id = [0 as c_char; 37];
        let st = unsafe {
            honeyhive::ffi::event::hh_event_create(tracer, ptr(&cstr), id.as_mut_ptr(), id.len(), &mut err)
        };
        check("hh_event_create", st, &err);
        if st == hh_status::HH_OK {
            let id = unsafe { std::ffi::CStr::from_ptr(id.as_ptr()) }.to_str().expect("UTF-8 id");
            assert_eq!(id.len(), 36, "event id {id:?}");
            assert!(!id.bytes().any(|b| b.is_ascii_uppercase()), "event id not lower-case: {id:?}");
        }
    } else {
        let id = b"11111111-2222-4333-8444-555555555555\0";
        let st = unsafe { honeyhive::ffi::event::hh_event_enrich(tracer, ptr(id), ptr(&cstr), &mut err) };
        check("hh_event_enrich", st, &err);
    }
});
