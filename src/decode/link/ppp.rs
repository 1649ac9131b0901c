//! PPP in HDLC-like framing (RFC 1661, RFC 1662): address 0xff and
//! control 0x03, then the protocol number, read as Wireshark's
//! `packet-ppp.c` reads them (both may be compressed away).

use super::{too_short, NextLayer, NOT_IP};
use crate::decode::DecodeError;
use crate::values::LinkType;

/// Where a PPP header's fields are: the one place that knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PppHeader {
    /// Address and control (ff 03) are there: absent when compressed
    /// (Address-and-Control-Field-Compression, RFC 1661 section 6.6).
    pub has_address: bool,
    /// Where the protocol field starts (0 or 2).
    pub protocol_at: usize,
    /// 1 when compressed (an odd first byte, RFC 1661 section 6.5), else 2.
    pub protocol_len: usize,
    pub protocol: u16,
}

impl PppHeader {
    /// The header's length: where the next layer starts.
    pub fn len(&self) -> usize {
        self.protocol_at + self.protocol_len
    }
}

/// The header at the start of `data`, if its bytes were captured.
pub(crate) fn ppp_header(data: &[u8]) -> Option<PppHeader> {
    let has_address = *data.first()? == 0xff;
    let protocol_at = if has_address { 2 } else { 0 };
    let first = *data.get(protocol_at)?;
    let (protocol, protocol_len) = if first & 1 == 1 {
        (u16::from(first), 1)
    } else {
        (u16::from_be_bytes([first, *data.get(protocol_at + 1)?]), 2)
    };
    Some(PppHeader {
        has_address,
        protocol_at,
        protocol_len,
        protocol,
    })
}

/// The EtherType carrying what a PPP protocol number carries, if one does.
fn ether_type(protocol: u16) -> Option<u16> {
    Some(match protocol {
        0x0021 => 0x0800, // IPv4
        0x0057 => 0x86dd, // IPv6
        0x0281 => 0x8847, // MPLS unicast (RFC 3032 section 4.3)
        0x0283 => 0x8848, // MPLS multicast
        _ => return None,
    })
}

pub(super) fn split(data: &[u8]) -> Result<(NextLayer, usize), DecodeError> {
    // 0x7e opens a byte-stuffed HDLC frame: its bytes are escaped, so no
    // header can be read in place (tcplab does not unescape them).
    if data.first() == Some(&0x7e) {
        return Ok((NOT_IP, 0));
    }
    let header = ppp_header(data).ok_or_else(|| too_short(LinkType::Ppp, 2, data.len()))?;
    let next = ether_type(header.protocol).map_or(NOT_IP, NextLayer::EtherType);
    Ok((next, header.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_compressed_headers() {
        let full = ppp_header(&[0xff, 0x03, 0x00, 0x21, 0x45]).unwrap();
        assert_eq!((full.protocol, full.len()), (0x0021, 4));
        let no_address = ppp_header(&[0x02, 0x81, 0x00]).unwrap();
        assert_eq!((no_address.protocol, no_address.len()), (0x0281, 2));
        let both = ppp_header(&[0x21, 0x45]).unwrap();
        assert_eq!((both.protocol, both.len()), (0x0021, 1));
        assert_eq!(ppp_header(&[0xff, 0x03, 0x00]), None);
        assert_eq!(split(&[0xff, 0x03, 0xc0, 0x21]).unwrap(), (NOT_IP, 4));
    }
}
