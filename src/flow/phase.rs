//! The phase of a connection each segment belongs to, as a lesson names it.

use std::collections::HashMap;
use std::fmt;

use super::{Direction, FlowInfo, Segment};
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

#[derive(Debug, Default, Clone, Copy)]
struct StreamState {
    syn_ack_seen: bool,
    handshake_done: bool,
    fin_seen: bool,
    rst_seen: bool,
}

/// Labels segments with their phase, per stream.
#[derive(Debug, Default)]
pub struct PhaseTracker {
    streams: HashMap<u32, StreamState>,
}

impl PhaseTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// The phase of `seg`, which the tracker placed as `info`.
    pub fn observe(&mut self, seg: &Segment, info: &FlowInfo) -> Phase {
        let st = self.streams.entry(info.stream).or_default();
        let f = seg.flags;
        if f.contains(Flags::RST) || st.rst_seen {
            st.rst_seen = true;
            return Phase::Reset;
        }
        if f.contains(Flags::FIN) || st.fin_seen {
            st.fin_seen = true;
            return Phase::Teardown;
        }
        if f.contains(Flags::SYN) {
            if f.contains(Flags::ACK) {
                st.syn_ack_seen = true;
                return Phase::Handshake(2);
            }
            return Phase::Handshake(1);
        }
        if st.syn_ack_seen
            && !st.handshake_done
            && info.direction == Direction::ClientToServer
            && seg.payload_len == 0
        {
            st.handshake_done = true;
            return Phase::Handshake(3);
        }
        st.handshake_done = true;
        Phase::Data
    }
}
