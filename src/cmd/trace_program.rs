//! `tcplab trace -- CMD`: runs and traces the user's program
//! (`scenario::program`), prints its report, saves its frames
//! (`--write`), draws each connection's ladder, and exits with the
//! program's exit code when the trace itself worked.

use std::io::Write;

use super::diagram::draw_diagram;
use super::{load_writes, output_error};
use crate::cli::{text_options, ColorChoice, Format, ProgramRun, Trace};
use crate::render::{
    program_steps, write_program_json, write_program_text, Folding, Ladder, ProgramExit,
};
use crate::scenario::program::{trace_program, ClientPlan, ProgramPlan};
use crate::{Error, Result};

pub fn run(args: &Trace, p: &ProgramRun, color: ColorChoice, out: &mut dyn Write) -> Result<()> {
    let client = match p.connect {
        Some(port) => Some(ClientPlan {
            port,
            writes: load_writes(&args.writes)?,
            close: args.close,
        }),
        None => None,
    };
    let plan = ProgramPlan {
        command: p.command.clone(),
        timeout: p.timeout,
        server: p.own_server.then_some((args.addr.port(), args.server)),
        client,
        buffer_size: args.buffer_size,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let (report, cap) = rt.block_on(trace_program(plan))?;
    if let Some(path) = &args.write {
        super::save_packets(path, &report.packets, &report.capture)?;
    }
    let mut opts = text_options(&args.view, color, 100);
    opts.fold = Folding::Long.unless(args.every_row);
    opts.kernel_changes = true;
    // A stepped report is played once the capture is closed.
    let steps = match args.diagram.step() {
        Some(view) => Some(program_steps(&report, view, &opts).map_err(output_error)?),
        None => None,
    };
    let written = match args.format {
        _ if args.diagram.mermaid() || steps.is_some() => Ok(()),
        Format::Json => write_program_json(out, &report, args.view.max_hex, args.view.explain)
            .map_err(output_error),
        Format::Text => write_program_text(out, &report, &opts).map_err(output_error),
    };
    let flushed = written.and_then(|()| out.flush().map_err(output_error));
    rt.block_on(async move { drop(cap) });
    flushed?;
    if let Some(steps) = &steps {
        super::step::play_steps(steps, &opts, out)?;
    }
    if args.diagram.wanted() {
        for c in &report.connections {
            let ladder = Ladder::of_report(c);
            draw_diagram(
                &args.diagram,
                &ladder,
                &opts,
                args.format == Format::Text,
                out,
            )?;
        }
    }
    exit_of(&report.program.exit, p)
}

/// The program's ending as tcplab's: Ok for 0, else its code.
fn exit_of(e: &ProgramExit, p: &ProgramRun) -> Result<()> {
    let (code, message) = match (e.timed_out, e.exit_code, e.signal) {
        (true, _, _) => (
            124,
            format!(
                "the program was still running after {} ms (--timeout): tcplab stopped it",
                p.timeout.as_millis()
            ),
        ),
        (false, Some(0), _) => return Ok(()),
        (false, Some(code), _) => (code, format!("the program exited with code {code}")),
        (false, None, Some(sig)) => (128 + sig, format!("the program was killed by signal {sig}")),
        (false, None, None) => return Ok(()),
    };
    Err(Error::Program { code, message })
}
