//! `OTEL_RESOURCE_ATTRIBUTES` text: parsed within its bounds, whatever it holds.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut notices = Vec::new();
    let attrs = honeyhive::config::parse_resource_env(text, &mut notices);
    assert!(attrs.len() <= 128, "{} attributes", attrs.len());
    for (k, v) in &attrs {
        assert!(!k.is_empty() && k.len() <= 256, "key {k:?}");
        assert!(v.as_str().is_some_and(|v| v.len() <= 4096), "value of {k:?}");
        assert_ne!(k, "process.pid");
    }
    assert!(notices.len() <= 1, "{notices:?}");
});
