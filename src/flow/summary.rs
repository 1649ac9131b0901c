//! Per-conversation totals for `replay --summary`, like `tshark -z conv,tcp`
//! plus counts of each analysis flag. Memory grows with the number of
//! conversations, not with the number of packets: a row keeps only what the
//! table prints (the endpoints stay in the [`Tracker`], once).

use std::net::SocketAddr;

use super::{Analysis, Packet, Tracker};
use crate::decode::Flags;
use crate::values::Timestamp;

/// How many analysis flags a summary counts: `Analysis::all_names()`.
const FLAG_COUNT: usize = Analysis::NAMED_COUNT;

/// Frames and bytes one way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub frames: u64,
    /// Frame bytes on the wire.
    pub bytes: u64,
    pub payload: u64,
}

/// One conversation's totals.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// Client → server, then server → client.
    pub totals: [Totals; 2],
    pub first: Timestamp,
    pub last: Timestamp,
    handshake: Handshake,
    /// Count per analysis flag, in `Analysis::all_names()` order; most
    /// conversations have none, and then no allocation.
    flags: Option<Box<[u64; FLAG_COUNT]>>,
}

/// How far the handshake's round trip is measured.
#[derive(Debug, Clone, Copy)]
enum Handshake {
    Waiting {
        /// The last SYN's time.
        syn_at: Option<Timestamp>,
        syn_ack_seen: bool,
    },
    /// Seconds from the SYN to the ACK of the SYN-ACK.
    Done(f64),
}

impl Conversation {
    fn new(ts: Timestamp) -> Self {
        Conversation {
            totals: [Totals::default(); 2],
            first: ts,
            last: ts,
            handshake: Handshake::Waiting {
                syn_at: None,
                syn_ack_seen: false,
            },
            flags: None,
        }
    }

    /// Time from the SYN to the ACK of the SYN-ACK (Wireshark's iRTT).
    pub fn handshake_rtt(&self) -> Option<f64> {
        match self.handshake {
            Handshake::Done(rtt) => Some(rtt),
            Handshake::Waiting { .. } => None,
        }
    }

    /// Moves the handshake on by a segment with flags `f`, sent at `ts`.
    fn handshake_step(&mut self, f: Flags, ts: Timestamp) {
        let Handshake::Waiting {
            syn_at,
            syn_ack_seen,
        } = &mut self.handshake
        else {
            return; // measured once
        };
        if f.contains(Flags::SYN) && !f.contains(Flags::ACK) {
            *syn_at = Some(ts);
        } else if f.contains(Flags::SYN) {
            *syn_ack_seen = true;
        } else if let (true, Some(syn), true) = (*syn_ack_seen, *syn_at, f.contains(Flags::ACK)) {
            self.handshake = Handshake::Done(ts.secs_since(syn));
        }
    }

    /// Count per analysis flag, in `Analysis::all_names()` order.
    pub fn analysis(&self) -> [u64; FLAG_COUNT] {
        self.flags.as_deref().copied().unwrap_or_default()
    }
}

/// A conversation with its number and endpoints, as the views print it.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    pub stream: u32,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub conversation: &'a Conversation,
}

/// Collects conversation summaries in stream order.
#[derive(Debug, Default)]
pub struct Summary {
    conversations: Vec<Conversation>,
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every row in stream order, with the endpoints `tracker` (the one
    /// that placed the packets) knows. Cheap to clone: views read it twice,
    /// once to measure the columns and once to print.
    pub fn rows<'a>(&'a self, tracker: &'a Tracker) -> impl Iterator<Item = Row<'a>> + Clone + 'a {
        self.conversations.iter().enumerate().map(|(i, c)| {
            let stream = i as u32;
            let (client, server) = tracker.endpoints(stream);
            Row {
                stream,
                client,
                server,
                conversation: c,
            }
        })
    }

    /// Counts one packet, if it is a placed TCP segment.
    pub fn add(&mut self, p: &Packet) {
        let (Some(flow), Some(tcp)) = (&p.flow, &p.tcp) else {
            return; // not a placed TCP segment
        };
        let (ts, idx) = (p.ts, flow.stream as usize);
        while self.conversations.len() <= idx {
            self.conversations.push(Conversation::new(ts));
        }
        let c = &mut self.conversations[idx];
        let t = &mut c.totals[flow.direction.index()];
        t.frames += 1;
        t.bytes += u64::from(p.frame_len);
        t.payload += p.payload_len as u64;
        c.last = c.last.max(ts);
        c.handshake_step(tcp.flags, ts);
        let found = flow.findings.flags;
        // Most segments have no analysis flag: skip the walk over the names.
        if !found.is_empty() {
            let counts = c.flags.get_or_insert_with(Default::default);
            for i in found.indices() {
                counts[i] += 1;
            }
        }
    }
}
