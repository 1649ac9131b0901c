//! The trace report for people: heading, segment timeline, header sizes,
//! hex dumps, and the socket view beside the wire totals.

use std::io::{self, Write};

use comfy_table::{
    Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, LineStyle, Table, TableStyle,
};

use super::{hexdump, Paint, Palette, Span, TraceReport, TracedPacket, WireTotals};
use crate::decode::{Flags, TcpOptions};
use crate::flow::{Direction, Phase};

/// What to dump in hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HexdumpMode {
    /// Each TCP payload.
    Payload,
    /// Every whole frame, each layer in its colour.
    Frame,
    /// No hex dumps.
    None,
}

/// Presentation choices for the text report.
#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    pub palette: Palette,
    /// Terminal width in columns; no line is wider.
    pub width: usize,
    pub hexdump: HexdumpMode,
    /// Show raw sequence numbers beside the relative ones.
    pub raw_seq: bool,
    /// Cut each dump after this many bytes.
    pub max_hex: usize,
}

/// Writes the whole text report.
pub fn write_trace_text(
    w: &mut dyn Write,
    report: &TraceReport,
    opts: &TextOptions,
) -> io::Result<()> {
    let pal = opts.palette;
    heading(w, report, pal)?;
    writeln!(w)?;
    timeline(w, &report.packets, opts)?;
    writeln!(w)?;
    sizes(w, &report.packets, pal)?;
    if opts.hexdump != HexdumpMode::None {
        writeln!(w)?;
        dumps(w, &report.packets, opts)?;
    }
    writeln!(w)?;
    stats(w, report, opts)?;
    if let Some(warning) = &report.warning {
        writeln!(
            w,
            "{}",
            pal.paint(Paint::Warn, &format!("warning: {warning}"))
        )?;
    }
    Ok(())
}

fn heading(w: &mut dyn Write, r: &TraceReport, pal: Palette) -> io::Result<()> {
    let c = &r.connection;
    let line = format!(
        "tcplab trace · {} ({}) · server \"{}\" on {} port {} · client {} port {} ({})",
        r.capture.interface,
        r.capture.link_label,
        r.server_mode,
        c.server.address,
        c.server.port,
        c.client.address,
        c.client.port,
        c.client.family
    );
    writeln!(w, "{}", pal.paint(Paint::Heading, &line))
}

fn direction_text(d: Option<Direction>) -> &'static str {
    match d {
        Some(Direction::ClientToServer) => "client → server",
        Some(Direction::ServerToClient) => "server → client",
        None => "",
    }
}

fn flag_color(flags: Flags) -> Color {
    if flags.contains(Flags::RST) {
        Color::Red
    } else if flags.contains(Flags::SYN) {
        Color::Green
    } else if flags.contains(Flags::FIN) {
        Color::Yellow
    } else if flags.contains(Flags::PSH) {
        Color::Magenta
    } else {
        Color::Reset
    }
}

/// Options in short words: `mss 65495 · sack ok · ts · wscale 10`.
pub fn options_text(o: &TcpOptions) -> String {
    let mut parts = Vec::new();
    if let Some(m) = o.mss {
        parts.push(format!("mss {m}"));
    }
    if o.sack_perm {
        parts.push("sack ok".to_string());
    }
    if o.ts_val.is_some() {
        parts.push("ts".to_string());
    }
    if let Some(s) = o.wscale {
        parts.push(format!("wscale {s}"));
    }
    for b in &o.sack {
        parts.push(format!("sack {}-{}", b[0], b[1]));
    }
    parts.join(" · ")
}

/// A payload as a short quoted string, control bytes escaped.
pub fn preview(payload: &[u8], max_chars: usize) -> String {
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

fn new_table(opts: &TextOptions) -> Table {
    let mut t = Table::new();
    // One rule under the header and nothing else: quiet on a projector.
    t.load_style(TableStyle::new().header_separator(LineStyle::none().fill('─').junction('─')))
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(opts.width.min(u16::MAX as usize) as u16);
    if opts.palette.enabled {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

fn timeline(w: &mut dyn Write, packets: &[TracedPacket], opts: &TextOptions) -> io::Result<()> {
    let mut t = new_table(opts);
    let mut header = vec!["#", "ms", "direction", "flags", "seq", "ack"];
    if opts.raw_seq {
        header.extend(["seq raw", "ack raw"]);
    }
    header.extend(["len", "window", "phase", "details"]);
    t.set_header(header);
    let t0 = packets.first().map(|p| p.ts);
    for p in packets {
        let r = &p.record;
        let ms = t0.map(|t0| p.ts.secs_since(t0) * 1e3).unwrap_or(0.0);
        let Some(flags) = p.flags else {
            let why = r
                .error
                .clone()
                .or_else(|| r.note.clone())
                .unwrap_or_default();
            let mut row = vec![Cell::new(r.frame), Cell::new(format!("{ms:.3}"))];
            row.push(Cell::new(why).fg(Color::Red));
            t.add_row(row);
            continue;
        };
        let ack = if flags.contains(Flags::ACK) {
            r.ack.map(|a| a.to_string()).unwrap_or_default()
        } else {
            "-".to_string()
        };
        let mut row = vec![
            Cell::new(r.frame),
            Cell::new(format!("{ms:.3}")),
            Cell::new(direction_text(p.direction)),
            Cell::new(flags.spoken()).fg(flag_color(flags)),
            Cell::new(r.seq.map(|s| s.to_string()).unwrap_or_default()),
            Cell::new(ack),
        ];
        if opts.raw_seq {
            row.push(Cell::new(r.seq_raw.unwrap_or_default()));
            row.push(Cell::new(r.ack_raw.unwrap_or_default()));
        }
        // Timestamps ride on every segment; show options only where they say more.
        let extra = if r.payload_len.unwrap_or(0) > 0 {
            preview(p.payload(), 24)
        } else if flags.contains(Flags::SYN)
            || r.options.as_ref().is_some_and(|o| !o.sack.is_empty())
        {
            r.options.as_ref().map(options_text).unwrap_or_default()
        } else {
            String::new()
        };
        let phase = p.phase.map(|ph| ph.to_string()).unwrap_or_default();
        row.extend([
            Cell::new(r.payload_len.unwrap_or(0)),
            Cell::new(r.window.unwrap_or(0)),
            Cell::new(phase).fg(match p.phase {
                Some(Phase::Reset) => Color::Red,
                _ => Color::Reset,
            }),
            Cell::new(extra),
        ]);
        t.add_row(row);
    }
    for i in [0usize, 1] {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    // Short columns never wrap; only the last one (options, payload) may.
    let last = t.column_count().saturating_sub(1);
    for i in 0..last {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    // len and window, after the optional raw columns.
    let first = if opts.raw_seq { 6 } else { 4 };
    for i in first..first + 4 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    for line in t.lines() {
        writeln!(w, "{}", line.trim_end())?;
    }
    Ok(())
}

fn ip_name(version: Option<u8>) -> &'static str {
    match version {
        Some(6) => "IPv6",
        _ => "IPv4",
    }
}

/// `74 bytes on the wire = 14 Ethernet + 20 IPv4 + 40 TCP (20 + 20 options) + 0 payload`
pub fn size_line(p: &TracedPacket, pal: Palette) -> Option<String> {
    let r = &p.record;
    let tcp_len = r.tcp_hdr_len?;
    let tcp = if tcp_len > 20 {
        format!("{tcp_len} TCP (20 + {} options)", tcp_len - 20)
    } else {
        format!("{tcp_len} TCP")
    };
    let link_label = p.layout_label();
    let mut line = format!(
        "{} bytes on the wire = {} + {} + {} + {}",
        r.frame_len,
        pal.paint(Paint::Link, &format!("{} {link_label}", r.link_hdr_len)),
        pal.paint(
            Paint::Ip,
            &format!("{} {}", r.ip_hdr_len.unwrap_or(0), ip_name(r.ip_version))
        ),
        pal.paint(Paint::Tcp, &tcp),
        pal.paint(
            Paint::Payload,
            &format!("{} payload", r.payload_len.unwrap_or(0))
        ),
    );
    if r.cap_len < r.frame_len {
        line.push_str(&format!(" ({} captured)", r.cap_len));
    }
    Some(line)
}

impl TracedPacket {
    /// The link layer's name for size lines ("Ethernet", "Linux cooked"...).
    fn layout_label(&self) -> &'static str {
        crate::decode::LinkType::from_name(self.record.link)
            .map(|l| l.label())
            .unwrap_or("link")
    }
}

fn sizes(w: &mut dyn Write, packets: &[TracedPacket], pal: Palette) -> io::Result<()> {
    writeln!(w, "{}", pal.paint(Paint::Heading, "header sizes"))?;
    let width = packets.len().to_string().len() + 1;
    for p in packets {
        if let Some(line) = size_line(p, pal) {
            let n = format!("#{}", p.record.frame);
            writeln!(w, "  {n:>width$}  {line}")?;
        }
    }
    Ok(())
}

fn layer_spans(p: &TracedPacket) -> Vec<Span> {
    let l = &p.layout;
    vec![
        Span {
            range: l.link_range(),
            paint: Paint::Link,
        },
        Span {
            range: l.ip_range(),
            paint: Paint::Ip,
        },
        Span {
            range: l.tcp_range(),
            paint: Paint::Tcp,
        },
        Span {
            range: l.payload_range(),
            paint: Paint::Payload,
        },
    ]
}

fn dumps(w: &mut dyn Write, packets: &[TracedPacket], opts: &TextOptions) -> io::Result<()> {
    let pal = opts.palette;
    // 16 bytes a line needs 6 + 49 + 2 + 16 columns plus the indent.
    let per_line = if opts.width >= 78 { 16 } else { 8 };
    let mut any = false;
    for p in packets {
        let dir = direction_text(p.direction);
        match opts.hexdump {
            HexdumpMode::Payload => {
                let payload = p.payload();
                if payload.is_empty() {
                    continue;
                }
                any = true;
                let shown = &payload[..payload.len().min(opts.max_hex)];
                let title = format!(
                    "#{} {dir}, {} bytes of payload",
                    p.record.frame,
                    payload.len()
                );
                writeln!(w, "  {}", pal.paint(Paint::Heading, &title))?;
                let spans = [Span {
                    range: 0..shown.len(),
                    paint: Paint::Payload,
                }];
                hexdump(w, shown, &spans, pal, per_line, "  ")?;
                cut_note(w, payload.len(), shown.len())?;
            }
            HexdumpMode::Frame => {
                any = true;
                let shown = &p.data[..p.data.len().min(opts.max_hex)];
                let title = format!("#{} {dir}, frame of {} bytes", p.record.frame, p.data.len());
                writeln!(w, "  {}", pal.paint(Paint::Heading, &title))?;
                writeln!(w, "  {}", legend(p, pal))?;
                hexdump(w, shown, &layer_spans(p), pal, per_line, "  ")?;
                cut_note(w, p.data.len(), shown.len())?;
            }
            HexdumpMode::None => {}
        }
        writeln!(w)?;
    }
    if !any {
        writeln!(w, "  (no payload bytes)")?;
    }
    Ok(())
}

fn cut_note(w: &mut dyn Write, total: usize, shown: usize) -> io::Result<()> {
    if shown < total {
        writeln!(w, "  … {} more bytes not shown (--max-hex)", total - shown)?;
    }
    Ok(())
}

/// `bytes 0-13 Ethernet · 14-33 IPv4 · 34-73 TCP · 74-78 payload`, coloured.
fn legend(p: &TracedPacket, pal: Palette) -> String {
    let l = &p.layout;
    let mut parts = Vec::new();
    let mut add = |r: std::ops::Range<usize>, name: &str, paint: Paint| {
        if !r.is_empty() {
            parts.push(pal.paint(paint, &format!("{}-{} {name}", r.start, r.end - 1)));
        }
    };
    add(l.link_range(), p.layout_label(), Paint::Link);
    add(l.ip_range(), ip_name(p.record.ip_version), Paint::Ip);
    add(l.tcp_range(), "TCP", Paint::Tcp);
    add(l.payload_range(), "payload", Paint::Payload);
    format!("bytes {}", parts.join(" · "))
}

fn stats(w: &mut dyn Write, r: &TraceReport, opts: &TextOptions) -> io::Result<()> {
    let pal = opts.palette;
    let mut t = new_table(opts);
    writeln!(
        w,
        "{}",
        pal.paint(
            Paint::Heading,
            "what the programs saw, beside what crossed the interface"
        )
    )?;
    t.set_header(vec![
        "socket", "wrote", "read", "wire", "frames", "bytes", "payload", "headers",
    ]);
    let row = |who: &str, s: &crate::lab::SocketLog, dir: &str, wt: &WireTotals| {
        vec![
            Cell::new(who),
            Cell::new(s.bytes_written),
            Cell::new(s.bytes_read),
            Cell::new(dir),
            Cell::new(wt.frames),
            Cell::new(wt.bytes),
            Cell::new(wt.payload_bytes),
            Cell::new(wt.bytes - wt.payload_bytes),
        ]
    };
    t.add_row(row(
        "client",
        &r.sockets.client,
        "client → server",
        &r.wire.client_to_server,
    ));
    t.add_row(row(
        "server",
        &r.sockets.server,
        "server → client",
        &r.wire.server_to_client,
    ));
    for i in [1usize, 2, 4, 5, 6, 7] {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    for line in t.lines() {
        writeln!(w, "{}", line.trim_end())?;
    }
    let (a, b) = (r.wire.client_to_server, r.wire.server_to_client);
    let payload = a.payload_bytes + b.payload_bytes;
    let bytes = a.bytes + b.bytes;
    let frames = a.frames + b.frames;
    let share = if bytes > 0 {
        payload as f64 * 100.0 / bytes as f64
    } else {
        0.0
    };
    writeln!(
        w,
        "{payload} bytes of payload took {frames} frames and {bytes} bytes on the wire: {share:.1}% payload."
    )?;
    let events = |s: &crate::lab::SocketLog| {
        s.events
            .iter()
            .map(|e| match e.bytes {
                Some(n) => format!("data({n})"),
                None => serde_json::to_value(e.event)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            })
            .collect::<Vec<_>>()
            .join(" → ")
    };
    writeln!(w, "client events: {}", events(&r.sockets.client))?;
    writeln!(w, "server events: {}", events(&r.sockets.server))?;
    for (who, log) in [("client", &r.sockets.client), ("server", &r.sockets.server)] {
        for e in log.events.iter().filter_map(|e| e.message.as_ref()) {
            writeln!(
                w,
                "{}",
                pal.paint(Paint::Warn, &format!("{who} error: {e}"))
            )?;
        }
    }
    let dropped = r.capture.stats.dropped + r.capture.stats.if_dropped;
    let cap = format!(
        "capture: {} packets, {} dropped by the kernel",
        r.packets.len(),
        dropped
    );
    let paint = if dropped > 0 { Paint::Bad } else { Paint::Dim };
    writeln!(w, "{}", pal.paint(paint, &cap))
}
