//! `replay --follow`: the reassembled bytes of one stream, each direction's
//! run under a heading, as text (control bytes escaped) or as hex dumps.

use std::io::{self, Write};

use super::text::{prose, TextOptions};
use super::{hexdump, Paint, Span};
use crate::flow::{Direction, Piece};

/// Writes pieces as they are delivered; consecutive pieces of one direction
/// form one run.
pub struct FollowWriter {
    opts: TextOptions,
    hex: bool,
    current: Option<Direction>,
    /// Offset of the current run, for hex dumps.
    offset: usize,
    at_line_start: bool,
}

impl FollowWriter {
    pub fn new(opts: TextOptions, hex: bool) -> Self {
        Self {
            opts,
            hex,
            current: None,
            offset: 0,
            at_line_start: true,
        }
    }

    pub fn heading(&mut self, w: &mut dyn Write, text: &str) -> io::Result<()> {
        prose(
            w,
            "",
            &self.opts.palette.paint(Paint::Heading, text),
            &self.opts,
        )
    }

    pub fn piece(&mut self, w: &mut dyn Write, piece: &Piece) -> io::Result<()> {
        let pal = self.opts.palette;
        let (direction, label) = match piece {
            Piece::Data {
                direction,
                frame,
                bytes,
            } => (
                *direction,
                format!("{} bytes from frame {frame}", bytes.len()),
            ),
            Piece::Gap { direction, len } => (*direction, format!("{len} bytes missing")),
        };
        if self.current != Some(direction) {
            if !self.at_line_start {
                writeln!(w)?;
            }
            let arrow = match direction {
                Direction::ClientToServer => "client → server",
                Direction::ServerToClient => "server → client",
            };
            writeln!(w, "{}", pal.paint(Paint::Heading, &format!("── {arrow}")))?;
            self.current = Some(direction);
            self.offset = 0;
            self.at_line_start = true;
        }
        match piece {
            Piece::Gap { .. } => {
                if !self.at_line_start {
                    writeln!(w)?;
                }
                writeln!(w, "{}", pal.paint(Paint::Warn, &format!("[{label}]")))?;
                self.at_line_start = true;
            }
            Piece::Data { bytes, .. } if self.hex => {
                let spans = [Span {
                    range: 0..bytes.len(),
                    paint: Paint::Payload,
                }];
                let per_line = if self.opts.width >= 75 { 16 } else { 8 };
                hexdump(w, bytes, &spans, pal, per_line, "")?;
                self.offset += bytes.len();
            }
            Piece::Data { bytes, .. } => {
                let text = escape(bytes);
                w.write_all(text.as_bytes())?;
                self.at_line_start = text.ends_with('\n');
            }
        }
        Ok(())
    }

    pub fn finish(&mut self, w: &mut dyn Write) -> io::Result<()> {
        if !self.at_line_start {
            writeln!(w)?;
        }
        Ok(())
    }
}

/// Printable ASCII, newlines and tabs as they are; everything else as
/// `\xNN`, so no byte of the payload can drive the terminal. A backslash
/// is doubled, so a payload that spells `\x1b` never reads as an ESC byte.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\n' | b'\t' | 0x20..=0x7e => s.push(b as char),
            b'\r' => s.push_str("\\r"),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn a_spelled_escape_and_a_real_one_differ() {
        assert_eq!(escape(b"A\\x1bB"), "A\\\\x1bB");
        assert_eq!(escape(b"A\x1bB"), "A\\x1bB");
        assert_ne!(escape(b"A\\x1bB"), escape(b"A\x1bB"));
        assert_eq!(escape(b"line\r\n\tok"), "line\\r\n\tok");
    }
}
