//! Conversation table: which stream a segment belongs to, its direction, and
//! its sequence numbers relative to each direction's initial one.

use std::net::SocketAddr;

use rustc_hash::FxHashMap;

use super::{ConnectionAnalysis, Findings, Phase, PhaseState, Segment};
use crate::decode::Flags;
use crate::values::SeqNumber;
use crate::values::Timestamp;

/// Which way a segment goes, relative to the side that opened the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    /// Index for per-direction arrays: client → server is 0.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the tracker learned of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowInfo {
    /// 0-based, in order of first appearance (tshark's `tcp.stream`).
    pub stream: u32,
    pub direction: Direction,
    /// Relative sequence number (`tcp.seq`).
    pub seq: u32,
    /// Relative acknowledgment number (`tcp.ack`); the raw one when the
    /// ACK flag is not set (nothing to be relative to).
    pub ack: u32,
    /// Wireshark's TCP analysis of the segment.
    pub findings: Findings,
    /// Handshake, data, teardown or reset.
    pub phase: Phase,
    /// The window in bytes, scaled as the handshake agreed (`tcp.window_size`).
    pub window: u32,
}

#[derive(Debug)]
struct Conversation {
    stream: u32,
    client: SocketAddr,
    /// Initial sequence number per direction, once known.
    base: [Option<SeqNumber>; 2],
    analysis: ConnectionAnalysis,
    phase: PhaseState,
}

/// Assigns streams and relative numbers, one segment at a time.
/// (FxHash: the keys are addresses from the capture, and SipHash's
/// protection against chosen keys costs a tenth of the per-packet time.)
#[derive(Debug, Default)]
pub struct Tracker {
    /// Every conversation, in stream order (index = stream).
    conversations: Vec<Conversation>,
    /// The current conversation of each 4-tuple.
    index: FxHashMap<(SocketAddr, SocketAddr), usize>,
    /// The last tuple looked up: consecutive segments mostly share it.
    last: Option<((SocketAddr, SocketAddr), usize)>,
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of streams seen so far.
    pub fn streams(&self) -> u32 {
        self.conversations.len() as u32
    }

    /// Places segment `seg` of frame number `frame`, captured at `ts`, in
    /// its conversation and analyses it.
    pub fn observe(&mut self, frame: u64, ts: Timestamp, seg: &Segment) -> FlowInfo {
        let k = key(seg.src, seg.dst);
        let mut slot = match self.last {
            Some((lk, i)) if lk == k => Some(i),
            _ => self.index.get(&k).copied(),
        };
        // As Wireshark: a SYN whose sequence number differs from the one this
        // side started with opens a new stream on the same ports.
        let is_new_syn = seg.flags.contains(Flags::SYN) && !seg.flags.contains(Flags::ACK);
        if let Some(i) = slot.filter(|_| is_new_syn) {
            let c = &self.conversations[i];
            let side = if seg.src == c.client { 0 } else { 1 };
            if c.base[side].is_some_and(|b| b != seg.seq) {
                slot = None;
            }
        }
        let slot = slot.unwrap_or_else(|| {
            // The opener is the SYN's sender; failing that, whoever spoke first
            // (a SYN-ACK's receiver, when only the reply was captured).
            let client = if seg.flags.contains(Flags::SYN | Flags::ACK) {
                seg.dst
            } else {
                seg.src
            };
            let i = self.conversations.len();
            self.conversations.push(Conversation {
                stream: i as u32,
                client,
                base: [None, None],
                analysis: ConnectionAnalysis::default(),
                phase: PhaseState::default(),
            });
            self.index.insert(k, i);
            i
        });
        self.last = Some((k, slot));
        let conv = &mut self.conversations[slot];
        let direction = if seg.src == conv.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let (me, peer) = (direction.index(), 1 - direction.index());
        // A direction whose SYN was not seen starts at relative 1, as in Wireshark.
        let base = *conv.base[me].get_or_insert(if seg.flags.contains(Flags::SYN) {
            seg.seq
        } else {
            SeqNumber(seg.seq.0.wrapping_sub(1))
        });
        // Without the ACK flag the field is shown raw, as tshark shows it.
        let ack = if seg.flags.contains(Flags::ACK) {
            let peer_base = *conv.base[peer].get_or_insert(SeqNumber(seg.ack.0.wrapping_sub(1)));
            seg.ack.since(peer_base)
        } else {
            seg.ack.0
        };
        let findings = conv.analysis.observe(frame, ts, seg, me, seg.wscale);
        FlowInfo {
            stream: conv.stream,
            direction,
            seq: seg.seq.since(base),
            ack,
            findings,
            phase: conv.phase.observe(seg, direction),
            window: conv.analysis.scaled_window(me, seg),
        }
    }
}
