//! The event channel from the sessions to the API: a broadcast channel bounded by
//! the bytes its events hold, not only by their count.
//!
//! ```text
//!   session --send(Event)--> [ charge ~bytes | over budget: drop + count ] --> broadcast
//!                                                              each helper's pump <--'
//! ```
//!
//! A decoded 64 KiB UPDATE can hold a megabyte (tens of thousands of prefixes), so
//! thousands of slots of "any size" are gigabytes. Each event is charged its
//! approximate size when it is sent; the charge is given back when the channel
//! lets go of it (every receiver has read it, or it was overwritten for a lagging
//! one). An event that does not fit is not sent, counted, and logged at most
//! once per 10 s (`dropped N event(s) ...`). Sending never waits.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::{Event, EventKind};

/// Default byte budget of the event channel (all events not yet read by every
/// receiver).
pub const EVENT_CHANNEL_BYTES: usize = 32 << 20;

/// Default number of slots of the event channel.
pub const EVENT_CHANNEL_SLOTS: usize = 4096;

/// How often at most a "dropped N events" line is logged.
const DROP_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The approximate memory an event holds (its struct and what it points to).
/// Vectors are charged by their capacity, not their length: the decoder reserves
/// for the typical prefix size, so an UPDATE of IPv6 /128s holds more than twice
/// the room its prefixes use.
pub fn event_bytes(ev: &Event) -> usize {
    use std::mem::size_of;
    let heap = match &ev.kind {
        EventKind::Update(u) => {
            let a = &u.attributes;
            let prefixes = u.nlri.capacity()
                + u.withdrawn.capacity()
                + a.mp_reach
                    .as_ref()
                    .map_or(0, |m| m.nlri.capacity() + m.next_hops.capacity())
                + a.mp_unreach.as_ref().map_or(0, |m| m.withdrawn.capacity());
            size_of::<crate::bgp::Update>()
                + prefixes * size_of::<crate::bgp::Prefix>()
                + a.communities.capacity() * 4
                + a.large_communities.capacity() * 12
                + a.ext_communities.capacity() * 8
                + a.cluster_list.capacity() * 4
                + a.as_path.as_ref().map_or(0, |p| {
                    use crate::bgp::AsSegment::*;
                    p.segments.capacity() * 32
                        + p.segments
                            .iter()
                            .map(|s| match s {
                                Sequence(a) | Set(a) | ConfedSequence(a) | ConfedSet(a) => {
                                    a.capacity() * 4
                                }
                            })
                            .sum::<usize>()
                })
                + a.unknown.capacity() * 32
                + a.unknown.iter().map(|x| x.value.capacity()).sum::<usize>()
        }
        EventKind::Open(o) => size_of::<crate::bgp::Open>() + o.capabilities.capacity() * 64,
        EventKind::Notification(n) => n.data.capacity(),
        EventKind::State { reason, .. } => reason.as_ref().map_or(0, String::capacity),
        _ => 0,
    };
    size_of::<Event>() + heap
}

/// Bytes held against a limit: one helper's queue, all helpers' queues, or
/// the event channel (below).
#[derive(Debug)]
pub struct ByteBudget {
    used: AtomicUsize,
    limit: usize,
}

impl ByteBudget {
    pub fn new(limit: usize) -> ByteBudget {
        ByteBudget {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    /// The most that may be held.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes that may still be taken.
    pub fn room(&self) -> usize {
        self.limit.saturating_sub(self.used())
    }

    /// Takes `n` bytes if they fit.
    pub fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                u.checked_add(n).filter(|t| *t <= self.limit)
            })
            .is_ok()
    }

    /// Gives back `n` bytes (never below zero).
    pub fn give(&self, n: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            });
    }
}

/// What the channel holds, against its budget.
#[derive(Debug)]
struct Budget {
    bytes: ByteBudget,
    dropped: AtomicU64,
    /// Drops not logged yet, and when the last line was logged.
    log: Mutex<(u64, Option<Instant>)>,
}

impl Budget {
    fn note_drop(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        super::stats::board()
            .events_dropped
            .fetch_add(1, Ordering::Relaxed);
        let Ok(mut log) = self.log.lock() else {
            return;
        };
        log.0 += 1;
        if log.1.map_or(true, |t| t.elapsed() >= DROP_LOG_INTERVAL) {
            tracing::warn!(
                "dropped {} event(s) for every helper: the event channel holds {} bytes (budget {}); helpers are not keeping up",
                log.0,
                self.bytes.used(),
                self.bytes.limit()
            );
            *log = (0, Some(Instant::now()));
        }
    }
}

/// One event in the channel, charged to its budget until the channel and every
/// receiver let go of it.
#[derive(Debug)]
struct Held {
    ev: Event,
    bytes: usize,
    budget: Arc<Budget>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.bytes.give(self.bytes);
    }
}

/// The sending side (cloned into every session).
#[derive(Debug, Clone)]
pub struct EventSender {
    tx: broadcast::Sender<Arc<Held>>,
    budget: Arc<Budget>,
}

/// One receiver (a helper's pump).
#[derive(Debug)]
pub struct EventReceiver {
    rx: broadcast::Receiver<Arc<Held>>,
}

/// A channel of `slots` events holding at most `bytes` (see [`event_bytes`]).
pub fn event_channel(slots: usize, bytes: usize) -> (EventSender, EventReceiver) {
    let (tx, rx) = broadcast::channel(slots.max(1));
    let budget = Arc::new(Budget {
        bytes: ByteBudget::new(bytes),
        dropped: AtomicU64::new(0),
        log: Mutex::new((0, None)),
    });
    (EventSender { tx, budget }, EventReceiver { rx })
}

impl EventSender {
    /// Publishes `ev` to every receiver, like `broadcast::Sender::send`: `Err` when
    /// nobody listens or when the channel's byte budget is full (the event is
    /// then dropped, counted and logged). Never waits.
    pub fn send(&self, ev: Event) -> Result<usize, broadcast::error::SendError<Event>> {
        if self.tx.receiver_count() == 0 {
            return Err(broadcast::error::SendError(ev));
        }
        let bytes = event_bytes(&ev);
        if !self.budget.bytes.take(bytes) {
            self.budget.note_drop();
            return Err(broadcast::error::SendError(ev));
        }
        let held = Arc::new(Held {
            ev,
            bytes,
            budget: self.budget.clone(),
        });
        self.tx.send(held).map_err(|e| {
            // Nobody listened after all: the value comes back, and so do its bytes.
            let held = e.0;
            broadcast::error::SendError(match Arc::try_unwrap(held) {
                Ok(h) => h.ev.clone(),
                Err(h) => h.ev.clone(),
            })
        })
    }

    pub fn subscribe(&self) -> EventReceiver {
        EventReceiver {
            rx: self.tx.subscribe(),
        }
    }

    pub fn receiver_count(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Events not yet read by the slowest receiver.
    pub fn len(&self) -> usize {
        self.tx.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tx.is_empty()
    }

    /// Bytes the channel's events hold now.
    pub fn held_bytes(&self) -> usize {
        self.budget.bytes.used()
    }

    /// Events dropped because the byte budget was full.
    pub fn dropped(&self) -> u64 {
        self.budget.dropped.load(Ordering::Relaxed)
    }
}

/// An event as the channel holds it, shared with every receiver (not copied):
/// a receiver that filters events looks at it before deciding to copy anything.
/// Its bytes stay charged to the channel while it is held.
#[derive(Debug, Clone)]
pub struct SharedEvent(Arc<Held>);

impl std::ops::Deref for SharedEvent {
    type Target = Event;
    fn deref(&self) -> &Event {
        &self.0.ev
    }
}

impl EventReceiver {
    /// The next event, shared: nothing is copied (see [`SharedEvent`]).
    pub async fn recv_shared(&mut self) -> Result<SharedEvent, broadcast::error::RecvError> {
        self.rx.recv().await.map(SharedEvent)
    }

    /// The next event, like `broadcast::Receiver::recv` (a copy of it).
    pub async fn recv(&mut self) -> Result<Event, broadcast::error::RecvError> {
        self.rx.recv().await.map(|h| h.ev.clone())
    }

    /// Like `broadcast::Receiver::try_recv`.
    pub fn try_recv(&mut self) -> Result<Event, broadcast::error::TryRecvError> {
        self.rx.try_recv().map(|h| h.ev.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::{Prefix, Update};
    use crate::control::{Direction, PeerInfo};
    use std::net::IpAddr;
    use std::time::SystemTime;

    fn ev(n: u32) -> Event {
        Event {
            time: SystemTime::now(),
            peer: PeerInfo {
                local_address: None,
                peer_address: IpAddr::from([192, 0, 2, 1]),
                local_as: 1,
                peer_as: 2,
                peer_router_id: None,
                router_id: std::net::Ipv4Addr::new(192, 0, 2, 1),
            },
            direction: Direction::Receive,
            kind: EventKind::Update(Box::new(Update {
                nlri: (0..n)
                    .filter_map(|i| Prefix::new(IpAddr::from([10, (i >> 8) as u8, i as u8, 0]), 24))
                    .collect(),
                ..Default::default()
            })),
        }
    }

    /// The budget holds: what does not fit is dropped and counted; reading gives
    /// the bytes back.
    #[tokio::test]
    async fn bounded_by_bytes_and_given_back_when_read() {
        let one = event_bytes(&ev(1000));
        let (tx, mut rx) = event_channel(4096, one * 10);
        for _ in 0..100 {
            let _ = tx.send(ev(1000));
        }
        assert_eq!(tx.len(), 10);
        assert_eq!(tx.dropped(), 90);
        assert!(tx.held_bytes() <= one * 10);
        for _ in 0..10 {
            assert!(rx.recv().await.is_ok());
        }
        assert_eq!(tx.held_bytes(), 0);
        assert!(tx.send(ev(1000)).is_ok());
    }

    /// An UPDATE of IPv6 /128s as the decoder builds it is charged at least the
    /// memory its prefix vector holds (the decoder reserves for shorter
    /// prefixes: the capacity is more than twice the length).
    #[test]
    fn charged_by_capacity_not_length() {
        use crate::bgp::{
            decode_message, encode_message, CodecOptions, Family, Message, MpReach, PathAttributes,
        };
        let opts = CodecOptions {
            four_octet_as: true,
            extended_message: true,
        };
        let update = Update {
            attributes: PathAttributes {
                origin: Some(crate::bgp::Origin::Igp),
                as_path: Some(Default::default()),
                mp_reach: Some(MpReach {
                    family: Family::IPV6_UNICAST,
                    next_hops: vec![IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])],
                    nlri: (0..3000u16)
                        .filter_map(|i| {
                            Prefix::new(IpAddr::from([0x2001, 0xdb8, 1, 0, 0, 0, 0, i]), 128)
                        })
                        .collect(),
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let mut wire = Vec::new();
        encode_message(&Message::Update(update), &opts, &mut wire).unwrap();
        let Ok(Some((Message::Update(u), _))) = decode_message(&wire, &opts) else {
            panic!("the UPDATE decodes");
        };
        let held = u
            .attributes
            .mp_reach
            .as_ref()
            .map_or(0, |m| m.nlri.capacity() * std::mem::size_of::<Prefix>());
        assert!(held > 0);
        let mut e = ev(0);
        e.kind = EventKind::Update(Box::new(u));
        assert!(
            event_bytes(&e) >= held,
            "charged {} bytes, the prefixes hold {held}",
            event_bytes(&e)
        );
    }
}
