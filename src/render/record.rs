//! The per-packet JSON record shared by `trace`, `capture` and `replay`:
//! only a projection of the typed [`Packet`], built when JSON is written.
//! Its field names are a contract (SPEC.md): they follow tshark's meanings.
//!
//! Two ways to the same bytes: [`PacketRecord`] with serde's derive is the
//! reference (and what `trace --format json` embeds), and [`write_record`]
//! writes the record straight from the packet into a byte buffer, without
//! the record's allocations, for the streams of records `replay` and
//! `capture` print. A test compares the two on every frame of every capture
//! in the repository; a field added to the record needs its line in both.

use std::net::IpAddr;

use serde::{Serialize, Serializer};

use super::ascii::Ipv4Text;
use crate::decode::{Field, Flags, TcpOptions};
use crate::flow::{Analysis, Packet};
use crate::values::{Elapsed, Timestamp, TsPrecision};

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
    /// The headers `link_hdr_len` counts, when there is more than the link
    /// header (VLAN tags, MPLS, a tunnel): outermost first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encap: Option<Vec<EncapLayer>>,
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
    /// With `--explain`: every header field (docs/json.md, "fields").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<Field>>,
}

/// One header before the inner IP header: Wireshark's protocol name for
/// it (`eth`, `vlan`, `mpls`, `ip`, `udp`, `vxlan`...) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EncapLayer {
    pub layer: &'static str,
    pub len: usize,
}

/// The record's `encap` list, if the frame has more than its link header.
fn encap_layers(p: &Packet) -> Option<Vec<EncapLayer>> {
    p.outer.is_encapsulated().then(|| {
        p.outer
            .as_slice()
            .iter()
            .map(|o| EncapLayer {
                layer: o.kind.protocol(p.link),
                len: o.len as usize,
            })
            .collect()
    })
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
            encap: encap_layers(p),
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
            // The header length it claims (the bytes captured may be fewer).
            r.tcp_hdr_len = Some(tcp.hdr_len);
            // A fragment read where it lies has no length (tshark: no `tcp.len`).
            r.payload_len = (!p.fragmented).then_some(p.payload_len);
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

    /// The record with every header field, as `--explain` asks.
    pub fn explained(mut self, p: &Packet, explain: bool) -> Self {
        if explain {
            self.fields = Some(p.fields());
        }
        self
    }
}

/// Appends the JSON of `PacketRecord::of(p, max_hex)` to `out`, byte for
/// byte what `serde_json::to_writer` writes for it, without building the
/// record: no `String` per address, time or payload, no `Vec` of names.
/// `replay --format ndjson` spends most of its time here, so each field is
/// one call that writes its key and value; the fields and their order are
/// [`PacketRecord`]'s.
pub fn write_record(out: &mut Vec<u8>, p: &Packet, max_hex: usize) {
    let (ip, tcp, flow) = (p.ip.as_ref(), p.tcp.as_ref(), p.flow.as_ref());
    let options = tcp.map(|_| p.options().unwrap_or_default());
    let payload = p.payload();
    let hex = payload.get(..max_hex).unwrap_or(payload);
    // Keys and values of every field but the payload fit in 1 KiB; one
    // reservation spares the pushes their growth checks.
    out.reserve(1024 + 2 * hex.len());
    let mut o = JsonObject::open(out);
    o.uint("frame", p.number);
    o.raw_str("ts", |out| push_ts(out, p.ts, p.precision));
    o.uint("frame_len", p.frame_len);
    o.uint("cap_len", p.cap_len());
    o.str("link", p.link.name());
    o.uint("link_hdr_len", p.layout.link);
    if p.outer.is_encapsulated() {
        o.value("encap", |out| push_encap(out, p));
    }
    if let Some(ip) = ip {
        o.uint("ip_version", ip.version);
        o.uint("ip_hdr_len", ip.hdr_len);
        o.raw_str("src", |out| push_ip(out, ip.src));
        o.raw_str("dst", |out| push_ip(out, ip.dst));
    }
    if let Some(tcp) = tcp {
        o.uint("sport", tcp.src_port);
        o.uint("dport", tcp.dst_port);
    }
    if let Some(f) = flow {
        o.uint("stream", f.stream);
    }
    if let Some(tcp) = tcp {
        o.value("flags", |out| push_flags(out, tcp.flags));
    }
    if let Some(f) = flow {
        o.uint("seq", f.seq);
        o.uint("ack", f.ack);
    }
    if let (Some(tcp), Some(options)) = (tcp, &options) {
        o.uint("seq_raw", tcp.seq);
        o.uint("ack_raw", tcp.ack);
        o.uint("tcp_hdr_len", tcp.hdr_len);
        if !p.fragmented {
            o.uint("payload_len", p.payload_len);
        }
        o.uint("window", tcp.window);
        if let Some(f) = flow {
            o.uint("window_size", f.window);
            if let Some(scale) = f.window_scale {
                o.uint("window_scale_factor", scale.factor());
            }
        }
        o.value("options", |out| push_options(out, options));
    }
    match (flow, tcp) {
        (Some(f), _) => o.value("analysis", |out| push_analysis(out, f.findings.flags)),
        (None, Some(_)) => o.value("analysis", |out| out.extend_from_slice(b"[]")),
        (None, None) => {}
    }
    if let Some(f) = flow.filter(|f| f.findings.flags.contains(Analysis::DUPLICATE_ACK)) {
        o.uint("dup_ack_num", f.findings.dup_ack_num);
    }
    if let Some(found) = flow.map(|f| &f.findings) {
        if let Some(n) = found.acks_frame {
            o.uint("acks_frame", n);
        }
        if let Some(rtt) = found.ack_rtt {
            o.value("ack_rtt", |out| push_display(out, rtt));
        }
        if let Some(n) = found.bytes_in_flight {
            o.uint("bytes_in_flight", n);
        }
        if let Some(rtt) = found.initial_rtt {
            o.value("initial_rtt", |out| push_display(out, rtt));
        }
    }
    if tcp.is_some() {
        o.raw_str("payload_hex", |out| push_hex(out, hex));
    }
    if let Some(e) = &p.error {
        o.str("error", &e.to_string());
    }
    match options.as_ref().and_then(|o| o.error.as_ref()) {
        Some(e) if p.error.is_none() => o.str("note", &format!("TCP options: {e}")),
        _ => {
            if let Some(note) = &p.note {
                o.str("note", note);
            }
        }
    }
    o.close();
}

/// [`write_record`], with the record's `fields` last when `explain` (as
/// serde writes `PacketRecord::explained`; `--explain` is not the hot path,
/// so the fields go through serde).
pub fn write_record_explained(out: &mut Vec<u8>, p: &Packet, max_hex: usize, explain: bool) {
    write_record(out, p, max_hex);
    if explain {
        out.pop(); // the closing brace
        out.extend_from_slice(b",\"fields\":");
        serde_json::to_writer(&mut *out, &p.fields()).expect("a Vec takes any write");
        out.push(b'}');
    }
}

/// A JSON object being written: each call appends `,"key":value` (no comma
/// before the first), as serde_json's compact formatter does.
struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> JsonObject<'a> {
    fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        JsonObject { out, first: true }
    }

    fn close(self) {
        self.out.push(b'}');
    }

    /// A key (all of them are plain ASCII names) and the value `write` appends.
    /// Inlined, so that a key's bytes are copied as a constant.
    #[inline(always)]
    fn value(&mut self, key: &str, write: impl FnOnce(&mut Vec<u8>)) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        write(self.out);
    }

    #[inline(always)]
    fn uint(&mut self, key: &str, v: impl itoa::Integer) {
        self.value(key, |out| {
            out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes())
        });
    }

    /// A string that `write` appends without quotes and that needs no
    /// escaping (digits, dots, colons, hex).
    #[inline(always)]
    fn raw_str(&mut self, key: &str, write: impl FnOnce(&mut Vec<u8>)) {
        self.value(key, |out| {
            out.push(b'"');
            write(out);
            out.push(b'"');
        });
    }

    /// Any string, escaped as serde_json escapes it.
    fn str(&mut self, key: &str, s: &str) {
        self.value(key, |out| push_json_str(out, s));
    }
}

/// A value that prints itself (the nine-decimal seconds), with no String.
fn push_display(out: &mut Vec<u8>, v: impl std::fmt::Display) {
    use std::io::Write as _;
    let _ = write!(out, "{v}");
}

/// A JSON string; serde_json escapes it only when it holds a quote, a
/// backslash or a control character (rare in names and messages).
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(out, s).expect("a Vec takes every byte");
    }
}

/// The time as [`Timestamp::display`] prints it: seconds, a dot, then 6
/// or 9 zero-padded digits.
fn push_ts(out: &mut Vec<u8>, ts: Timestamp, precision: TsPrecision) {
    out.extend_from_slice(itoa::Buffer::new().format(ts.sec).as_bytes());
    out.push(b'.');
    let (mut frac, digits) = match precision {
        TsPrecision::Micro => (ts.nsec / 1000, 6),
        TsPrecision::Nano => (ts.nsec, 9),
    };
    // `{:09}` of a number above 999,999,999 prints all its digits.
    if frac >= 10u32.pow(digits as u32) {
        out.extend_from_slice(itoa::Buffer::new().format(frac).as_bytes());
        return;
    }
    let mut buf = [b'0'; 9];
    for d in buf[..digits].iter_mut().rev() {
        *d = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&buf[..digits]);
}

/// An address as `IpAddr`'s `Display` writes it; IPv4 without `core::fmt`.
fn push_ip(out: &mut Vec<u8>, ip: IpAddr) {
    use std::io::Write;
    match ip {
        IpAddr::V4(v4) => out.extend_from_slice(Ipv4Text::new(v4).as_bytes()),
        // `::` shortening and embedded IPv4 forms: std's rules, as the record's.
        IpAddr::V6(v6) => write!(out, "{v6}").expect("a Vec takes every byte"),
    }
}

/// The names of the set flags, as [`Flags::names`] lists them (bit 0, FIN,
/// first); the table follows the flag byte's bits.
/// `[{"layer":"eth","len":14},...]`, as [`EncapLayer`] serializes.
fn push_encap(out: &mut Vec<u8>, p: &Packet) {
    out.push(b'[');
    for (i, o) in p.outer.as_slice().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"layer\":\"");
        out.extend_from_slice(o.kind.protocol(p.link).as_bytes());
        out.extend_from_slice(b"\",\"len\":");
        out.extend_from_slice(o.len.to_string().as_bytes());
        out.push(b'}');
    }
    out.push(b']');
}

fn push_flags(out: &mut Vec<u8>, flags: Flags) {
    const NAMES: [&str; 8] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
    push_names(
        out,
        (0..8)
            .filter(|bit| flags.bits() & (1 << bit) != 0)
            .map(|bit| NAMES[bit]),
    );
}

/// The analysis flags' names, as [`Analysis::names`] lists them.
fn push_analysis(out: &mut Vec<u8>, analysis: Analysis) {
    if analysis.is_empty() {
        out.extend_from_slice(b"[]");
        return;
    }
    push_names(
        out,
        analysis
            .indices()
            .filter_map(|i| Analysis::all_names().nth(i)),
    );
}

/// A JSON array of plain names.
fn push_names<'n>(out: &mut Vec<u8>, names: impl Iterator<Item = &'n str>) {
    out.push(b'[');
    for (i, name) in names.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.push(b'"');
    }
    out.push(b']');
}

/// [`TcpOptions`] as its derive writes it: each option only when sent.
fn push_options(out: &mut Vec<u8>, options: &TcpOptions) {
    let mut o = JsonObject::open(out);
    if let Some(mss) = options.mss {
        o.uint("mss", mss);
    }
    if let Some(wscale) = options.wscale {
        o.uint("wscale", wscale);
    }
    if options.sack_perm {
        o.value("sack_perm", |out| out.extend_from_slice(b"true"));
    }
    if let Some(v) = options.ts_val {
        o.uint("ts_val", v);
    }
    if let Some(v) = options.ts_ecr {
        o.uint("ts_ecr", v);
    }
    if !options.sack.is_empty() {
        o.value("sack", |out| {
            let mut digits = itoa::Buffer::new();
            out.push(b'[');
            for (i, [left, right]) in options.sack.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'[');
                out.extend_from_slice(digits.format(*left).as_bytes());
                out.push(b',');
                out.extend_from_slice(digits.format(*right).as_bytes());
                out.push(b']');
            }
            out.push(b']');
        });
    }
    o.close();
}

/// Lowercase hex, two digits a byte, as `hex::encode`: one lookup a byte.
fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    static PAIRS: [[u8; 2]; 256] = {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut pairs = [[0u8; 2]; 256];
        let mut b = 0;
        while b < 256 {
            pairs[b] = [DIGITS[b >> 4], DIGITS[b & 0x0f]];
            b += 1;
        }
        pairs
    };
    let start = out.len();
    out.resize(start + 2 * bytes.len(), 0);
    for (pair, &b) in out[start..].chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&PAIRS[usize::from(b)]);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_match_display_at_the_edges() {
        let cases = [
            (0, 0),
            (1_700_000_000, 1_234_567),
            (-1, 999_999_999),
            (i64::MIN, 5),
            (i64::MAX, 1_000_000_000),
            (12, 4_294_967_295),
        ];
        for (sec, nsec) in cases {
            for precision in [TsPrecision::Micro, TsPrecision::Nano] {
                let ts = Timestamp { sec, nsec };
                let mut out = Vec::new();
                push_ts(&mut out, ts, precision);
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    ts.display(precision).to_string(),
                    "{sec}.{nsec} {precision:?}"
                );
            }
        }
    }

    #[test]
    fn every_flag_byte_lists_the_names_flags_gives() {
        for bits in 0..=255u8 {
            let flags = Flags::from_bits(bits);
            let mut out = Vec::new();
            push_flags(&mut out, flags);
            assert_eq!(
                out,
                serde_json::to_vec(&flags.names()).unwrap(),
                "{bits:#04x}"
            );
        }
    }

    #[test]
    fn addresses_match_display() {
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "10.78.0.1",
            "::",
            "::1",
            "::ffff:1.2.3.4",
            "fe80::1:2",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            let mut out = Vec::new();
            push_ip(&mut out, ip);
            assert_eq!(String::from_utf8(out).unwrap(), ip.to_string());
        }
    }

    #[test]
    fn strings_escape_as_serde_json() {
        for s in [
            "plain",
            "a \"quote\"",
            "back\\slash",
            "tab\there",
            "\u{1b}[31m",
            "é ünïcode",
            "",
        ] {
            let mut out = Vec::new();
            push_json_str(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn hex_matches_hex_encode() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut out = b"x".to_vec();
        push_hex(&mut out, &bytes);
        assert_eq!(out[1..], *hex::encode(&bytes).as_bytes());
    }

    #[test]
    fn options_match_the_derive() {
        let all = TcpOptions {
            mss: Some(1460),
            wscale: Some(7),
            sack_perm: true,
            ts_val: Some(1),
            ts_ecr: Some(u32::MAX),
            sack: vec![[1, 2], [3, 4]],
            error: Some("ignored".to_string()),
        };
        for options in [TcpOptions::default(), all] {
            let mut out = Vec::new();
            push_options(&mut out, &options);
            assert_eq!(out, serde_json::to_vec(&options).unwrap());
        }
    }
}
