//! `replay --summary`: one row per conversation, then the analysis counts.

use std::io::{self, Write};

use comfy_table::{Cell, CellAlignment, ColumnConstraint};

use super::text::{cut, fitting_lines, new_table, prose, TextOptions};
use super::Paint;
use crate::flow::{Analysis, Conversation};
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

/// Writes the conversation table (in the widest layout that fits), then
/// each conversation's analysis counts and the totals.
pub fn write_summary(
    w: &mut dyn Write,
    conversations: &[Conversation],
    first_ts: Option<Timestamp>,
    opts: &TextOptions,
) -> io::Result<()> {
    let rows = table_rows(conversations, first_ts);
    for line in fitted_table(&rows, opts) {
        writeln!(w, "{line}")?;
    }
    write_analysis_counts(w, conversations, opts)
}

/// One row of cells per conversation, every column of [`HEADER`].
fn table_rows(conversations: &[Conversation], first_ts: Option<Timestamp>) -> Vec<Vec<String>> {
    conversations
        .iter()
        .map(|c| {
            let [a, b] = c.totals;
            let start = first_ts.map(|t0| c.first.secs_since(t0)).unwrap_or(0.0);
            vec![
                c.stream.to_string(),
                c.client.to_string(),
                c.server.to_string(),
                a.frames.to_string(),
                a.bytes.to_string(),
                b.frames.to_string(),
                b.bytes.to_string(),
                format!("{start:.6}"),
                format!("{:.6}", c.last.secs_since(c.first)),
                c.handshake_rtt
                    .map(|r| format!("{:.3}", r * 1e3))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect()
}

/// The lines of the widest layout that fits `opts.width`; if none fits,
/// the narrowest, each line cut to the width.
fn fitted_table(rows: &[Vec<String>], opts: &TextOptions) -> Vec<String> {
    let mut lines = Vec::new();
    for cols in LAYOUTS {
        let mut t = new_table(opts);
        t.set_header(cols.iter().map(|&i| HEADER[i]).collect::<Vec<_>>());
        for row in rows {
            t.add_row(cols.iter().map(|&i| Cell::new(&row[i])).collect::<Vec<_>>());
        }
        for (pos, &i) in cols.iter().enumerate() {
            if let Some(c) = t.column_mut(pos) {
                // Nothing wraps: a narrower layout is chosen instead.
                c.set_constraint(ColumnConstraint::ContentWidth);
                if !(1..=2).contains(&i) {
                    c.set_cell_alignment(CellAlignment::Right);
                }
            }
        }
        if let Some(fit) = fitting_lines(&t, opts.width) {
            return fit;
        }
        lines = t.lines().map(|l| cut(l.trim_end(), opts.width)).collect();
    }
    lines
}

/// Each conversation's analysis counts (only the flags seen), then the
/// totals over all of them.
fn write_analysis_counts(
    w: &mut dyn Write,
    conversations: &[Conversation],
    opts: &TextOptions,
) -> io::Result<()> {
    let pal = opts.palette;
    let names: Vec<&str> = Analysis::all_names().collect();
    let counts = |analysis: &[u64]| -> Vec<String> {
        analysis
            .iter()
            .zip(&names)
            .filter(|(n, _)| **n > 0)
            .map(|(n, name)| format!("{name} {n}"))
            .collect()
    };
    let mut totals = vec![0u64; names.len()];
    for c in conversations {
        for (t, n) in totals.iter_mut().zip(&c.analysis) {
            *t += n;
        }
        let flagged = counts(&c.analysis);
        if !flagged.is_empty() {
            let text = format!("stream {}: {}", c.stream, flagged.join(", "));
            prose(w, "", &pal.paint(Paint::Warn, &text), opts)?;
        }
    }
    let expert = counts(&totals);
    let text = if expert.is_empty() {
        format!(
            "{} conversations; no TCP analysis flags",
            conversations.len()
        )
    } else {
        format!(
            "{} conversations; analysis: {}",
            conversations.len(),
            expert.join(", ")
        )
    };
    prose(w, "", &pal.paint(Paint::Heading, &text), opts)
}

/// The summary as a JSON array, one object per conversation.
pub fn write_summary_json(
    w: &mut dyn Write,
    conversations: &[Conversation],
    first_ts: Option<Timestamp>,
) -> io::Result<()> {
    let names: Vec<&str> = Analysis::all_names().collect();
    let rows: Vec<serde_json::Value> = conversations
        .iter()
        .map(|c| {
            let side = |t: &crate::flow::Totals| {
                serde_json::json!({"frames": t.frames, "bytes": t.bytes, "payload_bytes": t.payload})
            };
            let analysis: serde_json::Map<String, serde_json::Value> = c
                .analysis
                .iter()
                .zip(&names)
                .filter(|(n, _)| **n > 0)
                .map(|(n, name)| (name.to_string(), (*n).into()))
                .collect();
            serde_json::json!({
                "stream": c.stream,
                "client": c.client.to_string(),
                "server": c.server.to_string(),
                "client_to_server": side(&c.totals[0]),
                "server_to_client": side(&c.totals[1]),
                "start": first_ts.map(|t0| c.first.secs_since(t0)).unwrap_or(0.0),
                "duration": c.last.secs_since(c.first),
                "handshake_rtt": c.handshake_rtt,
                "analysis": analysis,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *w, &rows)?;
    writeln!(w)
}
