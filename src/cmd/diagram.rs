//! The ladder-diagram flags shared by `trace`, `replay` and `lab`:
//! checked before anything runs, drawn after the report.

use std::io::{IsTerminal, Write};

use super::output_error;
use crate::cli::DiagramArgs;
use crate::render::{
    write_ladder, write_ladder_mermaid, write_ladder_stepped, write_ladder_svg, Ladder, Paint,
    TextOptions,
};
use crate::{Error, Result};

/// True if any ladder diagram is asked for (`--diagram`, `--svg`,
/// `--mermaid`, `--step`).
pub fn wants_ladder(args: &DiagramArgs) -> bool {
    args.diagram || args.svg.is_some() || args.mermaid || args.step
}

/// Refuses diagram flags that cannot go together, before anything runs.
/// `text` is false when stdout carries JSON: the terminal ladder and
/// Mermaid would corrupt it (`--svg` writes a file and goes with anything).
/// `--mermaid` makes stdout the Mermaid text alone, so it excludes the
/// terminal ladder.
pub fn check_diagram(args: &DiagramArgs, text: bool) -> Result<()> {
    let terminal = args.diagram || args.step;
    if !text && (terminal || args.mermaid) {
        return Err(Error::Usage(
            "--diagram, --step and --mermaid print text and cannot be mixed with JSON output; \
             drop --format, or use --svg FILE, which writes a file"
                .into(),
        ));
    }
    if args.mermaid && terminal {
        return Err(Error::Usage(
            "--mermaid prints only the Mermaid text (to redirect to a file); \
             run once with --mermaid and once with --diagram or --step"
                .into(),
        ));
    }
    Ok(())
}

/// Draws `ladder` as `args` ask, after the report (`trace`, `replay`,
/// `lab`): `--svg FILE` writes the file, `--mermaid` prints Mermaid,
/// `--diagram` draws it in the terminal and `--step` does so one arrow at
/// a time, reading a line of stdin before each (Enter at a terminal; from
/// a pipe or file each line advances one arrow, the end draws the rest).
/// `text` says stdout carries a text report, which may then say where the
/// SVG went. Call [`check_diagram`] first.
pub fn draw_diagram(
    args: &DiagramArgs,
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
    if args.mermaid {
        write_ladder_mermaid(out, ladder).map_err(output_error)?;
    }
    if args.diagram || args.step {
        writeln!(out).map_err(output_error)?;
    }
    if args.step {
        let stdin = std::io::stdin();
        let mut stderr = std::io::stderr();
        // The hint goes to the terminal only, never into a pipe or a file,
        // and only when the ladder goes there too (it erases itself by
        // moving the cursor).
        let tty = stdin.is_terminal() && stderr.is_terminal() && std::io::stdout().is_terminal();
        let prompt: Option<&mut dyn Write> = tty.then_some(&mut stderr);
        write_ladder_stepped(out, ladder, opts, &mut stdin.lock(), prompt).map_err(output_error)?;
    } else if args.diagram {
        write_ladder(out, ladder, opts).map_err(output_error)?;
    }
    if let (Some(path), true, false) = (&args.svg, text, args.mermaid) {
        let line = format!(
            "ladder diagram of {} segments written to {}",
            ladder.arrows().len() + ladder.omitted(),
            path.display()
        );
        writeln!(out, "{}", opts.palette.paint(Paint::Dim, &line)).map_err(output_error)?;
    }
    out.flush().map_err(output_error)
}
