//! `lab::serve::run` driven in-process: a listener, a shutdown future and
//! an event sink, as the library gives them to any caller. The events come
//! in order and named as Node names them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tcplab::lab::serve::{self, Limits, ServeConfig, ServeMode, ServerEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

type Events = Arc<Mutex<Vec<ServerEvent>>>;

async fn start(mode: ServeMode) -> (std::net::SocketAddr, Events, oneshot::Sender<()>) {
    start_with(mode, Limits::default()).await
}

async fn start_with(
    mode: ServeMode,
    limits: Limits,
) -> (std::net::SocketAddr, Events, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let events: Events = Arc::default();
    let sink = {
        let events = events.clone();
        Arc::new(move |e| events.lock().unwrap().push(e))
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let config = ServeConfig {
        mode,
        store: None,
        limits,
        keep_bytes: 16,
        safe: false,
    };
    tokio::spawn(async move {
        serve::run(
            listener,
            config,
            async {
                let _ = stopped.await;
            },
            sink,
        )
        .await
        .unwrap();
    });
    (addr, events, stop)
}

async fn wait_for(events: &Events, pred: impl Fn(&ServerEvent) -> bool) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while !events.lock().unwrap().iter().any(&pred) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("event within 5 s");
}

#[tokio::test]
async fn an_echo_connection_is_connection_data_end_close() {
    let (addr, events, stop) = start(ServeMode::Echo).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(&[0x0c, 0x22]).await.unwrap();
    c.shutdown().await.unwrap();
    let mut back = Vec::new();
    c.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, [0x0c, 0x22]);
    wait_for(&events, |e| matches!(e, ServerEvent::Close { .. })).await;
    stop.send(()).unwrap();
    wait_for(&events, |e| *e == ServerEvent::Stopped).await;

    let events = events.lock().unwrap().clone();
    let client = c.local_addr().unwrap();
    assert_eq!(
        events,
        [
            ServerEvent::Listening { addr, mode: "echo" },
            ServerEvent::Connection {
                id: 1,
                peer: client,
                family: "IPv4",
                active: 1
            },
            ServerEvent::Data {
                id: 1,
                len: 2,
                bytes: Some(vec![0x0c, 0x22])
            },
            // The echo, as it is about to be written.
            ServerEvent::Write { id: 1, len: 2 },
            ServerEvent::End { id: 1 },
            ServerEvent::Close {
                id: 1,
                bytes_read: 2,
                bytes_written: 2,
                active: 0
            },
            ServerEvent::ShuttingDown { active: 0 },
            ServerEvent::Stopped,
        ]
    );
}

#[tokio::test]
async fn shutdown_closes_open_connections_and_stops_accepting() {
    let (addr, events, stop) = start(ServeMode::Greet).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    let mut hello = [0u8; 23];
    c.read_exact(&mut hello).await.unwrap();
    assert_eq!(&hello, serve::GREETING.as_bytes());
    stop.send(()).unwrap();
    // The server's FIN.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut rest))
        .await
        .expect("closed within 5 s")
        .unwrap();
    assert!(rest.is_empty());
    wait_for(&events, |e| *e == ServerEvent::Stopped).await;
    let events = events.lock().unwrap().clone();
    assert!(events.contains(&ServerEvent::ShuttingDown { active: 1 }));
    assert!(events.contains(&ServerEvent::Close {
        id: 1,
        bytes_read: 0,
        bytes_written: 23,
        active: 0
    }));
    assert!(TcpStream::connect(addr).await.is_err());
}

/// `--idle-timeout 10000000000000000000`: a deadline past what the clock can
/// hold is no deadline, not a panic in every connection task.
#[tokio::test]
async fn an_idle_timeout_past_the_clock_never_fires() {
    let limits = Limits {
        idle_timeout: Some(Duration::from_secs(10_000_000_000_000_000_000)),
        ..Limits::default()
    };
    let (addr, events, stop) = start_with(ServeMode::Echo, limits).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"hi").await.unwrap();
    let mut back = [0u8; 2];
    c.read_exact(&mut back).await.unwrap();
    assert_eq!(&back, b"hi");
    c.shutdown().await.unwrap();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).await.unwrap();
    wait_for(&events, |e| matches!(e, ServerEvent::Close { .. })).await;
    stop.send(()).unwrap();
    wait_for(&events, |e| *e == ServerEvent::Stopped).await;
    let events = events.lock().unwrap().clone();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ServerEvent::Error { .. } | ServerEvent::Timeout { .. })),
        "{events:?}"
    );
}

/// A client that trickles a byte at a time into a line that never ends is
/// idle: its slot is freed after the idle time, however often it sends.
/// One that sends whole lines as slowly keeps it. (Every byte once reset
/// the idle clock: 256 such clients held every slot of a lesson server.)
#[tokio::test]
async fn a_line_that_never_ends_times_out_a_trickling_client() {
    let limits = Limits {
        idle_timeout: Some(Duration::from_millis(400)),
        ..Limits::default()
    };
    let (addr, _events, stop) = start_with(ServeMode::Json, limits).await;
    let mut trickle = TcpStream::connect(addr).await.unwrap();
    let mut steady = TcpStream::connect(addr).await.unwrap();
    let started = tokio::time::Instant::now();
    let mut trickle_closed = None;
    let mut buf = [0u8; 256];
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if trickle_closed.is_none() {
            if trickle.write_all(b"{").await.is_err() {
                trickle_closed = Some(started.elapsed());
            }
            if let Ok(Ok(0)) =
                tokio::time::timeout(Duration::from_millis(1), trickle.read(&mut buf)).await
            {
                trickle_closed = Some(started.elapsed());
            }
        }
        steady.write_all(b"{\"a\":1}\n").await.unwrap();
        let n = steady.read(&mut buf).await.unwrap();
        assert!(n > 0, "the steady client keeps its connection");
    }
    let closed = trickle_closed.expect("the trickling client lost its slot");
    assert!(
        closed >= Duration::from_millis(400),
        "not before the idle time: {closed:?}"
    );
    assert!(closed < Duration::from_millis(1900), "{closed:?}");
    let _ = stop.send(());
}
