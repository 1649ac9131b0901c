//! Link types libpcap hands us, and where the network layer starts in each.

use super::{DecodeError, Layer};

/// Link-layer header types (values from tcpdump.org's LINKTYPE list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// DLT_EN10MB: 14-byte Ethernet II header (`lo` uses it with zero MACs).
    Ethernet,
    /// DLT_LINUX_SLL: 16-byte "cooked" header of the `any` device.
    LinuxSll,
    /// DLT_LINUX_SLL2: 20-byte cooked header with the interface index.
    LinuxSll2,
    /// DLT_NULL: 4-byte address family in the writer's byte order (BSD loopback).
    Null,
    /// DLT_LOOP: 4-byte address family in network byte order (OpenBSD loopback).
    Loop,
    /// Raw IP, no link header (DLT_RAW and its aliases).
    Raw,
    /// Any other link type: frames are reported, not decoded.
    Other(u32),
}

/// Byte ranges and sizes of the link headers: the one place that knows them.
pub mod field {
    use std::ops::Range;
    pub const ETHERNET_HDR_LEN: usize = 14;
    pub const ETHERNET_TYPE: Range<usize> = 12..14;
    pub const SLL_HDR_LEN: usize = 16;
    pub const SLL_PROTOCOL: Range<usize> = 14..16;
    pub const SLL2_HDR_LEN: usize = 20;
    pub const SLL2_PROTOCOL: Range<usize> = 0..2;
    pub const NULL_HDR_LEN: usize = 4;
}

impl LinkType {
    /// Maps a LINKTYPE/DLT value; `None` for link types tcplab does not decode.
    pub fn from_dlt(dlt: u32) -> Option<Self> {
        Some(match dlt {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            // DLT_RAW differs by OS (12, 14); 101 is LINKTYPE_RAW; 228/229 are IPv4/IPv6 only.
            12 | 14 | 101 | 228 | 229 => LinkType::Raw,
            _ => return None,
        })
    }

    /// Like [`LinkType::from_dlt`], keeping unknown values as `Other`.
    pub fn of_dlt(dlt: u32) -> Self {
        Self::from_dlt(dlt).unwrap_or(LinkType::Other(dlt))
    }

    /// The LINKTYPE value written into savefiles.
    pub fn dlt(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Raw => 101,
            LinkType::Other(n) => n,
        }
    }

    /// The name used in packet records (`link`).
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Ethernet => "ethernet",
            LinkType::LinuxSll => "linux_sll",
            LinkType::LinuxSll2 => "linux_sll2",
            LinkType::Null | LinkType::Loop => "null",
            LinkType::Raw => "raw",
            LinkType::Other(_) => "other",
        }
    }

    /// The name people read ("Ethernet", "Linux cooked v2", ...).
    pub fn label(self) -> &'static str {
        match self {
            LinkType::Ethernet => "Ethernet",
            LinkType::LinuxSll => "Linux cooked",
            LinkType::LinuxSll2 => "Linux cooked v2",
            LinkType::Null => "BSD loopback",
            LinkType::Loop => "OpenBSD loopback",
            LinkType::Raw => "raw IP",
            LinkType::Other(_) => "link",
        }
    }

    /// Length of the link header, before any VLAN tags.
    pub fn header_len(self) -> usize {
        match self {
            LinkType::Ethernet => field::ETHERNET_HDR_LEN,
            LinkType::LinuxSll => field::SLL_HDR_LEN,
            LinkType::LinuxSll2 => field::SLL2_HDR_LEN,
            LinkType::Null | LinkType::Loop => field::NULL_HDR_LEN,
            LinkType::Raw | LinkType::Other(_) => 0,
        }
    }
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

/// Reads the non-Ethernet link headers by hand (etherparse has no entry for
/// SLL2 or NULL); Ethernet goes straight to etherparse.
pub(crate) fn split_link(link: LinkType, data: &[u8]) -> Result<NextLayer, DecodeError> {
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
    Ok(match link {
        LinkType::LinuxSll => NextLayer::EtherType(be16(field::SLL_PROTOCOL)),
        LinkType::LinuxSll2 => NextLayer::EtherType(be16(field::SLL2_PROTOCOL)),
        LinkType::Ethernet => NextLayer::EtherType(be16(field::ETHERNET_TYPE)),
        LinkType::Null | LinkType::Loop => {
            let raw = [data[0], data[1], data[2], data[3]];
            // DLT_NULL is in the writer's byte order: accept either.
            let family = if link == LinkType::Loop {
                u32::from_be_bytes(raw)
            } else {
                let le = u32::from_le_bytes(raw);
                if le <= 0xffff {
                    le
                } else {
                    u32::from_be_bytes(raw)
                }
            };
            match family {
                // AF_INET everywhere; AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS.
                2 | 10 | 24 | 28 | 30 => NextLayer::Ip,
                other => NextLayer::Family(other),
            }
        }
        LinkType::Raw => NextLayer::Ip,
        LinkType::Other(n) => NextLayer::Unsupported(n),
    })
}

impl LinkType {
    /// The link type a record's `link` name stands for (`null` reads as DLT_NULL).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "ethernet" => LinkType::Ethernet,
            "linux_sll" => LinkType::LinuxSll,
            "linux_sll2" => LinkType::LinuxSll2,
            "null" => LinkType::Null,
            "raw" => LinkType::Raw,
            _ => return None,
        })
    }
}
