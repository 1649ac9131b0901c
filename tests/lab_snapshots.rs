//! Every lab's report at 60 and 100 columns, against a snapshot: what a
//! class reads must not change unless someone meant it to.
//!
//! The traffic is real, so three things are taken out before comparing,
//! and nothing else:
//! - numbers (times, ports, sequence numbers, byte counts) become `#`;
//! - layout: runs of spaces become one, a wrapped line is joined to the
//!   line it continues (where lines wrap follows the numbers' digits), a
//!   table's rule becomes `───`;
//! - in a table of several connections, the order of rows *between*
//!   connections: each connection's rows keep their order, which is TCP's,
//!   but two connections' segments interleave as the scheduler runs them;
//! - where a traced program's printed lines (`node │ ...`) fall among the
//!   segments: they are kept, in their order, after the table. The program
//!   is another process, and its print races its own write;
//! - which frames a header-size line lists, and the rows of pure ACKs
//!   after the handshake that say nothing but what they acknowledge (and
//!   the words `acks #N` of every row): whether the kernel acknowledges at
//!   once, later, or with its own FIN is its delayed-ACK timer's choice;
//! - in the labs driven by the kernel's timers (loss: retransmission
//!   timeout and tail loss probe; zero-window: the persist timer), how
//!   many probes and resends a run has, and which recovery (fast
//!   retransmit or SACK loss detection) resent first: their table rows and
//!   size lines are not compared, and a line repeated is compared once.
//!
//! The labs are scripted so that a run is the same picture every time
//! (paced writes, clients that join one at a time); `tests/lab_layout.rs`
//! checks widths and table layouts over ten runs each.

mod common;

use common::*;

/// A line's indentation.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The text's lines with each wrapped line joined to the one it continues,
/// trimmed. A continuation is indented at least two more columns than the
/// line it continues, and is not a table's row; at two columns it is one
/// only if its first word could not have fitted on the line above (items
/// under a heading are indented two columns too).
fn logical_lines(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut base: Option<usize> = None;
    let mut above = "";
    for line in text.lines() {
        let filled = above.chars().count()
            + 1
            + line.split_whitespace().next().unwrap_or("").chars().count()
            > width;
        above = line;
        if line.trim().is_empty() || is_rule(line.trim()) {
            // A rule is under a table's heading: the rows are lines of their own.
            out.push(line.trim().to_string());
            base = None;
            continue;
        }
        let i = indent(line);
        match (base, out.last_mut()) {
            (Some(b), Some(last)) if i >= b + 2 && (i >= 3 || filled) && !is_row(line) => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => {
                out.push(line.trim().to_string());
                base = Some(i);
            }
        }
    }
    out
}

/// A table's row: a frame number (or a folded range) and then, within two
/// words, a direction (`c → s`) or the fold's `…`.
fn is_row(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or_default();
    let number = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    let frames = number(first)
        || first
            .split_once('–')
            .is_some_and(|(a, b)| number(a) && number(b));
    frames && words.take(3).any(|w| matches!(w, "c" | "s" | "…"))
}

fn is_rule(line: &str) -> bool {
    !line.is_empty() && line.chars().all(|c| c == '─')
}

/// The stream of a row in a table of several connections (`12  1  c → s
/// ...` or `12  1  0.345  c → s ...`: frame, stream, maybe the time), if
/// `line` is one.
fn stream_of(line: &str) -> Option<u32> {
    let mut words = line.split_whitespace();
    words.next()?.parse::<u32>().ok()?;
    let stream = words.next()?.parse::<u32>().ok()?;
    let mut next = words.next()?;
    if next.parse::<f64>().is_ok() {
        next = words.next()?;
    }
    matches!(next, "c" | "s").then_some(stream)
}

/// Each run of rows of several connections, grouped by connection, each
/// connection's rows in their order.
fn by_connection(lines: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut run: Vec<(u32, String)> = Vec::new();
    for line in lines {
        match stream_of(&line) {
            Some(s) => run.push((s, line)),
            None => {
                run.sort_by_key(|(s, _)| *s);
                out.extend(run.drain(..).map(|(_, l)| l));
                out.push(line);
            }
        }
    }
    run.sort_by_key(|(s, _)| *s);
    out.extend(run.into_iter().map(|(_, l)| l));
    out
}

/// Numbers as `#`, spaces collapsed, rules as `───`.
fn scrub(line: &str) -> String {
    if is_rule(line) {
        return "───".to_string();
    }
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        let c = if c.is_ascii_digit() { '#' } else { c };
        let repeat = matches!(out.chars().last(), Some(p) if p == c && (c == '#' || c == ' '));
        if !repeat {
            out.push(c);
        }
    }
    out
}

/// Each table's program lines (`node │ ...`, in the details column) taken
/// out of their rows and put, in their order, after the table.
fn program_lines_after(lines: Vec<String>) -> Vec<String> {
    const MARK: &str = " node │ ";
    let mut out = Vec::new();
    let mut printed: Vec<String> = Vec::new();
    for line in lines {
        if line.is_empty() {
            out.append(&mut printed);
        }
        let mut parts: Vec<String> = line.split(MARK).map(String::from).collect();
        let last = parts.len() - 1;
        for part in &mut parts[..last] {
            // At 100 columns a printed line has its time, in the ms column.
            let time = part
                .trim_end()
                .rsplit_once(' ')
                .filter(|(_, t)| t.contains('.') && t.parse::<f64>().is_ok());
            if let Some((rest, _)) = time {
                *part = rest.to_string();
            }
        }
        let row = parts.remove(0);
        printed.extend(parts.into_iter().map(|p| format!("node │ {p}")));
        out.push(row);
    }
    out.append(&mut printed);
    out
}

/// The labs whose runs differ by how often a kernel timer fired.
const TIMER_LABS: &[&str] = &["loss", "zero-window"];

/// A header-size line (`#3, #5-7: 66 bytes on the wire = ...`), scrubbed.
fn is_size_line(scrubbed: &str) -> bool {
    scrubbed.starts_with('#') && scrubbed.contains(": # bytes on the wire")
}

/// What an ACK's details say of what it acknowledges.
const ACKS: [&str; 6] = [
    " · acks # after #.# ms",
    "acks # after #.# ms · ",
    "acks # after #.# ms",
    " · acks #",
    "acks # · ",
    "acks #",
];

/// A scrubbed row without what it acknowledges; `None` for a pure ACK
/// that then says nothing more (no payload, no analysis, no options).
fn without_acks(row: &str) -> Option<String> {
    let mut r = row.to_string();
    for a in ACKS {
        r = r.replace(a, "");
    }
    let words: Vec<&str> = r.split_whitespace().collect();
    let Some(at) = words.iter().position(|w| *w == "→").map(|i| i + 2) else {
        return Some(r);
    };
    let flags = words.get(at).copied();
    let said = words.iter().skip(at + 1).any(|w| {
        !matches!(*w, "#" | "-" | "#.#" | "data" | "teardown" | "#/#")
            && !w.starts_with("handshake")
    });
    (flags != Some("ACK") || said).then(|| r.trim_end().to_string())
}

/// An events line with each run of reads as one `data…` (a timer lab's
/// reads split as its resends came).
fn reads_as_one(line: &str) -> String {
    let mut items: Vec<&str> = Vec::new();
    for item in line.split(" → ") {
        let item = if item.starts_with("data(") {
            "data…"
        } else {
            item
        };
        if items.last() != Some(&item) {
            items.push(item);
        }
    }
    items.join(" → ")
}

fn normalised(lab: &str, text: &str, width: usize) -> String {
    let timers = TIMER_LABS.contains(&lab);
    let mut out: Vec<String> = Vec::new();
    let mut rows_seen = 0;
    for line in by_connection(program_lines_after(logical_lines(text, width))) {
        let mut l = scrub(&line);
        if timers && (is_row(&line) || is_size_line(&l)) {
            continue;
        }
        if is_rule(&line) {
            rows_seen = 0;
        } else if is_row(&line) {
            rows_seen += 1;
            // The handshake's rows stay whole.
            if rows_seen > 3 {
                match without_acks(&l) {
                    Some(r) => l = r,
                    None => continue,
                }
            }
        }
        // Which frames share a size follows which ACKs were their own.
        if is_size_line(&l) {
            l = format!("[frames]{}", &l[l.find(": # bytes").unwrap_or(0)..]);
        }
        if timers && l.contains(" events: ") {
            l = reads_as_one(&l);
        }
        if timers {
            // Which of Linux's recoveries resent the hole first.
            l = l.replace("SACK loss detection", "[recovery]");
            l = l.replace("fast retransmit", "[recovery]");
        }
        if timers && out.last() == Some(&l) {
            continue;
        }
        out.push(l);
    }
    out.join("\n")
}

#[test]
fn every_lab_reads_as_its_snapshot_at_60_and_100_columns() {
    if !can_capture("every_lab_reads_as_its_snapshot_at_60_and_100_columns") {
        return;
    }
    for lab in lab_names() {
        for width in [60, 100] {
            let text = normalised(&lab, &lab_text(&lab, width), width);
            insta::assert_snapshot!(format!("{lab}-{width}"), text);
        }
    }
}

#[test]
fn wrapped_lines_are_joined_and_connections_grouped() {
    let text = "  #3, #5: 66 bytes\n      + 20 IPv4\n  next\n";
    assert_eq!(
        logical_lines(text, 60),
        ["#3, #5: 66 bytes + 20 IPv4", "next"]
    );
    let filled = format!("{}\n  close\nheading\n  item\n", "x".repeat(56));
    assert_eq!(
        logical_lines(&filled, 60),
        [
            format!("{} close", "x".repeat(56)),
            "heading".into(),
            "item".into()
        ]
    );
    assert_eq!(without_acks("# c → s ACK # # # acks #"), None);
    assert_eq!(
        without_acks("# #.# c → s ACK # # # # data acks # after #.# ms"),
        None
    );
    assert_eq!(
        without_acks("# s → c FIN-ACK # # # acks # after #.# ms").as_deref(),
        Some("# s → c FIN-ACK # # #")
    );
    assert!(without_acks("# s → c ACK # # # window update · acks #").is_some());
    let rows = vec![
        "1 0 c → s SYN".to_string(),
        "2 1 c → s SYN".to_string(),
        "3 0 s → c SYN-ACK".to_string(),
        "".to_string(),
    ];
    assert_eq!(
        by_connection(rows),
        ["1 0 c → s SYN", "3 0 s → c SYN-ACK", "2 1 c → s SYN", ""]
    );
    assert_eq!(
        program_lines_after(vec!["3 c → s ACK acks #2 node │ hi".into(), "".into()]),
        ["3 c → s ACK acks #2", "node │ hi", ""]
    );
    assert_eq!(
        reads_as_one("server events: connection → data(#) → data(#) ×# → end"),
        "server events: connection → data… → end"
    );
    assert_eq!(scrub("  12.345   ms"), " #.# ms");
    assert_eq!(scrub("──────"), "───");
}
