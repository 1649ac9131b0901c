//! Whether a connection negotiated Accurate ECN (RFC 9768), and so reads
//! its ECE, CWR and AE bits as one 3-bit counter, the ACE field, instead
//! of RFC 3168's flags.
//!
//! The rule is Wireshark's (`had_acc_ecn_setup_syn`,
//! `had_acc_ecn_setup_syn_ack` and `th_use_ace` in
//! epan/dissectors/packet-tcp.c; tshark 4.0 already applies it): a SYN
//! with AE, CWR and ECE all set asks for AccECN (RFC 9768 §3.1.1); a
//! SYN-ACK agrees with any codepoint of its Table 2 but the classic ECN
//! reply and the reserved ones; from then on every segment but a SYN
//! carries ACE. Wireshark also switches when it sees the AccECN option
//! (kinds 172 and 174) on a connection whose handshake it missed; this
//! tracker does not (yet).

use super::Segment;
use crate::decode::Flags;

/// One connection's AccECN handshake, as far as it went: one byte per stream.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AccEcn(u8);

impl AccEcn {
    /// The client's SYN asked for AccECN.
    const ASKED: u8 = 1;
    /// The server's SYN-ACK answered with an AccECN codepoint.
    const AGREED: u8 = 2;

    /// Feeds one segment of the connection. A later SYN (or SYN-ACK)
    /// replaces what an earlier one said, as in Wireshark.
    pub fn observe(&mut self, seg: &Segment) {
        let syn = seg.flags.contains(Flags::SYN);
        let ack = seg.flags.contains(Flags::ACK);
        let (cwr, ece) = (
            seg.flags.contains(Flags::CWR),
            seg.flags.contains(Flags::ECE),
        );
        let (bit, set) = match (syn, ack) {
            (true, false) => (Self::ASKED, seg.ae && cwr && ece),
            // (AE, CWR) = (0, 1) or (AE, ECE) = (1, 0): 010, 011, 100 and
            // 110. Not 001 (classic ECN), 000 (no ECN), 101 or 111.
            (true, true) => (Self::AGREED, (!seg.ae && cwr) || (seg.ae && !ece)),
            _ => return,
        };
        if set {
            self.0 |= bit;
        } else {
            self.0 &= !bit;
        }
    }

    /// True when `seg`'s ECE, CWR and AE bits are the ACE counter: the
    /// handshake negotiated AccECN and `seg` is not a SYN (whose bits
    /// are the negotiation itself).
    pub fn counts(self, seg: &Segment) -> bool {
        self.0 == Self::ASKED | Self::AGREED && !seg.flags.contains(Flags::SYN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::SeqNumber;

    fn seg(flags: Flags, ae: bool) -> Segment {
        let a = "127.0.0.1:1".parse().unwrap();
        Segment {
            src: a,
            dst: a,
            seq: SeqNumber(0),
            ack: SeqNumber(0),
            flags,
            ae,
            window: 0,
            payload_len: 0,
            wscale: None,
            sacked: 0,
        }
    }

    /// RFC 9768 Table 2: every SYN-ACK codepoint, (AE, CWR, ECE), after an
    /// AccECN SYN; only the four AccECN ones make the ACK a counter.
    #[test]
    fn only_accecn_syn_ack_codepoints_agree() {
        let ask = seg(Flags::SYN | Flags::CWR | Flags::ECE, true);
        let ack = seg(Flags::ACK | Flags::CWR, false);
        for code in 0u8..8 {
            let (ae, cwr, ece) = (code & 4 != 0, code & 2 != 0, code & 1 != 0);
            let mut flags = Flags::SYN | Flags::ACK;
            if cwr {
                flags = flags | Flags::CWR;
            }
            if ece {
                flags = flags | Flags::ECE;
            }
            let mut state = AccEcn::default();
            state.observe(&ask);
            state.observe(&seg(flags, ae));
            let agreed = matches!(code, 0b010 | 0b011 | 0b100 | 0b110);
            assert_eq!(state.counts(&ack), agreed, "SYN-ACK {code:03b}");
        }
    }

    /// A classic ECN-setup SYN (CWR and ECE, RFC 3168 §6.1.1) asks nothing
    /// of AccECN, whatever the SYN-ACK says; nor does a SYN counted on.
    #[test]
    fn classic_ecn_and_syns_never_count() {
        let syn_ack = Flags::SYN | Flags::ACK;
        let mut state = AccEcn::default();
        state.observe(&seg(Flags::SYN | Flags::CWR | Flags::ECE, false));
        state.observe(&seg(syn_ack | Flags::CWR, false));
        assert!(!state.counts(&seg(Flags::ACK, false)));
        let mut state = AccEcn::default();
        state.observe(&seg(Flags::SYN | Flags::CWR | Flags::ECE, true));
        state.observe(&seg(syn_ack | Flags::CWR, false));
        assert!(state.counts(&seg(Flags::ACK, true)));
        assert!(!state.counts(&seg(syn_ack | Flags::CWR, false)));
        // A new classic SYN withdraws the request, as Wireshark's flag is rewritten.
        state.observe(&seg(Flags::SYN, false));
        assert!(!state.counts(&seg(Flags::ACK, true)));
    }
}
