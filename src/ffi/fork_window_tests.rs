//! The fork protocol through the C ABI, in a fresh process of this test binary.

use crate::ffi::{hh_span, hh_status, hh_tracer};
use crate::fork::protocol::{after_fork_in_parent, before_fork};
use crate::registry::spans::SPANS;
use once_cell::sync::Lazy;
use std::sync::mpsc;
use std::time::Duration;

const CHILD_ENV: &str = "HH_TEST_FORK_WINDOW_CHILD";
const CHILD_DONE: &str = "fork-window scenario completed";

/// `fork()` racing the process's first span start: the span table is created after the
/// prepare hook took the locks and before the parent hook released them. Afterwards a
/// tracer and a span made on another thread must complete (they waited forever when the
/// release walk, visiting the new table, released the wrong locks). Runs in a fresh process of
/// this test binary, where the span table does not exist yet.
#[test]
fn a_table_created_during_a_fork_leaves_no_lock_held() {
    if std::env::var_os(CHILD_ENV).is_none() {
        let name = format!(
            "{}::a_table_created_during_a_fork_leaves_no_lock_held",
            module_path!().split_once("::").map_or("", |(_, rest)| rest)
        );
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains(CHILD_DONE),
            "the scenario failed ({}):\n{stdout}\n{stderr}",
            out.status
        );
        return;
    }
    assert!(Lazy::get(&SPANS).is_none(), "the span table already exists");
    before_fork();
    Lazy::force(&SPANS); // what a thread starting the process's first span does meanwhile
    after_fork_in_parent();

    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut tracer: hh_tracer = 0;
        // SAFETY: a NUL-terminated config and a valid out-pointer.
        let created = unsafe {
            crate::ffi::tracer::hh_tracer_new(
                c"{\"test_mode\":true,\"project\":\"fork-window\"}".as_ptr(),
                &mut tracer,
                std::ptr::null_mut(),
            )
        };
        let mut span: hh_span = 0;
        // SAFETY: a NUL-terminated name, NULL optional strings, a valid out-pointer.
        let started = unsafe {
            crate::ffi::span::hh_span_start(
                tracer,
                c"first-span-after-fork".as_ptr(),
                0,
                0,
                std::ptr::null(),
                std::ptr::null(),
                &mut span,
                std::ptr::null_mut(),
            )
        };
        let ended = crate::ffi::span::hh_span_end(span);
        let _ = tx.send((created, started, ended));
    });
    // A bound, so that a lock left held fails the test instead of hanging it.
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok((created, started, ended)) => {
            assert_eq!(created, hh_status::HH_OK);
            assert_eq!(started, hh_status::HH_OK);
            assert_eq!(ended, hh_status::HH_OK);
        }
        Err(_) => panic!("a span call after the fork never returned: a lock stayed held"),
    }
    println!("{CHILD_DONE}");
}
