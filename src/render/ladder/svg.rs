//! The ladder as a self-contained SVG for slides: no external fonts, CSS or
//! scripts, type large enough for a projector (18 to 26 px), colours per
//! segment kind with a legend, endpoint boxes over the two lifelines,
//! slightly sloping arrows (time runs down the page) with arrowheads, the
//! label above each arrow and the notes beside the server's lifeline.
//!
//! Labels and notes are set in a monospace font so their widths can be
//! computed without font metrics (0.6 em per character, the advance of
//! DejaVu Sans Mono, Menlo and Courier); everything else is laid out
//! around them. Each segment is one `<line class="arrow ...">` with a
//! `<title>` (a tooltip in browsers) and its label `<text>`.

use std::io::{self, Write};

use super::{endpoint_text, AppMark, Arrow, Ladder, MAX_ARROWS};
use crate::flow::Phase;
use crate::render::text::wrap;
use crate::render::SegmentKind;

const MARGIN: f64 = 32.0;
// The smallest type is 20 px and a lesson's ladder is under 1370 px wide,
// so shown 1920 px wide (a slide) no text is under 28 px.
const LABEL_PX: f64 = 22.0;
const NOTE_PX: f64 = 20.0;
const GUTTER_PX: f64 = 20.0;
const TITLE_PX: f64 = 24.0;
const HEADING_PX: f64 = 28.0;
/// Advance of one monospace character, in em.
const MONO_EM: f64 = 0.6;
/// Sans-serif text is estimated wider than it usually is, to leave room.
const SANS_EM: f64 = 0.62;
/// Notes wrap at this many characters at most, fewer when the labels are
/// wide: the page stays within [`SLIDE_WIDTH`] while the notes get
/// [`NOTE_CHARS_MIN`].
const NOTE_CHARS: usize = 38;
const NOTE_CHARS_MIN: usize = 24;
/// The widest page whose smallest type (20 px) is still 28 px when shown
/// 1920 px wide.
const SLIDE_WIDTH: f64 = 20.0 * 1920.0 / 28.0;
const NOTE_LINE: f64 = 25.0;
/// Space between two notes' boxes.
const NOTE_GAP: f64 = 6.0;
/// How far an arrow falls from sender to receiver: time passes on the wire.
const DROP: f64 = 16.0;
const ROW: f64 = 74.0;
const HEAD: f64 = 14.0;
const MONO: &str = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace";
const SANS: &str = "DejaVu Sans, Helvetica, Arial, Liberation Sans, sans-serif";
const INK: &str = "#1f2937";
/// The applications' marks: a colour no segment kind uses.
const APP: &str = "#0e7490";
/// Height of one application mark's row.
const MARK_ROW: f64 = 34.0;
const GREY: &str = "#6b7280";

/// A kind's colour: dark enough to read on white from the back row.
fn colour(kind: SegmentKind) -> &'static str {
    match kind {
        SegmentKind::Syn => "#15803d",
        SegmentKind::Data => "#a21caf",
        SegmentKind::Fin => "#b45309",
        SegmentKind::Rst => "#dc2626",
        SegmentKind::Ack => "#334155",
    }
}

/// A kind's line pattern: an RST is dash-dotted, so that it is told from
/// a SYN without its red (red and green are the colours most often
/// confused).
fn dash(kind: SegmentKind) -> &'static str {
    match kind {
        SegmentKind::Rst => r#" stroke-dasharray="12 4 3 4""#,
        _ => "",
    }
}

fn id(kind: SegmentKind) -> &'static str {
    match kind {
        SegmentKind::Syn => "syn",
        SegmentKind::Data => "data",
        SegmentKind::Fin => "fin",
        SegmentKind::Rst => "rst",
        SegmentKind::Ack => "ack",
    }
}

/// Text made safe for XML character data and attribute values. Control
/// characters, which XML 1.0 forbids, become spaces.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn mono_width(text: &str, px: f64) -> f64 {
    text.chars().count() as f64 * MONO_EM * px
}

fn sans_width(text: &str, px: f64) -> f64 {
    text.chars().count() as f64 * SANS_EM * px
}

/// Numbers with at most one decimal: SVG needs no more.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

fn gutter_text(a: &Arrow) -> String {
    format!("#{}  {} ms", a.frame, a.time())
}

/// A note's lines in its box.
fn wrap_note(note: &str, chars: usize) -> Vec<String> {
    wrap("", note, chars, "")
}

/// What the legend says of each kind.
fn legend_text(kind: SegmentKind) -> &'static str {
    match kind {
        SegmentKind::Syn => "SYN: opens",
        SegmentKind::Data => "data",
        SegmentKind::Fin => "FIN: closes",
        SegmentKind::Rst => "RST: aborts",
        SegmentKind::Ack => "ACK only",
    }
}

/// Height of an endpoint's box.
const BOX_H: f64 = 66.0;

/// The horizontal layout: the columns every part is drawn in.
struct Page {
    client: String,
    server: String,
    client_box: f64,
    server_box: f64,
    /// Right edge of the frame-and-time gutter, from the margin.
    gutter_w: f64,
    client_x: f64,
    server_x: f64,
    notes_x: f64,
    /// Notes wrap at this many characters.
    note_chars: usize,
    width: f64,
}

impl Page {
    /// Columns wide enough for the widest gutter text, label, note and legend.
    fn of(ladder: &Ladder) -> Page {
        let arrows = ladder.arrows();
        let client = endpoint_text(&ladder.client);
        let server = endpoint_text(&ladder.server);
        let gutter_w = arrows
            .iter()
            .map(|a| mono_width(&gutter_text(a), GUTTER_PX))
            .chain(
                ladder
                    .marks()
                    .iter()
                    .map(|m| mono_width(&mark_time(m), GUTTER_PX)),
            )
            .fold(0.0, f64::max);
        let box_w =
            |addr: &str| mono_width(addr, LABEL_PX).max(sans_width("server", TITLE_PX)) + 36.0;
        let (client_box, server_box) = (box_w(&client), box_w(&server));
        let label_w = arrows
            .iter()
            .map(|a| mono_width(&label_text(a), LABEL_PX))
            .chain(
                ladder
                    .marks()
                    .iter()
                    .map(|m| mono_width(&m.text, GUTTER_PX) - 60.0),
            )
            .fold(0.0, f64::max);
        // Between the gutter and the client's lifeline: the phase brackets.
        let client_x = (MARGIN + gutter_w + BRACKET_W).max(MARGIN + client_box / 2.0);
        let span = (label_w + 110.0)
            .max(560.0)
            .max(client_box / 2.0 + server_box / 2.0 + 48.0);
        let server_x = client_x + span;
        let notes_x = server_x + 30.0;
        let room = (SLIDE_WIDTH - notes_x - 28.0 - MARGIN) / (MONO_EM * NOTE_PX);
        let note_chars = (room.floor().max(0.0) as usize).clamp(NOTE_CHARS_MIN, NOTE_CHARS);
        let notes_w = arrows
            .iter()
            .flat_map(|a| &a.notes)
            .flat_map(|note| wrap_note(note, note_chars))
            .map(|l| mono_width(&l, NOTE_PX))
            .fold(0.0, f64::max);
        let legend_w: f64 = kinds_present(ladder)
            .iter()
            .map(|k| 56.0 + mono_width(legend_text(*k), NOTE_PX) + 28.0)
            .sum::<f64>()
            + mono_width(APP_LEGEND, NOTE_PX)
            + 40.0;
        let width = (notes_x + notes_w + 28.0)
            .max(server_x + server_box / 2.0)
            .max(MARGIN + legend_w)
            + MARGIN;
        Page {
            client,
            server,
            client_box,
            server_box,
            gutter_w,
            client_x,
            server_x,
            notes_x,
            note_chars,
            width,
        }
    }
}

/// How the SVG is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SvgOptions {
    /// Pure ACKs (no payload, nothing to say but their arithmetic) as thin
    /// unlabelled lines: a ladder takes less of a slide.
    pub fold_acks: bool,
}

/// Writes the ladder as an SVG document.
pub fn write_ladder_svg(w: &mut dyn Write, ladder: &Ladder) -> io::Result<()> {
    write_ladder_svg_with(w, ladder, SvgOptions::default())
}

/// Writes the ladder as an SVG document, drawn as `opts` says.
pub fn write_ladder_svg_with(
    w: &mut dyn Write,
    ladder: &Ladder,
    opts: SvgOptions,
) -> io::Result<()> {
    let page = Page::of(ladder);
    let title = ladder
        .title
        .clone()
        .unwrap_or_else(|| default_title(ladder));
    // Top to bottom: heading, endpoint boxes, lifelines under the rows,
    // the note on omitted segments, the legend.
    let all = 0..ladder.arrows().len();
    let (body, height) = page_body(ladder, &page, opts, &title, all, true);
    write_document(w, page.width, height, &title, &body)
}

/// The ladder as 16:9 slides, each a whole SVG document: the rows are
/// shared out so each slide holds what fits, a phase kept whole on its
/// slide where it can be. Every slide has the heading (`1/3`), the
/// endpoint boxes and the legend; the last has the kernel's words.
pub fn ladder_slides(ladder: &Ladder, opts: SvgOptions) -> Vec<String> {
    let page = Page::of(ladder);
    let width = page.width.max(SLIDE_MIN_WIDTH);
    let height = width * 9.0 / 16.0;
    let title = ladder
        .title
        .clone()
        .unwrap_or_else(|| default_title(ladder));
    let slides = share_out(ladder, &page, opts, height - SLIDE_FRAME - MARK_ROW);
    let n = slides.len();
    slides
        .into_iter()
        .enumerate()
        .map(|(i, range)| {
            let heading = if n > 1 {
                format!("{title} ({}/{n})", i + 1)
            } else {
                title.clone()
            };
            let (body, used) = page_body(ladder, &page, opts, &heading, range, i + 1 == n);
            let mut doc = Vec::new();
            // A slide taller than 16:9 only when one row alone is.
            let _ = write_document(&mut doc, width, height.max(used), &heading, &body);
            String::from_utf8_lossy(&doc).into_owned()
        })
        .collect()
}

/// A slide no narrower than this, so a short ladder is not a tall slide.
const SLIDE_MIN_WIDTH: f64 = 1280.0;
/// A page's height beyond its rows: heading, boxes, legend, margins.
const SLIDE_FRAME: f64 = 254.0;

/// The arrows' ranges, one per slide, in order: greedy, but a phase that
/// would not fit in what is left of a slide and would fit a fresh one
/// starts the next slide.
fn share_out(
    ladder: &Ladder,
    page: &Page,
    opts: SvgOptions,
    room: f64,
) -> Vec<std::ops::Range<usize>> {
    let n = ladder.arrows().len();
    let heights: Vec<f64> = (0..n)
        .map(|i| segment_rows(ladder, page, opts, 0.0, i..i + 1).1)
        .collect();
    let phase = |i: usize| ladder.arrows()[i].phase.map(phase_name);
    let phase_height = |from: usize| -> f64 {
        (from..n)
            .take_while(|&j| phase(j) == phase(from))
            .map(|j| heights[j])
            .sum()
    };
    let mut slides = Vec::new();
    let (mut start, mut used) = (0, 0.0);
    for (i, &h) in heights.iter().enumerate() {
        let new_phase = i > start && phase(i) != phase(i - 1);
        let whole = phase_height(i);
        let over = used + h > room;
        let phase_moves = new_phase && used + whole > room && whole <= room;
        if i > start && (over || phase_moves) {
            slides.push(start..i);
            (start, used) = (i, 0.0);
        }
        used += h;
    }
    slides.push(start..n);
    slides
}

/// One page's body (heading, boxes, lifelines, the rows of `arrows`, the
/// legend, and when `last` the kernel's words and the omitted count) and
/// its height.
fn page_body(
    ladder: &Ladder,
    page: &Page,
    opts: SvgOptions,
    title: &str,
    arrows: std::ops::Range<usize>,
    last: bool,
) -> (String, f64) {
    let mut body = String::new();
    let box_top = heading(&mut body, title);
    endpoint_boxes(&mut body, page, box_top);
    let (mut rows, mut y) = segment_rows(ladder, page, opts, box_top + BOX_H + 46.0, arrows);
    if last {
        y += kernel_texts(&mut rows, ladder, page, y);
    }
    let lifeline_end = y - ROW + DROP + 24.0;
    lifelines(&mut body, page, box_top, lifeline_end);
    body.push_str(&rows);
    let mut y = lifeline_end + 20.0;
    if last && ladder.omitted() > 0 {
        y += NOTE_PX + 8.0;
        body.push_str(&format!(
            r#"<text x="{}" y="{}" font-family="{SANS}" font-size="{NOTE_PX}" fill="{GREY}">… {} more segments not drawn (a ladder shows the first {MAX_ARROWS})</text>
"#,
            n(MARGIN),
            n(y),
            ladder.omitted()
        ));
    }
    let y = legend(&mut body, ladder, y + 40.0);
    (body, y + MARGIN)
}

/// The heading at the top margin; returns where the endpoint boxes start.
fn heading(body: &mut String, title: &str) -> f64 {
    let y = MARGIN;
    body.push_str(&format!(
        r#"<text class="heading" x="{}" y="{}" font-family="{SANS}" font-size="{HEADING_PX}" font-weight="bold" fill="{INK}">{}</text>
"#,
        n(MARGIN),
        n(y + HEADING_PX),
        escape(title)
    ));
    y + HEADING_PX + 24.0
}

/// The client's and the server's box: role and address, over each lifeline.
fn endpoint_boxes(body: &mut String, page: &Page, box_top: f64) {
    for (x, role, addr, bw) in [
        (page.client_x, "client", &page.client, page.client_box),
        (page.server_x, "server", &page.server, page.server_box),
    ] {
        body.push_str(&format!(
            r##"<rect x="{}" y="{}" width="{}" height="{}" rx="10" fill="#f3f4f6" stroke="{INK}" stroke-width="2"/>
<text x="{}" y="{}" text-anchor="middle" font-family="{SANS}" font-size="{TITLE_PX}" font-weight="bold" fill="{INK}">{role}</text>
<text x="{}" y="{}" text-anchor="middle" font-family="{MONO}" font-size="{LABEL_PX}" fill="{INK}">{}</text>
"##,
            n(x - bw / 2.0),
            n(box_top),
            n(bw),
            n(BOX_H),
            n(x),
            n(box_top + 28.0),
            n(x),
            n(box_top + 54.0),
            escape(addr)
        ));
    }
}

/// One row per arrow of `range` from `y` down, with the applications'
/// marks around each (or a line saying there is no arrow at all); returns
/// the rows and the `y` below the last.
fn segment_rows(
    ladder: &Ladder,
    page: &Page,
    opts: SvgOptions,
    mut y: f64,
    range: std::ops::Range<usize>,
) -> (String, f64) {
    let arrows = ladder.arrows();
    let mut rows = String::new();
    let mut spans: Vec<(&'static str, f64, f64)> = Vec::new();
    let around = ladder.marks_around();
    let chosen = arrows
        .iter()
        .zip(around)
        .skip(range.start)
        .take(range.len());
    for (a, (before, after)) in chosen {
        let top = y - ROW_TOP;
        y += mark_rows(&mut rows, &before, page, y);
        y += if opts.fold_acks && foldable(a) {
            thin_row(&mut rows, a, page, y)
        } else {
            segment_row(&mut rows, a, page, y)
        };
        if !after.is_empty() && a.states != Default::default() {
            y += 10.0; // room under the state words
        }
        y += mark_rows(&mut rows, &after, page, y);
        let phase = a.phase.map(phase_name).unwrap_or("");
        match spans.last_mut() {
            Some(last) if last.0 == phase => last.2 = y - ROW_TOP,
            _ => spans.push((phase, top, y - ROW_TOP)),
        }
    }
    for (phase, top, bottom) in spans.into_iter().filter(|s| !s.0.is_empty()) {
        bracket(&mut rows, page, phase, top, bottom);
    }
    if arrows.is_empty() {
        rows.push_str(&format!(
            r#"<text x="{}" y="{}" text-anchor="middle" font-family="{SANS}" font-size="{NOTE_PX}" fill="{GREY}">no TCP segments to draw</text>
"#,
            n((page.client_x + page.server_x) / 2.0),
            n(y)
        ));
        y += ROW;
    }
    (rows, y)
}

/// One segment as a group: the arrow with its tooltip, its label above,
/// frame and time in the gutter, its notes; returns the row's height.
fn segment_row(rows: &mut String, a: &Arrow, page: &Page, y: f64) -> f64 {
    let (from, to) = if a.from_client() {
        (page.client_x, page.server_x)
    } else {
        (page.server_x, page.client_x)
    };
    let colour = colour(a.kind);
    let (y1, y2) = (y, y + DROP);
    // The line stops where the arrowhead's base begins.
    let len = ((to - from).powi(2) + DROP * DROP).sqrt();
    let (mut x2, mut y2) = (to - (to - from) / len * HEAD, y2 - DROP / len * HEAD);
    let mut head = format!("url(#head-{})", id(a.kind));
    if a.lost {
        // Dropped on the path: the line stops half-way, at a cross.
        (x2, y2) = ((from + to) / 2.0, y1 + DROP / 2.0);
        head = "none".to_string();
    }
    let baseline = y - 12.0;
    let classes = format!("arrow {}", id(a.kind));
    let dash = dash(a.kind);
    rows.push_str(&format!(
        r#"<g class="segment" data-frame="{frame}">
<line class="{classes}" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{colour}" stroke-width="3"{dash} marker-end="{head}"><title>frame {frame}: {}</title></line>
<text class="label" x="{}" y="{}" text-anchor="middle" font-family="{MONO}" font-size="{LABEL_PX}" fill="{colour}">{}"#,
        n(from),
        n(y1),
        n(x2),
        n(y2),
        escape(&label_text(a)),
        n((page.client_x + page.server_x) / 2.0),
        n(baseline),
        escape(&a.label()),
        frame = a.frame,
    ));
    if let Some(p) = &a.preview {
        rows.push_str(&format!(
            r#" <tspan font-weight="bold" fill="{INK}">{}</tspan>"#,
            escape(p)
        ));
    }
    rows.push_str("</text>\n");
    if a.lost {
        rows.push_str(&format!(
            r#"<text class="lost" x="{}" y="{}" text-anchor="middle" dominant-baseline="central" font-family="{MONO}" font-size="{}" font-weight="bold" fill="{colour}">✗</text>
"#,
            n(x2),
            n(y2),
            n(LABEL_PX * 1.6)
        ));
    }
    rows.push_str(&format!(
        r#"<text class="time" x="{}" y="{}" text-anchor="end" font-family="{MONO}" font-size="{GUTTER_PX}" fill="{GREY}">{}</text>
"#,
        n(MARGIN + page.gutter_w),
        n(baseline),
        escape(&gutter_text(a))
    ));
    state_texts(rows, a, page, y + DROP + 22.0);
    let top = baseline - NOTE_PX - 2.0;
    let bottom = note_boxes(rows, &a.notes, page, top);
    rows.push_str("</g>\n");
    ROW.max(bottom - top + 26.0)
}

/// How far above a row's `y` its label's top is: where a phase begins.
const ROW_TOP: f64 = 40.0;
/// Room between the gutter and the client's lifeline, for the brackets.
const BRACKET_W: f64 = 64.0;

/// The phase's name on its bracket.
fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Handshake(_) => "handshake",
        Phase::Data => "data",
        Phase::Teardown => "teardown",
        Phase::Reset => "reset",
    }
}

/// A phase's bracket from `top` to `bottom`, just right of the gutter, its
/// name written up its side (`class="phase"`).
fn bracket(rows: &mut String, page: &Page, phase: &str, top: f64, bottom: f64) {
    let x = MARGIN + page.gutter_w + 14.0;
    let (t, b) = (top + 4.0, bottom - 4.0);
    let mid = (t + b) / 2.0;
    rows.push_str(&format!(
        r#"<g class="phase" data-phase="{phase}"><path d="M{x2},{t} H{x} V{b} H{x2}" fill="none" stroke="{GREY}" stroke-width="2"/><text x="{tx}" y="{mid}" transform="rotate(-90 {tx} {mid})" text-anchor="middle" font-family="{SANS}" font-size="{NOTE_PX}" fill="{GREY}">{phase}</text></g>
"#,
        x = n(x),
        x2 = n(x + 8.0),
        t = n(t),
        b = n(b),
        tx = n(x + 24.0),
        mid = n(mid),
    ));
}

/// A pure ACK whose only notes are its arithmetic: what `fold_acks` folds.
fn foldable(a: &Arrow) -> bool {
    a.kind == SegmentKind::Ack
        && a.len == 0
        && !a.lost
        && a.notes.iter().all(|n| n.starts_with("ack "))
}

/// A folded pure ACK: a thin dashed line with its head, the frame in the
/// gutter, the states it moved; returns the row's height.
fn thin_row(rows: &mut String, a: &Arrow, page: &Page, y: f64) -> f64 {
    let (from, to) = if a.from_client() {
        (page.client_x, page.server_x)
    } else {
        (page.server_x, page.client_x)
    };
    let y1 = y - 20.0;
    let x2 = to - (to - from).signum() * HEAD;
    rows.push_str(&format!(
        r##"<g class="segment folded" data-frame="{frame}">
<line class="arrow ack" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{GREY}" stroke-width="1.5" stroke-dasharray="6 4" marker-end="url(#head-ack)"><title>frame {frame}: {}</title></line>
<text class="time" x="{}" y="{}" text-anchor="end" font-family="{MONO}" font-size="{GUTTER_PX}" fill="{GREY}">#{frame}</text>
"##,
        n(from),
        n(y1),
        n(x2),
        n(y1 + DROP / 2.0),
        escape(&label_text(a)),
        n(MARGIN + page.gutter_w),
        n(y1 + 6.0),
        frame = a.frame,
    ));
    let states = a.states != Default::default();
    if states {
        state_texts(rows, a, page, y1 + DROP / 2.0 + 24.0);
    }
    rows.push_str("</g>\n");
    if states {
        60.0
    } else {
        34.0
    }
}

/// What the applications did, one row each: a dot on the side's lifeline,
/// the words inside the lifelines, the time in the gutter. Returns the
/// rows' height.
fn mark_rows(rows: &mut String, marks: &[&AppMark], page: &Page, y: f64) -> f64 {
    for (i, m) in marks.iter().enumerate() {
        let base = y + i as f64 * MARK_ROW - 12.0;
        let (x, text_x, anchor) = if m.client {
            (page.client_x, page.client_x + 14.0, "start")
        } else {
            (page.server_x, page.server_x - 14.0, "end")
        };
        let ink = if m.is_error() {
            colour(SegmentKind::Rst)
        } else {
            APP
        };
        rows.push_str(&format!(
            r#"<g class="app" data-side="{side}" data-slot="{slot}">
<circle cx="{}" cy="{}" r="6" fill="{ink}"/>
<text x="{}" y="{}" text-anchor="{anchor}" font-family="{MONO}" font-size="{GUTTER_PX}" fill="{ink}">{}</text>
<text class="time" x="{}" y="{}" text-anchor="end" font-family="{MONO}" font-size="{GUTTER_PX}" fill="{GREY}">{}</text>
</g>
"#,
            n(x),
            n(base - 6.0),
            n(text_x),
            n(base),
            escape(&m.text),
            n(MARGIN + page.gutter_w),
            n(base),
            escape(&mark_time(m)),
            side = if m.client { "client" } else { "server" },
            slot = m.slot,
        ));
    }
    marks.len() as f64 * MARK_ROW
}

/// Each side's last state as its kernel reported it, just inside its
/// lifeline under the last row (`kernel: TIME_WAIT ✓`); returns the height.
fn kernel_texts(rows: &mut String, ladder: &Ladder, page: &Page, y: f64) -> f64 {
    let [c, s] = ladder.kernel_words();
    if c.is_none() && s.is_none() {
        return 0.0;
    }
    side_texts(rows, page, "kernel", [c.as_deref(), s.as_deref()], y - 12.0);
    MARK_ROW
}

/// A mark's time for the gutter: `0.245 ms`, or nothing when not known.
fn mark_time(m: &AppMark) -> String {
    match m.time() {
        t if t.is_empty() => t,
        t => format!("{t} ms"),
    }
}

/// The states the arrow moved each side to, under it, just inside each
/// lifeline (`SYN_SENT` at the client's, `SYN_RECEIVED` at the server's).
fn state_texts(rows: &mut String, a: &Arrow, page: &Page, y: f64) {
    let name = |s: Option<crate::flow::TcpState>| s.map(|s| s.name());
    let words = [name(a.states.client), name(a.states.server)];
    side_texts(rows, page, "state", words, y);
}

/// Grey words of `class` on the baseline `y`, just inside each lifeline:
/// the client's, then the server's.
fn side_texts(rows: &mut String, page: &Page, class: &str, words: [Option<&str>; 2], y: f64) {
    let sides = [
        (words[0], page.client_x + 8.0, "start"),
        (words[1], page.server_x - 8.0, "end"),
    ];
    for (text, x, anchor) in sides {
        if let Some(text) = text {
            rows.push_str(&format!(
                r#"<text class="{class}" x="{}" y="{}" text-anchor="{anchor}" font-family="{MONO}" font-size="{GUTTER_PX}" fill="{GREY}">{}</text>
"#,
                n(x),
                n(y),
                escape(text)
            ));
        }
    }
}

/// One box per note, stacked from `top` beside the server's lifeline;
/// returns the `y` below the last box and its gap.
fn note_boxes(rows: &mut String, notes: &[String], page: &Page, mut top: f64) -> f64 {
    let x = page.notes_x;
    for note in notes {
        let lines = wrap_note(note, page.note_chars);
        let h = lines.len() as f64 * NOTE_LINE + 10.0;
        let bw = lines
            .iter()
            .map(|l| mono_width(l, NOTE_PX))
            .fold(0.0, f64::max)
            + 20.0;
        rows.push_str(&format!(
            r##"<rect class="note" x="{}" y="{}" width="{}" height="{}" rx="6" fill="#fffbeb" stroke="#f59e0b" stroke-width="1.5"/>
"##,
            n(x),
            n(top),
            n(bw),
            n(h)
        ));
        for (i, line) in lines.iter().enumerate() {
            rows.push_str(&format!(
                r#"<text class="note" x="{}" y="{}" font-family="{MONO}" font-size="{NOTE_PX}" fill="{INK}">{}</text>
"#,
                n(x + 10.0),
                n(top + NOTE_PX + 2.0 + i as f64 * NOTE_LINE),
                escape(line)
            ));
        }
        top += h + NOTE_GAP;
    }
    top
}

/// The two lifelines, from under the boxes to `end` (at least 40 px long).
fn lifelines(body: &mut String, page: &Page, box_top: f64, end: f64) {
    for x in [page.client_x, page.server_x] {
        body.push_str(&format!(
            r##"<line class="lifeline" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#9ca3af" stroke-width="2"/>
"##,
            n(x),
            n(box_top + BOX_H),
            n(x),
            n(end.max(box_top + BOX_H + 40.0))
        ));
    }
}

/// The kinds of segment the ladder draws, in the legend's order.
fn kinds_present(ladder: &Ladder) -> Vec<SegmentKind> {
    SegmentKind::ALL
        .into_iter()
        .filter(|k| ladder.arrows().iter().any(|a| a.kind == *k))
        .collect()
}

/// What the legend says of the applications' marks.
const APP_LEGEND: &str = "what the application did";

/// The legend on the baseline `y`: one short arrow per kind drawn, and the
/// applications' dot when there are marks; returns `y`.
fn legend(body: &mut String, ladder: &Ladder, y: f64) -> f64 {
    let mut x = MARGIN;
    for kind in kinds_present(ladder) {
        let what = legend_text(kind);
        body.push_str(&format!(
            r#"<g class="legend"><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{c}" stroke-width="3"{d} marker-end="url(#head-{})"/><text x="{}" y="{}" font-family="{MONO}" font-size="{NOTE_PX}" fill="{c}">{}</text></g>
"#,
            n(x),
            n(y - 6.0),
            n(x + 48.0 - HEAD),
            n(y - 6.0),
            id(kind),
            n(x + 56.0),
            n(y),
            escape(what),
            c = colour(kind),
            d = dash(kind),
        ));
        x += 56.0 + mono_width(what, NOTE_PX) + 28.0;
    }
    if !ladder.marks().is_empty() {
        body.push_str(&format!(
            r#"<g class="legend"><circle cx="{}" cy="{}" r="6" fill="{APP}"/><text x="{}" y="{}" font-family="{MONO}" font-size="{NOTE_PX}" fill="{APP}">{APP_LEGEND}</text></g>
"#,
            n(x + 24.0),
            n(y - 6.0),
            n(x + 40.0),
            n(y),
        ));
    }
    y
}

/// The document around `body`: size, title, one arrowhead marker per kind
/// and a white background.
fn write_document(
    w: &mut dyn Write,
    width: f64,
    height: f64,
    title: &str,
    body: &str,
) -> io::Result<()> {
    let (wd, ht) = (n(width), n(height));
    write!(
        w,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{wd}" height="{ht}" viewBox="0 0 {wd} {ht}" role="img" aria-label="{}">
<title>{}</title>
<defs>
"#,
        escape(title),
        escape(title)
    )?;
    for kind in SegmentKind::ALL {
        writeln!(
            w,
            r#"<marker id="head-{}" viewBox="0 0 12 12" refX="0" refY="6" markerWidth="{HEAD}" markerHeight="{HEAD}" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L12,6 L0,12 z" fill="{}"/></marker>"#,
            id(kind),
            colour(kind)
        )?;
    }
    writeln!(w, "</defs>")?;
    writeln!(w, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##)?;
    w.write_all(body.as_bytes())?;
    writeln!(w, "</svg>")
}

/// `One TCP connection: 10 segments in 0.880 ms`.
fn default_title(ladder: &Ladder) -> String {
    let count = ladder.arrows().len() + ladder.omitted();
    let last = ladder.arrows().last().map(|a| a.time()).unwrap_or_default();
    match count {
        0 => "One TCP connection: no segments".to_string(),
        1 => "One TCP connection: 1 segment".to_string(),
        _ => format!("One TCP connection: {count} segments in {last} ms"),
    }
}

/// What the label shows, preview included (for widths and tooltips).
fn label_text(a: &Arrow) -> String {
    match &a.preview {
        Some(p) => format!("{} {p}", a.label()),
        None => a.label(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(escape("x\u{1}y"), "x y");
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(n(12.0), "12");
        assert_eq!(n(12.345), "12.3");
    }
}
