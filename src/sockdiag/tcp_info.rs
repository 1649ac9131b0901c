//! `struct tcp_info` (`include/uapi/linux/tcp.h`) read by byte offset.
//!
//! The kernel's struct has grown at its end since 2.6 and the kernel copies
//! only as much as it has, so every field past the oldest layout (104 bytes)
//! is an `Option`: `None` when the buffer stops before it. [`TcpInfo::parse`]
//! checks the length once; nothing after it can fail. The offsets live in
//! [`field`], in the header's order; the words on what each counter counts
//! were measured on Linux 6.18 (`docs/kernel-view.md`).

use serde::Serialize;

use super::state::TcpState;

/// Byte ranges of `struct tcp_info`'s fields, as the header lays them out
/// (x86-64 and every other Linux ABI: `__u64`s fall on 8-byte boundaries
/// without padding).
pub mod field {
    use std::ops::Range;

    pub const STATE: usize = 0;
    pub const RTO: Range<usize> = 8..12;
    pub const SND_MSS: Range<usize> = 16..20;
    pub const RCV_MSS: Range<usize> = 20..24;
    pub const UNACKED: Range<usize> = 24..28;
    pub const LOST: Range<usize> = 32..36;
    pub const RETRANS: Range<usize> = 36..40;
    pub const RTT: Range<usize> = 68..72;
    pub const RTTVAR: Range<usize> = 72..76;
    pub const SND_CWND: Range<usize> = 80..84;
    pub const TOTAL_RETRANS: Range<usize> = 100..104;
    /// The end of the oldest layout: everything before is always there.
    pub const BASE_LEN: usize = 104;
    pub const BYTES_ACKED: Range<usize> = 120..128;
    pub const BYTES_RECEIVED: Range<usize> = 128..136;
    pub const SEGS_OUT: Range<usize> = 136..140;
    pub const SEGS_IN: Range<usize> = 140..144;
    pub const NOTSENT_BYTES: Range<usize> = 144..148;
    pub const MIN_RTT: Range<usize> = 148..152;
    pub const DATA_SEGS_IN: Range<usize> = 152..156;
    pub const DATA_SEGS_OUT: Range<usize> = 156..160;
    pub const BYTES_SENT: Range<usize> = 200..208;
    pub const BYTES_RETRANS: Range<usize> = 208..216;
    /// Linux 5.4's last field, the last tcplab reads.
    pub const SND_WND: Range<usize> = 228..232;
}

/// The fields of TCP_INFO tcplab shows.
///
/// Counted as measured on Linux 6.18 for a connection that sends 5 bytes
/// and closes (`docs/kernel-view.md`): the sequence space's SYN and FIN
/// are counted by `bytes_acked` (the active opener's SYN: 1 after the
/// handshake, 6 after "hello", 7 after its FIN) and the peer's FIN by
/// `bytes_received` (5 then 6), never the peer's SYN; `bytes_sent` and the
/// `data_segs_*` count payload only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TcpInfo {
    /// `tcpi_state`, which agrees with sock_diag's.
    pub state: TcpState,
    /// Payload bytes sent, retransmissions included (`tcpi_bytes_sent`,
    /// RFC 4898 HCDataOctetsOut; Linux 4.19): no SYN, no FIN.
    pub bytes_sent: Option<u64>,
    /// Sequence space the peer acknowledged (`tcpi_bytes_acked`, Linux
    /// 4.1): the advance of SND.UNA, so an active opener's SYN counts 1 (the
    /// famous `bytes_acked:1` of an idle client in `ss`) and a FIN once
    /// acknowledged counts 1. A passive opener starts at 0: its SYN-ACK was
    /// acknowledged before the socket was created from the request.
    pub bytes_acked: Option<u64>,
    /// Sequence space received in order (`tcpi_bytes_received`, Linux 4.1):
    /// the advance of RCV.NXT past the peer's SYN, so the peer's FIN counts
    /// 1 and its SYN does not.
    pub bytes_received: Option<u64>,
    /// Segments sent, pure ACKs and retransmissions included (Linux 4.2).
    /// A passive opener's SYN-ACK is not among them (the request socket sent
    /// it); an active opener's SYN is.
    pub segs_out: Option<u32>,
    /// Segments received; a passive opener counts the SYN and the
    /// handshake's ACK (2 when just accepted).
    pub segs_in: Option<u32>,
    /// Segments sent that carried payload (Linux 4.6).
    pub data_segs_out: Option<u32>,
    /// Segments received that carried payload (Linux 4.6).
    pub data_segs_in: Option<u32>,
    /// Every retransmitted segment over the connection's life.
    pub total_retrans: u32,
    /// Retransmitted segments not yet acknowledged (`tcpi_retrans`).
    pub retrans: u32,
    /// Payload bytes retransmitted (Linux 4.19).
    pub bytes_retrans: Option<u64>,
    /// Smoothed round-trip time, microseconds (RFC 6298's SRTT).
    pub rtt_us: u32,
    /// Round-trip time variation, microseconds (RFC 6298's RTTVAR).
    pub rttvar_us: u32,
    /// The current retransmission timeout, microseconds.
    pub rto_us: u32,
    /// The congestion window, in segments.
    pub snd_cwnd: u32,
    /// The sender's maximum segment size now.
    pub snd_mss: u32,
    /// The kernel's estimate of the peer's segment size (536 until data
    /// arrives).
    pub rcv_mss: u32,
    /// Segments in flight: sent and not acknowledged. For a listener, the
    /// connections waiting in its accept queue (the kernel reuses the field).
    pub unacked: u32,
    /// Segments the kernel takes for lost.
    pub lost: u32,
    /// Bytes written by the program and not yet sent (Linux 4.6).
    pub notsent_bytes: Option<u32>,
    /// The smallest round trip seen recently, microseconds (Linux 4.6).
    pub min_rtt_us: Option<u32>,
    /// The peer's receive window, scaled (Linux 5.4).
    pub snd_wnd: Option<u32>,
    /// True when this sample's socket gave no TCP_INFO (a TIME_WAIT socket,
    /// a request socket, an orphan in FIN_WAIT_2 that the kernel keeps as a
    /// timewait socket): `state` is the sample's, every other field the last
    /// TCP_INFO seen (zeros if none), since the kernel stopped counting.
    pub stale: bool,
}

impl TcpInfo {
    /// Reads a TCP_INFO buffer; `None` when it is shorter than the oldest
    /// layout (104 bytes, `field::BASE_LEN`).
    pub fn parse(b: &[u8]) -> Option<TcpInfo> {
        if b.len() < field::BASE_LEN {
            return None;
        }
        use field::*;
        // The length check above covers every field before BASE_LEN.
        let u32_at = |r: std::ops::Range<usize>| u32_of(b, r).unwrap_or(0);
        Some(TcpInfo {
            state: TcpState::from_kernel(b[STATE]),
            bytes_sent: u64_of(b, BYTES_SENT),
            bytes_acked: u64_of(b, BYTES_ACKED),
            bytes_received: u64_of(b, BYTES_RECEIVED),
            segs_out: u32_of(b, SEGS_OUT),
            segs_in: u32_of(b, SEGS_IN),
            data_segs_out: u32_of(b, DATA_SEGS_OUT),
            data_segs_in: u32_of(b, DATA_SEGS_IN),
            total_retrans: u32_at(TOTAL_RETRANS),
            retrans: u32_at(RETRANS),
            bytes_retrans: u64_of(b, BYTES_RETRANS),
            rtt_us: u32_at(RTT),
            rttvar_us: u32_at(RTTVAR),
            rto_us: u32_at(RTO),
            snd_cwnd: u32_at(SND_CWND),
            snd_mss: u32_at(SND_MSS),
            rcv_mss: u32_at(RCV_MSS),
            unacked: u32_at(UNACKED),
            lost: u32_at(LOST),
            notsent_bytes: u32_of(b, NOTSENT_BYTES),
            min_rtt_us: u32_of(b, MIN_RTT),
            snd_wnd: u32_of(b, SND_WND),
            stale: false,
        })
    }

    /// The state alone, for a socket the kernel gave no TCP_INFO for.
    pub fn stale(state: TcpState, last: Option<TcpInfo>) -> TcpInfo {
        let mut info = last.unwrap_or(TcpInfo {
            state,
            bytes_sent: None,
            bytes_acked: None,
            bytes_received: None,
            segs_out: None,
            segs_in: None,
            data_segs_out: None,
            data_segs_in: None,
            total_retrans: 0,
            retrans: 0,
            bytes_retrans: None,
            rtt_us: 0,
            rttvar_us: 0,
            rto_us: 0,
            snd_cwnd: 0,
            snd_mss: 0,
            rcv_mss: 0,
            unacked: 0,
            lost: 0,
            notsent_bytes: None,
            min_rtt_us: None,
            snd_wnd: None,
            stale: true,
        });
        info.state = state;
        info.stale = true;
        info
    }
}

/// The kernel writes TCP_INFO in the host's byte order.
fn u32_of(b: &[u8], r: std::ops::Range<usize>) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(r)?.try_into().ok()?))
}

fn u64_of(b: &[u8], r: std::ops::Range<usize>) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(r)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::field::*;
    use super::*;

    fn put32(b: &mut [u8], r: std::ops::Range<usize>, v: u32) {
        b[r].copy_from_slice(&v.to_ne_bytes());
    }

    fn put64(b: &mut [u8], r: std::ops::Range<usize>, v: u64) {
        b[r].copy_from_slice(&v.to_ne_bytes());
    }

    /// A buffer of the length Linux 6.18 returns (280 bytes), each field a
    /// distinct number, so a swapped offset shows.
    fn made() -> Vec<u8> {
        let mut b = vec![0xEE; 280];
        b[STATE] = 1;
        put32(&mut b, RTO, 204_000);
        put32(&mut b, SND_MSS, 32768);
        put32(&mut b, RCV_MSS, 536);
        put32(&mut b, UNACKED, 3);
        put32(&mut b, LOST, 4);
        put32(&mut b, RETRANS, 5);
        put32(&mut b, RTT, 24);
        put32(&mut b, RTTVAR, 9);
        put32(&mut b, SND_CWND, 11);
        put32(&mut b, TOTAL_RETRANS, 6);
        put64(&mut b, BYTES_ACKED, 6);
        put64(&mut b, BYTES_RECEIVED, 7);
        put32(&mut b, SEGS_OUT, 8);
        put32(&mut b, SEGS_IN, 9);
        put32(&mut b, NOTSENT_BYTES, 10);
        put32(&mut b, MIN_RTT, 17);
        put32(&mut b, DATA_SEGS_IN, 12);
        put32(&mut b, DATA_SEGS_OUT, 13);
        put64(&mut b, BYTES_SENT, 5);
        put64(&mut b, BYTES_RETRANS, 14);
        put32(&mut b, SND_WND, 65536);
        b
    }

    #[test]
    fn reads_each_field_at_its_offset() {
        let i = TcpInfo::parse(&made()).unwrap();
        assert_eq!(i.state, TcpState::Established);
        assert_eq!(
            (i.rto_us, i.snd_mss, i.rcv_mss, i.unacked, i.lost, i.retrans),
            (204_000, 32768, 536, 3, 4, 5)
        );
        assert_eq!(
            (i.rtt_us, i.rttvar_us, i.snd_cwnd, i.total_retrans),
            (24, 9, 11, 6)
        );
        assert_eq!(
            (i.bytes_sent, i.bytes_acked, i.bytes_received),
            (Some(5), Some(6), Some(7))
        );
        assert_eq!((i.segs_out, i.segs_in), (Some(8), Some(9)));
        assert_eq!((i.data_segs_out, i.data_segs_in), (Some(13), Some(12)));
        assert_eq!(
            (i.notsent_bytes, i.min_rtt_us, i.bytes_retrans, i.snd_wnd),
            (Some(10), Some(17), Some(14), Some(65536))
        );
        assert!(!i.stale);
    }

    #[test]
    fn a_short_struct_leaves_the_newer_fields_out() {
        let b = made();
        assert_eq!(TcpInfo::parse(&b[..BASE_LEN - 1]), None);
        let old = TcpInfo::parse(&b[..BASE_LEN]).unwrap();
        assert_eq!(old.total_retrans, 6);
        assert_eq!(
            (old.bytes_acked, old.segs_out, old.snd_wnd),
            (None, None, None)
        );
        // Linux 4.2's struct ends after segs_in.
        let v42 = TcpInfo::parse(&b[..SEGS_IN.end]).unwrap();
        assert_eq!((v42.segs_in, v42.notsent_bytes), (Some(9), None));
        // One byte short of a field is not the field.
        let cut = TcpInfo::parse(&b[..SND_WND.end - 1]).unwrap();
        assert_eq!((cut.bytes_sent, cut.snd_wnd), (Some(5), None));
        for len in BASE_LEN..=b.len() {
            assert!(TcpInfo::parse(&b[..len]).is_some(), "length {len}");
        }
    }

    #[test]
    fn a_stale_sample_keeps_the_last_counters() {
        let last = TcpInfo::parse(&made()).unwrap();
        let tw = TcpInfo::stale(TcpState::TimeWait, Some(last));
        assert_eq!(
            (tw.state, tw.stale, tw.bytes_acked),
            (TcpState::TimeWait, true, Some(6))
        );
        let fresh = TcpInfo::stale(TcpState::NewSynRecv, None);
        assert_eq!(
            (fresh.bytes_acked, fresh.rtt_us, fresh.stale),
            (None, 0, true)
        );
    }
}
