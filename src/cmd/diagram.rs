//! The ladder diagrams of `trace`, `replay` and `lab`, drawn after the
//! report as the (validated) diagram flags ask.

use std::io::Write;

use super::output_error;
use crate::cli::{Diagram, LadderScreen};
use crate::render::{
    write_ladder, write_ladder_mermaid, write_ladder_svg_with, Ladder, Paint, SvgOptions,
    TextOptions,
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
    if let Some(path) = &args.svg {
        let file_err = |source| Error::File {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(file_err)?);
        let svg = SvgOptions {
            fold_acks: args.svg_fold_acks,
        };
        write_ladder_svg_with(&mut file, ladder, svg).map_err(file_err)?;
        file.flush().map_err(file_err)?;
    }
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
    if let (Some(path), true, false) = (&args.svg, text, args.mermaid()) {
        let line = format!(
            "ladder diagram of {} segments written to {}",
            ladder.arrows().len() + ladder.omitted(),
            path.display()
        );
        writeln!(out, "{}", opts.palette.paint(Paint::Dim, &line)).map_err(output_error)?;
    }
    out.flush().map_err(output_error)
}
