//! PPP (RFC 1661, in RFC 1662's HDLC-like framing) and Cisco HDLC: an
//! address, a control byte and a protocol number.

use super::super::value::hex;
use super::super::{Fields, Spec};
use super::ether_type_name;
use crate::decode::link::{field, ppp_header};

pub(super) fn ppp(out: &mut Fields<'_>) {
    let Some(h) = ppp_header(out.data) else {
        return;
    };
    if h.has_address {
        out.push(
            Spec::new("ppp", "ppp.address", 0, 1),
            hex(0xff, 2),
            "address 0xff: all stations (the only one PPP uses)".to_string(),
        );
        if let Some(c) = out.uint(1, 1) {
            out.push(
                Spec::new("ppp", "ppp.control", 1, 1),
                hex(c, 2),
                format!("control {}: unnumbered information", hex(c, 2)),
            );
        }
    }
    let p = u32::from(h.protocol);
    let what = match h.protocol {
        0x0021 => "IPv4",
        0x0057 => "IPv6",
        0x0281 => "MPLS unicast",
        0x0283 => "MPLS multicast",
        0xc021 => "LCP (link control, not IP)",
        0x8021 => "IPCP (IPv4 setup, not IP)",
        _ => "another protocol",
    };
    let compressed = if h.protocol_len == 1 {
        " (compressed to one byte)"
    } else {
        ""
    };
    out.push(
        Spec::new("ppp", "ppp.protocol", h.protocol_at, h.protocol_len),
        hex(p, 4),
        format!("protocol {}{compressed}: {what} follows", hex(p, 4)),
    );
}

pub(super) fn chdlc(out: &mut Fields<'_>) {
    if let Some(a) = out.uint(field::CHDLC_ADDRESS, 1) {
        let what = match a {
            0x0f => "unicast",
            0x8f => "broadcast",
            _ => "unknown",
        };
        out.push(
            Spec::new("chdlc", "chdlc.address", field::CHDLC_ADDRESS, 1),
            hex(a, 2),
            format!("address {}: {what}", hex(a, 2)),
        );
    }
    if let Some(c) = out.uint(field::CHDLC_CONTROL, 1) {
        out.push(
            Spec::new("chdlc", "chdlc.control", field::CHDLC_CONTROL, 1),
            hex(c, 2),
            format!("control {}", hex(c, 2)),
        );
    }
    let at = field::CHDLC_PROTOCOL.start;
    if let Some(t) = out.uint(at, 2) {
        let text = format!("EtherType {}: {} follows", hex(t, 4), ether_type_name(t));
        out.push(Spec::new("chdlc", "chdlc.protocol", at, 2), hex(t, 4), text);
    }
}
