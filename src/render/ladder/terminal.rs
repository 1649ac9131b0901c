//! The ladder in the terminal: two lifelines (`│`), one arrow per segment
//! (`───▶` client to server, `◀───` back) with its label on the arrow, the
//! frame number and time in a gutter, notes to the right.
//!
//! ```text
//!  #    ms client 127.0.0.1:45116     server 127.0.0.1:33805
//!  1 0.000 │────────── SYN seq 0 ──────────▶│  seq 0 is relative: the real ISN is 2866581310
//!  2 0.017 │◀──── SYN-ACK seq 0 ack 1 ──────│  ack 1 = client's ISN + 1: the SYN uses one
//!          │                                │  sequence number
//! ```
//!
//! No line is wider than `TextOptions::width`. Layouts are tried from the
//! roomiest to the narrowest: payload previews on the arrows and notes to
//! the right; no previews; notes on their own lines between the lifelines;
//! finally labels above their arrows too.

use std::io::{self, Write};

use super::fold::{plan, ArrowFold, Drawn};
use super::{endpoint_text, AppMark, Arrow, Ladder, MAX_ARROWS};
use crate::render::text::{cut, visible_width, wrap};
use crate::render::SegmentKind;
use crate::render::{Paint, Palette, TextOptions};

/// Narrowest room for notes beside the server's lifeline.
const NOTE_MIN: usize = 28;
/// Widest note line: longer notes wrap, a line stays easy to read.
const NOTE_MAX: usize = 64;
/// Widths beyond this are treated as this (a pipe has no width).
const WIDTH_CAP: usize = 1000;

/// The ladder as lines, grouped so `--step` can show one arrow at a time
/// (`render::text::Arrows`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LadderLines {
    /// Endpoint titles and the column heading.
    pub head: Vec<String>,
    /// One group per arrow: its label (when above), the arrow, its notes.
    pub arrows: Vec<Vec<String>>,
    /// The lifelines' end, the omitted count, the colour legend.
    pub tail: Vec<String>,
}

impl LadderLines {
    /// Every line, in order.
    pub fn lines(&self) -> impl Iterator<Item = &String> {
        self.head
            .iter()
            .chain(self.arrows.iter().flatten())
            .chain(&self.tail)
    }
}

/// How the arrows are laid out.
#[derive(Debug, Clone, Copy)]
struct Layout {
    num_w: usize,
    time_w: usize,
    /// Columns between the two lifelines.
    span: usize,
    previews: bool,
    labels_above: bool,
    /// Wrap width of notes beside the server's lifeline; `None`: below.
    notes_right: Option<usize>,
}

impl Layout {
    fn gutter(&self) -> usize {
        self.num_w + 1 + self.time_w + 1
    }

    fn choose(ladder: &Ladder, width: usize) -> Layout {
        let arrows = ladder.arrows();
        let num_w = arrows
            .iter()
            .map(|a| a.frame.to_string().len())
            .max()
            .unwrap_or(1);
        let time_w = arrows
            .iter()
            .map(|a| a.time().len())
            .chain(ladder.marks().iter().map(|m| m.time().len()))
            .max()
            .unwrap_or(2)
            .max(2);
        let gutter = num_w + 1 + time_w + 1;
        let between = width.saturating_sub(gutter + 2);
        let label_w = |previews| {
            arrows
                .iter()
                .map(|a| visible_width(&arrow_text(a, previews)))
                .max()
                .unwrap_or(0)
        };
        let note_w = arrows
            .iter()
            .flat_map(|a| &a.notes)
            .map(|n| visible_width(n))
            .max()
            .unwrap_or(0);
        let base = Layout {
            num_w,
            time_w,
            span: between.min(40),
            previews: false,
            labels_above: true,
            notes_right: None,
        };
        // Every layout that fits, in order of preference; the one with the
        // fewest lines wins (the first of equals): wrapped notes cost lines.
        let mut best: Option<(usize, Layout)> = None;
        for (previews, right) in [(true, true), (false, true), (true, false), (false, false)] {
            let lw = label_w(previews);
            for span in [(lw + 10).max(36), lw + 8, lw + 6] {
                if span > between {
                    continue;
                }
                let used = gutter + 2 + span;
                let notes_right = if note_w == 0 {
                    Some(0)
                } else if right && used + 2 + NOTE_MIN.min(note_w) <= width {
                    Some((width - used - 2).min(NOTE_MAX))
                } else if right {
                    continue;
                } else {
                    None
                };
                let layout = Layout {
                    span,
                    previews,
                    labels_above: false,
                    notes_right,
                    ..base
                };
                let lines = layout.lines_needed(ladder);
                if best.as_ref().map_or(true, |(fewest, _)| lines < *fewest) {
                    best = Some((lines, layout));
                }
            }
        }
        best.map_or(base, |(_, layout)| layout)
    }

    /// Lines the arrows take in this layout.
    fn lines_needed(&self, ladder: &Ladder) -> usize {
        let note_width = self.notes_right.unwrap_or(self.span.saturating_sub(2));
        ladder
            .arrows()
            .iter()
            .map(|a| {
                let notes: usize = a
                    .notes
                    .iter()
                    .map(|n| wrap("", n, note_width, "  ").len())
                    .sum();
                let beside = usize::from(self.notes_right.is_some() && notes > 0);
                1 + usize::from(self.labels_above) + notes - beside
            })
            .sum()
    }
}

/// The label drawn on (or above) an arrow, with the payload preview when
/// `previews`.
fn arrow_text(a: &Arrow, previews: bool) -> String {
    match (&a.preview, previews) {
        (Some(p), true) => format!("{} {p}", a.label()),
        _ => a.label(),
    }
}

fn painted(pal: Palette, kind: SegmentKind, text: &str) -> String {
    match kind.paint() {
        Some(p) => pal.paint(p, text),
        None => text.to_string(),
    }
}

/// `text` centred in `width` columns (cut if wider).
fn centred(text: &str, width: usize) -> String {
    let text = cut(text, width);
    let pad = width.saturating_sub(visible_width(&text));
    let left = pad / 2;
    format!("{}{text}{}", " ".repeat(left), " ".repeat(pad - left))
}

/// The arrow between the lifelines, `span` columns, `text` on it.
fn arrow_body(a: &Arrow, text: &str, span: usize) -> String {
    let shown = if text.is_empty() {
        String::new()
    } else {
        format!(" {text} ")
    };
    if a.lost {
        return lost_body(a, &shown, span);
    }
    let dashes = span.saturating_sub(1 + visible_width(&shown));
    let left = dashes / 2;
    let (l, r) = ("─".repeat(left), "─".repeat(dashes - left));
    if a.from_client() {
        format!("{l}{shown}{r}▶")
    } else {
        format!("◀{l}{shown}{r}")
    }
}

/// A lost segment's arrow: from its sender to the middle, ending in `✗`,
/// the label kept whole where it fits (it may run past the middle).
fn lost_body(a: &Arrow, shown: &str, span: usize) -> String {
    let half = (span / 2).max(visible_width(shown) + 3).min(span);
    let dashes = half.saturating_sub(1 + visible_width(shown));
    let left = dashes / 2;
    let (l, r) = ("─".repeat(left), "─".repeat(dashes - left));
    let rest = " ".repeat(span - half);
    if a.from_client() {
        format!("{l}{shown}{r}✗{rest}")
    } else {
        format!("{rest}✗{l}{shown}{r}")
    }
}

/// The ladder's lines for a terminal `opts.width` columns wide.
pub fn ladder_lines(ladder: &Ladder, opts: &TextOptions) -> LadderLines {
    let width = opts.width.clamp(1, WIDTH_CAP);
    let pal = opts.palette;
    let lay = Layout::choose(ladder, width);
    let gutter = lay.gutter();
    let blank = " ".repeat(gutter);
    let empty_row = format!("{blank}│{}│", " ".repeat(lay.span));
    let fit = |l: String| cut(l.trim_end(), width);

    let mut out = LadderLines {
        head: titles(ladder, &lay, pal, width),
        ..LadderLines::default()
    };
    if let Some(caption) = &ladder.caption {
        out.head
            .insert(0, pal.paint(Paint::Heading, &cut(caption, width)));
    }
    let heading = format!("{:>n$} {:>t$} ", "#", "ms", n = lay.num_w, t = lay.time_w);
    out.head.push(format!(
        "{}│{}│",
        pal.paint(Paint::Dim, &heading),
        " ".repeat(lay.span)
    ));

    let marks = ladder.marks_around();
    for drawn in plan(ladder.arrows(), &marks, opts.fold) {
        let i = match drawn {
            Drawn::Arrow(i) => i,
            Drawn::Fold(f) => {
                let group = fold_lines(&f, &lay, &blank, &empty_row, pal);
                out.arrows.push(group.into_iter().map(fit).collect());
                continue;
            }
        };
        let (a, (before, after)) = (&ladder.arrows()[i], &marks[i]);
        let mut group: Vec<String> = before.iter().map(|m| mark_line(m, &lay, pal)).collect();
        group.extend(arrow_lines(a, &lay, &blank, &empty_row, pal));
        group.extend(after.iter().map(|m| mark_line(m, &lay, pal)));
        out.arrows.push(group.into_iter().map(fit).collect());
    }

    let [kc, ks] = ladder.kernel_words();
    if kc.is_some() || ks.is_some() {
        let (c, s) = (kc.unwrap_or_default(), ks.unwrap_or_default());
        out.tail.extend(side_lines(&c, &s, &lay, &blank, pal));
    }
    out.tail.push(empty_row);
    if ladder.is_empty() {
        out.tail.push(format!("{blank}(no TCP segments to draw)"));
    }
    if ladder.omitted() > 0 {
        out.tail.push(pal.paint(
            Paint::Dim,
            &format!(
                "… {} more segments not drawn (a ladder shows the first {MAX_ARROWS})",
                ladder.omitted()
            ),
        ));
    }
    if pal.enabled && !ladder.is_empty() {
        let keys: Vec<String> = SegmentKind::ALL
            .iter()
            .filter(|k| k.paint().is_some())
            .map(|k| painted(pal, *k, &format!("── {}", k.name())))
            .collect();
        out.tail.push(format!("{blank}{}", keys.join("  ")));
    }
    out.head = out.head.into_iter().map(fit).collect();
    out.tail = out.tail.into_iter().map(fit).collect();
    out
}

/// An arrow's lines: its label (when above), the arrow with its frame
/// number and time, its notes, the states it moved each side to.
fn arrow_lines(a: &Arrow, lay: &Layout, blank: &str, empty_row: &str, pal: Palette) -> Vec<String> {
    let mut group = Vec::new();
    let text = arrow_text(a, lay.previews);
    // A lost arrow's label goes above it, so the line can stop half-way.
    let above = lay.labels_above || a.lost;
    if above {
        let label = painted(pal, a.kind, &centred(&text, lay.span));
        group.push(format!("{blank}│{label}│"));
    }
    let on_arrow = if above { "" } else { &text };
    let body = painted(pal, a.kind, &arrow_body(a, on_arrow, lay.span));
    let stamp = format!(
        "{:>n$} {:>t$} ",
        a.frame,
        a.time(),
        n = lay.num_w,
        t = lay.time_w
    );
    let row = format!("{}│{body}│", pal.paint(Paint::Dim, &stamp));
    group.extend(with_notes(row, &a.notes, lay, blank, empty_row));
    group.extend(state_lines(a, lay, blank, pal));
    group
}

/// `row` and `notes` beside the server's lifeline when the layout has
/// room there, else between the lifelines under it.
fn with_notes(
    row: String,
    notes: &[String],
    lay: &Layout,
    blank: &str,
    empty_row: &str,
) -> Vec<String> {
    match lay.notes_right {
        Some(w) if w > 0 && !notes.is_empty() => {
            let mut lines = notes.iter().flat_map(|n| wrap("", n, w, "  "));
            let mut group = vec![format!("{row}  {}", lines.next().unwrap_or_default())];
            group.extend(lines.map(|l| format!("{empty_row}  {l}")));
            group
        }
        _ => {
            let inner = lay.span.saturating_sub(2);
            let mut group = vec![row];
            for line in notes.iter().flat_map(|n| wrap("", n, inner, "  ")) {
                let pad = inner.saturating_sub(visible_width(&line));
                group.push(format!("{blank}│ {line}{} │", " ".repeat(pad)));
            }
            group
        }
    }
}

/// A fold's lines: its title between the lifelines, its counts as an
/// arrow's notes are placed.
fn fold_lines(
    f: &ArrowFold,
    lay: &Layout,
    blank: &str,
    empty_row: &str,
    pal: Palette,
) -> Vec<String> {
    let title = pal.paint(Paint::Dim, &centred(&f.title(), lay.span));
    with_notes(
        format!("{blank}│{title}│"),
        &[f.counts()],
        lay,
        blank,
        empty_row,
    )
}

/// `client ADDR` over the client's lifeline, `server ADDR` ending over the
/// server's; on two lines when the terminal is too narrow for one.
fn titles(ladder: &Ladder, lay: &Layout, pal: Palette, width: usize) -> Vec<String> {
    let left = format!("client {}", endpoint_text(&ladder.client));
    let right = format!("server {}", endpoint_text(&ladder.server));
    let gutter = lay.gutter();
    // The server's lifeline is at column gutter + span + 1.
    let end = gutter + lay.span + 2;
    let (lw, rw) = (visible_width(&left), visible_width(&right));
    let bold = |s: &str| pal.paint(Paint::Heading, s);
    // Right-aligned over the server's lifeline, or overhanging it to the
    // right when the lifelines are closer than the titles are wide.
    let start = (gutter + lw + 2).max(end.saturating_sub(rw));
    if start + rw <= width {
        let gap = start - gutter - lw;
        vec![format!(
            "{}{}{}{}",
            " ".repeat(gutter),
            bold(&left),
            " ".repeat(gap),
            bold(&right)
        )]
    } else {
        vec![
            format!("{}{}", " ".repeat(gutter), bold(&left)),
            format!("{}{}", " ".repeat(end.saturating_sub(rw)), bold(&right)),
        ]
    }
}

/// The states an arrow moved each side to, dim, just inside each
/// lifeline: `│ SYN_SENT        SYN_RECEIVED │`; on two lines when both do
/// not fit between the lifelines.
fn state_lines(a: &Arrow, lay: &Layout, blank: &str, pal: Palette) -> Vec<String> {
    let name = |s: Option<crate::flow::TcpState>| s.map_or("", |s| s.name());
    side_lines(
        name(a.states.client),
        name(a.states.server),
        lay,
        blank,
        pal,
    )
}

/// `c` just inside the client's lifeline and `s` inside the server's, dim;
/// on two lines when both do not fit. Nothing when both are empty.
fn side_lines(c: &str, s: &str, lay: &Layout, blank: &str, pal: Palette) -> Vec<String> {
    if c.is_empty() && s.is_empty() {
        return Vec::new();
    }
    let inner = lay.span.saturating_sub(2);
    let (cw, sw) = (visible_width(c), visible_width(s));
    let line = |c: &str, s: &str| {
        let pad = inner.saturating_sub(visible_width(c) + visible_width(s));
        let text = format!("{c}{}{s}", " ".repeat(pad));
        format!("{blank}│ {} │", pal.paint(Paint::Dim, &text))
    };
    if cw + sw < inner {
        vec![line(c, s)]
    } else {
        vec![line(c, ""), line("", s)]
    }
}

/// One application mark on its side's lifeline, its time in the gutter:
/// `├╴write() 5 bytes: seq 1:6` at the client's, `'data' 5 bytes ╶┤` at
/// the server's; the short words when the long do not fit.
fn mark_line(m: &AppMark, lay: &Layout, pal: Palette) -> String {
    let stamp = format!(
        "{:>n$} {:>t$} ",
        "",
        m.time(),
        n = lay.num_w,
        t = lay.time_w
    );
    let room = lay.span.saturating_sub(2);
    let words = if visible_width(&m.text) <= room {
        &m.text
    } else {
        &m.short
    };
    let text = cut(words, room);
    let pad = " ".repeat(room.saturating_sub(visible_width(&text)));
    let paint = if m.is_error() { Paint::Bad } else { Paint::App };
    let ink = |t: &str| pal.paint(paint, t);
    let stamp = pal.paint(Paint::Dim, &stamp);
    if m.client {
        format!("{stamp}{}{}{pad} │", ink("├╴"), ink(&text))
    } else {
        format!("{stamp}│ {pad}{}{}", ink(&text), ink("╶┤"))
    }
}

/// Writes the whole ladder.
pub fn write_ladder(w: &mut dyn Write, ladder: &Ladder, opts: &TextOptions) -> io::Result<()> {
    for line in ladder_lines(ladder, opts).lines() {
        writeln!(w, "{line}")?;
    }
    Ok(())
}
