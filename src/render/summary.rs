//! `replay --summary`: one row per conversation, then the analysis counts.
//!
//! Both forms stream: a capture of a million conversations is printed row
//! by row, with no table or JSON tree of it in memory. The text table is
//! laid out by hand for that reason (a comfy-table holds every cell): one
//! pass measures the columns, a second prints.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::SocketAddr;

use serde::{Serialize, Serializer as _};

use super::text::{cut, prose, TextOptions};
use super::Paint;
use crate::flow::{Analysis, Row, Totals};
use crate::values::Timestamp;

/// The conversation table's columns.
const HEADER: [&str; 10] = [
    "stream",
    "client",
    "server",
    "frames c→s",
    "bytes c→s",
    "frames s→c",
    "bytes s→c",
    "start s",
    "duration s",
    "rtt ms",
];

/// The table's layouts, widest first: then without start, without frame
/// counts, and the bare minimum. Each lists columns of [`HEADER`].
const LAYOUTS: [&[usize]; 4] = [
    &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    &[0, 1, 2, 3, 4, 5, 6, 8, 9],
    &[0, 1, 2, 4, 6, 8, 9],
    &[0, 1, 2, 4, 6],
];

/// Columns whose text is aligned left (the addresses); numbers go right.
fn left_aligned(column: usize) -> bool {
    (1..=2).contains(&column)
}

/// Writes the conversation table (in the widest layout that fits), then
/// each conversation's analysis counts and the totals.
pub fn write_summary<'a, R>(
    w: &mut dyn Write,
    rows: R,
    first_ts: Option<Timestamp>,
    opts: &TextOptions,
) -> io::Result<()>
where
    R: Iterator<Item = Row<'a>> + Clone,
{
    let mut cells = Cells::new(first_ts);
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in rows.clone() {
        cells.fill(&row);
        for (w, cell) in widths.iter_mut().zip(&cells.text) {
            *w = (*w).max(cell.len());
        }
    }
    // A column is its text with a space either side; one space between columns.
    let line_width = |cols: &[usize]| cols.iter().map(|&i| widths[i] + 3).sum::<usize>() - 1;
    let cols = LAYOUTS
        .into_iter()
        .find(|cols| line_width(cols) <= opts.width)
        .unwrap_or(LAYOUTS[LAYOUTS.len() - 1]);
    let print = |w: &mut dyn Write, line: &str| {
        let line = line.trim_end();
        // Bytes never undercount the columns a line takes: most lines need no cut.
        if line.len() <= opts.width {
            writeln!(w, "{line}")
        } else {
            writeln!(w, "{}", cut(line, opts.width))
        }
    };
    let mut line = String::new();
    table_line(&mut line, cols, &widths, &HEADER);
    print(w, &line)?;
    print(w, &"─".repeat(line_width(cols)))?;
    for row in rows.clone() {
        cells.fill(&row);
        table_line(&mut line, cols, &widths, &cells.text);
        print(w, &line)?;
    }
    write_analysis_counts(w, rows, opts)
}

/// One line of the table into `line`: each of `cols`, padded to its width.
fn table_line<S: AsRef<str>>(line: &mut String, cols: &[usize], widths: &[usize], text: &[S]) {
    let pad = |line: &mut String, n: usize| line.extend(std::iter::repeat(' ').take(n));
    line.clear();
    for (n, &i) in cols.iter().enumerate() {
        let t = text[i].as_ref();
        let gap = widths[i].saturating_sub(t.chars().count());
        line.push_str(if n == 0 { " " } else { "  " });
        if left_aligned(i) {
            line.push_str(t);
            pad(line, gap);
        } else {
            pad(line, gap);
            line.push_str(t);
        }
        line.push(' ');
    }
}

/// The text of one row's cells, every column of [`HEADER`], in buffers
/// reused from row to row.
struct Cells {
    first_ts: Option<Timestamp>,
    text: [String; 10],
}

impl Cells {
    fn new(first_ts: Option<Timestamp>) -> Self {
        Cells {
            first_ts,
            text: Default::default(),
        }
    }

    fn fill(&mut self, row: &Row<'_>) {
        let c = row.conversation;
        let [a, b] = c.totals;
        let start = self
            .first_ts
            .map(|t0| c.first.secs_since(t0))
            .unwrap_or(0.0);
        for t in &mut self.text {
            t.clear();
        }
        // itoa and push_addr, not write!: a million rows are formatted twice,
        // and the formatting machinery was three quarters of the time.
        let t = &mut self.text;
        let mut n = itoa::Buffer::new();
        t[0].push_str(n.format(row.stream));
        push_addr(&mut t[1], row.client);
        push_addr(&mut t[2], row.server);
        t[3].push_str(n.format(a.frames));
        t[4].push_str(n.format(a.bytes));
        t[5].push_str(n.format(b.frames));
        t[6].push_str(n.format(b.bytes));
        // (write! to a String cannot fail.)
        let _ = write!(t[7], "{start:.6}");
        let _ = write!(t[8], "{:.6}", c.last.secs_since(c.first));
        let _ = match c.handshake_rtt() {
            Some(r) => write!(t[9], "{:.3}", r * 1e3),
            None => write!(t[9], "-"),
        };
    }
}

/// `a` as `Display` writes it (`1.2.3.4:80`, `[::1]:80`).
fn push_addr(s: &mut String, a: SocketAddr) {
    let SocketAddr::V4(v4) = a else {
        let _ = write!(s, "{a}");
        return;
    };
    let mut n = itoa::Buffer::new();
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(n.format(octet));
    }
    s.push(':');
    s.push_str(n.format(v4.port()));
}

/// "name count" for each flag counted at least once.
fn flag_counts(counts: &[u64]) -> Vec<String> {
    counts
        .iter()
        .zip(Analysis::all_names())
        .filter(|(n, _)| **n > 0)
        .map(|(n, name)| format!("{name} {n}"))
        .collect()
}

/// Each conversation's analysis counts (only the flags seen), then the
/// totals over all of them.
fn write_analysis_counts<'a>(
    w: &mut dyn Write,
    rows: impl Iterator<Item = Row<'a>>,
    opts: &TextOptions,
) -> io::Result<()> {
    let pal = opts.palette;
    let mut totals = [0u64; Analysis::NAMED_COUNT];
    let mut conversations = 0usize;
    for row in rows {
        conversations += 1;
        let counts = row.conversation.analysis();
        for (t, n) in totals.iter_mut().zip(counts) {
            *t += n;
        }
        let flagged = flag_counts(&counts);
        if !flagged.is_empty() {
            let text = format!("stream {}: {}", row.stream, flagged.join(", "));
            prose(w, "", &pal.paint(Paint::Warn, &text), opts)?;
        }
    }
    let expert = flag_counts(&totals);
    let noun = if conversations == 1 {
        "conversation"
    } else {
        "conversations"
    };
    let text = if expert.is_empty() {
        format!("{conversations} {noun}; no TCP analysis flags")
    } else {
        format!("{conversations} {noun}; analysis: {}", expert.join(", "))
    };
    prose(w, "", &pal.paint(Paint::Heading, &text), opts)
}

/// One direction's totals in the JSON form.
#[derive(Serialize)]
struct JsonSide {
    bytes: u64,
    frames: u64,
    payload_bytes: u64,
}

impl From<Totals> for JsonSide {
    fn from(t: Totals) -> Self {
        JsonSide {
            bytes: t.bytes,
            frames: t.frames,
            payload_bytes: t.payload,
        }
    }
}

/// One conversation in the JSON form; its keys in alphabetical order, as
/// they have always been printed.
#[derive(Serialize)]
struct JsonRow {
    analysis: BTreeMap<&'static str, u64>,
    client: String,
    client_to_server: JsonSide,
    duration: f64,
    handshake_rtt: Option<f64>,
    server: String,
    server_to_client: JsonSide,
    start: f64,
    stream: u32,
}

impl JsonRow {
    fn of(row: &Row<'_>, first_ts: Option<Timestamp>) -> Self {
        let c = row.conversation;
        JsonRow {
            analysis: Analysis::all_names()
                .zip(c.analysis())
                .filter(|(_, n)| *n > 0)
                .collect(),
            client: row.client.to_string(),
            client_to_server: c.totals[0].into(),
            duration: c.last.secs_since(c.first),
            handshake_rtt: c.handshake_rtt(),
            server: row.server.to_string(),
            server_to_client: c.totals[1].into(),
            start: first_ts.map(|t0| c.first.secs_since(t0)).unwrap_or(0.0),
            stream: row.stream,
        }
    }
}

/// The summary as a JSON array, one object per conversation, written as
/// each row is made.
pub fn write_summary_json<'a, R>(
    w: &mut dyn Write,
    rows: R,
    first_ts: Option<Timestamp>,
) -> io::Result<()>
where
    R: Iterator<Item = Row<'a>>,
{
    let mut ser = serde_json::Serializer::pretty(&mut *w);
    (&mut ser).collect_seq(rows.map(|r| JsonRow::of(&r, first_ts)))?;
    writeln!(w)
}
