//! Each link type is named right in the header-size line, from the typed
//! packet's `LinkType` (a name that once travelled as text turned OpenBSD
//! loopback into "BSD loopback" and any unknown link into Ethernet).

use etherparse::PacketBuilder;
use tcplab::flow::Pipeline;
use tcplab::render::{size_line, Palette};
use tcplab::values::{LinkType, RawFrame, Timestamp, TsPrecision};

/// A 5-byte PSH-ACK as raw IPv4.
fn ip_segment() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([127, 0, 0, 1], [127, 0, 0, 1], 64)
        .tcp(40000, 7, 1, 512)
        .ack(1)
        .psh()
        .write(&mut out, b"hello")
        .unwrap();
    out
}

/// The link header of each type in front of an IPv4 packet.
fn link_header(link: LinkType) -> Vec<u8> {
    match link {
        LinkType::Ethernet => [vec![0; 12], vec![0x08, 0x00]].concat(),
        // SLL: packet type, ARPHRD, address length, 8 address bytes, protocol.
        LinkType::LinuxSll => [vec![0, 0, 0, 1, 0, 6], vec![0; 8], vec![0x08, 0x00]].concat(),
        // SLL2: protocol, reserved, ifindex, ARPHRD, packet type, addr len, 8 bytes.
        LinkType::LinuxSll2 => [
            vec![0x08, 0x00, 0, 0],
            vec![0, 0, 0, 1],
            vec![0, 1, 0, 6],
            vec![0; 8],
        ]
        .concat(),
        LinkType::Null => 2u32.to_le_bytes().to_vec(),
        LinkType::Loop => 2u32.to_be_bytes().to_vec(),
        LinkType::Ppp => vec![0xff, 0x03, 0x00, 0x21],
        LinkType::CHdlc => vec![0x0f, 0x00, 0x08, 0x00],
        // NFLOG: family, version, resource id; one 8-byte TLV (hardware
        // protocol, hook); the payload TLV's header (length 4 + 45 bytes).
        LinkType::Nflog => vec![2, 0, 0, 0, 8, 0, 1, 0, 8, 0, 3, 0, 49, 0, 9, 0],
        // IPoIB: 40 address bytes, EtherType, reserved.
        LinkType::Ipoib => [vec![0; 40], vec![0x08, 0x00, 0, 0]].concat(),
        // ARCnet: IDs, offset, RFC 1201 IP, split flag, sequence.
        LinkType::ArcnetLinux => vec![1, 2, 0, 0, 0xd4, 0, 0, 1],
        LinkType::Raw | LinkType::Other(_) => Vec::new(),
    }
}

#[test]
fn every_link_type_is_named_in_the_size_line() {
    let cases = [
        (LinkType::Ethernet, "14 Ethernet"),
        (LinkType::LinuxSll, "16 Linux cooked +"),
        (LinkType::LinuxSll2, "20 Linux cooked v2"),
        (LinkType::Null, "4 BSD loopback"),
        (LinkType::Loop, "4 OpenBSD loopback"),
        (LinkType::Raw, "0 raw IP"),
        (LinkType::Ppp, "4 PPP"),
        (LinkType::CHdlc, "4 Cisco HDLC"),
        (LinkType::Nflog, "16 NFLOG"),
        (LinkType::Ipoib, "44 IP over InfiniBand"),
        (LinkType::ArcnetLinux, "8 Linux ARCnet"),
    ];
    for (link, want) in cases {
        let data = [link_header(link), ip_segment()].concat();
        let frame = RawFrame {
            ts: Timestamp::default(),
            orig_len: data.len() as u32,
            data: &data,
            link,
            precision: TsPrecision::Micro,
        };
        let packet = Pipeline::new().push(&frame);
        assert_eq!(packet.link, link);
        let line = size_line(&packet, Palette::PLAIN).unwrap_or_else(|| panic!("{link:?}: no TCP"));
        assert!(line.contains(want), "{link:?}: {line}");
        assert!(line.ends_with("5 payload"), "{link:?}: {line}");
    }
}

#[test]
fn an_unknown_link_type_is_not_ethernet() {
    let data = ip_segment();
    let frame = RawFrame {
        ts: Timestamp::default(),
        orig_len: data.len() as u32,
        data: &data,
        link: LinkType::of_dlt(147),
        precision: TsPrecision::Micro,
    };
    let packet = Pipeline::new().push(&frame);
    assert_eq!(packet.link, LinkType::Other(147));
    assert!(packet.tcp.is_none());
    assert_eq!(packet.note.as_deref(), Some("link type 147 is not decoded"));
}
