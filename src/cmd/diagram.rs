//! The ladder diagrams of `trace`, `replay` and `lab`, drawn after the
//! report as the (validated) diagram flags ask.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::output_error;
use crate::cli::{Diagram, LadderScreen};
use crate::render::{
    ladder_slides, text_prose, write_ladder, write_ladder_mermaid, write_ladder_svg_with, Ladder,
    Paint, SvgOptions, TextOptions,
};
use crate::{Error, Result};

/// Draws `ladder` as `args` ask, after the report (`trace`, `replay`,
/// `lab`): `--svg FILE` writes the file, `--mermaid` prints Mermaid,
/// `--diagram` draws it in the terminal (a stepped report, `--step`, draws
/// its arrows itself: see `step.rs`).
/// `text` says stdout carries a text report, which may then say where the
/// SVG went.
pub fn draw_diagram(
    args: &Diagram,
    ladder: &Ladder,
    opts: &TextOptions,
    text: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let written = match &args.svg {
        Some(path) => write_svg(args, path, ladder)?,
        None => Vec::new(),
    };
    match args.screen {
        LadderScreen::None => {}
        LadderScreen::Mermaid => write_ladder_mermaid(out, ladder).map_err(output_error)?,
        LadderScreen::Draw => {
            writeln!(out).map_err(output_error)?;
            write_ladder(out, ladder, opts).map_err(output_error)?;
        }
        // Stepped reports draw their arrows among their pieces.
        LadderScreen::Step | LadderScreen::StepLadder => {}
    }
    if let (false, true, false) = (written.is_empty(), text, args.mermaid()) {
        let files: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
        let what = match (args.svg_page, files.len()) {
            (true, _) => "one page".to_string(),
            (false, 1) => "a 16:9 slide".to_string(),
            (false, n) => format!("{n} 16:9 slides"),
        };
        let line = format!(
            "ladder diagram of {} segments written to {} ({what})",
            ladder.arrows().len() + ladder.omitted(),
            files.join(", ")
        );
        text_prose(out, "", &opts.palette.paint(Paint::Dim, &line), opts).map_err(output_error)?;
    }
    out.flush().map_err(output_error)
}

/// Writes the SVG as `args` ask: one page to `path`, or slides to `path`
/// and then `path`'s stem with `-slide2.svg`, `-slide3.svg`...; returns
/// the files written.
fn write_svg(args: &Diagram, path: &Path, ladder: &Ladder) -> Result<Vec<PathBuf>> {
    let svg = SvgOptions {
        fold_acks: args.svg_fold_acks,
    };
    let docs = if args.svg_page {
        let mut doc = Vec::new();
        write_ladder_svg_with(&mut doc, ladder, svg).map_err(output_error)?;
        vec![doc]
    } else {
        ladder_slides(ladder, svg)
            .into_iter()
            .map(String::into_bytes)
            .collect()
    };
    let stem = path.with_extension("");
    let mut written = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let file = match i {
            0 => path.to_path_buf(),
            _ => PathBuf::from(format!("{}-slide{}.svg", stem.display(), i + 1)),
        };
        std::fs::write(&file, doc).map_err(|source| Error::File {
            path: file.clone(),
            source,
        })?;
        written.push(file);
    }
    Ok(written)
}
