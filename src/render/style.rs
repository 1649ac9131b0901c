//! Colour by layer on a terminal, plain text everywhere else.

/// What a piece of text is, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Link,
    Ip,
    Tcp,
    Payload,
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
            Paint::Heading => "1",  // bold
            Paint::Dim => "2",
            Paint::Good => "32",
            Paint::Warn => "33",
            Paint::Bad => "31",
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
