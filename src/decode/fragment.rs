//! What an IP fragment's header says about it: which datagram it belongs
//! to, where its data goes, whether more follow. The reassembly itself is
//! `flow::defrag`'s (it needs state across frames).

use std::net::IpAddr;
use std::ops::Range;

/// One fragment, as read from its IPv4 header or IPv6 Fragment header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentOf {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4's 16-bit identification, IPv6's 32-bit one.
    pub id: u32,
    /// The protocol the datagram carries (IPv6: the Fragment header's next header).
    pub protocol: u8,
    /// Where this piece's data goes in the datagram, in bytes.
    pub offset: u32,
    /// More pieces follow (IPv4 MF, IPv6 M).
    pub more: bool,
    /// Data bytes the header declares for this piece.
    pub declared_len: usize,
    /// Where the piece's data starts in the frame, to its captured end.
    pub data: Range<usize>,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// The fragment whose IP header starts at `at` in `frame`, if it is one
/// (IPv4: MF set or an offset; IPv6: a Fragment header) and its header
/// was captured.
pub fn fragment_of(frame: &[u8], at: usize, src: IpAddr, dst: IpAddr) -> Option<FragmentOf> {
    let ip = frame.get(at..)?;
    match ip.first()? >> 4 {
        4 => ipv4(ip, at, frame.len(), src, dst),
        6 => ipv6(ip, at, frame.len(), src, dst),
        _ => None,
    }
}

fn ipv4(ip: &[u8], at: usize, end: usize, src: IpAddr, dst: IpAddr) -> Option<FragmentOf> {
    let h = ip.get(..20)?;
    let hdr = usize::from(h[0] & 0x0f) * 4;
    let word = be16(h, 6);
    let (more, offset) = (word & 0x2000 != 0, u32::from(word & 0x1fff) * 8);
    if !more && offset == 0 {
        return None;
    }
    let total = usize::from(be16(h, 2));
    let start = (at + hdr).min(end);
    Some(FragmentOf {
        src,
        dst,
        id: u32::from(be16(h, 4)),
        protocol: h[9],
        offset,
        more,
        declared_len: total.saturating_sub(hdr),
        data: start..end,
    })
}

/// IPv6 extension headers that may come before the Fragment header.
const BEFORE_FRAGMENT: [u8; 3] = [0, 43, 60];
const FRAGMENT: u8 = 44;

fn ipv6(ip: &[u8], at: usize, end: usize, src: IpAddr, dst: IpAddr) -> Option<FragmentOf> {
    let h = ip.get(..40)?;
    let (mut next, mut pos) = (h[6], 40);
    while BEFORE_FRAGMENT.contains(&next) {
        let ext = ip.get(pos..pos + 2)?;
        next = ext[0];
        pos += (usize::from(ext[1]) + 1) * 8;
    }
    if next != FRAGMENT {
        return None;
    }
    let f = ip.get(pos..pos + 8)?;
    let word = be16(f, 2);
    let id = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
    let plen = usize::from(be16(h, 4));
    Some(FragmentOf {
        src,
        dst,
        id,
        protocol: f[0],
        offset: u32::from(word >> 3) * 8,
        more: word & 1 != 0,
        // The payload length counts the extension headers before the data.
        declared_len: (40 + plen).saturating_sub(pos + 8),
        data: (at + pos + 8).min(end)..end,
    })
}
