//! `--html FILE`: one self-contained page for a lesson. The timeline, the
//! ladder, and for the selected segment Wireshark's two lower panes: its
//! fields, layer by layer, and its bytes, the three linked (hovering a
//! field lights its bytes, hovering a byte names its field). The CSS, the
//! script, the SVG and the data are inline, and the page's own policy
//! (`Content-Security-Policy: default-src 'none'`) forbids any request: it
//! opens offline, from a USB stick, by double-click.
//!
//! The data is JSON in a `<script type="application/json">`; `page.js`
//! draws from it (`page.css` styles it), so the Rust side only says what
//! there is, and the browser test (`tests/html_page.rs`) checks the
//! drawing in Chromium.

mod data;

use std::io::{self, Write};

use serde::Serialize;

use data::PartData;
pub use data::{PagePart, PAGE_FRAME_BYTES};

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");
/// What printing changes; after `page.js`, in its script.
const PRINT_JS: &str = include_str!("print.js");

/// What the page says before and after its parts (a lab's narrative and
/// its checks; empty for a trace).
#[derive(Debug, Default, Serialize)]
pub struct PageText {
    pub title: String,
    pub intro: String,
    pub end: String,
}

#[derive(Serialize)]
struct PageData<'a> {
    text: &'a PageText,
    parts: Vec<PartData>,
}

/// Writes the page of `parts`.
pub fn write_html(w: &mut dyn Write, text: &PageText, parts: &[PagePart<'_>]) -> io::Result<()> {
    let data = PageData {
        text,
        parts: parts.iter().map(PartData::of).collect(),
    };
    writeln!(w, "<!doctype html>")?;
    writeln!(w, "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    // No request of any kind: the page is whole in itself.
    writeln!(
        w,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
    )?;
    writeln!(
        w,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(w, "<title>{}</title>", escape(&text.title))?;
    writeln!(w, "<style>\n{CSS}</style>\n</head>")?;
    writeln!(w, "<body>\n<div id=\"page\"></div>")?;
    write!(w, "<script type=\"application/json\" id=\"tcplab-data\">")?;
    // Straight into the page, not through a string: a long capture's JSON
    // is tens of megabytes.
    let mut script = ScriptText { w, after_lt: false };
    serde_json::to_writer(&mut script, &data).map_err(io::Error::other)?;
    writeln!(w, "</script>")?;
    writeln!(w, "<script>\n{JS}\n{PRINT_JS}</script>\n</body>\n</html>")
}

/// JSON made safe inside `<script>`: `</` would end the script early,
/// `<\/` is the same JSON string (`<` is only ever inside one). A `<` at
/// the end of one write is remembered for the next.
struct ScriptText<'a> {
    w: &'a mut dyn Write,
    after_lt: bool,
}

impl Write for ScriptText<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut start = 0;
        for (i, &b) in buf.iter().enumerate() {
            if b == b'/' && self.after_lt {
                self.w.write_all(&buf[start..i])?;
                self.w.write_all(b"\\")?;
                start = i;
            }
            self.after_lt = b == b'<';
        }
        self.w.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// Text made safe between HTML tags.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_cannot_end_its_script_early() {
        let text = PageText {
            title: "a <b> & c".into(),
            intro: "</script><script>alert(1)</script>".into(),
            end: String::new(),
        };
        let mut out = Vec::new();
        write_html(&mut out, &text, &[]).unwrap();
        let page = String::from_utf8(out).unwrap();
        assert!(page.contains("<title>a &lt;b&gt; &amp; c</title>"));
        assert_eq!(page.matches("</script>").count(), 2, "{page}");
        assert!(page.contains("<\\/script><script>alert(1)<\\/script>"));
    }

    #[test]
    fn a_slash_after_a_lt_is_escaped_across_writes() {
        let mut out = Vec::new();
        let mut s = ScriptText {
            w: &mut out,
            after_lt: false,
        };
        for piece in ["\"a<", "/b</", "c", "/"] {
            s.write_all(piece.as_bytes()).unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "\"a<\\/b<\\/c/");
    }
}
