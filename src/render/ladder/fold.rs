//! A long terminal ladder, folded as the timeline is (`text::fold`): the
//! arrows that say something are drawn (handshake and teardown, each
//! direction's first and last data, a lost segment, a state change, the
//! first few of each kind of note, an application's `end()`, `'close'` or
//! error), and each run of the rest becomes one line with its counts. The
//! zero-window lab's 526 arrows were 1,100 lines; folded, two screens.

use super::{AppKind, AppMark, Arrow};
use crate::flow::{Direction, Phase};
// The timeline's thresholds: a ladder folds where its table does.
use crate::render::text::{group, Folding, KEEP_EACH, MIN_RUN};
use crate::values::{CallKind, EventKind};

/// What the ladder draws, in order.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Drawn {
    /// The arrow at this index.
    Arrow(usize),
    Fold(ArrowFold),
}

/// A run of arrows drawn as one line.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct ArrowFold {
    /// Frame numbers of the first and last arrow folded.
    pub frames: (u64, u64),
    pub segments: usize,
    /// Data segments and their payload bytes, client → server then back.
    data: [(usize, u64); 2],
    empty: usize,
    /// Application marks folded with them: writes, then reads.
    writes: usize,
    reads: usize,
}

impl ArrowFold {
    fn add(&mut self, a: &Arrow, marks: &[&AppMark]) {
        if self.segments == 0 {
            self.frames.0 = a.frame;
        }
        self.frames.1 = a.frame;
        self.segments += 1;
        match (a.len, a.direction) {
            (0, _) => self.empty += 1,
            (n, Direction::ClientToServer) => add_data(&mut self.data[0], n),
            (n, Direction::ServerToClient) => add_data(&mut self.data[1], n),
        }
        for m in marks {
            match m.kind {
                AppKind::Call(_) => self.writes += 1,
                _ => self.reads += 1,
            }
        }
    }

    /// `⋮ 507 folded (#15–521)`, drawn between the lifelines.
    pub fn title(&self) -> String {
        let (a, b) = self.frames;
        format!("⋮ {} folded (#{a}–{b})", group(self.segments as u64))
    }

    /// `c → s 250 data, 8,290,304 bytes · 257 without payload · 250 reads`
    pub fn counts(&self) -> String {
        let mut parts = Vec::new();
        for (d, label) in [(0, "c → s"), (1, "s → c")] {
            let (n, bytes) = self.data[d];
            if n > 0 {
                let (n, bytes) = (group(n as u64), group(bytes));
                parts.push(format!("{label} {n} data, {bytes} bytes"));
            }
        }
        if self.empty > 0 {
            parts.push(format!("{} without payload", group(self.empty as u64)));
        }
        for (n, what) in [(self.writes, "writes"), (self.reads, "reads")] {
            if n > 0 {
                parts.push(format!("{} {what}", group(n as u64)));
            }
        }
        parts.join(" · ")
    }
}

fn add_data(slot: &mut (usize, u64), len: usize) {
    slot.0 += 1;
    slot.1 += len as u64;
}

/// Every arrow, or (when `fold` folds this many) the kept arrows and folds.
/// `marks[i]` are the marks drawn with arrow `i` (`Ladder::marks_around`).
pub(super) fn plan(
    arrows: &[Arrow],
    marks: &[(Vec<&AppMark>, Vec<&AppMark>)],
    fold: Folding,
) -> Vec<Drawn> {
    if !fold.folds(arrows.len()) {
        return (0..arrows.len()).map(Drawn::Arrow).collect();
    }
    let keep = kept(arrows, marks);
    let mut out = Vec::new();
    let mut run: Vec<usize> = Vec::new();
    let flush = |run: &mut Vec<usize>, out: &mut Vec<Drawn>| {
        if run.len() < MIN_RUN {
            out.extend(run.drain(..).map(Drawn::Arrow));
            return;
        }
        let mut f = ArrowFold::default();
        for i in run.drain(..) {
            let (before, after) = &marks[i];
            let all: Vec<&AppMark> = before.iter().chain(after).copied().collect();
            f.add(&arrows[i], &all);
        }
        out.push(Drawn::Fold(f));
    };
    for (i, keep) in keep.into_iter().enumerate() {
        if keep {
            flush(&mut run, &mut out);
            out.push(Drawn::Arrow(i));
        } else {
            run.push(i);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Which arrows say something on their own.
fn kept(arrows: &[Arrow], marks: &[(Vec<&AppMark>, Vec<&AppMark>)]) -> Vec<bool> {
    let data = |d: Direction| {
        let mut it = arrows
            .iter()
            .enumerate()
            .filter(move |(_, a)| a.direction == d && a.len > 0)
            .map(|(i, _)| i);
        let first = it.next();
        (first, it.next_back().or(first))
    };
    let ends: Vec<usize> = [Direction::ClientToServer, Direction::ServerToClient]
        .into_iter()
        .flat_map(|d| {
            let (a, b) = data(d);
            [a, b]
        })
        .flatten()
        .collect();
    // Notes count by their words, digits left out: "zero window" probes
    // differ only in their numbers.
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut new_kind = |a: &Arrow| {
        let Some(note) = a.notes.first() else {
            return false;
        };
        let key: String = note.chars().filter(|c| !c.is_ascii_digit()).collect();
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => {
                *n += 1;
                *n <= KEEP_EACH
            }
            None => {
                seen.push((key, 1));
                true
            }
        }
    };
    arrows
        .iter()
        .zip(marks)
        .enumerate()
        .map(|(i, (a, (before, after)))| {
            let telling = before.iter().chain(after).any(|m| !routine(m));
            a.phase != Some(Phase::Data)
                || a.lost
                || !a.states.is_empty()
                || telling
                || ends.contains(&i)
                || new_kind(a)
        })
        .collect()
}

/// A write or a read: what a bulk transfer does hundreds of times.
fn routine(m: &AppMark) -> bool {
    matches!(
        m.kind,
        AppKind::Call(CallKind::Write) | AppKind::Event(EventKind::Data) | AppKind::Printed
    )
}
