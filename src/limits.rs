//! Input limits, enforced at the boundary so that no caller input can exhaust memory or stack.
//! Documented in the README ("Limits").

/// Largest JSON document accepted (config, enrichment, session options, attributes).
pub const MAX_JSON_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting accepted in JSON input; deeper input is rejected, never recursed into.
pub const MAX_JSON_DEPTH: usize = 64;
/// Attribute string values longer than this are truncated (at a UTF-8 boundary).
pub const MAX_ATTRIBUTE_VALUE_BYTES: usize = 1024 * 1024;
/// An array attribute value keeps at most this many bytes of content (numbers and booleans
/// count 8 bytes each, strings their length): past it the array is truncated, as a string
/// value is (the elements after the limit are dropped, the one across it cut at a UTF-8
/// boundary).
pub const MAX_ARRAY_VALUE_BYTES: usize = 1024 * 1024;
/// An array attribute value keeps at most this many elements (the rest are dropped).
pub const MAX_ARRAY_ELEMENTS: usize = 65_536;
/// Span names longer than this are truncated (at a UTF-8 boundary).
pub const MAX_SPAN_NAME_BYTES: usize = 1024;
/// Attributes one enrichment call may produce; more is rejected as a whole.
pub const MAX_ATTRIBUTES_PER_CALL: usize = 1024;
/// Per-span limits, as the reference SDK's `max_attributes` / `max_events` / `max_links`.
pub const MAX_ATTRIBUTES_PER_SPAN: u32 = 1024;
pub const MAX_EVENTS_PER_SPAN: u32 = 1024;
pub const MAX_LINKS_PER_SPAN: u32 = 128;
/// Attributes one event or one link keeps (OpenTelemetry's default `max_attributes_per_event`
/// and `max_attributes_per_link`); the rest are dropped and counted.
pub const MAX_ATTRIBUTES_PER_EVENT: u32 = 128;
pub const MAX_ATTRIBUTES_PER_LINK: u32 = 128;
/// Attribute keys longer than this are rejected.
pub const MAX_KEY_BYTES: usize = 1024;

/// Truncates `s` to at most `max` bytes without splitting a UTF-8 character.
pub fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn truncation_keeps_char_boundaries() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("héllo", 3), "hé");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }
}
