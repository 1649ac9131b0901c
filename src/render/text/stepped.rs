//! `--step` for `trace` and `lab`: the report cut into [`Steps`], one
//! piece per segment, so nothing later is on screen before its time.
//!
//! A segment's piece is its timeline row (laid out as in the whole table,
//! so columns do not move as rows come), its arrow on the ladder, its
//! header sizes, its dump and, with `--explain`, its fields. With
//! `--diagram` only the ladder is stepped: the projector's view.

use std::collections::HashMap;
use std::io::{self, Write};

use super::{dump_one, explain_one, marks_of, size_row, timeline_rows, trace_head, trace_tail};
use super::{Folding, HexdumpMode, TextOptions};
use crate::flow::Packet;
use crate::render::{ladder_lines, Ladder, Marks, OutputLine, Steps, TraceReport};

/// What a stepped report shows of each segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepView {
    /// Its row, arrow, header sizes, dump and fields.
    Report,
    /// Its arrow only (`--step --diagram`).
    Ladder,
}

/// A ladder's lines, each arrow's found by the frame it draws.
pub struct Arrows {
    head: Vec<String>,
    groups: Vec<Vec<String>>,
    by_frame: HashMap<u64, usize>,
    tail: Vec<String>,
}

impl Arrows {
    /// Unfolded, as the stepped timeline is: a piece per segment, and each
    /// segment's own arrow (a folded ladder has fewer arrows than frames).
    pub fn of(ladder: &Ladder, opts: &TextOptions) -> Arrows {
        let opts = TextOptions {
            fold: Folding::Never,
            ..*opts
        };
        let lines = ladder_lines(ladder, &opts);
        let frames = ladder.arrows().iter().enumerate();
        Arrows {
            by_frame: frames.map(|(i, a)| (a.frame, i)).collect(),
            groups: lines.arrows,
            head: lines.head,
            tail: lines.tail,
        }
    }

    fn of_frame(&self, frame: u64) -> &[String] {
        self.by_frame
            .get(&frame)
            .map_or(&[], |&i| self.groups[i].as_slice())
    }

    /// Adds the ladder to `steps`: its head to the piece being built, a
    /// piece per arrow, its tail to the last.
    pub fn push_steps(&self, steps: &mut Steps) {
        steps.extend(self.head.iter().cloned());
        for (i, group) in self.groups.iter().enumerate() {
            steps.pause(format!("segment {} of {}", i + 1, self.groups.len()));
            steps.extend(group.iter().cloned());
        }
        steps.extend(self.tail.iter().cloned());
    }
}

/// What a writer wrote, as lines.
pub fn lines_of(f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<Vec<String>> {
    let mut buf = Vec::new();
    f(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf)
        .lines()
        .map(String::from)
        .collect())
}

/// `trace --step`.
pub fn trace_steps(
    report: &TraceReport,
    arrows: Option<&Arrows>,
    view: StepView,
    opts: &TextOptions,
) -> io::Result<Steps> {
    let mut steps = Steps::new(Vec::new());
    push_trace(&mut steps, report, arrows, view, opts)?;
    Ok(steps)
}

/// Adds a trace report to `steps`: its head to the piece being built, a
/// piece per segment, and a piece for its totals.
pub fn push_trace(
    steps: &mut Steps,
    report: &TraceReport,
    arrows: Option<&Arrows>,
    view: StepView,
    opts: &TextOptions,
) -> io::Result<()> {
    steps.extend(lines_of(|w| trace_head(w, report, opts))?);
    steps.extend([String::new()]);
    let marks = marks_of(report);
    let segments = segment_pieces(steps, &report.packets, marks, &report.lines, view, opts)?;
    let ladders = arrows.map_or(&[][..], std::slice::from_ref);
    push_segments(steps, &segments, ladders, view);
    steps.pause("the totals");
    steps.blank();
    let tail = lines_of(|w| trace_tail(w, report, opts))?;
    steps.extend(tail.into_iter().skip_while(|l| l.is_empty()));
    Ok(())
}

/// The timeline's head added to `steps`, and a piece per segment of
/// `packets` (its row, then its sizes, dump and fields); none when only
/// the ladder is stepped.
pub(super) fn segment_pieces(
    steps: &mut Steps,
    packets: &[Packet],
    marks: &Marks,
    lines: &[OutputLine],
    view: StepView,
    opts: &TextOptions,
) -> io::Result<Vec<Segment>> {
    if view == StepView::Ladder {
        return Ok(Vec::new());
    }
    let (head, rows) = timeline_rows(packets, marks, lines, opts);
    steps.extend(head);
    let width = packets.len().to_string().len() + 1;
    packets
        .iter()
        .zip(rows)
        .map(|(p, row)| Ok(Segment::new(p.number, row, segment_lines(p, width, opts)?)))
        .collect()
}

/// A segment's header sizes, dump and fields, under its row.
fn segment_lines(p: &Packet, width: usize, opts: &TextOptions) -> io::Result<Vec<String>> {
    lines_of(|w| {
        size_row(w, p, width, opts)?;
        if opts.hexdump != HexdumpMode::None {
            dump_one(w, p, opts.max_hex, opts)?;
        }
        if opts.explain {
            explain_one(w, p, opts)?;
        }
        Ok(())
    })
}

/// One segment's piece of a stepped report: its row, then what goes under
/// the row and its arrow (sizes, dump, fields).
pub struct Segment {
    frame: u64,
    row: Vec<String>,
    more: Vec<String>,
}

impl Segment {
    pub fn new(frame: u64, row: Vec<String>, more: Vec<String>) -> Segment {
        Segment { frame, row, more }
    }
}

/// A piece per segment; with [`StepView::Ladder`] a piece per arrow of
/// each ladder instead.
pub fn push_segments(steps: &mut Steps, segments: &[Segment], ladders: &[Arrows], view: StepView) {
    if view == StepView::Ladder {
        for arrows in ladders {
            arrows.push_steps(steps);
        }
        return;
    }
    let n = segments.len();
    for (i, s) in segments.iter().enumerate() {
        steps.pause(format!("segment {} of {n}", i + 1));
        steps.extend(s.row.iter().cloned());
        // The arrow keeps its frame number and time, as in the ladder: a
        // mark above it has its own time, and the two are read together.
        let arrow = ladders.iter().flat_map(|a| a.of_frame(s.frame));
        steps.extend(arrow.cloned());
        steps.extend(s.more.iter().cloned());
        steps.blank();
    }
}
