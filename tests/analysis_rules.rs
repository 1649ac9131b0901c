//! Three rules of tshark 4.0's TCP analysis that tcplab once missed (issue
//! 13 item 6), each on a capture made here, in memory, and run through the
//! pipeline. The same frames were written to a pcap and read by tshark
//! 4.0.17 (`tshark -r F -T fields -e tcp.seq -e tcp.ack -e tcp.analysis.flags
//! ...`); its verdicts are quoted beside each test. None of the tcpdump
//! project's captures in `tests/data/wild/` meets these rules.

use tcplab::flow::{FlowInfo, Pipeline};
use tcplab::values::{LinkType, RawFrame, Timestamp, TsPrecision};

/// One captured segment: microseconds after the first, sent by the client
/// (10.0.0.1:40000) or the server (10.0.0.2:80), raw seq and ack, flags
/// as letters (`S` `A` `F` `R` `P`), payload bytes and the raw window.
type Step = (u32, bool, u32, u32, &'static str, usize, u16);

/// An Ethernet/IPv4/TCP frame (checksums zero: neither tcplab nor tshark
/// checks them by default).
fn frame(&(_, from_client, seq, ack, flags, len, window): &Step) -> Vec<u8> {
    let (client, server) = (([10, 0, 0, 1], 40000u16), ([10, 0, 0, 2], 80u16));
    let (src, dst) = if from_client {
        (client, server)
    } else {
        (server, client)
    };
    let bits = flags.chars().fold(0u8, |b, c| {
        b | match c {
            'F' => 0x01,
            'S' => 0x02,
            'R' => 0x04,
            'P' => 0x08,
            'A' => 0x10,
            _ => panic!("flag letter {c}"),
        }
    });
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&(40 + len as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.1.to_be_bytes());
    f.extend_from_slice(&dst.1.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, bits]);
    f.extend_from_slice(&window.to_be_bytes());
    f.extend_from_slice(&[0; 4]);
    f.resize(f.len() + len, b'x');
    f
}

/// What the flow says of each step, in order.
fn run(steps: &[Step]) -> Vec<FlowInfo> {
    let mut pipeline = Pipeline::new();
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let data = frame(step);
            let raw = RawFrame {
                ts: Timestamp {
                    sec: 1_700_000_000 + i64::from(step.0 / 1_000_000),
                    nsec: step.0 % 1_000_000 * 1000,
                },
                orig_len: data.len() as u32,
                data: &data,
                link: LinkType::Ethernet,
                precision: TsPrecision::Micro,
            };
            let packet = pipeline.step(i as u64 + 1, &raw);
            packet
                .flow
                .unwrap_or_else(|| panic!("frame {}: no flow", i + 1))
        })
        .collect()
}

/// (stream, relative seq, relative ack, analysis names) of each frame.
fn rows(steps: &[Step]) -> Vec<(u32, u32, u32, Vec<&'static str>)> {
    run(steps)
        .into_iter()
        .map(|f| (f.stream, f.seq, f.ack, f.findings.flags.names()))
        .collect()
}

/// A stale RST (raw seq 0) from the server, then a handshake on the same
/// ports. The RST fixed the server's base at -1; the SYN-ACK moves it to
/// its own ISN, in the same stream. tshark 4.0.17, frames 1-6: stream 0
/// throughout, seq/ack 1/0, 0/0, 0/1, 1/1, 1/1, 1/6, no analysis flags
/// (the SYN-ACK carries only "reused ports", which the record leaves out).
/// Before the rule the server's numbers read 5001 and the client's ack 5002.
#[test]
fn a_syn_ack_rebases_the_direction_a_rst_began() {
    let steps: [Step; 6] = [
        (0, false, 0, 0, "R", 0, 0),
        (1000, true, 1000, 0, "S", 0, 512),
        (2000, false, 5000, 1001, "SA", 0, 512),
        (3000, true, 1001, 5001, "A", 0, 512),
        (4000, false, 5001, 1001, "PA", 5, 512),
        (5000, true, 1001, 5006, "A", 0, 512),
    ];
    let got: Vec<_> = rows(&steps)
        .into_iter()
        .map(|(stream, seq, ack, flags)| (stream, seq, ack, flags.is_empty()))
        .collect();
    let want = [(1, 0), (0, 0), (0, 1), (1, 1), (1, 1), (1, 6)];
    let want: Vec<_> = want.iter().map(|&(s, a)| (0, s, a, true)).collect();
    assert_eq!(got, want);
}

/// The same when the server's base was only guessed from the client's ACK
/// (ack - 1) before the SYN-ACK came. tshark 4.0.17: seq/ack 1/1, 0/1,
/// 1/1, 1/1, no flags (before the rule: 4294965297 for the SYN-ACK).
#[test]
fn a_syn_ack_rebases_a_guessed_direction() {
    let steps: [Step; 4] = [
        (0, true, 100, 7000, "A", 0, 512),
        (1000, false, 5000, 100, "SA", 0, 512),
        (2000, true, 100, 5001, "A", 0, 512),
        (3000, false, 5001, 100, "PA", 5, 512),
    ];
    let got: Vec<_> = rows(&steps).into_iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(got, [(1, 1), (0, 1), (1, 1), (1, 1)]);
}

/// The server acknowledges client bytes 111..121 that the capture missed
/// (frame 7), retransmits its own 511..521 at the client's ACK (frame 8),
/// then acknowledges 121 again with a new window (frame 9). tshark 4.0.17:
/// frame 7 "ACKed segment that wasn't captured"; frame 8 a fast
/// retransmission (the flag set the client's duplicate-ACK count to -1,
/// which reads as past 2) and not ACKed-unseen again; frame 9 only a
/// window update; frame 10, the client's ACK from after its gap, "previous
/// segment(s) not captured". Before the rule frames 8 and 9 were flagged
/// ACKed-unseen again and frame 8 was a plain retransmission.
#[test]
fn an_acked_unseen_segment_is_flagged_once_and_makes_retransmissions_fast() {
    let steps: [Step; 10] = [
        (0, true, 100, 0, "S", 0, 512),
        (1000, false, 500, 101, "SA", 0, 512),
        (2000, true, 101, 501, "A", 0, 512),
        (3000, false, 501, 101, "PA", 10, 512),
        (3100, false, 511, 101, "PA", 10, 512),
        (4000, true, 101, 511, "PA", 10, 512),
        (5000, false, 521, 121, "A", 0, 512),
        (6000, false, 511, 121, "PA", 10, 512),
        (7000, false, 521, 121, "A", 0, 1024),
        (8000, true, 121, 521, "A", 0, 512),
    ];
    let flags: Vec<_> = rows(&steps).into_iter().map(|r| r.3).collect();
    let none: Vec<&str> = Vec::new();
    assert_eq!(flags[..6], vec![none; 6][..], "{flags:?}");
    assert_eq!(flags[6], ["ack_lost_segment"]);
    assert_eq!(flags[7], ["retransmission", "fast_retransmission"]);
    assert_eq!(flags[8], ["window_update"]);
    assert_eq!(flags[9], ["lost_segment"]);
}

/// Only the client's side was captured: a SYN, an ACK, then three 1-byte
/// segments. The server never showed a window, so none of them is a
/// zero-window probe. tshark 4.0.17: no analysis flags on any frame, bytes
/// in flight 2, 3 and 4 on the data. Before the rule each 1-byte segment
/// was taken for a probe (the unseen window read as 0), did not advance
/// the next sequence number, and the next one was a "lost segment".
#[test]
fn a_first_one_byte_segment_is_no_zero_window_probe() {
    let steps: [Step; 5] = [
        (0, true, 100, 0, "S", 0, 512),
        (1000, true, 101, 501, "A", 0, 512),
        (2000, true, 101, 501, "PA", 1, 512),
        (3000, true, 102, 501, "PA", 1, 512),
        (4000, true, 103, 501, "PA", 1, 512),
    ];
    let got: Vec<_> = run(&steps)
        .into_iter()
        .map(|f| (f.findings.flags.is_empty(), f.findings.bytes_in_flight))
        .collect();
    let want = [None, None, Some(2), Some(3), Some(4)];
    let want: Vec<_> = want.into_iter().map(|b| (true, b)).collect();
    assert_eq!(got, want);
}

/// The other half of that rule: when the peer's data has a hole, an ACK
/// past it moves the mark over the hole, so the peer's later data and the
/// ACKs of it are not flagged, even after the peer's ACK moved (which
/// resets its duplicate-ACK count). Once with the hole across the 2^32
/// wrap, where plain numbers would put the mark after the next seq. tshark
/// 4.0.17, on both: frame 2 "previous segment(s) not captured", frame 3
/// "ACKed segment that wasn't captured", frame 6 nothing. (tcplab's older
/// rule passed this too; the packet-tcp.c read for the rule, which moves
/// the mark only when it lies past the next seq, and a reading comparing
/// plain numbers each flagged frame 6, as bgp-role.pcapng showed.)
#[test]
fn an_ack_over_a_hole_moves_the_mark_past_it() {
    for first in [1000u32, 0xffff_ffe0] {
        let at = |off: u32| first.wrapping_add(off);
        let steps: [Step; 6] = [
            (0, true, first, 500, "PA", 16, 512),
            (1000, true, at(32), 500, "PA", 16, 512),
            (2000, false, 500, at(48), "A", 0, 512),
            (3000, false, 500, at(48), "PA", 5, 512),
            (4000, true, at(48), 505, "PA", 16, 512),
            (5000, false, 505, at(64), "A", 0, 512),
        ];
        let flags: Vec<_> = rows(&steps).into_iter().map(|r| r.3).collect();
        let none: Vec<&str> = Vec::new();
        let want = [
            none.clone(),
            vec!["lost_segment"],
            vec!["ack_lost_segment"],
            none.clone(),
            none.clone(),
            none,
        ];
        assert_eq!(flags, want, "first seq {first:#x}");
    }
}
