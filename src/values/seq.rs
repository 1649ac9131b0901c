//! Sequence numbers compare modulo 2^32 (RFC 9293 §3.4).

/// A TCP sequence or acknowledgment number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// `self - base` in sequence space (the relative number Wireshark shows).
    pub fn since(self, base: SeqNumber) -> u32 {
        self.0.wrapping_sub(base.0)
    }

    /// `self + n`, wrapping.
    pub fn plus(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n))
    }

    /// True if `self` is after `other` within half the sequence space
    /// (Wireshark's `GT_SEQ`: the difference, read as signed, is positive).
    pub fn after(self, other: SeqNumber) -> bool {
        (self.0.wrapping_sub(other.0) as i32) > 0
    }

    /// True if `self` is `other` or after it.
    pub fn at_or_after(self, other: SeqNumber) -> bool {
        self == other || self.after(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_wraps() {
        let near_end = SeqNumber(u32::MAX - 1);
        let wrapped = near_end.plus(5);
        assert_eq!(wrapped, SeqNumber(3));
        assert!(wrapped.at_or_after(near_end));
        assert!(!near_end.at_or_after(wrapped));
        assert_eq!(wrapped.since(near_end), 5);
        assert!(wrapped.after(near_end) && !wrapped.after(wrapped));
        // Exactly half the space apart: neither is after the other.
        let half = near_end.plus(1 << 31);
        assert!(!half.after(near_end) && !near_end.after(half));
    }
}
