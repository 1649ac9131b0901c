//! Conversation table: which stream a segment belongs to, its direction, and
//! its sequence numbers relative to each direction's initial one.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::{Segment, SeqNumber};
use crate::decode::Flags;

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
    /// Relative acknowledgment number (`tcp.ack`), 0 when ACK is not set.
    pub ack: u32,
}

#[derive(Debug)]
struct Conversation {
    stream: u32,
    client: SocketAddr,
    /// Initial sequence number per direction, once known.
    base: [Option<SeqNumber>; 2],
    /// A FIN or RST was seen: a later SYN starts a new stream.
    closing: bool,
}

/// Assigns streams and relative numbers, one segment at a time.
#[derive(Debug, Default)]
pub struct Tracker {
    conversations: HashMap<(SocketAddr, SocketAddr), Conversation>,
    next_stream: u32,
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
        self.next_stream
    }

    /// Places a segment in its conversation.
    pub fn observe(&mut self, seg: &Segment) -> FlowInfo {
        let k = key(seg.src, seg.dst);
        let is_new_syn = seg.flags.contains(Flags::SYN) && !seg.flags.contains(Flags::ACK);
        let reuse = matches!(self.conversations.get(&k), Some(c) if c.closing && is_new_syn);
        if reuse || !self.conversations.contains_key(&k) {
            // The opener is the SYN's sender; failing that, whoever spoke first
            // (a SYN-ACK's receiver, when only the reply was captured).
            let client = if seg.flags.contains(Flags::SYN | Flags::ACK) {
                seg.dst
            } else {
                seg.src
            };
            let conv = Conversation {
                stream: self.next_stream,
                client,
                base: [None, None],
                closing: false,
            };
            self.next_stream += 1;
            self.conversations.insert(k, conv);
        }
        let conv = self.conversations.get_mut(&k).expect("inserted above");
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
        let ack = if seg.flags.contains(Flags::ACK) {
            let peer_base = *conv.base[peer].get_or_insert(SeqNumber(seg.ack.0.wrapping_sub(1)));
            seg.ack.since(peer_base)
        } else {
            0
        };
        if seg.flags.contains(Flags::FIN) || seg.flags.contains(Flags::RST) {
            conv.closing = true;
        }
        FlowInfo {
            stream: conv.stream,
            direction,
            seq: seg.seq.since(base),
            ack,
        }
    }
}
