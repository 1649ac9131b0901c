//! The per-packet JSON record shared by `trace`, `capture` and `replay`:
//! only a projection of the typed [`Packet`], built when JSON is written.
//! Its field names are a contract (SPEC.md): they follow tshark's meanings.

use serde::{Serialize, Serializer};

use crate::decode::TcpOptions;
use crate::flow::{Analysis, Packet};
use crate::values::Elapsed;

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
    /// The window in bytes (`tcp.window_size`): `window` shifted by the
    /// sender's scale once the handshake agreed one; a SYN's never is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_size: Option<u32>,
    /// The multiplier behind `window_size`, or -1 (scale unknown: the
    /// handshake was not seen) or -2 (no scaling), as
    /// `tcp.window_size_scalefactor`; left out on SYNs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_scale_factor: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<TcpOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Vec<&'static str>>,
    /// Which duplicate of an ACK this is (`tcp.analysis.duplicate_ack_num`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dup_ack_num: Option<u32>,
    /// The frame whose end this segment acknowledges (`tcp.analysis.acks_frame`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acks_frame: Option<u64>,
    /// Seconds since `acks_frame` was captured (`tcp.analysis.ack_rtt`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "seconds")]
    pub ack_rtt: Option<Elapsed>,
    /// Bytes sent and not yet acknowledged, this segment's included
    /// (`tcp.analysis.bytes_in_flight`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_in_flight: Option<u32>,
    /// Seconds from the SYN to the handshake's ACK (`tcp.analysis.initial_rtt`).
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "seconds")]
    pub initial_rtt: Option<Elapsed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_hex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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
            r.window_size = Some(f.window);
            r.window_scale_factor = f.window_scale.map(|s| s.factor());
            r.acks_frame = f.findings.acks_frame;
            r.ack_rtt = f.findings.ack_rtt;
            r.bytes_in_flight = f.findings.bytes_in_flight;
            r.initial_rtt = f.findings.initial_rtt;
        }
        r
    }
}

/// Seconds as a JSON number with nine decimals, `0.000017483`: the digits
/// tshark prints, from whole nanoseconds (serde's float would print
/// `1.7483e-5`, and round).
fn seconds<S: Serializer>(v: &Option<Elapsed>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(e) => serde_json::value::RawValue::from_string(e.to_string())
            .map_err(serde::ser::Error::custom)?
            .serialize(s),
        None => s.serialize_none(),
    }
}
