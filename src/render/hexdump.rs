//! Offset + hex + ASCII dumps, each layer's bytes in its own colour.

use std::io::{self, Write};
use std::ops::Range;

use super::{Paint, Palette};

/// A byte range of the dumped buffer and how to colour it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub range: Range<usize>,
    pub paint: Paint,
}

/// Writes `bytes` as lines of `offset  hex  ascii`, `per_line` bytes a line
/// (16, or 8 on narrow terminals), indented by `indent`. Control characters
/// and non-ASCII bytes show as `.` in the gutter, so a dump never drives the
/// terminal.
pub fn hexdump(
    w: &mut dyn Write,
    bytes: &[u8],
    spans: &[Span],
    palette: Palette,
    per_line: usize,
    indent: &str,
) -> io::Result<()> {
    hexdump_at(w, bytes, 0, spans, palette, per_line, indent)
}

/// [`hexdump`] of `bytes` that start at offset `origin` of a larger buffer
/// (the offsets shown, and the spans, count from that buffer's start).
pub fn hexdump_at(
    w: &mut dyn Write,
    bytes: &[u8],
    origin: usize,
    spans: &[Span],
    palette: Palette,
    per_line: usize,
    indent: &str,
) -> io::Result<()> {
    let per_line = per_line.max(1);
    let paint_of = |i: usize| spans.iter().find(|s| s.range.contains(&i)).map(|s| s.paint);
    for (line_no, chunk) in bytes.chunks(per_line).enumerate() {
        let base = origin + line_no * per_line;
        let mut hex = String::new();
        let mut ascii = String::new();
        for col in 0..per_line {
            if col > 0 {
                hex.push(' ');
                if col % 8 == 0 {
                    hex.push(' ');
                }
            }
            let Some(&b) = chunk.get(col) else {
                hex.push_str("  ");
                continue;
            };
            let h = format!("{b:02x}");
            let c = if b.is_ascii_graphic() || b == b' ' {
                (b as char).to_string()
            } else {
                ".".to_string()
            };
            match paint_of(base + col) {
                Some(p) => {
                    hex.push_str(&palette.paint(p, &h));
                    ascii.push_str(&palette.paint(p, &c));
                }
                None => {
                    hex.push_str(&h);
                    ascii.push_str(&c);
                }
            }
        }
        writeln!(w, "{indent}{base:04x}  {hex}  {ascii}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_offset_hex_and_ascii() {
        let mut out = Vec::new();
        hexdump(&mut out, b"hello", &[], Palette::PLAIN, 16, "").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "0000  68 65 6c 6c 6f                                    hello\n"
        );
    }

    #[test]
    fn control_bytes_are_dots_and_lines_wrap() {
        let bytes: Vec<u8> = (0u8..20).collect();
        let mut out = Vec::new();
        hexdump(&mut out, &bytes, &[], Palette::PLAIN, 16, "  ").unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("  0000  00 01 02 03 04 05 06 07  08 09"));
        assert!(lines[0].ends_with("................"));
        assert!(lines[1].starts_with("  0010  10 11 12 13"));
    }

    #[test]
    fn colours_follow_spans() {
        let mut out = Vec::new();
        let spans = [Span {
            range: 0..1,
            paint: Paint::Link,
        }];
        hexdump(
            &mut out,
            &[0x0c, 0x22],
            &spans,
            Palette { enabled: true },
            16,
            "",
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\x1b[34m0c\x1b[0m 22"));
    }
}
