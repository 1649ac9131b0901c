//! The Internet checksum (RFC 1071) of IPv4 headers and TCP segments, and
//! what a stored checksum says: right, wrong, or never filled in because
//! the sender left it to the NIC (checksum offload; on `lo` there is no
//! NIC, so the kernel never fills it in).

use std::net::IpAddr;

/// A checksum field's verdict, and the value the bytes call for when all
/// of them were captured (Wireshark's `ip.checksum_calculated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checksum {
    pub status: ChecksumStatus,
    pub calculated: Option<u16>,
}

/// What a checksum field says about its bytes; the number is Wireshark's
/// checksum status (`ip.checksum.status`) with validation on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumStatus {
    /// The bytes add up.
    Good,
    /// The bytes do not add up; `expected` is what the field should hold.
    Bad { expected: u16 },
    /// The field holds the pseudo-header's sum only: the sender left the
    /// rest to offload (Wireshark says "bad" here; tcplab says why).
    NotFilledIn,
    /// Not all the bytes were captured, so nothing can be said.
    Unverified,
}

impl ChecksumStatus {
    /// Wireshark's value: 0 bad, 1 good, 2 unverified.
    pub fn wireshark_value(self) -> &'static str {
        match self {
            ChecksumStatus::Good => "1",
            ChecksumStatus::Bad { .. } | ChecksumStatus::NotFilledIn => "0",
            ChecksumStatus::Unverified => "2",
        }
    }

    /// In words, after "checksum 0x1234".
    pub fn words(self) -> String {
        match self {
            ChecksumStatus::Good => "(correct)".to_string(),
            ChecksumStatus::Bad { expected } => format!("(wrong: should be 0x{expected:04x})"),
            ChecksumStatus::NotFilledIn => {
                "(not filled in: loopback leaves it to offload)".to_string()
            }
            ChecksumStatus::Unverified => "(not checked: the frame was cut short)".to_string(),
        }
    }
}

/// The one's-complement sum of `bytes` as 16-bit big-endian words, not
/// yet folded or complemented.
fn sum(bytes: &[u8]) -> u32 {
    let mut s = 0u32;
    let mut words = bytes.chunks_exact(2);
    for w in &mut words {
        s += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        s += u32::from(*last) << 8;
    }
    s
}

fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// The status of an IPv4 header's checksum (`header` as captured, of
/// which the first `declared_len` bytes are the header).
pub(crate) fn ipv4_header(header: &[u8], declared_len: usize) -> Checksum {
    if declared_len < 20 || header.len() < declared_len {
        return Checksum::UNVERIFIED;
    }
    let header = &header[..declared_len];
    let stored = u16::from_be_bytes([header[10], header[11]]);
    let right = !fold(sum(header) - u32::from(stored));
    Checksum::judge(stored, right, false)
}

impl Checksum {
    const UNVERIFIED: Checksum = Checksum {
        status: ChecksumStatus::Unverified,
        calculated: None,
    };

    /// `stored` against the `right` value; `partial` is the pseudo-header
    /// sum a sender that leaves the checksum to offload stores instead.
    fn judge(stored: u16, right: u16, partial_stored: bool) -> Checksum {
        let status = if stored == right {
            ChecksumStatus::Good
        } else if partial_stored {
            ChecksumStatus::NotFilledIn
        } else {
            ChecksumStatus::Bad { expected: right }
        };
        Checksum {
            status,
            calculated: Some(right),
        }
    }
}

/// The status of a TCP checksum: `segment` is the TCP header and payload
/// as captured, `tcp_len` the length the IP header gives them.
pub(crate) fn tcp(src: IpAddr, dst: IpAddr, segment: &[u8], tcp_len: usize) -> Checksum {
    if segment.len() < tcp_len || tcp_len < 18 {
        return Checksum::UNVERIFIED;
    }
    let segment = &segment[..tcp_len];
    let pseudo = pseudo_header(src, dst, tcp_len);
    let stored = u16::from_be_bytes([segment[16], segment[17]]);
    let right = !fold(pseudo + sum(segment) - u32::from(stored));
    // The kernel's partial checksum: the pseudo-header folded, for the NIC
    // to finish over the segment.
    Checksum::judge(stored, right, stored == fold(pseudo))
}

/// The sum of the TCP pseudo-header (RFC 9293 §3.1; RFC 8200 §8.1 for IPv6).
fn pseudo_header(src: IpAddr, dst: IpAddr, tcp_len: usize) -> u32 {
    let len = tcp_len as u32;
    address_sum(src) + address_sum(dst) + 6 + (len >> 16) + (len & 0xffff)
}

fn address_sum(a: IpAddr) -> u32 {
    match a {
        IpAddr::V4(a) => sum(&a.octets()),
        IpAddr::V6(a) => sum(&a.octets()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 header of captures/hello-ethernet.pcap frame 4.
    const HEADER: [u8; 20] = [
        0x45, 0, 0, 0x39, 0x67, 0x7c, 0x40, 0, 0x40, 6, 0xd5, 0x40, 127, 0, 0, 1, 127, 0, 0, 1,
    ];

    #[test]
    fn a_right_ipv4_header_is_good_and_a_changed_one_names_the_right_value() {
        assert_eq!(ipv4_header(&HEADER, 20).status, ChecksumStatus::Good);
        let mut bad = HEADER;
        bad[11] = 0x41;
        assert_eq!(
            ipv4_header(&bad, 20).status,
            ChecksumStatus::Bad { expected: 0xd540 }
        );
        assert_eq!(
            ipv4_header(&HEADER[..12], 20).status,
            ChecksumStatus::Unverified
        );
    }

    #[test]
    fn loopback_partial_sums_are_not_filled_in() {
        // hello-ethernet frame 4's TCP checksum 0xfe2d is the pseudo-header
        // sum of 127.0.0.1 -> 127.0.0.1, 37 bytes of TCP.
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let mut seg = vec![0u8; 37];
        seg[12] = 0x80;
        seg[16] = 0xfe;
        seg[17] = 0x2d;
        assert_eq!(tcp(lo, lo, &seg, 37).status, ChecksumStatus::NotFilledIn);
        // Filling in the right value makes it good.
        seg[16] = 0;
        seg[17] = 0;
        let right = !fold(pseudo_header(lo, lo, 37) + sum(&seg));
        seg[16..18].copy_from_slice(&right.to_be_bytes());
        assert_eq!(tcp(lo, lo, &seg, 37).status, ChecksumStatus::Good);
    }
}
