//! `replay --follow` across a 2^32 sequence wrap, on a capture made here:
//! the client's ISN sits just below 2^32, one segment is lost, and two held
//! segments lie on both sides of the wrap. Keyed by raw sequence numbers,
//! the reassembly once ended the gap at the wrong segment and dropped the
//! other; by offset from the ISN it delivers both after one 2-byte gap.

mod common;

use common::tcplab;
use etherparse::PacketBuilder;
use tcplab::capture::PcapWriter;
use tcplab::values::{LinkType, Timestamp};

const CLIENT: [u8; 4] = [127, 0, 0, 1];
const ISN: u32 = 0xffff_fffa;

/// One client → server (or back) segment as an Ethernet frame.
fn segment(to_server: bool, seq: u32, ack: u32, syn: bool, payload: &[u8]) -> Vec<u8> {
    let (sport, dport) = if to_server { (40000, 7) } else { (7, 40000) };
    let b = PacketBuilder::ethernet2([0; 6], [0; 6])
        .ipv4(CLIENT, CLIENT, 64)
        .tcp(sport, dport, seq, 512);
    let b = match (syn, ack) {
        (true, 0) => b.syn(),
        (true, _) => b.syn().ack(ack),
        (false, _) => b.ack(ack),
    };
    let mut frame = Vec::new();
    b.write(&mut frame, payload).unwrap();
    frame
}

fn write_capture(path: &std::path::Path) {
    let server_isn = 1000;
    let data = |off: u32, bytes: &[u8]| {
        segment(
            true,
            ISN.wrapping_add(1 + off),
            server_isn + 1,
            false,
            bytes,
        )
    };
    let frames = [
        segment(true, ISN, 0, true, b""),
        segment(false, server_isn, ISN.wrapping_add(1), true, b""),
        data(0, b""),
        data(0, b"ab"),
        // "cd" (offset 2) is lost; "ef" ends at 2^32 - 1, "gh" starts at 0.
        data(4, b"ef"),
        data(6, b"gh"),
    ];
    let file = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::new(file, LinkType::Ethernet, 65535).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let ts = Timestamp {
            sec: 1_700_000_000,
            nsec: i as u32 * 1000,
        };
        w.write_record(ts, f.len() as u32, f).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn follow_across_the_sequence_wrap_keeps_every_held_byte() {
    let dir = std::env::temp_dir().join(format!("tcplab-wrap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wrap.pcap");
    write_capture(&path);
    let out = tcplab()
        .args(["replay", "--follow", "--color", "never"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ab, ef, gh) = (text.find("ab"), text.find("ef"), text.find("gh"));
    assert!(ab.is_some() && ef.is_some() && gh.is_some(), "{text}");
    assert!(ab < ef && ef < gh, "in sequence order: {text}");
    assert_eq!(text.matches("2 bytes missing").count(), 1, "{text}");
    assert!(!text.contains("4 bytes missing"), "{text}");
}
