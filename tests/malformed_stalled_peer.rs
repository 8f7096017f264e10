//! A peer that completes the handshake and then stops reading: while exabgp is
//! blocked writing a large table to it, its Hold timer cannot run, so the write
//! itself is bounded by the hold time. The session must go down on its own
//! ("peer stopped reading"), and the daemon keeps serving commands meanwhile.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use common::raw::*;
use common::*;
use exabgp::bgp::{Origin, PathAttributes, Prefix};
use exabgp::control::{Command, ControlReply, ControlRequest, Event, PeerState, ShowDetail};
use exabgp::daemon::{self, DaemonIo};
use exabgp::rib::{NextHop, Route};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

fn ask(tx: &mpsc::Sender<ControlRequest>, command: Command) -> ControlReply {
    let (reply, rx) = oneshot::channel();
    tx.blocking_send(ControlRequest { command, reply })
        .expect("daemon running");
    rx.blocking_recv().expect("answer")
}

#[test]
fn a_peer_that_stops_reading_is_dropped() {
    let exa_ip: IpAddr = loopback_addr(111).into();
    let raw_ip: IpAddr = loopback_addr(113).into();
    let listener = std::net::TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = format!(
        "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\n[[neighbor]]\naddress = \"{raw_ip}\"\npeer-as = {RAW_AS}\npassive = true\nhold-time = 3\n"
    );
    let config = exabgp::config::parse_str(&text, "stall.toml").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (tx, control_rx) = mpsc::channel(16);
    let (events, _) = broadcast::channel::<Event>(16);
    let shutdown = CancellationToken::new();
    let io = DaemonIo {
        listeners: vec![listener],
        control: control_rx,
        events,
        shutdown: shutdown.clone(),
    };
    let daemon = rt.spawn(daemon::run(config, io));

    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake_with(&open_body_with(4, RAW_AS, 3, [192, 0, 2, 77]));
    p.until_end_of_rib();

    // 300k routes with distinct MEDs: one UPDATE each, far more than the socket
    // buffers hold. We never read again.
    let routes: Vec<Route> = (0..300_000u32)
        .map(|i| Route {
            prefix: Prefix::new(IpAddr::V4((0x0a00_0000 + (i << 8)).into()), 24).unwrap(),
            next_hop: NextHop::Address("192.0.2.20".parse().unwrap()),
            attributes: Arc::new(PathAttributes {
                origin: Some(Origin::Igp),
                med: Some(i),
                ..Default::default()
            }),
        })
        .collect();
    assert_eq!(
        ask(
            &tx,
            Command::Announce {
                scope: None,
                routes
            }
        ),
        ControlReply::Done
    );

    let status = wait_for(Duration::from_secs(60), || {
        match ask(
            &tx,
            Command::ShowNeighbor {
                detail: ShowDetail::Summary,
                address: Some(raw_ip),
            },
        ) {
            ControlReply::Neighbors(v) => v
                .into_iter()
                .find(|s| s.state != PeerState::Established && s.last_error.is_some()),
            _ => None,
        }
    });
    let status = status.expect("session with a peer that stopped reading never went down");
    let err = status.last_error.unwrap_or_default();
    assert!(err.contains("stopped reading"), "last error: {err}");
    drop(p);

    assert_eq!(ask(&tx, Command::Shutdown), ControlReply::Done);
    let r = rt.block_on(async { tokio::time::timeout(Duration::from_secs(15), daemon).await });
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}
