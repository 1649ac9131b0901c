//! The TCP header's fields (RFC 9293 §3.1), each option (RFC 7323 for
//! window scale and timestamps, RFC 2018 and 2883 for SACK and D-SACK),
//! and the payload.

use super::checksum::tcp as tcp_checksum;
use super::value::{bit, colon_hex, hex, said};
use super::{Fields, FlowContext, Spec};
use crate::decode::{Ace, Flags, IpInfo, Layout};
use crate::values::terminal_safe;

/// Offsets inside the TCP header, the one place that knows them.
mod range {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const OFFSET_FLAGS: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
    pub const OPTIONS: usize = 20;
}

/// Flag bits of bytes 12-13, high to low, with Wireshark's names.
const FLAG_BITS: [(&str, u32, &str); 10] = [
    ("tcp.flags.res", 0x0e00, "reserved"),
    ("tcp.flags.ae", 0x0100, "AE (accurate ECN)"),
    ("tcp.flags.cwr", 0x0080, "CWR (congestion window reduced)"),
    ("tcp.flags.ece", 0x0040, "ECE (ECN echo)"),
    ("tcp.flags.urg", 0x0020, "URG (urgent pointer in use)"),
    (
        "tcp.flags.ack",
        0x0010,
        "ACK (acknowledgment number in use)",
    ),
    (
        "tcp.flags.push",
        0x0008,
        "PSH (push the data to the application)",
    ),
    ("tcp.flags.reset", 0x0004, "RST (reset the connection)"),
    (
        "tcp.flags.syn",
        0x0002,
        "SYN (synchronize sequence numbers)",
    ),
    ("tcp.flags.fin", 0x0001, "FIN (no more data from this side)"),
];

pub(super) fn fields(
    out: &mut Fields<'_>,
    layout: &Layout,
    ip: Option<&IpInfo>,
    ctx: &FlowContext,
) {
    if layout.tcp < range::OPTIONS {
        return;
    }
    let at = layout.link + layout.ip;
    header(out, at, ctx);
    if let Some(ip) = ip {
        checksum(out, at, ip);
    }
    if let Some(u) = out.uint(at + range::URGENT, 2) {
        let text = if u == 0 {
            "urgent pointer 0 (unused)".to_string()
        } else {
            format!("urgent pointer {u}")
        };
        out.push(
            Spec::new("tcp", "tcp.urgent_pointer", at + range::URGENT, 2),
            u.to_string(),
            text,
        );
    }
    super::tcp_options::fields(out, at, layout.tcp, ctx);
    payload(out, layout);
}

fn header(out: &mut Fields<'_>, at: usize, ctx: &FlowContext) {
    use range::*;
    let s = |abbrev, off, len| Spec::new("tcp", abbrev, at + off, len);
    for (abbrev, off, whose) in [
        ("tcp.srcport", SRC_PORT, "source"),
        ("tcp.dstport", DST_PORT, "destination"),
    ] {
        if let Some(p) = out.uint(at + off, 2) {
            out.push(
                s(abbrev, off, 2),
                p.to_string(),
                format!("{whose} port {p}"),
            );
        }
    }
    let bits = out.uint(at + OFFSET_FLAGS, 2).unwrap_or(0);
    let ack_on = bits & 0x0010 != 0;
    number(
        out,
        s("tcp.seq", SEQ, 4),
        ctx.rel_seq,
        "sequence number",
        true,
    );
    number(
        out,
        s("tcp.ack", ACK, 4),
        ctx.rel_ack,
        "acknowledgment number",
        ack_on,
    );
    let words = bits >> 12;
    out.push(
        s("tcp.hdr_len", OFFSET_FLAGS, 1).bits(0xf0),
        (words * 4).to_string(),
        format!("header length {words} × 4 = {} bytes", words * 4),
    );
    flags(out, at, bits, ctx.accecn);
    window(out, at, bits, ctx);
}

/// A sequence or acknowledgment number: relative when the flow knows the
/// ISN (tshark's `tcp.seq`), raw always (`tcp.seq_raw`).
fn number(out: &mut Fields<'_>, field: Spec, relative: Option<u32>, what: &str, in_use: bool) {
    let Some(raw) = out.uint(field.offset, 4) else {
        return;
    };
    let raw_abbrev = if field.abbrev == "tcp.seq" {
        "tcp.seq_raw"
    } else {
        "tcp.ack_raw"
    };
    let raw_spec = Spec {
        abbrev: raw_abbrev,
        ..field
    };
    if !in_use {
        // Wireshark shows 0 for an acknowledgment number without ACK.
        out.push(
            field,
            "0".into(),
            format!("{what} {raw}: not in use (ACK not set)"),
        );
        out.push(
            raw_spec.detail(),
            raw.to_string(),
            format!("{what} as sent: {raw}"),
        );
        return;
    }
    match relative {
        Some(rel) => {
            let text = format!("{what} {raw} (relative: {rel})");
            out.push(field, rel.to_string(), text);
            out.push(
                raw_spec.detail(),
                raw.to_string(),
                format!("{what} as sent: {raw}"),
            );
        }
        None => {
            out.push(raw_spec, raw.to_string(), format!("{what} {raw}"));
        }
    }
}

/// The three bits AccECN reads as the ACE counter (RFC 9768 §3.2).
const ACE_BITS: u32 = 0x01c0;

/// The flags field and each bit. With AccECN (`accecn`), Wireshark's
/// tree: AE, CWR and ECE are one field, `tcp.flags.ace`, not three flags.
fn flags(out: &mut Fields<'_>, at: usize, bits: u32, accecn: bool) {
    let s = |abbrev, off, len| Spec::new("tcp", abbrev, at + off, len);
    let v = bits & 0x0fff;
    let byte13 = Flags::from_bits((v & 0xff) as u8);
    let ace = accecn.then(|| Ace::of(byte13, v & 0x0100 != 0));
    // Wireshark's order: FIN SYN RST PSH ACK URG ECE CWR, then AE; with
    // AccECN the counter after the flags left (the line the text view shows).
    let mut names = byte13.names();
    match ace {
        Some(_) => names.retain(|n| !matches!(*n, "ECE" | "CWR")),
        None if v & 0x0100 != 0 => names.push("AE"),
        None => {}
    }
    let mut set = names.join(" ");
    if let Some(ace) = ace {
        let sep = if set.is_empty() { "" } else { " · " };
        set = format!("{set}{sep}{}", ace.explained());
    }
    let set = if set.is_empty() { "none".into() } else { set };
    out.push(
        s("tcp.flags", range::OFFSET_FLAGS, 2).bits(0x0fff),
        hex(v, 4),
        format!("flags {}: {set}", hex(v, 3)),
    );
    for &(abbrev, mask, words) in &FLAG_BITS {
        if ace.is_some() && mask & ACE_BITS != 0 {
            continue;
        }
        // The reserved and AE bits are in byte 12, the rest in byte 13.
        let (off, byte_mask) = if mask > 0xff {
            (range::OFFSET_FLAGS, mask >> 8)
        } else {
            (range::FLAGS, mask)
        };
        let on = v & mask != 0;
        let value = if mask == 0x0e00 {
            ((v & mask) >> 9).to_string()
        } else {
            bit(on)
        };
        out.push(
            s(abbrev, off, 1).bits(byte_mask).detail(),
            value,
            format!("{words}: {}", said(on)),
        );
        if let (Some(ace), 0x0e00) = (ace, mask) {
            // Where AE, CWR and ECE were: both bytes, as Wireshark places it.
            out.push(
                s("tcp.flags.ace", range::OFFSET_FLAGS, 2)
                    .bits(ACE_BITS)
                    .detail(),
                ace.get().to_string(),
                ace.explained(),
            );
        }
    }
    out.push(
        s("tcp.flags.str", range::OFFSET_FLAGS, 2).detail(),
        flag_string(v, ace),
        "the flags as Wireshark writes them".into(),
    );
}

/// `·······AP···`: Wireshark's twelve-character flag picture; with AccECN
/// the counter where C stands, dashes where A and E do (`···-6-·A····`).
fn flag_string(v: u32, ace: Option<Ace>) -> String {
    const LETTERS: [char; 12] = ['R', 'R', 'R', 'A', 'C', 'E', 'U', 'A', 'P', 'R', 'S', 'F'];
    (0..12)
        .map(|i| match (ace, i) {
            (Some(ace), 4) => char::from(b'0' + ace.get()),
            (Some(_), 3 | 5) => '-',
            _ if v & (0x800 >> i) != 0 => LETTERS[i],
            _ => '·',
        })
        .collect()
}

fn window(out: &mut Fields<'_>, at: usize, bits: u32, ctx: &FlowContext) {
    let off = at + range::WINDOW;
    let Some(w) = out.uint(off, 2) else { return };
    let s = |abbrev| Spec::new("tcp", abbrev, off, 2);
    let syn = bits & 0x0002 != 0;
    let (scaled, text) = match ctx.window_scale {
        _ if ctx.unanalysed => (
            w,
            format!("window {w} (unscaled: a cut first fragment is not analysed)"),
        ),
        _ if syn => (
            w,
            format!("window {w} bytes (a SYN's window is never scaled)"),
        ),
        Some(f) if f > 0 => {
            let scaled = w.saturating_mul(f as u32);
            (
                scaled,
                format!("window {w} × {f} = {scaled} bytes (scale from the handshake)"),
            )
        }
        Some(-2) => (
            w,
            format!("window {w} bytes (the handshake agreed no scaling)"),
        ),
        _ => (
            w,
            format!("window {w} (scale unknown: the handshake was not captured)"),
        ),
    };
    out.push(s("tcp.window_size_value"), w.to_string(), text);
    out.push(
        s("tcp.window_size").detail(),
        scaled.to_string(),
        format!("window in bytes: {scaled}"),
    );
    if let (false, Some(f)) = (syn, ctx.window_scale) {
        out.push(
            s("tcp.window_size_scalefactor").detail(),
            f.to_string(),
            format!("window scale factor {f}"),
        );
    }
}

fn checksum(out: &mut Fields<'_>, at: usize, ip: &IpInfo) {
    let segment = out.data.get(at..).unwrap_or_default();
    let check = tcp_checksum(ip.src, ip.dst, segment, ip.payload_len);
    let names = ["tcp.checksum.status", "tcp.checksum_calculated"];
    let field = Spec::new("tcp", "tcp.checksum", at + range::CHECKSUM, 2);
    out.checksum(field, names, "checksum", check);
}

/// The captured payload, last: its bytes as PDML shows them, and the
/// start of it as text a terminal can show.
fn payload(out: &mut Fields<'_>, layout: &Layout) {
    let r = layout.payload_range();
    if r.is_empty() {
        return;
    }
    let Some(bytes) = out.bytes(r.start, r.len()) else {
        return;
    };
    const SHOWN: usize = 40;
    let head = &bytes[..bytes.len().min(SHOWN)];
    let printable = String::from_utf8_lossy(head);
    let more = if bytes.len() > SHOWN { "…" } else { "" };
    let text = format!(
        "payload {} bytes: \"{}{more}\"",
        bytes.len(),
        terminal_safe(&printable).replace('\t', "\\t")
    );
    out.push(
        Spec::new("tcp", "tcp.payload", r.start, r.len()),
        colon_hex(bytes),
        text,
    );
}
