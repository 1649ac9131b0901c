//! IP headers and the tunnels they carry: IP in IP (4in4, 6in4, 4in6,
//! 6in6), GRE, and UDP to VXLAN's or Geneve's port.

use super::{be16, field, number, End, Kind, Walker};

/// IPv6 extension headers walked past to find the next protocol
/// (hop-by-hop, routing, destination options): each is 8 bytes per unit
/// of its length byte, plus 8.
const IPV6_WALKED: [u8; 3] = [0, 43, 60];
const IPV6_FRAGMENT: u8 = 44;

/// The protocols an IP header may carry that are tunnels (or, for IPv6,
/// extension headers in front of one).
const TUNNELS: [u8; 4] = [
    number::IP_IN_IP,
    number::IPV6_IN_IP,
    number::GRE,
    number::UDP,
];

/// False when the IP header at `at` surely carries no tunnel: its protocol
/// byte is none of them. The common frame (TCP) stops here, unparsed.
fn may_tunnel(data: &[u8], at: usize, version: u8) -> bool {
    let proto = match version {
        4 => data.get(at + 9),
        _ => data.get(at + 6),
    };
    proto.is_some_and(|p| TUNNELS.contains(p) || (version == 6 && IPV6_WALKED.contains(p)))
}

impl Walker<'_> {
    /// The IP header at `at` (`hint`: the version the header before named).
    /// It is the inner one unless it carries a tunnel.
    pub(super) fn ip(&mut self, at: usize, hint: Option<u8>) -> End {
        let inner = End::Ip { at, version: hint };
        let Some(found) = self.data.get(at).map(|b| b >> 4) else {
            return inner;
        };
        if hint.is_some_and(|v| v != found) || !may_tunnel(self.data, at, found) {
            return inner;
        }
        let (kind, hdr, proto) = match found {
            4 => match self.ipv4(at) {
                Some((hdr, proto)) => (Kind::Ipv4, hdr, proto),
                None => return inner,
            },
            6 => match self.ipv6(at) {
                Some((hdr, proto)) => (Kind::Ipv6, hdr, proto),
                None => return inner,
            },
            _ => return inner,
        };
        let next = at + hdr;
        match proto {
            number::IP_IN_IP | number::IPV6_IN_IP | number::GRE => {}
            number::UDP if self.tunnel_port(next).is_some() => {}
            _ => return inner,
        }
        if let Err(end) = self.take(kind, at, hdr) {
            return end;
        }
        match proto {
            number::IP_IN_IP => self.ip(next, Some(4)),
            number::IPV6_IN_IP => self.ip(next, Some(6)),
            number::GRE => self.gre(next),
            _ => self.udp(next),
        }
    }

    /// An IPv4 header's length and protocol, if whole and not a fragment
    /// (a fragment's payload is not a whole tunnelled packet).
    fn ipv4(&self, at: usize) -> Option<(usize, u8)> {
        let h = self.data.get(at..at + field::IPV4_FIXED)?;
        let hdr = usize::from(h[0] & 0x0f) * 4;
        let fragment = be16(h, 6) & 0x3fff != 0;
        if hdr < field::IPV4_FIXED || fragment || self.data.len() < at + hdr {
            return None;
        }
        Some((hdr, h[9]))
    }

    /// An IPv6 header's length with the extension headers walked past, and
    /// the protocol after them; `None` at a fragment header or a cut.
    fn ipv6(&self, at: usize) -> Option<(usize, u8)> {
        let h = self.data.get(at..at + field::IPV6_FIXED)?;
        let (mut next, mut len) = (h[6], field::IPV6_FIXED);
        while IPV6_WALKED.contains(&next) {
            let ext = self.data.get(at + len..at + len + 2)?;
            next = ext[0];
            len += (usize::from(ext[1]) + 1) * 8;
        }
        // A payload length of 0 holds no tunnel (BIG TCP's jumbograms
        // carry TCP, not tunnels, in what tshark decodes).
        let empty = be16(h, 4) == 0;
        if next == IPV6_FRAGMENT || empty || self.data.len() < at + len {
            return None;
        }
        Some((len, next))
    }

    /// VXLAN or Geneve, if the UDP header at `at` names its port. As
    /// Wireshark, the lower port is tried first.
    fn tunnel_port(&self, at: usize) -> Option<Kind> {
        let h = self.data.get(at..at + field::UDP_LEN)?;
        // A UDP length below its own header is malformed: Wireshark stops
        // at the UDP header (BIG TCP over VXLAN writes 0).
        if usize::from(be16(h, 4)) < field::UDP_LEN {
            return None;
        }
        let (a, b) = (be16(h, 0), be16(h, 2));
        [a.min(b), a.max(b)]
            .into_iter()
            .find_map(|port| match port {
                number::VXLAN_PORT => Some(Kind::Vxlan),
                number::GENEVE_PORT => Some(Kind::Geneve),
                _ => None,
            })
    }

    fn udp(&mut self, at: usize) -> End {
        let kind = self.tunnel_port(at);
        if let Err(end) = self.take(Kind::Udp, at, field::UDP_LEN) {
            return end;
        }
        let next = at + field::UDP_LEN;
        match kind {
            Some(Kind::Vxlan) => match self.take(Kind::Vxlan, next, field::VXLAN_LEN) {
                Ok(_) => self.ethernet(next + field::VXLAN_LEN),
                Err(end) => end,
            },
            _ => self.geneve(next),
        }
    }

    /// Geneve: 8 bytes, options of 4-byte units, then its protocol.
    fn geneve(&mut self, at: usize) -> End {
        let Some(&b0) = self.data.get(at) else {
            return self.cut(Kind::Geneve, at, field::GENEVE_FIXED);
        };
        let len = field::GENEVE_FIXED + usize::from(b0 & 0x3f) * 4;
        match self.take(Kind::Geneve, at, len) {
            Ok(h) => self.payload(be16(h, 2), at + len, Kind::Geneve),
            Err(end) => end,
        }
    }

    /// GRE (RFC 2784, 2890): the checksum, key and sequence words its
    /// flags announce, then the protocol.
    fn gre(&mut self, at: usize) -> End {
        let Some(h) = self.data.get(at..at + field::GRE_FIXED) else {
            return self.cut(Kind::Gre, at, field::GRE_FIXED);
        };
        let flags = be16(h, 0);
        let proto = be16(h, 2);
        if flags & 0x4007 != 0 {
            return End::Note {
                at,
                note: "GRE with routing or of version 1 (PPTP), not decoded".to_string(),
            };
        }
        let words = [0x8000, 0x2000, 0x1000]
            .iter()
            .filter(|&&bit| flags & bit != 0)
            .count();
        let len = field::GRE_FIXED + 4 * words;
        if let Err(end) = self.take(Kind::Gre, at, len) {
            return end;
        }
        self.payload(proto, at + len, Kind::Gre)
    }

    /// What a GRE or Geneve protocol type `t` at `at` carries.
    fn payload(&mut self, t: u16, at: usize, by: Kind) -> End {
        match t {
            number::ETHERNET => self.ethernet(at),
            number::IPV4 => self.ip(at, Some(4)),
            number::IPV6 => self.ip(at, Some(6)),
            number::MPLS => self.mpls(at),
            // WCCP adds a 4-byte redirect header, unless IPv4 starts at
            // once (Wireshark's packet-gre.c makes the same guess).
            number::WCCP => {
                if self.data.get(at).is_some_and(|b| b >> 4 != 4) {
                    if let Err(end) = self.take(Kind::Wccp, at, field::WCCP_LEN) {
                        return end;
                    }
                    return self.ip(at + field::WCCP_LEN, Some(4));
                }
                self.ip(at, Some(4))
            }
            t => End::Note {
                at,
                note: format!(
                    "{} payload 0x{t:04x}, not IP",
                    by.label(crate::values::LinkType::Ethernet)
                ),
            },
        }
    }
}
