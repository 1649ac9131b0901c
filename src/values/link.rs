//! Link-layer header types: which header a frame starts with, its LINKTYPE
//! number in savefiles, its name in packet records and in prose.

/// Header sizes, before any VLAN tags (`decode::field` holds the field ranges).
pub const ETHERNET_HDR_LEN: usize = 14;
pub const SLL_HDR_LEN: usize = 16;
pub const SLL2_HDR_LEN: usize = 20;
pub const NULL_HDR_LEN: usize = 4;
/// PPP with address and control (ff 03) and a 2-byte protocol; either may
/// be compressed away (RFC 1661 section 6.5-6.6), making it shorter.
pub const PPP_HDR_LEN: usize = 4;
pub const CHDLC_HDR_LEN: usize = 4;
/// NFLOG's fixed part (family, version, resource id); TLVs follow, the
/// packet in the last one, so the whole header's length varies.
pub const NFLOG_HDR_LEN: usize = 4;
pub const IPOIB_HDR_LEN: usize = 44;
/// Linux ARCnet up to its protocol ID; RFC 1201 protocols add 3 bytes.
pub const ARCNET_LINUX_HDR_LEN: usize = 5;

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
    /// DLT_PPP and DLT_PPP_HDLC (libpcap writes both with ff 03 framing;
    /// Wireshark reads both as one encapsulation): address, control, protocol.
    Ppp,
    /// DLT_C_HDLC: Cisco HDLC, address, control and an EtherType.
    CHdlc,
    /// DLT_NFLOG: Linux netfilter log messages, TLVs holding the packet.
    Nflog,
    /// DLT_IPOIB: IP over InfiniBand, a 44-byte header ending in an EtherType.
    Ipoib,
    /// DLT_ARCNET_LINUX: ARCnet as Linux captures it (with the offset field).
    ArcnetLinux,
    /// Any other link type: frames are reported, not decoded.
    Other(u32),
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
            9 | 50 => LinkType::Ppp,
            104 => LinkType::CHdlc,
            129 => LinkType::ArcnetLinux,
            239 => LinkType::Nflog,
            242 => LinkType::Ipoib,
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
            LinkType::Ppp => 9,
            LinkType::CHdlc => 104,
            LinkType::ArcnetLinux => 129,
            LinkType::Nflog => 239,
            LinkType::Ipoib => 242,
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
            LinkType::Ppp => "ppp",
            LinkType::CHdlc => "c_hdlc",
            LinkType::Nflog => "nflog",
            LinkType::Ipoib => "ipoib",
            LinkType::ArcnetLinux => "arcnet_linux",
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
            LinkType::Ppp => "PPP",
            LinkType::CHdlc => "Cisco HDLC",
            LinkType::Nflog => "NFLOG",
            LinkType::Ipoib => "IP over InfiniBand",
            LinkType::ArcnetLinux => "Linux ARCnet",
            LinkType::Other(_) => "link",
        }
    }

    /// Length of the link header, before any VLAN tags; for the link types
    /// whose header varies (PPP, NFLOG, ARCnet), its fixed or usual part.
    pub fn header_len(self) -> usize {
        match self {
            LinkType::Ppp => PPP_HDR_LEN,
            LinkType::CHdlc => CHDLC_HDR_LEN,
            LinkType::Nflog => NFLOG_HDR_LEN,
            LinkType::Ipoib => IPOIB_HDR_LEN,
            LinkType::ArcnetLinux => ARCNET_LINUX_HDR_LEN,
            LinkType::Ethernet => ETHERNET_HDR_LEN,
            LinkType::LinuxSll => SLL_HDR_LEN,
            LinkType::LinuxSll2 => SLL2_HDR_LEN,
            LinkType::Null | LinkType::Loop => NULL_HDR_LEN,
            LinkType::Raw | LinkType::Other(_) => 0,
        }
    }
}

/// Serialized as its record name (`ethernet`, `linux_sll`, ...).
impl serde::Serialize for LinkType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}
