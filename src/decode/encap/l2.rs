//! The layer-2 headers between the link header and IP: VLAN and QinQ
//! tags, MPLS labels, PPPoE and PPP, PBB, LLC/SNAP, FabricPath.

use super::{be16, field, number, End, Kind, Walker};

impl Walker<'_> {
    /// What follows EtherType `t`, whose header starts at `at`.
    pub(super) fn ether(&mut self, t: u16, at: usize) -> End {
        use field::*;
        use number::*;
        let step = match t {
            IPV4 => return self.ip(at, Some(4)),
            IPV6 => return self.ip(at, Some(6)),
            // Wireshark's cfp is a heuristic of the Ethernet dissector: it
            // takes 0x8903 right in an Ethernet header, or behind one tag
            // there (packet-cisco-fp-mim.c, dissect_fp_heur); anywhere else
            // 0x8903 is an EtherType with no dissector.
            VLAN | QINQ if self.after_ethernet() && self.fabricpath_behind_tag(at) => {
                match self.take(Kind::FabricPath, at, FABRICPATH_TAGGED_LEN) {
                    Ok(_) => return self.ethernet(at + FABRICPATH_TAGGED_LEN),
                    Err(end) => Err(end),
                }
            }
            VLAN | QINQ_OLD | QINQ => {
                let kind = if t == QINQ {
                    Kind::ServiceTag
                } else {
                    Kind::Vlan
                };
                self.take(kind, at, TAG_LEN)
                    .map(|h| (be16(h, TAG_TYPE), at + TAG_LEN))
            }
            MPLS | MPLS_MULTICAST => return self.mpls(at),
            PPPOE_SESSION => return self.pppoe(at),
            PBB => self
                .take(Kind::Pbb, at, PBB_LEN)
                .map(|h| (be16(h, PBB_TYPE), at + PBB_LEN)),
            FABRICPATH if self.after_ethernet() => {
                match self.take(Kind::FabricPath, at, FABRICPATH_TAG_LEN) {
                    Ok(_) => return self.ethernet(at + FABRICPATH_TAG_LEN),
                    Err(end) => Err(end),
                }
            }
            // 1500 or less is an 802.3 length: LLC follows.
            0..=1500 => self.llc(at),
            ether_type => {
                return End::Ether { at, ether_type };
            }
        };
        match step {
            Ok((t, next)) => self.ether(t, next),
            Err(end) => end,
        }
    }

    /// True when the tag at `at` is followed by FabricPath's EtherType.
    fn fabricpath_behind_tag(&self, at: usize) -> bool {
        let t = at + field::TAG_TYPE;
        self.data.get(t..t + 2) == Some(&number::FABRICPATH.to_be_bytes()[..])
    }

    /// An Ethernet header at `at` (in a tunnel, or after FabricPath).
    pub(super) fn ethernet(&mut self, at: usize) -> End {
        match self.take(Kind::Ethernet, at, field::ETHERNET_LEN) {
            Ok(h) => {
                let t = be16(h, field::ETHERNET_TYPE);
                self.ether(t, at + field::ETHERNET_LEN)
            }
            Err(end) => end,
        }
    }

    /// LLC with a SNAP header carries an EtherType; other LLC is not IP.
    fn llc(&mut self, at: usize) -> Result<(u16, usize), End> {
        let llc = self.data.get(at..at + 3);
        if llc != Some(&[0xaa, 0xaa, 0x03]) {
            return Err(End::Note {
                at,
                note: "802.3 LLC, not IP".to_string(),
            });
        }
        let h = self.take(Kind::LlcSnap, at, field::LLC_SNAP_LEN)?;
        Ok((be16(h, field::LLC_SNAP_TYPE), at + field::LLC_SNAP_LEN))
    }

    /// MPLS labels to the one marked bottom of stack; then IPv4 or IPv6 as
    /// the first nibble says (Wireshark's guess when nothing else does).
    pub(super) fn mpls(&mut self, mut at: usize) -> End {
        loop {
            match self.take(Kind::Mpls, at, field::MPLS_LEN) {
                Ok(h) => {
                    let bottom = h[2] & 0x01 != 0;
                    at += field::MPLS_LEN;
                    if bottom {
                        break;
                    }
                }
                Err(end) => return end,
            }
        }
        match self.data.get(at).map(|b| b >> 4) {
            Some(4) => self.ip(at, Some(4)),
            Some(6) => self.ip(at, Some(6)),
            _ => End::Note {
                at,
                note: "MPLS payload, not IP".to_string(),
            },
        }
    }

    /// A PPPoE session header and the PPP protocol after it.
    fn pppoe(&mut self, at: usize) -> End {
        if let Err(end) = self.take(Kind::Pppoe, at, field::PPPOE_LEN) {
            return end;
        }
        let at = at + field::PPPOE_LEN;
        match self.take(Kind::Ppp, at, field::PPP_PROTOCOL_LEN) {
            Ok(h) => self.ppp(be16(h, 0), at + field::PPP_PROTOCOL_LEN),
            Err(end) => end,
        }
    }

    /// What PPP protocol `p` at `at` is.
    pub(super) fn ppp(&mut self, p: u16, at: usize) -> End {
        match p {
            number::PPP_IPV4 => self.ip(at, Some(4)),
            number::PPP_IPV6 => self.ip(at, Some(6)),
            number::PPP_MPLS => self.mpls(at),
            p => End::Note {
                at,
                note: format!("PPP protocol 0x{p:04x}, not IP"),
            },
        }
    }
}
