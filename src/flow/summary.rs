//! Per-conversation totals for `replay --summary`, like `tshark -z conv,tcp`
//! plus counts of each analysis flag. Memory grows with the number of
//! conversations, not with the number of packets.

use std::net::SocketAddr;

use super::{Analysis, Direction, Packet};
use crate::decode::Flags;
use crate::values::Timestamp;

/// Frames and bytes one way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub frames: u64,
    /// Frame bytes on the wire.
    pub bytes: u64,
    pub payload: u64,
}

/// One conversation's summary.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub stream: u32,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Client → server, then server → client.
    pub totals: [Totals; 2],
    pub first: Timestamp,
    pub last: Timestamp,
    /// Time from the SYN to the ACK of the SYN-ACK (Wireshark's iRTT).
    pub handshake_rtt: Option<f64>,
    syn_at: Option<Timestamp>,
    syn_ack_seen: bool,
    /// Count per analysis flag, in `Analysis::all_names()` order.
    pub analysis: Vec<u64>,
}

/// Collects conversation summaries in stream order.
#[derive(Debug, Default)]
pub struct Summary {
    pub conversations: Vec<Conversation>,
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one placed segment of a frame `frame_len` bytes long.
    pub fn add(&mut self, p: &Packet) {
        let (Some(flow), Some(tcp), Some(ip)) = (&p.flow, &p.tcp, &p.ip) else {
            return; // not a placed TCP segment
        };
        let (ts, idx) = (p.ts, flow.stream as usize);
        while self.conversations.len() <= idx {
            let src = SocketAddr::new(ip.src, tcp.src_port);
            let dst = SocketAddr::new(ip.dst, tcp.dst_port);
            let (client, server) = match flow.direction {
                Direction::ClientToServer => (src, dst),
                Direction::ServerToClient => (dst, src),
            };
            self.conversations.push(Conversation {
                stream: self.conversations.len() as u32,
                client,
                server,
                totals: [Totals::default(); 2],
                first: ts,
                last: ts,
                handshake_rtt: None,
                syn_at: None,
                syn_ack_seen: false,
                analysis: vec![0; Analysis::all_names().count()],
            });
        }
        let c = &mut self.conversations[idx];
        let t = &mut c.totals[flow.direction.index()];
        t.frames += 1;
        t.bytes += u64::from(p.frame_len);
        t.payload += p.payload_len as u64;
        c.last = c.last.max(ts);
        let f = tcp.flags;
        if f.contains(Flags::SYN) && !f.contains(Flags::ACK) {
            c.syn_at = Some(ts);
        } else if f.contains(Flags::SYN) {
            c.syn_ack_seen = true;
        } else if c.syn_ack_seen && c.handshake_rtt.is_none() && f.contains(Flags::ACK) {
            if let Some(syn) = c.syn_at {
                c.handshake_rtt = Some(ts.secs_since(syn));
            }
        }
        for i in flow.findings.flags.indices() {
            c.analysis[i] += 1;
        }
    }
}
