//! The phase of a connection each segment belongs to, as a lesson names it.

use std::fmt;

use super::{Direction, Segment};
use crate::decode::Flags;

/// Where in a connection's life a segment falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Step 1, 2 or 3 of the three-way handshake (RFC 9293 §3.5).
    Handshake(u8),
    /// Payload, and the ACKs of payload. A segment with payload after a
    /// FIN is data too: a FIN closes one direction only (RFC 9293 §3.6),
    /// and the other may still send (a half-close).
    Data,
    /// A segment carrying FIN, and after a FIN an empty ACK of a side that
    /// has sent its FIN (the final ACKs). tshark has no phase: this is
    /// tcplab's own labelling.
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
/// the five facts below in one byte (five `bool`s would take five, and the
/// tracker keeps one state per stream: a byte saved holds `AccEcn`).
#[derive(Debug, Default, Clone, Copy)]
pub struct PhaseState(u8);

impl PhaseState {
    const SYN_ACK_SEEN: u8 = 1;
    const HANDSHAKE_DONE: u8 = 2;
    /// The client sent a FIN.
    const CLIENT_FIN: u8 = 4;
    const RST_SEEN: u8 = 8;
    /// The server sent a FIN.
    const SERVER_FIN: u8 = 16;

    fn fin_of(direction: Direction) -> u8 {
        match direction {
            Direction::ClientToServer => Self::CLIENT_FIN,
            Direction::ServerToClient => Self::SERVER_FIN,
        }
    }

    /// True if any of the facts in `fact` holds.
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
        if f.contains(Flags::FIN) {
            self.0 |= Self::fin_of(direction);
            return Phase::Teardown;
        }
        if self.has(Self::CLIENT_FIN | Self::SERVER_FIN) {
            // The connection is closing, but a direction without its FIN is
            // open: its payload and the ACKs of it are data. An empty ACK
            // towards a side that sent its FIN acknowledges that FIN.
            let peer = match direction {
                Direction::ClientToServer => Direction::ServerToClient,
                Direction::ServerToClient => Direction::ClientToServer,
            };
            return if seg.payload_len == 0 && self.has(Self::fin_of(peer)) {
                Phase::Teardown
            } else {
                Phase::Data
            };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::SeqNumber;

    const C: Direction = Direction::ClientToServer;
    const S: Direction = Direction::ServerToClient;

    fn seg(flags: Flags, payload_len: u32) -> Segment {
        Segment {
            src: ([127, 0, 0, 1], 1).into(),
            dst: ([127, 0, 0, 1], 2).into(),
            seq: SeqNumber(0),
            ack: SeqNumber(0),
            flags,
            ae: false,
            window: 0,
            payload_len,
            wscale: None,
            sacked: 0,
        }
    }

    /// The phase of each of `segments`, in order, from a fresh stream.
    fn phases(segments: &[(Direction, Flags, u32)]) -> Vec<String> {
        let mut state = PhaseState::default();
        segments
            .iter()
            .map(|&(d, f, len)| state.observe(&seg(f, len), d).to_string())
            .collect()
    }

    const SYN: Flags = Flags::SYN;
    const ACK: Flags = Flags::ACK;

    fn handshake() -> Vec<(Direction, Flags, u32)> {
        vec![(C, SYN, 0), (S, SYN | ACK, 0), (C, ACK, 0)]
    }

    #[test]
    fn a_plain_close_is_teardown_from_the_first_fin() {
        let mut s = handshake();
        s.extend([
            (C, Flags::PSH | ACK, 5),
            (S, ACK, 0),
            (C, Flags::FIN | ACK, 0),
            (S, Flags::FIN | ACK, 0),
            (C, ACK, 0),
        ]);
        assert_eq!(
            phases(&s),
            [
                "handshake 1/3",
                "handshake 2/3",
                "handshake 3/3",
                "data",
                "data",
                "teardown",
                "teardown",
                "teardown"
            ]
        );
    }

    /// The half-close lab: data after the client's FIN, and its ACK, are
    /// data; the FINs and the final ACK are teardown.
    #[test]
    fn data_after_a_fin_is_data() {
        let mut s = handshake();
        s.extend([
            (C, Flags::PSH | ACK, 5),
            (S, ACK, 0),
            (C, Flags::FIN | ACK, 0),
            (S, Flags::PSH | ACK, 11),
            (C, ACK, 0),
            (S, Flags::FIN | ACK, 0),
            (C, ACK, 0),
        ]);
        assert_eq!(
            phases(&s)[3..],
            ["data", "data", "teardown", "data", "data", "teardown", "teardown"]
        );
    }

    /// The ACK of a FIN is teardown even when it comes alone, before the
    /// other side sends more.
    #[test]
    fn the_ack_of_a_fin_is_teardown() {
        let mut s = handshake();
        s.extend([
            (C, Flags::FIN | ACK, 0),
            (S, ACK, 0),
            (S, Flags::PSH | ACK, 3),
            (C, ACK, 0),
            (S, Flags::FIN | Flags::PSH | ACK, 2),
            (C, ACK, 0),
        ]);
        assert_eq!(
            phases(&s)[3..],
            ["teardown", "teardown", "data", "data", "teardown", "teardown"]
        );
    }

    /// A late writer of a dead server (lab crash): the server's FIN, the
    /// client's data after it, the RST.
    #[test]
    fn data_to_a_closed_side_is_data_then_reset() {
        let mut s = handshake();
        s.extend([
            (S, Flags::FIN | ACK, 0),
            (C, Flags::PSH | ACK, 13),
            (S, Flags::RST, 0),
            (C, ACK, 0),
        ]);
        assert_eq!(phases(&s)[3..], ["teardown", "data", "reset", "reset"]);
    }
}
