//! The traced exchange without capture: a real tokio server and client on
//! loopback, checked through what each application saw. Needs no privileges.

use std::time::Instant;

use tcplab::lab::{run_exchange, CloseMode, Exchange, ExchangePlan, ServeMode};
use tcplab::values::EventKind;
use tokio::net::TcpListener;

fn plan(writes: &[&[u8]], server: ServeMode, close: CloseMode) -> ExchangePlan {
    ExchangePlan::new(writes, server, close)
}

async fn run(plan: ExchangePlan) -> Exchange {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    run_exchange(listener, &plan, Instant::now()).await.unwrap()
}

fn kinds(events: &[tcplab::values::SocketEvent]) -> Vec<EventKind> {
    events.iter().map(|e| e.event).collect()
}

#[tokio::test]
async fn echo_end_counts_bytes_and_events_as_node_names_them() {
    let x = run(plan(&[b"hello"], ServeMode::Echo, CloseMode::End)).await;
    assert_eq!((x.client.bytes_written, x.client.bytes_read), (5, 5));
    assert_eq!((x.server.bytes_written, x.server.bytes_read), (5, 5));
    let client = kinds(&x.client.events);
    assert_eq!(client.first(), Some(&EventKind::Connect));
    assert_eq!(
        &client[client.len() - 2..],
        [EventKind::End, EventKind::Close]
    );
    assert_eq!(x.server.events[0].event, EventKind::Connection);
    assert_eq!(x.client.reads().iter().sum::<usize>(), 5);
    assert!(x.client.events.windows(2).all(|w| w[0].t_ms <= w[1].t_ms));
    assert_eq!(x.client_addr.ip(), x.server_addr.ip());
}

#[tokio::test]
async fn upper_replies_echo_prefix_per_read() {
    let x = run(plan(&[b"Hello, TCP!\n"], ServeMode::Upper, CloseMode::End)).await;
    assert_eq!(x.client.bytes_read, "Echo: HELLO, TCP!\n".len() as u64);
}

#[tokio::test]
async fn destroy_gives_the_server_econnreset() {
    let x = run(plan(&[b"bye"], ServeMode::Echo, CloseMode::Reset)).await;
    let client = kinds(&x.client.events);
    assert!(!client.contains(&EventKind::End), "{client:?}");
    assert_eq!(client.last(), Some(&EventKind::Close));
    let err = x
        .server
        .events
        .iter()
        .find(|e| e.event == EventKind::Error)
        .expect("server error event");
    assert!(err.message.as_deref().unwrap().starts_with("ECONNRESET"));
}

#[tokio::test]
async fn half_close_server_replies_after_the_clients_end() {
    let x = run(plan(&[b"one", b"two"], ServeMode::Upper, CloseMode::Half)).await;
    let server = kinds(&x.server.events);
    let end = server.iter().position(|k| *k == EventKind::End).unwrap();
    assert!(server[..end].contains(&EventKind::Data));
    // Everything the client wrote was read before its FIN; the replies came after.
    assert_eq!(x.server.bytes_read, 6);
    assert!(x.client.bytes_read >= "Echo: ONETWO".len() as u64);
    assert_eq!(x.client.bytes_read, x.server.bytes_written);
}

#[tokio::test]
async fn discard_reads_and_never_writes() {
    let x = run(plan(&[b"a", b"bc"], ServeMode::Discard, CloseMode::End)).await;
    assert_eq!(x.server.bytes_read, 3);
    assert_eq!(x.server.bytes_written, 0);
    assert_eq!(x.client.bytes_read, 0);
}

#[tokio::test]
async fn no_writes_is_connect_and_close() {
    let x = run(plan(&[], ServeMode::Echo, CloseMode::End)).await;
    assert_eq!(
        kinds(&x.client.events),
        [EventKind::Connect, EventKind::End, EventKind::Close]
    );
}

#[tokio::test]
async fn a_large_write_arrives_whole() {
    let big = vec![0x5au8; 1 << 20];
    let x = run(plan(&[&big], ServeMode::Echo, CloseMode::End)).await;
    assert_eq!(x.server.bytes_read, 1 << 20);
    assert_eq!(x.client.bytes_read, 1 << 20);
}

/// trace's JSON server is serve's: the same reply, byte for byte.
#[tokio::test]
async fn json_answers_as_serve_json_does() {
    let x = run(plan(
        &[b"{\"message\":\"Hello, server!\"}\n"],
        ServeMode::Json,
        CloseMode::End,
    ))
    .await;
    let reply = "{\"type\":\"reply\",\"seq\":1,\"received\":{\"message\":\"Hello, server!\"},\"bytes\":28}\n";
    assert_eq!(x.server.bytes_written, reply.len() as u64);
    assert_eq!(x.client.bytes_read, reply.len() as u64);
}

#[tokio::test]
async fn greet_greets_first_in_a_trace_too() {
    let x = run(plan(&[b"hi"], ServeMode::Greet, CloseMode::End)).await;
    let expected = "Hello from the server!\n".len() + "HI".len() + "QUIT".len();
    assert_eq!(x.client.bytes_read, expected as u64);
}

#[tokio::test]
async fn kv_without_a_store_is_refused_before_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plan = plan(&[b"list\n"], ServeMode::Kv, CloseMode::End);
    let err = run_exchange(listener, &plan, Instant::now())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("kv"), "{err}");
}

/// 20 MB through the echo server: the client reads the echo while it is
/// still writing, as Node's event loop does. Writing everything first
/// deadlocked once both kernel buffers filled (4 MB worked, 10 MB hung).
#[tokio::test]
async fn a_large_echo_does_not_deadlock() {
    let data = vec![0x5a_u8; 20 << 20];
    let x = run(plan(&[&data], ServeMode::Echo, CloseMode::End)).await;
    assert_eq!(x.client.bytes_written, data.len() as u64);
    assert_eq!(x.client.bytes_read, data.len() as u64);
    assert_eq!(x.server.bytes_read, data.len() as u64);
}

/// A run that stalls says where each side was stuck.
#[tokio::test]
async fn a_timed_out_exchange_names_what_was_stuck() {
    let data = vec![1_u8; 10 << 20];
    let mut p = plan(&[&data], ServeMode::Echo, CloseMode::End);
    p.server_read_delay = std::time::Duration::from_secs(3);
    p.timeout = std::time::Duration::from_millis(300);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let e = run_exchange(listener, &p, Instant::now())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("stalled: no byte moved for 300 ms (--timeout-ms)"),
        "{e}"
    );
    assert!(e.contains("of 10485760 bytes"), "{e}");
    assert!(e.contains("the server read 0 and wrote 0"), "{e}");
}

/// The timeout watches progress, not the total: an exchange that keeps
/// moving may take many periods (64 MiB echoed, 100 ms without a byte moved
/// would be a stall; it once failed at the total time).
#[tokio::test]
async fn a_long_exchange_that_keeps_moving_is_not_a_timeout() {
    let data = vec![0x33_u8; 64 << 20];
    let mut p = plan(&[&data], ServeMode::Echo, CloseMode::End);
    p.timeout = std::time::Duration::from_millis(100);
    let x = run(p).await;
    assert_eq!(x.client.bytes_read, data.len() as u64);
}
