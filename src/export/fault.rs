//! Faults the unit tests inject into background work, to prove it survives them. Outside
//! `cfg(test)` nothing can arm them and every check compiles to nothing.

/// Where an injected panic strikes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Place {
    /// In the worker, sending one request.
    Delivery,
    /// In the worker, between taking the queued spans and sending them.
    Sweep,
    /// In a session REST call's task.
    RestCall,
}

const PLACES: usize = 3;

/// Panics armed per place, for the next checks there.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    #[cfg(test)]
    armed: [std::sync::atomic::AtomicU32; PLACES],
}

impl Faults {
    /// Panics if a panic is armed at `place` (only in unit tests).
    #[inline(always)]
    pub(crate) fn panic_if_armed(&self, place: Place) {
        #[cfg(test)]
        {
            use std::sync::atomic::Ordering;
            let armed =
                self.armed[place as usize]
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
            if armed.is_ok() {
                panic!("injected fault: {place:?}");
            }
        }
        #[cfg(not(test))]
        let _ = place;
    }

    /// Arms `n` panics at `place`: its next `n` checks panic.
    #[cfg(test)]
    pub(crate) fn arm(&self, place: Place, n: u32) {
        quiet_injected_panics();
        self.armed[place as usize].fetch_add(n, std::sync::atomic::Ordering::AcqRel);
    }
}

const _: () = assert!(Place::RestCall as usize + 1 == PLACES);

/// Keeps the injected panics out of the test output (they happen on runtime threads, whose
/// output the test harness does not capture); any other panic is reported as before.
#[cfg(test)]
fn quiet_injected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let injected = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.starts_with("injected fault"));
            if !injected {
                report(info);
            }
        }));
    });
}
