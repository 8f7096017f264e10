//! What a helper's event pump allocates for events it does not write: an event
//! its `receive` filter refuses is not copied, and a JSON event that cannot fit
//! in its (full) queue is not encoded. Real helper processes that never read
//! their stdin; the bytes allocated by this whole process are counted.
//! (Its own test binary: the allocator counts this process.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::api::{big_event, deaf_helper};

use exabgp::api::helpers::{spawn_all, HelperOptions};
use exabgp::bgp::Prefix;
use exabgp::config::{ProcessConfig, ReceiveKind};
use exabgp::control::Event;
use tokio_util::sync::CancellationToken;

mod support;

struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Bytes this process allocated while `events` UPDATEs were offered to one
/// deaf helper, and the events the channel dropped.
async fn allocated_for(helper: ProcessConfig, opts: HelperOptions, events: usize) -> (usize, u64) {
    let (ctx, _seen) = support::api::responder();
    let (etx, _) = exabgp::control::event_channel(4096, 1 << 30);
    let token = CancellationToken::new();
    let set = spawn_all(&[helper], ctx, &etx, opts, token.clone());
    let stats = set.helpers[0].1.clone();
    for _ in 0..100 {
        if stats.starts.load(Ordering::Relaxed) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ready: Vec<Event> = (0..events).map(|_| big_event(5000)).collect();
    let before = ALLOCATED.load(Ordering::Relaxed);
    for ev in ready {
        let _ = etx.send(ev);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    for _ in 0..200 {
        if etx.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let grown = ALLOCATED.load(Ordering::Relaxed) - before;
    let lost = etx.dropped();
    token.cancel();
    set.wait().await;
    (grown, lost)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_events_are_neither_copied_nor_encoded() {
    const EVENTS: usize = 100;
    // One event's prefixes alone: 5000 x size_of::<Prefix>().
    let one = 5000 * std::mem::size_of::<Prefix>();

    // A helper that wants only state events: the UPDATEs are not for it.
    let (grown, lost) = allocated_for(
        deaf_helper(ReceiveKind::State),
        HelperOptions::default(),
        EVENTS,
    )
    .await;
    eprintln!(
        "filtered out: {grown} bytes allocated for {EVENTS} events of {one} bytes of prefixes"
    );
    assert_eq!(lost, 0);
    assert!(grown < EVENTS * one / 4, "{grown} bytes allocated");

    // A helper whose queue has room for none of them (JSON of 5000 prefixes:
    // over 100 KB each).
    let opts = HelperOptions {
        queue_bytes: 16 << 10,
        ..Default::default()
    };
    let (grown, lost) = allocated_for(deaf_helper(ReceiveKind::Update), opts, EVENTS).await;
    eprintln!("no room: {grown} bytes allocated for {EVENTS} events");
    assert_eq!(lost, 0);
    assert!(grown < EVENTS * one / 4, "{grown} bytes allocated");
}
