//! Addresses and bytes as text without `core::fmt`, for the paths that run
//! once per frame (timeline rows, JSON records): `Display` of an
//! `Ipv4Addr` took a tenth of a row's time.

use std::net::Ipv4Addr;

/// An IPv4 address as its `Display` writes it (`10.0.0.1`), on the stack.
pub(crate) struct Ipv4Text {
    bytes: [u8; 15],
    len: usize,
}

impl Ipv4Text {
    pub(crate) fn new(ip: Ipv4Addr) -> Self {
        let mut t = Ipv4Text {
            bytes: [0; 15],
            len: 0,
        };
        for (i, octet) in ip.octets().into_iter().enumerate() {
            if i > 0 {
                t.push(b'.');
            }
            if octet >= 100 {
                t.push(b'0' + octet / 100);
            }
            if octet >= 10 {
                t.push(b'0' + octet / 10 % 10);
            }
            t.push(b'0' + octet % 10);
        }
        t
    }

    fn push(&mut self, b: u8) {
        self.bytes[self.len] = b;
        self.len += 1;
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).expect("digits and dots")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_match_display() {
        for ip in ["0.0.0.0", "255.255.255.255", "10.78.0.1", "1.20.109.9"] {
            let ip: Ipv4Addr = ip.parse().unwrap();
            assert_eq!(Ipv4Text::new(ip).as_str(), ip.to_string());
        }
        for n in 0..=255u8 {
            let ip = Ipv4Addr::new(n, 0, n, 255 - n);
            assert_eq!(Ipv4Text::new(ip).as_str(), ip.to_string());
        }
    }
}
