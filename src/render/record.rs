//! The per-packet JSON record shared by `trace`, `capture` and `replay`:
//! only a projection of the typed [`Packet`], built when JSON is written.
//! Its field names are a contract (SPEC.md): they follow tshark's meanings.

use serde::Serialize;

use crate::decode::{Field, TcpOptions};
use crate::flow::{Analysis, Packet};

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
    /// With `--explain`: every header field (docs/json.md, "fields").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<Field>>,
}

impl PacketRecord {
    /// The record of a packet. `max_hex` cuts `payload_hex` to that many
    /// payload bytes.
    pub fn of(p: &Packet, max_hex: usize) -> Self {
        let mut r = PacketRecord {
            frame: p.number,
            ts: p.ts.display(p.precision).to_string(),
            frame_len: p.frame_len,
            cap_len: p.cap_len(),
            link: p.link.name(),
            link_hdr_len: p.layout.link,
            error: p.error.as_ref().map(|e| e.to_string()),
            note: p.note.clone(),
            ..Default::default()
        };
        if let Some(ip) = &p.ip {
            r.ip_version = Some(ip.version);
            r.ip_hdr_len = Some(ip.hdr_len);
            r.src = Some(ip.src.to_string());
            r.dst = Some(ip.dst.to_string());
        }
        if let Some(tcp) = &p.tcp {
            r.sport = Some(tcp.src_port);
            r.dport = Some(tcp.dst_port);
            r.flags = Some(tcp.flags.names());
            r.seq_raw = Some(tcp.seq);
            r.ack_raw = Some(tcp.ack);
            r.tcp_hdr_len = Some(p.layout.tcp);
            r.payload_len = Some(p.payload_len);
            r.window = Some(tcp.window);
            let options = p.options().unwrap_or_default();
            if let (Some(e), None) = (&options.error, &r.error) {
                r.note = Some(format!("TCP options: {e}"));
            }
            r.options = Some(options);
            r.analysis = Some(Vec::new());
            let payload = p.payload();
            r.payload_hex = Some(hex::encode(&payload[..payload.len().min(max_hex)]));
        }
        if let Some(f) = &p.flow {
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

    /// The record with every header field, as `--explain` asks.
    pub fn explained(mut self, p: &Packet, explain: bool) -> Self {
        if explain {
            self.fields = Some(p.fields());
        }
        self
    }
}
