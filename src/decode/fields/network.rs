//! The IPv4 header's fields (RFC 791) and the IPv6 header's (RFC 8200),
//! with the extension headers tcplab walks past.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::checksum::ipv4_header;
use super::value::{bit, colon_hex, hex, said};
use super::{Fields, Spec};
use crate::decode::Layout;

/// Offsets inside each header, the one place that knows them.
mod range {
    pub const VERSION: usize = 0;
    pub const V4_TOS: usize = 1;
    pub const V4_LEN: usize = 2;
    pub const V4_ID: usize = 4;
    pub const V4_FRAG: usize = 6;
    pub const V4_TTL: usize = 8;
    pub const V4_PROTO: usize = 9;
    pub const V4_CHECKSUM: usize = 10;
    pub const V4_SRC: usize = 12;
    pub const V4_DST: usize = 16;
    pub const V4_FIXED: usize = 20;
    pub const V6_FLOW: usize = 1;
    pub const V6_PLEN: usize = 4;
    pub const V6_NEXT: usize = 6;
    pub const V6_HLIM: usize = 7;
    pub const V6_SRC: usize = 8;
    pub const V6_DST: usize = 24;
    pub const V6_FIXED: usize = 40;
}

pub(super) fn fields(out: &mut Fields<'_>, layout: &Layout) {
    let at = layout.link;
    match out.uint(at + range::VERSION, 1).map(|b| b >> 4) {
        Some(4) if layout.ip >= range::V4_FIXED => ipv4(out, layout),
        Some(6) if layout.ip >= range::V6_FIXED => ipv6(out, layout),
        _ => {}
    }
}

fn protocol_name(p: u32) -> &'static str {
    match p {
        6 => "TCP",
        17 => "UDP",
        1 => "ICMP",
        58 => "ICMPv6",
        0 => "hop-by-hop options",
        43 => "a routing header",
        44 => "a fragment header",
        60 => "destination options",
        _ => "another protocol",
    }
}

/// `57 = 20 IP + 32 TCP + 5 payload`: what a length is made of.
fn length_parts(total: usize, ip: usize, layout: &Layout) -> String {
    let rest = total.saturating_sub(ip);
    if layout.tcp > 0 && rest >= layout.tcp {
        let payload = rest - layout.tcp;
        let ip_part = if ip > 0 {
            format!("{ip} IP + ")
        } else {
            String::new()
        };
        format!("{total} = {ip_part}{} TCP + {payload} payload", layout.tcp)
    } else if ip > 0 {
        format!("{total} = {ip} IP + {rest} after it")
    } else {
        total.to_string()
    }
}

fn ipv4(out: &mut Fields<'_>, layout: &Layout) {
    use range::*;
    let at = layout.link;
    let s = |abbrev, off, len| Spec::new("ip", abbrev, at + off, len);
    let b0 = out.uint(at, 1).unwrap_or(0);
    let hdr_len = (b0 & 0x0f) as usize * 4;
    out.push(
        s("ip.version", VERSION, 1).bits(0xf0),
        "4".into(),
        "version 4".into(),
    );
    out.push(
        s("ip.hdr_len", VERSION, 1).bits(0x0f),
        hdr_len.to_string(),
        format!("header length {} × 4 = {hdr_len} bytes", b0 & 0x0f),
    );
    dscp_ecn(out, s("ip.dsfield", V4_TOS, 1), "ip.dsfield", 0);
    let total = out.uint(at + V4_LEN, 2).unwrap_or(0) as usize;
    out.push(
        s("ip.len", V4_LEN, 2),
        total.to_string(),
        format!("total length {}", length_parts(total, hdr_len, layout)),
    );
    if let Some(id) = out.uint(at + V4_ID, 2) {
        let text = format!(
            "identification {} ({id}): marks the fragments of one datagram",
            hex(id, 4)
        );
        out.push(s("ip.id", V4_ID, 2), hex(id, 4), text);
    }
    fragment_fields(out, at);
    if let Some(ttl) = out.uint(at + V4_TTL, 1) {
        let text = format!("time to live {ttl}: routers it may still cross");
        out.push(s("ip.ttl", V4_TTL, 1), ttl.to_string(), text);
    }
    if let Some(p) = out.uint(at + V4_PROTO, 1) {
        let text = format!("protocol {p}: {} follows", protocol_name(p));
        out.push(s("ip.proto", V4_PROTO, 1), p.to_string(), text);
    }
    let header = out.data.get(at..).unwrap_or_default();
    let check = ipv4_header(header, hdr_len);
    let names = ["ip.checksum.status", "ip.checksum_calculated"];
    out.checksum(
        s("ip.checksum", V4_CHECKSUM, 2),
        names,
        "header checksum",
        check,
    );
    for (abbrev, off, whose) in [
        ("ip.src", V4_SRC, "source"),
        ("ip.dst", V4_DST, "destination"),
    ] {
        if let Some(a) = out.bytes(at + off, 4) {
            let a = Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string();
            let text = format!("{whose} address {a}");
            out.push(s(abbrev, off, 4), a, text);
        }
    }
    if hdr_len > V4_FIXED {
        if let Some(o) = out.bytes(at + V4_FIXED, hdr_len - V4_FIXED) {
            let text = format!("{} bytes of IP options", o.len());
            let v = colon_hex(o);
            out.push(
                s("tcplab.ip.options", V4_FIXED, hdr_len - V4_FIXED),
                v,
                text,
            );
        }
    }
}

/// The DSCP and ECN bits of IPv4's type of service or IPv6's traffic
/// class; `shift` places the byte inside the field (IPv6 reads 4 bytes).
fn dscp_ecn(out: &mut Fields<'_>, field: Spec, name: &'static str, shift: u32) {
    let Some(v) = out.uint(field.offset, field.len) else {
        return;
    };
    let byte = (v >> shift) & 0xff;
    let (dscp, ecn) = (byte >> 2, byte & 0x03);
    let ecn_text = match ecn {
        0 => "not ECN-capable",
        1 | 2 => "ECN-capable",
        _ => "congestion experienced",
    };
    let dscp_text = if dscp == 0 { " (default)" } else { "" };
    // IPv4's byte shows as 2 hex digits, IPv6's traffic class as 8 (PDML's form).
    let digits = if shift == 0 { 2 } else { 8 };
    let text = format!("DSCP {dscp}{dscp_text} · ECN {ecn} ({ecn_text})");
    let (dscp_name, ecn_name) = if name == "ip.dsfield" {
        ("ip.dsfield.dscp", "ip.dsfield.ecn")
    } else {
        ("ipv6.tclass.dscp", "ipv6.tclass.ecn")
    };
    let field = if shift == 0 {
        field
    } else {
        field.bits(0xff << shift)
    };
    out.push(field, hex(byte, digits), text);
    out.push(
        Spec {
            abbrev: dscp_name,
            ..field
        }
        .bits(0xfc << shift)
        .detail(),
        dscp.to_string(),
        format!("differentiated services codepoint {dscp}"),
    );
    out.push(
        Spec {
            abbrev: ecn_name,
            ..field
        }
        .bits(0x03 << shift)
        .detail(),
        ecn.to_string(),
        format!("explicit congestion notification {ecn}: {ecn_text}"),
    );
}

/// IPv4's flags and fragment offset (bytes 6-7).
fn fragment_fields(out: &mut Fields<'_>, at: usize) {
    let Some(v) = out.uint(at + range::V4_FRAG, 2) else {
        return;
    };
    let s = |abbrev, len| Spec::new("ip", abbrev, at + range::V4_FRAG, len);
    let (rb, df, mf) = (v & 0x8000 != 0, v & 0x4000 != 0, v & 0x2000 != 0);
    let mut names = Vec::new();
    if df {
        names.push("DF (don't fragment)");
    }
    if mf {
        names.push("MF (more fragments follow)");
    }
    if rb {
        names.push("the reserved bit");
    }
    let set = if names.is_empty() {
        "none set".to_string()
    } else {
        names.join(", ")
    };
    let flags = (v >> 13) & 0x7;
    out.push(
        s("ip.flags", 1).bits(0xe0),
        hex(flags, 2),
        format!("flags {}: {set}", hex(flags, 1)),
    );
    for (abbrev, mask, on, what) in [
        ("ip.flags.rb", 0x80, rb, "reserved bit"),
        ("ip.flags.df", 0x40, df, "don't fragment"),
        ("ip.flags.mf", 0x20, mf, "more fragments"),
    ] {
        out.push(
            s(abbrev, 1).bits(mask).detail(),
            bit(on),
            format!("{what}: {}", said(on)),
        );
    }
    let units = v & 0x1fff;
    let text = if units == 0 && !mf {
        "fragment offset 0: the datagram is whole".to_string()
    } else {
        let bytes = units * 8;
        format!("fragment offset {units} × 8 = {bytes} bytes: where this fragment's bytes go")
    };
    out.push(s("ip.frag_offset", 2).bits(0x1fff), units.to_string(), text);
}

fn ipv6(out: &mut Fields<'_>, layout: &Layout) {
    use range::*;
    let at = layout.link;
    let s = |abbrev, off, len| Spec::new("ipv6", abbrev, at + off, len);
    out.push(
        s("ipv6.version", VERSION, 1).bits(0xf0),
        "6".into(),
        "version 6".into(),
    );
    dscp_ecn(out, s("ipv6.tclass", VERSION, 4), "ipv6.tclass", 20);
    if let Some(v) = out.uint(at + V6_FLOW, 3) {
        let flow = v & 0x0f_ffff;
        let text = format!("flow label {}: groups one flow's packets", hex(flow, 1));
        out.push(
            s("ipv6.flow", V6_FLOW, 3).bits(0x0f_ffff),
            hex(flow, 6),
            text,
        );
    }
    let plen = out.uint(at + V6_PLEN, 2).unwrap_or(0) as usize;
    let ext = layout.ip.saturating_sub(V6_FIXED);
    let text = format!("payload length {}", length_parts(plen, ext, layout));
    out.push(
        s("ipv6.plen", V6_PLEN, 2),
        plen.to_string(),
        text.replace(" IP + ", " extension headers + "),
    );
    let mut next = out.uint(at + V6_NEXT, 1).unwrap_or(59);
    let text = format!("next header {next}: {} follows", protocol_name(next));
    out.push(s("ipv6.nxt", V6_NEXT, 1), next.to_string(), text);
    if let Some(h) = out.uint(at + V6_HLIM, 1) {
        let text = format!("hop limit {h}: routers it may still cross");
        out.push(s("ipv6.hlim", V6_HLIM, 1), h.to_string(), text);
    }
    for (abbrev, off, whose) in [
        ("ipv6.src", V6_SRC, "source"),
        ("ipv6.dst", V6_DST, "destination"),
    ] {
        if let Some(a) = out.bytes(at + off, 16) {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(a);
            let a = Ipv6Addr::from(octets).to_string();
            let text = format!("{whose} address {a}");
            out.push(s(abbrev, off, 16), a, text);
        }
    }
    let mut pos = at + V6_FIXED;
    let end = at + layout.ip;
    while pos < end {
        match extension(out, next, pos) {
            Some((n, len)) if len > 0 => {
                next = n;
                pos += len;
            }
            _ => break,
        }
    }
}

/// One extension header at `pos` of type `kind`: its fields, and the next
/// header's type and this one's length, if it is one tcplab walks.
fn extension(out: &mut Fields<'_>, kind: u32, pos: usize) -> Option<(u32, usize)> {
    let name = match kind {
        0 => "ipv6.hopopts",
        43 => "ipv6.routing",
        44 => "ipv6.fragment",
        60 => "ipv6.dstopts",
        _ => return None,
    };
    let next = out.uint(pos, 1)?;
    let (nxt_abbrev, len_abbrev) = match kind {
        0 => ("ipv6.hopopts.nxt", "ipv6.hopopts.len"),
        43 => ("ipv6.routing.nxt", "ipv6.routing.len"),
        44 => ("ipv6.fraghdr.nxt", "ipv6.fraghdr.reserved_octet"),
        _ => ("ipv6.dstopts.nxt", "ipv6.dstopts.len"),
    };
    let s = |abbrev, off, len| Spec::new("ipv6", abbrev, pos + off, len);
    let text = format!("{name}: next header {next} ({})", protocol_name(next));
    out.push(s(nxt_abbrev, 0, 1), next.to_string(), text);
    if kind == 44 {
        fragment_header(out, pos);
        return Some((next, 8));
    }
    let units = out.uint(pos + 1, 1)? as usize;
    let len = (units + 1) * 8;
    out.push(
        s(len_abbrev, 1, 1),
        units.to_string(),
        format!("length ({units} + 1) × 8 = {len} bytes"),
    );
    if let Some(rest) = out.bytes(pos + 2, len - 2) {
        let text = format!("{} bytes of options", rest.len());
        out.push(s("tcplab.ipv6.ext_data", 2, len - 2), colon_hex(rest), text);
    }
    Some((next, len))
}

/// The Fragment header's fields after its next header (RFC 8200 §4.5):
/// Wireshark's `ipv6.fraghdr.*`, the offset in 8-byte units.
fn fragment_header(out: &mut Fields<'_>, pos: usize) {
    let s = |abbrev, off, len| Spec::new("ipv6", abbrev, pos + off, len);
    if let Some(r) = out.uint(pos + 1, 1) {
        out.push(
            s("ipv6.fraghdr.reserved_octet", 1, 1),
            hex(r, 2),
            "reserved".into(),
        );
    }
    let Some(v) = out.uint(pos + 2, 2) else {
        return;
    };
    let (units, more) = (v >> 3, v & 1 != 0);
    let text = format!(
        "fragment offset {units} × 8 = {} bytes · more fragments: {}",
        units * 8,
        said(more)
    );
    out.push(
        s("ipv6.fraghdr.offset", 2, 2).bits(0xfff8),
        units.to_string(),
        text,
    );
    let reserved = s("ipv6.fraghdr.reserved_bits", 2, 2).bits(0x0006).detail();
    out.push(reserved, (v >> 1 & 3).to_string(), "reserved bits".into());
    let m = s("ipv6.fraghdr.more", 2, 2).bits(0x0001).detail();
    out.push(m, u32::from(more).to_string(), "more fragments".into());
    if let Some(id) = out.uint(pos + 4, 4) {
        let text = format!(
            "identification {}: the datagram this piece belongs to",
            hex(id, 8)
        );
        out.push(s("ipv6.fraghdr.ident", 4, 4), hex(id, 8), text);
    }
}
