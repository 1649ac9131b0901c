//! Where the network layer starts in each link type.

mod nflog;
mod null;
mod ppp;

use super::{DecodeError, Layer};
use crate::values::LinkType;

pub(crate) use nflog::{nflog_tlvs, NflogTlv};
pub(crate) use null::{null_value, NullValue};
pub(crate) use ppp::ppp_header;

/// Byte ranges and sizes of the link headers: the one place that knows them.
pub mod field {
    use std::ops::Range;
    pub const ETHERNET_TYPE: Range<usize> = 12..14;
    pub const SLL_PROTOCOL: Range<usize> = 14..16;
    pub const SLL2_PROTOCOL: Range<usize> = 0..2;
    /// Cisco HDLC: address, control, then an EtherType.
    pub const CHDLC_ADDRESS: usize = 0;
    pub const CHDLC_CONTROL: usize = 1;
    pub const CHDLC_PROTOCOL: Range<usize> = 2..4;
    /// IPoIB (44 bytes): 20 bytes Wireshark shows nothing of, the
    /// destination address (4 bytes of flags and QPN, a 16-byte GID), the
    /// EtherType, 2 reserved bytes.
    pub const IPOIB_DADDR: Range<usize> = 20..40;
    pub const IPOIB_QPN: Range<usize> = 21..24;
    pub const IPOIB_DGID: Range<usize> = 24..40;
    pub const IPOIB_TYPE: Range<usize> = 40..42;
    pub const IPOIB_RESERVED: Range<usize> = 42..44;
    /// Linux ARCnet: source and destination IDs, 2 offset bytes, protocol
    /// ID; then, for the RFC 1201 protocols, split flag and sequence.
    pub const ARCNET_SRC: usize = 0;
    pub const ARCNET_DST: usize = 1;
    pub const ARCNET_OFFSET: Range<usize> = 2..4;
    pub const ARCNET_PROTOCOL: usize = 4;
    pub const ARCNET_SPLIT_FLAG: usize = 5;
    pub const ARCNET_SEQUENCE: Range<usize> = 6..8;
    pub const ARCNET_RFC1201_LEN: usize = 8;
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

/// A protocol that is not IP and has no EtherType (PPP's LCP, an ARCnet
/// protocol ID tcplab has no EtherType for): 0 is a length, never an
/// EtherType, so the decoder stops there with "not IP". Why not a variant
/// of its own: the decoders that match on `NextLayer` are being rewritten.
pub(crate) const NOT_IP: NextLayer = NextLayer::EtherType(0);

/// What follows the link header, and where it starts in the frame (the
/// link header's length: fixed for most link types, read from the header
/// for those whose length varies).
pub(crate) fn split_link(link: LinkType, data: &[u8]) -> Result<(NextLayer, usize), DecodeError> {
    let need = link.header_len();
    if data.len() < need {
        return Err(too_short(link, need, data.len()));
    }
    let be16 = |r: std::ops::Range<usize>| u16::from_be_bytes([data[r.start], data[r.start + 1]]);
    let next = match link {
        LinkType::LinuxSll => NextLayer::EtherType(be16(field::SLL_PROTOCOL)),
        LinkType::LinuxSll2 => NextLayer::EtherType(be16(field::SLL2_PROTOCOL)),
        LinkType::Ethernet => NextLayer::EtherType(be16(field::ETHERNET_TYPE)),
        LinkType::CHdlc => NextLayer::EtherType(be16(field::CHDLC_PROTOCOL)),
        LinkType::Ipoib => NextLayer::EtherType(be16(field::IPOIB_TYPE)),
        LinkType::Null | LinkType::Loop => return null::split(link, data),
        LinkType::Ppp => return ppp::split(data),
        LinkType::Nflog => return nflog::split(data),
        LinkType::ArcnetLinux => return arcnet(data),
        LinkType::Raw => NextLayer::Ip,
        LinkType::Other(n) => NextLayer::Unsupported(n),
    };
    Ok((next, need))
}

/// The error for a frame shorter than its link header.
fn too_short(link: LinkType, need: usize, captured: usize) -> DecodeError {
    DecodeError {
        layer: Layer::Link,
        offset: 0,
        reason: format!(
            "{} header needs {need} bytes, {captured} captured",
            link.label()
        ),
    }
}

/// True for the ARCnet protocol IDs whose header has no split flag and
/// sequence (RFC 1051's IP and ARP, diagnose, BACnet), as Wireshark's
/// `packet-arcnet.c` lists them.
pub(crate) fn arcnet_is_short(protocol: u8) -> bool {
    matches!(protocol, 0xf0 | 0xf1 | 0x80 | 0xcd)
}

/// Linux ARCnet: 5 bytes, or 8 for the RFC 1201 protocols.
fn arcnet(data: &[u8]) -> Result<(NextLayer, usize), DecodeError> {
    let protocol = data[field::ARCNET_PROTOCOL];
    let len = if arcnet_is_short(protocol) {
        LinkType::ArcnetLinux.header_len()
    } else {
        field::ARCNET_RFC1201_LEN
    };
    if data.len() < len {
        return Err(too_short(LinkType::ArcnetLinux, len, data.len()));
    }
    // The protocol IDs Wireshark hands to IP, IPv6 and ARP (RFC 1051, 1201).
    let next = match protocol {
        0xf0 | 0xd4 => NextLayer::EtherType(0x0800),
        0xc4 => NextLayer::EtherType(0x86dd),
        0xf1 | 0xd5 => NextLayer::EtherType(0x0806),
        _ => NOT_IP,
    };
    Ok((next, len))
}
