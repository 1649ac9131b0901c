//! How TCP found out a segment was lost, read from a capture: for each
//! retransmission, what the sender had seen since it last sent those
//! bytes. Duplicate ACKs mean the receiver told it (fast retransmit, or
//! SACK-based detection before the third duplicate); silence means a timer
//! fired. Which timer (the retransmission timeout or a tail-loss probe) the
//! capture alone cannot say: the impaired path asks each side's kernel.

use super::{Analysis, Direction, Packet};

/// What came back before the retransmission.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// tshark's fast retransmission: duplicate ACKs asking for these bytes.
    FastRetransmit { dup_acks: u32, sack: Vec<[u32; 2]> },
    /// Duplicate ACKs came back, too few for tshark's rule; their SACK
    /// blocks showed the hole (Linux's RACK/SACK loss detection).
    Sack { dup_acks: u32, sack: Vec<[u32; 2]> },
    /// Nothing: a timer fired.
    Timer,
}

/// One retransmission and how it was prompted.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    /// The retransmission's frame.
    pub frame: u64,
    /// The last earlier frame that carried these bytes.
    pub previous: u64,
    /// Milliseconds from `previous` to the retransmission.
    pub waited_ms: f64,
    pub direction: Direction,
    pub found: Found,
}

/// Every retransmission with data (or a FIN) in `packets`, in order.
pub fn recoveries(packets: &[Packet]) -> Vec<Recovery> {
    let mut out = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        let (Some(flow), Some(tcp)) = (p.flow, &p.tcp) else {
            continue;
        };
        let flags = flow.findings.flags;
        // tshark calls a resend that comes within an RTT of the newest
        // segment "out of order"; it is a resend all the same.
        let resent = [
            Analysis::RETRANSMISSION,
            Analysis::FAST_RETRANSMISSION,
            Analysis::OUT_OF_ORDER,
        ];
        if !resent.iter().any(|&a| flags.contains(a)) {
            continue;
        }
        let same_bytes = |q: &&Packet| {
            q.flow.is_some_and(|f| {
                f.stream == flow.stream
                    && f.direction == flow.direction
                    && f.seq <= flow.seq
                    && flow.seq < f.seq + (q.payload_len as u32).max(1)
            })
        };
        let Some((j, prev)) = packets[..i]
            .iter()
            .enumerate()
            .rev()
            .find(|(_, q)| same_bytes(q))
        else {
            continue;
        };
        // SACK edges are raw; shown relative to the retransmitter's ISN.
        let base = tcp.seq.wrapping_sub(flow.seq);
        let (dup_acks, sack) =
            replies_between(&packets[j + 1..i], flow.stream, flow.direction, base);
        let found = if flags.contains(Analysis::FAST_RETRANSMISSION) {
            Found::FastRetransmit { dup_acks, sack }
        } else if dup_acks > 0 || !sack.is_empty() {
            Found::Sack { dup_acks, sack }
        } else {
            Found::Timer
        };
        out.push(Recovery {
            frame: p.number,
            previous: prev.number,
            waited_ms: p.ts.secs_since(prev.ts) * 1e3,
            direction: flow.direction,
            found,
        });
    }
    out
}

/// The peer's duplicate ACKs among `between`, and the SACK blocks of the
/// last ACK that carried any (relative to `base`).
fn replies_between(
    between: &[Packet],
    stream: u32,
    sender: Direction,
    base: u32,
) -> (u32, Vec<[u32; 2]>) {
    let mut dup_acks = 0;
    let mut sack = Vec::new();
    for q in between {
        let Some(f) = q.flow else { continue };
        if f.stream != stream || f.direction == sender {
            continue;
        }
        if f.findings.dup_ack_num > 0 {
            dup_acks += 1;
        }
        let blocks = q.options().map(|o| o.sack).unwrap_or_default();
        if !blocks.is_empty() {
            sack = blocks
                .iter()
                .map(|b| [b[0].wrapping_sub(base), b[1].wrapping_sub(base)])
                .collect();
        }
    }
    (dup_acks, sack)
}
