//! The labs on an impaired path (root: namespaces and tcplab's forwarder):
//! `loss`, one segment dropped on purpose and recovered two ways, and
//! `delay`, the hello exchange with 20 ms each way and where the time goes.

use std::time::Duration;

use super::facts::{count, from_client, from_server, has};
use super::{Outcome, Part};
use crate::decode::Flags;
use crate::flow::{recoveries, Analysis, Found, Packet, Recovery};
use crate::impair::Impairment;
use crate::lab::{CloseMode, ExchangePlan, ServeMode};
use crate::render::TraceReport;
use crate::scenario::impaired::{trace_impaired, PathPlan};
use crate::values::CallKind;
use crate::Result;

/// A full-sized segment on the path's 1500-byte links, with timestamps.
const SEGMENT: usize = 1448;

/// The loss lab's delay, each way.
const LOSS_DELAY: Duration = Duration::from_millis(10);

/// Runs `plan` through a path with `imp`, captured at the client.
async fn through(plan: ExchangePlan, imp: Impairment) -> Result<TraceReport> {
    through_with(plan, imp, false).await
}

/// [`through`], the client's tail-loss probes off if `no_tlp`.
async fn through_with(plan: ExchangePlan, imp: Impairment, no_tlp: bool) -> Result<TraceReport> {
    let path = PathPlan {
        impairment: imp,
        no_tail_loss_probe: no_tlp,
        ..PathPlan::default()
    };
    let (report, capture) = trace_impaired(plan, &path, None).await?;
    drop(capture);
    Ok(report)
}

fn text(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

/// One write of `segments` full segments, the third dropped, 10 ms each
/// way; the client's tail-loss probes off if `no_tlp`.
async fn drop_third(segments: usize, no_tlp: bool) -> Result<(TraceReport, usize)> {
    let bytes = text(segments * SEGMENT);
    let plan = ExchangePlan::new(&[&bytes], ServeMode::Discard, CloseMode::End);
    let imp = Impairment {
        drop: vec![3],
        delay: LOSS_DELAY,
        ..Impairment::default()
    };
    Ok((through_with(plan, imp, no_tlp).await?, bytes.len()))
}

/// The one recovery of a run with one drop.
fn the_recovery(r: &TraceReport) -> Option<Recovery> {
    recoveries(&r.packets).into_iter().find(|x| {
        r.packets
            .iter()
            .any(|p| p.number == x.frame && from_client(p))
    })
}

pub(super) async fn loss() -> Result<Outcome> {
    let mut out = Outcome::default();
    let (fast, fast_bytes) = drop_third(20, false).await?;
    let (tail, tail_bytes) = drop_third(3, false).await?;
    let (rto, rto_bytes) = drop_third(3, true).await?;
    let runs = [(&fast, fast_bytes), (&tail, tail_bytes), (&rto, rto_bytes)];
    for (r, bytes) in runs {
        let path = r.path.as_ref();
        out.check(
            &format!("exactly one segment dropped of {}", bytes / SEGMENT),
            path.is_some_and(|p| p.dropped.len() == 1),
        );
        out.check(
            "every byte arrived anyway",
            r.sockets.server.bytes_read == bytes as u64,
        );
    }
    let (a, b, c) = (the_recovery(&fast), the_recovery(&tail), the_recovery(&rto));
    out.check(
        "a drop mid-stream is resent after duplicate ACKs",
        a.as_ref().is_some_and(|x| x.found != Found::Timer),
    );
    out.check(
        "the last segment's drop is resent after silence (a timer)",
        b.as_ref().is_some_and(|x| x.found == Found::Timer),
    );
    if let (Some(a), Some(b)) = (&a, &b) {
        out.check(
            "silence costs more than duplicate ACKs",
            b.waited_ms > a.waited_ms,
        );
        out.happened.push(dup_ack_words(a, &fast.packets));
        out.happened.push(timer_words(b, &tail));
        out.happened.push(format!(
            "the timer cost {:.0} times the wait for duplicate ACKs: the receiver's ACKs are \
             how a sender learns of a loss quickly",
            b.waited_ms / a.waited_ms.max(0.001)
        ));
    }
    rto_checks(c.as_ref(), &rto, &mut out);
    out.happened.push(where_timed(&fast, LOSS_DELAY));
    out.parts
        .push(Part::trace("20 segments, the third dropped", fast));
    out.parts
        .push(Part::trace("3 segments, the last dropped", tail));
    out.parts.push(Part::trace(
        "3 segments, the last dropped, tail-loss probes off",
        rto,
    ));
    Ok(out)
}

/// The third run: with the probes off, the classic retransmission timeout.
fn rto_checks(c: Option<&Recovery>, run: &TraceReport, out: &mut Outcome) {
    let counted = |name: &str| {
        run.path
            .as_ref()
            .and_then(|p| p.kernel.client.get(name).copied())
            .unwrap_or(0)
    };
    out.check(
        "with the probes off, the retransmission timeout (RTO) resends it",
        c.is_some_and(|x| x.found == Found::Timer)
            && counted("TCPTimeouts") >= 1
            && counted("TCPLossProbes") == 0,
    );
    if let Some(c) = c {
        out.happened.push(format!(
            "with tail-loss probes off (net.ipv4.tcp_early_retrans = 0 in the client's \
             namespace) the classic retransmission timer fired instead: the resend (#{1}) left \
             {0:.1} ms after the first try, with no ACK covering it in between; the client's \
             kernel counted TCPTimeouts {2}. About the \
             probe's wait: what the probe spares is the timeout's penalty, for after an RTO \
             the sender starts again from a congestion window of one segment",
            c.waited_ms,
            c.frame,
            counted("TCPTimeouts")
        ));
    }
}

/// The receiver's ACKs between the first try (`r.previous`) and the resend
/// that still ask for the lost bytes and carry SACK blocks: those that tell
/// the sender of the hole.
fn hole_acks<'a>(r: &Recovery, packets: &'a [Packet]) -> Vec<&'a Packet> {
    let hole = packets
        .iter()
        .find(|p| p.number == r.previous)
        .and_then(|p| p.flow)
        .map(|f| f.seq);
    packets
        .iter()
        .filter(|p| (r.previous..r.frame).contains(&p.number) && from_server(p))
        .filter(|p| p.payload_len == 0 && p.flow.map(|f| f.ack) == hole)
        .filter(|p| p.options().is_some_and(|o| !o.sack.is_empty()))
        .collect()
}

/// Segments the SACK blocks of `ack` report received: Linux's count.
fn sacked_segments(ack: &Packet) -> u32 {
    let blocks = ack.options().map(|o| o.sack).unwrap_or_default();
    let bytes: u32 = blocks.iter().map(|b| b[1].wrapping_sub(b[0])).sum();
    bytes.div_ceil(SEGMENT as u32)
}

/// The mid-stream recovery, the ACKs counted as tshark names them (a window
/// update when the window changed, checked first, else a duplicate ACK) and
/// as Linux counts them (segments SACKed beyond the hole).
fn dup_ack_words(r: &Recovery, packets: &[Packet]) -> String {
    let how = match &r.found {
        Found::FastRetransmit { .. } => "fast retransmit",
        Found::Sack { .. } => "SACK loss detection",
        Found::Timer => "a timer",
    };
    let acks = hole_acks(r, packets);
    let (Some(first), Some(last)) = (acks.first(), acks.last()) else {
        return format!(
            "mid-stream: the sender resent (#{}, {how}) {:.1} ms after the first try (#{})",
            r.frame, r.waited_ms, r.previous
        );
    };
    let named = |a: Analysis| {
        acks.iter()
            .filter(|p| p.findings().flags.contains(a))
            .count()
    };
    let hole = packets.iter().find(|p| p.number == r.previous);
    let byte = hole.and_then(|p| p.flow).map_or(0, |f| f.seq);
    format!(
        "mid-stream: the segments after the hole arrived, and {} came back still asking for \
         byte {byte} (#{}-#{}), each with a SACK block naming what did arrive; tshark calls \
         {} of them duplicate ACKs and {} window updates (their window grew, and tshark \
         checks for a changed window first). Linux's SACK \
         recovery counts neither: it counts the segments SACKed beyond the hole ({} by #{}), \
         and 3 are enough to call the hole lost. The sender resent it (#{}, {how}) {:.1} ms \
         after the first try (#{}), {:.1} ms after the last of those ACKs",
        count(acks.len(), "ACK"),
        first.number,
        last.number,
        named(Analysis::DUPLICATE_ACK),
        named(Analysis::WINDOW_UPDATE),
        sacked_segments(last),
        last.number,
        r.frame,
        r.waited_ms,
        r.previous,
        gap_ms(packets, last.number, r.frame)
    )
}

fn timer_words(r: &Recovery, run: &TraceReport) -> String {
    let probes = run
        .path
        .as_ref()
        .and_then(|p| p.kernel.client.get("TCPLossProbes").copied())
        .unwrap_or(0);
    let timer = if probes > 0 {
        "Linux's tail-loss probe (RFC 8985), counted by the client's kernel (TCPLossProbes): \
         with one segment unacknowledged it waits two round trips plus 200 ms, but never \
         longer than the retransmission timeout would"
    } else {
        "the retransmission timer (RTO, at least 200 ms on Linux)"
    };
    // The ACKs of the earlier segments came in the meantime: the silence
    // is only from the last of them.
    let p = &run.packets;
    let last_ack = p
        .iter()
        .rev()
        .find(|x| (r.previous..r.frame).contains(&x.number) && from_server(x));
    let heard = match last_ack {
        Some(a) => format!(
            "the ACKs of the segments before it came back (the last, #{}), none covering it, \
             then nothing for {:.1} ms",
            a.number,
            gap_ms(p, a.number, r.frame)
        ),
        None => "nothing came back".to_string(),
    };
    format!(
        "the last segment: nothing followed it, so no duplicate ACK could come; {heard}, until \
         the sender resent it (#{}), {:.1} ms after the first try (#{}): {timer}",
        r.frame, r.waited_ms, r.previous
    )
}

/// Where the capture is, and so what an arrow's time means beside the
/// server's events, which are timed on the server's side of the path.
fn where_timed(r: &TraceReport, delay: Duration) -> String {
    let delay_ms = delay.as_millis();
    let said = format!(
        "the capture is taken at the client's end of the path: each row's and arrow's time is \
         when the frame left or reached the client, while the server's events and calls \
         ('data', end(), 'close') are timed where they happened, {delay_ms} ms of path away"
    );
    let t0 = r.packets.first().map(|p| p.ts);
    let end = r
        .sockets
        .server
        .calls
        .iter()
        .find(|c| c.call == CallKind::End);
    let fin = r
        .packets
        .iter()
        .find(|p| from_server(p) && has(p, Flags::FIN));
    let (Some(t0), Some(at), Some(fin)) = (t0, end.and_then(|c| c.at), fin) else {
        return said;
    };
    let sent = at.secs_since(t0) * 1e3;
    format!(
        "{said}. The server's end() at {sent:.1} ms sent its FIN (#{}), which reached the client \
         at {:.1} ms: in the diagram (--diagram) the server's end() and 'close' are drawn above \
         that arrow, which is timed at the client, {delay_ms} ms after the FIN left the server",
        fin.number,
        fin.ts.secs_since(t0) * 1e3
    )
}

/// Milliseconds between two frames of `packets`, by number.
fn gap_ms(packets: &[Packet], from: u64, to: u64) -> f64 {
    let ts = |n: u64| packets.iter().find(|p| p.number == n).map(|p| p.ts);
    match (ts(from), ts(to)) {
        (Some(a), Some(b)) => b.secs_since(a) * 1e3,
        _ => 0.0,
    }
}

/// Frame numbers of the client's data segments.
fn client_data(packets: &[Packet]) -> Vec<u64> {
    packets
        .iter()
        .filter(|p| from_client(p) && p.payload_len > 0)
        .map(|p| p.number)
        .collect()
}

pub(super) async fn delay() -> Result<Outcome> {
    let mut out = Outcome::default();
    let writes: [&[u8]; 2] = [b"hello ", b"world"];
    let imp = Impairment {
        delay: Duration::from_millis(20),
        ..Impairment::default()
    };
    let mut runs = Vec::new();
    for nodelay in [false, true] {
        let mut plan = ExchangePlan::new(&writes, ServeMode::Echo, CloseMode::End);
        plan.nodelay = nodelay;
        if nodelay {
            // Both writes leave at once and arrive microseconds apart: a
            // server that waits 10 ms reads them in one 'data' every run,
            // rather than in one or two as the scheduler has it.
            plan.server_read_delay = Duration::from_millis(10);
        }
        runs.push(through(plan, imp.clone()).await?);
    }
    let nagle = &runs[0];
    let p = &nagle.packets;
    let rtt = p
        .get(1)
        .map(|x| x.ts.secs_since(p[0].ts) * 1e3)
        .unwrap_or(0.0);
    out.check(
        "the handshake takes one round trip: about 40 ms",
        (38.0..55.0).contains(&rtt),
    );
    out.happened.push(format!(
        "SYN to SYN-ACK: {rtt:.1} ms, the round trip (20 ms each way); the client may send \
         as soon as the SYN-ACK arrives, so connecting costs one round trip"
    ));
    let gaps: Vec<f64> = runs
        .iter()
        .map(|r| match client_data(&r.packets)[..] {
            [a, b, ..] => gap_ms(&r.packets, a, b),
            _ => 0.0,
        })
        .collect();
    out.check(
        "with Nagle, the second write waits for an ACK",
        gaps[0] > 0.8 * rtt,
    );
    out.check("with TCP_NODELAY, it leaves at once", gaps[1] < 0.25 * rtt);
    out.happened.push(format!(
        "Nagle's algorithm: \"world\" left {:.1} ms after \"hello \", held until the ACK of \
         the first small segment came back; with TCP_NODELAY, {:.1} ms after it",
        gaps[0], gaps[1]
    ));
    ack_words(nagle, &mut out);
    teardown_words(nagle, rtt, &mut out);
    out.happened.push(where_timed(nagle, imp.delay));
    out.parts
        .push(Part::trace("20 ms each way, Nagle on", runs.remove(0)));
    out.parts
        .push(Part::trace("20 ms each way, TCP_NODELAY", runs.remove(0)));
    Ok(out)
}

/// How the server acknowledged each write: alone at once, or on its reply.
fn ack_words(r: &TraceReport, out: &mut Outcome) {
    let p = &r.packets;
    let acker = |data: u64| {
        p.iter()
            .find(|x| !from_client(x) && x.findings().acks_frame == Some(data))
    };
    let words: Vec<String> = client_data(p)
        .into_iter()
        .take(2)
        .filter_map(|d| acker(d).map(|a| (d, a)))
        .map(|(d, a)| match a.payload_len {
            0 => format!("#{d} by a bare ACK (#{})", a.number),
            n => format!("#{d} on its {n}-byte reply (#{})", a.number),
        })
        .collect();
    if words.is_empty() {
        return;
    }
    out.happened.push(format!(
        "delayed ACK: the server's kernel acknowledged {}; Linux acknowledges the first \
         segments of a connection at once (quick-ACK mode); later ones it may hold back \
         (its delayed-ACK timer: 40 to 200 ms) to ride on a reply",
        words.join(", ")
    ));
}

/// How long the close took and the whole exchange, in round trips.
fn teardown_words(r: &TraceReport, rtt: f64, out: &mut Outcome) {
    let p = &r.packets;
    let fin = p.iter().find(|x| from_client(x) && has(x, Flags::FIN));
    let (Some(fin), Some(last)) = (fin, p.last()) else {
        return;
    };
    let close = last.ts.secs_since(fin.ts) * 1e3;
    let total = last.ts.secs_since(p[0].ts) * 1e3;
    out.check("closing takes about one more round trip", close > 0.8 * rtt);
    out.happened.push(format!(
        "the client's FIN to the last ACK: {close:.1} ms; the whole exchange {total:.1} ms, \
         {:.1} round trips: on a 40 ms path, waiting dominates and the bytes cost nothing",
        total / rtt.max(0.001)
    ));
}
