//! Follow-stream reassembly: one stream's payload per direction, in
//! sequence order, with retransmitted bytes dropped and out-of-order
//! segments held until the gap before them fills. Only one stream is kept,
//! and held data is bounded: past [`MAX_HELD`] bytes the gap is declared
//! lost and delivery moves on.

use std::collections::BTreeMap;

use super::{Direction, Segment};
use crate::decode::Flags;
use crate::values::SeqNumber;

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

/// Where delivery stands in one direction: the next byte's sequence number
/// and its offset from the direction's first byte. Offsets are 64 bits and
/// never wrap, so held segments stay in order across a 2^32 wrap.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    seq: SeqNumber,
    offset: u64,
}

impl Cursor {
    /// The offset of sequence number `seq`, taken as the nearer of the two
    /// ways round (RFC 9293 §3.4); `None` before the first byte.
    fn offset_of(self, seq: SeqNumber) -> Option<u64> {
        let delta = i64::from(seq.0.wrapping_sub(self.seq.0) as i32);
        self.offset.checked_add_signed(delta)
    }

    fn advance(&mut self, n: u32) {
        self.seq = self.seq.plus(n);
        self.offset += u64::from(n);
    }
}

#[derive(Debug, Default)]
struct Side {
    next: Option<Cursor>,
    /// Segments waiting for the bytes before them: offset -> (frame, bytes).
    held: BTreeMap<u64, (u64, Vec<u8>)>,
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
            side.next.get_or_insert(Cursor {
                seq: seg.seq.plus(1),
                offset: 0,
            });
        }
        if seg.payload_len == 0 {
            return out;
        }
        let next = *side.next.get_or_insert(Cursor {
            seq: seg.seq,
            offset: 0,
        });
        let len = u64::from(seg.payload_len);
        // Bytes from before the first one are retransmissions: drop them.
        let (start, skip) = match next.offset_of(seg.seq) {
            Some(start) => (start, 0),
            None => (0, next.offset + next.seq.since(seg.seq) as u64),
        };
        if skip >= len || start + len <= next.offset {
            return out; // all of it delivered already: a retransmission
        }
        // Cut by the snaplen: the rest is a gap, delivered as such.
        let bytes = &payload[..payload.len().min(seg.payload_len as usize)];
        if start <= next.offset {
            let skip = (skip + next.offset - start) as usize;
            let data = bytes.get(skip..).unwrap_or_default().to_vec();
            deliver(
                side,
                next,
                direction,
                frame,
                data,
                (len - skip as u64) as u32,
                &mut out,
            );
            drain(side, direction, &mut out);
        } else {
            side.held_bytes += bytes.len();
            side.held.insert(start, (frame, bytes.to_vec()));
            if side.held_bytes > MAX_HELD {
                give_up_gap(side, direction, &mut out);
            }
        }
        out
    }

    /// Delivers whatever is still held, with the gaps before it.
    pub fn finish(&mut self) -> Vec<Piece> {
        let mut out = Vec::new();
        for (side, direction) in self
            .sides
            .iter_mut()
            .zip([Direction::ClientToServer, Direction::ServerToClient])
        {
            while !side.held.is_empty() {
                give_up_gap(side, direction, &mut out);
            }
        }
        out
    }
}

/// Delivers `data`, which stands for `len` sequence bytes from `next`.
fn deliver(
    side: &mut Side,
    mut next: Cursor,
    direction: Direction,
    frame: u64,
    data: Vec<u8>,
    len: u32,
    out: &mut Vec<Piece>,
) {
    let missing = len - data.len() as u32;
    next.advance(len);
    side.next = Some(next);
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
    while let Some(next) = side.next {
        // The first held segment, if it starts at or before `next`.
        let Some(entry) = side.held.first_entry() else {
            return;
        };
        let start = *entry.key();
        if start > next.offset {
            return;
        }
        let (frame, bytes) = entry.remove();
        side.held_bytes -= bytes.len();
        let end = start + bytes.len() as u64;
        if end <= next.offset {
            continue;
        }
        let data = bytes[(next.offset - start) as usize..].to_vec();
        let len = data.len() as u32;
        deliver(side, next, direction, frame, data, len, out);
    }
}

/// Declares the gap before the first held segment lost and moves on.
fn give_up_gap(side: &mut Side, direction: Direction, out: &mut Vec<Piece>) {
    let (Some(&start), Some(mut next)) = (side.held.keys().next(), side.next) else {
        return;
    };
    if start > next.offset {
        let gap = start - next.offset;
        out.push(Piece::Gap {
            direction,
            len: gap as u32,
        });
        next.advance(gap as u32);
        side.next = Some(next);
    }
    drain(side, direction, out);
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    fn seg(seq: u32, len: u32, flags: Flags) -> Segment {
        let a: SocketAddr = "127.0.0.1:1".parse().unwrap();
        Segment {
            src: a,
            dst: a,
            seq: SeqNumber(seq),
            ack: SeqNumber(0),
            flags,
            ae: false,
            window: 0,
            payload_len: len,
            wscale: None,
            sacked: 0,
        }
    }

    fn text(pieces: &[Piece]) -> String {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Data { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
                Piece::Gap { len, .. } => format!("[gap {len}]"),
            })
            .collect()
    }

    /// The ISN sits just below 2^32: the second and third segments start
    /// after the wrap and arrive out of order. Keyed by raw sequence
    /// numbers, the held one sorted before data it follows.
    #[test]
    fn out_of_order_data_across_the_sequence_wrap() {
        let dir = Direction::ClientToServer;
        let mut r = Reassembler::new();
        let isn = u32::MAX - 4;
        let mut got = r.push(1, &seg(isn, 0, Flags::SYN), dir, b"");
        got.extend(r.push(2, &seg(isn.wrapping_add(1), 3, Flags::ACK), dir, b"abc"));
        // "ghi" (seq wraps to 3) comes before "def" (seq 0xffffffff..2).
        got.extend(r.push(4, &seg(isn.wrapping_add(7), 3, Flags::ACK), dir, b"ghi"));
        got.extend(r.push(3, &seg(isn.wrapping_add(4), 3, Flags::ACK), dir, b"def"));
        got.extend(r.finish());
        assert_eq!(text(&got), "abcdefghi");
    }

    #[test]
    fn a_lost_segment_across_the_wrap_is_one_gap() {
        let dir = Direction::ServerToClient;
        let mut r = Reassembler::new();
        let start = u32::MAX - 1;
        let mut got = r.push(1, &seg(start, 2, Flags::ACK), dir, b"ab");
        got.extend(r.push(3, &seg(start.wrapping_add(4), 2, Flags::ACK), dir, b"ef"));
        // A retransmission of what was delivered is dropped.
        got.extend(r.push(4, &seg(start, 2, Flags::ACK), dir, b"ab"));
        got.extend(r.finish());
        assert_eq!(text(&got), "ab[gap 2]ef");
    }

    /// A gap, then held segments on both sides of the wrap: the gap ends at
    /// the first of them, and neither is dropped.
    #[test]
    fn held_segments_on_both_sides_of_the_wrap() {
        let dir = Direction::ClientToServer;
        let mut r = Reassembler::new();
        let start = u32::MAX - 5;
        let mut got = r.push(1, &seg(start, 2, Flags::ACK), dir, b"ab");
        // "cd" is lost; "ef" ends at 2^32 - 1, "gh" starts at 0.
        got.extend(r.push(3, &seg(start.wrapping_add(4), 2, Flags::ACK), dir, b"ef"));
        got.extend(r.push(4, &seg(start.wrapping_add(6), 2, Flags::ACK), dir, b"gh"));
        got.extend(r.finish());
        assert_eq!(text(&got), "ab[gap 2]efgh");
    }
}
