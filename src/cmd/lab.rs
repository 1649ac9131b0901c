//! `tcplab lab NAME`: runs a scenario of `scenario::lab` and prints its
//! report. `--check` turns a missed point into exit 1, for teachers' CI.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::diagram::draw_diagram;
use super::output_error;
use super::page::write_page;
use super::step::play_steps;
use crate::cli::{text_options, ColorChoice, Format, Lab};
use crate::flow::Packet;
use crate::render::{lab_ladders, lab_page, lab_steps, text_prose, write_lab_json, write_lab_text};
use crate::render::{CaptureInfo, DumpBudget, Outcome, Paint, TextOptions};
use crate::render::{LAB_DUMP_BUDGET, LAB_DUMP_BYTES};
use crate::scenario::lab::{find, run_lab, unknown, LABS};
use crate::values::LinkType;
use crate::{Error, Result};

/// Runs `tcplab lab`.
pub fn run(args: &Lab, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    if args.name == "list" {
        return list(args.format, out).map_err(output_error);
    }
    let lab = find(&args.name).ok_or_else(|| unknown(&args.name))?;
    let text = args.format == Format::Text;
    // Two threads: the server reads while the client writes, as two
    // programs would (on one thread the server read only after all writes).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let outcome = rt.block_on(run_lab(lab.name))?;
    let opts = TextOptions {
        dump_budget: DumpBudget::Lab(LAB_DUMP_BUDGET),
        max_hex: args.view.max_hex.min(LAB_DUMP_BYTES),
        fold: outcome.folding.unless(args.every_row),
        ..text_options(&args.view, color, 100)
    };
    if let Some(path) = &args.write {
        save(path, &outcome)?;
    }
    let written = match (args.format, args.diagram.step()) {
        _ if args.quiet => Ok(()),
        (Format::Json, _) => write_lab_json(out, lab, &outcome, args.view.explain),
        // --mermaid makes stdout the diagrams alone, for redirecting to a file.
        (Format::Text, _) if args.diagram.mermaid() => Ok(()),
        (Format::Text, Some(view)) => {
            let steps = lab_steps(lab, &outcome, view, &opts).map_err(output_error)?;
            play_steps(&steps, &opts, out)?;
            Ok(())
        }
        (Format::Text, None) => write_lab_text(out, lab, &outcome, &opts),
    };
    written.map_err(output_error)?;
    let text = text && !args.quiet;
    if args.diagram.wanted() {
        for (i, ladder) in lab_ladders(&outcome).iter().enumerate() {
            // One SVG file per diagram: FILE, then FILE-2.svg, FILE-3.svg...
            let mut diagram = args.diagram.clone();
            if let (Some(path), true) = (&args.diagram.svg, i > 0) {
                let stem = path.with_extension("");
                diagram.svg = Some(PathBuf::from(format!("{}-{}.svg", stem.display(), i + 1)));
            }
            draw_diagram(&diagram, ladder, &opts, text, out)?;
        }
    }
    if let Some(path) = &args.diagram.html {
        let (page, parts) = lab_page(lab, &outcome);
        write_page(path, &page, &parts, text.then_some((&opts, &mut *out)))?;
    }
    if args.check && args.format == Format::Text {
        verdict(out, lab.name, &outcome, &opts).map_err(output_error)?;
    }
    if args.check && !outcome.passed() {
        out.flush().map_err(output_error)?;
        let failed: Vec<&str> = outcome
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.what.as_str())
            .collect();
        return Err(Error::Trace(format!(
            "lab {}: the point did not show: {}",
            lab.name,
            failed.join("; ")
        )));
    }
    Ok(())
}

/// `--check`'s last line: `✓ lab coalesce: the point showed (3 of 3
/// checks held)`, or which did not.
fn verdict(
    out: &mut dyn Write,
    name: &str,
    o: &Outcome,
    opts: &TextOptions,
) -> std::io::Result<()> {
    let n = o.checks.len();
    let held = o.checks.iter().filter(|c| c.passed).count();
    let (line, paint) = match held == n {
        true => (
            format!("✓ lab {name}: the point showed ({held} of {n} checks held)"),
            Paint::Good,
        ),
        false => (
            format!(
                "✗ lab {name}: the point did not show ({} of {n} checks failed)",
                n - held
            ),
            Paint::Bad,
        ),
    };
    let line = opts.palette.paint(paint, &line);
    text_prose(out, "", &line, opts)
}

/// `--write FILE`: every part's frames, in order, in one pcap file; says
/// on stderr where each part's frames are in it (a part numbers its own
/// frames from 1, Wireshark numbers the file's).
fn save(path: &Path, o: &Outcome) -> Result<()> {
    let packets: Vec<Packet> = o.parts.iter().flat_map(|p| p.packets()).cloned().collect();
    // A part with several connections keeps packets only: their link says.
    let capture = match o.parts.iter().find_map(|p| p.report.as_ref()) {
        Some(r) => r.capture.clone(),
        None => CaptureInfo {
            interface: String::new(),
            link: packets.first().map_or(LinkType::Ethernet, |p| p.link),
            snaplen: 262_144,
            dropped: 0,
            stats: Default::default(),
        },
    };
    if packets.iter().any(|p| p.link != capture.link) {
        return Err(Error::Trace(format!(
            "lab --write: the parts were captured on different link types; a pcap file holds one \
             ({} not written)",
            path.display()
        )));
    }
    super::save_packets(path, &packets, &capture)?;
    let mut first = 1;
    let mut spans = Vec::new();
    for part in &o.parts {
        let n = part.packets().len();
        if n > 0 {
            spans.push(format!("{}: #{first}-#{}", part.title, first + n - 1));
        }
        first += n;
    }
    eprintln!(
        "wrote {} frames to {} ({})",
        packets.len(),
        path.display(),
        spans.join("; ")
    );
    Ok(())
}

/// `lab list`: a line per lab, or with `--format json` an array of
/// `{name, seed, title}`.
fn list(format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    if format == Format::Json {
        let labs: Vec<serde_json::Value> = LABS
            .iter()
            .map(|l| serde_json::json!({"name": l.name, "seed": l.seed, "title": l.title}))
            .collect();
        serde_json::to_writer_pretty(&mut *out, &labs)?;
        return writeln!(out);
    }
    for l in LABS {
        writeln!(out, "{:<12} seed {:<8} {}", l.name, l.seed, l.title)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Check;

    fn said(checks: &[bool]) -> String {
        let o = Outcome {
            checks: checks
                .iter()
                .map(|&passed| Check {
                    what: "x".into(),
                    passed,
                })
                .collect(),
            ..Outcome::default()
        };
        let opts = TextOptions::plain(100);
        let mut out = Vec::new();
        verdict(&mut out, "coalesce", &o, &opts).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_verdict_says_how_many_checks_held_or_failed() {
        assert_eq!(
            said(&[true, true, true]),
            "✓ lab coalesce: the point showed (3 of 3 checks held)\n"
        );
        assert_eq!(
            said(&[true, false, false]),
            "✗ lab coalesce: the point did not show (2 of 3 checks failed)\n"
        );
    }
}
