//! The phase of a connection each segment belongs to, as a lesson names it.

use std::fmt;

use super::{Direction, Segment};
use crate::decode::Flags;

/// Where in a connection's life a segment falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Step 1, 2 or 3 of the three-way handshake (RFC 9293 §3.5).
    Handshake(u8),
    Data,
    /// After the first FIN: the connection is being closed.
    Teardown,
    /// A segment carrying RST, and anything after it.
    Reset,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Phase::Handshake(n) => write!(f, "handshake {n}/3"),
            Phase::Data => f.write_str("data"),
            Phase::Teardown => f.write_str("teardown"),
            Phase::Reset => f.write_str("reset"),
        }
    }
}

/// One stream's progress through its life, as far as phases go: a set of
/// the four facts below in one byte (four `bool`s took four, and the
/// tracker keeps one state per stream: the byte saved holds `AccEcn`).
#[derive(Debug, Default, Clone, Copy)]
pub struct PhaseState(u8);

impl PhaseState {
    const SYN_ACK_SEEN: u8 = 1;
    const HANDSHAKE_DONE: u8 = 2;
    const FIN_SEEN: u8 = 4;
    const RST_SEEN: u8 = 8;

    fn has(self, fact: u8) -> bool {
        self.0 & fact != 0
    }

    /// The phase of `seg`, sent in `direction`.
    pub fn observe(&mut self, seg: &Segment, direction: Direction) -> Phase {
        let f = seg.flags;
        if f.contains(Flags::RST) || self.has(Self::RST_SEEN) {
            self.0 |= Self::RST_SEEN;
            return Phase::Reset;
        }
        if f.contains(Flags::FIN) || self.has(Self::FIN_SEEN) {
            self.0 |= Self::FIN_SEEN;
            return Phase::Teardown;
        }
        if f.contains(Flags::SYN) {
            if f.contains(Flags::ACK) {
                self.0 |= Self::SYN_ACK_SEEN;
                return Phase::Handshake(2);
            }
            return Phase::Handshake(1);
        }
        let third = self.has(Self::SYN_ACK_SEEN)
            && !self.has(Self::HANDSHAKE_DONE)
            && direction == Direction::ClientToServer
            && seg.payload_len == 0;
        self.0 |= Self::HANDSHAKE_DONE;
        if third {
            Phase::Handshake(3)
        } else {
            Phase::Data
        }
    }
}
