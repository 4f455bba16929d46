//! Fork and exit handling.
//!
//! Each part of the library that must act around `fork()` (a pipeline, the handle tables, the
//! runtime slot, the interned strings, a tracer's sessions) implements `ForkAware`: it lists its locks layer by
//! layer and resets itself in a forked child; it registers itself (`register`,
//! `register_static`). The protocol (`protocol`) iterates over the registered parts; the
//! process hooks themselves, the only unsafe code here, are in `hooks`. This module imports
//! none of the parts: they import it.
//!
//! Files: `component` (the trait and the registry), `protocol` (what the hooks do), `hooks`
//! (installing them; taking and releasing locks), `gate` (the forking and exiting flags),
//! `abandoned` (what a child keeps but must not drop).

mod abandoned;
pub mod component;
mod gate;
#[allow(unsafe_code)]
pub mod hooks;
pub mod protocol;

pub use abandoned::abandon;
pub use component::{register, register_static, ForkAware, Layer};
pub use gate::{exiting, wait_while_forking};
pub use hooks::LockWalk;
pub use protocol::install_process_hooks;
// The lock type lives in `crate::sync`; re-exported for the modules that import it from here.
pub use crate::sync::{LockVisitor, ShortLock};
