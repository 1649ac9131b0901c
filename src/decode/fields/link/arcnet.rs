//! ARCnet as Linux captures it (LINKTYPE_ARCNET_LINUX): one-byte station
//! IDs, the hardware's offset bytes, a protocol ID and, for the RFC 1201
//! protocols, the fragmentation fields.

use super::super::value::{colon_hex, hex};
use super::super::{Fields, Spec};
use crate::decode::link::{arcnet_is_short, field};

pub(super) fn fields(out: &mut Fields<'_>) {
    for (at, abbrev, whose) in [
        (field::ARCNET_SRC, "arcnet.src", "source"),
        (field::ARCNET_DST, "arcnet.dst", "destination"),
    ] {
        if let Some(id) = out.uint(at, 1) {
            let text = format!("{whose} station ID {}", hex(id, 2));
            out.push(Spec::new("arcnet", abbrev, at, 1), hex(id, 2), text);
        }
    }
    let at = field::ARCNET_OFFSET.start;
    if let Some(b) = out.bytes(at, 2) {
        out.push(
            Spec::new("arcnet", "arcnet.offset", at, 2),
            colon_hex(b),
            "offset bytes of the hardware packet (Linux keeps them)".to_string(),
        );
    }
    let Some(p) = out.uint(field::ARCNET_PROTOCOL, 1) else {
        return;
    };
    let what = match p {
        0xf0 => "RFC 1051 IP",
        0xf1 => "RFC 1051 ARP",
        0xd4 => "RFC 1201 IP",
        0xd5 => "RFC 1201 ARP",
        0xc4 => "IPv6",
        _ => "another protocol",
    };
    out.push(
        Spec::new("arcnet", "arcnet.protID", field::ARCNET_PROTOCOL, 1),
        hex(p, 2),
        format!("protocol ID {}: {what}", hex(p, 2)),
    );
    if arcnet_is_short(p as u8) {
        return;
    }
    if let Some(s) = out.uint(field::ARCNET_SPLIT_FLAG, 1) {
        out.push(
            Spec::new("arcnet", "arcnet.split_flag", field::ARCNET_SPLIT_FLAG, 1),
            s.to_string(),
            format!("split flag {s}: 0 is a packet in one frame (RFC 1201)"),
        );
    }
    let at = field::ARCNET_SEQUENCE.start;
    if let Some(n) = out.uint(at, 2) {
        out.push(
            Spec::new("arcnet", "arcnet.sequence", at, 2),
            n.to_string(),
            format!("sequence number {n} (the same in every fragment of a packet)"),
        );
    }
}
