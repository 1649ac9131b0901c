//! Facts about a captured exchange, for a lab's "what happened" and checks.

use crate::decode::Flags;
use crate::flow::{Direction, Packet, Piece, Reassembler};

/// `1 segment`, `10 segments`: a count and its noun, plural past one.
pub fn count(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        n => format!("{n} {noun}s"),
    }
}

/// A packet sent by the client (the side that opened its stream).
pub fn from_client(p: &Packet) -> bool {
    p.direction() == Some(Direction::ClientToServer)
}

/// A packet sent by the server.
pub fn from_server(p: &Packet) -> bool {
    p.direction() == Some(Direction::ServerToClient)
}

pub fn has(p: &Packet, f: Flags) -> bool {
    p.flags().is_some_and(|x| x.contains(f))
}

/// The spoken flags of every TCP packet, in order.
pub fn flag_names(packets: &[Packet]) -> Vec<String> {
    packets
        .iter()
        .filter_map(|p| p.flags().map(|f| f.spoken()))
        .collect()
}

/// The frame number of the first packet matching `pred`.
pub fn first(packets: &[Packet], pred: impl Fn(&Packet) -> bool) -> Option<u64> {
    packets.iter().find(|p| pred(p)).map(|p| p.number)
}

/// Packets that carry payload, from one side.
pub fn data_segments(packets: &[Packet], client: bool) -> usize {
    packets
        .iter()
        .filter(|p| from_client(p) == client && p.flow.is_some())
        .filter(|p| p.payload_len > 0)
        .count()
}

/// All payload bytes one side sent, in capture order.
pub fn payload(packets: &[Packet], client: bool) -> Vec<u8> {
    packets
        .iter()
        .filter(|p| from_client(p) == client && p.flow.is_some())
        .flat_map(|p| p.payload().to_vec())
        .collect()
}

/// Streams seen.
pub fn streams(packets: &[Packet]) -> usize {
    packets
        .iter()
        .filter_map(Packet::stream)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// What one side sent as its peer's TCP delivered it: the stream rebuilt
/// in sequence order from the capture, retransmitted bytes once; `None`
/// if the capture lacks some of it.
pub fn delivered(packets: &[Packet], client: bool) -> Option<Vec<u8>> {
    let mut stream = Reassembler::new();
    let mut out = Vec::new();
    let mut whole = true;
    let mut take = |pieces: Vec<Piece>| {
        for piece in pieces {
            match piece {
                Piece::Data { bytes, .. } => out.extend_from_slice(&bytes),
                Piece::Gap { .. } => whole = false,
            }
        }
    };
    for p in packets.iter().filter(|p| from_client(p) == client) {
        if let (Some(seg), Some(flow)) = (p.segment(), p.flow) {
            take(stream.push(p.number, &seg, flow.direction, p.payload()));
        }
    }
    take(stream.finish());
    whole.then_some(out)
}
