//! Follow-stream reassembly: one stream's payload per direction, in
//! sequence order, with retransmitted bytes dropped and out-of-order
//! segments held until the gap before them fills. Only one stream is kept,
//! and held data is bounded: past [`MAX_HELD`] bytes the gap is declared
//! lost and delivery moves on.

use std::collections::BTreeMap;

use super::{Direction, Segment};
use crate::values::SeqNumber;
use crate::decode::Flags;

/// Out-of-order bytes held per direction before a gap is given up on.
pub const MAX_HELD: usize = 16 << 20;

/// A piece of the reassembled stream, in delivery order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// In-order bytes, from the frame that carried them.
    Data {
        direction: Direction,
        frame: u64,
        bytes: Vec<u8>,
    },
    /// Bytes the capture does not hold (lost, or cut by the snaplen).
    Gap { direction: Direction, len: u32 },
}

#[derive(Debug, Default)]
struct Side {
    /// Sequence number of the next byte to deliver.
    next: Option<SeqNumber>,
    /// Segments waiting for the bytes before them: seq -> (frame, bytes).
    held: BTreeMap<u32, (u64, Vec<u8>)>,
    held_bytes: usize,
}

/// Reassembles both directions of one stream.
#[derive(Debug, Default)]
pub struct Reassembler {
    sides: [Side; 2],
}

impl Reassembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a segment of frame `frame` whose captured payload is `payload`
    /// (possibly shorter than `seg.payload_len`); returns what became
    /// deliverable.
    pub fn push(
        &mut self,
        frame: u64,
        seg: &Segment,
        direction: Direction,
        payload: &[u8],
    ) -> Vec<Piece> {
        let side = &mut self.sides[direction.index()];
        let mut out = Vec::new();
        if seg.flags.contains(Flags::SYN) {
            // Data starts after the SYN's sequence number.
            side.next.get_or_insert(seg.seq.plus(1));
        }
        if seg.payload_len == 0 {
            return out;
        }
        let next = *side.next.get_or_insert(seg.seq);
        let seq = seg.seq;
        let end = seq.plus(seg.payload_len);
        if next.at_or_after(end) {
            return out; // all of it delivered already: a retransmission
        }
        let mut bytes = payload.to_vec();
        if seg.payload_len as usize > payload.len() {
            // Cut by the snaplen: the rest is a gap, delivered as such.
            bytes.truncate(payload.len());
        }
        if next.at_or_after(seq) {
            let skip = next.since(seq) as usize;
            let data = bytes.get(skip..).unwrap_or_default().to_vec();
            deliver(
                side,
                direction,
                frame,
                data,
                seg.payload_len - skip as u32,
                &mut out,
            );
            drain(side, direction, &mut out);
        } else {
            side.held_bytes += bytes.len();
            side.held.insert(seq.0, (frame, bytes));
            if side.held_bytes > MAX_HELD {
                give_up_gap(side, direction, &mut out);
            }
        }
        out
    }

    /// Delivers whatever is still held, with the gaps before it.
    pub fn finish(&mut self) -> Vec<Piece> {
        let mut out = Vec::new();
        for (i, side) in self.sides.iter_mut().enumerate() {
            let direction = if i == 0 {
                Direction::ClientToServer
            } else {
                Direction::ServerToClient
            };
            while !side.held.is_empty() {
                give_up_gap(side, direction, &mut out);
            }
        }
        out
    }
}

/// Delivers `data`, which stands for `len` sequence bytes from `side.next`.
fn deliver(
    side: &mut Side,
    direction: Direction,
    frame: u64,
    data: Vec<u8>,
    len: u32,
    out: &mut Vec<Piece>,
) {
    let next = side.next.expect("set before delivery");
    let missing = len - data.len() as u32;
    side.next = Some(next.plus(len));
    if !data.is_empty() {
        out.push(Piece::Data {
            direction,
            frame,
            bytes: data,
        });
    }
    if missing > 0 {
        out.push(Piece::Gap {
            direction,
            len: missing,
        });
    }
}

/// Delivers held segments that now follow on.
fn drain(side: &mut Side, direction: Direction, out: &mut Vec<Piece>) {
    loop {
        let next = side.next.expect("set before drain");
        // The held segment starting at or before `next` with bytes past it.
        let candidate = side
            .held
            .iter()
            .find(|(&s, _)| next.at_or_after(SeqNumber(s)))
            .map(|(&s, _)| s);
        let Some(start) = candidate else { return };
        let (frame, bytes) = side.held.remove(&start).expect("found above");
        side.held_bytes -= bytes.len();
        let start = SeqNumber(start);
        let end = start.plus(bytes.len() as u32);
        if next.at_or_after(end) {
            continue;
        }
        let skip = next.since(start) as usize;
        let data = bytes[skip..].to_vec();
        let len = data.len() as u32;
        deliver(side, direction, frame, data, len, out);
    }
}

/// Declares the gap before the first held segment lost and moves on.
fn give_up_gap(side: &mut Side, direction: Direction, out: &mut Vec<Piece>) {
    let Some((&start, _)) = side.held.iter().next() else {
        return;
    };
    let next = side.next.expect("set before holding");
    let gap = SeqNumber(start).since(next);
    if (gap as i32) > 0 {
        out.push(Piece::Gap {
            direction,
            len: gap,
        });
        side.next = Some(SeqNumber(start));
    }
    drain(side, direction, out);
}
