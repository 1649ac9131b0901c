//! BSD loopback (DLT_NULL, DLT_LOOP): four bytes saying what follows,
//! read as Wireshark's `packet-null.c` reads them.

use super::{ppp, NextLayer};
use crate::decode::DecodeError;
use crate::values::LinkType;

/// The largest IEEE 802.3 length: a NULL header above it is an EtherType.
const IEEE_802_3_MAX_LEN: u32 = 1500;

/// What a NULL or LOOP header holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NullValue {
    /// A BSD address family (`null.family`).
    Family(u32),
    /// An EtherType (`null.type`): old Linux libpcap wrote loopback frames
    /// as two zero bytes and the Ethernet header's type.
    EtherType(u16),
    /// ff 03: PPP in HDLC-like framing (an ISDN driver's, per Wireshark).
    Ppp,
}

/// The value of the 4 header bytes. DLT_LOOP holds a family in network
/// byte order. DLT_NULL holds it in the writer's order, or is one of the
/// variants Wireshark tells apart by where the non-zero bytes are (read as
/// a little-endian number, as tshark on x86 does): an IRIX/UNICOS 16-bit
/// family in either order, or a byte-swapped EtherType.
pub(crate) fn null_value(link: LinkType, raw: [u8; 4]) -> NullValue {
    if link == LinkType::Loop {
        return NullValue::Family(u32::from_be_bytes(raw));
    }
    if raw[..2] == [0xff, 0x03] {
        return NullValue::Ppp;
    }
    let host = u32::from_le_bytes(raw);
    let value = if host & 0xffff_0000 != 0 {
        if host & 0xff00_0000 == 0 && host & 0x00ff_0000 < 0x0006_0000 {
            host >> 16
        } else {
            host.swap_bytes()
        }
    } else if host & 0xff == 0 && host & 0xff00 < 0x0600 {
        u32::from((host as u16).swap_bytes())
    } else {
        host
    };
    if value > IEEE_802_3_MAX_LEN {
        // Wireshark keeps the low 16 bits as the EtherType.
        NullValue::EtherType(value as u16)
    } else {
        NullValue::Family(value)
    }
}

pub(super) fn split(link: LinkType, data: &[u8]) -> Result<(NextLayer, usize), DecodeError> {
    let next = match null_value(link, [data[0], data[1], data[2], data[3]]) {
        NullValue::Ppp => return ppp::split(data),
        NullValue::EtherType(t) => NextLayer::EtherType(t),
        // AF_INET everywhere; AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS.
        NullValue::Family(2 | 10 | 24 | 28 | 30) => NextLayer::Ip,
        NullValue::Family(other) => NextLayer::Family(other),
    };
    Ok((next, link.header_len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_ethertypes_as_wireshark_reads_them() {
        let null = |b: [u8; 4]| null_value(LinkType::Null, b);
        assert_eq!(null([2, 0, 0, 0]), NullValue::Family(2)); // little-endian writer
        assert_eq!(null([0, 0, 0, 30]), NullValue::Family(30)); // big-endian writer
        assert_eq!(null([0, 2, 0, 0]), NullValue::Family(2)); // IRIX, one order
        assert_eq!(null([0, 0, 2, 0]), NullValue::Family(2)); // IRIX, the other
        assert_eq!(null([0, 0, 8, 0]), NullValue::EtherType(0x0800)); // old Linux
        assert_eq!(null([0, 0, 0x86, 0xdd]), NullValue::EtherType(0x86dd));
        assert_eq!(null([0xff, 3, 0, 0x21]), NullValue::Ppp);
        // DLT_LOOP has no EtherType form: tshark shows family 2048.
        let looped = null_value(LinkType::Loop, [0, 0, 8, 0]);
        assert_eq!(looped, NullValue::Family(2048));
    }
}
