//! The streaming timeline of `replay` (and live `capture`): one line per
//! frame, written as it comes, wrapped only when wider than the terminal;
//! TCP analysis explained in words in the row.
//!
//! This is the hot path of `replay`: the row is formatted straight from the
//! typed packet into one reused buffer, without building a record.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::OnceLock;

use super::ascii::Ipv4Text;
use super::text::{prose, visible_width, TextOptions};
use super::{options_text, Paint, Palette, SegmentKind};
use crate::decode::{Flags, IpInfo, Tcp};
use crate::flow::{Analysis, Findings, Packet};
use crate::values::Timestamp;

/// Writes timeline rows one frame at a time.
pub struct RowWriter {
    opts: TextOptions,
    first_ts: Option<Timestamp>,
    line: String,
}

/// The spoken name of every flag byte, made once.
fn spoken(flags: Flags) -> &'static str {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    let names = NAMES.get_or_init(|| (0..=255u8).map(|b| Flags::from_bits(b).spoken()).collect());
    &names[usize::from(flags.bits())]
}

impl RowWriter {
    pub fn new(opts: TextOptions) -> Self {
        Self {
            opts,
            first_ts: None,
            line: String::with_capacity(256),
        }
    }

    /// The options the rows are written with.
    pub fn options(&self) -> &TextOptions {
        &self.opts
    }

    /// One row: number, seconds since the first frame, stream, endpoints,
    /// flags, numbers, and what is notable about the segment.
    pub fn row(&mut self, w: &mut dyn Write, packet: &Packet) -> io::Result<()> {
        let t0 = *self.first_ts.get_or_insert(packet.ts);
        self.line.clear();
        push_lead(&mut self.line, packet.number, packet.ts.nanos_since(t0));
        let lead_width = self.line.len();
        match (&packet.tcp, &packet.ip) {
            (Some(tcp), Some(ip)) => self.push_segment(packet, tcp, ip),
            _ => push_not_tcp(&mut self.line, packet, self.opts.palette),
        }
        self.flush_line(w, lead_width)
    }

    /// `s0 127.0.0.1:5 → 127.0.0.1:6 PSH-ACK seq 1 ack 1 win 512 len 5 "hello"`,
    /// the SYN's options, then the analysis in words.
    fn push_segment(&mut self, packet: &Packet, tcp: &Tcp, ip: &IpInfo) {
        let (pal, line) = (self.opts.palette, &mut self.line);
        let flow = packet.flow.as_ref();
        let flags = tcp.flags;
        let (stream, seq, ack) = flow.map_or((0, tcp.seq, tcp.ack), |f| (f.stream, f.seq, f.ack));
        let mut n = itoa::Buffer::new();
        line.push('s');
        line.push_str(n.format(stream));
        line.push(' ');
        push_endpoint(line, ip.src, tcp.src_port);
        line.push_str(" → ");
        push_endpoint(line, ip.dst, tcp.dst_port);
        line.push(' ');
        // The AE bit, or AccECN's counter in place of two flags: rare, so
        // said on demand; every other segment takes the table's words.
        let own = (packet.ae() || packet.ace().is_some())
            .then(|| packet.spoken_flags())
            .flatten();
        let said = own.as_deref().unwrap_or_else(|| spoken(flags));
        match SegmentKind::of(flags, packet.payload_len).paint() {
            Some(paint) if pal.enabled => line.push_str(&pal.paint(paint, said)),
            _ => line.push_str(said),
        }
        line.push_str(" seq ");
        line.push_str(n.format(seq));
        if flags.contains(Flags::ACK) {
            line.push_str(" ack ");
            line.push_str(n.format(ack));
        }
        if self.opts.raw_seq {
            let _ = write!(line, " (raw {}/{})", tcp.seq, tcp.ack);
        }
        line.push_str(" win ");
        line.push_str(n.format(flow.map_or(u32::from(tcp.window), |f| f.window)));
        if packet.fragmented {
            // tshark's view too: no length, no analysis, numbers raw.
            line.push_str(
                " · first IP fragment of a datagram the capture cut: raw numbers, not analysed",
            );
        } else {
            line.push_str(" len ");
            line.push_str(n.format(packet.payload_len));
        }
        if packet.payload_len > 0 {
            line.push(' ');
            push_preview(line, packet.payload(), 24);
        }
        if flags.contains(Flags::SYN) {
            let o = packet
                .options()
                .map(|o| options_text(&o))
                .unwrap_or_default();
            if !o.is_empty() {
                let _ = write!(line, " [{o}]");
            }
        }
        if let Some(f) = flow.filter(|f| !f.findings.flags.is_empty()) {
            for text in explain(seq, packet.payload_len as u32, ack, &f.findings) {
                line.push_str(" · ");
                line.push_str(&pal.paint(Paint::Warn, &text));
            }
        }
    }

    /// Writes the line, wrapped under its lead only if it is too wide.
    fn flush_line(&mut self, w: &mut dyn Write, lead_width: usize) -> io::Result<()> {
        let width = self.opts.width;
        if self.line.len() <= width || visible_width(&self.line) <= width {
            self.line.push('\n');
            return w.write_all(self.line.as_bytes());
        }
        let (lead, rest) = self.line.split_at(lead_width);
        prose(w, lead, rest, &self.opts)
    }
}

/// The row's lead: the frame number in 6 columns, then seconds since the
/// first frame with six decimals in 10, made from integers (float
/// formatting is slow on this path).
fn push_lead(line: &mut String, number: u64, ns: i128) {
    let mut n = itoa::Buffer::new();
    pad_left(line, n.format(number), 6);
    line.push(' ');
    let abs = ns.unsigned_abs();
    let mut secs = itoa::Buffer::new();
    let whole = secs.format(abs / 1_000_000_000);
    // Below 10^6: formatted as u32, cheaper than the u128 it came from.
    let micros = ((abs % 1_000_000_000) / 1000) as u32;
    let width = whole.len() + 7 + usize::from(ns < 0);
    for _ in width..10 {
        line.push(' ');
    }
    if ns < 0 {
        line.push('-');
    }
    line.push_str(whole);
    line.push('.');
    let micros = n.format(micros);
    for _ in micros.len()..6 {
        line.push('0');
    }
    line.push_str(micros);
    line.push(' ');
}

/// What a frame that is not a TCP segment shows: its size and why.
fn push_not_tcp(line: &mut String, packet: &Packet, pal: Palette) {
    let (why, paint) = match (&packet.error, &packet.note) {
        (Some(e), _) => (e.to_string(), Paint::Bad),
        (None, note) => (note.clone().unwrap_or_default(), Paint::Dim),
    };
    let l = &packet.layout;
    let bytes = l.link + l.ip + l.tcp + packet.payload().len();
    let _ = write!(line, "{bytes} bytes · {}", pal.paint(paint, &why));
}

/// Appends `s` right-aligned in `width` columns.
fn pad_left(line: &mut String, s: &str, width: usize) {
    for _ in s.len()..width {
        line.push(' ');
    }
    line.push_str(s);
}

/// Appends `address:port` (IPv4 by hand: `Display` is a tenth of a row's time).
fn push_endpoint(line: &mut String, addr: std::net::IpAddr, port: u16) {
    let mut n = itoa::Buffer::new();
    match addr {
        std::net::IpAddr::V4(v4) => line.push_str(Ipv4Text::new(v4).as_str()),
        std::net::IpAddr::V6(v6) => {
            let _ = write!(line, "[{v6}]");
        }
    }
    line.push(':');
    line.push_str(n.format(port));
}

/// Appends a payload as a short quoted string, control bytes escaped; a
/// payload that is mostly not text (more than a quarter of the bytes
/// shown) as hex instead, `0c 22`, as many bytes as fit in `max_chars`.
pub fn push_preview(s: &mut String, payload: &[u8], max_chars: usize) {
    let shown = &payload[..payload.len().min(max_chars)];
    let text = |b: &&u8| matches!(**b, 0x20..=0x7e | b'\n' | b'\r' | b'\t');
    if shown.iter().filter(|b| !text(b)).count() * 4 > shown.len() {
        return push_hex_preview(s, payload, max_chars);
    }
    push_quoted_preview(s, payload, max_chars);
}

/// `0c 22 …`: each byte as two hex digits, spaced, cut to `max_chars`.
fn push_hex_preview(s: &mut String, payload: &[u8], max_chars: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Each byte takes 3 columns ("0c "): a quarter fewer bytes than would
    // fit, so a narrow details column wraps it less.
    let fits = max_chars / 4;
    let shown = &payload[..payload.len().min(fits.max(1))];
    for (i, &b) in shown.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    if shown.len() < payload.len() {
        s.push_str(" …");
    }
}

fn push_quoted_preview(s: &mut String, payload: &[u8], max_chars: usize) {
    /// What each byte shows as: itself, `\n`-style, or `\xNN`, and how
    /// many of the 4 bytes that is. One lookup a byte instead of a match
    /// and up to three pushes (the preview was a sixth of a row's time).
    static SHOWN: [([u8; 4], u8); 256] = {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut t = [([0u8; 4], 0u8); 256];
        let mut b = 0;
        while b < 256 {
            t[b] = match b as u8 {
                b'\n' => (*b"\\n\0\0", 2),
                b'\r' => (*b"\\r\0\0", 2),
                b'\t' => (*b"\\t\0\0", 2),
                b'"' => (*b"\\\"\0\0", 2),
                b'\\' => (*b"\\\\\0\0", 2),
                0x20..=0x7e => ([b as u8, 0, 0, 0], 1),
                _ => ([b'\\', b'x', HEX[b >> 4], HEX[b & 15]], 4),
            };
            b += 1;
        }
        t
    };
    s.push('"');
    let shown = &payload[..number_kept(payload, payload.len().min(max_chars))];
    let mut text = [0u8; 4 * 64];
    for chunk in shown.chunks(64) {
        let mut len = 0;
        for &b in chunk {
            let (bytes, n) = &SHOWN[usize::from(b)];
            text[len..len + 4].copy_from_slice(bytes);
            len += usize::from(*n);
        }
        s.push_str(std::str::from_utf8(&text[..len]).expect("escapes are ASCII"));
    }
    if shown.len() < payload.len() {
        s.push('…');
    }
    s.push('"');
}

/// Where a preview of `payload` cut at `end` ends: before a number the
/// cut would split (`line 000256` shown as `line 00025…` reads as 25),
/// unless the number is all there is to show.
fn number_kept(payload: &[u8], end: usize) -> usize {
    let splits = end < payload.len() && payload[end].is_ascii_digit();
    let start = payload[..end]
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    if splits && start > 0 {
        start
    } else {
        end
    }
}

/// The analysis flags' names for a table cell (`zero window · window
/// full`), tshark's names in words; a keep-alive sent into a zero window
/// is named for what it is there, Linux's window probe.
pub fn analysis_words(f: &Findings) -> Vec<String> {
    f.flags
        .names()
        .into_iter()
        .map(|name| match name {
            "keep_alive" if f.peer_window_zero => "window probe (keep alive)".to_string(),
            "window_update" if f.reopens => "window update (reopens)".to_string(),
            other => other.replace('_', " "),
        })
        .collect()
}

/// Each analysis flag of a segment (relative `seq`, payload `len`, relative
/// `ack`) in plain words.
pub fn explain(seq: u32, len: u32, ack: u32, f: &Findings) -> Vec<String> {
    let a = f.flags;
    let mut out = Vec::new();
    let bytes = if len > 0 {
        format!("bytes {}-{}", seq, seq.wrapping_add(len - 1))
    } else {
        "this segment".to_string()
    };
    let first = |what: &str| match f.original_frame {
        Some(n) => format!("{what}: {bytes} were first sent in frame {n}"),
        None => format!("{what}: {bytes} were sent before"),
    };
    if a.contains(Analysis::FAST_RETRANSMISSION) {
        out.push(first("fast retransmission after duplicate ACKs"));
    } else if a.contains(Analysis::SPURIOUS_RETRANSMISSION) {
        out.push(format!(
            "spurious retransmission: {bytes} had already been acknowledged"
        ));
    } else if a.contains(Analysis::RETRANSMISSION) {
        out.push(first("retransmission"));
    }
    if a.contains(Analysis::OUT_OF_ORDER) {
        out.push(format!("out of order: {bytes} arrived after later bytes"));
    }
    if a.contains(Analysis::LOST_SEGMENT) {
        out.push("previous segment not captured: bytes before this one are missing".into());
    }
    if a.contains(Analysis::ACK_LOST_SEGMENT) {
        out.push("ACKed unseen segment: acknowledges bytes the capture never showed".into());
    }
    if a.contains(Analysis::DUPLICATE_ACK) {
        out.push(format!(
            "duplicate ACK #{} of frame {}: the receiver still waits for byte {ack}",
            f.dup_ack_num, f.dup_ack_frame
        ));
    }
    if a.contains(Analysis::ZERO_WINDOW) {
        out.push("zero window: the receiver's buffer is full, the sender must wait".into());
    }
    if a.contains(Analysis::WINDOW_FULL) {
        out.push("window full: this fills all the receiver advertised".into());
    }
    if a.contains(Analysis::WINDOW_UPDATE) && f.reopens {
        out.push("window update: the window opens again, the sender may go on".into());
    } else if a.contains(Analysis::WINDOW_UPDATE) {
        out.push("window update: the receiver announces more room".into());
    }
    if a.contains(Analysis::KEEP_ALIVE) && f.peer_window_zero {
        out.push(
            "window probe (tshark: keep-alive): the receiver's window is 0; the sender's \
             persist timer sends no data, seq one below the next byte, so that the receiver \
             answers with its window"
                .into(),
        );
    } else if a.contains(Analysis::KEEP_ALIVE) {
        out.push("keep-alive: probes whether the peer is still there".into());
    }
    if a.contains(Analysis::KEEP_ALIVE_ACK) {
        out.push("keep-alive ACK: the peer is still there".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{analysis_words, explain, push_preview, push_quoted_preview};
    use crate::flow::{Analysis, Findings};

    #[test]
    fn a_preview_is_not_cut_inside_a_number() {
        let mut s = String::new();
        push_quoted_preview(&mut s, b"line 000256: the slow reader", 10);
        assert_eq!(s, "\"line …\"");
        s.clear();
        push_quoted_preview(&mut s, b"123456789012", 5);
        assert_eq!(s, "\"12345…\"");
    }

    #[test]
    fn a_keep_alive_into_a_zero_window_is_named_a_window_probe() {
        let probe = Findings {
            flags: Analysis::KEEP_ALIVE,
            peer_window_zero: true,
            ..Findings::default()
        };
        assert_eq!(analysis_words(&probe), ["window probe (keep alive)"]);
        assert!(explain(4096, 0, 1, &probe)[0].starts_with("window probe (tshark: keep-alive)"));
        let alive = Findings {
            peer_window_zero: false,
            ..probe
        };
        assert_eq!(analysis_words(&alive), ["keep alive"]);
        assert!(explain(4096, 0, 1, &alive)[0].starts_with("keep-alive: probes whether"));
        let update = Findings {
            flags: Analysis::WINDOW_UPDATE,
            reopens: true,
            ..Findings::default()
        };
        assert_eq!(analysis_words(&update), ["window update (reopens)"]);
        assert!(explain(1, 0, 4097, &update)[0].contains("the window opens again"));
        let full = Findings {
            flags: Analysis::ZERO_WINDOW,
            ..Findings::default()
        };
        assert_eq!(analysis_words(&full), ["zero window"]);
    }

    /// The preview as it was written before its lookup table.
    fn by_match(payload: &[u8], max_chars: usize) -> String {
        let mut s = String::from("\"");
        for (i, &b) in payload.iter().enumerate() {
            if i == max_chars {
                s.push('…');
                break;
            }
            match b {
                b'\n' => s.push_str("\\n"),
                b'\r' => s.push_str("\\r"),
                b'\t' => s.push_str("\\t"),
                b'"' => s.push_str("\\\""),
                b'\\' => s.push_str("\\\\"),
                0x20..=0x7e => s.push(b as char),
                _ => s.push_str(&format!("\\x{b:02x}")),
            }
        }
        s.push('"');
        s
    }

    #[test]
    fn preview_shows_every_byte_as_before() {
        let all: Vec<u8> = (0..=255).collect();
        for max_chars in [0, 1, 24, 63, 64, 65, 200, 256, 300] {
            for payload in [&all[..], &all[..0], &all[250..], b"hello \"you\"\r\n"] {
                let mut s = String::from("kept");
                push_quoted_preview(&mut s, payload, max_chars);
                assert_eq!(
                    s[4..],
                    by_match(payload, max_chars),
                    "{payload:?} {max_chars}"
                );
            }
        }
    }

    #[test]
    fn a_payload_mostly_not_text_previews_as_hex() {
        let preview = |p: &[u8], max: usize| {
            let mut s = String::new();
            push_preview(&mut s, p, max);
            s
        };
        assert_eq!(preview(&[0x0c, 0x22], 24), "0c 22");
        assert_eq!(preview(b"hello\x00", 24), "\"hello\\x00\"");
        assert_eq!(preview(b"line\r\n", 24), "\"line\\r\\n\"");
        let all: Vec<u8> = (0..=255).collect();
        let hex = preview(&all, 24);
        assert_eq!(hex, "00 01 02 03 04 05 …");
        assert!(hex.chars().count() <= 24 + 2, "{hex}");
        assert_eq!(preview(&[0xff], 1), "ff");
    }
}
