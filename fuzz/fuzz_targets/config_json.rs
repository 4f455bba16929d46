//! Config JSON: the core resolver (no environment), and `hh_tracer_new` where that is safe
//! (the input is rejected, or it selects test mode: nothing can reach the network).
#![no_main]
use honeyhive::config::Config;
use honeyhive::ffi::hh_status;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fn env_is_clean() -> bool {
    std::env::vars_os().all(|(k, _)| {
        let k = k.to_string_lossy();
        !(k.starts_with("HH_") || k.starts_with("HONEYHIVE_") || k.starts_with("OTEL_"))
    })
}

fuzz_target!(|data: &[u8]| {
    let cstr = c_string(data);
    let text = std::str::from_utf8(&cstr[..cstr.len() - 1]);
    let resolved = text.ok().map(|t| Config::resolve(Some(t), &|_| None));
    // Only an input that fails to resolve, or a test-mode config, goes through the C ABI.
    let safe = match &resolved {
        None => true,                 // invalid UTF-8: rejected before any parsing
        Some(Err(_)) => true,         // invalid config: no tracer is made
        Some(Ok(c)) => c.test_mode,   // test mode: no network, no file
    };
    if !safe || !env_is_clean() {
        return;
    }
    let mut t = 0u64;
    let mut err = new_err();
    let st = unsafe { honeyhive::ffi::tracer::hh_tracer_new(ptr(&cstr), &mut t, &mut err) };
    check("hh_tracer_new", st, &err);
    match &resolved {
        None => assert_eq!(st, hh_status::HH_ERR_INVALID_UTF8),
        Some(Err(_)) => assert_ne!(st, hh_status::HH_OK, "the resolver refused it, the ABI accepted it"),
        Some(Ok(_)) => {
            assert_eq!(st, hh_status::HH_OK, "a test-mode config that resolves must make a tracer");
        }
    }
    if st == hh_status::HH_OK {
        let st = honeyhive::ffi::tracer::hh_tracer_close(t, 1000);
        assert_eq!(st, hh_status::HH_OK);
    }
});
