//! Each side's TCP state (RFC 9293 §3.3.2's diagram), derived from the
//! segments of one connection as a capture between the two sees them.
//!
//! The capture point sees a segment leave one side and reach the other at
//! once (on loopback they are the same instant), so one segment moves its
//! sender (a SYN or FIN sent) and its receiver (a SYN, an ACK of its own
//! SYN or FIN, a FIN, a RST received) together. The client starts CLOSED,
//! the server LISTEN. Retransmissions move nothing: a state moves once.

use std::fmt;

use super::Direction;
use crate::decode::Flags;

/// A connection state of RFC 9293, as Linux's `ss` spells them (with `_`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl TcpState {
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynReceived => "SYN_RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN_WAIT_1",
            TcpState::FinWait2 => "FIN_WAIT_2",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
        }
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one segment changed: each side's new state, if it moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateChange {
    pub client: Option<TcpState>,
    pub server: Option<TcpState>,
}

impl StateChange {
    pub fn is_empty(&self) -> bool {
        self.client.is_none() && self.server.is_none()
    }
}

/// One side: its state, and the relative sequence number just after its
/// FIN once it sent one (an ACK of at least that acknowledges the FIN).
#[derive(Debug, Clone, Copy)]
struct Side {
    state: TcpState,
    fin_next: Option<u32>,
}

/// Both sides' states, moved by each segment in capture order.
#[derive(Debug, Clone, Copy)]
pub struct States {
    client: Side,
    server: Side,
}

impl Default for States {
    fn default() -> Self {
        States {
            client: Side {
                state: TcpState::Closed,
                fin_next: None,
            },
            server: Side {
                state: TcpState::Listen,
                fin_next: None,
            },
        }
    }
}

impl States {
    /// The states now: (client, server).
    pub fn now(&self) -> (TcpState, TcpState) {
        (self.client.state, self.server.state)
    }

    /// Moves both sides by one segment: `direction` says who sent it,
    /// `seq`/`ack` are relative, `len` its payload bytes.
    pub fn segment(
        &mut self,
        direction: Direction,
        flags: Flags,
        seq: u32,
        ack: u32,
        len: u32,
    ) -> StateChange {
        let before = self.now();
        let (sender, receiver) = match direction {
            Direction::ClientToServer => (&mut self.client, &mut self.server),
            Direction::ServerToClient => (&mut self.server, &mut self.client),
        };
        step(sender, receiver, flags, seq, ack, len);
        let after = self.now();
        StateChange {
            client: (after.0 != before.0).then_some(after.0),
            server: (after.1 != before.1).then_some(after.1),
        }
    }
}

/// RFC 9293's transitions for one segment, the sender's first (what it did
/// to send it), then the receiver's: the ACK before the FIN, as §3.10.7.4
/// processes them.
fn step(sender: &mut Side, receiver: &mut Side, flags: Flags, seq: u32, ack: u32, len: u32) {
    use TcpState::*;
    if flags.contains(Flags::RST) {
        sender.state = Closed;
        receiver.state = Closed;
        return;
    }
    let syn = flags.contains(Flags::SYN);
    let fin = flags.contains(Flags::FIN);
    let acks_fin_of = |side: &Side| {
        flags.contains(Flags::ACK) && side.fin_next.is_some_and(|n| ack.wrapping_sub(n) < 1 << 31)
    };
    // The sender.
    sender.state = match (sender.state, syn, fin) {
        (Closed, true, _) if !flags.contains(Flags::ACK) => SynSent,
        (Established, _, true) | (SynReceived, _, true) => FinWait1,
        // A FIN that does not acknowledge the peer's was sent before that
        // arrived: both closed at once (FIN_WAIT_1, then the peer's FIN).
        (CloseWait, _, true) if !acks_fin_of(receiver) => Closing,
        (CloseWait, _, true) => LastAck,
        (s, _, _) => s,
    };
    if fin && sender.fin_next.is_none() {
        sender.fin_next = Some(seq.wrapping_add(len).wrapping_add(1));
    }
    // The receiver: the SYN, then the ACK, then the FIN.
    receiver.state = match (receiver.state, syn, flags.contains(Flags::ACK)) {
        (Listen, true, false) => SynReceived,
        (SynSent, true, true) => Established,
        (s, _, _) => s,
    };
    if flags.contains(Flags::ACK) && !syn {
        receiver.state = match receiver.state {
            // The ACK of its SYN (relative 1 or more).
            SynReceived if ack >= 1 => Established,
            FinWait1 if acks_fin_of(receiver) => FinWait2,
            Closing if acks_fin_of(receiver) => TimeWait,
            LastAck if acks_fin_of(receiver) => Closed,
            s => s,
        };
    }
    if fin {
        receiver.state = match receiver.state {
            Established | SynReceived => CloseWait,
            FinWait1 => Closing,
            FinWait2 => TimeWait,
            s => s,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{ClientToServer as C, ServerToClient as S};
    use TcpState::*;

    fn f(names: &str) -> Flags {
        let bits = names.split('-').fold(0u8, |acc, n| {
            acc | match n {
                "SYN" => Flags::SYN,
                "ACK" => Flags::ACK,
                "FIN" => Flags::FIN,
                "RST" => Flags::RST,
                "PSH" => Flags::PSH,
                _ => panic!("{n}"),
            }
            .bits()
        });
        Flags::from_bits(bits)
    }

    /// Runs segments and returns the states after each.
    fn run(segments: &[(Direction, &str, u32, u32, u32)]) -> Vec<(TcpState, TcpState)> {
        let mut s = States::default();
        segments
            .iter()
            .map(|&(d, fl, seq, ack, len)| {
                s.segment(d, f(fl), seq, ack, len);
                s.now()
            })
            .collect()
    }

    #[test]
    fn the_hello_exchange_walks_the_diagram() {
        let states = run(&[
            (C, "SYN", 0, 0, 0),
            (S, "SYN-ACK", 0, 1, 0),
            (C, "ACK", 1, 1, 0),
            (C, "PSH-ACK", 1, 1, 5),
            (S, "ACK", 1, 6, 0),
            (C, "FIN-ACK", 6, 1, 0),
            (S, "FIN-ACK", 1, 7, 0),
            (C, "ACK", 7, 2, 0),
        ]);
        assert_eq!(
            states,
            [
                (SynSent, SynReceived),
                (Established, SynReceived),
                (Established, Established),
                (Established, Established),
                (Established, Established),
                (FinWait1, CloseWait),
                // The server's FIN acknowledges the client's: FIN_WAIT_2 then TIME_WAIT.
                (TimeWait, LastAck),
                (TimeWait, Closed),
            ]
        );
    }

    #[test]
    fn a_separate_ack_gives_fin_wait_2_and_a_half_close_keeps_sending() {
        let states = run(&[
            (C, "SYN", 0, 0, 0),
            (S, "SYN-ACK", 0, 1, 0),
            (C, "ACK", 1, 1, 0),
            (C, "FIN-ACK", 1, 1, 0),
            (S, "ACK", 1, 2, 0),
            (S, "PSH-ACK", 1, 2, 4),
            (S, "FIN-ACK", 5, 2, 0),
            (C, "ACK", 2, 6, 0),
        ]);
        assert_eq!(states[3], (FinWait1, CloseWait));
        assert_eq!(states[4], (FinWait2, CloseWait));
        assert_eq!(states[5], (FinWait2, CloseWait), "data after a FIN");
        assert_eq!(states[6], (TimeWait, LastAck));
        assert_eq!(states[7], (TimeWait, Closed));
    }

    #[test]
    fn a_reset_closes_both_and_a_refused_syn_closes_the_client() {
        let refused = run(&[(C, "SYN", 0, 0, 0), (S, "RST-ACK", 1, 1, 0)]);
        assert_eq!(refused[1], (Closed, Closed));
        let mut s = States::default();
        s.segment(C, f("SYN"), 0, 0, 0);
        s.segment(S, f("SYN-ACK"), 0, 1, 0);
        let change = s.segment(C, f("ACK"), 1, 1, 0);
        assert_eq!(
            change,
            StateChange {
                client: None,
                server: Some(Established)
            }
        );
        let change = s.segment(C, f("RST-ACK"), 1, 1, 0);
        assert_eq!(
            change,
            StateChange {
                client: Some(Closed),
                server: Some(Closed)
            }
        );
    }

    #[test]
    fn simultaneous_fins_pass_through_closing() {
        let states = run(&[
            (C, "SYN", 0, 0, 0),
            (S, "SYN-ACK", 0, 1, 0),
            (C, "ACK", 1, 1, 0),
            (C, "FIN-ACK", 1, 1, 0),
            // Sent before the client's FIN arrived: it does not ack it.
            (S, "FIN-ACK", 1, 1, 0),
            (C, "ACK", 2, 2, 0),
            (S, "ACK", 2, 2, 0),
        ]);
        assert_eq!(states[4], (Closing, Closing));
        assert_eq!(states[5], (Closing, TimeWait));
        assert_eq!(states[6], (TimeWait, TimeWait));
    }
}
