//! Colour by layer on a terminal, plain text everywhere else; and the one
//! colour of each kind of segment.

use crate::decode::Flags;

/// What a piece of text is, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Link,
    Ip,
    Tcp,
    Payload,
    /// What an application did (the ladder's lanes).
    App,
    Heading,
    Dim,
    Good,
    Warn,
    Bad,
}

impl Paint {
    fn sgr(self) -> &'static str {
        match self {
            Paint::Link => "34",    // blue
            Paint::Ip => "32",      // green
            Paint::Tcp => "33",     // yellow
            Paint::Payload => "35", // magenta
            Paint::App => "36",     // cyan
            Paint::Heading => "1",  // bold
            Paint::Dim => "2",
            Paint::Good => "32",
            Paint::Warn => "33",
            Paint::Bad => "31",
        }
    }
}

impl Paint {
    /// The same colour for a comfy-table cell.
    pub fn table_color(self) -> comfy_table::Color {
        use comfy_table::Color;
        match self {
            Paint::Link => Color::Blue,
            Paint::Ip | Paint::Good => Color::Green,
            Paint::Tcp | Paint::Warn => Color::Yellow,
            Paint::Payload => Color::Magenta,
            Paint::App => Color::Cyan,
            Paint::Bad => Color::Red,
            Paint::Heading | Paint::Dim => Color::Reset,
        }
    }
}

/// What a segment is, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    /// Opens the connection (SYN, SYN-ACK).
    Syn,
    /// Carries payload.
    Data,
    /// Closes one direction (FIN, FIN-ACK).
    Fin,
    /// Aborts the connection (RST, RST-ACK).
    Rst,
    /// Acknowledges only.
    Ack,
}

impl SegmentKind {
    /// Every kind, in the order legends list them.
    pub const ALL: [SegmentKind; 5] = [
        SegmentKind::Syn,
        SegmentKind::Data,
        SegmentKind::Fin,
        SegmentKind::Rst,
        SegmentKind::Ack,
    ];

    /// The kind of a segment with `flags` and `len` payload bytes. A reset
    /// wins over everything, then SYN, FIN, payload.
    pub fn of(flags: Flags, len: usize) -> SegmentKind {
        if flags.contains(Flags::RST) {
            SegmentKind::Rst
        } else if flags.contains(Flags::SYN) {
            SegmentKind::Syn
        } else if flags.contains(Flags::FIN) {
            SegmentKind::Fin
        } else if len > 0 {
            SegmentKind::Data
        } else {
            SegmentKind::Ack
        }
    }

    /// Its colour on a terminal, the same in rows, the timeline and the
    /// ladder (the SVG's palette follows it); a bare ACK is left plain.
    pub fn paint(self) -> Option<Paint> {
        match self {
            SegmentKind::Syn => Some(Paint::Good),
            SegmentKind::Data => Some(Paint::Payload),
            SegmentKind::Fin => Some(Paint::Warn),
            SegmentKind::Rst => Some(Paint::Bad),
            SegmentKind::Ack => None,
        }
    }

    /// The legend's word for the kind.
    pub fn name(self) -> &'static str {
        match self {
            SegmentKind::Syn => "SYN",
            SegmentKind::Data => "data",
            SegmentKind::Fin => "FIN",
            SegmentKind::Rst => "RST",
            SegmentKind::Ack => "ACK",
        }
    }
}

/// Turns paints into ANSI escapes, or into nothing when colour is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub enabled: bool,
}

impl Palette {
    pub const PLAIN: Palette = Palette { enabled: false };

    /// `text` wrapped in the paint's colour.
    pub fn paint(self, paint: Paint, text: &str) -> String {
        if self.enabled && !text.is_empty() {
            format!("\x1b[{}m{text}\x1b[0m", paint.sgr())
        } else {
            text.to_string()
        }
    }
}
