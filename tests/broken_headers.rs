//! Headers decoded as far as they go (issue 13, item 5), each against
//! what tshark 4.0 shows for the same frame of the tcpdump project's test
//! captures in `tests/data/wild/`:
//! - a TCP header cut inside its options still gives its 20-byte base
//!   (ports, numbers, flags, window), the length it claims and `tcp.len`
//!   from that claim, with the error beside them;
//! - an option of an unknown kind (AccECN's 254) is passed over by its
//!   length, so the window scale after it is read;
//! - an IPv4 total length of 0 (TSO) takes the length from the frame, and
//!   an IPv6 payload length of 0 the hop-by-hop Jumbo Payload option's.

use std::path::PathBuf;

use tcplab::capture::{FileSource, PacketSource};
use tcplab::flow::{Packet, Pipeline};
use tcplab::render::PacketRecord;

fn packets(name: &str) -> Vec<Packet> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/wild")
        .join(name);
    let mut src = FileSource::open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut pipeline = Pipeline::new();
    let mut out = Vec::new();
    while let Ok(Some(f)) = src.next_frame() {
        out.push(pipeline.push(&f.as_raw()));
    }
    out
}

#[test]
fn a_tcp_header_cut_in_its_options_keeps_its_base_fields_and_the_error() {
    // tshark: srcport 12336, dstport 12336, stream 0, seq 1, hdr_len 60, len 12256.
    let p = &packets("heapoverflow-tcp_print.pcap")[0];
    let r = PacketRecord::of(p, 0);
    assert_eq!(
        (r.sport, r.dport, r.stream, r.seq),
        (Some(12336), Some(12336), Some(0), Some(1))
    );
    assert_eq!((r.tcp_hdr_len, r.payload_len), (Some(60), Some(12256)));
    assert!(
        r.error
            .as_deref()
            .unwrap()
            .starts_with("TCP header at byte 34"),
        "{r:?}"
    );
    // tshark: 10288 -> 12336, hdr_len 28, len 12308 (IPv6, raw link type).
    let p = &packets("beep-oobr.pcap")[1];
    let r = PacketRecord::of(p, 0);
    assert_eq!(
        (r.sport, r.dport, r.tcp_hdr_len, r.payload_len),
        (Some(10288), Some(12336), Some(28), Some(12308))
    );
    assert!(r.error.is_some());
    // Fewer than 20 bytes of TCP: nothing to show but the error (tshark: no tcp fields).
    let p = &packets("tcp_header_heapoverflow.pcap")[0];
    assert!(p.tcp.is_none() && p.error.is_some());
}

#[test]
fn an_unknown_option_is_passed_over_so_the_window_scale_after_it_counts() {
    // tshark: the SYN-ACK's options are kinds 2,4,8,254,3 and its shift is
    // 7; the client's next ACK (shift 6 from its SYN) has window 65728, factor 64.
    let ps = packets("accecn_handshake.pcap");
    let options = ps[1].options().unwrap();
    assert_eq!((options.wscale, options.error), (Some(7), None));
    let r = PacketRecord::of(&ps[2], 0);
    assert_eq!(
        (r.window_size, r.window_scale_factor),
        (Some(65728), Some(64)),
        "{r:?}"
    );
}

#[test]
fn zero_ip_lengths_take_the_length_from_the_frame_or_the_jumbo_option() {
    // tshark: tcp.len 1976 of a 2030-byte frame whose IPv4 total length is 0.
    let r = PacketRecord::of(&packets("ipv4_tcp_http_xml_tso.pcap")[0], 0);
    assert_eq!(r.payload_len, Some(1976));
    // tshark: ipv6.plen 0, jumbo 80040, tcp.len 80000.
    let r = PacketRecord::of(&packets("bigtcp-ipv6-hbh.pcap")[0], 0);
    assert_eq!(r.payload_len, Some(80000));
}
