//! The per-packet record shared by `trace`, `capture` and `replay`.
//! Its field names are a contract (SPEC.md): they follow tshark's meanings.

use serde::Serialize;

use crate::capture::RawFrame;
use crate::decode::{Flags, Layout, Packet, TcpOptions};
use crate::flow::{Analysis, Direction, Findings, FlowInfo, Phase};
use crate::values::{LinkType, Timestamp};

/// One packet as JSON and NDJSON show it. Fields that do not apply (no IP,
/// not TCP) are left out rather than given placeholder values.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PacketRecord {
    pub frame: u64,
    pub ts: String,
    pub frame_len: u32,
    pub cap_len: u32,
    pub link: &'static str,
    pub link_hdr_len: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_version: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_hdr_len: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dport: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<Vec<&'static str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq_raw: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_raw: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_hdr_len: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_len: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<TcpOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Vec<&'static str>>,
    /// Which duplicate of an ACK this is (`tcp.analysis.duplicate_ack_num`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dup_ack_num: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl PacketRecord {
    /// Builds the record of frame number `number` (1-based). `max_hex` cuts
    /// `payload_hex` to that many payload bytes.
    pub fn build(
        number: u64,
        frame: &RawFrame<'_>,
        packet: &Packet<'_>,
        flow: Option<&FlowInfo>,
        max_hex: usize,
    ) -> Self {
        let mut r = PacketRecord {
            frame: number,
            ts: frame.ts.display(frame.precision).to_string(),
            frame_len: frame.orig_len,
            cap_len: frame.data.len() as u32,
            link: packet.link.name(),
            link_hdr_len: packet.layout.link,
            error: packet.error.as_ref().map(|e| e.to_string()),
            note: packet.note.clone(),
            ..Default::default()
        };
        if let Some(ip) = &packet.ip {
            r.ip_version = Some(ip.version);
            r.ip_hdr_len = Some(ip.hdr_len);
            r.src = Some(ip.src.to_string());
            r.dst = Some(ip.dst.to_string());
        }
        if let Some(tcp) = &packet.tcp {
            r.sport = Some(tcp.source_port());
            r.dport = Some(tcp.destination_port());
            r.flags = Some(Flags::of(tcp).names());
            r.seq_raw = Some(tcp.sequence_number());
            r.ack_raw = Some(tcp.acknowledgment_number());
            r.tcp_hdr_len = Some(packet.layout.tcp);
            r.payload_len = Some(packet.payload_len);
            r.window = Some(tcp.window_size());
            let options = TcpOptions::of(tcp);
            if let (Some(e), None) = (&options.error, &r.error) {
                r.note = Some(format!("TCP options: {e}"));
            }
            r.options = Some(options);
            r.analysis = Some(Vec::new());
            let shown = &packet.payload[..packet.payload.len().min(max_hex)];
            r.payload_hex = Some(hex::encode(shown));
        }
        if let Some(f) = flow {
            r.stream = Some(f.stream);
            r.seq = Some(f.seq);
            r.ack = Some(f.ack);
            r.analysis = Some(f.findings.flags.names());
            if f.findings.flags.contains(Analysis::DUPLICATE_ACK) {
                r.dup_ack_num = Some(f.findings.dup_ack_num);
            }
        }
        r
    }
}

/// A packet with what the text view needs beside its record.
#[derive(Debug, Clone)]
pub struct TracedPacket {
    pub record: PacketRecord,
    pub link: LinkType,
    pub ts: Timestamp,
    /// The captured bytes of the whole frame.
    pub data: Vec<u8>,
    pub layout: Layout,
    pub flags: Option<Flags>,
    pub direction: Option<Direction>,
    pub phase: Option<Phase>,
    /// The TCP analysis, for explanations in the text view.
    pub findings: Findings,
    /// The window in bytes, scaled as the handshake agreed.
    pub window: Option<u32>,
}

impl TracedPacket {
    /// The captured payload bytes.
    pub fn payload(&self) -> &[u8] {
        self.data
            .get(self.layout.payload_range())
            .unwrap_or_default()
    }
}

impl Serialize for TracedPacket {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.record.serialize(s)
    }
}
