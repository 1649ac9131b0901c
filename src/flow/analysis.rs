//! Wireshark's TCP analysis (its user guide, "TCP Analysis"; the rules of
//! `tcp_analyze_sequence_number` in epan/dissectors/packet-tcp.c), one
//! segment at a time, single pass, as tshark does without `-2`.
//!
//! Comparisons use raw sequence numbers modulo 2^32; "0" stands for "not
//! known yet", as in Wireshark. Per direction the state is bounded: at most
//! [`MAX_UNACKED`](super::MAX_UNACKED) segments wait for their ACK.

use super::unacked::{Pending, Unacked};
use super::Segment;
use crate::decode::Flags;
use crate::values::{Elapsed, SeqNumber, Timestamp};

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
    /// How many flags have names (`all_names().count()`).
    pub const NAMED_COUNT: usize = 12;

    const NAMED: [(Analysis, &'static str); Self::NAMED_COUNT] = [
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

    /// The flags of `self` that are not in `other`.
    pub fn without(self, other: Analysis) -> Analysis {
        Analysis(self.0 & !other.0)
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
    /// The time since `acks_frame` was captured, when not zero (`tcp.analysis.ack_rtt`).
    pub ack_rtt: Option<Elapsed>,
    /// Bytes this side has sent and not yet seen acknowledged, counting
    /// this segment (`tcp.analysis.bytes_in_flight`): only on a segment
    /// with payload, and not from a segment after a gap until the peer ACKs.
    pub bytes_in_flight: Option<u32>,
    /// The handshake's round trip, SYN to the first ACK after it
    /// (`tcp.analysis.initial_rtt`), once known. As tshark, only on a
    /// segment its analysis says something else about: a flag, an
    /// acknowledged frame, or bytes in flight.
    pub initial_rtt: Option<Elapsed>,
    /// The peer's last segment advertised a zero window. No flag of
    /// tshark's: it tells the words apart, since Linux's persist timer
    /// probes a zero window with a keep-alive's shape (no payload, seq one
    /// below the next), which tshark 4.0 flags `keep_alive`.
    pub peer_window_zero: bool,
    /// This segment opens the window this side had closed: its previous
    /// segment advertised zero, this one does not.
    pub reopens: bool,
}

/// One side's window scaling as Wireshark tracks it: unknown until a SYN
/// is seen, then a shift, or off when either SYN went without the option
/// (RFC 7323 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WindowScale {
    #[default]
    Unknown,
    Off,
    Shift(u8),
}

impl WindowScale {
    /// tshark's `tcp.window_size_scalefactor`: -1 unknown, -2 no scaling,
    /// else the multiplier (`1 << shift`).
    pub fn factor(self) -> i32 {
        match self {
            WindowScale::Unknown => -1,
            WindowScale::Off => -2,
            WindowScale::Shift(s) => 1 << s,
        }
    }

    /// A (non-SYN) window field in bytes: shifted when the scale is known;
    /// unknown reads as unscaled, as tshark's default preference does.
    pub fn apply(self, raw: u16) -> u32 {
        match self {
            WindowScale::Shift(s) => u32::from(raw) << s,
            _ => u32::from(raw),
        }
    }
}

/// One direction's state (Wireshark's `tcp_flow_t` and its seq info).
#[derive(Debug, Clone)]
struct Side {
    nextseq: u32,
    nextseq_time: Timestamp,
    maxseqtobeacked: u32,
    lastack: u32,
    lastack_time: Timestamp,
    lastnondupack: u64,
    /// Duplicate ACKs this side sent in a row, or [`ACKED_UNSEEN`].
    dupacknum: u32,
    /// The raw window of this side's last segment; [`NO_WINDOW_YET`] before one.
    window: u32,
    is_first_ack: bool,
    /// Wireshark's `valid_bif`: false from a segment after a gap until the
    /// peer sends an ACK (bytes in flight would count the hole).
    valid_bif: bool,
    /// Bytes the SACK option of this side's latest segment covered (0
    /// without one): the peer's bytes in flight leave them out.
    sacked: u32,
    lastsegmentflags: Analysis,
    unacked: Pending,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            nextseq: 0,
            nextseq_time: Timestamp::default(),
            maxseqtobeacked: 0,
            lastack: 0,
            lastack_time: Timestamp::default(),
            lastnondupack: 0,
            dupacknum: 0,
            window: NO_WINDOW_YET,
            is_first_ack: true,
            valid_bif: true,
            sacked: 0,
            lastsegmentflags: Analysis::default(),
            unacked: Pending::Empty,
        }
    }
}

/// The window of a side that has not sent yet: Wireshark's `G_MAXUINT32`,
/// so the peer's first 1-byte segment is no zero-window probe (a window of
/// 0 was never advertised) and no repeated-ACK rule matches it.
const NO_WINDOW_YET: u32 = u32::MAX;

/// Wireshark's `dupacknum = -1` (its counter is unsigned): the peer ACKed
/// data this side was not seen to send. As a count it is past 2, so this
/// side's next duplicate-looking ACK is number 1 again and the peer's next
/// retransmission at this side's ACK is a fast one.
const ACKED_UNSEEN: u32 = u32::MAX;

/// Wireshark's `GT_SEQ`, `LT_SEQ` and `LE_SEQ` on raw numbers, by [`SeqNumber`]'s one rule.
fn gt(a: u32, b: u32) -> bool {
    SeqNumber(a).after(SeqNumber(b))
}
fn lt(a: u32, b: u32) -> bool {
    gt(b, a)
}
fn le(a: u32, b: u32) -> bool {
    !gt(a, b)
}

/// The facts of one segment that the rules read.
#[derive(Debug, Clone, Copy)]
struct Seen {
    frame: u64,
    ts: Timestamp,
    flags: Flags,
    seq: u32,
    ack: u32,
    len: u32,
    window: u32,
}

impl Seen {
    fn syn_fin_rst(&self) -> bool {
        self.syn_or_fin() || self.flags.contains(Flags::RST)
    }

    fn syn_or_fin(&self) -> bool {
        self.flags.contains(Flags::SYN) || self.flags.contains(Flags::FIN)
    }

    /// No payload, no SYN/FIN/RST, and the same seq and ack as the
    /// sender's last segment: the shape of a window update or a repeated ACK.
    fn same_place(&self, fwd: &Side) -> bool {
        self.len == 0 && self.seq == fwd.nextseq && self.ack == fwd.lastack && !self.syn_fin_rst()
    }
}

/// Both directions of one connection. A side is allocated when it first
/// sends (a SYN nobody answers costs one side), and both are dropped by
/// [`ConnectionAnalysis::retire`]; the window scales, which the handshake
/// alone teaches, are kept beside them (4 bytes, and a SYN without the
/// option sets the peer's too without allocating it).
#[derive(Debug, Clone, Default)]
pub struct ConnectionAnalysis {
    sides: [Option<Box<Side>>; 2],
    scales: [WindowScale; 2],
    rtt: FirstRtt,
}

/// The handshake's first round trip, which bounds an out-of-order segment.
#[derive(Debug, Clone, Copy, Default)]
enum FirstRtt {
    #[default]
    Unknown,
    /// The time of the last SYN, until an ACK follows it.
    SynAt(Timestamp),
    /// From the SYN to the first ACK after it; never zero (Wireshark reads
    /// a zero as "not known" and measures again at the next ACK).
    Known(Elapsed),
}

impl FirstRtt {
    fn known(self) -> Option<Elapsed> {
        match self {
            FirstRtt::Known(rtt) => Some(rtt),
            _ => None,
        }
    }
}

impl ConnectionAnalysis {
    /// Analyses segment `seg` (frame number `frame`, captured at `ts`) sent
    /// from side `me` (0 client, 1 server), whose initial sequence number
    /// is `base` (bytes in flight are measured from it, as in Wireshark).
    ///
    /// The rule families run in Wireshark's order on the state the earlier
    /// segments left. Only the duplicate-ACK count and the lost-ACK mark
    /// change inside a rule; `Side::advance` and `measure` move the rest.
    pub fn observe(
        &mut self,
        frame: u64,
        ts: Timestamp,
        seg: &Segment,
        me: usize,
        base: SeqNumber,
    ) -> Findings {
        let s = Seen {
            frame,
            ts,
            flags: seg.flags,
            seq: seg.seq.0,
            ack: seg.ack.0,
            len: seg.payload_len,
            window: u32::from(seg.window),
        };
        self.handshake_facts(ts, seg, me);
        let first_rtt = self.rtt.known();
        let peer_scale = self.scales[1 - me];
        let mut out = Findings::default();
        let [a, b] = &mut self.sides;
        let (fwd, rev) = if me == 0 { (a, b) } else { (b, a) };
        let fwd = fwd.get_or_insert_with(Default::default);
        // A side that never sent reads as a fresh one; the rules change
        // nothing in it (nothing of it waits for an ACK), so none is kept.
        let mut unseen;
        let rev = match rev.as_deref_mut() {
            Some(rev) => rev,
            None => {
                unseen = Side::default();
                &mut unseen
            }
        };
        if s.flags.contains(Flags::ACK) {
            rev.valid_bif = true;
        }
        // Before `advance`: the windows each side last advertised.
        out.peer_window_zero = rev.window == 0;
        out.reopens = fwd.window == 0 && s.window != 0;
        fwd.sacked = seg.sacked;
        // A zero-window probe skips the window and repeated-ACK rules, as in Wireshark.
        if s.len == 1 && s.seq == fwd.nextseq && rev.window == 0 {
            out.flags.insert(Analysis::ZERO_WINDOW_PROBE);
        } else {
            out.flags.insert(window_rules(fwd, rev, peer_scale, &s));
            if out.flags.contains(Analysis::LOST_SEGMENT) {
                fwd.valid_bif = false;
            }
            repeated_ack_rules(fwd, rev, &s, &mut out);
        }
        let past_mark = new_ack_rules(fwd, rev, &s, &mut out.flags);
        let first_rtt_ns = first_rtt.map(|r| i128::from(r.0));
        retransmission_rules(fwd, rev, &s, first_rtt_ns, &mut out);
        fwd.advance(&s, out.flags);
        let counted = measure(fwd, rev, &s, base, &mut out);
        // tshark prints the iRTT inside its analysis of a frame, which it
        // makes only when there is something else to say, or when a rule
        // looked further without a flag coming of it: bytes in flight
        // counted (even to a count it does not show), an ACK past the
        // peer's mark that is not flagged again.
        if counted || past_mark || !out.flags.is_empty() || out.acks_frame.is_some() {
            out.initial_rtt = first_rtt;
        }
        out
    }

    /// The window scaling of side `me` as known now.
    pub fn scale(&self, me: usize) -> WindowScale {
        self.scales[me]
    }

    /// The window of a segment from side `me` in bytes, as tshark's
    /// `tcp.window_size`: shifted by the side's scale once the handshake
    /// showed both sides agree to scale; SYNs are never scaled (RFC 7323 §2.2).
    pub fn scaled_window(&self, me: usize, seg: &Segment) -> u32 {
        if seg.flags.contains(Flags::SYN) {
            u32::from(seg.window)
        } else {
            self.scales[me].apply(seg.window)
        }
    }

    /// Records what the handshake teaches: window scales and the first RTT.
    fn handshake_facts(&mut self, ts: Timestamp, seg: &Segment, me: usize) {
        let f = seg.flags;
        if f.contains(Flags::SYN) {
            if !f.contains(Flags::ACK) && !matches!(self.rtt, FirstRtt::Known(_)) {
                self.rtt = FirstRtt::SynAt(ts);
            }
            let [fwd, rev] = if me == 0 {
                let [a, b] = &mut self.scales;
                [a, b]
            } else {
                let [a, b] = &mut self.scales;
                [b, a]
            };
            if let Some(shift) = seg.wscale {
                *fwd = WindowScale::Shift(shift.min(14));
            }
            // Wireshark's verify_tcp_window_scaling: scaling holds only if
            // both SYNs carried the option (RFC 7323 §2.2); a SYN without it
            // settles both sides, in case the SYN-ACK is not captured.
            if *fwd == WindowScale::Unknown {
                *fwd = WindowScale::Off;
                *rev = WindowScale::Off;
            } else if f.contains(Flags::ACK) && *rev == WindowScale::Off {
                *fwd = WindowScale::Off;
            }
        } else if f.contains(Flags::ACK) {
            if let FirstRtt::SynAt(syn) = self.rtt {
                let rtt = Elapsed::between(syn, ts);
                if !rtt.is_zero() {
                    self.rtt = FirstRtt::Known(rtt);
                }
            }
        }
    }

    /// Forgets both sides' sequence state (what a closed connection no
    /// longer needs); a later segment starts them afresh, as a capture that
    /// begins mid-connection would.
    pub fn retire(&mut self) {
        self.sides = [None, None];
    }
}

/// What the sender's position and the two windows say: a zero window, a
/// gap before this segment (lost segment), a keep-alive, a window update,
/// and a segment that fills the receiver's window.
fn window_rules(fwd: &Side, rev: &Side, rev_scale: WindowScale, s: &Seen) -> Analysis {
    let mut a = Analysis::default();
    if s.window == 0 && !s.syn_fin_rst() {
        a.insert(Analysis::ZERO_WINDOW);
    }
    if fwd.nextseq != 0 && gt(s.seq, fwd.nextseq) && !s.flags.contains(Flags::RST) {
        a.insert(Analysis::LOST_SEGMENT);
    }
    if (s.len == 0 || s.len == 1) && s.seq == fwd.nextseq.wrapping_sub(1) && !s.syn_fin_rst() {
        a.insert(Analysis::KEEP_ALIVE);
    }
    if s.same_place(fwd) && s.window != 0 && s.window != fwd.window {
        a.insert(Analysis::WINDOW_UPDATE);
    }
    if s.len > 0 && rev_scale != WindowScale::Unknown && !s.syn_fin_rst() {
        let shift = match (rev.is_first_ack, rev_scale) {
            (false, WindowScale::Shift(s)) => u32::from(s),
            _ => 0,
        };
        let edge = rev
            .lastack
            .wrapping_add(rev.window.checked_shl(shift).unwrap_or(0));
        if s.seq.wrapping_add(s.len) == edge {
            a.insert(Analysis::WINDOW_FULL);
        }
    }
    a
}

/// An ACK that repeats the sender's last one with the same window: the
/// answer to a keep-alive or to a zero-window probe, or else a duplicate
/// ACK (counted, and pointing at the ACK it duplicates).
fn repeated_ack_rules(fwd: &mut Side, rev: &Side, s: &Seen, out: &mut Findings) {
    if !s.same_place(fwd) || s.window != fwd.window {
        return;
    }
    if s.window != 0 && rev.lastsegmentflags.contains(Analysis::KEEP_ALIVE) {
        out.flags.insert(Analysis::KEEP_ALIVE_ACK);
    } else if s.window == 0 && rev.lastsegmentflags.contains(Analysis::ZERO_WINDOW_PROBE) {
        out.flags.insert(Analysis::ZERO_WINDOW_PROBE_ACK);
    } else if s.window != 0 {
        fwd.dupacknum = match fwd.dupacknum {
            ACKED_UNSEEN => 1,
            n => n + 1,
        };
        out.flags.insert(Analysis::DUPLICATE_ACK);
        out.dup_ack_num = fwd.dupacknum;
        out.dup_ack_frame = fwd.lastnondupack;
    }
}

/// A new ACK restarts the duplicate count; an ACK past everything the peer
/// sent without a gap acknowledges a segment the capture missed. True when
/// the ACK is past the peer's mark, flagged or not: Wireshark allocates the
/// frame's analysis there before it decides on the flag, so the frame then
/// shows the iRTT.
fn new_ack_rules(fwd: &mut Side, rev: &mut Side, s: &Seen, a: &mut Analysis) -> bool {
    if s.ack != fwd.lastack {
        fwd.lastnondupack = s.frame;
        fwd.dupacknum = 0;
    }
    if rev.maxseqtobeacked == 0 || !gt(s.ack, rev.maxseqtobeacked) || !s.flags.contains(Flags::ACK)
    {
        return false;
    }
    // tshark 4.0.17 as it behaves on crafted captures (a packet-tcp.c of
    // the same era tests the hole the other way round, which 4.0.17 does
    // not do: tests/analysis_rules.rs and bgp-role.pcapng): when the peer's
    // data has a hole (its mark is behind its next seq), the ACK moves the
    // mark past it and is flagged. Otherwise the ACK is past everything
    // the peer was seen to send: it is flagged only while the peer's
    // duplicate-ACK count is 0, and the count becomes ACKED_UNSEEN, so a
    // second ACK of the same unseen bytes is not flagged again (until the
    // peer's ACK moves) and this side's next retransmissions at the peer's
    // ACK are fast ones.
    if lt(rev.maxseqtobeacked, rev.nextseq) {
        rev.maxseqtobeacked = rev.nextseq;
        a.insert(Analysis::ACK_LOST_SEGMENT);
    } else {
        if rev.dupacknum == 0 {
            a.insert(Analysis::ACK_LOST_SEGMENT);
        }
        rev.dupacknum = ACKED_UNSEEN;
    }
    true
}

/// A segment that occupies sequence space the sender already used: a
/// spurious, fast or plain retransmission, or out of order; the first rule
/// that matches wins. Keep-alives are none of these.
fn retransmission_rules(
    fwd: &Side,
    rev: &Side,
    s: &Seen,
    first_rtt_ns: Option<i128>,
    out: &mut Findings,
) {
    if !(s.len > 0 || s.syn_or_fin()) || out.flags.contains(Analysis::KEEP_ALIVE) {
        return;
    }
    let mut not_advanced = fwd.nextseq != 0 && lt(s.seq, fwd.nextseq);
    if s.len > 1 && fwd.nextseq.wrapping_sub(1) == s.seq {
        not_advanced = false;
    }
    if s.len > 0 && rev.lastack != 0 && le(s.seq.wrapping_add(s.len), rev.lastack) {
        out.flags.insert(Analysis::SPURIOUS_RETRANSMISSION);
        out.original_frame = fwd.unacked.first_sender(SeqNumber(s.seq));
        return;
    }
    let since_dup = s.ts.nanos_since(rev.lastack_time);
    if not_advanced && rev.dupacknum >= 2 && rev.lastack == s.seq && since_dup < 20_000_000 {
        out.flags.insert(Analysis::FAST_RETRANSMISSION);
        out.original_frame = fwd.unacked.first_sender(SeqNumber(s.seq));
        return;
    }
    let since_next = s.ts.nanos_since(fwd.nextseq_time);
    let threshold = first_rtt_ns.filter(|&r| r != 0).unwrap_or(3_000_000);
    let end = s
        .seq
        .wrapping_add(s.len)
        .wrapping_add(u32::from(s.syn_or_fin()));
    if not_advanced && since_next < threshold && fwd.nextseq != end {
        out.flags.insert(Analysis::OUT_OF_ORDER);
        return;
    }
    if not_advanced {
        out.flags.insert(Analysis::RETRANSMISSION);
        out.original_frame = fwd.unacked.first_sender(SeqNumber(s.seq));
    }
}

impl Side {
    /// Moves this side past segment `s`, whose findings are `flags`: the
    /// unacked list, the next expected seq (a zero-window probe moves
    /// nothing), the ACK mark, and the window, ACK and flags last seen.
    fn advance(&mut self, s: &Seen, flags: Analysis) {
        let mut nextseq = s.seq.wrapping_add(s.len);
        // Past the list's limit even a FIN's byte goes uncounted, as in Wireshark.
        if (s.len > 0 || s.syn_or_fin()) && !self.unacked.is_full() {
            if s.syn_or_fin() {
                nextseq = nextseq.wrapping_add(1);
            }
            self.unacked.push_front(Unacked {
                frame: s.frame,
                seq: SeqNumber(s.seq),
                nextseq: SeqNumber(nextseq),
                sent: s.ts,
            });
        }
        let probe = flags.contains(Analysis::ZERO_WINDOW_PROBE);
        if (gt(nextseq, self.nextseq) || self.nextseq == 0) && !probe {
            self.nextseq = nextseq;
            self.nextseq_time = s.ts;
        }
        if (s.seq == self.maxseqtobeacked || self.maxseqtobeacked == 0) && !probe {
            self.maxseqtobeacked = self.nextseq;
        }
        self.window = s.window;
        self.lastack = s.ack;
        self.lastack_time = s.ts;
        self.lastsegmentflags = flags;
        if !s.flags.contains(Flags::SYN) {
            self.is_first_ack = false;
        }
    }
}

/// What segment `s` says of time and bytes: the peer's segment it
/// acknowledges and after how long, then the bytes `fwd` has in flight
/// (only for a segment with payload, as Wireshark counts them). True when
/// the bytes in flight were counted, whether or not the count is shown.
fn measure(fwd: &mut Side, rev: &mut Side, s: &Seen, base: SeqNumber, out: &mut Findings) -> bool {
    let acked = rev.unacked.acknowledge(SeqNumber(s.ack), s.ts);
    out.acks_frame = acked.map(|a| a.frame);
    out.ack_rtt = acked.map(|a| a.rtt).filter(|rtt| !rtt.is_zero());
    let Some(span) = fwd
        .unacked
        .span(base)
        .filter(|_| s.len > 0 && fwd.valid_bif)
    else {
        return false;
    };
    // Wireshark's bounds on a plausible count, after the SACKed bytes go
    // (all of a D-SACK'd retransmission leaves 0, which is not shown); a
    // SYN's or FIN's sequence number is no byte, so it comes off after.
    let n = span.wrapping_sub(rev.sacked);
    out.bytes_in_flight = Some(n)
        .filter(|&n| n > 0 && n < 2_000_000_000)
        .map(|n| n - u32::from(s.syn_or_fin()))
        .filter(|&n| n > 0);
    true
}
