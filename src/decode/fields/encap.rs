//! The fields of the headers between the link header and the inner IP
//! header: VLAN and QinQ tags, MPLS labels, PPPoE and PPP, and the
//! tunnels' UDP, VXLAN, Geneve and GRE headers (their IP headers and inner
//! Ethernet headers are described by `network` and `link`).

use super::value::{bit, colon_hex, hex};
use super::{Fields, Spec};

/// Offsets inside each header, the one place that knows them.
mod range {
    pub const TAG_TCI: usize = 0;
    pub const TAG_TYPE: usize = 2;
    pub const PPPOE_VERSION_TYPE: usize = 0;
    pub const PPPOE_CODE: usize = 1;
    pub const PPPOE_SESSION: usize = 2;
    pub const PPPOE_LENGTH: usize = 4;
    pub const UDP_SRC: usize = 0;
    pub const UDP_DST: usize = 2;
    pub const UDP_LENGTH: usize = 4;
    pub const UDP_CHECKSUM: usize = 6;
    pub const UDP_LEN: usize = 8;
    pub const VXLAN_FLAGS: usize = 0;
    pub const VXLAN_GBP: usize = 2;
    pub const VXLAN_VNI: usize = 4;
    pub const VXLAN_RESERVED: usize = 7;
}

/// An 802.1Q tag (`vlan`) at `at`: priority, DEI, VLAN ID, EtherType.
pub(super) fn vlan(out: &mut Fields<'_>, at: usize) {
    let Some(tci) = out.uint(at + range::TAG_TCI, 2) else {
        return;
    };
    let s = |abbrev, mask| Spec::new("vlan", abbrev, at, 2).bits(mask);
    let (pcp, dei, id) = (tci >> 13, tci >> 12 & 1, tci & 0x0fff);
    out.push(
        s("vlan.priority", 0xe000),
        pcp.to_string(),
        format!("priority {pcp} (PCP, 802.1p class of service)"),
    );
    out.push(
        s("vlan.dei", 0x1000),
        dei.to_string(),
        format!("drop eligible {}", if dei == 1 { "yes" } else { "no" }),
    );
    out.push(
        s("vlan.id", 0x0fff),
        id.to_string(),
        format!("VLAN {id}: the virtual LAN this frame belongs to"),
    );
    ether_type(out, "vlan", "vlan.etype", at + range::TAG_TYPE);
}

/// An 802.1ad service tag at `at`, the outer tag of QinQ. Wireshark
/// names its type field `ieee8021ah.etype`.
pub(super) fn service_tag(out: &mut Fields<'_>, at: usize) {
    let Some(tci) = out.uint(at + range::TAG_TCI, 2) else {
        return;
    };
    let layer = "ieee8021ad";
    let (pcp, dei, id) = (tci >> 13, tci >> 12 & 1, tci & 0x0fff);
    out.push(
        Spec::new(layer, "ieee8021ad.priority", at, 1).bits(0xe0),
        pcp.to_string(),
        format!("service priority {pcp}"),
    );
    out.push(
        Spec::new(layer, "ieee8021ad.dei", at, 1).bits(0x10),
        dei.to_string(),
        format!("drop eligible {}", if dei == 1 { "yes" } else { "no" }),
    );
    out.push(
        Spec::new(layer, "ieee8021ad.id", at, 2).bits(0x0fff),
        id.to_string(),
        format!("service VLAN {id} (the provider's tag of QinQ)"),
    );
    ether_type(out, layer, "ieee8021ah.etype", at + range::TAG_TYPE);
}

fn ether_type(out: &mut Fields<'_>, layer: &'static str, abbrev: &'static str, at: usize) {
    if let Some(t) = out.uint(at, 2) {
        let text = format!(
            "EtherType {}: {} follows",
            hex(t, 4),
            super::link::ether_type_name(t)
        );
        out.push(Spec::new(layer, abbrev, at, 2), hex(t, 4), text);
    }
}

/// One MPLS label stack entry at `at` (RFC 3032): label, traffic class,
/// bottom of stack, TTL, all in one 4-byte word.
pub(super) fn mpls(out: &mut Fields<'_>, at: usize) {
    let Some(w) = out.uint(at, 4) else { return };
    let s = |abbrev, mask| Spec::new("mpls", abbrev, at, 4).bits(mask);
    let (label, exp, bottom, ttl) = (w >> 12, w >> 9 & 7, w >> 8 & 1, w & 0xff);
    out.push(
        s("mpls.label", 0xffff_f000),
        label.to_string(),
        format!("label {label}: the path this packet follows"),
    );
    out.push(
        s("mpls.exp", 0x0e00).detail(),
        exp.to_string(),
        format!("traffic class {exp}"),
    );
    let last = if bottom == 1 {
        "the last label: IP follows"
    } else {
        "another label follows"
    };
    out.push(
        s("mpls.bottom", 0x0100),
        bottom.to_string(),
        format!("bottom of stack {bottom}: {last}"),
    );
    out.push(
        s("mpls.ttl", 0xff),
        ttl.to_string(),
        format!("time to live {ttl}"),
    );
}

/// A PPPoE session header at `at` (RFC 2516).
pub(super) fn pppoe(out: &mut Fields<'_>, at: usize) {
    use range::*;
    let Some(vt) = out.uint(at + PPPOE_VERSION_TYPE, 1) else {
        return;
    };
    let s = |abbrev, off, len| Spec::new("pppoes", abbrev, at + off, len);
    out.push(
        s("pppoe.version", PPPOE_VERSION_TYPE, 1).bits(0xf0),
        (vt >> 4).to_string(),
        format!("PPPoE version {}", vt >> 4),
    );
    out.push(
        s("pppoe.type", PPPOE_VERSION_TYPE, 1).bits(0x0f).detail(),
        (vt & 0x0f).to_string(),
        format!("type {}", vt & 0x0f),
    );
    if let Some(code) = out.uint(at + PPPOE_CODE, 1) {
        let what = if code == 0 { ": session data" } else { "" };
        let text = format!("code {}{what}", hex(code, 2));
        out.push(s("pppoe.code", PPPOE_CODE, 1), hex(code, 2), text);
    }
    if let Some(id) = out.uint(at + PPPOE_SESSION, 2) {
        let text = format!("session {}", hex(id, 4));
        out.push(s("pppoe.session_id", PPPOE_SESSION, 2), hex(id, 4), text);
    }
    if let Some(len) = out.uint(at + PPPOE_LENGTH, 2) {
        let text = format!("payload length {len} (PPP protocol and packet)");
        out.push(
            s("pppoe.payload_length", PPPOE_LENGTH, 2),
            len.to_string(),
            text,
        );
    }
}

/// PPP's protocol field at `at`.
pub(super) fn ppp(out: &mut Fields<'_>, at: usize) {
    let Some(p) = out.uint(at, 2) else { return };
    let name = match p {
        0x0021 => "IPv4",
        0x0057 => "IPv6",
        0x0281 => "MPLS",
        _ => "another protocol",
    };
    let text = format!("PPP protocol {}: {name} follows", hex(p, 4));
    out.push(Spec::new("ppp", "ppp.protocol", at, 2), hex(p, 4), text);
}

/// A tunnel's UDP header at `at` (RFC 768) and the payload it declares.
pub(super) fn udp(out: &mut Fields<'_>, at: usize) {
    use range::*;
    let s = |abbrev, off, len| Spec::new("udp", abbrev, at + off, len);
    for (abbrev, off, whose) in [
        ("udp.srcport", UDP_SRC, "source"),
        ("udp.dstport", UDP_DST, "destination"),
    ] {
        if let Some(port) = out.uint(at + off, 2) {
            let text = format!("{whose} port {port}");
            out.push(s(abbrev, off, 2), port.to_string(), text);
        }
    }
    let Some(len) = out.uint(at + UDP_LENGTH, 2) else {
        return;
    };
    let text = format!("length {len} = 8 UDP + {} tunnelled", len.saturating_sub(8));
    out.push(s("udp.length", UDP_LENGTH, 2), len.to_string(), text);
    if let Some(sum) = out.uint(at + UDP_CHECKSUM, 2) {
        let text = if sum == 0 {
            "checksum 0x0000: none (IPv4 allows UDP without one)".to_string()
        } else {
            format!("checksum {} (not verified)", hex(sum, 4))
        };
        out.push(s("udp.checksum", UDP_CHECKSUM, 2), hex(sum, 4), text);
        if sum == 0 {
            let status = s("udp.checksum.status", UDP_CHECKSUM, 2).detail();
            out.push(status, "3".into(), "checksum status: not present".into());
        }
    }
    let payload = (len as usize).saturating_sub(UDP_LEN);
    let end = (at + UDP_LEN + payload).min(out.data.len());
    if let Some(bytes) = out.data.get(at + UDP_LEN..end) {
        let spec = Spec::new("udp", "udp.payload", at + UDP_LEN, payload).detail();
        let text = format!("{payload} bytes of UDP payload: the tunnelled packet");
        out.push(spec, colon_hex(bytes), text);
    }
}

/// A VXLAN header at `at` (RFC 7348, with the group policy extension
/// Wireshark reads).
pub(super) fn vxlan(out: &mut Fields<'_>, at: usize) {
    use range::*;
    let Some(flags) = out.uint(at + VXLAN_FLAGS, 2) else {
        return;
    };
    let s = |abbrev, off, len| Spec::new("vxlan", abbrev, at + off, len);
    let text = format!("flags {}", hex(flags, 4));
    out.push(s("vxlan.flags", VXLAN_FLAGS, 2), hex(flags, 4), text);
    for (abbrev, mask, what) in [
        ("vxlan.flag_g", 0x8000, "group policy ID present"),
        ("vxlan.flag_i", 0x0800, "VNI valid"),
        ("vxlan.flag_d", 0x0040, "don't learn"),
        ("vxlan.flag_a", 0x0008, "policy applied"),
    ] {
        let set = flags & mask != 0;
        let spec = s(abbrev, VXLAN_FLAGS, 2).bits(mask).detail();
        out.push(
            spec,
            bit(set),
            format!("{what}: {}", super::value::said(set)),
        );
    }
    let reserved = s("vxlan.flags_reserved", VXLAN_FLAGS, 2)
        .bits(0x77b7)
        .detail();
    out.push(
        reserved,
        hex(flags & 0x77b7, 4),
        "reserved flag bits".into(),
    );
    if let Some(gbp) = out.uint(at + VXLAN_GBP, 2) {
        let text = format!("group policy ID {gbp}");
        out.push(s("vxlan.gbp", VXLAN_GBP, 2), gbp.to_string(), text);
    }
    if let Some(vni) = out.uint(at + VXLAN_VNI, 3) {
        let text = format!("VNI {vni}: the virtual network of the Ethernet frame inside");
        out.push(s("vxlan.vni", VXLAN_VNI, 3), vni.to_string(), text);
    }
    if let Some(r) = out.uint(at + VXLAN_RESERVED, 1) {
        let spec = s("vxlan.reserved8", VXLAN_RESERVED, 1).detail();
        out.push(spec, r.to_string(), "reserved".into());
    }
}

/// An 802.1ah (PBB) header at `at`: the I-tag's flags and service ID, the
/// customer's addresses, the EtherType.
pub(super) fn pbb(out: &mut Fields<'_>, at: usize) {
    let layer = "ieee8021ah";
    let Some(flags) = out.uint(at, 1) else { return };
    for (abbrev, mask, what) in [
        ("ieee8021ah.priority", 0xe0, "priority"),
        ("ieee8021ah.drop", 0x10, "drop eligible"),
        ("ieee8021ah.nca", 0x08, "no customer addresses"),
        ("ieee8021ah.res1", 0x04, "reserved"),
        ("ieee8021ah.res2", 0x03, "reserved"),
    ] {
        let v = (flags & mask) >> mask.trailing_zeros();
        let spec = Spec::new(layer, abbrev, at, 1).bits(mask).detail();
        out.push(spec, v.to_string(), format!("{what} {v}"));
    }
    if let Some(isid) = out.uint(at + 1, 3) {
        let text = format!("service instance {isid} (I-SID): the customer's service");
        out.push(
            Spec::new(layer, "ieee8021ah.isid", at + 1, 3),
            isid.to_string(),
            text,
        );
    }
    for (abbrev, off, whose) in [
        ("ieee8021ah.cdst", 4, "customer destination"),
        ("ieee8021ah.csrc", 10, "customer source"),
    ] {
        if let Some(a) = out.bytes(at + off, 6) {
            let text = format!("{whose} MAC {}", super::value::mac(a));
            out.push(
                Spec::new(layer, abbrev, at + off, 6),
                super::value::mac(a),
                text,
            );
        }
    }
    ether_type(out, layer, "ieee8021ah.etype", at + 16);
}

/// LLC and SNAP at `at` (IEEE 802.2, RFC 1042): SAPs AA, unnumbered
/// information, an OUI of 0, then an EtherType.
pub(super) fn llc_snap(out: &mut Fields<'_>, at: usize) {
    let s = |abbrev, off, len| Spec::new("llc", abbrev, at + off, len);
    for (abbrev, sap, low, low_what, off) in [
        (
            "llc.dsap",
            "llc.dsap.sap",
            "llc.dsap.ig",
            "group address",
            0,
        ),
        ("llc.ssap", "llc.ssap.sap", "llc.ssap.cr", "response", 1),
    ] {
        let Some(b) = out.uint(at + off, 1) else {
            return;
        };
        let text = format!("{} SAP {}: SNAP", &abbrev[4..], hex(b, 2));
        out.push(s(abbrev, off, 1), hex(b, 2), text);
        out.push(
            s(sap, off, 1).bits(0xfe).detail(),
            (b >> 1).to_string(),
            String::new(),
        );
        let l = s(low, off, 1).bits(0x01).detail();
        out.push(l, (b & 1).to_string(), format!("{low_what}: {}", b & 1));
    }
    if let Some(c) = out.uint(at + 2, 1) {
        let text = format!("control {}: unnumbered information", hex(c, 2));
        out.push(s("llc.control", 2, 1), hex(c, 4), text);
        let m = s("llc.control.u_modifier_cmd", 2, 1).bits(0xec).detail();
        out.push(m, hex((c & 0xec) >> 2, 2), String::new());
        let f = s("llc.control.ftype", 2, 1).bits(0x03).detail();
        out.push(f, hex(c & 0x03, 2), String::new());
    }
    if let Some(oui) = out.uint(at + 3, 3) {
        let text = format!("OUI {}: the EtherType after it is Ethernet's", hex(oui, 6));
        out.push(s("llc.oui", 3, 3), oui.to_string(), text);
    }
    ether_type(out, "llc", "llc.type", at + 6);
}
