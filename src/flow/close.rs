//! Knows when a connection is completely closed: both FINs acknowledged
//! (RFC 9293 §3.6), or a reset.

use super::{Direction, Segment, SeqNumber};
use crate::decode::Flags;

/// Watches one connection's segments for the end of its teardown.
#[derive(Debug, Default, Clone)]
pub struct CloseWatch {
    /// Sequence number just past each direction's FIN, once sent.
    fin_end: [Option<SeqNumber>; 2],
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
            self.fin_end[me] = Some(seg.seq.plus(seg.seq_len()));
        }
        if seg.flags.contains(Flags::ACK) {
            if let Some(end) = self.fin_end[peer] {
                if seg.ack.at_or_after(end) {
                    self.fin_acked[peer] = true;
                }
            }
        }
    }

    /// True once both FINs are acknowledged or a reset was seen.
    pub fn is_closed(&self) -> bool {
        self.reset || (self.fin_acked[0] && self.fin_acked[1])
    }
}
