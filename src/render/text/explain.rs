//! `--explain`: every header field of a frame, one line each, as
//! Wireshark's packet-details pane lists them, then the frame's hex dump
//! with a marker line under each row showing where each field lies.
//!
//! ```text
//!   IPv4 · 20 bytes (14-33)
//!     14     45     version 4 · header length 5 × 4 = 20 bytes
//!     16-17  00 39  total length 57 = 20 IP + 32 TCP + 5 payload
//! ```

use std::io::{self, Write};
use std::ops::Range;

use super::dumps::{bytes_per_line, layout_spans};
use super::fit::{visible_width, wrap};
use super::timeline::direction_text;
use super::TextOptions;
use crate::decode::Field;
use crate::flow::Packet;
use crate::render::{hexdump_at, Paint, Palette};

/// One text line: the bytes of one field (or of several on the same
/// bytes, such as IPv4's version and header length) and what they say.
struct Line {
    range: Range<usize>,
    layer: &'static str,
    text: String,
    /// In the reassembled TCP segment, not in the frame's bytes.
    reassembled: bool,
}

/// The lines of a frame's fields: details left to their parent, fields
/// on the same bytes joined.
fn lines(fields: &[Field]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for f in fields.iter().filter(|f| !f.detail) {
        let range = f.offset..f.offset + f.len;
        let layer = if f.abbrev == "tcp.payload" {
            "payload"
        } else {
            f.layer
        };
        match out.last_mut() {
            Some(last)
                if last.range == range
                    && last.layer == layer
                    && last.reassembled == f.reassembled =>
            {
                last.text.push_str(" · ");
                last.text.push_str(&f.text);
            }
            _ => out.push(Line {
                range,
                layer,
                text: f.text.clone(),
                reassembled: f.reassembled,
            }),
        }
    }
    out
}

fn paint_of(layer: &str) -> Paint {
    match layer {
        "eth" | "sll" | "null" | "ppp" | "chdlc" | "nflog" | "ipoib" | "arcnet" => Paint::Link,
        "vlan" | "ieee8021ad" | "ieee8021ah" | "mpls" | "pppoes" | "llc" | "cfp" => Paint::Link,
        // A tunnel's own headers colour as the IP layer that carries them.
        "ip" | "ipv6" | "udp" | "gre" | "vxlan" | "geneve" => Paint::Ip,
        "tcp" => Paint::Tcp,
        _ => Paint::Payload,
    }
}

/// The marker letter of a layer, shown under its fields' bytes.
fn letter(layer: &str) -> char {
    match paint_of(layer) {
        Paint::Link => 'L',
        Paint::Ip => 'I',
        Paint::Tcp => 'T',
        _ => 'P',
    }
}

fn layer_title(p: &Packet, layer: &str, at: usize) -> String {
    let l = &p.layout;
    // A header before the inner IP one: the outer header holding `at`.
    let outer = p.outer.as_slice().iter().find(|o| o.range().contains(&at));
    if let (Some(o), false) = (outer, l.ip_range().contains(&at)) {
        let r = o.range();
        return format!(
            "{} · {} bytes ({})",
            o.kind.label(p.link),
            r.len(),
            span(&r)
        );
    }
    let (name, r) = match layer {
        "ip" => ("IPv4".to_string(), l.ip_range()),
        "ipv6" => ("IPv6".to_string(), l.ip_range()),
        "tcp" => ("TCP".to_string(), l.tcp_range()),
        "payload" => ("Payload".to_string(), l.payload_range()),
        _ => (p.link.label().to_string(), l.link_range()),
    };
    format!("{name} · {} bytes ({})", r.len(), span(&r))
}

/// The bytes a line's offsets count in: the frame's, or the reassembled
/// segment's.
fn source<'a>(p: &'a Packet, l: &Line) -> &'a [u8] {
    match (&p.reassembled, l.reassembled) {
        (Some(r), true) => &r.payload,
        _ => &p.data,
    }
}

/// `TCP · 32 bytes of the segment reassembled from #4, #5, #6`: the
/// offsets below count from the segment's first byte.
fn reassembled_title(p: &Packet, layer: &str, r: &crate::flow::Reassembled) -> String {
    let hdr = p.tcp.as_ref().map_or(0, |t| t.hdr_len);
    let (name, len) = match layer {
        "tcp" => ("TCP", hdr),
        _ => ("Payload", r.payload.len().saturating_sub(hdr)),
    };
    let frames: Vec<String> = r.frames.iter().map(|n| format!("#{n}")).collect();
    format!(
        "{name} · {len} bytes of the segment reassembled from {} (offsets in the segment)",
        frames.join(", ")
    )
}

/// `14` or `16-17`.
fn span(r: &Range<usize>) -> String {
    match r.len() {
        0 | 1 => r.start.to_string(),
        n => format!("{}-{}", r.start, r.start + n - 1),
    }
}

/// The field's bytes as hex, cut to `most` bytes with `…`.
fn bytes_text(data: &[u8], r: &Range<usize>, most: usize) -> String {
    let bytes = data.get(r.clone()).unwrap_or_default();
    let shown: Vec<String> = bytes
        .iter()
        .take(most)
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut s = shown.join(" ");
    if bytes.len() > most {
        s.push_str(" …");
    }
    s
}

/// One frame's explanation.
pub fn explain_one(w: &mut dyn Write, p: &Packet, opts: &TextOptions) -> io::Result<()> {
    let pal = opts.palette;
    let fields = p.fields();
    let lines = lines(&fields);
    let flags = p.spoken_flags().unwrap_or_default();
    let dir = direction_text(p.direction(), false);
    let title: Vec<String> = [
        format!("#{}", p.number),
        dir.to_string(),
        format!("{} bytes", p.data.len()),
        flags,
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect();
    writeln!(w, "  {}", pal.paint(Paint::Heading, &title.join(" · ")))?;
    let most = if opts.width < 80 { 4 } else { 6 };
    let off_w = lines
        .iter()
        .map(|l| span(&l.range).len())
        .max()
        .unwrap_or(1);
    let hex_w = lines
        .iter()
        .map(|l| bytes_text(source(p, l), &l.range, most).chars().count())
        .max()
        .unwrap_or(2);
    let mut layer = "";
    for l in &lines {
        if l.layer != layer {
            layer = l.layer;
            let title = match &p.reassembled {
                Some(r) if l.reassembled => reassembled_title(p, layer, r),
                _ => layer_title(p, layer, l.range.start),
            };
            writeln!(w, "  {}", pal.paint(paint_of(layer), &title))?;
        }
        let hex = bytes_text(source(p, l), &l.range, most);
        let pad = hex_w - hex.chars().count();
        let lead = format!(
            "    {:<off_w$}  {}{}  ",
            span(&l.range),
            pal.paint(paint_of(layer), &hex),
            " ".repeat(pad)
        );
        let indent = " ".repeat(visible_width(&lead));
        for line in wrap(&lead, &l.text, opts.width, &indent) {
            writeln!(w, "{line}")?;
        }
    }
    if let Some(e) = &p.error {
        writeln!(
            w,
            "    {}",
            pal.paint(Paint::Bad, &format!("decoding stopped: {e}"))
        )?;
    }
    marked_dump(w, p, &lines, opts)
}

/// The frame's dump, each layer in its colour, with a marker row under
/// each line of hex: a field starts at its layer's letter and runs on
/// under its bytes (`L` link, `I` IP, `T` TCP, `P` payload).
fn marked_dump(
    w: &mut dyn Write,
    p: &Packet,
    lines: &[Line],
    opts: &TextOptions,
) -> io::Result<()> {
    let pal = opts.palette;
    let per_line = bytes_per_line(opts.width);
    let shown = &p.data[..p.data.len().min(opts.max_hex)];
    let owner = owners(lines, shown.len());
    let spans = layout_spans(p);
    let legend = "the bytes, each field from its letter: L link · I IP · T TCP · P payload";
    super::prose(w, "  ", &pal.paint(Paint::Dim, legend), opts)?;
    for (row, chunk) in shown.chunks(per_line).enumerate() {
        let base = row * per_line;
        hexdump_at(w, chunk, base, &spans, pal, per_line, "  ")?;
        writeln!(
            w,
            "        {}",
            marker_row(lines, &owner, base, chunk.len(), pal)
        )?;
    }
    if shown.len() < p.data.len() {
        writeln!(
            w,
            "  … {} more bytes not shown (--max-hex)",
            p.data.len() - shown.len()
        )?;
    }
    Ok(())
}

/// For each byte, the line whose field it belongs to: of the lines that
/// cover it, the one that starts last (and of those the shortest), so a
/// field inside another (an option in the option list) wins.
fn owners(lines: &[Line], len: usize) -> Vec<Option<usize>> {
    (0..len)
        .map(|i| {
            lines
                .iter()
                .enumerate()
                .filter(|(_, l)| !l.reassembled && l.range.contains(&i))
                .max_by_key(|(_, l)| (l.range.start, std::cmp::Reverse(l.range.len())))
                .map(|(n, _)| n)
        })
        .collect()
}

/// The marker characters under one dump line: `I─` under a field's first
/// byte, `──` under the rest, and the joins between bytes of one field.
fn marker_row(
    lines: &[Line],
    owner: &[Option<usize>],
    base: usize,
    n: usize,
    pal: Palette,
) -> String {
    let mut out = String::new();
    for col in 0..n {
        let i = base + col;
        if col > 0 {
            let same = owner[i].is_some() && owner[i] == owner[i - 1];
            let join = if same { "─" } else { " " };
            out.push_str(join);
            if col % 8 == 0 {
                out.push_str(join);
            }
        }
        let mark = match owner[i] {
            Some(k) if i == 0 || owner[i - 1] != Some(k) => {
                let l = &lines[k];
                pal.paint(paint_of(l.layer), &format!("{}─", letter(l.layer)))
            }
            Some(k) => pal.paint(paint_of(lines[k].layer), "──"),
            None => "  ".to_string(),
        };
        out.push_str(&mark);
    }
    out.trim_end().to_string()
}
