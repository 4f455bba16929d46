//! A destination whose writes may block (a file, a FIFO, a terminal or pipe) written on a
//! thread of its own, so that a stuck write holds that thread only: never the shared
//! runtime's, on which every tracer's network export runs.
//!
//! The worker hands over one request at a time and waits for it (asynchronously) up to the
//! export timeout; past that the request counts as failed and is not written if its turn
//! comes later. While the thread is still stuck, at most one more request waits for it;
//! later ones fail at once, so a stuck destination holds a bounded amount of memory.

use crate::export::panic_guard;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

type Write = dyn Fn(&[u8]) -> Result<(), String> + Send + Sync;

struct Job {
    bytes: Vec<u8>,
    done: oneshot::Sender<Result<(), String>>,
}

pub(crate) struct BlockingWriter {
    name: &'static str,
    timeout: Duration,
    write: Arc<Write>,
    /// To the writing thread, started at the first write (and again if it ended).
    jobs: Option<SyncSender<Job>>,
}

impl BlockingWriter {
    /// `write` writes one request's bytes; it runs on a thread named `name`.
    pub(crate) fn new(
        name: &'static str,
        timeout: Duration,
        write: impl Fn(&[u8]) -> Result<(), String> + Send + Sync + 'static,
    ) -> BlockingWriter {
        BlockingWriter {
            name,
            timeout,
            write: Arc::new(write),
            jobs: None,
        }
    }

    /// Writes `bytes` on the writing thread; `Err` when it failed, or did not finish within
    /// the timeout, or the thread is still stuck on an earlier request.
    pub(crate) async fn write(&mut self, bytes: Vec<u8>) -> Result<(), String> {
        let (done, result) = oneshot::channel();
        let mut job = Job { bytes, done };
        let mut restarted = false;
        loop {
            let jobs = match self.jobs.take() {
                Some(jobs) => jobs,
                None => self.start()?,
            };
            match jobs.try_send(job) {
                Ok(()) => {
                    self.jobs = Some(jobs);
                    break;
                }
                Err(TrySendError::Full(_)) => {
                    self.jobs = Some(jobs);
                    return Err(format!(
                        "{} is still blocked on an earlier write; not written",
                        self.name
                    ));
                }
                // The thread ended: once, start another.
                Err(TrySendError::Disconnected(back)) if !restarted => {
                    restarted = true;
                    job = back;
                }
                Err(TrySendError::Disconnected(_)) => {
                    return Err(format!("{} thread ended; not written", self.name))
                }
            }
        }
        match tokio::time::timeout(self.timeout, result).await {
            Ok(Ok(written)) => written,
            Ok(Err(_)) => Err(format!("{} thread ended before writing", self.name)),
            Err(_) => Err(format!(
                "not written within {:?}: the destination is blocked",
                self.timeout
            )),
        }
    }

    fn start(&self) -> Result<SyncSender<Job>, String> {
        // One request running, one waiting (see the module's comment).
        let (tx, rx) = sync_channel::<Job>(1);
        let write = self.write.clone();
        std::thread::Builder::new()
            .name(self.name.into())
            .spawn(move || {
                // Ends when the sink is dropped (its worker ended).
                while let Ok(job) = rx.recv() {
                    if job.done.is_closed() {
                        // Its waiter gave up and counted it as failed.
                        continue;
                    }
                    let written = catch_unwind(AssertUnwindSafe(|| write(&job.bytes)))
                        .unwrap_or_else(|p| Err(panic_guard::message(p.as_ref())));
                    let _ = job.done.send(written);
                }
            })
            .map_err(|e| format!("cannot start the {} thread: {e}", self.name))?;
        Ok(tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    type Written = Arc<Mutex<Vec<Vec<u8>>>>;

    /// A writer that records what it wrote, and blocks while `gate` holds no permit.
    fn gated(timeout: Duration) -> (BlockingWriter, Written, SyncSender<()>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let (open, gate) = sync_channel::<()>(16);
        let gate = Mutex::new(gate);
        let sink = written.clone();
        let writer = BlockingWriter::new("test-writer", timeout, move |b: &[u8]| {
            gate.lock().unwrap().recv().map_err(|e| e.to_string())?;
            sink.lock().unwrap().push(b.to_vec());
            Ok(())
        });
        (writer, written, open)
    }

    #[test]
    fn writes_in_order_on_its_own_thread() {
        let rt = runtime();
        let (mut w, written, open) = gated(Duration::from_secs(30));
        for _ in 0..2 {
            open.send(()).unwrap();
        }
        rt.block_on(async {
            assert_eq!(w.write(b"a".to_vec()).await, Ok(()));
            assert_eq!(w.write(b"b".to_vec()).await, Ok(()));
        });
        assert_eq!(*written.lock().unwrap(), [b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn a_stuck_destination_fails_requests_without_holding_them() {
        let rt = runtime();
        let (mut w, written, open) = gated(Duration::from_millis(50));
        rt.block_on(async {
            // Stuck in the first write: it times out, the second waits behind it and times
            // out, the third fails at once.
            assert!(w
                .write(b"1".to_vec())
                .await
                .unwrap_err()
                .contains("blocked"));
            assert!(w
                .write(b"2".to_vec())
                .await
                .unwrap_err()
                .contains("blocked"));
            let third = w.write(b"3".to_vec()).await.unwrap_err();
            assert!(third.contains("still blocked"), "{third}");
        });
        // Unstuck: the first completes (too late to count), the second is skipped (its
        // waiter gave up), and new requests are written again.
        for _ in 0..2 {
            open.send(()).unwrap();
        }
        w.timeout = Duration::from_secs(30);
        // Until the thread is past the requests it had, new ones are refused at once.
        let mut fourth = rt.block_on(w.write(b"4".to_vec()));
        for _ in 0..1000 {
            if !fourth.as_ref().is_err_and(|e| e.contains("still blocked")) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            fourth = rt.block_on(w.write(b"4".to_vec()));
        }
        assert_eq!(fourth, Ok(()));
        assert_eq!(*written.lock().unwrap(), [b"1".to_vec(), b"4".to_vec()]);
    }

    #[test]
    fn a_panicking_write_fails_that_request_only() {
        let rt = runtime();
        let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let seen = calls.clone();
        let mut w = BlockingWriter::new("test-writer", Duration::from_secs(30), move |_| {
            if seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                panic!("disk on fire");
            }
            Ok(())
        });
        rt.block_on(async {
            assert_eq!(
                w.write(b"x".to_vec()).await,
                Err("panic: disk on fire".into())
            );
            assert_eq!(w.write(b"y".to_vec()).await, Ok(()));
        });
    }
}
