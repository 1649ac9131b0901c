//! The ladder diagrams of `trace`, `replay` and `lab`, drawn after the
//! report as the (validated) diagram flags ask.

use std::io::{IsTerminal, Write};

use super::output_error;
use crate::cli::{Diagram, LadderScreen};
use crate::render::{
    write_ladder, write_ladder_mermaid, write_ladder_stepped, write_ladder_svg, Ladder, Paint,
    TextOptions,
};
use crate::{Error, Result};

/// Draws `ladder` as `args` ask, after the report (`trace`, `replay`,
/// `lab`): `--svg FILE` writes the file, `--mermaid` prints Mermaid,
/// `--diagram` draws it in the terminal and `--step` does so one arrow at
/// a time, reading a line of stdin before each (Enter at a terminal; from
/// a pipe or file each line advances one arrow, the end draws the rest).
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
        write_ladder_svg(&mut file, ladder).map_err(file_err)?;
        file.flush().map_err(file_err)?;
    }
    match args.screen {
        LadderScreen::None => {}
        LadderScreen::Mermaid => write_ladder_mermaid(out, ladder).map_err(output_error)?,
        LadderScreen::Draw => {
            writeln!(out).map_err(output_error)?;
            write_ladder(out, ladder, opts).map_err(output_error)?;
        }
        LadderScreen::Step => {
            writeln!(out).map_err(output_error)?;
            step(ladder, opts, out)?;
        }
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

/// One arrow at a time, reading a line of stdin before each.
fn step(ladder: &Ladder, opts: &TextOptions, out: &mut dyn Write) -> Result<()> {
    let stdin = std::io::stdin();
    let mut stderr = std::io::stderr();
    // The hint goes to the terminal only, never into a pipe or a file,
    // and only when the ladder goes there too (it erases itself by
    // moving the cursor).
    let tty = stdin.is_terminal() && stderr.is_terminal() && std::io::stdout().is_terminal();
    let prompt: Option<&mut dyn Write> = tty.then_some(&mut stderr);
    write_ladder_stepped(out, ladder, opts, &mut stdin.lock(), prompt).map_err(output_error)
}
