//! Conversation table: which stream a segment belongs to, its direction, and
//! its sequence numbers relative to each direction's initial one.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::{
    AccEcn, CloseWatch, ConnectionAnalysis, Findings, Phase, PhaseState, Segment, WindowScale,
};
use crate::decode::Flags;
use crate::values::SeqNumber;
use crate::values::Timestamp;

/// Which way a segment goes, relative to the side that opened the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

impl Direction {
    /// Index for per-direction arrays: client → server is 0.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the tracker learned of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowInfo {
    /// 0-based, in order of first appearance (tshark's `tcp.stream`).
    pub stream: u32,
    pub direction: Direction,
    /// Relative sequence number (`tcp.seq`).
    pub seq: u32,
    /// Relative acknowledgment number (`tcp.ack`); the raw one when the
    /// ACK flag is not set (nothing to be relative to).
    pub ack: u32,
    /// Wireshark's TCP analysis of the segment.
    pub findings: Findings,
    /// Handshake, data, teardown or reset.
    pub phase: Phase,
    /// The window in bytes, scaled as the handshake agreed (`tcp.window_size`).
    pub window: u32,
    /// The sender's window scaling as known at this segment
    /// (`tcp.window_size_scalefactor`); `None` on a SYN, whose window is
    /// never scaled.
    pub window_scale: Option<WindowScale>,
    /// The handshake negotiated Accurate ECN and this is not a SYN: the
    /// ECE, CWR and AE bits are the ACE counter, not flags (RFC 9768 §3.2).
    pub accecn: bool,
}

/// One end of a connection, in 20 bytes (a `SocketAddr` takes 32): a
/// capture of a million streams keeps two per stream. The port comes
/// first so that ordering two ends (the key) mostly reads only the ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Endpoint {
    port: u16,
    ip: IpAddr,
}

impl From<SocketAddr> for Endpoint {
    fn from(a: SocketAddr) -> Self {
        Endpoint {
            port: a.port(),
            ip: a.ip(),
        }
    }
}

impl From<Endpoint> for SocketAddr {
    fn from(e: Endpoint) -> Self {
        SocketAddr::new(e.ip, e.port)
    }
}

/// A conversation's 4-tuple, the same whichever way a segment goes.
type Key = (Endpoint, Endpoint);

fn key(a: Endpoint, b: Endpoint) -> Key {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

fn hash_of(k: &Key) -> u64 {
    FxBuildHasher.hash_one(k)
}

/// How long a closed connection keeps its analysis state, in capture time
/// after its last segment: Linux's TIME_WAIT (`TCP_TIMEWAIT_LEN`, 60 s),
/// in which a lost last ACK brings the peer's FIN again. Later segments on
/// the same ports are placed in the same stream but analysed afresh.
pub const LINGER: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Conversation {
    client: Endpoint,
    server: Endpoint,
    /// Initial sequence number per direction, once known (`isn_known`;
    /// not an `Option`, which would double its size).
    isn: [SeqNumber; 2],
    isn_known: [bool; 2],
    analysis: ConnectionAnalysis,
    phase: PhaseState,
    close: CloseWatch,
    /// How far the AccECN handshake went: one byte, the one `PhaseState`
    /// gave up (the conversation stays 120 bytes).
    accecn: AccEcn,
    /// Waiting in `Tracker::closed` to be retired.
    queued: bool,
    /// A segment came while queued: wait another `LINGER`.
    touched: bool,
}

impl Conversation {
    /// Which way `seg` goes: from the client, or from the server.
    fn direction_of(&self, seg: &Segment) -> Direction {
        if Endpoint::from(seg.src) == self.client {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }

    fn key(&self) -> Key {
        key(self.client, self.server)
    }

    /// The initial sequence number of `side`; `guess` becomes it if none is known.
    fn isn_or(&mut self, side: usize, guess: SeqNumber) -> SeqNumber {
        if !self.isn_known[side] {
            self.isn[side] = guess;
            self.isn_known[side] = true;
        }
        self.isn[side]
    }

    /// The base of the side sending `seg`. A SYN-ACK names its sender's ISN
    /// even when an earlier segment fixed another base (a stale RST, data
    /// or an ACK from before the handshake, a reused port whose SYN was
    /// missed): Wireshark moves the base to it and keeps the stream, and
    /// only the relative numbers change, not the analysis state.
    fn sender_base(&mut self, side: usize, seg: &Segment) -> SeqNumber {
        if seg.flags.contains(Flags::SYN | Flags::ACK) {
            self.isn[side] = seg.seq;
            self.isn_known[side] = true;
        }
        // A direction whose SYN was not seen starts at relative 1, as in Wireshark.
        let guess = if seg.flags.contains(Flags::SYN) {
            seg.seq
        } else {
            SeqNumber(seg.seq.0.wrapping_sub(1))
        };
        self.isn_or(side, guess)
    }
}

/// Assigns streams and relative numbers, one segment at a time.
///
/// Memory per stream is a [`Conversation`] and four bytes of index; a
/// side's analysis state is allocated when the side first sends and freed
/// [`LINGER`] after the connection closed.
#[derive(Debug, Default)]
pub struct Tracker {
    /// Every conversation, in stream order (index = stream).
    conversations: Vec<Conversation>,
    /// The current conversation of each 4-tuple, by stream number: the
    /// conversation holds the key (hashbrown's `HashTable`: std's map would
    /// keep a second copy of both endpoints per stream). FxHash: the keys
    /// are addresses from the capture, and SipHash's protection against
    /// chosen keys costs a tenth of the per-packet time.
    index: HashTable<u32>,
    /// The last tuple looked up: consecutive segments mostly share it.
    last: Option<(Key, u32)>,
    /// Closed conversations waiting out [`LINGER`], oldest first.
    closed: VecDeque<(u32, Timestamp)>,
    /// The latest capture time seen.
    clock: Timestamp,
}

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of streams seen so far.
    pub fn streams(&self) -> u32 {
        self.conversations.len() as u32
    }

    /// The client (the side that opened it) and the server of `stream`.
    ///
    /// # Panics
    /// If `stream` was not seen: stream numbers come from this tracker.
    pub fn endpoints(&self, stream: u32) -> (SocketAddr, SocketAddr) {
        let c = &self.conversations[stream as usize];
        (c.client.into(), c.server.into())
    }

    /// Places segment `seg` of frame number `frame`, captured at `ts`, in
    /// its conversation and analyses it.
    pub fn observe(&mut self, frame: u64, ts: Timestamp, seg: &Segment) -> FlowInfo {
        let slot = self.place(seg);
        let conv = &mut self.conversations[slot as usize];
        let direction = conv.direction_of(seg);
        let (me, peer) = (direction.index(), 1 - direction.index());
        let base = conv.sender_base(me, seg);
        // Without the ACK flag the field is shown raw, as tshark shows it.
        let ack = if seg.flags.contains(Flags::ACK) {
            let peer_base = conv.isn_or(peer, SeqNumber(seg.ack.0.wrapping_sub(1)));
            seg.ack.since(peer_base)
        } else {
            seg.ack.0
        };
        let findings = conv.analysis.observe(frame, ts, seg, me, base);
        conv.accecn.observe(seg);
        let info = FlowInfo {
            stream: slot,
            direction,
            seq: seg.seq.since(base),
            ack,
            findings,
            phase: conv.phase.observe(seg, direction),
            window: conv.analysis.scaled_window(me, seg),
            window_scale: (!seg.flags.contains(Flags::SYN)).then(|| conv.analysis.scale(me)),
            accecn: conv.accecn.counts(seg),
        };
        conv.close.observe(seg, direction);
        if conv.queued {
            conv.touched = true;
        } else if conv.close.is_closed() {
            conv.queued = true;
            self.closed.push_back((slot, ts));
        }
        self.retire_due(ts);
        info
    }

    /// Places segment `seg` in its stream without analysing it, for a
    /// segment whose length is unknown (an IPv4 first fragment read where
    /// it lies): tshark gives it its `tcp.stream` but skips the sequence
    /// analysis, so its numbers and window stay raw (the scale factor is
    /// still shown) and no state of the connection moves.
    pub fn place_unanalysed(&mut self, seg: &Segment) -> FlowInfo {
        let slot = self.place(seg);
        let conv = &mut self.conversations[slot as usize];
        let direction = conv.direction_of(seg);
        let syn = seg.flags.contains(Flags::SYN);
        FlowInfo {
            stream: slot,
            direction,
            seq: seg.seq.0,
            ack: seg.ack.0,
            findings: Findings::default(),
            phase: conv.phase.observe(seg, direction),
            window: u32::from(seg.window),
            window_scale: (!syn).then(|| conv.analysis.scale(direction.index())),
            accecn: conv.accecn.counts(seg),
        }
    }

    /// The stream of `seg`: the current one of its 4-tuple, or a new one.
    fn place(&mut self, seg: &Segment) -> u32 {
        let k = key(seg.src.into(), seg.dst.into());
        let hash = hash_of(&k);
        let convs = &self.conversations;
        let mut slot = match self.last {
            Some((lk, i)) if lk == k => Some(i),
            _ => self
                .index
                .find(hash, |&i| convs[i as usize].key() == k)
                .copied(),
        };
        // As Wireshark: a SYN whose sequence number differs from the one this
        // side started with opens a new stream on the same ports.
        let is_new_syn = seg.flags.contains(Flags::SYN) && !seg.flags.contains(Flags::ACK);
        if let Some(i) = slot.filter(|_| is_new_syn) {
            let c = &convs[i as usize];
            let side = if Endpoint::from(seg.src) == c.client {
                0
            } else {
                1
            };
            if c.isn_known[side] && c.isn[side] != seg.seq {
                slot = None;
            }
        }
        let slot = slot.unwrap_or_else(|| self.open(seg, k, hash));
        self.last = Some((k, slot));
        slot
    }

    /// A new conversation for `seg`, now the current one of its 4-tuple.
    fn open(&mut self, seg: &Segment, k: Key, hash: u64) -> u32 {
        // The opener is the SYN's sender; failing that, whoever spoke first
        // (a SYN-ACK's receiver, when only the reply was captured).
        let (client, server) = if seg.flags.contains(Flags::SYN | Flags::ACK) {
            (seg.dst, seg.src)
        } else {
            (seg.src, seg.dst)
        };
        let i = self.conversations.len() as u32;
        self.conversations.push(Conversation {
            client: client.into(),
            server: server.into(),
            isn: [SeqNumber(0); 2],
            isn_known: [false; 2],
            analysis: ConnectionAnalysis::default(),
            phase: PhaseState::default(),
            close: CloseWatch::new(),
            accecn: AccEcn::default(),
            queued: false,
            touched: false,
        });
        let convs = &self.conversations;
        match self.index.find_mut(hash, |&j| convs[j as usize].key() == k) {
            Some(current) => *current = i,
            None => {
                self.index
                    .insert_unique(hash, i, |&j| hash_of(&convs[j as usize].key()));
            }
        }
        i
    }

    /// Frees the analysis state of connections closed [`LINGER`] ago.
    fn retire_due(&mut self, ts: Timestamp) {
        self.clock = self.clock.max(ts);
        let linger = LINGER.as_nanos() as i128;
        while let Some(&(slot, at)) = self.closed.front() {
            if self.clock.nanos_since(at) < linger {
                break;
            }
            self.closed.pop_front();
            let c = &mut self.conversations[slot as usize];
            if std::mem::take(&mut c.touched) {
                self.closed.push_back((slot, self.clock));
            } else {
                c.queued = false;
                c.analysis.retire();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Analysis;

    const CLIENT: &str = "127.0.0.1:40000";
    const SERVER: &str = "127.0.0.1:80";

    fn seg(from_client: bool, seq: u32, ack: u32, flags: Flags) -> Segment {
        let (c, s) = (CLIENT.parse().unwrap(), SERVER.parse().unwrap());
        let (src, dst) = if from_client { (c, s) } else { (s, c) };
        Segment {
            src,
            dst,
            seq: SeqNumber(seq),
            ack: SeqNumber(ack),
            flags,
            ae: false,
            window: 512,
            payload_len: 0,
            wscale: None,
            sacked: 0,
        }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp { sec: secs, nsec: 0 }
    }

    /// A whole connection at t = 0: handshake, a FIN each way, each acknowledged.
    fn closed_connection(t: &mut Tracker) {
        let steps = [
            (true, 100, 0, Flags::SYN),
            (false, 500, 101, Flags::SYN | Flags::ACK),
            (true, 101, 501, Flags::ACK),
            (true, 101, 501, Flags::FIN | Flags::ACK),
            (false, 501, 102, Flags::FIN | Flags::ACK),
            (true, 102, 502, Flags::ACK),
        ];
        for (n, (c, seq, ack, f)) in steps.into_iter().enumerate() {
            t.observe(n as u64 + 1, at(0), &seg(c, seq, ack, f));
        }
    }

    /// The server's FIN again, as when the last ACK was lost past the
    /// capture point: within TIME_WAIT it is analysed as tshark does (a
    /// retransmission); after, the closed connection's analysis is gone,
    /// but the stream and the relative numbers stay.
    #[test]
    fn a_closed_connection_is_analysed_for_60_s_then_forgotten() {
        let fin_again = seg(false, 501, 102, Flags::FIN | Flags::ACK);
        for (later, flagged) in [(59, true), (61, false)] {
            let mut t = Tracker::new();
            closed_connection(&mut t);
            // Another connection's segment moves the clock on.
            let mut other = seg(true, 7, 0, Flags::SYN);
            other.src = "127.0.0.2:1".parse().unwrap();
            t.observe(7, at(later), &other);
            let info = t.observe(8, at(later), &fin_again);
            assert_eq!((info.stream, info.seq, info.ack), (0, 1, 2), "{later} s");
            assert_eq!(
                info.findings.flags.contains(Analysis::RETRANSMISSION),
                flagged,
                "{later} s: {:?}",
                info.findings.flags
            );
        }
    }

    /// A segment during the linger postpones the forgetting by another 60 s.
    #[test]
    fn a_segment_while_lingering_postpones_it() {
        let mut t = Tracker::new();
        closed_connection(&mut t);
        t.observe(7, at(50), &seg(true, 102, 502, Flags::ACK));
        let mut other = seg(true, 7, 0, Flags::SYN);
        other.src = "127.0.0.2:1".parse().unwrap();
        t.observe(8, at(70), &other);
        let info = t.observe(9, at(70), &seg(false, 501, 102, Flags::FIN | Flags::ACK));
        assert!(info.findings.flags.contains(Analysis::RETRANSMISSION));
        assert_eq!(t.endpoints(0).0, CLIENT.parse().unwrap());
    }

    /// Issue 10's budget: AccECN's byte is the one `PhaseState` gave up.
    #[test]
    fn a_conversation_stays_120_bytes() {
        assert_eq!(std::mem::size_of::<Conversation>(), 120);
    }

    /// tshark's bytes in flight: only on segments with payload, a FIN's
    /// sequence number not counted; the iRTT rides on the analysed ones.
    #[test]
    fn bytes_in_flight_and_round_trips_follow_tshark() {
        let mut t = Tracker::new();
        let ns = |n: u32| Timestamp { sec: 0, nsec: n };
        t.observe(1, ns(0), &seg(true, 100, 0, Flags::SYN));
        t.observe(2, ns(1_000), &seg(false, 500, 101, Flags::SYN | Flags::ACK));
        let third = t.observe(3, ns(3_000), &seg(true, 101, 501, Flags::ACK));
        assert_eq!(third.findings.acks_frame, Some(2));
        assert_eq!(third.findings.initial_rtt.map(|r| r.0), Some(3_000));
        let mut data = seg(true, 101, 501, Flags::PSH | Flags::ACK);
        data.payload_len = 5;
        let four = t.observe(4, ns(4_000), &data);
        assert_eq!(four.findings.bytes_in_flight, Some(5));
        // Data and FIN together: 5 + 5 bytes wait, the FIN is no byte.
        let mut fin = seg(true, 106, 501, Flags::FIN | Flags::ACK);
        fin.payload_len = 5;
        let five = t.observe(5, ns(5_000), &fin);
        assert_eq!(five.findings.bytes_in_flight, Some(10));
        let ack = t.observe(6, ns(9_000), &seg(false, 501, 112, Flags::ACK));
        assert_eq!(ack.findings.acks_frame, Some(5));
        assert_eq!(ack.findings.ack_rtt.map(|r| r.0), Some(4_000));
        assert_eq!(ack.findings.bytes_in_flight, None);
        // A bare FIN that acknowledges nothing new: tshark shows no analysis.
        let bare = t.observe(7, ns(9_500), &seg(false, 501, 112, Flags::FIN | Flags::ACK));
        assert_eq!(bare.findings.initial_rtt, None);
        assert_eq!(bare.window_scale, Some(WindowScale::Off));
    }
}
