//! Wireshark's TCP analysis (its user guide, "TCP Analysis"; the rules of
//! `tcp_analyze_sequence_number` in epan/dissectors/packet-tcp.c), one
//! segment at a time, single pass, as tshark does without `-2`.
//!
//! Comparisons use raw sequence numbers modulo 2^32; "0" stands for "not
//! known yet", as in Wireshark. Per direction the state is bounded: at most
//! [`MAX_UNACKED`] segments wait for their ACK.

use std::collections::VecDeque;

use super::Segment;
use crate::decode::Flags;
use crate::values::SeqNumber;
use crate::values::Timestamp;

/// Wireshark's TCP_MAX_UNACKED_SEGMENTS.
pub const MAX_UNACKED: usize = 10_000;

/// The analysis flags of one segment, a set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Analysis(u16);

impl Analysis {
    pub const RETRANSMISSION: Analysis = Analysis(1);
    pub const FAST_RETRANSMISSION: Analysis = Analysis(1 << 1);
    pub const SPURIOUS_RETRANSMISSION: Analysis = Analysis(1 << 2);
    pub const OUT_OF_ORDER: Analysis = Analysis(1 << 3);
    pub const LOST_SEGMENT: Analysis = Analysis(1 << 4);
    pub const ACK_LOST_SEGMENT: Analysis = Analysis(1 << 5);
    pub const DUPLICATE_ACK: Analysis = Analysis(1 << 6);
    pub const ZERO_WINDOW: Analysis = Analysis(1 << 7);
    pub const WINDOW_FULL: Analysis = Analysis(1 << 8);
    pub const WINDOW_UPDATE: Analysis = Analysis(1 << 9);
    pub const KEEP_ALIVE: Analysis = Analysis(1 << 10);
    pub const KEEP_ALIVE_ACK: Analysis = Analysis(1 << 11);
    pub const ZERO_WINDOW_PROBE: Analysis = Analysis(1 << 12);
    pub const ZERO_WINDOW_PROBE_ACK: Analysis = Analysis(1 << 13);

    /// Record names, in SPEC.md's order. Fast and spurious retransmissions
    /// are retransmissions too (tshark's `tcp.analysis.retransmission` is
    /// set on them).
    const NAMED: [(Analysis, &'static str); 12] = [
        (Analysis(1 | 1 << 1 | 1 << 2), "retransmission"),
        (Analysis::FAST_RETRANSMISSION, "fast_retransmission"),
        (Analysis::SPURIOUS_RETRANSMISSION, "spurious_retransmission"),
        (Analysis::OUT_OF_ORDER, "out_of_order"),
        (Analysis::LOST_SEGMENT, "lost_segment"),
        (Analysis::ACK_LOST_SEGMENT, "ack_lost_segment"),
        (Analysis::DUPLICATE_ACK, "duplicate_ack"),
        (Analysis::ZERO_WINDOW, "zero_window"),
        (Analysis::WINDOW_FULL, "window_full"),
        (Analysis::WINDOW_UPDATE, "window_update"),
        (Analysis::KEEP_ALIVE, "keep_alive"),
        (Analysis::KEEP_ALIVE_ACK, "keep_alive_ack"),
    ];

    pub fn contains(self, other: Analysis) -> bool {
        self.0 & other.0 == other.0
    }

    fn intersects(self, other: Analysis) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn insert(&mut self, other: Analysis) {
        self.0 |= other.0;
    }

    /// The names for the record's `analysis` array.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED
            .iter()
            .filter(|(a, _)| self.intersects(*a))
            .map(|(_, n)| *n)
            .collect()
    }

    /// Positions in [`Analysis::all_names`] of the flags set, without allocating.
    pub fn indices(self) -> impl Iterator<Item = usize> {
        Self::NAMED
            .iter()
            .enumerate()
            .filter(move |(_, (a, _))| self.intersects(*a))
            .map(|(i, _)| i)
    }

    /// Every flag's name, for the summary's columns.
    pub fn all_names() -> impl Iterator<Item = &'static str> {
        Self::NAMED.iter().map(|(_, n)| *n)
    }
}

/// What the analysis found for one segment, with the facts its explanation needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Findings {
    pub flags: Analysis,
    /// Which duplicate of the ACK this is (1 for the first duplicate).
    pub dup_ack_num: u32,
    /// The frame whose ACK this one duplicates.
    pub dup_ack_frame: u64,
    /// For a retransmission: the frame that first carried these bytes, if seen.
    pub original_frame: Option<u64>,
    /// The frame this segment acknowledges in full, if any (`tcp.analysis.acks_frame`).
    pub acks_frame: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Unacked {
    frame: u64,
    seq: SeqNumber,
    nextseq: SeqNumber,
}

/// Window scaling as Wireshark tracks it: unknown until a SYN is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Unknown,
    /// The handshake was seen without scaling on both sides.
    Off,
    Shift(u8),
}

/// One direction's state (Wireshark's `tcp_flow_t` and its seq info).
#[derive(Debug, Clone)]
struct Side {
    nextseq: u32,
    nextseq_frame: u64,
    nextseq_time: Timestamp,
    maxseqtobeacked: u32,
    lastack: u32,
    lastack_time: Timestamp,
    lastnondupack: u64,
    dupacknum: u32,
    window: u32,
    scale: Scale,
    is_first_ack: bool,
    lastsegmentflags: Analysis,
    unacked: VecDeque<Unacked>,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            nextseq: 0,
            nextseq_frame: 0,
            nextseq_time: Timestamp::default(),
            maxseqtobeacked: 0,
            lastack: 0,
            lastack_time: Timestamp::default(),
            lastnondupack: 0,
            dupacknum: 0,
            window: 0,
            scale: Scale::Unknown,
            is_first_ack: true,
            lastsegmentflags: Analysis::default(),
            unacked: VecDeque::new(),
        }
    }
}

fn gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}
fn lt(a: u32, b: u32) -> bool {
    gt(b, a)
}
fn le(a: u32, b: u32) -> bool {
    !gt(a, b)
}

fn nanos_between(later: Timestamp, earlier: Timestamp) -> i128 {
    (i128::from(later.sec) - i128::from(earlier.sec)) * 1_000_000_000 + i128::from(later.nsec)
        - i128::from(earlier.nsec)
}

/// Both directions of one connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectionAnalysis {
    sides: [Side; 2],
    syn_time: Option<Timestamp>,
    first_rtt_ns: Option<i128>,
}

impl ConnectionAnalysis {
    /// Analyses segment `seg` (frame number `frame`, captured at `ts`) sent
    /// from side `me` (0 client, 1 server); `wscale` is its window-scale
    /// option, if it carried one.
    pub fn observe(
        &mut self,
        frame: u64,
        ts: Timestamp,
        seg: &Segment,
        me: usize,
        wscale: Option<u8>,
    ) -> Findings {
        let f = seg.flags;
        let (seq, ack, seglen) = (seg.seq.0, seg.ack.0, seg.payload_len);
        let window = u32::from(seg.window);
        let syn_fin_rst =
            f.contains(Flags::SYN) || f.contains(Flags::FIN) || f.contains(Flags::RST);
        let syn_or_fin = f.contains(Flags::SYN) || f.contains(Flags::FIN);
        self.handshake_facts(ts, seg, me, wscale);
        let mut out = Findings::default();
        let a = &mut out.flags;

        'fwd: {
            let (fwd, rev) = pair(&mut self.sides, me);
            if seglen == 1 && seq == fwd.nextseq && rev.window == 0 {
                a.insert(Analysis::ZERO_WINDOW_PROBE);
                break 'fwd;
            }
            if window == 0 && !syn_fin_rst {
                a.insert(Analysis::ZERO_WINDOW);
            }
            if fwd.nextseq != 0 && gt(seq, fwd.nextseq) && !f.contains(Flags::RST) {
                a.insert(Analysis::LOST_SEGMENT);
            }
            if (seglen == 0 || seglen == 1) && seq == fwd.nextseq.wrapping_sub(1) && !syn_fin_rst {
                a.insert(Analysis::KEEP_ALIVE);
            }
            let same_place =
                seglen == 0 && seq == fwd.nextseq && ack == fwd.lastack && !syn_fin_rst;
            if same_place && window != 0 && window != fwd.window {
                a.insert(Analysis::WINDOW_UPDATE);
            }
            if seglen > 0 && rev.scale != Scale::Unknown && !syn_fin_rst {
                let shift = match (rev.is_first_ack, rev.scale) {
                    (true, _) | (_, Scale::Off) | (_, Scale::Unknown) => 0,
                    (false, Scale::Shift(s)) => u32::from(s),
                };
                let edge = rev
                    .lastack
                    .wrapping_add(rev.window.checked_shl(shift).unwrap_or(0));
                if seq.wrapping_add(seglen) == edge {
                    a.insert(Analysis::WINDOW_FULL);
                }
            }
            if same_place
                && window != 0
                && window == fwd.window
                && rev.lastsegmentflags.contains(Analysis::KEEP_ALIVE)
            {
                a.insert(Analysis::KEEP_ALIVE_ACK);
                break 'fwd;
            }
            if same_place
                && window == 0
                && window == fwd.window
                && rev.lastsegmentflags.contains(Analysis::ZERO_WINDOW_PROBE)
            {
                a.insert(Analysis::ZERO_WINDOW_PROBE_ACK);
                break 'fwd;
            }
            if same_place && window != 0 && window == fwd.window {
                fwd.dupacknum += 1;
                a.insert(Analysis::DUPLICATE_ACK);
                out.dup_ack_num = fwd.dupacknum;
                out.dup_ack_frame = fwd.lastnondupack;
            }
        }

        let (fwd, rev) = pair(&mut self.sides, me);
        if ack != fwd.lastack {
            fwd.lastnondupack = frame;
            fwd.dupacknum = 0;
        }
        // tshark 4.0's rule: flag, then move the mark so the same gap is
        // flagged once (later Wiresharks track this differently).
        if rev.maxseqtobeacked != 0 && gt(ack, rev.maxseqtobeacked) && f.contains(Flags::ACK) {
            a.insert(Analysis::ACK_LOST_SEGMENT);
            rev.maxseqtobeacked = rev.nextseq;
        }

        'retrans: {
            if !(seglen > 0 || syn_or_fin) {
                break 'retrans;
            }
            let mut not_advanced = fwd.nextseq != 0 && lt(seq, fwd.nextseq);
            if a.contains(Analysis::KEEP_ALIVE) {
                break 'retrans;
            }
            if seglen > 1 && fwd.nextseq.wrapping_sub(1) == seq {
                not_advanced = false;
            }
            if seglen > 0 && rev.lastack != 0 && le(seq.wrapping_add(seglen), rev.lastack) {
                a.insert(Analysis::SPURIOUS_RETRANSMISSION);
                out.original_frame = first_sender(fwd, seq);
                break 'retrans;
            }
            let since_dup = nanos_between(ts, rev.lastack_time);
            if not_advanced && rev.dupacknum >= 2 && rev.lastack == seq && since_dup < 20_000_000 {
                a.insert(Analysis::FAST_RETRANSMISSION);
                out.original_frame = first_sender(fwd, seq);
                break 'retrans;
            }
            let since_next = nanos_between(ts, fwd.nextseq_time);
            let threshold = self.first_rtt_ns.filter(|&r| r != 0).unwrap_or(3_000_000);
            let end = seq.wrapping_add(seglen).wrapping_add(u32::from(syn_or_fin));
            if not_advanced && since_next < threshold && fwd.nextseq != end {
                a.insert(Analysis::OUT_OF_ORDER);
                break 'retrans;
            }
            if not_advanced {
                a.insert(Analysis::RETRANSMISSION);
                out.original_frame = first_sender(fwd, seq);
            }
        }

        let mut nextseq = seq.wrapping_add(seglen);
        if (seglen > 0 || syn_or_fin) && fwd.unacked.len() < MAX_UNACKED {
            if syn_or_fin {
                nextseq = nextseq.wrapping_add(1);
            }
            fwd.unacked.push_front(Unacked {
                frame,
                seq: SeqNumber(seq),
                nextseq: SeqNumber(nextseq),
            });
        }
        let probe = a.contains(Analysis::ZERO_WINDOW_PROBE);
        if (gt(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !probe {
            fwd.nextseq = nextseq;
            fwd.nextseq_frame = frame;
            fwd.nextseq_time = ts;
        }
        if (seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !probe {
            fwd.maxseqtobeacked = fwd.nextseq;
        }
        fwd.window = window;
        fwd.lastack = ack;
        fwd.lastack_time = ts;
        fwd.lastsegmentflags = *a;
        if !f.contains(Flags::SYN) {
            fwd.is_first_ack = false;
        }
        out.acks_frame = acknowledge(rev, ack);
        out
    }

    /// The window of a segment from side `me` in bytes, as tshark's
    /// `tcp.window_size`: shifted by the side's scale once the handshake
    /// showed both sides agree to scale; SYNs are never scaled (RFC 7323 §2.2).
    pub fn scaled_window(&self, me: usize, seg: &Segment) -> u32 {
        let raw = u32::from(seg.window);
        match self.sides[me].scale {
            Scale::Shift(s) if !seg.flags.contains(Flags::SYN) => raw << s,
            _ => raw,
        }
    }

    /// Records what the handshake teaches: window scales and the first RTT.
    fn handshake_facts(&mut self, ts: Timestamp, seg: &Segment, me: usize, wscale: Option<u8>) {
        let f = seg.flags;
        if f.contains(Flags::SYN) {
            if !f.contains(Flags::ACK) {
                self.syn_time = Some(ts);
            }
            self.sides[me].scale = match wscale {
                Some(s) => Scale::Shift(s.min(14)),
                None => Scale::Off,
            };
            // Scaling holds only if both SYNs carried the option (RFC 7323 §2.2).
            if f.contains(Flags::ACK)
                && (wscale.is_none() || self.sides[1 - me].scale == Scale::Off)
            {
                self.sides[0].scale = Scale::Off;
                self.sides[1].scale = Scale::Off;
            }
        } else if f.contains(Flags::ACK) && self.first_rtt_ns.is_none() {
            if let Some(syn) = self.syn_time {
                self.first_rtt_ns = Some(nanos_between(ts, syn));
            }
        }
    }
}

fn pair(sides: &mut [Side; 2], me: usize) -> (&mut Side, &mut Side) {
    let [a, b] = sides;
    if me == 0 {
        (a, b)
    } else {
        (b, a)
    }
}

/// The oldest unacked segment that carried `seq`.
fn first_sender(side: &Side, seq: u32) -> Option<u64> {
    side.unacked
        .iter()
        .rev()
        .find(|u| !gt(u.seq.0, seq) && gt(u.nextseq.0, seq))
        .or_else(|| side.unacked.iter().rev().find(|u| u.seq.0 == seq))
        .map(|u| u.frame)
}

/// Drops the segments `ack` acknowledges from the peer's list; returns the
/// frame whose end it acknowledges exactly, as Wireshark's `acks_frame`.
fn acknowledge(rev: &mut Side, ack: u32) -> Option<u64> {
    let mut acked = None;
    // Newest first, as Wireshark walks its list: the oldest exact match wins.
    rev.unacked.retain_mut(|u| {
        if ack == u.nextseq.0 {
            acked = Some(u.frame);
            false
        } else if gt(u.nextseq.0, ack) {
            if gt(ack, u.seq.0) {
                u.seq = SeqNumber(ack);
            }
            true
        } else {
            false
        }
    });
    acked
}
