//! Process-wide setup, done once with the first tracer made through the C ABI: the
//! process-wide state (the runtime slot, the interned strings) joins the fork protocol, and
//! the process hooks (fork, exit) are installed.

use std::sync::Once;

static INIT: Once = Once::new();

pub fn init() {
    INIT.call_once(|| {
        crate::runtime::register_with_fork();
        crate::local::register_with_fork();
        crate::fork::install_process_hooks();
    });
}
