//! NFLOG (Linux netfilter log): family, version, resource id, then the
//! TLVs the kernel attached to the logged packet, the last of them the
//! packet itself. Values as `packet-nflog.c` shows them.

use super::super::value::{colon_hex, hex};
use super::super::{Fields, Spec};
use crate::decode::link::{nflog_tlvs, NflogTlv};

/// TLV types (`enum nfulnl_attr_type`, linux/netfilter/nfnetlink_log.h).
mod kind {
    pub const PACKET_HDR: u16 = 1;
    pub const TIMESTAMP: u16 = 3;
    pub const IFINDEX_INDEV: u16 = 4;
    pub const IFINDEX_PHYSOUTDEV: u16 = 7;
    pub const PAYLOAD: u16 = 9;
    pub const PREFIX: u16 = 10;
    pub const UID: u16 = 11;
    pub const GID: u16 = 14;
}

const NAMES: [&str; 18] = [
    "NFULA_UNSPEC",
    "NFULA_PACKET_HDR",
    "NFULA_MARK",
    "NFULA_TIMESTAMP",
    "NFULA_IFINDEX_INDEV",
    "NFULA_IFINDEX_OUTDEV",
    "NFULA_IFINDEX_PHYSINDEV",
    "NFULA_IFINDEX_PHYSOUTDEV",
    "NFULA_HWADDR",
    "NFULA_PAYLOAD",
    "NFULA_PREFIX",
    "NFULA_UID",
    "NFULA_SEQ",
    "NFULA_SEQ_GLOBAL",
    "NFULA_GID",
    "NFULA_HWTYPE",
    "NFULA_HWHEADER",
    "NFULA_HWLEN",
];

pub(super) fn fields(out: &mut Fields<'_>) {
    let Some(family) = out.uint(0, 1) else { return };
    let what = match family {
        2 => "IPv4",
        10 => "IPv6",
        _ => "not IP",
    };
    out.push(
        Spec::new("nflog", "nflog.family", 0, 1),
        family.to_string(),
        format!("address family {family}: the payload is {what}"),
    );
    if let Some(v) = out.uint(1, 1) {
        let text = format!("version {v}");
        out.push(
            Spec::new("nflog", "nflog.version", 1, 1),
            v.to_string(),
            text,
        );
    }
    if let Some(id) = out.uint(2, 2) {
        out.push(
            Spec::new("nflog", "nflog.res_id", 2, 2),
            id.to_string(),
            format!("resource id {id}: the NFLOG group (--nflog-group)"),
        );
    }
    for tlv in nflog_tlvs(out.data).0 {
        one_tlv(out, tlv);
    }
}

fn one_tlv(out: &mut Fields<'_>, tlv: NflogTlv) {
    let NflogTlv { at, len, kind } = tlv;
    let name = NAMES.get(usize::from(kind)).unwrap_or(&"unknown");
    if let Some(b) = out.bytes(at, len) {
        out.push(
            Spec::new("nflog", "nflog.tlv", at, len),
            colon_hex(b),
            format!("TLV {name} ({kind}), {len} bytes with its header"),
        );
    }
    out.push(
        Spec::new("nflog", "nflog.tlv_length", at, 2),
        len.to_string(),
        format!("length {len} (in the capturing host's byte order)"),
    );
    out.push(
        Spec::new("nflog", "nflog.tlv_type", at + 2, 2),
        kind.to_string(),
        format!("type {kind}: {name}"),
    );
    value(out, kind, at + 4, len - 4);
}

/// The TLV's value, where Wireshark has a field for it; `nflog.tlv_value`
/// (the bytes) otherwise, and nothing for the payload (the layers after).
fn value(out: &mut Fields<'_>, kind: u16, at: usize, len: usize) {
    let be = |out: &Fields<'_>| out.uint(at, len).filter(|_| len == 4);
    match kind {
        kind::PACKET_HDR if len == 4 => packet_hdr(out, at),
        kind::IFINDEX_INDEV..=kind::IFINDEX_PHYSOUTDEV if len == 4 => {
            const ABBREVS: [&str; 4] = [
                "nflog.ifindex_indev",
                "nflog.ifindex_outdev",
                "nflog.ifindex_physindev",
                "nflog.ifindex_physoutdev",
            ];
            let abbrev = ABBREVS[usize::from(kind - kind::IFINDEX_INDEV)];
            if let Some(i) = be(out) {
                let text = format!("interface index {i} (1 is lo)");
                out.push(Spec::new("nflog", abbrev, at, 4), i.to_string(), text);
            }
        }
        kind::UID | kind::GID if len == 4 => {
            let (abbrev, whose) = if kind == kind::UID {
                ("nflog.uid", "user")
            } else {
                ("nflog.gid", "group")
            };
            if let Some(id) = be(out) {
                let id = id as i32;
                let text = format!("{whose} id {id} of the socket that sent it");
                out.push(Spec::new("nflog", abbrev, at, 4), id.to_string(), text);
            }
        }
        kind::PREFIX if len >= 1 => prefix(out, at, len),
        kind::TIMESTAMP if len == 16 => timestamp(out, at),
        kind::PAYLOAD => {}
        _ if len > 0 => {
            if let Some(b) = out.bytes(at, len) {
                let v = colon_hex(b);
                let text = format!("value {v}");
                out.push(Spec::new("nflog", "nflog.tlv_value", at, len), v, text);
            }
        }
        _ => {}
    }
}

fn packet_hdr(out: &mut Fields<'_>, at: usize) {
    if let Some(p) = out.uint(at, 2) {
        out.push(
            Spec::new("nflog", "nflog.protocol", at, 2),
            hex(p, 4),
            format!("hardware protocol (EtherType) {}", hex(p, 4)),
        );
    }
    if let Some(h) = out.uint(at + 2, 1) {
        let hook = match h {
            0 => "prerouting",
            1 => "local in",
            2 => "forward",
            3 => "local out",
            4 => "postrouting",
            _ => "unknown",
        };
        out.push(
            Spec::new("nflog", "nflog.hook", at + 2, 1),
            h.to_string(),
            format!("netfilter hook {h}: {hook}"),
        );
    }
}

/// The rule's --nflog-prefix, NUL-terminated.
fn prefix(out: &mut Fields<'_>, at: usize, len: usize) {
    let Some(b) = out.bytes(at, len) else { return };
    let text_part = b.split(|&c| c == 0).next().unwrap_or_default();
    let s = String::from_utf8_lossy(text_part).into_owned();
    let text = format!("prefix {s:?} (the logging rule's --nflog-prefix)");
    out.push(Spec::new("nflog", "nflog.prefix", at, len), s, text);
}

/// Seconds and microseconds, 8 bytes each, big-endian. Shown as epoch
/// seconds: Wireshark shows a calendar date (`nflog.timestamp`), which the
/// field name here keeps apart.
fn timestamp(out: &mut Fields<'_>, at: usize) {
    let Some(b) = out.bytes(at, 16) else { return };
    let secs = u64::from_be_bytes(b[..8].try_into().unwrap_or_default());
    let usecs = u64::from_be_bytes(b[8..].try_into().unwrap_or_default());
    out.push(
        Spec::new("nflog", "tcplab.nflog.timestamp", at, 16),
        format!("{secs}.{usecs:06}"),
        format!("logged at {secs}.{usecs:06} (seconds since the epoch)"),
    );
}
