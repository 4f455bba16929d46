//! The span model's C inputs on a test-mode tracer: `hh_span_start_ex` options (kind, times,
//! links, typed attributes with arrays of every type, a parent context), events, links,
//! status, rename, `hh_span_record_error_ex` and `hh_span_end_at`, all built from the input
//! bytes. No input may make the library panic (contained or not) or read past what it is given.
#![no_main]
use honeyhive::ffi::span_attrs::hh_attr;
use honeyhive::ffi::span_model::{hh_link, hh_span_context, hh_span_options};
use honeyhive::ffi::span_model;
use libfuzzer_sys::fuzz_target;

include!("common.rs");

/// Reads the input a few bytes at a time; past its end, zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |v, _| (v << 8) | self.u8() as u64)
    }
    /// A NUL-terminated string of up to 15 input bytes.
    fn string(&mut self) -> Vec<u8> {
        let n = (self.u8() % 16) as usize;
        let mut v: Vec<u8> = (0..n).map(|_| self.u8()).filter(|b| *b != 0).collect();
        v.push(0);
        v
    }
    fn context(&mut self) -> hh_span_context {
        let mut c = hh_span_context { trace_id: [0; 16], span_id: [0; 8], trace_flags: 0, is_remote: 0 };
        // Mostly valid ids, sometimes zero ones.
        let zero = self.u8() % 8 == 0;
        for b in c.trace_id.iter_mut().chain(c.span_id.iter_mut()) {
            *b = if zero { 0 } else { self.u8() | 1 };
        }
        c.trace_flags = self.u8();
        c.is_remote = self.u8(); // any byte: non-zero is true
        c
    }
}

/// Storage that outlives the `hh_attr`s pointing into it.
#[derive(Default)]
struct Store {
    strings: Vec<Vec<u8>>,
    ptrs: Vec<Vec<*const c_char>>,
    ints: Vec<Vec<i64>>,
    doubles: Vec<Vec<f64>>,
    bools: Vec<Vec<u8>>,
}

fn attrs(b: &mut Bytes, store: &mut Store) -> Vec<hh_attr> {
    let n = b.u8() % 5;
    let mut specs = Vec::new();
    for _ in 0..n {
        let kind = b.u8() % 10; // 0 and 9: unknown types
        let ns = (b.u8() % 9) as u32;
        let key = b.string();
        let len = (b.u8() % 6) as usize;
        let mut strs = Vec::new();
        for _ in 0..len {
            strs.push(b.string());
        }
        let ints: Vec<i64> = (0..len).map(|_| b.u64() as i64).collect();
        let doubles: Vec<f64> = (0..len).map(|_| f64::from_bits(b.u64())).collect();
        // Any byte, as a C caller's bool memory may hold.
        let bools: Vec<u8> = (0..len).map(|_| b.u8()).collect();
        let null_items = b.u8() % 16 == 0;
        specs.push((kind, ns, key, len, strs, ints, doubles, bools, null_items));
    }
    let mut out = Vec::new();
    for (kind, ns, key, len, strs, ints, doubles, bools, null_items) in specs {
        store.strings.push(key);
        let key_ptr = ptr(store.strings.last().unwrap());
        let first = store.strings.len();
        store.strings.extend(strs);
        let p: Vec<*const c_char> = store.strings[first..].iter().map(|s| ptr(s)).collect();
        store.ptrs.push(p);
        store.ints.push(ints);
        store.doubles.push(doubles);
        store.bools.push(bools);
        let items: *const std::ffi::c_void = match kind {
            _ if null_items => std::ptr::null(),
            5 => store.ptrs.last().unwrap().as_ptr().cast(),
            6 => store.ints.last().unwrap().as_ptr().cast(),
            7 => store.doubles.last().unwrap().as_ptr().cast(),
            8 => store.bools.last().unwrap().as_ptr().cast(),
            _ => std::ptr::null(),
        };
        out.push(hh_attr {
            ns,
            r#type: kind as u32,
            key: key_ptr,
            str: store.strings.first().map_or(std::ptr::null(), |s| ptr(s)),
            i64: 1,
            f64: 0.5,
            items,
            len,
        });
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let tracer = test_tracer();
    let mut b = Bytes(data);
    // Strings and arrays are moved into the store before any pointer to them is taken, and
    // the store's vectors are not resized afterwards (each push above happens before the
    // pointers of that element are read; earlier elements' heap buffers do not move).
    let mut store = Store::default();
    let initial = attrs(&mut b, &mut store);
    let link_attrs = attrs(&mut b, &mut store);
    let links = [
        hh_link { context: b.context(), attrs: link_attrs.as_ptr(), attrs_len: link_attrs.len() },
        hh_link { context: b.context(), attrs: std::ptr::null(), attrs_len: 0 },
    ];
    let parent = b.context();
    let opts = hh_span_options {
        kind: (b.u8() % 7) as u32,
        start_time_unix_nano: b.u64(),
        links: links.as_ptr(),
        links_len: (b.u8() % 3) as usize,
        attrs: initial.as_ptr(),
        attrs_len: initial.len(),
        parent_context: if b.u8() & 1 == 1 { &parent } else { std::ptr::null() },
    };
    let name = b.string();
    let mut s = 0u64;
    let mut err = new_err();
    let st = unsafe {
        span_model::hh_span_start_ex(tracer, ptr(&name), 0, 0, std::ptr::null(), std::ptr::null(), &opts, &mut s, &mut err)
    };
    check("hh_span_start_ex", st, &err);
    if st != honeyhive::ffi::hh_status::HH_OK {
        return;
    }
    for _ in 0..(b.u8() % 8) {
        let mut err = new_err();
        let st = match b.u8() % 7 {
            0 => {
                let ev = attrs(&mut b, &mut store);
                let n = b.string();
                unsafe { span_model::hh_span_add_event(s, ptr(&n), ev.as_ptr(), ev.len(), b.u64(), &mut err) }
            }
            1 => unsafe { span_model::hh_span_add_link(s, &links[0], &mut err) },
            2 => {
                let d = b.string();
                unsafe { span_model::hh_span_set_status(s, (b.u8() % 4) as u32, ptr(&d)) }
            }
            3 => {
                let n = b.string();
                unsafe { span_model::hh_span_set_name(s, ptr(&n)) }
            }
            4 => {
                let (t, m, st) = (b.string(), b.string(), b.string());
                unsafe {
                    span_model::hh_span_record_error_ex(s, ptr(&t), ptr(&m), ptr(&st), (b.u8() % 3) as u32, b.u64())
                }
            }
            5 => {
                let a = attrs(&mut b, &mut store);
                unsafe { honeyhive::ffi::span_attrs::hh_span_set_attrs(s, a.as_ptr(), a.len(), &mut err) }
            }
            _ => {
                let mut cx = hh_span_context { trace_id: [0; 16], span_id: [0; 8], trace_flags: 0, is_remote: 0 };
                unsafe { span_model::hh_span_get_context(s, &mut cx) }
            }
        };
        check("span model call", st, &err);
    }
    let st = span_model::hh_span_end_at(s, b.u64(), 0);
    check("hh_span_end_at", st, &new_err());
});
