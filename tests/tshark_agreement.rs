//! tcplab's packet records against tshark's, field by field, frame by frame.
//!
//! For every capture in `captures/`, `tests/fixtures/tshark/<capture>.csv`
//! holds what tshark 4.0 printed for each frame (made by
//! `scripts/tshark-fixtures.sh`; tshark is not needed to run this test). The
//! test runs the capture through tcplab's pipeline (`FileSource` ->
//! `flow::Pipeline::push`) and compares every field of every `PacketRecord` with
//! tshark's value. A mismatch is printed as `frame N field: ours X, tshark Y`
//! and fails the test; every mismatch of a capture is listed, not only the
//! first.
//!
//! Field correspondence (SPEC.md, "Packet records"):
//!
//! | record            | tshark                                              |
//! |-------------------|-----------------------------------------------------|
//! | frame             | frame.number                                        |
//! | ts                | frame.time_epoch (exact text)                       |
//! | frame_len/cap_len | frame.len / frame.cap_len                           |
//! | link              | frame.encap_type (1 ethernet, 25 linux_sll, 210 linux_sll2, 15 null, 7 raw, 4 ppp, 28 c_hdlc, 141 nflog, 180 ipoib, 9 arcnet_linux) |
//! | link_hdr_len      | cap_len - ip.len (IPv4), cap_len - 40 - ipv6.plen (IPv6) |
//! | ip_version        | ipv6.version, else ip.version                       |
//! | ip_hdr_len        | ip.hdr_len; IPv6: 40 when ipv6.nxt is 6 (TCP, no extension headers) |
//! | src/dst           | ip.src/ip.dst or ipv6.src/ipv6.dst                  |
//! | sport/dport       | tcp.srcport / tcp.dstport                           |
//! | stream            | tcp.stream                                          |
//! | flags             | tcp.flags (hex) as names, order FIN SYN RST PSH ACK URG ECE CWR |
//! | seq/ack           | tcp.seq / tcp.ack (relative)                        |
//! | seq_raw/ack_raw   | tcp.seq_raw / tcp.ack_raw                           |
//! | tcp_hdr_len       | tcp.hdr_len                                         |
//! | payload_len       | tcp.len                                             |
//! | window            | tcp.window_size_value                               |
//! | window_size       | tcp.window_size (scaled)                            |
//! | window_scale_factor | tcp.window_size_scalefactor (-1, -2 or the multiplier; absent on SYNs) |
//! | options.mss       | tcp.options.mss_val                                 |
//! | options.wscale    | tcp.options.wscale.shift                            |
//! | options.sack_perm | tcp.options.sack_perm present                       |
//! | options.sack      | tcp.options.sack.count (number of blocks; absent: 0) |
//! | options.ts_val/ts_ecr | tcp.options.timestamp.tsval / .tsecr            |
//! | payload_hex       | tcp.payload (absent: empty)                         |
//! | analysis          | the tcp.analysis.<name> fields present, in SPEC order   |
//! | dup_ack_num       | tcp.analysis.duplicate_ack_num                           |
//! | acks_frame        | tcp.analysis.acks_frame                             |
//! | ack_rtt           | tcp.analysis.ack_rtt (exact text, 9 decimals)       |
//! | bytes_in_flight   | tcp.analysis.bytes_in_flight                        |
//! | initial_rtt       | tcp.analysis.initial_rtt (exact text, 9 decimals)   |
//! | error             | must be absent: tshark decoded every frame          |

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use tcplab::capture::{FileSource, PacketSource};
use tcplab::flow::Pipeline;
use tcplab::render::PacketRecord;

use common::{flag_names, opt, parse_csv_line};

/// Disagreements with tshark found when this test was written, reported to
/// the decoder's owner (not fixed here: src/ belongs to another change).
/// They are NOT skipped: each still fails its test. This list only labels
/// them "KNOWN" in the failure message, so a new disagreement stands out.
/// Entries: (capture, record field, explanation).
/// Intentional differences, each written down in docs/tshark-differences.md.
/// None at present: `ts` is compared as an instant (see `epoch_9_digits`).
const KNOWN_DISAGREEMENTS: &[(&str, &str, &str)] = &[];

/// Our `ts` keeps the file's precision (SPEC.md: 6 digits for a microsecond
/// file); tshark 4.0's frame.time_epoch always prints 9. Padding ours with
/// zeros compares the instant without hiding a wrong digit.
fn epoch_9_digits(ts: &str) -> String {
    match ts.split_once('.') {
        Some((s, f)) if f.len() < 9 => format!("{s}.{f:0<9}"),
        _ => ts.to_string(),
    }
}

fn is_known(capture: &str, field: &str) -> bool {
    KNOWN_DISAGREEMENTS
        .iter()
        .any(|(c, f, _)| *c == capture && *f == field)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------
// tshark's `-E header=y -E separator=, -E quote=d` output: `common::parse_csv_line`.

/// One frame as tshark saw it: field name -> value (absent fields missing).
struct TsharkRow {
    fields: HashMap<String, String>,
}

impl TsharkRow {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
    /// The value as text, empty when tshark did not print the field.
    fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_string()
    }
    fn num(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|v| v.parse().ok())
    }
}

/// The rows of `tests/fixtures/tshark/<dir>/<capture>.csv`. The fixtures of
/// `captures/encap/` hold every occurrence of a field, outermost first:
/// the inner packet's, compared here, is the last.
fn read_fixture(dir: &str, capture: &str) -> Vec<TsharkRow> {
    let path = root()
        .join("tests/fixtures/tshark")
        .join(dir)
        .join(format!("{capture}.csv"));
    let every_occurrence = !dir.is_empty();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/tshark-fixtures.sh)", path.display()));
    let mut lines = text.lines();
    let header = lines.next().expect("header line");
    let names: Vec<String> = parse_csv_line(header)
        .unwrap()
        .into_iter()
        .map(|n| n.expect("header names"))
        .collect();
    lines
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, line)| {
            let values = parse_csv_line(line).unwrap_or_else(|e| panic!("{capture}: {e}"));
            assert_eq!(
                values.len(),
                names.len(),
                "{capture}.csv row {}: {} values for {} columns",
                i + 2,
                values.len(),
                names.len()
            );
            let fields = names
                .iter()
                .cloned()
                .zip(values)
                .filter_map(|(n, v)| v.map(|v| (n, v)))
                .map(|(n, v)| match v.rsplit_once(',') {
                    Some((_, last)) if every_occurrence && n != "frame.protocols" => {
                        (n, last.to_string())
                    }
                    _ => (n, v),
                })
                .collect();
            TsharkRow { fields }
        })
        .collect()
}

#[test]
fn csv_reader_reads_tsharks_quoting() {
    assert_eq!(
        parse_csv_line(r#""1","a,b",,"say ""hi""","""#).unwrap(),
        vec![
            Some("1".into()),
            Some("a,b".into()),
            None,
            Some(r#"say "hi""#.into()),
            Some("".into()),
        ]
    );
    assert_eq!(
        parse_csv_line(r#""x","#).unwrap(),
        vec![Some("x".into()), None]
    );
    assert!(parse_csv_line(r#""open"#).is_err());
}

// ---------------------------------------------------------------------------
// Our side.

fn our_records(dir: &str, capture_file: &str) -> Vec<PacketRecord> {
    let path = root().join("captures").join(dir).join(capture_file);
    let mut src = FileSource::open(&path).unwrap_or_else(|e| panic!("{capture_file}: {e}"));
    let mut pipeline = Pipeline::new();
    let mut records = Vec::new();
    while let Some(frame) = src
        .next_frame()
        .unwrap_or_else(|e| panic!("{capture_file}: {e}"))
    {
        let p = pipeline.push(&frame.as_raw());
        records.push(PacketRecord::of(&p, usize::MAX));
    }
    records
}

fn encap_name(encap: Option<&str>) -> String {
    match encap {
        Some("1") => "ethernet".into(),
        Some("25") => "linux_sll".into(),
        Some("210") => "linux_sll2".into(),
        Some("15") => "null".into(),
        Some("7") => "raw".into(),
        Some("4") => "ppp".into(),
        Some("28") => "c_hdlc".into(),
        Some("141") => "nflog".into(),
        Some("180") => "ipoib".into(),
        Some("9") => "arcnet_linux".into(),
        Some(other) => format!("wtap encap {other}"),
        None => String::new(),
    }
}

/// SPEC.md's analysis names in its order; each is a tshark field
/// `tcp.analysis.<name>`.
const ANALYSIS: [&str; 12] = [
    "retransmission",
    "fast_retransmission",
    "spurious_retransmission",
    "out_of_order",
    "lost_segment",
    "ack_lost_segment",
    "duplicate_ack",
    "zero_window",
    "window_full",
    "window_update",
    "keep_alive",
    "keep_alive_ack",
];

/// (field, ours, tshark's) for every record field.
fn pairs(r: &PacketRecord, t: &TsharkRow) -> Vec<(&'static str, String, String)> {
    // The inner packet's family: the last IP layer tshark names (an IPv4
    // packet in an IPv6 tunnel has an ipv6.version too).
    let v6 = match t
        .get("frame.protocols")
        .map(|p| p.split(':').rfind(|l| *l == "ip" || *l == "ipv6"))
    {
        Some(Some(last)) => last == "ipv6",
        _ => t.get("ipv6.version").is_some(),
    };
    let (ip_src, ip_dst) = if v6 {
        ("ipv6.src", "ipv6.dst")
    } else {
        ("ip.src", "ip.dst")
    };
    let cap_len = t.num("frame.cap_len");
    // Whole frames: captured length minus the IP length tshark read. Frames
    // cut by the snaplen: the encapsulation's fixed header (plus VLAN tags).
    let whole = cap_len.is_some() && cap_len == t.num("frame.len");
    let link_hdr_len = if !whole {
        let fixed = match t.get("frame.encap_type") {
            Some("1") => Some(14),
            Some("25") => Some(16),
            Some("210") => Some(20),
            Some("15") => Some(4),
            Some("7") => Some(0),
            // The usual PPP header (ff 03 and a 2-byte protocol), Cisco
            // HDLC, IPoIB. NFLOG's and ARCnet's vary: no fixed answer.
            Some("4") | Some("28") => Some(4),
            Some("180") => Some(44),
            _ => None,
        };
        let vlans = t
            .get("frame.protocols")
            .map_or(0, |p| p.matches("vlan").count() as i64);
        fixed.map(|f: i64| (f + 4 * vlans).to_string())
    } else if v6 {
        cap_len
            .zip(t.num("ipv6.plen"))
            .map(|(c, p)| (c - 40 - p).to_string())
    } else {
        cap_len
            .zip(t.num("ip.len"))
            .map(|(c, l)| (c - l - trailer(t)).to_string())
    };
    let ip_version = if v6 {
        t.text("ipv6.version")
    } else {
        t.text("ip.version")
    };
    let ip_hdr_len = if v6 {
        match t.get("ipv6.nxt") {
            Some("6") => "40".to_string(),
            // A fragment header (8 bytes) before the data.
            Some("44") => "48".to_string(),
            other => format!("40 + extension headers (nxt {other:?})"),
        }
    } else {
        t.text("ip.hdr_len")
    };
    let o = r.options.clone().unwrap_or_default();
    vec![
        ("frame", r.frame.to_string(), t.text("frame.number")),
        ("ts", epoch_9_digits(&r.ts), t.text("frame.time_epoch")),
        ("frame_len", r.frame_len.to_string(), t.text("frame.len")),
        ("cap_len", r.cap_len.to_string(), t.text("frame.cap_len")),
        (
            "link",
            r.link.to_string(),
            encap_name(t.get("frame.encap_type")),
        ),
        (
            "link_hdr_len",
            r.link_hdr_len.to_string(),
            link_hdr_len.unwrap_or_default(),
        ),
        ("ip_version", opt(r.ip_version), ip_version),
        ("ip_hdr_len", opt(r.ip_hdr_len), ip_hdr_len),
        ("src", opt(r.src.clone()), t.text(ip_src)),
        ("dst", opt(r.dst.clone()), t.text(ip_dst)),
        ("sport", opt(r.sport), t.text("tcp.srcport")),
        ("dport", opt(r.dport), t.text("tcp.dstport")),
        ("stream", opt(r.stream), t.text("tcp.stream")),
        (
            "flags",
            r.flags.as_ref().map(|f| f.join(" ")).unwrap_or_default(),
            t.get("tcp.flags").map(flag_names).unwrap_or_default(),
        ),
        ("seq", opt(r.seq), t.text("tcp.seq")),
        ("ack", opt(r.ack), t.text("tcp.ack")),
        ("seq_raw", opt(r.seq_raw), t.text("tcp.seq_raw")),
        ("ack_raw", opt(r.ack_raw), t.text("tcp.ack_raw")),
        ("tcp_hdr_len", opt(r.tcp_hdr_len), t.text("tcp.hdr_len")),
        ("payload_len", opt(r.payload_len), t.text("tcp.len")),
        ("window", opt(r.window), t.text("tcp.window_size_value")),
        ("window_size", opt(r.window_size), t.text("tcp.window_size")),
        (
            "window_scale_factor",
            opt(r.window_scale_factor),
            t.text("tcp.window_size_scalefactor"),
        ),
        ("options.mss", opt(o.mss), t.text("tcp.options.mss_val")),
        (
            "options.wscale",
            opt(o.wscale),
            t.text("tcp.options.wscale.shift"),
        ),
        (
            "options.sack_perm",
            o.sack_perm.to_string(),
            t.get("tcp.options.sack_perm").is_some().to_string(),
        ),
        (
            "options.sack",
            o.sack.len().to_string(),
            t.get("tcp.options.sack.count").unwrap_or("0").to_string(),
        ),
        (
            "options.ts_val",
            opt(o.ts_val),
            t.text("tcp.options.timestamp.tsval"),
        ),
        (
            "options.ts_ecr",
            opt(o.ts_ecr),
            t.text("tcp.options.timestamp.tsecr"),
        ),
        (
            "payload_hex",
            r.payload_hex.clone().unwrap_or_default(),
            t.text("tcp.payload"),
        ),
        (
            "analysis",
            r.analysis.clone().unwrap_or_default().join(" "),
            ANALYSIS
                .iter()
                .filter(|name| t.get(&format!("tcp.analysis.{name}")).is_some())
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        (
            "dup_ack_num",
            opt(r.dup_ack_num),
            t.text("tcp.analysis.duplicate_ack_num"),
        ),
        (
            "acks_frame",
            opt(r.acks_frame),
            t.text("tcp.analysis.acks_frame"),
        ),
        // Seconds as text: ours print 9 decimals from whole nanoseconds,
        // as tshark does, so the comparison is exact.
        ("ack_rtt", opt(r.ack_rtt), t.text("tcp.analysis.ack_rtt")),
        (
            "bytes_in_flight",
            opt(r.bytes_in_flight),
            t.text("tcp.analysis.bytes_in_flight"),
        ),
        (
            "initial_rtt",
            opt(r.initial_rtt),
            t.text("tcp.analysis.initial_rtt"),
        ),
        ("encap", our_encap(r), their_encap(t)),
        // tshark decoded every frame of these captures down to TCP, or (a
        // fragment held for the rest of its datagram) to IP: then a note
        // must say why there is no TCP.
        ("error", opt(r.error.clone()), String::new()),
        (
            "note",
            r.note.is_some().to_string(),
            t.get("tcp.srcport").is_none().to_string(),
        ),
    ]
}

/// Bytes after the IP packet that tshark reads as a trailer: FabricPath
/// frames end in a 4-byte FCS tshark 4.0 always takes (captures/encap/README.md).
fn trailer(t: &TsharkRow) -> i64 {
    let fabricpath = t
        .get("frame.protocols")
        .is_some_and(|p| p.split(':').any(|l| l == "cfp"));
    if fabricpath {
        4
    } else {
        0
    }
}

/// The record's `encap` as Wireshark's protocol names, `:`-separated, an
/// MPLS label stack once (tshark lists `mpls` once for the whole stack).
/// Without `encap`, the link header alone: "link".
fn our_encap(r: &PacketRecord) -> String {
    let Some(layers) = &r.encap else {
        return "link".to_string();
    };
    let mut names: Vec<&str> = layers.iter().map(|l| l.layer).collect();
    names.dedup_by(|a, b| *a == "mpls" && *b == "mpls");
    names.join(":")
}

/// tshark's `frame.protocols` before the inner IP header (its last `ip` or
/// `ipv6`), `ethertype` left out (it is the field before, not a header);
/// "link" when only the link header comes before it.
fn their_encap(t: &TsharkRow) -> String {
    let protocols: Vec<&str> = t
        .get("frame.protocols")
        .unwrap_or("")
        .split(':')
        .filter(|p| *p != "ethertype")
        .collect();
    let inner = protocols.iter().rposition(|p| *p == "ip" || *p == "ipv6");
    match inner.map(|i| &protocols[..i]) {
        Some([_]) | None => "link".to_string(),
        Some(outer) => outer.join(":"),
    }
}

/// Compares one capture; panics with every mismatch listed.
fn agree(capture_file: &str) {
    agree_in("", capture_file)
}

/// Compares `captures/<dir>/<capture_file>` with its fixture.
fn agree_in(dir: &str, capture_file: &str) {
    let capture = capture_file
        .rsplit_once('.')
        .map_or(capture_file, |(stem, _)| stem);
    let ours = our_records(dir, capture_file);
    let theirs = read_fixture(dir, capture);
    let mut mismatches = Vec::new();
    let mut known = 0;
    if ours.len() != theirs.len() {
        mismatches.push(format!(
            "{capture}: {} frames, tshark {}",
            ours.len(),
            theirs.len()
        ));
    }
    let mut compared = 0;
    for (r, t) in ours.iter().zip(&theirs) {
        for (field, a, b) in pairs(r, t) {
            compared += 1;
            if a == b {
                continue;
            }
            let label = if is_known(capture, field) {
                known += 1;
                "KNOWN"
            } else {
                "NEW"
            };
            mismatches.push(format!(
                "{capture} frame {} {field}: ours {a:?}, tshark {b:?}  [{label}]",
                r.frame
            ));
        }
    }
    assert!(compared > 0, "{capture}: nothing compared");
    eprintln!(
        "{capture}: {} frames, {compared} values compared, {} disagree",
        ours.len(),
        mismatches.len()
    );
    let reasons: Vec<String> = KNOWN_DISAGREEMENTS
        .iter()
        .filter(|(c, _, _)| known > 0 && *c == capture)
        .map(|(_, f, why)| format!("KNOWN {f}: {why}"))
        .collect();
    assert!(
        mismatches.is_empty(),
        "{capture}: {} of {compared} values disagree with tshark ({known} known, \
         {} new):\n{}\n{}",
        mismatches.len(),
        mismatches.len() - known,
        mismatches.join("\n"),
        reasons.join("\n")
    );
}

#[test]
fn every_capture_has_a_fixture() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("captures")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some((stem, ext)) = name.rsplit_once('.') else {
            continue;
        };
        if !matches!(ext, "pcap" | "pcapng") {
            continue;
        }
        let fixture = root().join(format!("tests/fixtures/tshark/{stem}.csv"));
        if !fixture.exists() {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "captures without a tshark fixture (run scripts/tshark-fixtures.sh): {missing:?}"
    );
}

#[test]
fn hello_ethernet() {
    agree("hello-ethernet.pcap");
}

#[test]
fn hello_ipv6() {
    agree("hello-ipv6.pcap");
}

#[test]
fn buffer_0c22() {
    agree("buffer-0c22.pcap");
}

#[test]
fn reset() {
    agree("reset.pcap");
}

#[test]
fn half_close() {
    agree("half-close.pcap");
}

/// A microsecond file: `ts` has 6 digits (see `epoch_9_digits`).
#[test]
fn hello_sll() {
    agree("hello-sll.pcap");
}

#[test]
fn hello_sll2() {
    agree("hello-sll2.pcap");
}

#[test]
fn hello_null() {
    agree("hello-null.pcap");
}

#[test]
fn hello_raw() {
    agree("hello-raw.pcap");
}

#[test]
fn hello_pcapng() {
    agree("hello-pcapng.pcapng");
}

/// libpcap refuses this pcapng (two link types); the raw interface repeats
/// every packet, so retransmissions and duplicate ACKs are flagged.
#[test]
fn mixed_links() {
    agree("mixed-links.pcapng");
}

/// Real kernel TCP through a lossy, reordering forwarder between two
/// network namespaces (scripts/make-lossy-capture.sh): retransmissions,
/// fast retransmissions, duplicate ACKs, out-of-order segments, SACK.
#[test]
fn lossy_bulk() {
    agree("lossy-bulk.pcap");
}

/// A slow reader (scripts/make-zero-window-capture.sh): the server's
/// window falls to 0, Linux's persist timer probes it with zero-length
/// segments one below the next seq (tshark: keep-alives; the answer is a
/// zero window, not a keep-alive ACK), a window update opens it again.
#[test]
fn zero_window() {
    agree("zero-window.pcap");
}

/// A connect() to a closed port: SYN, then RST-ACK (tshark shows the RST's
/// raw seq 0 as relative 1).
#[test]
fn refused() {
    agree("refused.pcap");
}

/// Three streams interleaved, then a fourth reusing the first one's 4-tuple.
#[test]
fn interleaved() {
    agree("interleaved.pcap");
}

/// Every capture of `captures/encap/` (VLAN, QinQ, MPLS, PPPoE, GRE, VXLAN,
/// Geneve, IP in IP, 6in4, fragments) against its fixture in
/// `tests/fixtures/tshark/encap/`: the inner TCP's fields and the headers
/// before it.
#[test]
fn every_encapsulation() {
    let mut files: Vec<String> = std::fs::read_dir(root().join("captures/encap"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".pcap") || n.ends_with(".pcapng"))
        .collect();
    files.sort();
    assert!(files.len() >= 24, "captures/encap holds {files:?}");
    let failed: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let result = std::panic::catch_unwind(|| agree_in("encap", f));
            match result {
                Ok(()) => None,
                Err(e) => Some(
                    e.downcast_ref::<String>()
                        .cloned()
                        .unwrap_or_else(|| format!("{f}: failed")),
                ),
            }
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// PPP (LINKTYPE 9): ff 03 00 21 before each IPv4 packet of hello-ethernet.
#[test]
fn hello_ppp() {
    agree("hello-ppp.pcap");
}

/// Cisco HDLC (LINKTYPE 104): address 0x0f, control 0, EtherType 0x0800.
#[test]
fn hello_chdlc() {
    agree("hello-chdlc.pcap");
}

/// DLT_NULL holding an EtherType (00 00 08 00), as old Linux libpcap
/// wrote loopback: tshark reads a value above 1500 as an EtherType.
#[test]
fn hello_null_ethertype() {
    agree("hello-null-ethertype.pcap");
}

/// NFLOG (LINKTYPE 239): 48 bytes of TLVs before the payload TLV's IPv4.
#[test]
fn hello_nflog() {
    agree("hello-nflog.pcap");
}

/// IP over InfiniBand (LINKTYPE 242): a 44-byte header.
#[test]
fn hello_ipoib() {
    agree("hello-ipoib.pcap");
}

/// Linux ARCnet (LINKTYPE 129), RFC 1201 IP: an 8-byte header.
#[test]
fn hello_arcnet() {
    agree("hello-arcnet.pcap");
}
