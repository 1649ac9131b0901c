//! A lab's report: its narrative, each traced part (the trace view, or rows
//! for several streams), what happened, and the checks; as text or JSON.
//! The scenarios in `scenario::lab` fill it in.

use std::io::Write;

use serde::Serialize;

use super::text::{push_streams, write_streams_text, Folding, NO_BREAK};
use super::{lines_of, push_trace, Arrows, StepView, Steps};
use super::{records, text_prose, trace_json, write_trace_text, Ladder, Paint};
use super::{PagePart, PageText, TextOptions, TraceReport, NO_MARKS};
use crate::flow::Packet;
use crate::values::SocketLog;

/// Payload bytes shown per packet, in hex dumps and JSON records.
pub const LAB_MAX_HEX: usize = 4096;

/// A lab's text cuts each dump after [`LAB_DUMP_BYTES`] and stops dumping
/// a part once [`LAB_DUMP_BUDGET`] bytes are shown: the loss lab's
/// 1448-byte segments were 2,800 lines of alphabet, burying what the lab
/// is about, while framing's 7-byte pieces are all shown.
pub const LAB_DUMP_BYTES: usize = 128;
pub const LAB_DUMP_BUDGET: usize = 10 * LAB_DUMP_BYTES;

/// A scenario: its name, the seed lesson it comes from, and what to watch.
pub struct Lab {
    pub name: &'static str,
    pub seed: &'static str,
    pub title: &'static str,
    pub narrative: &'static [&'static str],
}

/// One check of a lab's point.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub what: String,
    pub passed: bool,
}

/// Both applications' logs of one connection.
#[derive(Debug, Clone, Default)]
pub struct ConnectionLogs {
    pub client: SocketLog,
    pub server: SocketLog,
}

/// A traced part of a lab: one connection (the trace view) or several
/// interleaved (rows).
pub struct Part {
    pub title: String,
    pub report: Option<TraceReport>,
    pub packets: Vec<Packet>,
    /// Of several connections: each stream's logs, by stream number.
    pub logs: Vec<ConnectionLogs>,
}

impl Part {
    pub fn trace(title: &str, report: TraceReport) -> Part {
        Part {
            title: title.to_string(),
            report: Some(report),
            packets: Vec::new(),
            logs: Vec::new(),
        }
    }

    pub fn rows(title: &str, packets: Vec<Packet>) -> Part {
        Part {
            title: title.to_string(),
            report: None,
            packets,
            logs: Vec::new(),
        }
    }

    /// Several connections, with each stream's logs (by stream number).
    pub fn rows_with(title: &str, packets: Vec<Packet>, logs: Vec<ConnectionLogs>) -> Part {
        Part {
            logs,
            ..Part::rows(title, packets)
        }
    }

    /// The part's packets, whichever view it has.
    pub fn packets(&self) -> &[Packet] {
        self.report.as_ref().map_or(&self.packets, |r| &r.packets)
    }
}

/// What a lab run found.
#[derive(Default)]
pub struct Outcome {
    pub parts: Vec<Part>,
    /// When its tables and ladders fold (unless `--every-row`).
    pub folding: Folding,
    pub happened: Vec<String>,
    pub checks: Vec<Check>,
}

impl Outcome {
    pub fn check(&mut self, what: &str, passed: bool) {
        self.checks.push(Check {
            what: what.to_string(),
            passed,
        });
    }

    /// True if every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

pub fn write_lab_text(
    w: &mut dyn Write,
    lab: &Lab,
    o: &Outcome,
    opts: &TextOptions,
) -> std::io::Result<()> {
    lab_head(w, lab, opts)?;
    for part in &o.parts {
        writeln!(w)?;
        for line in heading_lines(&format!("── {}", part.title), opts) {
            writeln!(w, "{line}")?;
        }
        match &part.report {
            Some(r) => write_trace_text(w, r, opts)?,
            None => write_streams_text(w, &part.packets, opts)?,
        }
    }
    writeln!(w)?;
    lab_end(w, o, opts)
}

/// A heading wrapped to the width, each line painted.
fn heading_lines(text: &str, opts: &TextOptions) -> Vec<String> {
    let pal = opts.palette;
    let lines = crate::render::text::wrap("", text, opts.width, "   ");
    lines.iter().map(|l| pal.paint(Paint::Heading, l)).collect()
}

/// The lab's title and narrative.
fn lab_head(w: &mut dyn Write, lab: &Lab, opts: &TextOptions) -> std::io::Result<()> {
    let heading = format!(
        "lab {} · {} (seed{NO_BREAK}{})",
        lab.name, lab.title, lab.seed
    );
    for line in heading_lines(&heading, opts) {
        writeln!(w, "{}", line.replace(NO_BREAK, " "))?;
    }
    for paragraph in paragraphs(lab.narrative) {
        text_prose(w, "  ", &paragraph, opts)?;
    }
    Ok(())
}

/// The narrative's source lines joined into sentences: a line that does
/// not end one continues on the next, so the text wraps once, at the
/// terminal's width, not also where the source was broken.
fn paragraphs(lines: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for line in lines {
        match out.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(line);
            }
            _ => out.push(line.to_string()),
        }
        open = !line.trim_end().ends_with(['.', '?', '!', ':']);
    }
    out
}

/// What happened, and each check.
fn lab_end(w: &mut dyn Write, o: &Outcome, opts: &TextOptions) -> std::io::Result<()> {
    let pal = opts.palette;
    writeln!(w, "{}", pal.paint(Paint::Heading, "what happened"))?;
    for line in &o.happened {
        text_prose(w, "  ", line, opts)?;
    }
    writeln!(w)?;
    for c in &o.checks {
        let (mark, paint) = if c.passed {
            ("✓", Paint::Good)
        } else {
            ("✗", Paint::Bad)
        };
        text_prose(
            w,
            "",
            &pal.paint(paint, &format!("{mark} {}", c.what)),
            opts,
        )?;
    }
    Ok(())
}

/// A ladder per part: its connection, or each of its streams.
pub fn lab_ladders(o: &Outcome) -> Vec<Ladder> {
    let mut ladders: Vec<Ladder> = o.parts.iter().flat_map(part_ladders).collect();
    // Drawn one after another below the report: each says which it is.
    if ladders.len() > 1 {
        for l in &mut ladders {
            l.caption = l.title.as_ref().map(|t| format!("── {t}"));
        }
    }
    ladders
}

/// A part's ladders, titled: its connection, or each of its streams.
fn part_ladders(part: &Part) -> Vec<Ladder> {
    match &part.report {
        Some(r) => {
            let mut l = Ladder::of_report(r);
            l.title = Some(part.title.clone());
            vec![l]
        }
        None => {
            let streams: std::collections::BTreeSet<u32> =
                part.packets.iter().filter_map(Packet::stream).collect();
            streams
                .into_iter()
                .filter_map(|s| {
                    let origin = part.packets.first().map(|p| p.ts);
                    let mut l = Ladder::of_stream_since(&part.packets, s, origin)?;
                    if let Some(logs) = part.logs.get(s as usize) {
                        l.add_applications(&logs.client, &logs.server);
                    }
                    l.title = Some(format!("{} · stream {s}", part.title));
                    l.caption = Some(format!("stream {s}"));
                    Some(l)
                })
                .collect()
        }
    }
}

/// `lab --html`: the page's narrative, what happened and the checks as
/// plain text (the page wraps it), and a part per run with its ladders.
pub fn lab_page<'a>(lab: &Lab, o: &'a Outcome) -> (PageText, Vec<PagePart<'a>>) {
    let opts = TextOptions::plain(usize::MAX);
    let text = |f: &dyn Fn(&mut dyn Write) -> std::io::Result<()>| {
        lines_of(f).map(|l| l.join("\n")).unwrap_or_default()
    };
    let mut intro = text(&|w| lab_head(w, lab, &opts));
    // The first line is the page's title.
    let title = match intro.split_once('\n') {
        Some((first, rest)) => {
            let first = first.to_string();
            intro = rest.to_string();
            first
        }
        None => std::mem::take(&mut intro),
    };
    let page = PageText {
        title,
        intro,
        end: text(&|w| lab_end(w, o, &opts)),
    };
    let parts = o
        .parts
        .iter()
        .map(|part| match &part.report {
            Some(r) => PagePart::of_trace(&part.title, r, part_ladders(part)),
            None => PagePart {
                title: part.title.clone(),
                head: String::new(),
                packets: &part.packets,
                marks: &NO_MARKS,
                ladders: part_ladders(part),
                tail: String::new(),
            },
        })
        .collect();
    (page, parts)
}

/// `lab --step`: the narrative at once, then each part a segment at a time
/// (each with its totals), then what happened and the checks.
pub fn lab_steps(
    lab: &Lab,
    o: &Outcome,
    view: StepView,
    opts: &TextOptions,
) -> std::io::Result<Steps> {
    let mut steps = Steps::new(lines_of(|w| lab_head(w, lab, opts))?);
    for part in &o.parts {
        steps.blank();
        steps.extend(heading_lines(&format!("── {}", part.title), opts));
        let ladders = part_ladders(part);
        let arrows: Vec<Arrows> = ladders.iter().map(|l| Arrows::of(l, opts)).collect();
        match &part.report {
            Some(r) => push_trace(&mut steps, r, arrows.first(), view, opts)?,
            None => push_streams(&mut steps, &part.packets, &arrows, view, opts)?,
        }
    }
    steps.pause("what happened");
    steps.blank();
    steps.extend(lines_of(|w| lab_end(w, o, opts))?);
    Ok(steps)
}

/// The lab as one JSON object; each packet with its `fields` when `explain`.
pub fn write_lab_json(
    w: &mut dyn Write,
    lab: &Lab,
    o: &Outcome,
    explain: bool,
) -> std::io::Result<()> {
    let parts: Vec<serde_json::Value> = o
        .parts
        .iter()
        .map(|p| match &p.report {
            Some(r) => {
                let trace = trace_json(r, LAB_MAX_HEX, explain);
                serde_json::json!({"title": p.title, "trace": trace})
            }
            None => {
                let packets = records(&p.packets, LAB_MAX_HEX, explain);
                serde_json::json!({"title": p.title, "packets": packets})
            }
        })
        .collect();
    let doc = serde_json::json!({
        "lab": lab.name,
        "seed": lab.seed,
        "title": lab.title,
        "narrative": lab.narrative.iter().map(|l| l.replace(NO_BREAK, " ")).collect::<Vec<_>>(),
        "parts": parts,
        "happened": o.happened,
        "checks": o.checks,
        "passed": o.passed(),
    });
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::paragraphs;

    #[test]
    fn narrative_lines_join_into_sentences() {
        let lines = ["One line.", "A sentence broken", "in the source.", "Last?"];
        assert_eq!(
            paragraphs(&lines),
            ["One line.", "A sentence broken in the source.", "Last?"]
        );
    }
}
