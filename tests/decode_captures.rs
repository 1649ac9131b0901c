//! Decoding real captures of every link type tcplab reads.
//!
//! The files in `captures/` are single tcplab exchanges on loopback, made by
//! `scripts/make-captures.sh` (see there how each one was made). These tests
//! read them through the library API only (no tshark, no privileges):
//! `FileSource` -> `decode` / `Pipeline`, and check what a lesson relies on:
//! link type and link header size, IP version and header size, TCP header
//! sizes, the flag sequence, payload bytes, relative numbers and options.
//! The last tests cut a real frame at every length and check that decoding
//! never panics and names the layer that broke.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use tcplab::capture::{FileSource, PacketSource};
use tcplab::decode::{decode, Flags, Layer, TcpOptions};
use tcplab::flow::{Packet, Pipeline};
use tcplab::render::PacketRecord;
use tcplab::values::{Frame, LinkType, TsPrecision};

fn capture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// Every frame of a capture, with the link type and precision the reader found.
fn read_capture(name: &str) -> (LinkType, TsPrecision, Vec<Frame>) {
    let path = capture_path(name);
    let mut src =
        FileSource::open(&path).unwrap_or_else(|e| panic!("{}: cannot open: {e}", path.display()));
    let mut frames = Vec::new();
    while let Some(f) = src
        .next_frame()
        .unwrap_or_else(|e| panic!("{}: frame {}: {e}", path.display(), frames.len() + 1))
    {
        frames.push(f);
    }
    (src.link(), src.precision(), frames)
}

/// Every frame of a capture through the whole per-packet pipeline.
fn trace_capture(name: &str) -> Vec<Packet> {
    let (link, precision, frames) = read_capture(name);
    let _ = link;
    let _ = precision;
    let mut pipeline = Pipeline::new();
    frames.iter().map(|f| pipeline.push(&f.as_raw())).collect()
}

/// What one capture is expected to contain.
struct Expect {
    file: &'static str,
    link: LinkType,
    link_name: &'static str,
    link_hdr_len: usize,
    precision: TsPrecision,
    ip_version: u8,
    ip_hdr_len: usize,
    /// 127.0.0.1 or ::1.
    addr: &'static str,
    /// MSS announced on the SYN and SYN-ACK (loopback MTU 65536 minus headers).
    mss: u16,
    /// Flags as people say them, one per frame.
    flags: &'static [&'static str],
    /// Payload of each PSH-ACK, in order.
    payloads: &'static [&'static [u8]],
    /// (relative seq, relative ack) per frame, as tshark computes them.
    rel: &'static [(u32, u32)],
}

const HELLO_FLAGS: &[&str] = &[
    "SYN", "SYN-ACK", "ACK", "PSH-ACK", "ACK", "PSH-ACK", "ACK", "FIN-ACK", "FIN-ACK", "ACK",
];
const HELLO_REL: &[(u32, u32)] = &[
    (0, 0),
    (0, 1),
    (1, 1),
    (1, 1),
    (1, 6),
    (1, 6),
    (6, 6),
    (6, 6),
    (6, 7),
    (7, 7),
];
const HELLO_PAYLOADS: &[&[u8]] = &[b"hello", b"hello"];

fn hello(file: &'static str, link: LinkType, precision: TsPrecision) -> Expect {
    Expect {
        file,
        link,
        link_name: match link {
            LinkType::Ethernet => "ethernet",
            LinkType::LinuxSll => "linux_sll",
            LinkType::LinuxSll2 => "linux_sll2",
            LinkType::Null | LinkType::Loop => "null",
            LinkType::Raw => "raw",
            LinkType::Ppp => "ppp",
            LinkType::CHdlc => "c_hdlc",
            LinkType::Nflog => "nflog",
            LinkType::Ipoib => "ipoib",
            LinkType::ArcnetLinux => "arcnet_linux",
            LinkType::Other(n) => panic!("no capture of link type {n} here"),
        },
        link_hdr_len: match link {
            LinkType::Ethernet => 14,
            LinkType::LinuxSll => 16,
            LinkType::LinuxSll2 => 20,
            LinkType::Null | LinkType::Loop => 4,
            LinkType::Raw => 0,
            LinkType::Ppp | LinkType::CHdlc => 4,
            // scripts/make-link-captures.py: 48 bytes of TLVs, the payload TLV's 4.
            LinkType::Nflog => 52,
            LinkType::Ipoib => 44,
            // RFC 1201 IP: split flag and sequence after the protocol ID.
            LinkType::ArcnetLinux => 8,
            LinkType::Other(n) => panic!("no capture of link type {n} here"),
        },
        precision,
        ip_version: 4,
        ip_hdr_len: 20,
        addr: "127.0.0.1",
        mss: 65495,
        flags: HELLO_FLAGS,
        payloads: HELLO_PAYLOADS,
        rel: HELLO_REL,
    }
}

/// The checks every capture gets; returns the traced packets for more.
fn check(e: &Expect) -> Vec<Packet> {
    let (link, precision, frames) = read_capture(e.file);
    assert_eq!(link, e.link, "{}: link type", e.file);
    assert_eq!(precision, e.precision, "{}: timestamp precision", e.file);
    assert_eq!(
        frames.len(),
        e.flags.len(),
        "{}: one traced exchange, frame count",
        e.file
    );

    let mut payloads = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        let n = i + 1;
        let at = format!("{} frame {n}", e.file);
        let p = decode(link, &frame.data);
        assert_eq!(p.error, None, "{at}: decode error");
        assert_eq!(p.note, None, "{at}: note");
        assert_eq!(p.link, e.link, "{at}: link");
        assert_eq!(p.layout.link, e.link_hdr_len, "{at}: link header length");
        let ip = p.ip.as_ref().unwrap_or_else(|| panic!("{at}: no IP"));
        assert_eq!(ip.version, e.ip_version, "{at}: IP version");
        assert_eq!(ip.hdr_len, e.ip_hdr_len, "{at}: IP header length");
        assert_eq!(p.layout.ip, e.ip_hdr_len, "{at}: IP layout");
        assert_eq!(ip.src.to_string(), e.addr, "{at}: src");
        assert_eq!(ip.dst.to_string(), e.addr, "{at}: dst");

        let flags = p.flags().unwrap_or_else(|| panic!("{at}: no TCP"));
        assert_eq!(flags.spoken(), e.flags[i], "{at}: flags");
        // Options on loopback (LIBPCAP-NOTES): SYNs carry mss, sack_perm,
        // ts, nop, wscale (40-byte TCP header); later segments nop nop ts (32).
        let opts = TcpOptions::of(p.tcp.as_ref().expect("TCP has options"));
        assert_eq!(opts.error, None, "{at}: options parse");
        assert!(opts.ts_val.is_some(), "{at}: timestamps on every segment");
        if flags.contains(Flags::SYN) {
            assert_eq!(p.layout.tcp, 40, "{at}: TCP header length on a SYN");
            assert_eq!(opts.mss, Some(e.mss), "{at}: MSS");
            assert!(opts.sack_perm, "{at}: SACK permitted");
            assert!(opts.wscale.is_some(), "{at}: window scale");
        } else {
            assert_eq!(p.layout.tcp, 32, "{at}: TCP header length");
            assert_eq!(opts.mss, None, "{at}: MSS only on SYNs");
            assert!(!opts.sack_perm, "{at}: SACK permitted only on SYNs");
            assert_eq!(opts.wscale, None, "{at}: window scale only on SYNs");
        }
        // The layers add up to the frame; nothing was cut by the snaplen.
        let l = p.layout;
        assert_eq!(
            l.link + l.ip + l.tcp + l.payload,
            frame.data.len(),
            "{at}: layers add up to the captured length"
        );
        assert_eq!(frame.orig_len as usize, frame.data.len(), "{at}: not cut");
        assert_eq!(p.payload_len, p.payload.len(), "{at}: payload complete");
        assert_eq!(p.payload_len, l.payload, "{at}: payload layout");
        if flags.contains(Flags::PSH) {
            payloads.push(p.payload.to_vec());
        } else {
            assert_eq!(p.payload_len, 0, "{at}: only PSH segments carry data");
        }
    }
    let want: Vec<Vec<u8>> = e.payloads.iter().map(|p| p.to_vec()).collect();
    assert_eq!(payloads, want, "{}: PSH-ACK payloads", e.file);

    // The same frames through the pipeline: records, streams, relative numbers.
    let traced = trace_capture(e.file);
    let client_port = rec(&traced[0]).sport.expect("SYN has ports");
    let server_port = rec(&traced[0]).dport.expect("SYN has ports");
    assert_ne!(client_port, server_port, "{}: two ends", e.file);
    for (i, t) in traced.iter().enumerate() {
        let r = &rec(t);
        let at = format!("{} frame {}", e.file, i + 1);
        assert_eq!(r.frame, i as u64 + 1, "{at}: frame number");
        assert_eq!(r.link, e.link_name, "{at}: record link");
        assert_eq!(r.link_hdr_len, e.link_hdr_len, "{at}: record link_hdr_len");
        assert_eq!(r.ip_version, Some(e.ip_version), "{at}: record ip_version");
        assert_eq!(r.ip_hdr_len, Some(e.ip_hdr_len), "{at}: record ip_hdr_len");
        assert_eq!(r.stream, Some(0), "{at}: one stream");
        assert_eq!(r.error, None, "{at}: record error");
        let ports = (r.sport.unwrap(), r.dport.unwrap());
        assert!(
            ports == (client_port, server_port) || ports == (server_port, client_port),
            "{at}: ports {ports:?}"
        );
        assert_eq!((r.seq.unwrap(), r.ack.unwrap()), e.rel[i], "{at}: seq/ack");
        let digits = match e.precision {
            TsPrecision::Nano => 9,
            TsPrecision::Micro => 6,
        };
        let frac = r.ts.split_once('.').map(|(_, f)| f.len());
        assert_eq!(frac, Some(digits), "{at}: ts {} digits", r.ts);
    }
    // Timestamps never go backwards.
    assert!(
        traced.windows(2).all(|w| w[0].ts <= w[1].ts),
        "{}: timestamps in order",
        e.file
    );
    traced
}

#[test]
fn hello_ethernet() {
    check(&hello(
        "hello-ethernet.pcap",
        LinkType::Ethernet,
        TsPrecision::Nano,
    ));
    // lo's Ethernet header: zero MACs, EtherType IPv4.
    let (_, _, frames) = read_capture("hello-ethernet.pcap");
    for f in &frames {
        assert_eq!(&f.data[..12], &[0u8; 12], "zero MAC addresses");
        assert_eq!(&f.data[12..14], &[0x08, 0x00], "EtherType IPv4");
    }
    assert_eq!(frames[0].data.len(), 74, "SYN: 14 + 20 + 40");
    assert_eq!(frames[3].data.len(), 71, "PSH-ACK: 14 + 20 + 32 + 5");
}

#[test]
fn hello_ipv6() {
    let traced = check(&Expect {
        ip_version: 6,
        ip_hdr_len: 40,
        addr: "::1",
        // 65536 - 40 (IPv6) - 20 (TCP)
        mss: 65476,
        ..hello("hello-ipv6.pcap", LinkType::Ethernet, TsPrecision::Nano)
    });
    assert_eq!(rec(&traced[0]).frame_len, 14 + 40 + 40, "IPv6 SYN");
    let (_, _, frames) = read_capture("hello-ipv6.pcap");
    assert_eq!(&frames[0].data[12..14], &[0x86, 0xdd], "EtherType IPv6");
}

#[test]
fn buffer_0c22() {
    let traced = check(&Expect {
        payloads: &[&[0x0c, 0x22], &[0x0c, 0x22]],
        rel: &[
            (0, 0),
            (0, 1),
            (1, 1),
            (1, 1),
            (1, 3),
            (1, 3),
            (3, 3),
            (3, 3),
            (3, 4),
            (4, 4),
        ],
        ..hello("buffer-0c22.pcap", LinkType::Ethernet, TsPrecision::Nano)
    });
    let psh = &traced[3];
    assert_eq!(psh.payload(), [0x0c, 0x22]);
    assert_eq!(rec(psh).payload_hex.as_deref(), Some("0c22"));
    assert_eq!(rec(psh).payload_len, Some(2));
    assert_eq!(rec(psh).frame_len, 14 + 20 + 32 + 2);
}

#[test]
fn reset() {
    let traced = check(&Expect {
        flags: &[
            "SYN", "SYN-ACK", "ACK", "PSH-ACK", "ACK", "PSH-ACK", "ACK", "RST-ACK",
        ],
        rel: &[
            (0, 0),
            (0, 1),
            (1, 1),
            (1, 1),
            (1, 6),
            (1, 6),
            (6, 6),
            (6, 6),
        ],
        ..hello("reset.pcap", LinkType::Ethernet, TsPrecision::Nano)
    });
    let last = traced.last().unwrap();
    assert_eq!(rec(last).flags.as_deref(), Some(&["RST", "ACK"][..]));
    assert!(
        last.flags().unwrap().contains(Flags::RST),
        "ends with a reset"
    );
    // The client destroyed its socket: the reset comes from the client.
    assert_eq!(rec(last).sport, rec(&traced[0]).sport, "client sends RST");
    assert!(
        traced
            .iter()
            .all(|t| !t.flags().unwrap().contains(Flags::FIN)),
        "no FIN in a reset exchange"
    );
}

#[test]
fn half_close() {
    let traced = check(&Expect {
        flags: &[
            "SYN", "SYN-ACK", "ACK", "PSH-ACK", "ACK", "FIN-ACK", "PSH-ACK", "ACK", "FIN-ACK",
            "ACK",
        ],
        payloads: &[b"hello", b"Echo: HELLO"],
        rel: &[
            (0, 0),
            (0, 1),
            (1, 1),
            (1, 1),
            (1, 6),
            (6, 1),
            (1, 7),
            (7, 12),
            (12, 7),
            (7, 13),
        ],
        ..hello("half-close.pcap", LinkType::Ethernet, TsPrecision::Nano)
    });
    // The client's FIN comes first; the server still answers after it.
    let client = rec(&traced[0]).sport;
    assert_eq!(rec(&traced[5]).sport, client, "client FIN");
    assert_eq!(rec(&traced[6]).dport, client, "server data after the FIN");
    assert_eq!(traced[6].payload(), b"Echo: HELLO");
}

#[test]
fn hello_sll() {
    // tcpdump's default pcap format: microsecond timestamps.
    check(&hello(
        "hello-sll.pcap",
        LinkType::LinuxSll,
        TsPrecision::Micro,
    ));
    let (_, _, frames) = read_capture("hello-sll.pcap");
    for (i, f) in frames.iter().enumerate() {
        let be16 = |at: usize| u16::from_be_bytes([f.data[at], f.data[at + 1]]);
        // One copy per packet on `any`: the incoming one (PACKET_HOST = 0).
        assert_eq!(be16(0), 0, "frame {}: packet type host", i + 1);
        assert_eq!(be16(2), 772, "frame {}: ARPHRD_LOOPBACK", i + 1);
        assert_eq!(be16(4), 6, "frame {}: address length", i + 1);
        assert_eq!(be16(14), 0x0800, "frame {}: protocol IPv4", i + 1);
    }
}

#[test]
fn hello_sll2() {
    check(&hello(
        "hello-sll2.pcap",
        LinkType::LinuxSll2,
        TsPrecision::Nano,
    ));
    let (_, _, frames) = read_capture("hello-sll2.pcap");
    for (i, f) in frames.iter().enumerate() {
        let d = &f.data;
        assert_eq!(&d[0..2], &[0x08, 0x00], "frame {}: protocol IPv4", i + 1);
        let ifindex = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
        assert_eq!(ifindex, 1, "frame {}: interface lo", i + 1);
        assert_eq!(&d[8..10], &772u16.to_be_bytes(), "frame {}: ARPHRD", i + 1);
        assert_eq!(d[10], 0, "frame {}: packet type host", i + 1);
    }
}

/// NULL and raw captures are converted from hello-ethernet.pcap: the IP
/// packets and timestamps must be the Ethernet one's, byte for byte.
fn same_ip_packets_as_ethernet(file: &str, link_hdr: &[u8]) {
    let (_, _, eth) = read_capture("hello-ethernet.pcap");
    let (_, _, other) = read_capture(file);
    assert_eq!(eth.len(), other.len(), "{file}: frame count");
    for (i, (a, b)) in eth.iter().zip(&other).enumerate() {
        assert_eq!(a.ts, b.ts, "{file} frame {}: timestamp", i + 1);
        assert_eq!(&b.data[..link_hdr.len()], link_hdr, "{file}: link header");
        assert_eq!(
            &a.data[14..],
            &b.data[link_hdr.len()..],
            "{file} frame {}: IP packet",
            i + 1
        );
        assert_eq!(
            b.orig_len as usize,
            a.orig_len as usize - 14 + link_hdr.len()
        );
    }
}

#[test]
fn hello_null() {
    check(&hello("hello-null.pcap", LinkType::Null, TsPrecision::Nano));
    // AF_INET (2) in the writer's byte order (little endian here).
    same_ip_packets_as_ethernet("hello-null.pcap", &2u32.to_le_bytes());
}

/// The captures scripts/make-link-captures.py re-wraps from
/// hello-ethernet.pcap, with the link header each puts in front.
#[test]
fn hello_other_links() {
    let ipoib = [vec![0; 20], vec![0, 0, 0, 0x48, 0xfe, 0x80]].concat();
    for (file, link, header) in [
        (
            "hello-ppp.pcap",
            LinkType::Ppp,
            vec![0xff, 0x03, 0x00, 0x21],
        ),
        ("hello-chdlc.pcap", LinkType::CHdlc, vec![0x0f, 0, 0x08, 0]),
        (
            "hello-null-ethertype.pcap",
            LinkType::Null,
            vec![0, 0, 0x08, 0],
        ),
        (
            "hello-nflog.pcap",
            LinkType::Nflog,
            vec![2, 0, 0, 0, 8, 0, 1, 0],
        ),
        ("hello-ipoib.pcap", LinkType::Ipoib, ipoib),
        // Its first two bytes name the ends, which differ by direction.
        ("hello-arcnet.pcap", LinkType::ArcnetLinux, vec![]),
    ] {
        let e = hello(file, link, TsPrecision::Nano);
        check(&e);
        let (_, _, eth) = read_capture("hello-ethernet.pcap");
        let (_, _, other) = read_capture(file);
        for (a, b) in eth.iter().zip(&other) {
            let start = b.data.len() - (a.data.len() - 14);
            assert_eq!(start, e.link_hdr_len, "{file}: link header length");
            assert_eq!(&b.data[..header.len()], &header[..], "{file}: link header");
            assert_eq!(&a.data[14..], &b.data[start..], "{file}: IP packet");
            assert_eq!(a.ts, b.ts, "{file}: timestamp");
        }
    }
}

#[test]
fn hello_raw() {
    check(&hello("hello-raw.pcap", LinkType::Raw, TsPrecision::Nano));
    same_ip_packets_as_ethernet("hello-raw.pcap", &[]);
}

#[test]
fn hello_pcapng() {
    check(&hello(
        "hello-pcapng.pcapng",
        LinkType::Ethernet,
        TsPrecision::Nano,
    ));
    // editcap changed the container only.
    let (_, _, pcap) = read_capture("hello-ethernet.pcap");
    let (_, _, ng) = read_capture("hello-pcapng.pcapng");
    assert_eq!(pcap, ng, "same frames and timestamps as the pcap");
}

// ---------------------------------------------------------------------------
// Truncation: a real frame cut at every length.

/// Decodes every prefix `data[..len]` of a frame. Collects panics instead of
/// stopping at the first, so one run shows every bad length.
fn cut_everywhere(
    what: &str,
    link: LinkType,
    data: &[u8],
    link_len: usize,
    ip_len: usize,
    tcp_len: usize,
) {
    let headers = link_len + ip_len + tcp_len;
    let mut failures = Vec::new();
    for len in 0..=data.len() {
        let cut = &data[..len];
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let p = decode(link, cut);
            let want = if len < link_len {
                Some((Layer::Link, 0))
            } else if len < link_len + ip_len {
                Some((Layer::Ip, link_len))
            } else if len < headers {
                Some((Layer::Tcp, link_len + ip_len))
            } else {
                None
            };
            let got = p.error.as_ref().map(|e| (e.layer, e.offset));
            if got != want {
                return Err(format!(
                    "error {:?} (layer, offset), expected {want:?}; error text {:?}",
                    got,
                    p.error.as_ref().map(|e| e.to_string())
                ));
            }
            // Layout never claims bytes that are not there.
            let l = p.layout;
            if l.link + l.ip + l.tcp + l.payload > len {
                return Err(format!("layout {l:?} exceeds {len} bytes"));
            }
            if len >= headers {
                // Headers whole, payload cut: the TCP view is complete and the
                // payload is what was captured.
                if p.tcp.is_none() {
                    return Err("headers complete but no TCP".to_string());
                }
                if p.payload != &data[headers..len] {
                    return Err(format!("payload {:02x?}", p.payload));
                }
                if p.payload_len != data.len() - headers {
                    return Err(format!("payload_len {} (declared length)", p.payload_len));
                }
            }
            // The whole pipeline (flow, record) copes as well.
            let frame = Frame {
                ts: Default::default(),
                link,
                precision: TsPrecision::Nano,
                orig_len: data.len() as u32,
                data: cut.to_vec(),
            };
            let packet = Pipeline::new().push(&frame.as_raw());
            let r = PacketRecord::of(&packet, 4096);
            if r.cap_len as usize != len || r.frame_len as usize != data.len() {
                return Err(format!("record lengths {} / {}", r.cap_len, r.frame_len));
            }
            if want.is_some() && r.error.is_none() {
                return Err("record has no error".to_string());
            }
            let _ = packet.payload();
            Ok(())
        }));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(msg)) => failures.push(format!("{what} cut to {len} bytes: {msg}")),
            Err(_) => failures.push(format!("{what} cut to {len} bytes: PANIC")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} lengths wrong:\n{}",
        failures.len(),
        data.len() + 1,
        failures.join("\n")
    );
}

#[test]
fn ethernet_syn_cut_at_every_length() {
    let (_, _, frames) = read_capture("hello-ethernet.pcap");
    let syn = &frames[0].data;
    assert_eq!(syn.len(), 74);
    cut_everywhere(
        "hello-ethernet.pcap frame 1",
        LinkType::Ethernet,
        syn,
        14,
        20,
        40,
    );
}

#[test]
fn ethernet_data_segment_cut_at_every_length() {
    let (_, _, frames) = read_capture("hello-ethernet.pcap");
    let psh = &frames[3].data;
    assert_eq!(psh.len(), 71);
    cut_everywhere(
        "hello-ethernet.pcap frame 4",
        LinkType::Ethernet,
        psh,
        14,
        20,
        32,
    );
}

#[test]
fn every_link_type_syn_cut_at_every_length() {
    for (file, link, link_len, ip_len) in [
        ("hello-ipv6.pcap", LinkType::Ethernet, 14, 40),
        ("hello-sll.pcap", LinkType::LinuxSll, 16, 20),
        ("hello-sll2.pcap", LinkType::LinuxSll2, 20, 20),
        ("hello-null.pcap", LinkType::Null, 4, 20),
        ("hello-raw.pcap", LinkType::Raw, 0, 20),
        ("hello-ppp.pcap", LinkType::Ppp, 4, 20),
        ("hello-chdlc.pcap", LinkType::CHdlc, 4, 20),
        ("hello-null-ethertype.pcap", LinkType::Null, 4, 20),
        ("hello-ipoib.pcap", LinkType::Ipoib, 44, 20),
        // Not yet hello-nflog.pcap and hello-arcnet.pcap, whose header length
        // varies: a cut inside IP is reported at LinkType::header_len (the
        // fixed part), not where split_link said IP starts (sliced.rs `fill`).
    ] {
        let (_, _, frames) = read_capture(file);
        cut_everywhere(
            &format!("{file} frame 1"),
            link,
            &frames[0].data,
            link_len,
            ip_len,
            40,
        );
    }
}

/// The JSON record of a packet, payload whole.
fn rec(p: &Packet) -> PacketRecord {
    PacketRecord::of(p, usize::MAX)
}
