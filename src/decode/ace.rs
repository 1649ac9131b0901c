//! The ACE field of Accurate ECN (RFC 9768 §3.2): once the handshake has
//! negotiated AccECN, a segment's AE, CWR and ECE bits are one 3-bit
//! counter of the CE-marked packets its sender has received (modulo 8,
//! starting at 5), no longer RFC 3168's ECN-Echo and CWR flags. Whether
//! the handshake did is the flow's to know (`flow::AccEcn`); this module
//! reads the bits and names the counter.

use super::Flags;

/// Where the AE bit lies: the lowest bit of TCP header byte 12, beside the
/// data offset (RFC 9768 §3; RFC 3540's NS bit before it). [`Flags`] holds
/// byte 13 only.
const AE_BYTE: usize = 12;
const AE_MASK: u8 = 0x01;

/// True if the AE bit of `tcp_header` (the header's captured bytes) is set.
pub fn ae_bit(tcp_header: &[u8]) -> bool {
    tcp_header.get(AE_BYTE).is_some_and(|b| b & AE_MASK != 0)
}

/// An ACE counter value, 0 to 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ace(u8);

impl Ace {
    /// AE is the high bit, then CWR, then ECE (their order in the header).
    pub fn of(flags: Flags, ae: bool) -> Ace {
        Ace(u8::from(ae) << 2
            | u8::from(flags.contains(Flags::CWR)) << 1
            | u8::from(flags.contains(Flags::ECE)))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// The other flags as [`Flags::spoken`] says them, then the counter as
    /// Wireshark's summary writes it: `PSH-ACK ACE=5`.
    pub fn spoken_with(self, flags: Flags) -> String {
        let rest = Flags::from_bits(flags.bits() & !(Flags::CWR | Flags::ECE).bits());
        if rest == Flags::default() {
            format!("ACE={}", self.0)
        } else {
            format!("{} ACE={}", rest.spoken(), self.0)
        }
    }

    /// What the three bits mean, in words.
    pub fn explained(self) -> String {
        format!(
            "ACE counter {} (AccECN: ECE, CWR and AE count CE-marked packets)",
            self.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ae_is_the_high_bit_and_the_flags_it_replaces_are_not_spoken() {
        let ack_cwr = Flags::ACK | Flags::CWR;
        assert_eq!(Ace::of(ack_cwr, false).get(), 2);
        assert_eq!(Ace::of(ack_cwr, true).get(), 6);
        assert_eq!(Ace::of(Flags::ACK | Flags::ECE, true).get(), 5);
        assert_eq!(Ace::of(ack_cwr, true).spoken_with(ack_cwr), "ACK ACE=6");
        assert_eq!(Ace::of(Flags::CWR, false).spoken_with(Flags::CWR), "ACE=2");
        // Byte 12 of a header with data offset 8 and AE set; a cut header has no AE.
        assert!(ae_bit(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81, 0x90]));
        assert!(!ae_bit(&[0; 12]));
    }
}
