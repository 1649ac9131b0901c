//! The frames nearly every capture is made of, read by hand: a link header
//! tcplab knows and any headers before IP ([`walk`]: VLAN tags, tunnels),
//! then IPv4 (not a fragment) or IPv6 (no extension headers), then a whole
//! TCP header. Everything else (fragments, broken lengths, other
//! protocols) goes to etherparse's lax slicer in
//! [`decode_frame`](super::decode_frame), whose results these equal
//! (`tests/decode_common.rs` compares both on every frame of every capture
//! in the repository). Why by hand: etherparse copies its 64-byte slice
//! structs four times a frame, half of what `replay --summary` spends.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::encap::{walk, End, Stack};
use super::{IpInfo, Layout, Tcp};
use crate::values::LinkType;

/// What the pipeline reads of a decoded TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Common {
    /// The headers before the IP header, the link header first.
    pub outer: Stack,
    pub layout: Layout,
    pub ip: IpInfo,
    pub tcp: Tcp,
    /// TCP payload bytes as the IP header declares them, cut to the frame.
    pub payload_len: usize,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// The segment in `data`, if the frame is of the common kind; `None` sends
/// the frame to [`decode_frame`](super::decode_frame).
pub fn decode_common(link: LinkType, data: &[u8], orig_len: u32) -> Option<Common> {
    // The headers before IP (VLAN tags, tunnels) are walked by hand too.
    let walked = walk(link, data);
    let End::Ip { at: start, version } = walked.end else {
        return None;
    };
    let ip = data.get(start..)?;
    let found = *ip.first()? >> 4;
    if version.is_some_and(|v| v != found) {
        return None;
    }
    let (hdr, declared, src, dst, end) = match found {
        4 => ipv4(ip)?,
        6 => ipv6(ip)?,
        _ => return None,
    };
    let segment = &ip[hdr..end];
    let tcp = Tcp::from_base(segment)?;
    let tcp_len = tcp.hdr_len;
    if segment.len() < tcp_len {
        return None;
    }
    let room = (orig_len as usize).saturating_sub(start + hdr);
    Some(Common {
        outer: walked.stack,
        layout: Layout {
            link: start,
            ip: hdr,
            tcp: tcp_len,
            payload: segment.len() - tcp_len,
        },
        ip: IpInfo {
            version: found,
            hdr_len: hdr,
            src,
            dst,
            payload_len: declared,
        },
        tcp,
        payload_len: declared.min(room).saturating_sub(tcp_len),
    })
}

/// IPv4 carrying TCP, whole (no fragment): header length, declared
/// payload, addresses, and where the payload ends in `ip` (the captured
/// bytes, or the total length when the frame is padded).
fn ipv4(ip: &[u8]) -> Option<(usize, usize, IpAddr, IpAddr, usize)> {
    if ip.len() < 20 {
        return None;
    }
    let hdr = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(be16(ip, 2));
    let fragment = be16(ip, 6) & 0x3fff != 0;
    if hdr < 20 || ip.len() < hdr || total < hdr || fragment || ip[9] != 6 {
        return None;
    }
    let addr = |at: usize| IpAddr::V4(Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]));
    Some((hdr, total - hdr, addr(12), addr(16), total.min(ip.len())))
}

/// IPv6 whose next header is TCP (no extension headers, no jumbogram).
fn ipv6(ip: &[u8]) -> Option<(usize, usize, IpAddr, IpAddr, usize)> {
    if ip.len() < 40 {
        return None;
    }
    let plen = usize::from(be16(ip, 4));
    if plen == 0 || ip[6] != 6 {
        return None;
    }
    let addr = |at: usize| {
        let mut o = [0u8; 16];
        o.copy_from_slice(&ip[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(o))
    };
    Some((40, plen, addr(8), addr(24), (40 + plen).min(ip.len())))
}
