//! Conversations: 4-tuple keys, stream indexes, direction, relative seq/ack
//! as Wireshark computes them, the phase of each segment (handshake, data,
//! teardown) and when a connection is completely closed; IP fragments
//! reassembled into the datagram the last of them completes ([`Defrag`]).
//!
//! Flow works on [`Segment`], the normalized TCP values of a decoded frame.
//! [`Pipeline`] turns each frame into the typed [`Packet`] every view reads.
//! Flow knows nothing of pcap, tokio or terminals.

mod accecn;
mod analysis;
mod close;
mod defrag;
mod fragments;
mod packet;
mod phase;
mod pipeline;
mod reassembly;
mod recovery;
mod states;
mod summary;
mod tracker;
mod unacked;

pub use accecn::AccEcn;
pub use analysis::{Analysis, ConnectionAnalysis, Findings, WindowScale};
pub use close::{CloseWatch, Closes};
pub use defrag::{
    Defrag, DefragKey, Fragment, Outcome, Reassembled, Skip, MAX_DATAGRAM_LEN, MAX_FRAGMENTS,
    MAX_PENDING_BYTES, MAX_PENDING_DATAGRAMS, PIECE_COST,
};
pub use packet::Packet;
pub use phase::{Phase, PhaseState};
pub use pipeline::Pipeline;
pub use reassembly::{Piece, Reassembler, MAX_HELD};
pub use recovery::{recoveries, Found, Recovery};
pub use states::{StateChange, States, TcpState};
pub use summary::{Conversation, Row, Summary, Totals};
pub use tracker::{Direction, FlowInfo, Tracker};
pub use unacked::MAX_UNACKED;

use std::net::SocketAddr;

use crate::decode::Flags;
use crate::values::SeqNumber;

/// The values of one TCP segment that flow logic needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: SeqNumber,
    pub ack: SeqNumber,
    pub flags: Flags,
    /// The AE bit (RFC 9768 §3), which [`Flags`]' byte does not hold: only
    /// the AccECN handshake reads it.
    pub ae: bool,
    /// Window field as sent (unscaled).
    pub window: u16,
    /// TCP payload bytes as the IP header declares them.
    pub payload_len: u32,
    /// The window-scale option of a SYN (read only on SYNs: it counts nowhere else).
    pub wscale: Option<u8>,
    /// Bytes the SACK option's first three blocks cover (0 without one):
    /// what Wireshark keeps of a SACK to take off the peer's bytes in flight.
    pub sacked: u32,
}

impl Segment {
    /// Sequence space the segment occupies: payload plus one for SYN and FIN.
    pub fn seq_len(&self) -> u32 {
        self.payload_len
            + u32::from(self.flags.contains(Flags::SYN))
            + u32::from(self.flags.contains(Flags::FIN))
    }
}
