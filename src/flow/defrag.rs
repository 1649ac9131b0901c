//! IP fragment reassembly as Wireshark 4.0 does it (`epan/reassemble.c`
//! `fragment_add_check` / `fragment_add_work`, called by `packet-ip.c` and
//! `packet-ipv6.c`), single pass: [`Defrag::add`] takes one fragment and,
//! on the frame that completes its datagram, returns the reassembled IP
//! payload (for TCP, the whole segment) and the frames it came from.
//!
//! The rules, each checked with tshark 4.0.17 on `captures/encap/*fragments*`
//! (made by `scripts/make-fragment-captures.py`; pieces A = bytes 0-23,
//! B = 24-31, C = 32-36 of a 37-byte segment):
//!
//! * **What is a fragment.** IPv4: MF set or offset non-zero (MF 0 offset 0
//!   is a whole datagram and never reaches the table); IPv6: a Fragment
//!   header, even with M 0 offset 0.
//! * **The key** ([`DefragKey`]): IPv4 source, destination and
//!   `identification ^ protocol` (Wireshark folds the protocol into the id:
//!   a TCP piece with id 0x42f8 ^ 6 ^ 17 completed a UDP one, and the
//!   completing frame's protocol was dissected); IPv6 source, destination,
//!   identification. VLAN tags are not in it (pieces in VLAN 100 and 200
//!   reassembled together).
//! * **What is entered.** Only a fragment whose data the capture holds
//!   whole (`tvb_bytes_exist`): a piece cut by the snaplen is skipped, so
//!   its datagram never completes (`*-snaplen.pcap`), and only one with
//!   data: a zero-length piece is skipped (IPv4 `ip_len > hlen`; IPv6 the
//!   same, checked). A bad IPv4 header checksum skips the piece only when
//!   tshark's `ip.check_checksum` is on (default off: reassembled anyway);
//!   that is the caller's choice to make, not this table's.
//! * **Length.** The first piece with MF 0 sets the datagram's length
//!   (offset + length); a later tail of another length changes nothing (two
//!   tails ending at 36 and 37: reassembled at 36).
//! * **Completion.** Pieces are kept sorted by offset, equal offsets in
//!   arrival order; the datagram is complete when they cover 0..length
//!   without a gap, and the frame of the piece that closed the gap is
//!   `reassembled_in`, whatever its offset (`out-of-order`: C, A, B is
//!   completed by B). The fragment list (`ip.fragment`) is in that sorted
//!   order ("#5, #6, #4" for C=4, A=5, B=6) and counts every piece entered,
//!   duplicates included (`ip.fragment.count` 4 for A, A, B, C).
//! * **Overlap.** Walking the sorted pieces, each byte comes from the first
//!   piece that covers it: the lower offset wins, and at an equal offset the
//!   earlier arrival (`overlap`: C "hello" then C' "HELLO" gives "hello";
//!   C "hello", X = 24..37 "HELLO", A gives "HELLO"; 0..32, 24..35 "HEL",
//!   32..37 "hello" gives "HELlo"). Bytes past the length are dropped.
//! * **After completion** the datagram leaves the table: a later piece with
//!   the same key starts a new one (`duplicate`: C again after completion is
//!   `data` and never completes). tshark's "Reassembled in #N" on the other
//!   pieces needs a second pass; streaming, we do not give it.
//! * **What tshark dissects as TCP.** The completing frame: the reassembled
//!   segment (the caller's to decode; the other pieces are `data`). A piece
//!   that is not entered but starts at offset 0 (IPv4 only: cut by the
//!   snaplen, or a bad checksum with checking on) is dissected as TCP from
//!   what it holds, with no `tcp.len` and absolute sequence numbers
//!   (`ipv4-fragments-snaplen.pcap` frame 4; the wild
//!   `bgp_pmsi_tunnel-oobr.pcap`); an IPv6 one is `data`.
//!
//! Bounds, where tshark has none (a departure only on hostile captures):
//! at most [`MAX_PENDING_DATAGRAMS`] datagrams and [`MAX_PENDING_BYTES`]
//! held (data plus a fixed cost per piece); past either the oldest pending
//! datagram is dropped. A piece ending past [`MAX_DATAGRAM_LEN`] bytes, or
//! past [`MAX_FRAGMENTS`] pieces or [`MAX_PENDING_BYTES`] in one datagram,
//! is refused. No offset or
//! length makes [`Defrag::add`] panic.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxBuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Datagrams waiting for pieces; past this the oldest is dropped. A real
/// capture rarely has more than a few in flight at once.
pub const MAX_PENDING_DATAGRAMS: usize = 1024;
/// Bytes held across pending datagrams (data plus [`PIECE_COST`] a piece).
pub const MAX_PENDING_BYTES: usize = 16 << 20;
/// The largest reassembled payload accepted: an IPv4 total length and an
/// IPv6 payload length are 16 bits, so no honest datagram is larger.
pub const MAX_DATAGRAM_LEN: u32 = 65_535;
/// Pieces in one datagram: 65535 / 8, every offset once. More means
/// duplicates without end, which would make each completion check slow.
pub const MAX_FRAGMENTS: usize = 8192;
/// What a held piece costs besides its data, counted against
/// [`MAX_PENDING_BYTES`] so that floods of tiny pieces are bounded too.
pub const PIECE_COST: usize = std::mem::size_of::<Piece>();

/// Which datagram a fragment belongs to, as Wireshark keys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DefragKey {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
}

impl DefragKey {
    /// IPv4: Wireshark's id is `identification ^ protocol` (packet-ip.c
    /// folds the protocol in), so pieces of different protocols can meet.
    pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, identification: u16, protocol: u8) -> Self {
        let id = u32::from(identification ^ u16::from(protocol));
        Self {
            src: src.into(),
            dst: dst.into(),
            id,
        }
    }

    /// IPv6: the Fragment header's identification (RFC 8200 §4.5).
    pub fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, identification: u32) -> Self {
        Self {
            src: src.into(),
            dst: dst.into(),
            id: identification,
        }
    }
}

/// One fragment as its IP header describes it.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// 1-based frame number.
    pub frame: u64,
    /// Where the data starts in the datagram's payload, in bytes (the
    /// header's 8-byte units times 8).
    pub offset: u32,
    /// IPv4 MF, IPv6 M: more pieces follow this one.
    pub more: bool,
    /// The data bytes the IP header declares for this piece.
    pub declared_len: usize,
    /// The bytes the capture holds of them (shorter when cut by the
    /// snaplen; bytes past `declared_len`, link padding, are ignored).
    pub data: &'a [u8],
}

/// What [`Defrag::add`] did with a fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Held: its datagram is not complete yet.
    Held,
    /// This fragment completed its datagram.
    Complete(Reassembled),
    /// Not entered, and why.
    Skipped(Skip),
}

/// Why a fragment was not entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// No data (tshark enters none either).
    Empty,
    /// The capture cut the data (tshark: `tvb_bytes_exist` fails).
    NotCaptured,
    /// It ends past [`MAX_DATAGRAM_LEN`] (a bound of ours).
    TooLarge,
    /// Its datagram already holds [`MAX_FRAGMENTS`] pieces, or would hold
    /// more than [`MAX_PENDING_BYTES`] with it (bounds of ours).
    TooManyFragments,
}

/// A completed datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    /// The reassembled IP payload (`ip.reassembled.length` bytes).
    pub payload: Vec<u8>,
    /// The frame of every piece entered, sorted by offset, equal offsets
    /// in arrival order (`ip.fragment` / `ipv6.fragment`; its length is
    /// `ip.fragment.count` / `ipv6.fragment.count`).
    pub frames: Vec<u64>,
}

/// One held piece.
#[derive(Debug)]
struct Piece {
    offset: u32,
    frame: u64,
    data: Box<[u8]>,
}

impl Piece {
    fn end(&self) -> u32 {
        // Cannot overflow: `add` refuses pieces ending past MAX_DATAGRAM_LEN.
        self.offset + self.data.len() as u32
    }

    fn cost(&self) -> usize {
        self.data.len() + PIECE_COST
    }
}

/// The pieces of one datagram so far.
#[derive(Debug, Default)]
struct Pending {
    /// Sorted by offset; equal offsets in arrival order.
    pieces: Vec<Piece>,
    /// Set by the first piece with MF 0.
    len: Option<u32>,
    /// Its place in the age order (`Defrag::age`).
    age: u64,
    /// What its pieces cost against [`MAX_PENDING_BYTES`].
    cost: usize,
}

impl Pending {
    fn insert(&mut self, piece: Piece, more: bool) {
        self.cost += piece.cost();
        if !more && self.len.is_none() {
            self.len = Some(piece.end());
        }
        let at = self.pieces.partition_point(|p| p.offset <= piece.offset);
        self.pieces.insert(at, piece);
    }

    /// True once the sorted pieces cover 0..len with no gap.
    fn is_complete(&self) -> bool {
        let Some(len) = self.len else { return false };
        let mut covered = 0;
        for p in &self.pieces {
            if p.offset <= covered && p.end() > covered {
                covered = p.end();
            }
        }
        covered >= len
    }

    /// The payload, each byte from the first sorted piece covering it.
    fn assemble(self) -> Reassembled {
        let len = self.len.unwrap_or(0) as usize;
        let mut payload = Vec::with_capacity(len);
        for p in &self.pieces {
            let (start, end) = (p.offset as usize, (p.end() as usize).min(len));
            if start <= payload.len() && end > payload.len() {
                payload.extend_from_slice(&p.data[payload.len() - start..end - start]);
            }
        }
        let frames = self.pieces.iter().map(|p| p.frame).collect();
        Reassembled { payload, frames }
    }
}

/// The reassembly table: pending datagrams, bounded.
#[derive(Debug, Default)]
pub struct Defrag {
    /// FxHash, as the tracker's index: SipHash's resistance to chosen
    /// keys buys nothing against a capture file and cost a fifth of a
    /// fragment's time.
    pending: HashMap<DefragKey, Pending, FxBuildHasher>,
    /// Pending keys by age, oldest first: who goes when a bound is hit.
    age: BTreeMap<u64, DefragKey>,
    next_age: u64,
    bytes: usize,
    evicted: u64,
}

impl Defrag {
    pub fn new() -> Self {
        Self::default()
    }

    /// Enters one fragment; on the one that completes its datagram, returns
    /// the datagram and forgets it.
    pub fn add(&mut self, key: DefragKey, frag: Fragment<'_>) -> Outcome {
        if let Some(skip) = Self::check(&frag) {
            return Outcome::Skipped(skip);
        }
        let data: Box<[u8]> = frag.data[..frag.declared_len].into();
        let piece = Piece {
            offset: frag.offset,
            frame: frag.frame,
            data,
        };
        let mut entry = self.take(key);
        let needed = entry.cost + piece.cost();
        if entry.pieces.len() >= MAX_FRAGMENTS || needed > MAX_PENDING_BYTES {
            self.put(key, entry);
            return Outcome::Skipped(Skip::TooManyFragments);
        }
        self.make_room(needed);
        entry.insert(piece, frag.more);
        if entry.is_complete() {
            return Outcome::Complete(entry.assemble());
        }
        self.put(key, entry);
        Outcome::Held
    }

    /// Datagrams waiting for pieces.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes held, as counted against [`MAX_PENDING_BYTES`].
    pub fn pending_bytes(&self) -> usize {
        self.bytes
    }

    /// Pending datagrams dropped so far to keep within the bounds.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    fn check(frag: &Fragment<'_>) -> Option<Skip> {
        let end = u64::from(frag.offset) + frag.declared_len as u64;
        if frag.declared_len == 0 {
            Some(Skip::Empty)
        } else if end > u64::from(MAX_DATAGRAM_LEN) {
            Some(Skip::TooLarge)
        } else if frag.data.len() < frag.declared_len {
            Some(Skip::NotCaptured)
        } else {
            None
        }
    }

    /// The pending datagram of `key`, out of the table (a new one if none),
    /// so that making room cannot drop the datagram being added to.
    fn take(&mut self, key: DefragKey) -> Pending {
        match self.pending.remove(&key) {
            Some(entry) => {
                self.bytes -= entry.cost;
                self.age.remove(&entry.age);
                entry
            }
            None => {
                self.next_age += 1;
                Pending {
                    age: self.next_age,
                    ..Pending::default()
                }
            }
        }
    }

    fn put(&mut self, key: DefragKey, entry: Pending) {
        self.bytes += entry.cost;
        self.age.insert(entry.age, key);
        self.pending.insert(key, entry);
    }

    /// Drops the oldest datagrams until one more, holding `needed` bytes,
    /// fits both bounds (the datagram being added to is out of the table).
    fn make_room(&mut self, needed: usize) {
        while self.pending.len() >= MAX_PENDING_DATAGRAMS || self.bytes + needed > MAX_PENDING_BYTES
        {
            let Some((_, oldest)) = self.age.pop_first() else {
                break;
            };
            if let Some(entry) = self.pending.remove(&oldest) {
                self.bytes -= entry.cost;
                self.evicted += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 37-byte datagram like the captures': 32 bytes of TCP header, "hello".
    fn segment() -> Vec<u8> {
        let mut s: Vec<u8> = (0..32).collect();
        s.extend_from_slice(b"hello");
        s
    }

    fn key(id: u16) -> DefragKey {
        DefragKey::ipv4(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, id, 6)
    }

    fn frag(frame: u64, offset: u32, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            frame,
            offset,
            more,
            declared_len: data.len(),
            data,
        }
    }

    /// Feeds (frame, first byte, end byte, more) pieces of `bytes`; the outcomes.
    fn feed(
        d: &mut Defrag,
        k: DefragKey,
        bytes: &[u8],
        pieces: &[(u64, u32, u32, bool)],
    ) -> Vec<Outcome> {
        let slice = |a: u32, b: u32| &bytes[a as usize..b as usize];
        pieces
            .iter()
            .map(|&(f, a, b, m)| d.add(k, frag(f, a, m, slice(a, b))))
            .collect()
    }

    fn complete(o: &Outcome) -> &Reassembled {
        match o {
            Outcome::Complete(r) => r,
            other => panic!("not complete: {other:?}"),
        }
    }

    const A: (u32, u32, bool) = (0, 24, true);
    const B: (u32, u32, bool) = (24, 32, true);
    const C: (u32, u32, bool) = (32, 37, false);

    fn at(frame: u64, p: (u32, u32, bool)) -> (u64, u32, u32, bool) {
        (frame, p.0, p.1, p.2)
    }

    #[test]
    fn in_order_completes_on_the_last_piece() {
        let (s, mut d) = (segment(), Defrag::new());
        let out = feed(&mut d, key(1), &s, &[at(4, A), at(5, B), at(6, C)]);
        assert_eq!(out[..2], [Outcome::Held, Outcome::Held]);
        let r = complete(&out[2]);
        assert_eq!(
            (r.payload.as_slice(), r.frames.as_slice()),
            (s.as_slice(), &[4, 5, 6][..])
        );
        assert_eq!((d.pending(), d.pending_bytes()), (0, 0));
    }

    #[test]
    fn out_of_order_completes_on_the_piece_that_closes_the_gap() {
        // tshark, ipv4-fragments-out-of-order.pcap: C=4, A=5, B=6 -> #5, #6, #4 in 6.
        let (s, mut d) = (segment(), Defrag::new());
        let out = feed(&mut d, key(1), &s, &[at(4, C), at(5, A), at(6, B)]);
        let r = complete(&out[2]);
        assert_eq!(
            (r.payload.as_slice(), r.frames.as_slice()),
            (s.as_slice(), &[5, 6, 4][..])
        );
    }

    #[test]
    fn a_duplicate_before_completion_counts_and_one_after_starts_anew() {
        // tshark, ipv4-fragments-duplicate.pcap: count 4, then C again is data.
        let (s, mut d) = (segment(), Defrag::new());
        let out = feed(
            &mut d,
            key(1),
            &s,
            &[at(4, A), at(5, A), at(6, B), at(7, C), at(8, C)],
        );
        assert_eq!(complete(&out[3]).frames, [4, 5, 6, 7]);
        assert_eq!(complete(&out[3]).payload, s);
        assert_eq!((&out[4], d.pending()), (&Outcome::Held, 1));
    }

    #[test]
    fn overlapping_bytes_come_from_the_lowest_offset_then_the_earliest() {
        let mut upper = segment();
        upper[32..].copy_from_slice(b"HELLO");
        let s = segment();
        let mut d = Defrag::new();
        // C "hello", C' "HELLO", A, B: the first at an equal offset wins.
        d.add(key(1), frag(4, 32, false, &s[32..]));
        d.add(key(1), frag(5, 32, false, &upper[32..]));
        feed(&mut d, key(1), &s, &[at(6, A)]);
        let r = complete(&feed(&mut d, key(1), &s, &[at(7, B)])[0]).clone();
        assert_eq!(
            (&r.payload[32..], r.frames.as_slice()),
            (&b"hello"[..], &[6, 7, 4, 5][..])
        );
        // C "hello", X = 24..37 "HELLO", A: the lower offset wins.
        d.add(key(2), frag(9, 32, false, &s[32..]));
        d.add(key(2), frag(10, 24, true, &upper[24..]));
        let r = complete(&feed(&mut d, key(2), &s, &[at(11, A)])[0]).clone();
        assert_eq!(
            (&r.payload[32..], r.frames.as_slice()),
            (&b"HELLO"[..], &[11, 10, 9][..])
        );
        // 0..32, 24..35 "HEL", 32..37 "hello": only the uncovered rest is taken.
        d.add(key(3), frag(1, 0, true, &s[..32]));
        d.add(key(3), frag(2, 24, true, &upper[24..35]));
        let r = complete(&feed(&mut d, key(3), &s, &[at(3, C)])[0]).clone();
        assert_eq!(&r.payload[32..], b"HELlo");
    }

    #[test]
    fn the_first_tail_sets_the_length() {
        // tshark: tails ending at 36 then 37 reassemble 36 bytes.
        let (s, mut d) = (segment(), Defrag::new());
        let out = feed(
            &mut d,
            key(1),
            &s,
            &[at(1, A), at(2, B), (3, 32, 36, false)],
        );
        assert_eq!(complete(&out[2]).payload, s[..36]);
        // A tail shorter than a piece already held cuts that piece.
        let out = feed(&mut d, key(2), &s, &[(1, 0, 37, true), (2, 24, 30, false)]);
        assert_eq!(complete(&out[1]).payload, s[..30]);
        assert_eq!(complete(&out[1]).frames, [1, 2]);
    }

    #[test]
    fn an_incomplete_set_stays_pending() {
        let (s, mut d) = (segment(), Defrag::new());
        let out = feed(
            &mut d,
            key(1),
            &s,
            &[at(1, A), at(2, B), at(3, A), at(4, C)],
        );
        assert!(matches!(out[3], Outcome::Complete(_)));
        assert_eq!(
            feed(&mut d, key(2), &s, &[at(5, A), at(6, C)]),
            [Outcome::Held, Outcome::Held]
        );
        assert_eq!(d.pending(), 1);
        assert_eq!(d.pending_bytes(), 24 + 5 + 2 * PIECE_COST);
    }

    #[test]
    fn keys_differ_by_addresses_and_id_xor_protocol() {
        let (lo, other) = (Ipv4Addr::LOCALHOST, Ipv4Addr::new(192, 0, 2, 1));
        assert_ne!(
            DefragKey::ipv4(lo, lo, 7, 6),
            DefragKey::ipv4(lo, other, 7, 6)
        );
        assert_ne!(DefragKey::ipv4(lo, lo, 7, 6), DefragKey::ipv4(lo, lo, 8, 6));
        // tshark reassembled a TCP piece with a UDP one of id ^ 6 ^ 17.
        assert_eq!(
            DefragKey::ipv4(lo, lo, 7, 6),
            DefragKey::ipv4(lo, lo, 7 ^ 6 ^ 17, 17)
        );
        let v6 = Ipv6Addr::LOCALHOST;
        assert_ne!(DefragKey::ipv6(v6, v6, 7), DefragKey::ipv4(lo, lo, 7, 0));
    }

    #[test]
    fn cut_empty_and_oversized_pieces_are_skipped() {
        let (s, mut d) = (segment(), Defrag::new());
        let cut = Fragment {
            frame: 1,
            offset: 0,
            more: true,
            declared_len: 24,
            data: &s[..20],
        };
        assert_eq!(d.add(key(1), cut), Outcome::Skipped(Skip::NotCaptured));
        assert_eq!(
            d.add(key(1), frag(2, 8, true, &[])),
            Outcome::Skipped(Skip::Empty)
        );
        let big = vec![0; 16];
        assert_eq!(
            d.add(key(1), frag(3, 65_528, true, &big)),
            Outcome::Skipped(Skip::TooLarge)
        );
        assert_eq!(
            d.add(key(1), frag(4, u32::MAX, false, &big)),
            Outcome::Skipped(Skip::TooLarge)
        );
        assert_eq!(d.pending(), 0);
        // Link padding past the declared length is not taken.
        let padded = Fragment {
            frame: 5,
            offset: 0,
            more: false,
            declared_len: 4,
            data: &s[..10],
        };
        assert_eq!(complete(&d.add(key(1), padded)).payload, s[..4]);
    }

    #[test]
    fn hostile_offsets_never_panic_and_a_piece_past_the_tail_is_dropped() {
        let (s, mut d) = (segment(), Defrag::new());
        // A piece wholly past the length, entered before the tail: counted, not copied.
        let out = feed(
            &mut d,
            key(1),
            &s,
            &[(1, 32, 37, true), at(2, A), (3, 24, 32, false)],
        );
        let r = complete(&out[2]);
        assert_eq!(
            (r.payload.as_slice(), r.frames.as_slice()),
            (&s[..32], &[2, 3, 1][..])
        );
        for offset in [
            0,
            1,
            7,
            8,
            65_527,
            65_528,
            65_535,
            65_536,
            u32::MAX - 1,
            u32::MAX,
        ] {
            for more in [false, true] {
                d.add(key(9), frag(1, offset, more, &s));
                d.add(key(9), frag(2, offset / 2, !more, &s[..1]));
            }
        }
    }

    #[test]
    fn the_oldest_datagram_goes_when_the_count_bound_is_hit() {
        let (s, mut d) = (segment(), Defrag::new());
        for id in 0..=MAX_PENDING_DATAGRAMS as u16 {
            assert_eq!(d.add(key(id), frag(1, 0, true, &s[..8])), Outcome::Held);
        }
        assert_eq!((d.pending(), d.evicted()), (MAX_PENDING_DATAGRAMS, 1));
        // Datagram 0 is gone: its tail alone does not complete it.
        assert_eq!(d.add(key(0), frag(2, 8, false, &s[8..16])), Outcome::Held);
        // Datagram 2, refreshed by nothing, is still whole when its tail comes.
        assert!(matches!(
            d.add(key(2), frag(3, 8, false, &s[8..16])),
            Outcome::Complete(_)
        ));
    }

    #[test]
    fn the_byte_bound_holds_and_drops_the_oldest_first() {
        let mut d = Defrag::new();
        let piece = vec![0u8; 60_000];
        let per = piece.len() + PIECE_COST;
        let fit = MAX_PENDING_BYTES / per;
        for id in 0..fit as u16 + 3 {
            d.add(key(id), frag(1, 0, true, &piece));
            assert!(d.pending_bytes() <= MAX_PENDING_BYTES);
        }
        assert_eq!((d.pending(), d.evicted()), (fit, 3));
        // Piling duplicates into one datagram is refused once it alone is full.
        let mut d = Defrag::new();
        let mut refused = 0;
        for frame in 0..fit as u64 + 2 {
            refused += usize::from(d.add(key(1), frag(frame, 0, true, &piece)) != Outcome::Held);
        }
        assert_eq!((refused, d.pending()), (2, 1));
        assert!(d.pending_bytes() <= MAX_PENDING_BYTES);
    }

    #[test]
    fn a_datagram_holds_at_most_max_fragments_pieces() {
        let (s, mut d) = (segment(), Defrag::new());
        for frame in 0..MAX_FRAGMENTS as u64 {
            assert_eq!(d.add(key(1), frag(frame, 8, true, &s[..8])), Outcome::Held);
        }
        let last = d.add(key(1), frag(0, 0, true, &s[..8]));
        assert_eq!(last, Outcome::Skipped(Skip::TooManyFragments));
    }
}
