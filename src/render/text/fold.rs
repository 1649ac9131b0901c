//! A long exchange, folded for reading: the rows that say something are
//! kept (the handshake, each direction's first and last data segment, the
//! first [`KEEP_EACH`] segments of each analysis flag, the teardown,
//! anything that is not a placed segment), and each run of the rest
//! becomes one line with its counts. A 64 MiB echo is 3,000 rows; folded,
//! a screenful.

use crate::flow::{Analysis, Direction, Packet, Phase};
use crate::render::Marks;
use crate::values::Timestamp;

/// Fewer rows than this are never folded (nor are a ladder's arrows).
pub const FOLD_OVER: usize = 60;

/// When an exchange's uneventful middle is folded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Folding {
    /// Every row: `--every-row`, and views that stream their rows.
    Never,
    /// From [`FOLD_OVER`] rows on: a short exchange reads whole.
    #[default]
    Long,
    /// Whatever the length: for a lab whose exchange sits near
    /// [`FOLD_OVER`] (chat's 60 frames), where a run with one ACK fewer
    /// would unfold the whole table and change its layout.
    Always,
}

impl Folding {
    /// Whether `rows` rows (or arrows) are folded.
    pub fn folds(self, rows: usize) -> bool {
        match self {
            Folding::Never => false,
            Folding::Long => rows >= FOLD_OVER,
            Folding::Always => true,
        }
    }

    /// `Never` when the user asked for every row.
    pub fn unless(self, every_row: bool) -> Folding {
        if every_row {
            Folding::Never
        } else {
            self
        }
    }
}

/// Shorter runs are shown row by row: a fold line saves little.
pub const MIN_RUN: usize = 8;

/// Segments kept per analysis flag: a bulk transfer to a slower reader has
/// hundreds of zero windows, a capture that dropped frames hundreds of
/// "previous segment not captured"; the rest are counted in the folds. A
/// ladder keeps as many of each kind of note.
pub const KEEP_EACH: usize = 3;

/// What the timeline, the size lines and the dumps show, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown<'a> {
    Row(&'a Packet),
    Fold(Fold),
}

/// A run of rows folded into one line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fold {
    pub first: u64,
    /// When the first folded segment was captured.
    pub first_ts: Timestamp,
    pub last: u64,
    pub segments: usize,
    /// Data segments and their payload bytes, client → server then back.
    pub data: [(usize, u64); 2],
    /// Segments with no payload (ACKs, window updates).
    pub empty: usize,
    /// How many of the folded segments carried each analysis flag.
    pub flags: Vec<(&'static str, usize)>,
}

impl Fold {
    fn add(&mut self, p: &Packet) {
        if self.segments == 0 {
            self.first = p.number;
            self.first_ts = p.ts;
        }
        self.last = p.number;
        self.segments += 1;
        match p.direction() {
            Some(d) if p.payload_len > 0 => {
                let slot = &mut self.data[d.index()];
                slot.0 += 1;
                slot.1 += p.payload_len as u64;
            }
            _ => self.empty += 1,
        }
        for name in p.findings().flags.names() {
            match self.flags.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count += 1,
                None => self.flags.push((name, 1)),
            }
        }
    }

    /// `2,036 folded: c → s 1,018 data, 33,554,432 bytes · 12 without payload · ...`
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        for (d, label) in [(0, "c → s"), (1, "s → c")] {
            let (n, bytes) = self.data[d];
            if n > 0 {
                parts.push(format!(
                    "{label} {} data, {} bytes",
                    group(n as u64),
                    group(bytes)
                ));
            }
        }
        if self.empty > 0 {
            parts.push(format!("{} without payload", group(self.empty as u64)));
        }
        for (name, n) in &self.flags {
            parts.push(format!("{} ×{}", name.replace('_', " "), group(*n as u64)));
        }
        format!(
            "{} folded: {}",
            group(self.segments as u64),
            parts.join(" · ")
        )
    }

    /// `#16–3094`, as the size lines and dumps number their rows.
    pub fn numbers(&self) -> String {
        format!("#{}–{}", self.first, self.last)
    }
}

/// `1234567` as `1,234,567`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How many rows the folds of `shown` hold.
pub fn folded(shown: &[Shown<'_>]) -> usize {
    shown
        .iter()
        .map(|s| match s {
            Shown::Fold(f) => f.segments,
            Shown::Row(_) => 0,
        })
        .sum()
}

/// Every row, or (when `fold` folds this many) the kept rows and folds.
/// Rows with a mark (`marks`, by frame number) are always kept.
pub fn plan<'a>(packets: &'a [Packet], fold: Folding, marks: &Marks) -> Vec<Shown<'a>> {
    if !fold.folds(packets.len()) {
        return packets.iter().map(Shown::Row).collect();
    }
    let mut out = Vec::new();
    let mut run: Vec<&Packet> = Vec::new();
    for (p, keep) in packets.iter().zip(kept(packets, marks)) {
        if keep {
            flush(&mut run, &mut out);
            out.push(Shown::Row(p));
        } else {
            run.push(p);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A run of rows that are not kept: one fold, or the rows if it is short.
fn flush<'a>(run: &mut Vec<&'a Packet>, out: &mut Vec<Shown<'a>>) {
    if run.len() < MIN_RUN {
        out.extend(run.drain(..).map(Shown::Row));
    } else {
        let mut f = Fold::default();
        run.drain(..).for_each(|p| f.add(p));
        out.push(Shown::Fold(f));
    }
}

/// Which rows say something on their own.
fn kept(packets: &[Packet], marks: &Marks) -> Vec<bool> {
    let data = |d: Direction| {
        let mut it = packets
            .iter()
            .enumerate()
            .filter(move |(_, p)| p.direction() == Some(d) && p.payload_len > 0);
        let first = it.next().map(|(i, _)| i);
        let last = it.next_back().map(|(i, _)| i);
        [first, last]
    };
    let mut ends: Vec<usize> = [Direction::ClientToServer, Direction::ServerToClient]
        .into_iter()
        .flat_map(data)
        .flatten()
        .collect();
    ends.sort_unstable();
    let mut seen = [0usize; Analysis::NAMED_COUNT];
    packets
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut early = false;
            for flag in p.findings().flags.indices() {
                seen[flag] += 1;
                early |= seen[flag] <= KEEP_EACH;
            }
            !matches!(p.phase(), Some(Phase::Data))
                || ends.binary_search(&i).is_ok()
                || early
                || marks.contains_key(&p.number)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lab_that_always_folds_folds_below_fold_over_too() {
        // Chat's 60 frames, and a run with one ACK fewer: the same table.
        for rows in [FOLD_OVER - 1, FOLD_OVER] {
            assert!(Folding::Always.folds(rows));
            assert!(!Folding::Never.folds(rows));
        }
        assert!(!Folding::Long.folds(FOLD_OVER - 1));
        assert!(Folding::Long.folds(FOLD_OVER));
        assert_eq!(Folding::Always.unless(true), Folding::Never);
        assert_eq!(Folding::Long.unless(false), Folding::Long);
    }
}
