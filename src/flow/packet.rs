//! The typed packet: one frame decoded once, with its place in its
//! conversation. Every view, ladder, lab check and test reads this; the
//! JSON record is only its projection (`render::PacketRecord`).

use super::{Direction, Findings, FlowInfo, Phase, Reassembled, Segment};
use crate::decode::fields::{explain, Field, FlowContext, Frame};
use crate::decode::{
    ae_bit, walk_options, Ace, DecodeError, Flags, IpInfo, Layout, Stack, Tcp, TcpOptions,
};

/// The TCP header before its options (RFC 9293 §3.1).
const TCP_FIXED_LEN: usize = 20;
use crate::values::{LinkType, SeqNumber, Timestamp, TsPrecision};

/// One frame after the per-packet pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// 1-based frame number in the capture.
    pub number: u64,
    pub ts: Timestamp,
    /// Digits of a second the source keeps.
    pub precision: TsPrecision,
    pub link: LinkType,
    /// Length on the wire; `data` may be shorter (the snaplen).
    pub frame_len: u32,
    /// The captured bytes of the whole frame.
    pub data: Vec<u8>,
    /// The headers before the IP header that carries TCP (the link
    /// header, VLAN tags, tunnels...), outermost first.
    pub outer: Stack,
    /// Where each layer lies in `data`.
    pub layout: Layout,
    pub ip: Option<IpInfo>,
    /// The TCP header's values, if the frame is a TCP segment.
    pub tcp: Option<Tcp>,
    /// TCP payload bytes as the IP header declares them (tshark's `tcp.len`).
    pub payload_len: usize,
    /// Stream, direction, relative numbers, analysis and phase, if TCP over IP.
    pub flow: Option<FlowInfo>,
    /// The first layer that failed, with offset and rule.
    pub error: Option<DecodeError>,
    /// Why a well-formed frame has no TCP (ARP, UDP, a fragment...).
    pub note: Option<String>,
    /// The TCP segment this frame's IP fragment completed, reassembled
    /// from every piece: then `tcp` and the payload are read from it.
    pub reassembled: Option<Box<Reassembled>>,
    /// An IPv4 first fragment read where it lies (not reassembled): its
    /// TCP header comes from the frame's bytes, but, as tshark's
    /// `pinfo->fragmented`, with no segment length (no `tcp.len`, so
    /// `payload_len` means nothing) and no sequence analysis: the numbers
    /// stay raw and the segment only takes its place in its stream.
    pub fragmented: bool,
}

impl Default for Packet {
    fn default() -> Self {
        Packet {
            number: 0,
            ts: Timestamp::default(),
            precision: TsPrecision::Nano,
            link: LinkType::Ethernet,
            frame_len: 0,
            data: Vec::new(),
            outer: Stack::default(),
            layout: Layout::default(),
            ip: None,
            tcp: None,
            payload_len: 0,
            flow: None,
            error: None,
            note: None,
            reassembled: None,
            fragmented: false,
        }
    }
}

impl Packet {
    /// Captured length.
    pub fn cap_len(&self) -> u32 {
        self.data.len() as u32
    }

    /// The captured payload bytes (fewer than `payload_len` when cut).
    pub fn payload(&self) -> &[u8] {
        if let (Some(r), Some(tcp)) = (&self.reassembled, &self.tcp) {
            return r.payload.get(tcp.hdr_len..).unwrap_or_default();
        }
        self.data
            .get(self.layout.payload_range())
            .unwrap_or_default()
    }

    /// The TCP header's captured bytes: in the frame, or at the start of
    /// the reassembled segment.
    pub fn tcp_header(&self) -> Option<&[u8]> {
        let tcp = self.tcp.as_ref()?;
        match &self.reassembled {
            Some(r) => r.payload.get(..tcp.hdr_len),
            None => self.data.get(self.layout.tcp_range()),
        }
    }

    pub fn flags(&self) -> Option<Flags> {
        self.tcp.as_ref().map(|t| t.flags)
    }

    pub fn stream(&self) -> Option<u32> {
        self.flow.map(|f| f.stream)
    }

    pub fn direction(&self) -> Option<Direction> {
        self.flow.map(|f| f.direction)
    }

    pub fn phase(&self) -> Option<Phase> {
        self.flow.map(|f| f.phase)
    }

    /// The TCP analysis (empty when the frame is not placed in a stream).
    pub fn findings(&self) -> Findings {
        self.flow.map(|f| f.findings).unwrap_or_default()
    }

    /// The ACE counter, when the handshake negotiated Accurate ECN and
    /// this is not a SYN (its ECE, CWR and AE bits are then no flags).
    pub fn ace(&self) -> Option<Ace> {
        self.flow.filter(|f| f.accecn)?;
        let tcp = self.tcp.as_ref()?;
        let header = self.tcp_header().unwrap_or_default();
        Some(Ace::of(tcp.flags, ae_bit(header)))
    }

    /// True if the TCP header's AE bit is set (outside [`Flags`]' byte).
    pub fn ae(&self) -> bool {
        self.tcp.is_some() && ae_bit(self.tcp_header().unwrap_or_default())
    }

    /// The flags as the text views say them: [`Flags::spoken`], then AE
    /// if set (last, as Wireshark lists it: `SYN-ECE-CWR-AE` asks for
    /// AccECN); with AccECN the other flags and the counter (`PSH-ACK ACE=5`).
    pub fn spoken_flags(&self) -> Option<String> {
        let flags = self.flags()?;
        Some(match self.ace() {
            Some(ace) => ace.spoken_with(flags),
            None if self.ae() && flags == Flags::default() => "AE".into(),
            None if self.ae() => format!("{}-AE", flags.spoken()),
            None => flags.spoken(),
        })
    }

    /// The TCP options, read from the captured header, if this is TCP.
    pub fn options(&self) -> Option<TcpOptions> {
        let header = self.tcp_header()?;
        Some(TcpOptions::parse(
            header.get(TCP_FIXED_LEN..).unwrap_or_default(),
        ))
    }

    /// Every header field, for `--explain` (built on request: most views
    /// never need them).
    pub fn fields(&self) -> Vec<Field> {
        let ctx = FlowContext {
            rel_seq: self.flow.map(|f| f.seq),
            rel_ack: self.flow.map(|f| f.ack),
            window_scale: self.flow.and_then(|f| f.window_scale).map(|s| s.factor()),
            accecn: self.flow.is_some_and(|f| f.accecn),
            unanalysed: self.fragmented,
        };
        let frame = Frame {
            link: self.link,
            data: &self.data,
            outer: &self.outer,
            layout: &self.layout,
            ip: self.ip.as_ref(),
            reassembled: self.reassembled.as_ref().map(|r| &r.payload[..]),
        };
        explain(frame, &ctx)
    }

    /// The segment's values as the flow logic reads them, if TCP over IP.
    pub fn segment(&self) -> Option<Segment> {
        let (ip, tcp) = (self.ip.as_ref()?, self.tcp.as_ref()?);
        let syn = tcp.flags.contains(Flags::SYN);
        let header = self.tcp_header().unwrap_or_default();
        let (wscale, sacked) = flow_options(header.get(TCP_FIXED_LEN..).unwrap_or_default());
        // Window scale counts only on a SYN (RFC 7323 §2.2).
        let wscale = wscale.filter(|_| syn);
        Some(Segment {
            src: std::net::SocketAddr::new(ip.src, tcp.src_port),
            dst: std::net::SocketAddr::new(ip.dst, tcp.dst_port),
            seq: SeqNumber(tcp.seq),
            ack: SeqNumber(tcp.ack),
            flags: tcp.flags,
            ae: ae_bit(header),
            window: tcp.window,
            payload_len: self.payload_len as u32,
            wscale,
            sacked,
        })
    }
}

/// The two options the flow logic reads: the window scale, and the bytes
/// the first three SACK blocks cover (Wireshark keeps three, its
/// MAX_TCP_SACK_RANGES of 4 counted from 1).
fn flow_options(options: &[u8]) -> (Option<u8>, u32) {
    let (mut wscale, mut sacked, mut blocks) = (None, 0u32, 0);
    walk_options(options, |kind, body| match kind {
        3 => wscale = Some(body[0]),
        5 => {
            for b in body.chunks_exact(8) {
                if blocks < 3 {
                    let edge = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
                    sacked = sacked.wrapping_add(edge(4).wrapping_sub(edge(0)));
                    blocks += 1;
                }
            }
        }
        _ => {}
    });
    (wscale, sacked)
}

#[cfg(test)]
mod tests {
    use super::flow_options;

    #[test]
    fn window_scale_and_sack_are_read_and_bad_lengths_end_the_list() {
        // MSS, SACK permitted, timestamps, NOP, window scale 7 (a SYN's).
        let syn = [
            2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        assert_eq!(flow_options(&syn), (Some(7), 0));
        // NOP NOP, two SACK blocks of 100 and 50 bytes.
        let sack = [
            1, 1, 5, 18, 0, 0, 0, 100, 0, 0, 0, 200, 0, 0, 1, 0, 0, 0, 1, 50,
        ];
        assert_eq!(flow_options(&sack), (None, 150));
        // An experimental option (kind 254) is passed over, as Wireshark does.
        let exp = [254, 4, 1, 2, 3, 3, 9];
        assert_eq!(flow_options(&exp), (Some(9), 0));
        // A length that runs past the header ends the list.
        assert_eq!(flow_options(&[3, 3, 9, 5, 40, 0]), (Some(9), 0));
        assert_eq!(flow_options(&[3, 1, 9]), (None, 0));
    }
}
