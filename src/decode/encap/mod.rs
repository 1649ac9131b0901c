//! The headers between a frame's start and the IP header that carries its
//! TCP: the link header, then any VLAN tags, MPLS labels, PPPoE, PBB,
//! LLC/SNAP or FabricPath header, and any tunnel (GRE, VXLAN, Geneve, IP in
//! IP). Read by hand, as Wireshark chains its dissectors: each header says
//! what follows it. The IP header found last (one that carries no tunnel)
//! is handed to etherparse with everything after it.

mod l2;
mod tunnel;

use super::link::{split_link, NextLayer};
use super::{DecodeError, Layer};
use crate::values::LinkType;

/// Byte ranges and sizes of the headers read here, the one place that
/// knows them.
pub mod field {
    /// 802.1Q / 802.1ad tag: TCI (priority, DEI, ID), then the EtherType.
    pub const TAG_LEN: usize = 4;
    pub const TAG_TYPE: usize = 2;
    pub const MPLS_LEN: usize = 4;
    /// PPPoE session header: version/type, code, session, length.
    pub const PPPOE_LEN: usize = 6;
    pub const PPP_PROTOCOL_LEN: usize = 2;
    /// 802.1ah: the I-tag (flags and the 24-bit I-SID), then the
    /// customer's destination and source addresses and EtherType. One
    /// header, as Wireshark's `ieee8021ah` (18 bytes, no inner `eth`).
    pub const PBB_LEN: usize = 18;
    pub const PBB_TYPE: usize = 16;
    /// LLC (DSAP AA, SSAP AA, control 03) and SNAP (OUI, EtherType).
    pub const LLC_SNAP_LEN: usize = 8;
    pub const LLC_SNAP_TYPE: usize = 6;
    /// FabricPath's FTag and TTL after its EtherType.
    pub const FABRICPATH_TAG_LEN: usize = 2;
    /// FabricPath behind one 802.1Q/802.1ad tag: the tag's TCI, the
    /// EtherType 0x8903, FTag and TTL (Wireshark's 20-byte header).
    pub const FABRICPATH_TAGGED_LEN: usize = 6;
    pub const ETHERNET_LEN: usize = 14;
    pub const ETHERNET_TYPE: usize = 12;
    pub const UDP_LEN: usize = 8;
    pub const VXLAN_LEN: usize = 8;
    pub const GENEVE_FIXED: usize = 8;
    /// GRE: flags and version, protocol; then the optional words.
    pub const GRE_FIXED: usize = 4;
    /// WCCP's redirect header inside GRE.
    pub const WCCP_LEN: usize = 4;
    pub const IPV4_FIXED: usize = 20;
    pub const IPV6_FIXED: usize = 40;
}

/// Well-known numbers: EtherTypes, IP protocols, UDP ports.
pub mod number {
    pub const IPV4: u16 = 0x0800;
    pub const IPV6: u16 = 0x86dd;
    pub const ARP: u16 = 0x0806;
    pub const VLAN: u16 = 0x8100;
    pub const QINQ_OLD: u16 = 0x9100;
    pub const QINQ: u16 = 0x88a8;
    pub const MPLS: u16 = 0x8847;
    pub const MPLS_MULTICAST: u16 = 0x8848;
    pub const PPPOE_SESSION: u16 = 0x8864;
    pub const PBB: u16 = 0x88e7;
    pub const FABRICPATH: u16 = 0x8903;
    /// Transparent Ethernet bridging, in GRE and Geneve.
    pub const ETHERNET: u16 = 0x6558;
    pub const WCCP: u16 = 0x883e;
    pub const PPP_IPV4: u16 = 0x0021;
    pub const PPP_IPV6: u16 = 0x0057;
    pub const PPP_MPLS: u16 = 0x0281;
    pub const VXLAN_PORT: u16 = 4789;
    pub const GENEVE_PORT: u16 = 6081;
    pub const IP_IN_IP: u8 = 4;
    pub const IPV6_IN_IP: u8 = 41;
    pub const UDP: u8 = 17;
    pub const GRE: u8 = 47;
}

/// What one header before the inner IP header is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The frame's own link header (its link type says which).
    Link,
    /// 802.1Q VLAN tag.
    Vlan,
    /// 802.1ad service tag (the outer tag of QinQ).
    ServiceTag,
    /// One MPLS label stack entry.
    Mpls,
    Pppoe,
    /// PPP's protocol field (after PPPoE).
    Ppp,
    /// 802.1ah provider backbone I-tag with the customer addresses and
    /// EtherType after it.
    Pbb,
    LlcSnap,
    /// Cisco FabricPath's outer header: addresses, EtherType, FTag/TTL.
    FabricPath,
    /// An Ethernet header inside a tunnel or PBB.
    Ethernet,
    Ipv4,
    Ipv6,
    Udp,
    Gre,
    Wccp,
    Vxlan,
    Geneve,
}

impl Kind {
    /// Wireshark's protocol name for the header (`frame.protocols`).
    pub fn protocol(self, link: LinkType) -> &'static str {
        match self {
            Kind::Link => match link {
                LinkType::Ethernet => "eth",
                LinkType::LinuxSll => "sll",
                LinkType::LinuxSll2 => "sll",
                LinkType::Null | LinkType::Loop => "null",
                _ => "link",
            },
            Kind::Vlan => "vlan",
            Kind::ServiceTag => "ieee8021ad",
            Kind::Mpls => "mpls",
            Kind::Pppoe => "pppoes",
            Kind::Ppp => "ppp",
            Kind::Pbb => "ieee8021ah",
            Kind::LlcSnap => "llc",
            Kind::FabricPath => "cfp",
            Kind::Ethernet => "eth",
            Kind::Ipv4 => "ip",
            Kind::Ipv6 => "ipv6",
            Kind::Udp => "udp",
            Kind::Gre => "gre",
            Kind::Wccp => "wccp",
            Kind::Vxlan => "vxlan",
            Kind::Geneve => "geneve",
        }
    }

    /// The name people read, as in the header-size line.
    pub fn label(self, link: LinkType) -> &'static str {
        match self {
            Kind::Link => link.label(),
            Kind::Vlan => "802.1Q",
            Kind::ServiceTag => "802.1ad",
            Kind::Mpls => "MPLS",
            Kind::Pppoe => "PPPoE",
            Kind::Ppp => "PPP",
            Kind::Pbb => "802.1ah",
            Kind::LlcSnap => "LLC/SNAP",
            Kind::FabricPath => "FabricPath",
            Kind::Ethernet => "Ethernet",
            Kind::Ipv4 => "IPv4",
            Kind::Ipv6 => "IPv6",
            Kind::Udp => "UDP",
            Kind::Gre => "GRE",
            Kind::Wccp => "WCCP",
            Kind::Vxlan => "VXLAN",
            Kind::Geneve => "Geneve",
        }
    }
}

/// One header: what it is and where it lies in the frame. Six bytes, so
/// that a packet's stack is cheap to copy: the walk stops at headers that
/// would end past 65,535 bytes into a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outer {
    pub kind: Kind,
    pub start: u16,
    pub len: u16,
}

impl Outer {
    /// The header's bytes in the frame.
    pub fn range(&self) -> std::ops::Range<usize> {
        let start = usize::from(self.start);
        start..start + usize::from(self.len)
    }
}

/// How deep headers may nest: Wireshark stops at a similar depth, and a
/// hostile frame of nothing but VLAN tags must not loop for long.
pub const MAX_OUTER: usize = 12;

/// The headers before the inner IP header, outermost first. Fixed size
/// and `Copy`: a packet carries it without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack {
    items: [Outer; MAX_OUTER],
    len: u8,
}

impl Default for Stack {
    fn default() -> Self {
        Stack {
            items: [Outer {
                kind: Kind::Link,
                start: 0,
                len: 0,
            }; MAX_OUTER],
            len: 0,
        }
    }
}

impl Stack {
    pub fn as_slice(&self) -> &[Outer] {
        &self.items[..usize::from(self.len)]
    }

    /// True when something sits between the link header and the IP header.
    pub fn is_encapsulated(&self) -> bool {
        self.len > 1
    }

    fn push(&mut self, kind: Kind, start: usize, len: usize) -> bool {
        let Some(slot) = self.items.get_mut(usize::from(self.len)) else {
            return false;
        };
        let (Ok(start), Ok(len)) = (u16::try_from(start), u16::try_from(len)) else {
            return false;
        };
        if start.checked_add(len).is_none() {
            return false;
        }
        *slot = Outer { kind, start, len };
        self.len += 1;
        true
    }
}

/// Where the walk ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The IP header (of this version, if the header before said) that
    /// carries the frame's transport.
    Ip { at: usize, version: Option<u8> },
    /// An EtherType that is not IP (ARP, LLDP...), at its header's start.
    Ether { at: usize, ether_type: u16 },
    /// Something well-formed that is not IP, in words.
    Note { at: usize, note: String },
    /// A header cut short or impossible.
    Error(DecodeError),
}

/// A frame's headers up to its inner IP header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    pub stack: Stack,
    pub end: End,
}

/// Walks `data`, a frame of link type `link`, down to the IP header that
/// carries its transport (or to where it stops being IP).
pub fn walk(link: LinkType, data: &[u8]) -> Walk {
    let mut w = Walker {
        data,
        link,
        stack: Stack::default(),
    };
    let end = match split_link(link, data) {
        Err(e) => End::Error(e),
        Ok((next, start)) => {
            w.stack.push(Kind::Link, 0, start);
            match next {
                NextLayer::EtherType(t) => w.ether(t, start),
                NextLayer::Ip => w.ip(start, None),
                NextLayer::Family(f) => End::Note {
                    at: start,
                    note: format!("not IP (address family {f})"),
                },
                NextLayer::Unsupported(n) => End::Note {
                    at: 0,
                    note: format!("link type {n} is not decoded"),
                },
            }
        }
    };
    Walk {
        stack: w.stack,
        end,
    }
}

struct Walker<'a> {
    data: &'a [u8],
    link: LinkType,
    stack: Stack,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

impl<'a> Walker<'a> {
    /// True when the header read last is an Ethernet header: the frame's
    /// own on an Ethernet link, or one inside a tunnel.
    fn after_ethernet(&self) -> bool {
        match self.stack.as_slice().last().map(|o| o.kind) {
            Some(Kind::Link) => self.link == LinkType::Ethernet,
            Some(Kind::Ethernet) => true,
            _ => false,
        }
    }

    /// The header `kind` of `len` bytes at `at`, if captured and if the
    /// stack has room; `Err` says why not.
    fn take(&mut self, kind: Kind, at: usize, len: usize) -> Result<&'a [u8], End> {
        let Some(bytes) = self.data.get(at..at + len) else {
            return Err(self.cut(kind, at, len));
        };
        if !self.stack.push(kind, at, len) {
            return Err(End::Note {
                at,
                note: format!("more than {MAX_OUTER} headers nested, or nested past 65,535 bytes"),
            });
        }
        Ok(bytes)
    }

    /// The error for header `kind` of `len` bytes at `at`, cut short.
    fn cut(&self, kind: Kind, at: usize, len: usize) -> End {
        let have = self.data.len().saturating_sub(at);
        End::Error(DecodeError {
            layer: layer_of(kind),
            offset: at,
            reason: format!(
                "{} header needs {len} bytes, {have} captured",
                kind.label(LinkType::Ethernet)
            ),
        })
    }
}

/// The layer a header's error is reported in.
fn layer_of(kind: Kind) -> Layer {
    match kind {
        Kind::Ipv4 | Kind::Ipv6 => Layer::Ip,
        Kind::Udp | Kind::Gre | Kind::Wccp | Kind::Vxlan | Kind::Geneve => Layer::Tunnel,
        _ => Layer::Link,
    }
}
