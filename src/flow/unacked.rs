//! The segments one side sent that wait for their ACK (Wireshark's
//! `tcp_unacked_t` list): what a retransmission repeats, which frame an ACK
//! acknowledges and after how long (`tcp.analysis.acks_frame`, `ack_rtt`),
//! and how many bytes are in flight (`tcp.analysis.bytes_in_flight`).
//!
//! At most [`MAX_UNACKED`] segments wait per side, as in Wireshark.

use std::collections::VecDeque;

use crate::values::{Elapsed, SeqNumber, Timestamp};

/// Wireshark's TCP_MAX_UNACKED_SEGMENTS.
pub const MAX_UNACKED: usize = 10_000;

/// One segment in the list: the sequence space it occupies (a partial ACK
/// moves `seq` up) and when it was captured.
#[derive(Debug, Clone, Copy)]
pub(super) struct Unacked {
    pub frame: u64,
    pub seq: SeqNumber,
    pub nextseq: SeqNumber,
    pub sent: Timestamp,
}

/// What an ACK acknowledged exactly: the frame whose end it names, and the
/// time since that frame was captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Acked {
    pub frame: u64,
    pub rtt: Elapsed,
}

/// Newest first. Most of the time that is none or one (a lone SYN, a
/// request in flight): those need no allocation, and the list's memory
/// goes back once it empties.
#[derive(Debug, Clone, Default)]
pub(super) enum Pending {
    #[default]
    Empty,
    One(Unacked),
    Many(Box<Many>),
}

/// Two or more waiting segments, and their span as last measured: a bulk
/// sender has thousands in flight, and walking them for every segment it
/// sends made `replay --summary` ten times slower. The span is kept up as
/// segments join, and measured again during the walk an ACK makes anyway.
#[derive(Debug, Clone)]
pub(super) struct Many {
    list: VecDeque<Unacked>,
    bounds: Option<Bounds>,
}

/// The lowest and highest waiting byte, relative to `base`.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    base: SeqNumber,
    lo: u32,
    hi: u32,
}

impl Bounds {
    fn of(base: SeqNumber, u: &Unacked) -> Bounds {
        Bounds {
            base,
            lo: u.seq.since(base),
            hi: u.nextseq.since(base),
        }
    }

    fn widen(&mut self, u: &Unacked) {
        self.lo = self.lo.min(u.seq.since(self.base));
        self.hi = self.hi.max(u.nextseq.since(self.base));
    }
}

impl Pending {
    pub fn len(&self) -> usize {
        match self {
            Pending::Empty => 0,
            Pending::One(_) => 1,
            Pending::Many(m) => m.list.len(),
        }
    }

    /// True when [`MAX_UNACKED`] segments wait (the ACKs are not being
    /// captured): no more are listed.
    pub fn is_full(&self) -> bool {
        self.len() >= MAX_UNACKED
    }

    /// Adds the newest segment, unless the list [`is_full`](Self::is_full).
    pub fn push_front(&mut self, u: Unacked) {
        if self.is_full() {
            return;
        }
        *self = match std::mem::take(self) {
            Pending::Empty => Pending::One(u),
            Pending::One(old) => Pending::Many(Box::new(Many {
                list: VecDeque::from([u, old]),
                bounds: None,
            })),
            Pending::Many(mut m) => {
                m.list.push_front(u);
                if let Some(b) = m.bounds.as_mut() {
                    b.widen(&u);
                }
                Pending::Many(m)
            }
        }
    }

    /// Newest first.
    fn iter(&self) -> impl DoubleEndedIterator<Item = &Unacked> {
        let (a, b): (&[Unacked], &[Unacked]) = match self {
            Pending::Empty => (&[], &[]),
            Pending::One(u) => (std::slice::from_ref(u), &[]),
            Pending::Many(m) => m.list.as_slices(),
        };
        a.iter().chain(b)
    }

    fn retain_mut(&mut self, mut keep: impl FnMut(&mut Unacked) -> bool) {
        match self {
            Pending::Empty => {}
            Pending::One(u) => {
                if !keep(u) {
                    *self = Pending::Empty;
                }
            }
            Pending::Many(m) => {
                // The span is measured again over what stays, in the same walk.
                let mut bounds: Option<Bounds> = None;
                let base = m.bounds.map(|b| b.base);
                m.list.retain_mut(|u| {
                    let kept = keep(u);
                    if let (true, Some(base)) = (kept, base) {
                        match bounds.as_mut() {
                            Some(b) => b.widen(u),
                            None => bounds = Some(Bounds::of(base, u)),
                        }
                    }
                    kept
                });
                m.bounds = bounds;
                if m.list.is_empty() {
                    *self = Pending::Empty;
                }
            }
        }
    }

    /// The oldest waiting segment that carried `seq`: the one a
    /// retransmission of `seq` repeats.
    pub fn first_sender(&self, seq: SeqNumber) -> Option<u64> {
        self.iter()
            .rev()
            .find(|u| !u.seq.after(seq) && u.nextseq.after(seq))
            .or_else(|| self.iter().rev().find(|u| u.seq == seq))
            .map(|u| u.frame)
    }

    /// Drops the segments `ack` (captured at `now`) acknowledges and trims
    /// the one it acknowledges in part; returns the segment whose end it
    /// names exactly. Newest first, as Wireshark walks its list, so the
    /// oldest exact match wins.
    pub fn acknowledge(&mut self, ack: SeqNumber, now: Timestamp) -> Option<Acked> {
        let mut acked = None;
        self.retain_mut(|u| {
            if ack == u.nextseq {
                acked = Some(Acked {
                    frame: u.frame,
                    rtt: Elapsed::between(u.sent, now),
                });
                false
            } else if u.nextseq.after(ack) {
                if ack.after(u.seq) {
                    u.seq = ack;
                }
                true
            } else {
                false
            }
        });
        acked
    }

    /// The span from the lowest waiting byte to the highest, as Wireshark
    /// measures bytes in flight: positions are taken relative to the
    /// side's initial sequence number `base` and compared as plain numbers
    /// (so the span wraps as Wireshark's does). `None` for an empty list.
    pub fn span(&mut self, base: SeqNumber) -> Option<u32> {
        let b = match self {
            Pending::Empty => return None,
            Pending::One(u) => Bounds::of(base, u),
            Pending::Many(m) => match m.bounds {
                Some(b) if b.base == base => b,
                _ => {
                    let mut all = m.list.iter();
                    let mut b = Bounds::of(base, all.next()?);
                    all.for_each(|u| b.widen(u));
                    m.bounds = Some(b);
                    b
                }
            },
        };
        Some(b.hi.wrapping_sub(b.lo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ns: u32) -> Timestamp {
        Timestamp { sec: 100, nsec: ns }
    }

    fn sent(frame: u64, seq: u32, len: u32, ns: u32) -> Unacked {
        Unacked {
            frame,
            seq: SeqNumber(seq),
            nextseq: SeqNumber(seq.wrapping_add(len)),
            sent: at(ns),
        }
    }

    #[test]
    fn an_ack_names_the_frame_it_completes_and_the_time_since() {
        let mut p = Pending::default();
        p.push_front(sent(4, 1, 5, 1_000));
        p.push_front(sent(6, 6, 5, 2_000));
        // Half of frame 4: nothing named, frame 4 trimmed to its tail.
        assert_eq!(p.acknowledge(SeqNumber(3), at(2_500)), None);
        assert_eq!(p.span(SeqNumber(0)), Some(8));
        p.push_front(sent(7, 20, 5, 2_000)); // past a hole
        assert_eq!(p.span(SeqNumber(0)), Some(22));
        p.acknowledge(SeqNumber(11), at(2_600));
        let acked = p.acknowledge(SeqNumber(25), at(123_456));
        assert_eq!(
            acked,
            Some(Acked {
                frame: 7,
                rtt: Elapsed(121_456)
            })
        );
        assert_eq!(p.len(), 0);
        assert_eq!(p.span(SeqNumber(0)), None);
    }

    #[test]
    fn the_oldest_exact_match_wins() {
        let mut p = Pending::default();
        p.push_front(sent(4, 1, 5, 1_000));
        p.push_front(sent(9, 1, 5, 9_000)); // the retransmission
        let acked = p.acknowledge(SeqNumber(6), at(10_000)).unwrap();
        assert_eq!((acked.frame, acked.rtt), (4, Elapsed(9_000)));
    }

    #[test]
    fn the_span_is_relative_to_the_initial_sequence_number() {
        let mut p = Pending::default();
        // Across the wrap of the raw numbers, not of the relative ones.
        p.push_front(sent(2, u32::MAX - 1, 4, 0));
        p.push_front(sent(3, 2, 10, 0));
        assert_eq!(p.span(SeqNumber(u32::MAX - 10)), Some(14));
    }

    #[test]
    fn the_list_stops_growing_at_the_limit() {
        let mut p = Pending::default();
        for i in 0..MAX_UNACKED as u32 + 5 {
            p.push_front(sent(u64::from(i), i * 10, 10, 0));
        }
        assert_eq!(p.len(), MAX_UNACKED);
    }
}
