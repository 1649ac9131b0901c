//! Where the network layer starts in each link type.

use super::{DecodeError, Layer};
use crate::values::LinkType;

/// Byte ranges and sizes of the link headers: the one place that knows them.
pub mod field {
    use std::ops::Range;
    pub const ETHERNET_TYPE: Range<usize> = 12..14;
    pub const SLL_PROTOCOL: Range<usize> = 14..16;
    pub const SLL2_PROTOCOL: Range<usize> = 0..2;
}

/// What follows the link header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NextLayer {
    /// An EtherType (from a cooked header).
    EtherType(u16),
    /// IP of unknown version: look at the first nibble.
    Ip,
    /// A BSD address family that is not IP.
    Family(u32),
    /// A link type tcplab does not decode.
    Unsupported(u32),
}

/// What follows the link header, and where it starts in the frame (the
/// link header's length: fixed for most link types, read from the header
/// for those whose length varies).
pub(crate) fn split_link(link: LinkType, data: &[u8]) -> Result<(NextLayer, usize), DecodeError> {
    let need = link.header_len();
    if data.len() < need {
        return Err(DecodeError {
            layer: Layer::Link,
            offset: 0,
            reason: format!(
                "{} header needs {need} bytes, {} captured",
                link.label(),
                data.len()
            ),
        });
    }
    let be16 = |r: std::ops::Range<usize>| u16::from_be_bytes([data[r.start], data[r.start + 1]]);
    let next = match link {
        LinkType::LinuxSll => NextLayer::EtherType(be16(field::SLL_PROTOCOL)),
        LinkType::LinuxSll2 => NextLayer::EtherType(be16(field::SLL2_PROTOCOL)),
        LinkType::Ethernet => NextLayer::EtherType(be16(field::ETHERNET_TYPE)),
        LinkType::Null | LinkType::Loop => {
            let family = null_family(link, [data[0], data[1], data[2], data[3]]);
            match family {
                // AF_INET everywhere; AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS.
                2 | 10 | 24 | 28 | 30 => NextLayer::Ip,
                other => NextLayer::Family(other),
            }
        }
        LinkType::Raw => NextLayer::Ip,
        LinkType::Other(n) => NextLayer::Unsupported(n),
    };
    Ok((next, need))
}

/// The address family of a NULL or LOOP header: DLT_LOOP is in network
/// byte order, DLT_NULL in the writer's, so either order is accepted.
pub(crate) fn null_family(link: LinkType, raw: [u8; 4]) -> u32 {
    if link == LinkType::Loop {
        return u32::from_be_bytes(raw);
    }
    let le = u32::from_le_bytes(raw);
    if le <= 0xffff {
        le
    } else {
        u32::from_be_bytes(raw)
    }
}
