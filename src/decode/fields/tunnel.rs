//! The fields of GRE (RFC 2784, 2890) and Geneve (RFC 8926) headers.

use super::value::{bit, colon_hex, hex};
use super::{Fields, Spec};

/// Offsets inside each header, the one place that knows them.
mod range {
    pub const GRE_PROTO: usize = 2;
    pub const GRE_OPTIONAL: usize = 4;
    pub const GENEVE_FLAGS: usize = 1;
    pub const GENEVE_PROTO: usize = 2;
    pub const GENEVE_VNI: usize = 4;
    pub const GENEVE_OPTIONS: usize = 8;
    /// A Geneve option's class, type, and flags with length.
    pub const OPTION_HEADER: usize = 4;
}

/// GRE's flag bits in its first two bytes, with Wireshark's names.
const GRE_FLAGS: [(&str, u32, &str); 8] = [
    ("gre.flags.checksum", 0x8000, "checksum present"),
    ("gre.flags.routing", 0x4000, "routing present"),
    ("gre.flags.key", 0x2000, "key present"),
    (
        "gre.flags.sequence_number",
        0x1000,
        "sequence number present",
    ),
    (
        "gre.flags.strict_source_route",
        0x0800,
        "strict source route",
    ),
    ("gre.flags.recursion_control", 0x0700, "recursion control"),
    ("gre.flags.reserved", 0x00f8, "reserved"),
    ("gre.flags.version", 0x0007, "version"),
];

/// A GRE header at `at`: flags, protocol, then the words the flags name.
pub(super) fn gre(out: &mut Fields<'_>, at: usize) {
    let Some(flags) = out.uint(at, 2) else { return };
    let s = |abbrev, off, len| Spec::new("gre", abbrev, at + off, len);
    let text = format!("flags and version {}", hex(flags, 4));
    out.push(s("gre.flags_and_version", 0, 2), hex(flags, 4), text);
    for (abbrev, mask, what) in GRE_FLAGS {
        let v = (flags & mask) >> mask.trailing_zeros();
        let shown = if mask.count_ones() == 1 {
            bit(v == 1)
        } else {
            v.to_string()
        };
        out.push(
            s(abbrev, 0, 2).bits(mask).detail(),
            shown,
            format!("{what}: {v}"),
        );
    }
    if let Some(p) = out.uint(at + range::GRE_PROTO, 2) {
        let name = match p {
            0x0800 => "IPv4",
            0x86dd => "IPv6",
            0x6558 => "an Ethernet frame (transparent bridging)",
            0x8847 => "MPLS",
            0x883e => "WCCP",
            _ => "another protocol",
        };
        let text = format!("protocol {}: {name} follows", hex(p, 4));
        out.push(s("gre.proto", range::GRE_PROTO, 2), hex(p, 4), text);
    }
    let mut off = range::GRE_OPTIONAL;
    if flags & 0x8000 != 0 {
        if let Some(c) = out.uint(at + off, 2) {
            let text = format!("checksum {}", hex(c, 4));
            out.push(s("gre.checksum", off, 2), hex(c, 4), text);
        }
        if let Some(o) = out.uint(at + off + 2, 2) {
            let text = format!("offset {o} (used only with routing)");
            out.push(s("gre.offset", off + 2, 2), o.to_string(), text);
        }
        off += 4;
    }
    if flags & 0x2000 != 0 {
        if let Some(k) = out.uint(at + off, 4) {
            let text = format!("key {}: which tunnel or flow", hex(k, 8));
            out.push(s("gre.key", off, 4), hex(k, 8), text);
        }
        off += 4;
    }
    if flags & 0x1000 != 0 {
        if let Some(n) = out.uint(at + off, 4) {
            let text = format!("sequence number {n}");
            out.push(s("gre.sequence_number", off, 4), n.to_string(), text);
        }
    }
}

/// A Geneve header at `at`: version, options length, flags, protocol,
/// VNI, then its options.
pub(super) fn geneve(out: &mut Fields<'_>, at: usize) {
    let Some(b0) = out.uint(at, 1) else { return };
    let s = |abbrev, off, len| Spec::new("geneve", abbrev, at + off, len);
    let opt_len = (b0 & 0x3f) as usize * 4;
    out.push(
        s("geneve.version", 0, 1).bits(0xc0),
        (b0 >> 6).to_string(),
        format!("version {}", b0 >> 6),
    );
    out.push(
        s("geneve.option.length", 0, 1).bits(0x3f),
        opt_len.to_string(),
        format!("options length {opt_len} bytes"),
    );
    use range::{GENEVE_FLAGS, GENEVE_OPTIONS, GENEVE_PROTO, GENEVE_VNI};
    if let Some(f) = out.uint(at + GENEVE_FLAGS, 1) {
        let text = format!("flags {}", hex(f, 2));
        out.push(s("geneve.flags", GENEVE_FLAGS, 1), hex(f, 2), text);
        for (abbrev, mask, what) in [
            ("geneve.flags.oam", 0x80, "control (OAM) packet"),
            ("geneve.flags.critical", 0x40, "critical options present"),
            ("geneve.flags.reserved", 0x3f, "reserved"),
        ] {
            let v = (f & mask) >> mask.trailing_zeros();
            let spec = s(abbrev, GENEVE_FLAGS, 1).bits(mask).detail();
            out.push(spec, v.to_string(), format!("{what}: {v}"));
        }
    }
    if let Some(p) = out.uint(at + GENEVE_PROTO, 2) {
        let text = format!("protocol {}", hex(p, 4));
        out.push(s("geneve.proto_type", GENEVE_PROTO, 2), hex(p, 4), text);
    }
    if let Some(vni) = out.uint(at + GENEVE_VNI, 3) {
        let text = format!("VNI {vni}: the virtual network of the packet inside");
        out.push(s("geneve.vni", GENEVE_VNI, 3), hex(vni, 6), text);
    }
    let Some(opts) = out.bytes(at + GENEVE_OPTIONS, opt_len) else {
        return;
    };
    if opt_len > 0 {
        let text = format!("{opt_len} bytes of options");
        let spec = s("geneve.options", GENEVE_OPTIONS, opt_len);
        out.push(spec, colon_hex(opts), text);
    }
    geneve_options(out, at + GENEVE_OPTIONS, opt_len);
}

/// Each Geneve option: class, type, length (of the whole option), data.
fn geneve_options(out: &mut Fields<'_>, start: usize, len: usize) {
    let mut at = start;
    while at + range::OPTION_HEADER <= start + len {
        let Some(h) = out.bytes(at, range::OPTION_HEADER) else {
            return;
        };
        let (class, kind) = (u32::from(h[0]) << 8 | u32::from(h[1]), u32::from(h[2]));
        let (res, units) = (u32::from(h[3]) >> 5, usize::from(h[3] & 0x1f));
        let total = 4 + units * 4;
        let s = |abbrev, off, len| Spec::new("geneve", abbrev, at + off, len);
        if let Some(all) = out.bytes(at, total) {
            let text = format!("option of class {} type {}", hex(class, 4), hex(kind, 2));
            out.push(s("geneve.option", 0, total), colon_hex(all), text);
        }
        out.push(
            s("geneve.option.class", 0, 2).detail(),
            hex(class, 4),
            String::new(),
        );
        out.push(
            s("geneve.option.type", 2, 1).detail(),
            hex(kind, 2),
            String::new(),
        );
        let r = s("geneve.option.flags.reserved", 3, 1).bits(0xe0).detail();
        out.push(r, res.to_string(), String::new());
        let l = s("geneve.option.length", 3, 1).bits(0x1f).detail();
        out.push(l, total.to_string(), String::new());
        if let Some(data) = out.bytes(at + 4, units * 4).filter(|d| !d.is_empty()) {
            let d = s("geneve.option.unknown.data", 4, units * 4).detail();
            out.push(d, colon_hex(data), String::new());
        }
        at += total;
    }
}

/// The bits of a FabricPath hierarchical MAC address's first 3 bytes.
const HMAC_BITS: [(&str, u32, &str); 5] = [
    ("cfp.eid", 0xfcc000, "end node ID"),
    ("cfp.ul", 0x020000, "U/L bit"),
    ("cfp.ig", 0x010000, "I/G bit"),
    ("cfp.ooodl", 0x002000, "out of order / don't learn"),
    ("cfp.swid", 0x000fff, "switch ID"),
];

/// Cisco FabricPath's outer header: the frame's first 12 bytes hold two
/// hierarchical MAC addresses, then its EtherType, and `tag_at` its FTag
/// and TTL; the frame ends in a frame check sequence.
pub(super) fn fabricpath(out: &mut Fields<'_>, tag_at: usize) {
    let s = |abbrev, at, len| Spec::new("cfp", abbrev, at, len);
    for (abbrev, at, whose) in [
        ("cfp.d_hmac", 0, "destination"),
        ("cfp.s_hmac", 6, "source"),
    ] {
        let Some(bits) = out.uint(at, 3) else { return };
        let text = format!("{whose} switch address");
        out.push(s(abbrev, at, 6), String::new(), text);
        for (name, mask, what) in HMAC_BITS {
            let v = if name == "cfp.eid" {
                (bits & 0xfc0000) >> 16 | (bits & 0x00c000) >> 14
            } else {
                (bits & mask) >> mask.trailing_zeros()
            };
            out.push(
                s(name, at, 3).bits(mask).detail(),
                v.to_string(),
                format!("{what} {v}"),
            );
        }
        if let Some(sub) = out.uint(at + 3, 1) {
            out.push(
                s("cfp.sswid", at + 3, 1),
                sub.to_string(),
                format!("sub-switch ID {sub}"),
            );
        }
        if let Some(lid) = out.uint(at + 4, 2) {
            out.push(
                s("cfp.lid", at + 4, 2),
                lid.to_string(),
                format!("local ID {lid}"),
            );
        }
    }
    if let Some(t) = out.uint(tag_at - 2, 2) {
        let text = format!("EtherType {}: FabricPath", hex(t, 4));
        out.push(s("cfp.etype", tag_at - 2, 2), hex(t, 4), text);
    }
    if let Some(w) = out.uint(tag_at, 2) {
        let (ftag, ttl) = (w >> 6, w & 0x3f);
        let f = s("cfp.ftag", tag_at, 2).bits(0xffc0);
        out.push(
            f,
            ftag.to_string(),
            format!("forwarding tag {ftag}: which tree"),
        );
        let t = s("cfp.ttl", tag_at, 2).bits(0x003f);
        out.push(t, ttl.to_string(), format!("time to live {ttl}"));
    }
    let end = out.data.len().saturating_sub(4);
    if let Some(fcs) = out.uint(end, 4).filter(|_| end > tag_at) {
        out.push(
            s("cfp.fcs", end, 4),
            hex(fcs, 8),
            format!("frame check sequence {}", hex(fcs, 8)),
        );
    }
}
