use super::*;
use crate::export::test_support::span;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Barrier};

const BIG: usize = 1 << 30;

/// Spans and bytes held at one instant (every stripe locked at once, in index order as
/// `close` does).
fn held(q: &StripedQueue) -> (usize, usize) {
    let stripes: Vec<_> = q.stripes.iter().map(|s| s.lock()).collect();
    (
        stripes.iter().map(|s| s.spans.len()).sum(),
        stripes.iter().map(|s| s.bytes).sum(),
    )
}

fn push(q: &StripedQueue, i: u64, size: usize) -> Push {
    q.push(size, || span(i, size as u32))
}

#[test]
fn holds_at_most_max_spans() {
    let q = StripedQueue::new(10, BIG, 512);
    let results: Vec<Push> = (0..15).map(|i| push(&q, i, 300)).collect();
    assert!(results[..10]
        .iter()
        .all(|r| matches!(r, Push::Queued { .. })));
    assert!(results[10..].iter().all(|r| *r == Push::Full));
    assert_eq!(q.len(), 10);
    let taken = q.take_all();
    let ids: Vec<String> = taken.iter().map(|s| s.name.to_string()).collect();
    assert_eq!(
        ids,
        (0..10).map(|i| format!("span-{i}")).collect::<Vec<_>>()
    );
    assert_eq!(q.len(), 0);
    // The room is free again.
    assert!(matches!(push(&q, 99, 300), Push::Queued { .. }));
}

#[test]
fn holds_at_most_max_bytes() {
    let q = StripedQueue::new(1000, 1000, 512);
    let results: Vec<Push> = (0..5).map(|i| push(&q, i, 300)).collect();
    assert_eq!(
        results,
        [
            Push::Queued { full_batch: false },
            Push::Queued { full_batch: false },
            Push::Queued { full_batch: false },
            Push::Full,
            Push::Full,
        ]
    );
    assert_eq!(held(&q), (3, 900));
    // A smaller span still fits in what is left.
    assert!(matches!(push(&q, 5, 100), Push::Queued { .. }));
    assert_eq!(push(&q, 6, 1), Push::Full);
    // A span larger than the whole bound never fits.
    assert_eq!(q.take_all().len(), 4);
    assert_eq!(push(&q, 7, 1001), Push::Full);
    assert!(matches!(push(&q, 8, 1000), Push::Queued { .. }));
}

#[test]
fn reports_each_multiple_of_the_batch_size() {
    let q = StripedQueue::new(100, BIG, 4);
    let full: Vec<u64> = (0..10)
        .filter(|&i| push(&q, i, 10) == Push::Queued { full_batch: true })
        .collect();
    assert_eq!(full, [3, 7]);
}

#[test]
fn close_refuses_later_spans_and_keeps_earlier_ones() {
    let q = StripedQueue::new(100, BIG, 512);
    push(&q, 0, 10);
    push(&q, 1, 10);
    q.close();
    assert!(q.is_closed());
    assert_eq!(push(&q, 2, 10), Push::Closed);
    assert_eq!(q.take_all().len(), 2);
}

#[test]
fn room_reserved_by_another_stripe_is_taken_back() {
    // A chunk is 4 spans here: the first thread's stripe reserves 4 for its one span.
    let q = Arc::new(StripedQueue::new(256, BIG, 512));
    let other = q.clone();
    std::thread::spawn(move || assert!(matches!(push(&other, 0, 10), Push::Queued { .. })))
        .join()
        .unwrap();
    let mut accepted = 0;
    while matches!(push(&q, 1 + accepted, 10), Push::Queued { .. }) {
        accepted += 1;
    }
    // Exact: the unused 3 of the other stripe were reclaimed.
    assert_eq!(accepted, 255);
    assert_eq!(held(&q), (256, 2560));
}

#[test]
fn forget_all_empties_and_frees_the_room() {
    let q = StripedQueue::new(4, BIG, 512);
    for i in 0..4 {
        push(&q, i, 10);
    }
    assert_eq!(push(&q, 4, 10), Push::Full);
    q.forget_all();
    assert_eq!(held(&q), (0, 0));
    assert!(matches!(push(&q, 5, 10), Push::Queued { .. }));
}

#[test]
fn recycled_buffers_are_reused_and_bounded() {
    let q = StripedQueue::new(1000, BIG, 512);
    for _ in 0..SPARE_BUFFERS + 3 {
        q.recycle(Vec::with_capacity(128));
    }
    assert_eq!(q.spare.lock().len(), SPARE_BUFFERS);
    q.recycle(Vec::with_capacity(8));
    assert_eq!(q.spare.lock().len(), SPARE_BUFFERS);
    push(&q, 0, 10);
    let taken = q.take_all();
    assert_eq!(taken.len(), 1);
    // The stripe got a spare buffer in exchange: the pool is one buffer short, and the stripe
    // now holds one of the recycled buffers (room for 128 spans) ready for the next push.
    assert_eq!(q.spare.lock().len(), SPARE_BUFFERS - 1);
    push(&q, 0, 10);
    assert!(q.take_all().capacity() >= 128);
}

/// Many threads push spans of varied sizes while one takes them and another watches: the
/// queue never holds more than its bounds, and every push is accounted for (taken, or
/// refused as full), with nothing left behind after close.
#[test]
fn bounds_hold_and_every_span_is_accounted_for_under_threads() {
    const THREADS: u64 = 6;
    const PER_THREAD: u64 = 20_000;
    const MAX_SPANS: usize = 300;
    const MAX_BYTES: usize = 20_000;
    let q = Arc::new(StripedQueue::new(MAX_SPANS, MAX_BYTES, 32));
    let queued = Arc::new(AtomicU64::new(0));
    let full = Arc::new(AtomicU64::new(0));
    let producing = Arc::new(AtomicUsize::new(THREADS as usize));
    let start = Arc::new(Barrier::new(THREADS as usize + 2));

    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (q, queued, full, producing, start) = (
                q.clone(),
                queued.clone(),
                full.clone(),
                producing.clone(),
                start.clone(),
            );
            std::thread::spawn(move || {
                start.wait();
                for i in 0..PER_THREAD {
                    // Sizes from 1 to 400 bytes, different on each thread.
                    let size = 1 + ((i * 7919 + t * 104_729) % 400) as usize;
                    match push(&q, t * PER_THREAD + i, size) {
                        Push::Queued { .. } => queued.fetch_add(1, Ordering::Relaxed),
                        Push::Full => full.fetch_add(1, Ordering::Relaxed),
                        Push::Closed => panic!("closed while producing"),
                    };
                }
                producing.fetch_sub(1, Ordering::AcqRel);
            })
        })
        .collect();

    let taker = {
        let (q, producing, full, start) =
            (q.clone(), producing.clone(), full.clone(), start.clone());
        std::thread::spawn(move || {
            start.wait();
            let mut taken = Vec::new();
            let mut refused_before = 0;
            loop {
                // Takes only once the queue refused a span since the last take, so that the
                // bounds are really reached (while producers keep pushing).
                let done = producing.load(Ordering::Acquire) == 0;
                let refused = full.load(Ordering::Relaxed);
                if refused == refused_before && !done {
                    std::thread::yield_now();
                    continue;
                }
                refused_before = refused;
                let batch = q.take_all();
                taken.extend(
                    batch
                        .iter()
                        .map(|s| (s.span_context.span_id(), s.dropped_attributes_count)),
                );
                q.recycle(batch);
                if done {
                    return taken;
                }
            }
        })
    };

    start.wait();
    let mut checks = 0u64;
    while producing.load(Ordering::Acquire) > 0 {
        let (spans, bytes) = held(&q);
        assert!(spans <= MAX_SPANS, "{spans} spans held");
        assert!(bytes <= MAX_BYTES, "{bytes} bytes held");
        let reserved = (
            q.reserved_spans.load(Ordering::Acquire),
            q.reserved_bytes.load(Ordering::Acquire),
        );
        assert!(reserved.0 <= MAX_SPANS && reserved.1 <= MAX_BYTES);
        checks += 1;
        std::thread::yield_now();
    }
    for p in producers {
        p.join().unwrap();
    }
    let mut taken = taker.join().unwrap();
    q.close();
    taken.extend(
        q.take_all()
            .iter()
            .map(|s| (s.span_context.span_id(), s.dropped_attributes_count)),
    );
    assert_eq!(held(&q), (0, 0));

    let (queued, full) = (queued.load(Ordering::Relaxed), full.load(Ordering::Relaxed));
    assert_eq!(queued + full, THREADS * PER_THREAD);
    assert_eq!(taken.len() as u64, queued, "every held span is taken once");
    let mut ids: Vec<[u8; 8]> = taken.iter().map(|(id, _)| id.to_bytes()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len() as u64, queued, "no span taken twice");
    // The bounds were really reached (the taker waits for a refusal), and spans got through.
    assert!(full > 0 && queued > 0 && checks > 0);
    // Everything given back: the reservations return to zero once the queue is empty.
    q.reclaim(usize::MAX);
    assert_eq!(q.reserved_spans.load(Ordering::Acquire), 0);
    assert_eq!(q.reserved_bytes.load(Ordering::Acquire), 0);
}
