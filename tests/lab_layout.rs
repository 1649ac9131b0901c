//! Every lab at 60 and 100 columns, ten runs each: no line is wider than
//! the terminal, no table heading is cut inside a word (`socke/t`), the
//! timeline keeps its payload column at 60, and each table's layout (its
//! heading) is the same in every run, whatever the times were.

mod common;

use std::collections::BTreeMap;

use common::*;

const RUNS: usize = 10;

/// Every word a table heading may hold.
const TITLES: &[&str] = &[
    "#",
    "ms",
    "dir",
    "direction",
    "flags",
    "seq",
    "ack",
    "raw",
    "len",
    "win",
    "B",
    "window",
    "(bytes)",
    "phase",
    "details",
    "socket",
    "wrote",
    "read",
    "wire",
    "frames",
    "bytes",
    "payload",
    "headers",
    "stream",
    "client",
    "server",
    "c",
    "s",
    "→",
];

/// The heading of every table in `text`: each line above a rule of `─`,
/// its words joined by one space.
fn headings(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|w| !w[1].is_empty() && w[1].chars().all(|c| c == '─'))
        .map(|w| w[0].split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn every_lab_keeps_its_layout_at_60_and_100_columns() {
    if !can_capture("every_lab_keeps_its_layout_at_60_and_100_columns") {
        return;
    }
    for lab in lab_names() {
        for width in [60, 100] {
            let mut layouts: BTreeMap<Vec<String>, usize> = BTreeMap::new();
            for _ in 0..RUNS {
                let text = lab_text(&lab, width);
                for line in text.lines() {
                    let n = line.chars().count();
                    assert!(n <= width, "lab {lab} at {width}: {n} columns: {line:?}");
                }
                let heads = headings(&text);
                for h in &heads {
                    for word in h.split(' ') {
                        assert!(
                            TITLES.contains(&word),
                            "lab {lab} at {width}: heading {h:?} has {word:?}\n{text}"
                        );
                    }
                    if h.starts_with("# ") && h.contains("flags") {
                        assert!(
                            h.ends_with("details"),
                            "lab {lab} at {width}: the timeline lost its payload: {h:?}"
                        );
                    }
                }
                *layouts.entry(heads).or_default() += 1;
            }
            assert_eq!(
                layouts.len(),
                1,
                "lab {lab} at {width}: the layout changed between runs: {layouts:#?}"
            );
        }
    }
}
