//! The zero-window lab, flow control with a slow reader: the client writes
//! more than the server's receive buffer and its own send buffer can hold,
//! to a server that waits a second before it reads. The server's window
//! closes, the client probes it, a window update opens it, the client's
//! write waits for its kernel meanwhile, and every byte still arrives.
//!
//! The sizes come from this machine: the write is twice what the client's
//! send buffer may grow to (`net.ipv4.tcp_wmem`'s max), so the writer
//! must wait whatever the window; the server's SO_RCVBUF is small so the
//! window closes after a few segments and, once the server reads, keeps
//! up without closing again.

use std::time::Duration;

use super::basic::{plan, traced, LOOPBACK};
use super::facts::{delivered, from_client, from_server, has};
use super::zero_window::{episodes, Episode, Probe};
use super::{Outcome, Part};
use crate::decode::Flags;
use crate::flow::{Analysis, Direction, Packet};
use crate::lab::kernel::{invalid_ratelimit_ms, tcp_wmem_max};
use crate::lab::{CloseMode, ServeMode};
use crate::render::{group, TraceReport, NODE_HIGH_WATER_MARK};
use crate::values::{EventKind, SeqNumber, SocketEvent, Timestamp};
use crate::Result;

/// How long the server waits before its first read: long enough for two
/// window probes (Linux sends the first about 200 ms into the zero window,
/// then doubles its wait), short enough for a lesson.
const READ_DELAY: Duration = Duration::from_millis(1000);

/// The server's SO_RCVBUF (the kernel keeps twice this): a window of a
/// few segments.
const RCVBUF: usize = 32 * 1024;

/// The write's size when the send buffer's limit is unknown, and the most
/// it may be (a lab is not a benchmark).
const DEFAULT_WRITE: usize = 8 << 20;
const MAX_WRITE: usize = 64 << 20;

/// Twice what the client's send buffer may grow to, in whole 64-byte lines.
fn write_size(wmem_max: Option<usize>) -> usize {
    let size = wmem_max.map_or(DEFAULT_WRITE, |m| (2 * m).max(DEFAULT_WRITE));
    size.min(MAX_WRITE) / 64 * 64
}

/// Numbered 64-byte text lines, so the dumps are readable and a lost or
/// reordered byte would show.
fn lines(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    for i in 0..size / 64 {
        out.extend_from_slice(
            format!("{:<63}\n", format!("line {i:07}: the slow reader")).as_bytes(),
        );
    }
    out
}

pub(super) async fn zero_window() -> Result<Outcome> {
    let wmem = tcp_wmem_max();
    let bytes = lines(write_size(wmem));
    let mut p = plan(&[&bytes], ServeMode::Discard, CloseMode::End);
    p.server_read_delay = READ_DELAY;
    p.rcvbuf = Some(RCVBUF);
    let r = traced(p, LOOPBACK).await?;
    let found = episodes(&r.packets, Direction::ServerToClient);
    let mut out = Outcome::default();
    checks(&r, &bytes, &found, &mut out);
    out.happened.push(setup(&r, bytes.len()));
    let t0 = r.packets.first().map(|p| p.ts).unwrap_or_default();
    if let Some(first) = found.first() {
        out.happened.extend(closed(first, t0));
        out.happened.extend(probes(first, t0));
    }
    if found.len() > 1 {
        out.happened.push(again(&found[1..]));
    }
    out.happened.push(first_read(&r));
    out.happened.extend(writer(&r, wmem));
    out.happened.extend(retransmissions(&r.packets, t0));
    out.happened.push(format!(
        "every byte arrived: the server read {} bytes, and the client's stream reassembled \
         from the capture is the client's write byte for byte",
        group(r.sockets.server.bytes_read)
    ));
    let title = format!(
        "{} MiB in one write; the server reads after {} ms, SO_RCVBUF {} bytes",
        bytes.len() >> 20,
        READ_DELAY.as_millis(),
        group(RCVBUF as u64)
    );
    out.parts.push(Part::trace(&title, r));
    Ok(out)
}

/// The window the server's SYN-ACK offered, in bytes.
fn offered(r: &TraceReport) -> Option<u32> {
    let syn_ack = r
        .packets
        .iter()
        .find(|p| from_server(p) && has(p, Flags::SYN))?;
    syn_ack.tcp.as_ref().map(|t| u32::from(t.window))
}

fn checks(r: &TraceReport, bytes: &[u8], found: &[Episode], out: &mut Outcome) {
    let (client, server) = (&r.sockets.client, &r.sockets.server);
    out.check(
        "the client wrote more than the server's window",
        offered(r).is_some_and(|w| bytes.len() > w as usize),
    );
    let first_read = server.events.iter().find(|e| e.event == EventKind::Data);
    out.check(
        &format!(
            "the server read late: nothing before {} ms",
            READ_DELAY.as_millis()
        ),
        first_read.is_some_and(|e| e.t_ms >= READ_DELAY.as_millis() as f64),
    );
    let first = found.first();
    out.check("the server advertised a zero window", first.is_some());
    out.check(
        "the window stayed zero while the server did not read (half the delay or more)",
        first
            .and_then(Episode::zero_ms)
            .is_some_and(|ms| ms >= READ_DELAY.as_millis() as f64 / 2.0),
    );
    out.check(
        "the client probed the zero window",
        first.is_some_and(|e| !e.probes.is_empty()),
    );
    out.check(
        "a window update opened it again",
        first.is_some_and(|e| e.flagged_update),
    );
    out.check(
        "the writer waited: write() returned false, then 'drain'",
        blocked_then_drain(&client.events)
            .is_some_and(|(b, _)| b.bytes.is_some_and(|n| n >= NODE_HIGH_WATER_MARK)),
    );
    out.check(
        "every byte arrived, in order",
        server.bytes_read == bytes.len() as u64
            && delivered(&r.packets, true).as_deref() == Some(bytes),
    );
}

/// The first `blocked` event and the `drain` after it.
fn blocked_then_drain(events: &[SocketEvent]) -> Option<(&SocketEvent, &SocketEvent)> {
    let at = events.iter().position(|e| e.event == EventKind::Blocked)?;
    let drain = events[at..].iter().find(|e| e.event == EventKind::Drain)?;
    Some((&events[at], drain))
}

fn setup(r: &TraceReport, len: usize) -> String {
    let window = offered(r).map_or("no SYN-ACK was captured".to_string(), |w| {
        format!(
            "its SYN-ACK offered a window of {} bytes",
            group(u64::from(w))
        )
    });
    format!(
        "the client wrote {} bytes in one write to a server that reads nothing for {} ms; \
         the server's SO_RCVBUF is {} bytes (the kernel keeps twice that) and {window}",
        group(len as u64),
        group(READ_DELAY.as_millis() as u64),
        group(RCVBUF as u64)
    )
}

/// When the window closed, for how long, and what opened it.
fn closed(e: &Episode, t0: Timestamp) -> Vec<String> {
    let held = group(u64::from(e.ack.saturating_sub(1)));
    let mut out = vec![format!(
        "frame {} at {:.1} ms: the server's window is 0, with {held} bytes in its buffer \
         and none read; the client may send nothing more",
        e.closed.frame,
        e.closed.ms_from(t0),
    )];
    if let (Some((at, window)), Some(zero)) = (e.reopened, e.zero_ms()) {
        let update = if e.flagged_update {
            " (a window update)"
        } else {
            ""
        };
        out.push(format!(
            "the window stayed 0 for {zero:.1} ms, until frame {} at {:.1} ms offered {} \
             bytes{update}: the server had started reading",
            at.frame,
            at.ms_from(t0),
            group(u64::from(window))
        ));
    }
    out
}

/// The probes: how many, when, and which the server answered.
fn probes(e: &Episode, t0: Timestamp) -> Vec<String> {
    if e.probes.is_empty() {
        return vec!["the client sent no window probe while the window was 0".into()];
    }
    let list = |f: &dyn Fn(&Probe) -> String| and_list(e.probes.iter().map(f).collect());
    // Each wait: from the zero window to the first probe, then probe to probe.
    let mut waits = Vec::new();
    let mut last = e.closed;
    for p in &e.probes {
        waits.push(p.at.ms_since(last));
        last = p.at;
    }
    let growing = waits.windows(2).all(|w| w[1] > w[0]);
    let mut out = vec![format!(
        "the client probed the closed window {} (frame{} {} at {} ms): no data, and a seq one \
         below the next byte, the shape tshark calls a keep-alive; its persist timer waited \
         {} ms{}",
        times(e.probes.len()),
        if e.probes.len() > 1 { "s" } else { "" },
        list(&|p| p.at.frame.to_string()),
        list(&|p| format!("{:.1}", p.at.ms_from(t0))),
        waits
            .iter()
            .map(|w| format!("{w:.1}"))
            .collect::<Vec<_>>()
            .join(", then "),
        if growing && waits.len() > 1 {
            ", longer each time"
        } else {
            ""
        },
    )];
    let answers: Vec<String> = e
        .probes
        .iter()
        .filter_map(|p| p.answer.map(|a| a.frame.to_string()))
        .collect();
    out.push(match e.answered() {
        0 => "the server answered none of them".to_string(),
        n => format!(
            "the server answered {n} of them with its window, still 0 (frame{} {})",
            if n > 1 { "s" } else { "" },
            and_list(answers)
        ),
    });
    out.extend(unanswered(e));
    out
}

/// `10`, `10 and 12`, `10, 12 and 14`.
fn and_list(mut items: Vec<String>) -> String {
    match items.pop() {
        None => String::new(),
        Some(last) if items.is_empty() => last,
        Some(last) => format!("{} and {last}", items.join(", ")),
    }
}

/// `once`, `twice`, `3 times`.
fn times(n: usize) -> String {
    match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    }
}

/// Why a probe went unanswered, when the kernel's rate limit explains it:
/// Linux answers segments outside its window at most once per
/// `tcp_invalid_ratelimit`, and a probe's seq is below the window.
fn unanswered(e: &Episode) -> Option<String> {
    let limit = invalid_ratelimit_ms()? as f64;
    let mut last_answer = None;
    let mut quiet = Vec::new();
    for p in &e.probes {
        match (p.answer, last_answer) {
            (Some(a), _) => last_answer = Some(a),
            (None, Some(a)) if p.at.ms_since(a) < limit => quiet.push(p.at.frame.to_string()),
            (None, _) => {}
        }
    }
    (!quiet.is_empty()).then(|| {
        format!(
            "frame {} went unanswered: Linux answers segments outside its window at most \
             once per {limit} ms (net.ipv4.tcp_invalid_ratelimit), and the last answer was \
             more recent",
            quiet.join(", ")
        )
    })
}

/// The brief closings after the first, while the reader caught up.
fn again(rest: &[Episode]) -> String {
    let longest = rest
        .iter()
        .filter_map(Episode::zero_ms)
        .fold(0.0f64, f64::max);
    format!(
        "the window closed {} more while the reader caught up, each briefly (the longest \
         {longest:.1} ms)",
        times(rest.len())
    )
}

/// The server's first read, after its wait (the socket events keep their
/// own clock, so the time is the wait's, not the table's).
fn first_read(r: &TraceReport) -> String {
    let s = &r.sockets.server;
    match s.events.iter().find(|e| e.event == EventKind::Data) {
        Some(e) => format!(
            "after its {} ms wait the server's first read took {} bytes at once, all its \
             buffer held; it read {} times in all",
            group(READ_DELAY.as_millis() as u64),
            group(e.bytes.unwrap_or(0) as u64),
            group(s.reads().len() as u64)
        ),
        None => "the server read nothing".to_string(),
    }
}

/// The writer's wait, in the kernel's numbers and in Node's words.
fn writer(r: &TraceReport, wmem: Option<usize>) -> Option<String> {
    let (blocked, drain) = blocked_then_drain(&r.sockets.client.events)?;
    let limit = wmem.map_or(String::new(), |m| {
        format!(
            " (it grows to {} bytes here, net.ipv4.tcp_wmem)",
            group(m as u64)
        )
    });
    Some(format!(
        "the client's write waited: its kernel send buffer{limit} was full after {} of the \
         {} bytes, and the kernel took the last byte {:.1} ms later. A Node client sees the \
         same: socket.write() returns false, and 'drain' fires when the kernel has it all",
        group(blocked.accepted.unwrap_or(0) as u64),
        group(blocked.bytes.unwrap_or(0) as u64),
        drain.t_ms - blocked.t_ms
    ))
}

/// The client's retransmissions, each with the wait before it; on
/// loopback the usual one is Linux's tail loss probe, the last segment
/// resent when no ACK came within a few ms (an RTO waits 200 ms or more).
fn retransmissions(packets: &[Packet], t0: Timestamp) -> Vec<String> {
    packets
        .iter()
        .filter(|p| from_client(p))
        .filter(|p| p.findings().flags.contains(Analysis::RETRANSMISSION))
        .take(3)
        .map(|p| {
            let original = p
                .findings()
                .original_frame
                .and_then(|n| packets.iter().find(|o| o.number == n));
            let why = match original {
                Some(o) => {
                    let gap = p.ts.secs_since(o.ts) * 1e3;
                    let kind = if gap < 200.0 {
                        "Linux's tail loss probe: no ACK had come, so it resent its last segment"
                    } else {
                        "resent after its retransmission timeout"
                    };
                    format!("of frame {}, {gap:.1} ms later ({kind})", o.number)
                }
                None => "of bytes sent before".to_string(),
            };
            let dsack = match dsack_after(packets, p) {
                Some(n) => format!("; frame {n}'s SACK block says those bytes arrived twice"),
                None => String::new(),
            };
            format!(
                "frame {} at {:.1} ms is a retransmission {why}{dsack}",
                p.number,
                p.ts.secs_since(t0) * 1e3
            )
        })
        .collect()
}

/// The server's next segment after `resent`, if its SACK option reports
/// a duplicate (a D-SACK, RFC 2883: a block below the ACK).
fn dsack_after(packets: &[Packet], resent: &Packet) -> Option<u64> {
    let next = packets
        .iter()
        .filter(|p| p.number > resent.number && from_server(p))
        .find(|p| p.tcp.is_some())?;
    let ack = SeqNumber(next.tcp.as_ref()?.ack);
    let sack = next.options()?.sack;
    sack.iter()
        .any(|b| !SeqNumber(b[1]).after(ack))
        .then_some(next.number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_is_twice_the_send_buffer_in_whole_lines() {
        assert_eq!(write_size(None), 8 << 20);
        assert_eq!(write_size(Some(4_194_304)), 8 << 20);
        assert_eq!(write_size(Some(1 << 20)), 8 << 20);
        assert_eq!(write_size(Some(6_000_001)), 12_000_000 / 64 * 64);
        assert_eq!(write_size(Some(1 << 30)), 64 << 20);
    }

    #[test]
    fn lists_read_as_prose() {
        let l = |v: &[&str]| and_list(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(l(&[]), "");
        assert_eq!(l(&["10"]), "10");
        assert_eq!(l(&["10", "12"]), "10 and 12");
        assert_eq!(l(&["10", "12", "14"]), "10, 12 and 14");
        assert_eq!(
            (times(1), times(2), times(3)),
            ("once".into(), "twice".into(), "3 times".into())
        );
    }

    #[test]
    fn the_lines_are_numbered_and_64_bytes_each() {
        let l = lines(128);
        assert_eq!(l.len(), 128);
        assert!(l.starts_with(b"line 0000000: the slow reader "));
        assert_eq!(&l[63..64], b"\n");
        assert!(l[64..].starts_with(b"line 0000001"));
    }
}
