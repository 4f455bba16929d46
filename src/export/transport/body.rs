//! Response bodies, read with a bound: a server (or anything in between) may answer with a
//! body of any size, or one that never ends. Only a short prefix is ever buffered; the rest is
//! left unread and the connection is dropped with the response.

use bytes::{Bytes, BytesMut};

/// The most of any response body that is read. Enough for an OTLP partial-success answer with
/// a message, or a session-start echo; far less than any memory bound of the library.
pub(crate) const MAX_RESPONSE_BODY: usize = 16 * 1024;

/// Reads at most `limit` bytes of `resp`'s body, chunk by chunk, stopping as soon as the limit
/// is reached (the rest is never read). What arrived before an error is kept.
pub async fn read_prefix(resp: &mut reqwest::Response, limit: usize) -> Bytes {
    let mut buf = BytesMut::new();
    // An error while reading (a reset, the request's timeout) ends the body where it stands.
    while let Ok(Some(chunk)) = resp.chunk().await {
        let room = limit - buf.len();
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= limit {
            break;
        }
    }
    buf.freeze()
}

/// Text from a server, fit for a log line: at most `max` bytes of it, invalid UTF-8 replaced,
/// control characters (newlines, escape sequences) shown escaped so that nothing a server
/// sends can forge a log line or drive a terminal.
pub fn printable(raw: &[u8], max: usize) -> String {
    crate::redact::escape(&crate::redact::snippet(raw, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_and_bounds_length() {
        assert_eq!(printable(b"plain text", 100), "plain text");
        assert_eq!(
            printable(b"a\nb\r\x1b[2Jc\x07", 100),
            "a\\nb\\r\\x1b[2Jc\\x07"
        );
        assert_eq!(
            printable(b"abcdef", 3),
            format!("abc{}", crate::redact::CUT)
        );
        assert_eq!(printable(b"\xff\xfeok", 100), "\u{fffd}\u{fffd}ok");
        assert_eq!(printable("x\u{202e}y".as_bytes(), 100), "x\\u{202e}y");
        // A cut inside a multi-byte character does not panic.
        assert_eq!(
            printable("éé".as_bytes(), 3),
            format!("é\u{fffd}{}", crate::redact::CUT)
        );
    }
}
