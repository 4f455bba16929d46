// Shared by the fuzz targets (included with `include!`): C-string handling as a C caller
// would do it, and the invariant every target checks: no input makes the C ABI report a
// contained panic (HH_ERR_PANIC) — a panic is a bug even when the boundary catches it.

use honeyhive::ffi::hh_error;
#[allow(unused_imports)]
use std::ffi::c_char;

/// The bytes as a NUL-terminated C string: a C caller's string ends at its first NUL.
#[allow(dead_code)]
fn c_string(data: &[u8]) -> Vec<u8> {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let mut v = data[..end].to_vec();
    v.push(0);
    v
}

#[allow(dead_code)]
fn ptr(v: &[u8]) -> *const c_char {
    v.as_ptr() as *const c_char
}

#[allow(dead_code)]
fn new_err() -> hh_error {
    // SAFETY: hh_error is a plain C struct (an enum with 0 = HH_OK and a byte array).
    unsafe { std::mem::zeroed() }
}

/// Aborts (a libFuzzer crash) when the library contained a panic, or when an error message is
/// not NUL-terminated.
#[allow(dead_code)]
fn check(what: &str, st: honeyhive::ffi::hh_status, err: &hh_error) {
    if st == honeyhive::ffi::hh_status::HH_ERR_PANIC {
        let msg = unsafe { std::ffi::CStr::from_ptr(err.message.as_ptr()) };
        panic!("{what}: contained panic: {msg:?}");
    }
    if st != honeyhive::ffi::hh_status::HH_OK {
        assert!(err.message.contains(&0), "{what}: error message not NUL-terminated");
    }
}

/// A test-mode tracer (no network at all), made once per fuzzing process.
#[allow(dead_code)]
fn test_tracer() -> u64 {
    use std::sync::OnceLock;
    static T: OnceLock<u64> = OnceLock::new();
    *T.get_or_init(|| {
        let cfg = b"{\"test_mode\":true,\"project\":\"fuzz\",\"session_name\":\"fuzz\"}\0";
        let mut t = 0u64;
        let mut err = new_err();
        let st = unsafe { honeyhive::ffi::tracer::hh_tracer_new(ptr(cfg), &mut t, &mut err) };
        assert_eq!(st, honeyhive::ffi::hh_status::HH_OK, "test-mode tracer");
        t
    })
}
