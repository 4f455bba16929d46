//! Which session a span gets: decided once, at its start, here.
//!
//! 1. A session given by the caller, always.
//! 2. Else its parent's, when the parent belongs to the same tracer or is a remote parent
//!    (extracted headers, ids of a remote span, the tracer's `link_carrier`). A span of another
//!    tracer belongs to another project's session: a child of it takes its own tracer's.
//! 3. Else the tracer's default session.
//! 4. Else (session auto-create mode: no default session) a root span of kind SERVER gets a
//!    fresh session, which its descendants inherit by rule 2. Nothing else gets it (the
//!    reference SDK also leaks it to later unrelated spans through an attached context).
//! 5. Else none: the span is not exported (counted in `spans_no_session` at its end).
//!
//! Using the default session starts it if it never was (`TracerInner::use_session`).

use crate::tracer::TracerInner;
use opentelemetry::KeyValue;
use std::sync::Arc;

/// Whether a child on `tracer` may take the session of a parent on `parent_tracer`.
#[inline]
pub(crate) fn inherits(parent_tracer: u64, tracer: u64, parent_is_remote: bool) -> bool {
    parent_tracer == tracer || parent_is_remote
}

/// The session of a span starting on `t`.
/// - `explicit`: the session the caller gave;
/// - `parent`: `None` for a root span (no parent of any kind), else the parent's session when
///   `inherits` allowed it (`Some(None)`: a parent whose session is not taken);
/// - `kind_is_server`: the span's kind is SERVER.
///
/// What the chosen session stamps on a span (its name in auto-create mode or when it was
/// named) is added to `attributes`.
#[inline]
pub(crate) fn choose(
    t: &TracerInner,
    explicit: Option<Arc<str>>,
    parent: Option<Option<Arc<str>>>,
    kind_is_server: bool,
    attributes: &mut Vec<KeyValue>,
) -> Option<Arc<str>> {
    let session = match (explicit, parent) {
        (Some(s), _) => Some(s),
        (None, Some(Some(s))) => Some(s),
        (None, parent) => match &t.default_session {
            Some(d) => Some(crate::local::session_canonical(d)),
            None if parent.is_none() && kind_is_server && t.sessions.auto_create() => {
                Some(Arc::from(crate::tracer::new_session_id()))
            }
            None => None,
        },
    };
    if let Some(s) = &session {
        t.use_session(s, Some(attributes));
    }
    session
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::tracer::Tracer;

    fn tracer(json: &str) -> Tracer {
        Tracer::new(Config::resolve(Some(json), &|_| None).expect("config")).expect("tracer")
    }

    fn sid(s: &str) -> Option<Arc<str>> {
        Some(Arc::from(s))
    }

    const A: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    const B: &str = "bbbbbbbb-bbbb-4ccc-8ddd-eeeeeeeeeeee";

    #[test]
    fn explicit_then_inherited_then_default() {
        let t = tracer(&format!(
            r#"{{"test_mode":true,"exporter":"console","session_id":"{A}"}}"#
        ));
        let mut attrs = Vec::new();
        let t = &t.inner;
        assert_eq!(choose(t, sid(B), Some(sid(A)), false, &mut attrs), sid(B));
        assert_eq!(choose(t, None, Some(sid(B)), false, &mut attrs), sid(B));
        assert_eq!(choose(t, None, Some(None), false, &mut attrs), sid(A));
        assert_eq!(choose(t, None, None, true, &mut attrs), sid(A));
        assert!(attrs.is_empty(), "{attrs:?}");
        assert!(inherits(3, 3, false) && inherits(3, 4, true) && !inherits(3, 4, false));
    }

    #[test]
    fn auto_create_mode_gives_a_root_server_span_a_fresh_session_and_nothing_else() {
        let t = tracer(
            r#"{"test_mode":true,"skip_backend_session_creation":true,"session_name":"svc"}"#,
        );
        let t = &t.inner;
        let mut attrs = Vec::new();
        assert_eq!(choose(t, None, None, false, &mut attrs), None);
        assert_eq!(choose(t, None, Some(None), true, &mut attrs), None);
        assert!(attrs.is_empty());
        let first = choose(t, None, None, true, &mut attrs).expect("a fresh session");
        let second = choose(t, None, None, true, &mut attrs).expect("a fresh session");
        assert_ne!(first, second, "each request its own session");
        assert!(crate::config::canonical_session_id(&first).as_deref() == Some(&*first));
        // Stamped with the tracer's session name (auto-create mode), once per span.
        let names: Vec<String> = attrs
            .iter()
            .filter(|kv| kv.key.as_str() == "honeyhive.session_name")
            .map(|kv| kv.value.as_str().into_owned())
            .collect();
        assert_eq!(names, ["svc", "svc"]);
    }
}
