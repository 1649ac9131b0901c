//! The segment timeline: one row per packet.

use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment, Color, ColumnConstraint, Width};

use super::fold::{folded, group, plan, Fold, Folding, Shown};
use super::{cut, fitting_lines, new_table, strip_escapes, TextOptions, NO_BREAK};
use crate::decode::{Flags, TcpOptions};
use crate::flow::{Direction, Packet, Phase, WindowScale};
use crate::render::{analysis_words, Marks, OutputLine, Paint, SegmentKind};

/// Options in short words: `mss 65495 · sack ok · ts · wscale 10`.
pub fn options_text(o: &TcpOptions) -> String {
    let mut parts = Vec::new();
    if let Some(m) = o.mss {
        parts.push(format!("mss {m}"));
    }
    if o.sack_perm {
        parts.push("sack ok".to_string());
    }
    if o.ts_val.is_some() {
        parts.push("ts".to_string());
    }
    if let Some(s) = o.wscale {
        parts.push(format!("wscale {s}"));
    }
    for b in &o.sack {
        parts.push(format!("sack {}-{}", b[0], b[1]));
    }
    parts.join(" · ")
}

/// A payload as a short quoted string, control bytes escaped so they can
/// never drive the terminal.
pub fn preview(payload: &[u8], max_chars: usize) -> String {
    let mut s = String::new();
    crate::render::push_preview(&mut s, payload, max_chars);
    s
}

/// The columns, in order; narrower layouts leave some out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Num,
    /// The connection's stream number, when the table holds several.
    Stream,
    Ms,
    Dir,
    Flags,
    Seq,
    Ack,
    SeqRaw,
    AckRaw,
    Len,
    Window,
    Phase,
    Details,
}

impl Col {
    fn title(self, short: bool) -> &'static str {
        match self {
            Col::Num => "#",
            Col::Stream => "stream",
            Col::Ms => "ms",
            Col::Dir if short => "dir",
            Col::Dir => "direction",
            Col::Flags => "flags",
            Col::Seq => "seq",
            Col::Ack => "ack",
            Col::SeqRaw => "seq raw",
            Col::AckRaw => "ack raw",
            Col::Len => "len",
            Col::Window if short => "win B",
            // Bytes on every row: a scaled row shows the field beside them.
            Col::Window => "window (bytes)",
            Col::Phase => "phase",
            Col::Details => "details",
        }
    }

    fn right_aligned(self) -> bool {
        !matches!(self, Col::Dir | Col::Flags | Col::Phase | Col::Details)
    }
}

/// Layouts from the widest to the narrowest: (columns, short direction).
/// `streams`: the table holds several connections, told apart by a
/// stream column that every layout keeps.
fn layouts(raw_seq: bool, streams: bool) -> Vec<(Vec<Col>, bool)> {
    use Col::*;
    let mut full = vec![Num, Ms, Dir, Flags, Seq, Ack];
    if streams {
        full.insert(1, Stream);
    }
    if raw_seq {
        full.extend([SeqRaw, AckRaw]);
    }
    full.extend([Len, Window, Phase, Details]);
    let without = |cols: &[Col], drop: &[Col]| -> Vec<Col> {
        cols.iter().copied().filter(|c| !drop.contains(c)).collect()
    };
    vec![
        (full.clone(), false),
        (full.clone(), true),
        (without(&full, &[SeqRaw, AckRaw]), true),
        (without(&full, &[SeqRaw, AckRaw, Window]), true),
        (without(&full, &[SeqRaw, AckRaw, Window, Ms]), true),
        // The payload says more than the phase, which the flags imply.
        (without(&full, &[SeqRaw, AckRaw, Window, Ms, Phase]), true),
        // Then the length, which the preview partly shows, over the preview.
        (
            without(&full, &[SeqRaw, AckRaw, Window, Ms, Phase, Len]),
            true,
        ),
        (
            without(&full, &[SeqRaw, AckRaw, Window, Ms, Phase, Len, Ack]),
            true,
        ),
        (
            without(&full, &[SeqRaw, AckRaw, Window, Ms, Phase, Details]),
            true,
        ),
        (
            [Num, Stream, Dir, Flags, Len]
                .into_iter()
                .filter(|c| streams || *c != Stream)
                .collect(),
            true,
        ),
    ]
}

/// `client → server`, or `c → s` when `short`; nothing for a frame that is
/// not a placed segment.
pub(crate) fn direction_text(d: Option<Direction>, short: bool) -> &'static str {
    match (d, short) {
        (Some(Direction::ClientToServer), false) => "client → server",
        (Some(Direction::ServerToClient), false) => "server → client",
        (Some(Direction::ClientToServer), true) => "c → s",
        (Some(Direction::ServerToClient), true) => "s → c",
        (None, _) => "",
    }
}

/// The window a segment offers, in bytes: `65495` for a SYN's or an
/// unscaled one, `65536 = 64×1024` (the field times the scale factor) once
/// the handshake agreed a scale (`65536` when `short`), and `64×?` when
/// the scale is unknown (the handshake was not captured: the bytes cannot
/// be known).
fn window_text(p: &Packet, raw: u16, short: bool) -> String {
    let Some(f) = p.flow else {
        return raw.to_string();
    };
    match f.window_scale {
        Some(WindowScale::Shift(s)) if !short => format!("{} = {raw}×{}", f.window, 1u32 << s),
        // Zero is zero bytes whatever the scale.
        Some(WindowScale::Unknown) if raw == 0 => "0".to_string(),
        Some(WindowScale::Unknown) => format!("{raw}×?"),
        Some(WindowScale::Shift(_) | WindowScale::Off) | None => f.window.to_string(),
    }
}

/// A time in the `ms` column, at least as wide as `999.999`: the column's
/// width, and so the layout chosen, does not change between two runs of
/// one exchange because a time crossed 10 ms.
///
/// Past a second the column keeps its seven characters by giving up a
/// decimal (`1002.86`, `12345.7`), so a lab whose last segment comes
/// near 1000 ms keeps one layout too; a microsecond means little there.
fn ms_text(ms: f64) -> String {
    let decimals = match ms.abs() {
        m if m < 999.9995 => 3,
        m if m < 9_999.995 => 2,
        m if m < 99_999.95 => 1,
        _ => 0,
    };
    format!("{ms:>7.decimals$}")
}

/// `acks #4 after 0.012 ms`: the frame this segment's ACK completes, and
/// the round trip since it was captured (none when the times are equal).
fn acks_text(p: &Packet, timed: bool) -> Option<String> {
    let findings = p.findings();
    let frame = findings.acks_frame?;
    Some(match findings.ack_rtt.filter(|_| timed) {
        Some(rtt) => format!("acks #{frame} after {} ms", rtt.millis()),
        None => format!("acks #{frame}"),
    })
}

/// SACK edges relative to the peer's first sequence number, as the ack
/// column shows them and as tshark does (`tcp.options.sack_le`).
fn relative_sack(p: &Packet, mut o: TcpOptions) -> TcpOptions {
    if let (Some(f), Some(t)) = (p.flow, &p.tcp) {
        let base = t.ack.wrapping_sub(f.ack);
        for b in &mut o.sack {
            *b = [b[0].wrapping_sub(base), b[1].wrapping_sub(base)];
        }
    }
    o
}

/// One cell. A frame that is not TCP shows its number, time, and why in
/// `reason_col` (the details, or the flags when details are left out).
/// `ms` is the frame's time when the layout shows times; without them the
/// round trip is left out too (`acks #4`).
fn cell(
    p: &Packet,
    col: Col,
    ms: Option<f64>,
    short: bool,
    reason_col: Col,
    marks: &Marks,
) -> Cell {
    let timed = ms.is_some();
    let ms = ms.unwrap_or_default();
    let Some(tcp) = &p.tcp else {
        return match col {
            Col::Num => Cell::new(p.number),
            Col::Ms => Cell::new(ms_text(ms)),
            c if c == reason_col => {
                let why = p
                    .error
                    .as_ref()
                    .map(|e| e.to_string())
                    .or_else(|| p.note.clone())
                    .unwrap_or_default();
                Cell::new(why).fg(Color::Red)
            }
            _ => Cell::new(""),
        };
    };
    let flags = tcp.flags;
    let opt = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_default();
    match col {
        Col::Num => Cell::new(p.number),
        Col::Stream => Cell::new(p.stream().map(|s| s.to_string()).unwrap_or_default()),
        Col::Ms => Cell::new(ms_text(ms)),
        Col::Dir => Cell::new(direction_text(p.direction(), short)),
        Col::Flags => {
            let kind = SegmentKind::of(flags, p.payload_len).paint();
            Cell::new(p.spoken_flags().unwrap_or_default())
                .fg(kind.map_or(Color::Reset, Paint::table_color))
        }
        Col::Seq => Cell::new(opt(p.flow.map(|f| f.seq))),
        Col::Ack if !flags.contains(Flags::ACK) => Cell::new("-"),
        Col::Ack => Cell::new(opt(p.flow.map(|f| f.ack))),
        Col::SeqRaw => Cell::new(tcp.seq),
        Col::AckRaw => Cell::new(tcp.ack),
        Col::Len => Cell::new(p.payload_len),
        Col::Window => Cell::new(window_text(p, tcp.window, short)),
        Col::Phase => {
            let text = p.phase().map(|ph| ph.to_string()).unwrap_or_default();
            let color = match p.phase() {
                Some(Phase::Reset) => Color::Red,
                _ => Color::Reset,
            };
            Cell::new(text).fg(color)
        }
        Col::Details => {
            // Timestamps ride on every segment; show options where they say more.
            let text = if p.payload_len > 0 {
                // Narrow (no times), it must fit the details' 14 columns
                // unwrapped: a preview is one word.
                preview(p.payload(), if timed { 24 } else { 11 })
            } else if let Some(o) = p
                .options()
                .filter(|o| flags.contains(Flags::SYN) || !o.sack.is_empty())
            {
                // Each option's words stay together (`sack ok`, not `sack` / `ok`).
                options_text(&relative_sack(p, o))
                    .split(" · ")
                    .map(|part| part.replace(' ', &NO_BREAK.to_string()))
                    .collect::<Vec<_>>()
                    .join(" · ")
            } else {
                String::new()
            };
            // The analysis first: it is why a kept row of a folded trace is there.
            let analysis = analysis_words(&p.findings()).join(" · ");
            // A mark (what the impaired path did to it) says the most.
            let mark = marks.get(&p.number).cloned().unwrap_or_default();
            let parts = [
                mark,
                analysis,
                acks_text(p, timed).unwrap_or_default(),
                text,
            ];
            Cell::new(
                parts
                    .into_iter()
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · "),
            )
        }
    }
}

/// A line the traced program printed, among the rows at its time:
/// `node │ [client] Connected`, in `text_col`.
fn output_row(l: &OutputLine, cols: &[Col], text_col: Col) -> Vec<Cell> {
    cols.iter()
        .map(|&c| match c {
            Col::Ms => Cell::new(ms_text(l.t_ms)).fg(Color::DarkGrey),
            c if c == text_col => Cell::new(format!("{} │ {}", l.who, l.line)).fg(Color::Cyan),
            _ => Cell::new(""),
        })
        .collect()
}

/// A folded run's cells: its frame numbers, its payload, and its counts in
/// `text_col` (the details, or the flags when details are left out).
fn fold_cell(f: &Fold, col: Col, text_col: Col) -> Cell {
    match col {
        Col::Num => Cell::new(format!("{}–{}", f.first, f.last)),
        Col::Flags if text_col != Col::Flags => Cell::new("…"),
        // Flags do not wrap: the counts would widen the table past the width.
        Col::Flags => Cell::new(format!("… {} folded", group(f.segments as u64))),
        Col::Len => Cell::new(f.data[0].1 + f.data[1].1),
        c if c == text_col => Cell::new(f.text()).fg(Color::DarkGrey),
        _ => Cell::new(""),
    }
}

/// Writes the timeline table in the widest layout that fits; a long
/// exchange folded (see `fold.rs`) unless `opts.fold` is off.
pub fn timeline(
    w: &mut dyn Write,
    packets: &[Packet],
    marks: &Marks,
    lines: &[OutputLine],
    opts: &TextOptions,
) -> io::Result<()> {
    let shown = plan(packets, opts.fold, marks);
    let (table, left_out) = table_lines(packets, &shown, marks, lines, opts);
    for line in table {
        writeln!(w, "{line}")?;
    }
    fold_note(w, &shown, opts)?;
    narrow_note(w, &left_out, opts)
}

/// Under a table narrowed to fit: which columns it left out, so a text
/// that names one (the phase, the window) is not a riddle.
fn narrow_note(w: &mut dyn Write, left_out: &[Col], opts: &TextOptions) -> io::Result<()> {
    if left_out.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = left_out.iter().map(|c| c.title(true)).collect();
    let names: Vec<&str> = names
        .iter()
        .map(|n| if *n == "win B" { "window" } else { n })
        .collect();
    let list = match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    let text = format!(
        "at {} columns the table leaves out {list}: a wider terminal shows them",
        opts.width
    );
    super::prose(w, "", &opts.palette.paint(Paint::Dim, &text), opts)
}

/// The timeline unfolded, cut for `--step`: the header (and any program
/// line before the first segment), then each packet's row with the
/// program lines printed after it. The layout is the whole table's, so it
/// does not change as rows are revealed.
pub fn timeline_rows(
    packets: &[Packet],
    marks: &Marks,
    lines: &[OutputLine],
    opts: &TextOptions,
) -> (Vec<String>, Vec<Vec<String>>) {
    let shown = plan(packets, Folding::Never, marks);
    let (all, _) = table_lines(packets, &shown, marks, lines, opts);
    // A row starts where the number column is not blank; the header ends
    // at its rule.
    let rule = all
        .iter()
        .position(|l| l.contains('─'))
        .map_or(0, |i| i + 1);
    let num_end = all
        .first()
        .and_then(|h| strip_escapes(h).find('#'))
        .unwrap_or(0);
    let starts_row = |l: &str| {
        strip_escapes(l)
            .chars()
            .take(num_end + 1)
            .any(|c| !c.is_whitespace())
    };
    let mut head: Vec<String> = all[..rule].to_vec();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for line in &all[rule..] {
        match rows.last_mut() {
            _ if starts_row(line) => rows.push(vec![line.clone()]),
            Some(row) => row.push(line.clone()),
            None => head.push(line.clone()),
        }
    }
    (head, rows)
}

/// The timeline as cells, for a page (`--html`): the widest layout's
/// column titles, which are right-aligned, and each packet's cells, in
/// the same words as the text table (made as they are asked for: a long
/// capture's cells are millions of strings).
pub fn timeline_cells<'a>(
    packets: &'a [Packet],
    marks: &'a Marks,
) -> (
    Vec<&'static str>,
    Vec<bool>,
    impl Iterator<Item = Vec<String>> + 'a,
) {
    let t0 = packets.first().map(|p| p.ts);
    let first_stream = packets.iter().find_map(Packet::stream);
    let streams = packets
        .iter()
        .any(|p| p.stream().is_some() && p.stream() != first_stream);
    let (cols, short) = layouts(false, streams).swap_remove(1);
    let titles = cols.iter().map(|c| c.title(short)).collect();
    let right = cols.iter().map(|c| c.right_aligned()).collect();
    let rows = packets.iter().map(move |p| {
        let ms = t0.map(|t0| p.ts.secs_since(t0) * 1e3);
        cols.iter()
            .map(|&c| cell(p, c, ms, short, Col::Details, marks).content())
            .collect()
    });
    (titles, right, rows)
}

/// The table's lines in the widest layout that fits the width (the
/// narrowest, cut, when none does), and the columns that layout leaves out
/// (the raw numbers, an option, are not counted).
fn table_lines(
    packets: &[Packet],
    shown: &[Shown<'_>],
    marks: &Marks,
    lines: &[OutputLine],
    opts: &TextOptions,
) -> (Vec<String>, Vec<Col>) {
    let t0 = packets.first().map(|p| p.ts);
    let first_stream = packets.iter().find_map(Packet::stream);
    let streams = packets
        .iter()
        .any(|p| p.stream().is_some() && p.stream() != first_stream);
    let mut last = Vec::new();
    let all = layouts(opts.raw_seq, streams);
    let left_out = |cols: &[Col]| -> Vec<Col> {
        all[0]
            .0
            .iter()
            .copied()
            .filter(|c| !cols.contains(c) && !matches!(c, Col::SeqRaw | Col::AckRaw))
            .collect()
    };
    for (cols, short) in all.iter().cloned() {
        let mut t = new_table(opts);
        t.set_header(cols.iter().map(|c| c.title(short)).collect::<Vec<_>>());
        let reason_col = if cols.contains(&Col::Details) {
            Col::Details
        } else {
            Col::Flags
        };
        let mut printed = lines.iter().peekable();
        for row in shown {
            let before = match row {
                Shown::Row(p) => p.ts,
                Shown::Fold(f) => f.first_ts,
            };
            while let Some(l) = printed.next_if(|l| l.ts < before) {
                t.add_row(output_row(l, &cols, reason_col));
            }
            t.add_row(match row {
                Shown::Row(p) => {
                    let ms = t0
                        .map(|t0| p.ts.secs_since(t0) * 1e3)
                        .filter(|_| cols.contains(&Col::Ms));
                    cols.iter()
                        .map(|&c| cell(p, c, ms, short, reason_col, marks))
                        .collect::<Vec<_>>()
                }
                Shown::Fold(f) => cols.iter().map(|&c| fold_cell(f, c, reason_col)).collect(),
            });
        }
        for l in printed {
            t.add_row(output_row(l, &cols, reason_col));
        }
        for (i, c) in cols.iter().enumerate() {
            if let Some(column) = t.column_mut(i) {
                if c.right_aligned() {
                    column.set_cell_alignment(CellAlignment::Right);
                }
                // Only the details may wrap (a wrapped number or flag misleads),
                // and not into a sliver: below 16 columns a narrower layout wins.
                column.set_constraint(if *c == Col::Details {
                    ColumnConstraint::LowerBoundary(Width::Fixed(16))
                } else {
                    ColumnConstraint::ContentWidth
                });
            }
        }
        if let Some(lines) = fitting_lines(&t, opts.width) {
            let lines = lines.iter().map(|l| l.replace(NO_BREAK, " ")).collect();
            return (lines, left_out(&cols));
        }
        last = t
            .lines()
            .map(|l| l.replace(NO_BREAK, " "))
            .collect::<Vec<_>>();
    }
    let narrowest = all.last().map(|(c, _)| left_out(c)).unwrap_or_default();
    let cut_lines = last.iter().map(|line| cut(line.trim_end(), opts.width));
    (cut_lines.collect(), narrowest)
}

/// Under a folded timeline: how many rows it folded, and how to see them.
fn fold_note(w: &mut dyn Write, shown: &[Shown<'_>], opts: &TextOptions) -> io::Result<()> {
    let n = folded(shown);
    if n == 0 {
        return Ok(());
    }
    let text = format!(
        "{} of {} rows folded into the … lines (the handshake, each direction's first \
         and last data, every analysis flag's first segment and the teardown are kept); \
         --every-row shows them all",
        group(n as u64),
        group(
            (shown.len() - shown.iter().filter(|s| matches!(s, Shown::Fold(_))).count() + n) as u64
        )
    );
    super::prose(w, "", &opts.palette.paint(Paint::Dim, &text), opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Findings, FlowInfo};
    use crate::values::Elapsed;

    fn with(window: u32, window_scale: Option<WindowScale>, findings: Findings) -> Packet {
        Packet {
            flow: Some(FlowInfo {
                stream: 0,
                direction: Direction::ClientToServer,
                seq: 1,
                ack: 1,
                findings,
                phase: Phase::Data,
                window,
                window_scale,
                accecn: false,
            }),
            ..Packet::default()
        }
    }

    #[test]
    fn times_keep_seven_characters_up_to_100_seconds() {
        assert_eq!(ms_text(0.017), "  0.017");
        assert_eq!(ms_text(999.9), "999.900");
        assert_eq!(ms_text(1002.856), "1002.86");
        assert_eq!(ms_text(12_345.67), "12345.7");
        assert_eq!(ms_text(123_456.7), " 123457");
    }

    #[test]
    fn the_window_cell_is_bytes_and_says_when_they_cannot_be_known() {
        let f = Findings::default();
        let scaled = with(65536, Some(WindowScale::Shift(10)), f);
        assert_eq!(window_text(&scaled, 64, false), "65536 = 64×1024");
        assert_eq!(window_text(&scaled, 64, true), "65536");
        let syn = with(65495, None, f);
        assert_eq!(window_text(&syn, 65495, false), "65495");
        let unknown = with(64, Some(WindowScale::Unknown), f);
        assert_eq!(window_text(&unknown, 64, true), "64×?");
        // A RST-ACK refusing a SYN: no scale was agreed, and 0 is 0.
        let refused = with(0, Some(WindowScale::Unknown), f);
        assert_eq!(window_text(&refused, 0, true), "0");
        let off = with(512, Some(WindowScale::Off), f);
        assert_eq!(window_text(&off, 512, false), "512");
    }

    #[test]
    fn an_ack_names_the_frame_it_completes_and_the_round_trip() {
        let mut f = Findings {
            acks_frame: Some(4),
            ack_rtt: Some(Elapsed(120_400)),
            ..Findings::default()
        };
        let p = with(0, None, f);
        assert_eq!(
            acks_text(&p, true).as_deref(),
            Some("acks #4 after 0.120 ms")
        );
        // A layout without times leaves the round trip out.
        assert_eq!(acks_text(&p, false).as_deref(), Some("acks #4"));
        f.ack_rtt = None;
        assert_eq!(
            acks_text(&with(0, None, f), true).as_deref(),
            Some("acks #4")
        );
        assert_eq!(acks_text(&with(0, None, Findings::default()), true), None);
    }
}
