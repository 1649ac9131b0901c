//! The labs that are one traced exchange (or two side by side): a plan for
//! the exchange, then what happened and the checks, computed from the
//! capture and the socket events.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::facts::{
    count, data_segments, first, flag_names, from_client, from_server, has, payload,
};
use super::{Outcome, Part};
use crate::decode::Flags;
use crate::flow::{Packet, Phase};

use socket2::{Domain, Socket, Type};
use tokio::net::TcpListener;

use crate::capture::LiveCapture;
use crate::lab::{bind_listener, frame, ClientWay, CloseMode, ExchangePlan, ServeMode};
use crate::render::TraceReport;
use crate::scenario::session::open_loopback;
use crate::scenario::trace::{trace, trace_on};
use crate::values::EventKind;
use crate::{Error, Result};

pub(super) fn plan(writes: &[&[u8]], server: ServeMode, close: CloseMode) -> ExchangePlan {
    ExchangePlan::new(writes, server, close)
}

/// Each write waits until the server has read (and answered) the one before.
const PACED: ClientWay = ClientWay {
    paced: true,
    connect_to: None,
    writes_first: false,
};

/// 127.0.0.1, any port.
pub(super) const LOOPBACK: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// ::ffff:127.0.0.1, the IPv4 loopback as an IPv6 socket sees it: bound
/// to, it takes IPv4 clients only.
const MAPPED_LOOPBACK: SocketAddr =
    SocketAddr::new(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), 0);

/// Runs one traced exchange on loopback.
pub(super) async fn traced(plan: ExchangePlan, bind: SocketAddr) -> Result<TraceReport> {
    let (report, capture) = trace(bind, plan, None).await?;
    drop(capture);
    Ok(report)
}

/// One traced exchange on a listener already bound (a clone of it is
/// served), captured on `cap`, which the caller opened on its port: the
/// client goes about it the way `way` says ([`trace_on`]).
pub(super) async fn traced_on(
    listener: &std::net::TcpListener,
    cap: &mut LiveCapture,
    plan: ExchangePlan,
    way: ClientWay,
) -> Result<TraceReport> {
    let listener = listener
        .try_clone()
        .and_then(TcpListener::from_std)
        .map_err(|e| Error::io("listener", e))?;
    trace_on(listener, cap, plan, way).await
}

/// One traced exchange on loopback, the client going about it the way
/// `way` says.
async fn traced_way(plan: ExchangePlan, way: ClientWay) -> Result<TraceReport> {
    let listener = bind_listener(LOOPBACK, &plan)?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io("listener address", e))?
        .port();
    let mut cap = open_loopback(port, None)?;
    let report = traced_on(&listener, &mut cap, plan, way).await;
    drop(cap);
    report
}

fn handshake_checks(r: &TraceReport, out: &mut Outcome) {
    let names = flag_names(&r.packets);
    out.check(
        "the handshake comes first: SYN, SYN-ACK, ACK",
        names.len() >= 3 && names[..3] == ["SYN", "SYN-ACK", "ACK"],
    );
}

fn teardown_checks(r: &TraceReport, out: &mut Outcome) {
    let p = &r.packets;
    let client_fin = first(p, |x| from_client(x) && has(x, Flags::FIN));
    let server_fin = first(p, |x| from_server(x) && has(x, Flags::FIN));
    out.check(
        "each side sent its FIN",
        client_fin.is_some() && server_fin.is_some(),
    );
    out.check(
        "the last segment is the ACK of the last FIN",
        p.last()
            .and_then(|x| x.flags())
            .map(|f| f.spoken())
            .as_deref()
            == Some("ACK"),
    );
}

pub(super) async fn handshake() -> Result<Outcome> {
    let r = traced(plan(&[], ServeMode::Echo, CloseMode::End), LOOPBACK).await?;
    let mut out = Outcome::default();
    handshake_checks(&r, &mut out);
    teardown_checks(&r, &mut out);
    out.check(
        "no payload at all",
        data_segments(&r.packets, true) + data_segments(&r.packets, false) == 0,
    );
    let p = &r.packets;
    let rtt = p
        .get(2)
        .map(|x| x.ts.secs_since(p[0].ts) * 1e3)
        .unwrap_or(0.0);
    out.happened.push(format!(
        "connected in {} segments ({rtt:.3} ms from SYN to the final ACK of the handshake)",
        3.min(p.len())
    ));
    out.happened.push(format!(
        "closed in {} segments: each FIN is acknowledged; {} frames in all, none with payload",
        p.len().saturating_sub(3),
        p.len()
    ));
    out.parts.push(Part::trace("connect, then end()", r));
    Ok(out)
}

/// A lab that writes `bytes` once to an echo server (hello, buffer).
pub(super) async fn one_write(bytes: &[u8]) -> Result<Outcome> {
    let r = traced(plan(&[bytes], ServeMode::Echo, CloseMode::End), LOOPBACK).await?;
    let mut out = Outcome::default();
    handshake_checks(&r, &mut out);
    let data = r
        .packets
        .iter()
        .find(|x| from_client(x) && x.payload_len > 0);
    out.check(
        &format!("the client's {} bytes travel in one PSH-ACK", bytes.len()),
        data.is_some_and(|d| d.payload() == bytes && has(d, Flags::PSH | Flags::ACK)),
    );
    out.check(
        "the echo comes back whole",
        payload(&r.packets, false) == bytes,
    );
    if let Some(d) = data {
        let l = &d.layout;
        out.happened.push(format!(
            "frame {}: {} bytes of payload in a {}-byte frame: {} link + {} IP + {} TCP ({} of options) + {} payload",
            d.number,
            bytes.len(),
            d.frame_len,
            l.link,
            l.ip,
            l.tcp,
            l.tcp.saturating_sub(20),
            d.payload_len
        ));
        out.check(
            "headers are larger than the payload",
            d.frame_len as usize > 2 * bytes.len(),
        );
    }
    teardown_checks(&r, &mut out);
    out.parts.push(Part::trace("one write, echoed", r));
    Ok(out)
}

pub(super) async fn echo() -> Result<Outcome> {
    let writes: [&[u8]; 2] = [b"Hello, TCP!\n", b"Streams are powerful\n"];
    // Seed 003's client writes twice in one tick, in the server's process:
    // its server reads only after both writes.
    let way = ClientWay {
        writes_first: true,
        ..ClientWay::default()
    };
    let r = traced_way(plan(&writes, ServeMode::Upper, CloseMode::End), way).await?;
    let mut out = Outcome::default();
    let (c, s) = (&r.sockets.client, &r.sockets.server);
    out.check(
        "the server read every byte the client wrote",
        s.bytes_read == c.bytes_written,
    );
    out.check(
        "the client read every byte the server wrote",
        c.bytes_read == s.bytes_written,
    );
    let reply = String::from_utf8_lossy(&payload(&r.packets, false)).into_owned();
    out.check(
        "the replies are the upper-case echo",
        reply.starts_with("Echo: HELLO, TCP!"),
    );
    let kinds: Vec<&str> = c.events.iter().map(|e| e.event.name()).collect();
    out.check(
        "the client saw connect, data, end, close",
        kinds.first() == Some(&"connect")
            && kinds.ends_with(&["end", "close"])
            && kinds.contains(&"data"),
    );
    out.happened.push(format!(
        "client: wrote {} bytes in 2 writes, read {} bytes in {}",
        c.bytes_written,
        c.bytes_read,
        count(c.reads().len(), "data event")
    ));
    out.happened.push(format!(
        "server: read {} bytes in {}, wrote {} bytes (one reply per read)",
        s.bytes_read,
        count(s.reads().len(), "data event"),
        s.bytes_written
    ));
    out.parts
        .push(Part::trace("two writes to the upper-case echo", r));
    Ok(out)
}

pub(super) async fn json() -> Result<Outcome> {
    let msg = br#"{"type":"greeting","text":"Hello from the client"}"#.to_vec();
    let mut line = msg.clone();
    line.push(b'\n');
    let r = traced(plan(&[&line], ServeMode::Json, CloseMode::End), LOOPBACK).await?;
    let mut out = Outcome::default();
    let reply = payload(&r.packets, false);
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&reply).ok();
    out.check(
        "the reply is one JSON object that quotes the message",
        parsed
            .as_ref()
            .is_some_and(|v| v["received"]["text"] == "Hello from the client"),
    );
    out.check(
        "on the wire, the message ends with its newline (the framing)",
        payload(&r.packets, true).ends_with(b"\n"),
    );
    out.happened.push(format!(
        "sent {} bytes of JSON plus a newline; received {} bytes: {}",
        msg.len(),
        reply.len(),
        String::from_utf8_lossy(&reply).trim_end()
    ));
    out.parts
        .push(Part::trace("a JSON message and its reply", r));
    Ok(out)
}

pub(super) async fn coalesce() -> Result<Outcome> {
    let msgs: Vec<Vec<u8>> = (1..=10)
        .map(|i| format!("msg {i}\n").into_bytes())
        .collect();
    let writes: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
    let mut out = Outcome::default();
    let runs = [
        (
            "the receiver reads late (100 ms)",
            false,
            false,
            Duration::from_millis(100),
        ),
        (
            "TCP_CORK: the sender batches its writes",
            false,
            true,
            Duration::ZERO,
        ),
    ];
    let mut counts = Vec::new();
    let mut first_run = None;
    for (title, nodelay, cork, delay) in runs {
        let mut p = plan(&writes, ServeMode::Discard, CloseMode::End);
        p.nodelay = nodelay;
        p.cork = cork;
        p.server_read_delay = delay;
        let r = traced(p, LOOPBACK).await?;
        counts.push(tally(&mut out, title, &r));
        if first_run.is_none() {
            first_run = Some(nagle_idle(&r.packets));
        }
        out.parts.push(Part::trace(title, r));
    }
    // The control: each write waits until the server has read the one
    // before, so a prompt reader gets one write per read.
    let title = "TCP_NODELAY, paced writes, the receiver reads at once";
    let mut p = plan(&writes, ServeMode::Discard, CloseMode::End);
    p.nodelay = true;
    let r = traced_way(p, PACED).await?;
    counts.push(tally(&mut out, title, &r));
    out.parts.push(Part::trace(title, r));
    out.check(
        "a late reader gets several writes in one read",
        counts[0].1 < 10,
    );
    out.check(
        "a corked sender puts several writes in one segment",
        counts[1].0 < 10,
    );
    out.check(
        "paced writes to a prompt reader stay apart: 10 segments, 10 reads",
        counts[2] == (10, 10),
    );
    if let Some((idle, segments, slowest)) = first_run {
        out.happened.push(format!(
            "the first run had Nagle on, yet its writes left one segment each: {idle} of its \
             {segments} segments left with every byte before them acknowledged (the slowest \
             ACK came {slowest:.3} ms after its segment). Nagle holds a small segment back only \
             while earlier data is unacknowledged, and on loopback the ACK is back before the \
             next write()"
        ));
    }
    out.happened.push(
        "the third run paces its writes: each waits until the server has read the one before. \
         Back to back, ten writes take a fraction of a millisecond (the first run's times), and \
         a waiting reader mostly wakes to find several there: even a prompt reader is no \
         promise of one write per read"
            .into(),
    );
    out.happened
        .push("writes are not messages: what one write() sent, one read() need not get".into());
    Ok(out)
}

/// One run's line of "what happened": writes, segments, reads.
fn tally(out: &mut Outcome, title: &str, r: &TraceReport) -> (usize, usize) {
    let segments = data_segments(&r.packets, true);
    let reads = r.sockets.server.reads().len();
    out.happened.push(format!(
        "{title}: 10 writes → {} → {}",
        count(segments, "segment"),
        count(reads, "read")
    ));
    (segments, reads)
}

/// Why Nagle did not hold the client's small segments back: of its data
/// segments, how many left with no byte before them unacknowledged (by
/// the capture's order), how many there were, and the longest time from
/// a data segment to the server's ACK of it, in ms.
fn nagle_idle(packets: &[Packet]) -> (usize, usize, f64) {
    let mut acked = None::<u32>;
    let (mut idle, mut segments, mut slowest) = (0, 0, 0.0f64);
    for (i, p) in packets.iter().enumerate() {
        let Some(flow) = p.flow else { continue };
        if from_server(p) && has(p, Flags::ACK) {
            acked = Some(acked.map_or(flow.ack, |a: u32| a.max(flow.ack)));
        }
        if !from_client(p) || p.payload_len == 0 {
            continue;
        }
        segments += 1;
        if acked.is_some_and(|a| a >= flow.seq) {
            idle += 1;
        }
        let end = flow.seq.wrapping_add(p.payload_len as u32);
        let ack = packets[i..]
            .iter()
            .find(|q| from_server(q) && q.flow.is_some_and(|f| f.ack >= end));
        if let Some(q) = ack {
            slowest = slowest.max(q.ts.secs_since(p.ts) * 1e3);
        }
    }
    (idle, segments, slowest)
}

pub(super) async fn framing() -> Result<Outcome> {
    let messages: [&[u8]; 3] = [b"hello", b"TCP is a byte stream", b"not a message stream"];
    let stream: Vec<u8> = messages.iter().flat_map(|m| frame(m)).collect();
    // Seven-byte writes with TCP_NODELAY: each write is a segment, and the
    // message boundaries fall inside segments.
    let chunks: Vec<&[u8]> = stream.chunks(7).collect();
    let mut p = plan(&chunks, ServeMode::Frames, CloseMode::End);
    p.nodelay = true;
    // Paced, each piece is one read: the decoder is seen keeping the part
    // of a message that has come until the rest does, and a run is the
    // same picture every time.
    let r = traced_way(p, PACED).await?;
    let mut out = Outcome::default();
    let reply = String::from_utf8_lossy(&payload(&r.packets, false)).into_owned();
    let decoded = reply.lines().filter(|l| l.starts_with("message ")).count();
    out.check(
        "the decoder got all three messages back",
        decoded == messages.len(),
    );
    out.check(
        "the messages crossed segment boundaries",
        data_segments(&r.packets, true) > messages.len(),
    );
    out.happened.push(format!(
        "3 messages = {} bytes (4-byte length + text each), written as {} writes of up to 7 bytes; {} segments carried them, the server read {}",
        stream.len(),
        chunks.len(),
        data_segments(&r.packets, true),
        count(r.sockets.server.reads().len(), "time")
    ));
    for l in reply.lines() {
        out.happened.push(format!("decoded: {l}"));
    }
    out.parts
        .push(Part::trace("length-prefixed messages in 7-byte pieces", r));
    Ok(out)
}

pub(super) async fn half_close() -> Result<Outcome> {
    let r = traced(
        plan(&[b"hello"], ServeMode::Upper, CloseMode::Half),
        LOOPBACK,
    )
    .await?;
    let mut out = Outcome::default();
    let p = &r.packets;
    let fin = first(p, |x| from_client(x) && has(x, Flags::FIN));
    let data = first(p, |x| from_server(x) && x.payload_len > 0);
    out.check(
        "the client's FIN comes before the server's data",
        matches!((fin, data), (Some(f), Some(d)) if f < d),
    );
    out.check(
        "the client still read the reply after its end()",
        r.sockets.client.bytes_read == r.sockets.server.bytes_written
            && r.sockets.client.bytes_read > 0,
    );
    let data_phase = data
        .and_then(|d| p.iter().find(|x| x.number == d))
        .and_then(|x| x.phase());
    out.check(
        "the server's data after the FIN is in phase data, not teardown",
        data_phase == Some(Phase::Data),
    );
    if let (Some(f), Some(d)) = (fin, data) {
        out.happened.push(format!(
            "the client sent FIN at frame {f} (end()), the server still sent {} bytes at frame {d}: a half-closed connection carries data the other way",
            r.sockets.server.bytes_written
        ));
    }
    out.happened.push(
        "tcplab's server wrote its answer as soon as it read the FIN, then ended. A default Node \
         server (allowHalfOpen: false) can do that only inside its 'end' listener: Node ends its \
         side on the next tick, and a write after that fails with EPIPE (\"This socket has been \
         ended by the other party\") and sends nothing. net.createServer({ allowHalfOpen: true }) \
         lets the server send until it calls end() itself"
            .into(),
    );
    teardown_checks(&r, &mut out);
    out.parts.push(Part::trace("end() right after writing", r));
    Ok(out)
}

pub(super) async fn reset() -> Result<Outcome> {
    let ended = traced(plan(&[b"bye"], ServeMode::Echo, CloseMode::End), LOOPBACK).await?;
    let destroyed = traced(plan(&[b"bye"], ServeMode::Echo, CloseMode::Reset), LOOPBACK).await?;
    let mut out = Outcome::default();
    let fin = first(&ended.packets, |x| from_client(x) && has(x, Flags::FIN));
    out.check(
        "end(): the client closes with FIN, no RST",
        fin.is_some() && !ended.packets.iter().any(|x| has(x, Flags::RST)),
    );
    let rst = first(&destroyed.packets, |x| from_client(x) && has(x, Flags::RST));
    out.check(
        "the abortive close: the client sends RST instead of FIN",
        rst.is_some()
            && !destroyed
                .packets
                .iter()
                .any(|x| from_client(x) && has(x, Flags::FIN)),
    );
    let reset_seen = destroyed.sockets.server.events.iter().any(|e| {
        e.event == EventKind::Error
            && e.message
                .as_deref()
                .is_some_and(|m| m.starts_with("ECONNRESET"))
    });
    out.check("the server's read failed with ECONNRESET", reset_seen);
    if let Some(f) = fin {
        out.happened.push(format!(
            "with end(): the client sent FIN at frame {f}; both sides closed in order ({} frames)",
            ended.packets.len()
        ));
    }
    if let Some(r) = rst {
        out.happened.push(format!(
            "aborted (zero linger): the client sent RST at frame {r} instead of FIN ({} frames); the server saw an error, not an end",
            destroyed.packets.len()
        ));
    }
    out.parts.push(Part::trace("socket.end()", ended));
    out.parts.push(Part::trace(
        "abortive close (zero linger, socket.resetAndDestroy())",
        destroyed,
    ));
    Ok(out)
}

/// A listener on `::` that takes IPv4 clients too (IPV6_V6ONLY off, set
/// here rather than left to net.ipv6.bindv6only): what Node's
/// `server.listen(port)` makes when no host is given.
fn dual_stack_listener() -> Result<std::net::TcpListener> {
    let addr = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0);
    let bind_err = |source| Error::Bind {
        addr: addr.to_string(),
        source,
    };
    let sock = Socket::new(Domain::IPV6, Type::STREAM, Some(socket2::Protocol::TCP))
        .map_err(|e| Error::io("listener socket", e))?;
    sock.set_only_v6(false).map_err(bind_err)?;
    sock.set_reuse_address(true).map_err(bind_err)?;
    sock.bind(&addr.into()).map_err(bind_err)?;
    sock.listen(128).map_err(bind_err)?;
    sock.set_nonblocking(true).map_err(bind_err)?;
    Ok(sock.into())
}

/// Every captured packet is IP version `v`.
fn all_ip(r: &TraceReport, v: u8) -> bool {
    !r.packets.is_empty()
        && r.packets
            .iter()
            .all(|x| x.ip.as_ref().is_some_and(|ip| ip.version == v))
}

/// What the server's program saw of the client: its address and family.
fn seen_by_server(r: &TraceReport) -> (String, &'static str) {
    let c = &r.connection;
    let seen = c.client_seen_by_server.as_ref().unwrap_or(&c.client);
    (seen.address.clone(), seen.family)
}

/// A listener bound to `::ffff:127.0.0.1`, and an IPv6 client of `::1` at
/// its port: the connect's error, if it failed (it should: that address
/// takes IPv4 only).
async fn mapped_refuses_ipv6() -> Result<Option<String>> {
    let l = std::net::TcpListener::bind(MAPPED_LOOPBACK).map_err(|e| Error::Bind {
        addr: MAPPED_LOOPBACK.to_string(),
        source: e,
    })?;
    let port = l
        .local_addr()
        .map_err(|e| Error::io("listener address", e))?
        .port();
    let to = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port);
    Ok(match tokio::net::TcpStream::connect(to).await {
        Ok(_) => None,
        Err(e) => Some(crate::values::describe_io_error(&e)),
    })
}

pub(super) async fn ipv6_mapped() -> Result<Outcome> {
    // One dual-stack listener, one capture on its port, two clients in turn.
    let listener = dual_stack_listener()?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::io("listener address", e))?
        .port();
    let mut cap = open_loopback(port, None)?;
    let mut reports = Vec::new();
    for ip in [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ] {
        let way = ClientWay {
            connect_to: Some(SocketAddr::new(ip, port)),
            ..ClientWay::default()
        };
        let p = plan(&[b"hello"], ServeMode::Echo, CloseMode::End);
        reports.push(traced_on(&listener, &mut cap, p, way).await?);
    }
    drop(cap);
    let refused = mapped_refuses_ipv6().await?;
    let (v6, v4) = (reports.pop(), reports.pop());
    let (Some(v4), Some(v6)) = (v4, v6) else {
        return Err(Error::Trace("the two exchanges did not both run".into()));
    };
    let mut out = Outcome::default();
    out.check(
        "one listener on :: took both clients",
        v4.connection.server.address == "::"
            && v6.connection.server.address == "::"
            && v4.connection.server.port == v6.connection.server.port,
    );
    out.check("every packet of the IPv4 client is IPv4", all_ip(&v4, 4));
    out.check(
        "the server sees the IPv4 client as ::ffff:127.0.0.1, family IPv6",
        seen_by_server(&v4) == ("::ffff:127.0.0.1".to_string(), "IPv6"),
    );
    out.check("every packet of the IPv6 client is IPv6", all_ip(&v6, 6));
    out.check(
        "the server sees the IPv6 client as ::1, family IPv6",
        seen_by_server(&v6) == ("::1".to_string(), "IPv6"),
    );
    out.check(
        "a listener bound to ::ffff:127.0.0.1 refuses an IPv6 client",
        refused
            .as_deref()
            .is_some_and(|e| e.starts_with("ECONNREFUSED")),
    );
    out.happened.push(format!(
        "one listener on :: port {port}, IPV6_V6ONLY off (dual stack): what Node's \
         server.listen(port) makes with no host, its server.address() {{ address: '::', \
         family: 'IPv6' }}"
    ));
    let hdr = |r: &TraceReport| {
        r.packets
            .first()
            .and_then(|x| x.ip.as_ref())
            .map_or(0, |ip| ip.hdr_len)
    };
    for (r, ver) in [(&v4, "IPv4"), (&v6, "IPv6")] {
        let (address, family) = seen_by_server(r);
        out.happened.push(format!(
            "the client is {} ({}), the server's remoteAddress is {address} ({family}); \
             the frames carry {}-byte {ver} headers",
            r.connection.client.address,
            r.connection.client.family,
            hdr(r)
        ));
    }
    out.happened.push(format!(
        "an IPv6 socket shows an IPv4 peer as an IPv4-mapped address, ::ffff: and the IPv4 \
         address. A socket bound to ::ffff:127.0.0.1 itself takes IPv4 only: an IPv6 client \
         of ::1 at its port got {}",
        refused.as_deref().unwrap_or("a connection")
    ));
    out.parts.push(Part::trace(
        "an IPv4 client (127.0.0.1) of the listener on ::",
        v4,
    ));
    out.parts
        .push(Part::trace("an IPv6 client (::1) of the same listener", v6));
    Ok(out)
}
