//! The registry: tracers and spans named by `u64` ids, and every rule of their use, behind
//! one safe API. The C ABI (`crate::ffi`) converts its arguments and calls these functions;
//! Rust callers and tests call them directly, so both take the same path.
//!
//! - `tracers`: create, look up, flush, close, stats, sessions of a tracer id.
//! - `spans`: start, set, enrich, record errors, end, release, inject, extract.
//! - `attributes`: which keys a caller may set, namespaces, value bounds.
//! - `handles`: the generation-checked table behind both kinds of id.
//!
//! Ids are checked: a stale, reused, forged or wrong-kind id gives `InvalidHandle`, never
//! another object. 0 is never a valid id.

pub mod attributes;
pub mod handles;
pub mod spans;
pub mod tracers;

pub use attributes::{AttrValue, Attribute};

use crate::fork::LockVisitor;
use once_cell::sync::Lazy;

/// The tables' locks (tracers' then spans'), for the fork hooks. Tables not yet made have no
/// locks to visit.
pub(crate) fn visit_locks(v: &mut impl LockVisitor) -> bool {
    Lazy::get(&tracers::TRACERS).is_none_or(|t| t.visit_locks(v))
        && Lazy::get(&spans::SPANS).is_none_or(|t| t.visit_locks(v))
}
