//! One frame sliced into its layers down to TCP: the borrowed view the
//! pipeline reads once per frame, to fill the owned packet.

use std::net::IpAddr;
use std::ops::Range;

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};

use super::encap::{number, walk, End, Stack};
use super::{fragment_of, DecodeError, Flags, FragmentOf, Layer, Tcp};
use crate::values::LinkType;

/// The network-layer facts of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpInfo {
    /// 4 or 6.
    pub version: u8,
    /// IPv4: IHL × 4; IPv6: 40 plus extension headers.
    pub hdr_len: usize,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Payload bytes the IP header declares (may exceed what was captured).
    pub payload_len: usize,
}

/// Sizes of each layer in the captured bytes, in order; the hex dump colours
/// and labels bytes with these ranges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layout {
    /// Bytes before the IP header (link header and any VLAN tags).
    pub link: usize,
    pub ip: usize,
    pub tcp: usize,
    /// Captured payload bytes.
    pub payload: usize,
}

impl Layout {
    pub fn link_range(&self) -> Range<usize> {
        0..self.link
    }
    pub fn ip_range(&self) -> Range<usize> {
        self.link..self.link + self.ip
    }
    pub fn tcp_range(&self) -> Range<usize> {
        let start = self.link + self.ip;
        start..start + self.tcp
    }
    pub fn payload_range(&self) -> Range<usize> {
        let start = self.link + self.ip + self.tcp;
        start..start + self.payload
    }
}

/// A decoded frame. Built only by [`decode`], which checked every length:
/// the fields can be read without further checks.
#[derive(Debug, Clone)]
pub struct Sliced<'a> {
    pub link: LinkType,
    /// The headers before the IP header that carries TCP, outermost first.
    pub outer: Stack,
    pub layout: Layout,
    pub ip: Option<IpInfo>,
    /// The TCP header as sent, every raw field readable.
    pub tcp: Option<etherparse::TcpSlice<'a>>,
    /// A TCP header that broke (cut inside its options, or claiming more
    /// than the IP payload holds) but whose 20-byte base was captured: its
    /// values, read as tshark reads them, with `error` beside them.
    pub base_tcp: Option<Tcp>,
    /// The captured TCP payload (shorter than `payload_len` when cut by the snaplen).
    pub payload: &'a [u8],
    /// TCP payload length as the IP header declares it (tshark's `tcp.len`).
    pub payload_len: usize,
    /// The first layer that failed, with offset and rule.
    pub error: Option<DecodeError>,
    /// Why a well-formed frame has no TCP (ARP, UDP, a fragment...).
    pub note: Option<String>,
    /// What its header says of it, if the frame is an IP fragment.
    pub fragment: Option<FragmentOf>,
}

impl<'a> Sliced<'a> {
    fn empty(link: LinkType) -> Self {
        Sliced {
            link,
            outer: Stack::default(),
            layout: Layout::default(),
            ip: None,
            tcp: None,
            base_tcp: None,
            payload: &[],
            payload_len: 0,
            error: None,
            note: None,
            fragment: None,
        }
    }

    /// TCP flags, if this is a TCP segment.
    pub fn flags(&self) -> Option<Flags> {
        self.tcp_values().map(|t| t.flags)
    }

    /// The TCP header's values, if this is a TCP segment (or one whose
    /// base header survived a broken rest).
    pub fn tcp_values(&self) -> Option<Tcp> {
        self.tcp
            .as_ref()
            .map(Tcp::of)
            .or_else(|| self.base_tcp.clone())
    }
}

/// Where `part` starts inside `whole` (both borrow the same frame).
fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

fn map_layer(layer: etherparse::err::Layer) -> Layer {
    use etherparse::err::Layer as L;
    match layer {
        L::LinuxSllHeader
        | L::Ethernet2Header
        | L::EtherPayload
        | L::VlanHeader
        | L::MacsecHeader
        | L::MacsecPacket => Layer::Link,
        L::TcpHeader => Layer::Tcp,
        _ => Layer::Ip,
    }
}

/// Decodes a frame of link type `link`. Never fails: problems are recorded in
/// the returned packet's `error` or `note`, with the layers that did parse.
/// Lengths are taken as the IP header declares them (see [`decode_frame`]).
pub fn decode(link: LinkType, data: &[u8]) -> Sliced<'_> {
    decode_frame(link, data, u32::MAX)
}

/// Like [`decode`] for a frame that was `orig_len` bytes on the wire: an IP
/// length claiming more than the frame held is cut to what it held, as
/// Wireshark does (`tcp.len` never exceeds the frame).
pub fn decode_frame(link: LinkType, data: &[u8], orig_len: u32) -> Sliced<'_> {
    let mut p = Sliced::empty(link);
    let walked = walk(link, data);
    p.outer = walked.stack;
    let (at, version) = match walked.end {
        End::Ip { at, version } => (at, version),
        End::Ether { at, ether_type } => {
            p.layout.link = at.min(data.len());
            p.note = Some(match ether_type {
                number::ARP => "ARP, not TCP".to_string(),
                _ => "not IP".to_string(),
            });
            return p;
        }
        End::Note { at, note } => {
            p.layout.link = at.min(data.len());
            p.note = Some(note);
            return p;
        }
        End::Error(e) => {
            p.layout.link = e.offset.min(data.len());
            p.error = Some(e);
            return p;
        }
    };
    let sliced = match version {
        Some(4) => LaxSlicedPacket::from_ether_type(EtherType::IPV4, &data[at..]),
        Some(_) => LaxSlicedPacket::from_ether_type(EtherType::IPV6, &data[at..]),
        None => match LaxSlicedPacket::from_ip(&data[at..]) {
            Ok(s) => s,
            Err(e) => {
                p.layout.link = at;
                p.error = Some(DecodeError {
                    layer: Layer::Ip,
                    offset: at,
                    reason: e.to_string(),
                });
                return p;
            }
        },
    };
    fill(&mut p, data, at, &sliced, orig_len as usize);
    p
}

fn fill<'a>(
    p: &mut Sliced<'a>,
    data: &'a [u8],
    ip_at: usize,
    s: &LaxSlicedPacket<'a>,
    orig_len: usize,
) {
    let (ip_start, ip) = match &s.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            let hdr_len = usize::from(h.ihl()) * 4;
            let start = offset_in(data, v4.header().slice());
            // A total length of 0 is what TSO and BIG TCP write: the
            // length is the frame's, as tshark takes it ("assuming TSO").
            let total = match h.total_len() {
                0 => wire_len(data, orig_len).saturating_sub(start),
                n => usize::from(n),
            };
            let info = IpInfo {
                version: 4,
                hdr_len,
                src: IpAddr::V4(h.source_addr()),
                dst: IpAddr::V4(h.destination_addr()),
                payload_len: total.saturating_sub(hdr_len),
            };
            (start, info)
        }
        Some(LaxNetSlice::Ipv6(v6)) => match ipv6_info(p, data, v6) {
            Some(found) => found,
            None => return,
        },
        Some(LaxNetSlice::Arp(_)) => {
            p.layout.link = ip_at;
            p.note = Some("ARP, not TCP".to_string());
            return;
        }
        None => {
            p.layout.link = ip_at;
            match &s.stop_err {
                Some((e, layer)) => {
                    p.error = Some(DecodeError {
                        layer: map_layer(*layer),
                        offset: p.layout.link,
                        reason: e.to_string(),
                    })
                }
                None => p.note = Some("not IP".to_string()),
            }
            return;
        }
    };
    p.layout.link = ip_start;
    p.layout.ip = ip.hdr_len.min(data.len().saturating_sub(ip_start));
    let room = orig_len.saturating_sub(ip_start + ip.hdr_len);
    let ip_payload_len = ip.payload_len.min(room);
    if let Some(f) = fragment_of(data, ip_start, ip.src, ip.dst) {
        p.layout.payload = f.data.len();
        p.note = Some(format!("IPv{} fragment", ip.version));
        p.fragment = Some(f);
        p.ip = Some(ip);
        return;
    }
    p.ip = Some(ip);

    match &s.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            let hdr = tcp.header_slice().len();
            p.layout.tcp = hdr;
            p.payload = tcp.payload();
            p.layout.payload = tcp.payload().len();
            p.payload_len = ip_payload_len.saturating_sub(hdr);
            p.tcp = Some(tcp.clone());
        }
        Some(_) => {
            p.note = Some(format!(
                "{} payload, not TCP",
                protocol_name(&s.net).unwrap_or("other")
            ))
        }
        None => {
            if let Some((e, layer)) = &s.stop_err {
                p.error = Some(DecodeError {
                    layer: map_layer(*layer),
                    offset: p.layout.link + p.layout.ip,
                    reason: e.to_string(),
                });
                if *layer == etherparse::err::Layer::TcpHeader && is_tcp(&s.net) {
                    base_header(p, data, ip_payload_len);
                }
            } else if p.note.is_none() {
                let name = protocol_name(&s.net).unwrap_or("unknown protocol");
                p.note = Some(format!("{name}, not TCP"));
            }
        }
    }
}

/// IPv6's start and facts; `None` (the packet filled with the error)
/// when its length of 0 leaves nothing for TCP.
fn ipv6_info(
    p: &mut Sliced<'_>,
    data: &[u8],
    v6: &etherparse::LaxIpv6Slice<'_>,
) -> Option<(usize, IpInfo)> {
    let ext_len = v6.extensions().slice().len();
    let start = offset_in(data, v6.header().slice());
    let info = IpInfo {
        version: 6,
        hdr_len: 40 + ext_len,
        src: IpAddr::V6(v6.header().source_addr()),
        dst: IpAddr::V6(v6.header().destination_addr()),
        payload_len: v6_payload_len(v6).saturating_sub(ext_len),
    };
    // A length of 0 with no Jumbo Payload option leaves nothing for TCP:
    // tshark's dissection stops with an exception.
    if v6.header().payload_length() == 0 && info.payload_len == 0 {
        p.layout.link = start;
        p.layout.ip = info.hdr_len.min(data.len() - start);
        p.ip = Some(info);
        p.error = Some(DecodeError {
            layer: Layer::Ip,
            offset: start,
            reason: "payload length 0 and no Jumbo Payload option".to_string(),
        });
        return None;
    }
    Some((start, info))
}

/// The frame's length on the wire (`decode` passes no length: then the
/// captured bytes).
fn wire_len(data: &[u8], orig_len: usize) -> usize {
    if orig_len == u32::MAX as usize {
        data.len()
    } else {
        orig_len.max(data.len())
    }
}

/// IPv6's payload length: the header's, or for a jumbogram (a length of
/// 0, as BIG TCP writes) the hop-by-hop Jumbo Payload option's (RFC 2675),
/// counted from the end of the fixed header as the field is.
fn v6_payload_len(v6: &etherparse::LaxIpv6Slice<'_>) -> usize {
    let declared = v6.header().payload_length();
    let hop_by_hop = v6.header().next_header() == etherparse::IpNumber::IPV6_HEADER_HOP_BY_HOP;
    if declared != 0 || !hop_by_hop {
        return usize::from(declared);
    }
    let ext = v6.extensions().slice();
    // The hop-by-hop header comes first: next header, length, options.
    let Some(opts) = ext.get(2..ext.get(1).map_or(0, |&l| (usize::from(l) + 1) * 8)) else {
        return 0;
    };
    let mut at = 0;
    while let Some(&kind) = opts.get(at) {
        if kind == 0 {
            at += 1;
            continue;
        }
        let Some(&len) = opts.get(at + 1) else { break };
        if kind == 0xc2 && len == 4 {
            if let Some(v) = opts.get(at + 2..at + 6) {
                return u32::from_be_bytes([v[0], v[1], v[2], v[3]]) as usize;
            }
        }
        at += 2 + usize::from(len);
    }
    0
}

/// True when the IP header says TCP follows.
fn is_tcp(net: &Option<LaxNetSlice<'_>>) -> bool {
    match net {
        Some(LaxNetSlice::Ipv4(v4)) => v4.payload().ip_number == etherparse::IpNumber::TCP,
        Some(LaxNetSlice::Ipv6(v6)) => v6.payload().ip_number == etherparse::IpNumber::TCP,
        _ => false,
    }
}

/// The 20-byte base of a TCP header whose rest broke, as tshark still
/// shows it: ports, numbers, flags, window, and the header length it
/// claims (the payload length counts from that claim, as `tcp.len` does).
fn base_header(p: &mut Sliced<'_>, data: &[u8], ip_payload_len: usize) {
    let start = p.layout.link + p.layout.ip;
    let Some(b) = data.get(start..start + 20) else {
        return;
    };
    let Some(tcp) = Tcp::from_base(b) else {
        return;
    };
    let claimed = tcp.hdr_len;
    p.base_tcp = Some(tcp);
    // The header's captured bytes, for the dump and --explain.
    p.layout.tcp = claimed.min(data.len() - start);
    p.payload_len = ip_payload_len.saturating_sub(claimed);
}

fn protocol_name(net: &Option<LaxNetSlice<'_>>) -> Option<&'static str> {
    let n = match net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => v4.payload().ip_number,
        LaxNetSlice::Ipv6(v6) => v6.payload().ip_number,
        LaxNetSlice::Arp(_) => return Some("ARP"),
    };
    n.keyword_str()
}
