//! Attribute keys with a meaning of their own on the wire, shared by the span model (which
//! writes them) and the encoders (which treat them specially). A leaf: it imports nothing of
//! the crate, so both sides can use it without depending on each other.

use opentelemetry::Key;

/// The session a span belongs to. A span stores it once.
pub(crate) const SESSION_KEY: Key = Key::from_static_str("honeyhive.session_id");

/// Where the session id is mirrored on the wire, beside `SESSION_KEY`: the key the reference
/// SDK's association properties use. Written by the encoders, never stored on a span.
pub(crate) const SESSION_MIRROR_KEY: Key =
    Key::from_static_str("traceloop.association.properties.session_id");
