//! Knows when a connection is completely closed: both FINs acknowledged
//! (RFC 9293 §3.6), or a reset; and when every connection seen is.

use super::{Direction, Packet, Segment};
use crate::decode::Flags;
use crate::values::SeqNumber;

/// Watches one connection's segments for the end of its teardown.
#[derive(Debug, Default, Clone)]
pub struct CloseWatch {
    /// Sequence number just past each direction's FIN, once sent
    /// (`fin_sent`; not an `Option`, which would double its size: the
    /// tracker keeps one watch per stream).
    fin_end: [SeqNumber; 2],
    fin_sent: [bool; 2],
    fin_acked: [bool; 2],
    reset: bool,
}

impl CloseWatch {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one segment of the connection, sent in `direction`.
    pub fn observe(&mut self, seg: &Segment, direction: Direction) {
        let (me, peer) = (direction.index(), 1 - direction.index());
        if seg.flags.contains(Flags::RST) {
            self.reset = true;
        }
        if seg.flags.contains(Flags::FIN) {
            self.fin_end[me] = seg.seq.plus(seg.seq_len());
            self.fin_sent[me] = true;
        }
        if seg.flags.contains(Flags::ACK)
            && self.fin_sent[peer]
            && seg.ack.at_or_after(self.fin_end[peer])
        {
            self.fin_acked[peer] = true;
        }
    }

    /// True once both FINs are acknowledged or a reset was seen.
    pub fn is_closed(&self) -> bool {
        self.reset || (self.fin_acked[0] && self.fin_acked[1])
    }
}

/// Every stream's [`CloseWatch`]: knows when all the connections a capture
/// saw are closed (what ends a live trace or lab).
#[derive(Debug, Default)]
pub struct Closes {
    watches: rustc_hash::FxHashMap<u32, CloseWatch>,
}

impl Closes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a packet; anything but a placed TCP segment is ignored.
    pub fn observe(&mut self, p: &Packet) {
        if let (Some(seg), Some(flow)) = (p.segment(), p.flow) {
            self.watches
                .entry(flow.stream)
                .or_default()
                .observe(&seg, flow.direction);
        }
    }

    /// True once at least one stream was seen and every one is closed.
    pub fn all_closed(&self) -> bool {
        !self.watches.is_empty() && self.watches.values().all(CloseWatch::is_closed)
    }
}
