//! The labs that are one traced exchange (or two side by side): a plan for
//! the exchange, then what happened and the checks, computed from the
//! capture and the socket events.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::facts::{data_segments, first, flag_names, from_client, from_server, has, payload};
use super::{Outcome, Part};
use crate::decode::Flags;
use crate::lab::{frame, CloseMode, ExchangePlan, ServeMode};
use crate::render::TraceReport;
use crate::scenario::trace::trace;
use crate::values::EventKind;
use crate::Result;

pub(super) fn plan(writes: &[&[u8]], server: ServeMode, close: CloseMode) -> ExchangePlan {
    ExchangePlan::new(writes, server, close)
}

/// 127.0.0.1, any port.
pub(super) const LOOPBACK: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// ::ffff:127.0.0.1, the IPv4 loopback as an IPv6 socket sees it.
const MAPPED_LOOPBACK: SocketAddr =
    SocketAddr::new(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), 0);

/// Runs one traced exchange on loopback.
pub(super) async fn traced(plan: ExchangePlan, bind: SocketAddr) -> Result<TraceReport> {
    let (report, capture) = trace(bind, plan, None).await?;
    drop(capture);
    Ok(report)
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
    let r = traced(plan(&writes, ServeMode::Upper, CloseMode::End), LOOPBACK).await?;
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
        "client: wrote {} bytes in 2 writes, read {} bytes in {} data event(s)",
        c.bytes_written,
        c.bytes_read,
        c.reads().len()
    ));
    out.happened.push(format!(
        "server: read {} bytes in {} data event(s), wrote {} bytes (one reply per read)",
        s.bytes_read,
        s.reads().len(),
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
        (
            "TCP_NODELAY, the receiver reads at once",
            true,
            false,
            Duration::ZERO,
        ),
    ];
    let mut counts = Vec::new();
    for (title, nodelay, cork, delay) in runs {
        let mut p = plan(&writes, ServeMode::Discard, CloseMode::End);
        p.nodelay = nodelay;
        p.cork = cork;
        p.server_read_delay = delay;
        let r = traced(p, LOOPBACK).await?;
        let segments = data_segments(&r.packets, true);
        let reads = r.sockets.server.reads().len();
        out.happened.push(format!(
            "{title}: 10 writes → {segments} segment(s) → {reads} read(s)"
        ));
        counts.push((segments, reads));
        out.parts.push(Part::trace(title, r));
    }
    out.check(
        "a late reader gets several writes in one read",
        counts[0].1 < 10,
    );
    out.check(
        "a corked sender puts several writes in one segment",
        counts[1].0 < 10,
    );
    out.happened
        .push("writes are not messages: what one write() sent, one read() need not get".into());
    Ok(out)
}

pub(super) async fn framing() -> Result<Outcome> {
    let messages: [&[u8]; 3] = [b"hello", b"TCP is a byte stream", b"not a message stream"];
    let stream: Vec<u8> = messages.iter().flat_map(|m| frame(m)).collect();
    // Seven-byte writes with TCP_NODELAY: each write is a segment, and the
    // message boundaries fall inside segments.
    let chunks: Vec<&[u8]> = stream.chunks(7).collect();
    let mut p = plan(&chunks, ServeMode::Frames, CloseMode::End);
    p.nodelay = true;
    let r = traced(p, LOOPBACK).await?;
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
        "3 messages = {} bytes (4-byte length + text each), written as {} writes of up to 7 bytes; {} segments carried them, the server read {} time(s)",
        stream.len(),
        chunks.len(),
        data_segments(&r.packets, true),
        r.sockets.server.reads().len()
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
    if let (Some(f), Some(d)) = (fin, data) {
        out.happened.push(format!(
            "the client sent FIN at frame {f} (end()), the server still sent {} bytes at frame {d}: a half-closed connection carries data the other way",
            r.sockets.server.bytes_written
        ));
    }
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

pub(super) async fn ipv6_mapped() -> Result<Outcome> {
    // An IPv6 socket bound to the IPv4-mapped loopback address: IPv4 on the
    // wire, IPv6 addresses in the programs (dual stack, IPV6_V6ONLY off).
    let r = traced(
        plan(&[b"hello"], ServeMode::Echo, CloseMode::End),
        MAPPED_LOOPBACK,
    )
    .await?;
    let mut out = Outcome::default();
    let all_v4 = r
        .packets
        .iter()
        .all(|x| x.ip.as_ref().is_some_and(|ip| ip.version == 4));
    out.check(
        "every packet on the wire is IPv4",
        all_v4 && !r.packets.is_empty(),
    );
    let seen = r.connection.client_seen_by_server.clone();
    out.check(
        "the server sees the IPv4 client as ::ffff:127.0.0.1, family IPv6",
        seen.as_ref()
            .is_some_and(|s| s.address == "::ffff:127.0.0.1" && s.family == "IPv6"),
    );
    if let Some(s) = seen {
        out.happened.push(format!(
            "the client is {} ({}), the server's remoteAddress is {} ({}); the frames carry {}-byte IPv4 headers",
            r.connection.client.address,
            r.connection.client.family,
            s.address,
            s.family,
            r.packets.first().and_then(|x| x.ip.as_ref()).map_or(0, |ip| ip.hdr_len)
        ));
    }
    out.parts
        .push(Part::trace("an IPv4 client of a dual-stack server", r));
    Ok(out)
}
