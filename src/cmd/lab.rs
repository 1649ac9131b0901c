//! `tcplab lab NAME`: runs a scenario of `scenario::lab` and prints its
//! report. `--check` turns a missed point into exit 1, for teachers' CI.

use std::io::Write;
use std::path::PathBuf;

use super::diagram::draw_diagram;
use super::output_error;
use super::step::play_steps;
use crate::cli::{text_options, ColorChoice, Format, Lab};
use crate::render::{lab_ladders, lab_steps, write_lab_json, write_lab_text};
use crate::scenario::lab::{find, run_lab, unknown, LABS};
use crate::{Error, Result};

/// Runs `tcplab lab`.
pub fn run(args: &Lab, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    let opts = text_options(&args.view, color, 100);
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
    let written = match (args.format, args.diagram.step()) {
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
