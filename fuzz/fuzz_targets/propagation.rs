//! W3C `traceparent` + `baggage` parsing through `hh_tracer_extract`. Input: the traceparent,
//! then optionally a newline and the baggage. An accepted context must round-trip: a child
//! started under it injects the same trace id.
#![no_main]
use honeyhive::ffi::hh_status;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    use honeyhive::ffi::{span, tracer as tr};
    let tracer = test_tracer();
    let (tp, bag) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let tp = c_string(tp);
    let bag = bag.map(c_string);
    let mut parent = 0u64;
    let mut err = new_err();
    let st = unsafe {
        tr::hh_tracer_extract(tracer, ptr(&tp), bag.as_ref().map_or(std::ptr::null(), |b| ptr(b)), &mut parent, &mut err)
    };
    check("hh_tracer_extract", st, &err);
    if st != hh_status::HH_OK {
        return;
    }
    let mut child = 0u64;
    let mut err = new_err();
    let st = unsafe {
        span::hh_span_start(tracer, ptr(b"remote-child\0"), 0, parent, std::ptr::null(), std::ptr::null(), &mut child, &mut err)
    };
    check("hh_span_start(remote parent)", st, &err);
    assert_eq!(st, hh_status::HH_OK, "an extracted parent must be usable");
    let mut tp_out = [0 as c_char; 56];
    let mut bag_out = vec![0 as c_char; 16384];
    let mut bag_len = 0usize;
    let st = unsafe {
        span::hh_span_inject(child, tp_out.as_mut_ptr(), tp_out.len(), bag_out.as_mut_ptr(), bag_out.len(), &mut bag_len)
    };
    assert!(st == hh_status::HH_OK || st == hh_status::HH_ERR_BUFFER_TOO_SMALL, "inject: {st:?}");
    let mut ptp = [0 as c_char; 56];
    let mut pbag = vec![0 as c_char; 16384];
    let pst = unsafe { span::hh_span_inject(parent, ptp.as_mut_ptr(), ptp.len(), pbag.as_mut_ptr(), pbag.len(), std::ptr::null_mut()) };
    if st == hh_status::HH_OK && pst == hh_status::HH_OK {
        let a = unsafe { std::ffi::CStr::from_ptr(tp_out.as_ptr()) }.to_bytes().to_vec();
        let b = unsafe { std::ffi::CStr::from_ptr(ptp.as_ptr()) }.to_bytes().to_vec();
        assert_eq!(a.len(), 55);
        assert_eq!(&a[3..35], &b[3..35], "the child left the remote trace");
    }
    assert_eq!(span::hh_span_end(child), hh_status::HH_OK);
    let _ = span::hh_span_end(parent);
});
