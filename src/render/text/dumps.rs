//! Hex dumps of payloads or whole frames, each layer in its colour.

use std::io::{self, Write};

use super::fold::{folded, plan, Shown};
use super::sizes::{ip_name, numbers_text, outer_paint};

/// How much of each payload a folded trace dumps.
const FOLDED_DUMP: usize = 256;
use super::timeline::direction_text;
use super::{prose, DumpBudget, HexdumpMode, TextOptions};
use crate::flow::Packet;
use crate::render::{hexdump, Marks, Paint, Palette, Span};

/// The most bytes per dump line (16, 8, 4, 2 or 1) whose line fits: indent
/// 2, offset 4 + 2, hex 3n - 1 plus a gap every 8, 2, then n ASCII.
pub fn bytes_per_line(width: usize) -> usize {
    let line_width = |n: usize| 2 + 6 + (3 * n - 1) + (n - 1) / 8 + 2 + n;
    [16, 8, 4, 2]
        .into_iter()
        .find(|&n| line_width(n) <= width)
        .unwrap_or(1)
}

/// Each layer's bytes of a frame, in its colour: every header before the
/// inner IP one (the link header, tags, tunnels), then IP, TCP, payload.
pub fn layout_spans(p: &Packet) -> Vec<Span> {
    let l = &p.layout;
    let mut spans: Vec<Span> = p
        .outer
        .as_slice()
        .iter()
        .map(|o| Span {
            range: o.range(),
            paint: outer_paint(o.kind),
        })
        .collect();
    if spans.is_empty() {
        spans.push(Span {
            range: l.link_range(),
            paint: Paint::Link,
        });
    }
    spans.extend([
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
    ]);
    spans
}

/// `bytes 0-13 Ethernet · 14-33 IPv4 · 34-73 TCP · 74-78 payload`, coloured.
fn legend(p: &Packet, pal: Palette) -> String {
    let l = &p.layout;
    let mut parts = Vec::new();
    let mut add = |r: std::ops::Range<usize>, name: &str, paint: Paint| {
        if !r.is_empty() {
            parts.push(pal.paint(paint, &format!("{}-{} {name}", r.start, r.end - 1)));
        }
    };
    match p.outer.as_slice() {
        [] => add(l.link_range(), p.link.label(), Paint::Link),
        outer => {
            for o in outer {
                add(o.range(), o.kind.label(p.link), outer_paint(o.kind));
            }
        }
    }
    add(
        l.ip_range(),
        ip_name(p.ip.as_ref().map(|ip| ip.version)),
        Paint::Ip,
    );
    add(l.tcp_range(), "TCP", Paint::Tcp);
    add(l.payload_range(), "payload", Paint::Payload);
    format!("bytes {}", parts.join(" · "))
}

/// Dumps each payload, or each whole frame, as the options say; in a
/// folded trace, those of the rows kept, and a line for each fold.
pub fn dumps(
    w: &mut dyn Write,
    packets: &[Packet],
    marks: &Marks,
    opts: &TextOptions,
) -> io::Result<()> {
    let pal = opts.palette;
    let mut any = false;
    let shown = plan(packets, opts.fold, marks);
    // A folded trace dumps the start of each kept payload only.
    let max_hex = if folded(&shown) > 0 {
        opts.max_hex.min(FOLDED_DUMP)
    } else {
        opts.max_hex
    };
    let mut shown_bytes = 0;
    let mut left = Vec::new();
    for shown in shown {
        let p = match shown {
            Shown::Row(p) => p,
            Shown::Fold(f) => {
                let text = format!("{} not dumped: {}", f.numbers(), f.text());
                prose(w, "  ", &pal.paint(Paint::Dim, &text), opts)?;
                writeln!(w)?;
                continue;
            }
        };
        if shown_bytes >= opts.dump_budget.bytes() {
            if has_dump(p, opts.hexdump) {
                left.push(p.number);
            }
            continue;
        }
        let one = dump_one(w, p, max_hex, opts)?;
        shown_bytes += dumped_len(p, opts.hexdump).min(max_hex);
        any |= one;
    }
    if !left.is_empty() {
        let text = format!(
            "{} not dumped: {} more (a lab dumps {} bytes at most; --write FILE saves every byte for Wireshark)",
            numbers_text(&left),
            left.len(),
            opts.dump_budget.bytes()
        );
        prose(w, "  ", &pal.paint(Paint::Dim, &text), opts)?;
        writeln!(w)?;
    }
    if !any {
        writeln!(w, "  (no payload bytes)")?;
        writeln!(w)?;
    }
    Ok(())
}

/// Whether `dump_one` dumps anything of `p` in `mode`.
fn has_dump(p: &Packet, mode: HexdumpMode) -> bool {
    dumped_len(p, mode) > 0
}

/// The bytes of `p` a dump in `mode` is of.
fn dumped_len(p: &Packet, mode: HexdumpMode) -> usize {
    match mode {
        HexdumpMode::Payload => p.payload().len(),
        HexdumpMode::Frame => p.data.len(),
        HexdumpMode::None => 0,
    }
}

/// The dump of one frame or its payload, as the options say, cut after
/// `max_hex` bytes; false if there was nothing to dump (no payload).
pub fn dump_one(
    w: &mut dyn Write,
    p: &Packet,
    max_hex: usize,
    opts: &TextOptions,
) -> io::Result<bool> {
    let pal = opts.palette;
    let per_line = bytes_per_line(opts.width);
    let dir = direction_text(p.direction(), false);
    let (bytes, title, spans) = match opts.hexdump {
        HexdumpMode::Payload if !p.payload().is_empty() => {
            let payload = p.payload();
            let title = format!("#{} {dir}, {} bytes of payload", p.number, payload.len());
            let spans = vec![Span {
                range: 0..payload.len(),
                paint: Paint::Payload,
            }];
            (payload, title, spans)
        }
        HexdumpMode::Frame => {
            let title = format!("#{} {dir}, frame of {} bytes", p.number, p.data.len());
            (&p.data[..], title, layout_spans(p))
        }
        _ => return Ok(false),
    };
    prose(w, "  ", &pal.paint(Paint::Heading, &title), opts)?;
    if opts.hexdump == HexdumpMode::Frame {
        prose(w, "  ", &legend(p, pal), opts)?;
    }
    let shown = &bytes[..bytes.len().min(max_hex)];
    hexdump(w, shown, &spans, pal, per_line, "  ")?;
    if shown.len() < bytes.len() {
        let more = bytes.len() - shown.len();
        let how = if matches!(opts.dump_budget, DumpBudget::Lab(_)) {
            "a lab shows the start of each"
        } else if max_hex < opts.max_hex {
            "a folded trace; --every-row dumps them"
        } else {
            "--max-hex"
        };
        prose(
            w,
            "  ",
            &format!("… {more} more bytes not shown ({how})"),
            opts,
        )?;
    }
    writeln!(w)?;
    Ok(true)
}
