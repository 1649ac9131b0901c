//! Text for people: the segment timeline, header-size lines, hex dumps, and
//! for `trace` the heading and the socket view beside the wire totals.
//! No line is wider than `TextOptions::width`: tables drop or shorten
//! columns, prose wraps, and a last-resort cut ends with `…`.

mod dumps;
mod explain;
mod fit;
mod fold;
mod kernel;
mod path;
mod program;
mod sizes;
mod stats;
mod stepped;
mod streams;
mod timeline;
mod waits;

pub use dumps::{bytes_per_line, dump_one, dumps, layout_spans};
pub use explain::explain_one;
pub use fit::{cut, strip_escapes, visible_width, wrap};
pub use fold::{group, Folding, KEEP_EACH, MIN_RUN};
pub use program::{program_steps, write_program_text};
pub use sizes::{size_line, size_row, sizes};
pub use stepped::{lines_of, push_segments, push_trace, trace_steps, Arrows, Segment, StepView};
pub use streams::{push_streams, write_streams_text};
pub use timeline::{options_text, preview, timeline, timeline_cells, timeline_rows};
pub use waits::NODE_HIGH_WATER_MARK;

use std::io::{self, Write};

use comfy_table::{ContentArrangement, LineStyle, Table, TableStyle};

use super::{Marks, Paint, Palette, TraceReport};

/// A report without an impaired path marks no row.
pub(crate) static NO_MARKS: Marks = Marks::new();
use crate::flow::Packet;

/// What to dump in hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// How many bytes a trace's dumps show in all.
    pub dump_budget: DumpBudget,
    /// Explain every header field of each frame shown (`--explain`).
    pub explain: bool,
    /// When to fold an exchange's uneventful middle (a long one for
    /// `trace`; never with `--every-row`, nor in views that stream rows).
    pub fold: Folding,
    /// List each change of the kernel's view (`--kernel`), not only its
    /// totals.
    pub kernel_changes: bool,
}

impl TextOptions {
    /// Uncoloured text `width` columns wide, with no dumps and no fold:
    /// the words of a report for a page (`--html`) to show.
    pub fn plain(width: usize) -> TextOptions {
        TextOptions {
            palette: crate::render::Palette { enabled: false },
            width,
            hexdump: HexdumpMode::None,
            raw_seq: false,
            max_hex: 0,
            dump_budget: DumpBudget::Every,
            explain: false,
            fold: Folding::Never,
            kernel_changes: false,
        }
    }
}

/// How many bytes a trace's dumps show in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpBudget {
    /// Every frame shown is dumped (each cut at `max_hex`).
    Every,
    /// A lab's: dumps stop once this many bytes are shown and one line
    /// names the rest (a lab's point is not its bytes).
    Lab(usize),
}

impl DumpBudget {
    fn bytes(self) -> usize {
        match self {
            DumpBudget::Every => usize::MAX,
            DumpBudget::Lab(n) => n,
        }
    }
}

/// Writes the whole `trace` report.
pub fn write_trace_text(
    w: &mut dyn Write,
    report: &TraceReport,
    opts: &TextOptions,
) -> io::Result<()> {
    trace_head(w, report, opts)?;
    writeln!(w)?;
    let marks = marks_of(report);
    timeline(w, &report.packets, marks, &report.lines, opts)?;
    writeln!(w)?;
    sizes(w, &report.packets, marks, opts)?;
    writeln!(w)?;
    // The dumps and the fields end with an empty line each.
    if opts.hexdump != HexdumpMode::None {
        dumps(w, &report.packets, marks, opts)?;
    }
    if opts.explain {
        explain_section(w, &report.packets, marks, opts)?;
    }
    trace_tail(w, report, opts)
}

/// A trace's heading and its closing sections (what the programs saw,
/// the path, the kernel's view, the warnings) as plain text `width`
/// columns wide, for a page (`--html`) to show as the terminal does.
pub fn head_and_tail_text(report: &TraceReport, width: usize) -> (String, String) {
    let opts = TextOptions::plain(width);
    // Writing to a Vec cannot fail.
    let text = |lines: io::Result<Vec<String>>| lines.unwrap_or_default().join("\n");
    let head = text(lines_of(|w| trace_head(w, report, &opts)));
    let tail = text(lines_of(|w| trace_tail(w, report, &opts)));
    (head, tail.trim_end().to_string())
}

/// What the impaired path did to each frame (nothing without one).
pub(crate) fn marks_of(report: &TraceReport) -> &Marks {
    report.path.as_ref().map(|p| &p.marks).unwrap_or(&NO_MARKS)
}

/// The connection line, and the capture's drops if there were any.
fn trace_head(w: &mut dyn Write, report: &TraceReport, opts: &TextOptions) -> io::Result<()> {
    heading(w, report, opts)?;
    if let Some(text) = drop_notice(report) {
        prose(w, "", &opts.palette.paint(Paint::Bad, &text), opts)?;
    }
    Ok(())
}

/// After the segments (and an empty line): what the programs saw, the path, the kernel's view,
/// and the warnings again.
fn trace_tail(w: &mut dyn Write, report: &TraceReport, opts: &TextOptions) -> io::Result<()> {
    let pal = opts.palette;
    stats::stats(w, report, opts)?;
    if let Some(path) = &report.path {
        writeln!(w)?;
        path::path_section(w, path, opts)?;
    }
    if report.kernel.is_some() {
        writeln!(w)?;
        kernel::kernel_section(w, report, opts)?;
    }
    if let Some(warning) = &report.warning {
        let text = pal.paint(Paint::Warn, &format!("warning: {warning}"));
        prose(w, "", &text, opts)?;
    }
    if let Some(text) = drop_notice(report) {
        prose(w, "", &pal.paint(Paint::Bad, &text), opts)?;
    }
    Ok(())
}

/// `--explain` in a trace: every frame, or in a folded trace the frames
/// whose rows were kept.
fn explain_section(
    w: &mut dyn Write,
    packets: &[Packet],
    marks: &Marks,
    opts: &TextOptions,
) -> io::Result<()> {
    let title = "Every field of every frame (--explain)";
    writeln!(w, "{}", opts.palette.paint(Paint::Heading, title))?;
    for shown in fold::plan(packets, opts.fold, marks) {
        match shown {
            fold::Shown::Row(p) => explain_one(w, p, opts)?,
            fold::Shown::Fold(f) => {
                let text = format!("{} not explained: {}", f.numbers(), f.text());
                prose(w, "  ", &opts.palette.paint(Paint::Dim, &text), opts)?;
            }
        }
        writeln!(w)?;
    }
    Ok(())
}

/// Said at the top and the bottom when the kernel dropped frames: what the
/// analysis then cannot know.
fn drop_notice(r: &TraceReport) -> Option<String> {
    let dropped = r.capture.stats.dropped + r.capture.stats.if_dropped;
    (dropped > 0).then(|| {
        format!(
            "warning: the kernel dropped {dropped} frames of this capture (its buffer was \
             full; -B gives a bigger one): the trace is incomplete, and \
             \"previous segment not captured\" or \"ACKed unseen segment\" may be frames \
             the capture missed, not segments the network lost"
        )
    })
}

/// Writes `text` wrapped to the width, continuation lines indented by two.
/// A no-break space in `text` keeps its two words on one line.
pub fn prose(w: &mut dyn Write, lead: &str, text: &str, opts: &TextOptions) -> io::Result<()> {
    let indent = " ".repeat(visible_width(lead) + 2);
    for line in wrap(lead, text, opts.width, &indent) {
        writeln!(w, "{}", line.replace(NO_BREAK, " "))?;
    }
    Ok(())
}

/// Written between two words that must not be parted where text wraps.
pub const NO_BREAK: char = '\u{a0}';

fn heading(w: &mut dyn Write, r: &TraceReport, opts: &TextOptions) -> io::Result<()> {
    let c = &r.connection;
    let parts: Vec<String> = [
        "tcplab trace".to_string(),
        format!("{} ({})", r.capture.interface, r.capture.link.label()),
        match r.server_mode {
            "" => format!("server on {} port {}", c.server.address, c.server.port),
            mode => format!(
                "server \"{mode}\" on {} port {}",
                c.server.address, c.server.port
            ),
        },
        format!(
            "client {} port {} ({})",
            c.client.address, c.client.port, c.client.family
        ),
    ]
    .into_iter()
    .chain(
        c.client_seen_by_server
            .as_ref()
            .map(|s| format!("which the server sees as {} ({})", s.address, s.family)),
    )
    .collect::<Vec<_>>();
    // Break only between parts, so an address never splits.
    let mut line = String::new();
    for part in parts {
        let sep = if line.is_empty() { "" } else { " · " };
        if !line.is_empty() && visible_width(&line) + sep.len() + part.len() > opts.width {
            writeln!(
                w,
                "{}",
                opts.palette.paint(Paint::Heading, &cut(&line, opts.width))
            )?;
            line = format!("  {part}");
        } else {
            line.push_str(sep);
            line.push_str(&part);
        }
    }
    writeln!(
        w,
        "{}",
        opts.palette.paint(Paint::Heading, &cut(&line, opts.width))
    )
}

/// A table in the house style: one rule under the header and nothing else.
pub fn new_table(opts: &TextOptions) -> Table {
    let mut t = Table::new();
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

/// Makes no column of `t` wrap: a table of numbers and short words is
/// either whole or too wide (then [`fitting_lines`] says so), never cut
/// inside a word (`socke/t`).
pub fn no_wrap(t: &mut Table) {
    let n = t.column_count();
    for i in 0..n {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
        }
    }
}

/// The table's lines if none is wider than the terminal.
pub fn fitting_lines(t: &Table, width: usize) -> Option<Vec<String>> {
    let lines: Vec<String> = t.lines().map(|l| l.trim_end().to_string()).collect();
    lines
        .iter()
        .all(|l| visible_width(l) <= width)
        .then_some(lines)
}
