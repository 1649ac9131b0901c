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

/// One stream's progress through its life, as far as phases go.
#[derive(Debug, Default, Clone, Copy)]
pub struct PhaseState {
    syn_ack_seen: bool,
    handshake_done: bool,
    fin_seen: bool,
    rst_seen: bool,
}

impl PhaseState {
    /// The phase of `seg`, sent in `direction`.
    pub fn observe(&mut self, seg: &Segment, direction: Direction) -> Phase {
        let f = seg.flags;
        if f.contains(Flags::RST) || self.rst_seen {
            self.rst_seen = true;
            return Phase::Reset;
        }
        if f.contains(Flags::FIN) || self.fin_seen {
            self.fin_seen = true;
            return Phase::Teardown;
        }
        if f.contains(Flags::SYN) {
            if f.contains(Flags::ACK) {
                self.syn_ack_seen = true;
                return Phase::Handshake(2);
            }
            return Phase::Handshake(1);
        }
        if self.syn_ack_seen
            && !self.handshake_done
            && direction == Direction::ClientToServer
            && seg.payload_len == 0
        {
            self.handshake_done = true;
            return Phase::Handshake(3);
        }
        self.handshake_done = true;
        Phase::Data
    }
}
