//! The link headers' fields: Ethernet II, Linux cooked (SLL, SLL2), BSD
//! loopback (NULL, LOOP) here; PPP and Cisco HDLC, NFLOG, IPoIB and Linux
//! ARCnet in the files beside. Raw IP has none.

mod arcnet;
mod ipoib;
mod nflog;
mod ppp;

use super::value::{bit, colon_hex, hex, mac};
use super::{Fields, Spec};
use crate::values::LinkType;

/// Byte ranges of each link header, the one place that knows them.
mod range {
    pub const ETH_DST: usize = 0;
    pub const ETH_SRC: usize = 6;
    pub const ETH_TYPE: usize = 12;
    /// SLL (16 bytes): type, address type, address length, 8 address bytes, protocol.
    pub const SLL_PKTTYPE: usize = 0;
    pub const SLL_HATYPE: usize = 2;
    pub const SLL_HALEN: usize = 4;
    pub const SLL_ADDR: usize = 6;
    pub const SLL_ETYPE: usize = 14;
    /// SLL2 (20 bytes): protocol, reserved, interface, address type, type,
    /// address length, 8 address bytes.
    pub const SLL2_ETYPE: usize = 0;
    pub const SLL2_RESERVED: usize = 2;
    pub const SLL2_IFINDEX: usize = 4;
    pub const SLL2_HATYPE: usize = 8;
    pub const SLL2_PKTTYPE: usize = 10;
    pub const SLL2_HALEN: usize = 11;
    pub const SLL2_ADDR: usize = 12;
    /// Both SLL forms keep 8 bytes for the address.
    pub const SLL_ADDR_ROOM: usize = 8;
}

pub(super) fn fields(out: &mut Fields<'_>, link: LinkType) {
    match link {
        LinkType::Ethernet => ethernet(out, 0),
        LinkType::LinuxSll => sll(out),
        LinkType::LinuxSll2 => sll2(out),
        LinkType::Null | LinkType::Loop => null(out, link),
        LinkType::Ppp => ppp::ppp(out),
        LinkType::CHdlc => ppp::chdlc(out),
        LinkType::Nflog => nflog::fields(out),
        LinkType::Ipoib => ipoib::fields(out),
        LinkType::ArcnetLinux => arcnet::fields(out),
        LinkType::Raw | LinkType::Other(_) => {}
    }
}

/// An Ethernet II header at `base`: the frame's own, or one inside a
/// tunnel (VXLAN, GRE, Geneve) or after PBB.
pub(super) fn ethernet(out: &mut Fields<'_>, base: usize) {
    use range::*;
    for (at, abbrev, lg, ig, whose) in [
        (
            ETH_DST,
            "eth.dst",
            "eth.dst.lg",
            "eth.dst.ig",
            "destination",
        ),
        (ETH_SRC, "eth.src", "eth.src.lg", "eth.src.ig", "source"),
    ] {
        let at = base + at;
        let Some(addr) = out.bytes(at, 6) else { return };
        let text = if addr.iter().all(|&b| b == 0) {
            format!("{whose} MAC {} (zeros: lo has no hardware)", mac(addr))
        } else {
            format!("{whose} MAC {}", mac(addr))
        };
        out.push(Spec::new("eth", abbrev, at, 6), mac(addr), text);
        let local = addr[0] & 0x02 != 0;
        let group = addr[0] & 0x01 != 0;
        let lg_text = if local {
            "locally administered"
        } else {
            "globally unique"
        };
        let ig_text = if group {
            "group (multicast)"
        } else {
            "individual (unicast)"
        };
        out.push(
            Spec::new("eth", lg, at, 3).bits(0x02_0000).detail(),
            bit(local),
            format!("LG bit: {lg_text} address"),
        );
        out.push(
            Spec::new("eth", ig, at, 3).bits(0x01_0000).detail(),
            bit(group),
            format!("IG bit: {ig_text} address"),
        );
    }
    let at = base + ETH_TYPE;
    // 1500 or less is IEEE 802.3's length, an LLC header follows.
    if let Some(len) = out.uint(at, 2).filter(|&t| t <= 1500) {
        let text = format!("length {len}: an 802.3 frame, LLC follows");
        out.push(Spec::new("eth", "eth.len", at, 2), len.to_string(), text);
        return;
    }
    if let Some(t) = out.uint(at, 2) {
        let text = format!("EtherType {}: {} follows", hex(t, 4), ether_type_name(t));
        out.push(Spec::new("eth", "eth.type", at, 2), hex(t, 4), text);
    }
}

/// What an EtherType says follows, in words.
pub(super) fn ether_type_name(t: u32) -> &'static str {
    match t {
        0x0800 => "IPv4",
        0x86dd => "IPv6",
        0x0806 => "ARP",
        0x8100 => "an 802.1Q VLAN tag",
        0x88a8 => "an 802.1ad service tag",
        0x8847 => "an MPLS label",
        0x8864 => "a PPPoE session header",
        0x88e7 => "an 802.1ah I-tag",
        _ => "another protocol",
    }
}

fn sll(out: &mut Fields<'_>) {
    use range::*;
    let Some(pkttype) = out.uint(SLL_PKTTYPE, 2) else {
        return;
    };
    out.push(
        Spec::new("sll", "sll.pkttype", SLL_PKTTYPE, 2),
        pkttype.to_string(),
        packet_type(pkttype),
    );
    hatype(out, SLL_HATYPE);
    let halen = out.uint(SLL_HALEN, 2).unwrap_or(0) as usize;
    halen_field(out, SLL_HALEN, 2, halen);
    address(out, SLL_ADDR, halen);
    if let Some(t) = out.uint(SLL_ETYPE, 2) {
        let text = format!("protocol {}: {} follows", hex(t, 4), ether_type_name(t));
        out.push(Spec::new("sll", "sll.etype", SLL_ETYPE, 2), hex(t, 4), text);
    }
}

fn sll2(out: &mut Fields<'_>) {
    use range::*;
    let Some(t) = out.uint(SLL2_ETYPE, 2) else {
        return;
    };
    let text = format!("protocol {}: {} follows", hex(t, 4), ether_type_name(t));
    out.push(
        Spec::new("sll", "sll.etype", SLL2_ETYPE, 2),
        hex(t, 4),
        text,
    );
    if let Some(b) = out.bytes(SLL2_RESERVED, 2) {
        let v = colon_hex(b);
        out.push(
            Spec::new("sll", "tcplab.sll2.reserved", SLL2_RESERVED, 2),
            v,
            "reserved (zero)".to_string(),
        );
    }
    if let Some(i) = out.uint(SLL2_IFINDEX, 4) {
        out.push(
            Spec::new("sll", "sll.ifindex", SLL2_IFINDEX, 4),
            i.to_string(),
            format!("interface index {i} (the capturing machine's; 1 is lo)"),
        );
    }
    hatype(out, SLL2_HATYPE);
    if let Some(p) = out.uint(SLL2_PKTTYPE, 1) {
        out.push(
            Spec::new("sll", "sll.pkttype", SLL2_PKTTYPE, 1),
            p.to_string(),
            packet_type(p),
        );
    }
    let halen = out.uint(SLL2_HALEN, 1).unwrap_or(0) as usize;
    halen_field(out, SLL2_HALEN, 1, halen);
    address(out, SLL2_ADDR, halen);
}

fn packet_type(t: u32) -> String {
    let what = match t {
        0 => "unicast to us",
        1 => "broadcast",
        2 => "multicast",
        3 => "unicast to another host",
        4 => "sent by us",
        _ => "unknown",
    };
    format!("packet type {t}: {what}")
}

fn hatype(out: &mut Fields<'_>, at: usize) {
    if let Some(h) = out.uint(at, 2) {
        let what = match h {
            1 => "Ethernet",
            772 => "loopback",
            776 => "IPv6-in-IPv4 (sit)",
            65534 => "none",
            _ => "another kind",
        };
        out.push(
            Spec::new("sll", "sll.hatype", at, 2),
            h.to_string(),
            format!("link-layer address type {h}: {what}"),
        );
    }
}

fn halen_field(out: &mut Fields<'_>, at: usize, len: usize, halen: usize) {
    out.push(
        Spec::new("sll", "sll.halen", at, len),
        halen.to_string(),
        format!("link-layer address length {halen}"),
    );
}

/// The 8 address bytes: a 6-byte MAC and 2 unused, or raw bytes.
fn address(out: &mut Fields<'_>, at: usize, halen: usize) {
    use range::SLL_ADDR_ROOM;
    if halen == 6 {
        if let Some(a) = out.bytes(at, 6) {
            let text = format!("source MAC {}", mac(a));
            out.push(Spec::new("sll", "sll.src.eth", at, 6), mac(a), text);
        }
        if let Some(rest) = out.bytes(at + 6, 2) {
            let v = colon_hex(rest);
            out.push(
                Spec::new("sll", "sll.unused", at + 6, 2),
                v,
                "unused address bytes".to_string(),
            );
        }
    } else if let Some(a) = out.bytes(at, SLL_ADDR_ROOM) {
        let v = colon_hex(a);
        out.push(
            Spec::new("sll", "tcplab.sll.address", at, SLL_ADDR_ROOM),
            v.clone(),
            format!("source address bytes {v} ({halen} used)"),
        );
    }
}

fn null(out: &mut Fields<'_>, link: LinkType) {
    use crate::decode::link::{null_value, NullValue};
    let Some(raw) = out.bytes(0, 4) else { return };
    // Wireshark's null dissector reads both DLT_NULL and DLT_LOOP.
    match null_value(link, [raw[0], raw[1], raw[2], raw[3]]) {
        NullValue::Family(family) => {
            let what = match family {
                2 => "IPv4",
                10 | 24 | 28 | 30 => "IPv6",
                _ => "not IP",
            };
            out.push(
                Spec::new("null", "null.family", 0, 4),
                family.to_string(),
                format!("address family {family}: {what} follows"),
            );
        }
        NullValue::EtherType(t) => {
            let t = u32::from(t);
            let text = format!(
                "EtherType {} where a family would be (above 1500, so not one): {} follows",
                hex(t, 4),
                ether_type_name(t)
            );
            out.push(Spec::new("null", "null.type", 0, 4), hex(t, 4), text);
        }
        // Wireshark hands ff 03 to PPP: no null fields, PPP's.
        NullValue::Ppp => ppp::ppp(out),
    }
}
