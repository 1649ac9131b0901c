//! IP over InfiniBand (RFC 4391 section 6, LINKTYPE_IPOIB): the
//! destination's queue pair and GID, then an EtherType.

use std::net::Ipv6Addr;

use super::super::value::hex;
use super::super::{Fields, Spec};
use super::ether_type_name;
use crate::decode::link::field::{IPOIB_DADDR, IPOIB_DGID, IPOIB_QPN, IPOIB_RESERVED, IPOIB_TYPE};

pub(super) fn fields(out: &mut Fields<'_>) {
    let span = |r: &std::ops::Range<usize>| (r.start, r.len());
    let (at, len) = span(&IPOIB_DADDR);
    // Wireshark's field for the whole address shows no value of its own.
    out.push(
        Spec::new("ipoib", "ipoib.daddr", at, len),
        String::new(),
        "destination address: queue pair and port GID".to_string(),
    );
    let (at, len) = span(&IPOIB_QPN);
    if let Some(q) = out.uint(at, len) {
        out.push(
            Spec::new("ipoib", "ipoib.daddr.qpn", at, len),
            hex(q, 6),
            format!("destination queue pair number {}", hex(q, 6)),
        );
    }
    let (at, len) = span(&IPOIB_DGID);
    if let Some(g) = out
        .bytes(at, len)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
    {
        let gid = Ipv6Addr::from(g).to_string();
        let text = format!("destination port GID {gid} (written as an IPv6 address)");
        out.push(Spec::new("ipoib", "ipoib.dgid", at, len), gid, text);
    }
    let (at, len) = span(&IPOIB_TYPE);
    if let Some(t) = out.uint(at, len) {
        let text = format!("EtherType {}: {} follows", hex(t, 4), ether_type_name(t));
        out.push(Spec::new("ipoib", "ipoib.type", at, len), hex(t, 4), text);
    }
    let (at, len) = span(&IPOIB_RESERVED);
    if let Some(r) = out.uint(at, len) {
        out.push(
            Spec::new("ipoib", "ipoib.reserved", at, len),
            hex(r, 4),
            "reserved (zero)".to_string(),
        );
    }
}
