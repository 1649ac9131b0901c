//! The applications in the ladder, from real traced exchanges: each
//! `write()` before the segment that carries it, each `'data'` after the
//! segment that delivered it, `end()` before its FIN, `'end'` after the
//! peer's; the coalesce lab's ten writes and the reads they became.

mod common;

use common::*;

/// One line of a drawn ladder.
#[derive(Debug, Clone, PartialEq)]
enum Line {
    /// A segment: its frame and the text on the arrow; `to_server` by its head.
    Arrow {
        frame: u64,
        text: String,
        to_server: bool,
    },
    /// An application's mark: whose, and its words.
    Mark { client: bool, text: String },
}

/// Every ladder in `text` (a heading line holds `client ADDR` and `server ADDR`).
fn ladders(text: &str) -> Vec<Vec<Line>> {
    let mut out: Vec<Vec<Line>> = Vec::new();
    for line in text.lines() {
        // A ladder's title: `client ADDR:PORT`, the server's maybe on the
        // next line at 60 columns (the report's says `client ADDR port N`).
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("client ") {
            let port = |a: &str| {
                a.rsplit_once(':')
                    .is_some_and(|(_, p)| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            };
            let mut words = rest.split_whitespace();
            let first = words.next().is_some_and(port);
            if first && words.next().map_or(true, |w| w == "server") {
                out.push(Vec::new());
                continue;
            }
        }
        let Some(ladder) = out.last_mut() else {
            continue;
        };
        if let Some(l) = parse(line) {
            ladder.push(l);
        }
    }
    out
}

fn parse(line: &str) -> Option<Line> {
    let (gutter, rest) = line.split_once(['│', '├'])?;
    let words: Vec<&str> = gutter.split_whitespace().collect();
    if let Some(text) = rest.strip_prefix('╴') {
        let text = text.trim_end().trim_end_matches('│').trim();
        return Some(Line::Mark {
            client: true,
            text: text.to_string(),
        });
    }
    if let Some(text) = rest.trim_end().strip_suffix("╶┤") {
        return Some(Line::Mark {
            client: false,
            text: text.trim().to_string(),
        });
    }
    let frame = words.first()?.parse().ok().filter(|_| words.len() == 2)?;
    let to_server = rest.contains('▶');
    let text = rest
        .split('│')
        .next()?
        .trim_matches(|c| "─◀▶ ✗".contains(c))
        .to_string();
    Some(Line::Arrow {
        frame,
        text,
        to_server,
    })
}

fn diagram(args: &[&str]) -> String {
    let out = tcplab()
        .args(args)
        .args(["--diagram", "--color", "never"])
        .output()
        .unwrap();
    assert_success(&out);
    String::from_utf8(out.stdout).unwrap()
}

fn mark(ladder: &[Line], client: bool, text: &str) -> usize {
    ladder
        .iter()
        .position(|l| matches!(l, Line::Mark { client: c, text: t } if *c == client && t == text))
        .unwrap_or_else(|| panic!("no {text:?} mark ({client}): {ladder:#?}"))
}

fn arrow(ladder: &[Line], to_server: bool, starts: &str) -> usize {
    ladder
        .iter()
        .position(|l| matches!(l, Line::Arrow { text, to_server: d, .. } if *d == to_server && text.starts_with(starts)))
        .unwrap_or_else(|| panic!("no {starts:?} arrow: {ladder:#?}"))
}

#[test]
fn hello_shows_each_call_and_event_where_it_happened() {
    if !can_capture("hello_shows_each_call_and_event_where_it_happened") {
        return;
    }
    for _ in 0..5 {
        let text = diagram(&["trace", "--send", "hello"]);
        let all = ladders(&text);
        assert_eq!(all.len(), 1, "{text}");
        let l = &all[0];
        let c_data = arrow(l, true, "PSH-ACK seq 1:6");
        let s_data = arrow(l, false, "PSH-ACK seq 1:6");
        let c_fin = arrow(l, true, "FIN-ACK");
        let s_fin = arrow(l, false, "FIN-ACK");
        assert!(mark(l, true, "'connect'") < c_data);
        assert!(mark(l, false, "'connection'") < s_data);
        assert!(mark(l, true, "write() 5 bytes: seq 1:6") < c_data);
        let s_read = mark(l, false, "'data' 5 bytes: seq 1:6");
        assert!(c_data < s_read && s_read < s_data, "{l:#?}");
        assert!(mark(l, false, "write() 5 bytes: seq 1:6") < s_data);
        assert!(s_data < mark(l, true, "'data' 5 bytes: seq 1:6"));
        assert!(mark(l, true, "end()") < c_fin);
        assert!(c_fin < mark(l, false, "'end'"));
        assert!(mark(l, false, "end()") < s_fin);
        assert!(s_fin < mark(l, true, "'end'"));
        assert!(s_fin < mark(l, true, "'close'"));
        // The last states the segments gave, confirmed by each kernel.
        let last = text.lines().rev().find(|l| l.contains("kernel: ")).unwrap();
        assert!(last.contains("kernel: TIME_WAIT ✓"), "{last}");
        assert!(last.contains("kernel: CLOSED ✓"), "{last}");
    }
}

/// The marks of one side whose words start with `what`.
fn marks<'a>(ladder: &'a [Line], client: bool, what: &str) -> Vec<&'a str> {
    ladder
        .iter()
        .filter_map(|l| match l {
            Line::Mark { client: c, text } if *c == client && text.starts_with(what) => {
                Some(text.as_str())
            }
            _ => None,
        })
        .collect()
}

/// `'data' 61 bytes: seq 1:62` → 61.
fn size(text: &str) -> usize {
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn coalesce_shows_ten_writes_and_the_reads_they_became() {
    if !can_capture("coalesce_shows_ten_writes_and_the_reads_they_became") {
        return;
    }
    let text = diagram(&["lab", "coalesce"]);
    let all = ladders(&text);
    assert_eq!(all.len(), 3, "late reader, cork, control:\n{text}");
    for (i, l) in all.iter().enumerate() {
        let writes = marks(l, true, "write()");
        let reads = marks(l, false, "'data'");
        assert_eq!(writes.len(), 10, "run {i}: {l:#?}");
        assert_eq!(reads.iter().map(|r| size(r)).sum::<usize>(), 61, "run {i}");
        // Each write's bytes go out after it: the first write comes before
        // the first data segment.
        assert!(mark(l, true, writes[0]) < arrow(l, true, "PSH-ACK seq 1:"));
        match i {
            0 | 1 => assert!(reads.len() < 10, "run {i} kept its writes apart: {reads:?}"),
            _ => assert_eq!(reads.len(), 10, "the control: {reads:?}"),
        }
    }
    // The corked run: all ten writes before the one segment, one read after.
    let cork = &all[1];
    let first = arrow(cork, true, "PSH-ACK seq 1:");
    let tenth = mark(cork, true, "write() 7 bytes: seq 55:62");
    assert!(tenth < first, "{cork:#?}");
}

#[test]
fn every_labs_ladder_shows_the_applications_at_60_columns() {
    if !can_capture("every_labs_ladder_shows_the_applications_at_60_columns") {
        return;
    }
    let out = tcplab().args(["lab", "list"]).output().unwrap();
    let list = String::from_utf8(out.stdout).unwrap();
    let labs: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(labs.len() >= 18, "{labs:?}");
    for lab in labs {
        let out = tcplab()
            .args([
                "lab",
                lab,
                "--diagram",
                "--color",
                "never",
                "--hexdump",
                "none",
            ])
            .env("COLUMNS", "60")
            .output()
            .unwrap();
        assert_success(&out);
        let text = String::from_utf8(out.stdout).unwrap();
        for line in text.lines() {
            assert!(line.chars().count() <= 60, "lab {lab}: {line:?}");
        }
        let all = ladders(&text);
        assert!(!all.is_empty(), "lab {lab} drew no ladder");
        for (i, l) in all.iter().enumerate() {
            let client = l
                .iter()
                .any(|x| matches!(x, Line::Mark { client: true, .. }));
            assert!(client, "lab {lab}, ladder {i}: no client mark:\n{text}");
        }
    }
}

#[test]
fn a_stepped_trace_keeps_each_marks_time_and_side() {
    if !can_capture("a_stepped_trace_keeps_each_marks_time_and_side") {
        return;
    }
    use std::io::Write as _;
    let mut child = tcplab()
        .args(["trace", "--send", "hello", "--step", "--color", "never"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&[b'\n'; 20]).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    for (side, words) in [
        ("├╴", "'connect'"),
        ("├╴", "write() 5 bytes: seq 1:6"),
        ("", "'data' 5 bytes: seq 1:6╶┤"),
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("{side}{words}")))
            .unwrap_or_else(|| panic!("no {words:?} mark:\n{text}"));
        let time = line.split_whitespace().next().unwrap();
        assert!(time.parse::<f64>().is_ok(), "{line:?} keeps its time");
    }
}
