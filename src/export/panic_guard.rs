//! Background work that outlives its own panics: a panic inside a guarded future ends that
//! future only, and its caller gets the panic's message to count and report.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs the future `make` returns, catching a panic in `make` or in any poll of the future:
/// `Err(message)` then. (Catching is sound here: the library's locks release on unwind and do
/// not poison, and what a panicking future leaves half-done is dropped with it.)
pub(crate) fn guarded<F: Future + Unpin>(make: impl FnOnce() -> F) -> Guarded<F> {
    match catch_unwind(AssertUnwindSafe(make)) {
        Ok(future) => Guarded {
            future: Some(future),
            panicked: None,
        },
        Err(payload) => Guarded {
            future: None,
            panicked: Some(message(payload.as_ref())),
        },
    }
}

/// See `guarded`.
#[derive(Debug)]
pub(crate) struct Guarded<F> {
    future: Option<F>,
    panicked: Option<String>,
}

impl<F: Future + Unpin> Future for Guarded<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(panicked) = this.panicked.take() {
            return Poll::Ready(Err(panicked));
        }
        let Some(future) = this.future.as_mut() else {
            return Poll::Ready(Err("polled after it finished".into()));
        };
        match catch_unwind(AssertUnwindSafe(|| Pin::new(future).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => {
                this.future = None;
                Poll::Ready(Ok(out))
            }
            Err(payload) => {
                this.future = None;
                Poll::Ready(Err(message(payload.as_ref())))
            }
        }
    }
}

/// The text a panic was raised with (`panic!` with a literal or with a format).
pub(crate) fn message(payload: &(dyn Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("panic: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_panic_while_making_or_polling_becomes_an_error() {
        assert_eq!(run(guarded(|| Box::pin(async { 7 }))), Ok(7));
        let made: Result<(), String> =
            run(guarded(|| -> std::future::Ready<()> { panic!("in make") }));
        assert_eq!(made, Err("panic: in make".into()));
        let n = 3;
        let polled: Result<(), String> = run(guarded(|| {
            Box::pin(async move {
                tokio::task::yield_now().await;
                panic!("in poll {n}")
            })
        }));
        assert_eq!(polled, Err("panic: in poll 3".into()));
    }
}
