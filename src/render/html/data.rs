//! What a page carries: each part's timeline cells, each frame's bytes,
//! layers and fields, the ladder's SVG, the closing text. Arrays, not
//! objects, where there is one per frame or field, and each distinct size
//! line, layer list and field once in a table the frames index: the page
//! stays small (a bulk transfer's frames differ in a few fields).

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::Hash;

use base64::Engine;
use serde::Serialize;

use crate::decode::Field;
use crate::flow::{Direction, Packet};
use crate::render::text::{head_and_tail_text, layout_spans, marks_of, size_line, timeline_cells};
use crate::render::{write_ladder_svg, Ladder, Marks, Paint, Palette, TraceReport};

/// The width the page's text blocks are laid out for, as a wide terminal.
const TEXT_WIDTH: usize = 100;

/// Bytes of each frame the page keeps: every header and the start of the
/// payload (a field past them is still listed, its bytes not lit).
pub const PAGE_FRAME_BYTES: usize = 2048;

/// Frames of a part whose fields the page carries. A frame's fields are
/// about 4 KB of text: 100,000 of them would be 400 MB, which no browser
/// opens. Later frames keep their row, their headers' bytes and the first
/// [`LATER_PAYLOAD`] bytes of payload; the page says how to see their fields.
pub const FIELD_FRAMES: usize = 2000;
const LATER_PAYLOAD: usize = 64;

/// A timeline column is at most this wide; a longer cell is cut in view.
const MAX_COLUMN: usize = 40;
/// Between a row's cells: the unit separator, which no cell holds (cells
/// are printable text).
const CELL_SEP: &str = "\u{1f}";

/// One part of a page: a trace, or one lab run.
pub struct PagePart<'a> {
    pub title: String,
    /// The connection lines, as the terminal shows them.
    pub head: String,
    pub packets: &'a [Packet],
    pub marks: &'a Marks,
    pub ladders: Vec<Ladder>,
    /// What the programs saw, the kernel's view, what happened.
    pub tail: String,
}

impl<'a> PagePart<'a> {
    /// The part of a trace's report, with its ladders.
    pub fn of_trace(title: &str, report: &'a TraceReport, ladders: Vec<Ladder>) -> Self {
        let (head, tail) = head_and_tail_text(report, TEXT_WIDTH);
        PagePart {
            title: title.to_string(),
            head,
            packets: &report.packets,
            marks: marks_of(report),
            ladders,
            tail,
        }
    }
}

#[derive(Serialize)]
pub struct PartData {
    title: String,
    head: String,
    columns: Vec<&'static str>,
    right: Vec<bool>,
    /// Each column's width in characters: its widest cell, up to
    /// [`MAX_COLUMN`].
    widths: Vec<usize>,
    /// A row's cells joined by [`CELL_SEP`]: one string per row, not ten.
    rows: Vec<String>,
    frames: Vec<FrameData>,
    /// The distinct size lines, layer lists and fields; a frame names
    /// them by index.
    sizes: Vec<String>,
    layers: Vec<Vec<LayerData>>,
    fields: Vec<FieldData>,
    /// Frames past this index carry no fields.
    field_frames: usize,
    svgs: Vec<String>,
    tail: String,
}

/// One frame: `[number, direction ("c", "s" or ""), its bytes in base64,
/// bytes cut off, index of its size line, index of its layer list, indexes
/// of its fields, an analysis flag or a mark]`.
#[derive(Serialize)]
struct FrameData(
    u64,
    &'static str,
    String,
    usize,
    usize,
    usize,
    Vec<usize>,
    bool,
);

/// `[class, first byte, end]`: `link`, `ip`, `tcp` or `payload`.
#[derive(Serialize, Clone, PartialEq, Eq, Hash)]
struct LayerData(&'static str, usize, usize);

/// `[layer, abbrev, offset, len, mask, value, text, detail]`.
#[derive(Serialize, Clone, PartialEq, Eq, Hash)]
struct FieldData(
    &'static str,
    &'static str,
    usize,
    usize,
    Option<u32>,
    String,
    String,
    bool,
);

impl PartData {
    pub fn of(part: &PagePart<'_>) -> PartData {
        let (columns, right, cells) = timeline_cells(part.packets, part.marks);
        let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
        let rows = cells
            .map(|row| {
                for (w, c) in widths.iter_mut().zip(&row) {
                    *w = (*w).max(c.chars().count().min(MAX_COLUMN));
                }
                join_cells(&row)
            })
            .collect();
        let mut tables = Tables::default();
        let frames = part
            .packets
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let flagged = part.marks.contains_key(&p.number) || !p.findings().flags.is_empty();
                frame_data(p, i < FIELD_FRAMES, flagged, &mut tables)
            })
            .collect();
        PartData {
            title: part.title.clone(),
            head: part.head.clone(),
            columns,
            right,
            widths,
            rows,
            frames,
            sizes: tables.sizes.rows,
            layers: tables.layers.rows,
            fields: tables.fields.rows,
            field_frames: FIELD_FRAMES,
            svgs: part.ladders.iter().map(svg_text).collect(),
            tail: part.tail.clone(),
        }
    }
}

/// A row's cells in one string; a separator inside a cell (none should
/// hold one) spelled out as the terminal would.
fn join_cells(row: &[String]) -> String {
    let safe: Vec<Cow<str>> = row
        .iter()
        .map(|c| match c.contains(CELL_SEP) {
            true => Cow::Owned(c.replace(CELL_SEP, "\\x1f")),
            false => Cow::Borrowed(c.as_str()),
        })
        .collect();
    safe.join(CELL_SEP)
}

/// Each distinct value once, named by its index: a bulk transfer's
/// frames have three or four size lines and layer lists, and share most
/// of their fields (the addresses, the ports, the flags, the options).
struct Table<T> {
    rows: Vec<T>,
    index: HashMap<T, usize>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<T: Clone + Eq + Hash> Table<T> {
    fn of(&mut self, value: T) -> usize {
        let next = self.rows.len();
        *self.index.entry(value.clone()).or_insert_with(|| {
            self.rows.push(value);
            next
        })
    }
}

#[derive(Default)]
struct Tables {
    sizes: Table<String>,
    layers: Table<Vec<LayerData>>,
    fields: Table<FieldData>,
}

/// A frame's data; `full`: with its fields and up to [`PAGE_FRAME_BYTES`].
fn frame_data(p: &Packet, full: bool, flagged: bool, tables: &mut Tables) -> FrameData {
    let keep = match full {
        true => PAGE_FRAME_BYTES,
        false => p.layout.payload_range().start + LATER_PAYLOAD,
    };
    let kept = &p.data[..p.data.len().min(keep)];
    let dir = match p.direction() {
        Some(Direction::ClientToServer) => "c",
        Some(Direction::ServerToClient) => "s",
        None => "",
    };
    let layers = layout_spans(p)
        .into_iter()
        .filter(|s| !s.range.is_empty())
        .map(|s| LayerData(layer_class(s.paint), s.range.start, s.range.end))
        .collect();
    let fields = match (&p.tcp, full) {
        (Some(_), true) => p
            .fields()
            .into_iter()
            .map(|f| tables.fields.of(field_data(f)))
            .collect(),
        _ => Vec::new(),
    };
    let size = size_line(p, Palette { enabled: false }).unwrap_or_default();
    FrameData(
        p.number,
        dir,
        base64::engine::general_purpose::STANDARD.encode(kept),
        p.data.len() - kept.len(),
        tables.sizes.of(size),
        tables.layers.of(layers),
        fields,
        flagged,
    )
}

fn field_data(f: Field) -> FieldData {
    // A field of a segment rebuilt from IP fragments lies in bytes this
    // frame does not hold alone: it is listed, no byte lit.
    let len = if f.reassembled { 0 } else { f.len };
    FieldData(
        f.layer, f.abbrev, f.offset, len, f.mask, f.value, f.text, f.detail,
    )
}

/// The CSS class of a layer's colour (as the terminal paints it).
fn layer_class(p: Paint) -> &'static str {
    match p {
        Paint::Link => "link",
        Paint::Ip => "ip",
        Paint::Tcp => "tcp",
        _ => "payload",
    }
}

fn svg_text(l: &Ladder) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_ladder_svg(&mut out, l);
    let svg = String::from_utf8_lossy(&out);
    // Inline in the page: the XML declaration would be text there.
    match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{join_cells, CELL_SEP};

    #[test]
    fn a_row_splits_back_into_its_cells_even_when_one_holds_the_separator() {
        let row = ["1".to_string(), "a\u{1f}b".to_string(), String::new()];
        let joined = join_cells(&row);
        let cells: Vec<&str> = joined.split(CELL_SEP).collect();
        assert_eq!(cells, ["1", "a\\x1fb", ""]);
    }
}
