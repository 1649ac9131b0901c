//! TCP flags as a typed set and TCP options as values (RFC 9293 §3.1,
//! RFC 7323 for window scale and timestamps, RFC 2018 for SACK).

use etherparse::TcpSlice;
use serde::Serialize;

/// The TCP control bits, in header order (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags(u8);

impl Flags {
    pub const FIN: Flags = Flags(0x01);
    pub const SYN: Flags = Flags(0x02);
    pub const RST: Flags = Flags(0x04);
    pub const PSH: Flags = Flags(0x08);
    pub const ACK: Flags = Flags(0x10);
    pub const URG: Flags = Flags(0x20);
    pub const ECE: Flags = Flags(0x40);
    pub const CWR: Flags = Flags(0x80);

    /// Every flag with its name, in the order records list them.
    const NAMED: [(Flags, &'static str); 8] = [
        (Flags::FIN, "FIN"),
        (Flags::SYN, "SYN"),
        (Flags::RST, "RST"),
        (Flags::PSH, "PSH"),
        (Flags::ACK, "ACK"),
        (Flags::URG, "URG"),
        (Flags::ECE, "ECE"),
        (Flags::CWR, "CWR"),
    ];

    /// The set from the header's flag byte (byte 13 of the TCP header).
    pub fn from_bits(bits: u8) -> Self {
        Flags(bits)
    }

    /// The flag byte.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Reads the flags of a TCP header.
    pub fn of(tcp: &TcpSlice<'_>) -> Self {
        // Byte 13 holds CWR..FIN; etherparse checked the header is there.
        Flags(tcp.header_slice()[13])
    }

    /// True if every flag of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Names of the set flags, in the order `FIN SYN RST PSH ACK URG ECE CWR`.
    pub fn names(self) -> Vec<&'static str> {
        Self::NAMED
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }

    /// The flags as people say them: SYN, SYN-ACK, PSH-ACK, FIN-ACK, RST-ACK...
    /// (SYN, FIN, RST, PSH first, then ACK, then the rest.)
    pub fn spoken(self) -> String {
        const ORDER: [(Flags, &str); 8] = [
            (Flags::SYN, "SYN"),
            (Flags::FIN, "FIN"),
            (Flags::RST, "RST"),
            (Flags::PSH, "PSH"),
            (Flags::URG, "URG"),
            (Flags::ACK, "ACK"),
            (Flags::ECE, "ECE"),
            (Flags::CWR, "CWR"),
        ];
        let parts: Vec<&str> = ORDER
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect();
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join("-")
        }
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

/// The options a segment carried, each present only when sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TcpOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mss: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wscale: Option<u8>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sack_perm: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts_val: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts_ecr: Option<u32>,
    /// SACK blocks as raw `[left, right)` sequence numbers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sack: Vec<[u32; 2]>,
    /// Why the option list could not be read to its end, if it could not.
    #[serde(skip)]
    pub error: Option<String>,
}

impl TcpOptions {
    /// Reads the options of a TCP header; a malformed list keeps what came
    /// before the bad option and says why it stopped.
    pub fn of(tcp: &TcpSlice<'_>) -> Self {
        Self::parse(tcp.options())
    }

    /// Reads an option list (the TCP header's bytes after the first 20),
    /// as [`walk_options`] walks it.
    pub fn parse(options: &[u8]) -> Self {
        let mut o = TcpOptions::default();
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let error = walk_options(options, |kind, body| match kind {
            2 => o.mss = Some(u16::from_be_bytes([body[0], body[1]])),
            3 => o.wscale = Some(body[0]),
            4 => o.sack_perm = true,
            5 => o
                .sack
                .extend(body.chunks_exact(8).map(|b| [be32(b), be32(&b[4..])])),
            8 => {
                o.ts_val = Some(be32(body));
                o.ts_ecr = Some(be32(&body[4..]));
            }
            _ => {}
        });
        o.error = error;
        o
    }

    /// True when no option was decoded.
    pub fn is_empty(&self) -> bool {
        self.mss.is_none()
            && self.wscale.is_none()
            && !self.sack_perm
            && self.ts_val.is_none()
            && self.sack.is_empty()
    }
}

/// Walks a TCP option list, calling `visit(kind, value)` for each option
/// but NOP and the end of the list, where a known kind's value always has
/// its right length (MSS 2 bytes, window scale 1, SACK permitted 0, SACK
/// blocks of 8, timestamps 8). An option of a kind not known here
/// (experimental 254, AccECN, MPTCP) is visited and passed over by its
/// length byte, as Wireshark does, so the ones after it are still read. A
/// length that is missing, too small, past the list, or wrong for a known
/// kind ends the walk: the returned text says where.
pub fn walk_options<'a>(options: &'a [u8], mut visit: impl FnMut(u8, &'a [u8])) -> Option<String> {
    for span in option_spans(options) {
        let (kind, at, len) = match span {
            Ok((0, _, _)) => break,
            Ok((1, _, _)) => continue,
            Ok(found) => found,
            Err(at) => {
                let (kind, room) = (options[at], options.len());
                let len = options.get(at + 1).map_or(0, |&l| usize::from(l));
                return Some(format!(
                    "option kind {kind} at byte {at}: its length ({len}) runs past the {room} bytes of options"
                ));
            }
        };
        let body = &options[at + 2..at + len];
        let right = match (kind, body.len()) {
            (2, 2) | (3, 1) | (4, 0) | (8, 8) => true,
            (5, n) => n >= 8 && n % 8 == 0,
            (2..=4 | 8, _) => false,
            _ => true,
        };
        if !right {
            return Some(format!(
                "option kind {kind} at byte {at}: a length of {len} is wrong for it"
            ));
        }
        visit(kind, body);
    }
    None
}

/// Each option of a TCP option list as (kind, offset, length): the end of
/// the list (0) and NOP (1) are one byte, every other kind as long as its
/// length byte says. A length byte that is missing, below 2 or past the
/// list ends the walk with `Err(offset)` of that option. The one walk of
/// the lengths: the flow's [`walk_options`], `--explain`'s fields and its
/// summary line read the list through it.
pub fn option_spans(
    options: &[u8],
) -> impl Iterator<Item = Result<(u8, usize, usize), usize>> + '_ {
    let mut at = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        let &kind = options.get(at).filter(|_| !done)?;
        let len = match kind {
            0 | 1 => 1,
            _ => match options.get(at + 1).map(|&l| usize::from(l)) {
                Some(l) if l >= 2 && at + l <= options.len() => l,
                _ => {
                    done = true;
                    return Some(Err(at));
                }
            },
        };
        let span = (kind, at, len);
        at += len;
        Some(Ok(span))
    })
}

/// The TCP header's values, owned: the normalized view of [`TcpSlice`]
/// that the flow logic and every renderer read (RFC 9293 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tcp {
    pub src_port: u16,
    pub dst_port: u16,
    /// The sequence number on the wire.
    pub seq: u32,
    /// The acknowledgment number on the wire (meaningful only with ACK).
    pub ack: u32,
    pub flags: Flags,
    /// The window field as sent, unscaled.
    pub window: u16,
    /// Header bytes, options included (data offset × 4). The options are
    /// read from those bytes only when a view asks (`TcpOptions::parse`):
    /// most frames never need them, and reading them is most of a replay's
    /// per-frame cost.
    pub hdr_len: usize,
}

/// The TCP header before its options (RFC 9293 §3.1).
pub const TCP_BASE_LEN: usize = 20;

impl Tcp {
    /// The values of the 20-byte base header at the start of `b`, read by
    /// hand, with the header length it claims; `None` if fewer than 20
    /// bytes, or a claim below 20 (bogus from its start: tshark stops
    /// there too). Whether the claimed options were captured is the
    /// caller's to check.
    pub fn from_base(b: &[u8]) -> Option<Self> {
        let b = b.get(..TCP_BASE_LEN)?;
        let hdr_len = usize::from(b[12] >> 4) * 4;
        if hdr_len < TCP_BASE_LEN {
            return None;
        }
        let be16 = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
        let be32 = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        Some(Tcp {
            src_port: be16(0),
            dst_port: be16(2),
            seq: be32(4),
            ack: be32(8),
            flags: Flags::from_bits(b[13]),
            window: be16(14),
            hdr_len,
        })
    }

    /// The TCP header at the start of `bytes`, checked whole (options
    /// included) by etherparse; the error says what broke.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        TcpSlice::from_slice(bytes)
            .map(|t| Tcp::of(&t))
            .map_err(|e| e.to_string())
    }

    /// Reads the values of a TCP header that etherparse has checked.
    pub fn of(tcp: &TcpSlice<'_>) -> Self {
        Tcp {
            src_port: tcp.source_port(),
            dst_port: tcp.destination_port(),
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: Flags::of(tcp),
            window: tcp.window_size(),
            hdr_len: tcp.header_slice().len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_names_put_ack_last() {
        assert_eq!((Flags::SYN | Flags::ACK).spoken(), "SYN-ACK");
        assert_eq!((Flags::PSH | Flags::ACK).spoken(), "PSH-ACK");
        assert_eq!((Flags::FIN | Flags::ACK).spoken(), "FIN-ACK");
        assert_eq!((Flags::RST | Flags::ACK).spoken(), "RST-ACK");
        assert_eq!(Flags::RST.spoken(), "RST");
        assert_eq!(Flags::default().spoken(), "none");
    }

    #[test]
    fn record_names_follow_header_order() {
        let f = Flags::from_bits(0xff);
        assert_eq!(
            f.names(),
            ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"]
        );
    }
}
